package sqldb_test

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"path/filepath"
	"testing"

	"github.com/plaza-im/plaza/internal/sqldb"
)

// BenchmarkWarmWriterCommit times a small commit on SQLite's writer
// connection once its page cache is as full as a server's gets after a
// while: a database of about 80 MiB, read through the writer first (the
// index last, as the commits use it). Each commit inserts four rows
// whose indexed keys fall at random, as a chat message's do in the
// indexes by conversation and by client ID, so B-tree pages split as
// they do under sends.
//
// It shows what writerCache is for: in a database under 1 GiB, a split
// that hands out page numbers out of order makes the commit walk every
// page the cache keeps. "kept=8MiB" is what such a database gets.
// "kept=64MiB" has the writer keep what it keeps past 1 GiB, and kept
// for every database before: on this database, under 1 GiB, it pays the
// walk, so the difference is the walk less the reads the smaller cache
// adds.
// Commits run with synchronous=NORMAL so that the disk's sync does not
// hide the cache's work. No reader connection is open: SQLite shares
// its pool of pages among connections, and in a server the readers'
// unused share lets the writer keep more.
func BenchmarkWarmWriterCommit(b *testing.B) {
	for _, c := range []struct {
		name   string
		offset int64 // where writerCache takes the lock-byte page to start
	}{{"kept=8MiB", 1 << 30}, {"kept=64MiB", 0}} {
		b.Run(c.name, func(b *testing.B) { warmWriterCommits(b, c.offset) })
	}
}

func warmWriterCommits(b *testing.B, lockByteOffset int64) {
	ctx := context.Background()
	path := filepath.Join(b.TempDir(), "warm.db")
	open := func() *sqldb.DB {
		db, err := sqldb.Open(ctx, "sqlite:"+path, sqldb.Options{SQLiteSynchronous: "NORMAL"})
		if err != nil {
			b.Fatal(err)
		}
		return db
	}
	key := func() string {
		var k [32]byte
		rand.Read(k[:])
		return hex.EncodeToString(k[:])
	}
	insert := func(tx *sql.Tx, n int) error {
		st, err := tx.PrepareContext(ctx, `INSERT INTO t (k, v) VALUES (?, ?)`)
		if err != nil {
			return err
		}
		defer st.Close()
		for range n {
			if _, err := st.ExecContext(ctx, key(), key()); err != nil {
				return err
			}
		}
		return nil
	}
	db := open()
	if err := db.InTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `CREATE TABLE t (id INTEGER PRIMARY KEY, k TEXT NOT NULL, v TEXT NOT NULL);
			CREATE INDEX t_k ON t (k)`)
		return err
	}); err != nil {
		b.Fatal(err)
	}
	// 400,000 rows of two 64-character keys: about 80 MiB, more than
	// the larger cache holds.
	for range 20 {
		if err := db.InTx(ctx, func(tx *sql.Tx) error { return insert(tx, 20_000) }); err != nil {
			b.Fatal(err)
		}
	}
	db.Close()
	// Kept while the benchmark runs: the writer's cache follows the
	// offset at the checkpointer's looks.
	b.Cleanup(sqldb.SetLockByteOffset(lockByteOffset))
	db = open()
	b.Cleanup(func() { db.Close() })
	// Read the table and then the index through the writer, as a
	// long-running server's writer has touched most of its working set.
	if err := db.InTx(ctx, func(tx *sql.Tx) error {
		var n, l int64
		if err := tx.QueryRowContext(ctx, `SELECT sum(length(v)) FROM t`).Scan(&l); err != nil {
			return err
		}
		return tx.QueryRowContext(ctx, `SELECT count(*) FROM t INDEXED BY t_k WHERE k > ''`).Scan(&n)
	}); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if err := db.InTx(ctx, func(tx *sql.Tx) error { return insert(tx, 4) }); err != nil {
			b.Fatal(err)
		}
	}
}

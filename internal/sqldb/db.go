// Package sqldb opens Plaza's database — SQLite embedded or PostgreSQL for
// scale-out — and owns the few places where the two engines differ:
// connection setup, migrations, transactions and error mapping. Domain
// packages write one SQL text that runs on both.
package sqldb

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver
	"modernc.org/sqlite"               // the "sqlite" driver and its Fdatasync switch
)

// Engine names a database engine.
type Engine string

// The supported engines.
const (
	SQLite   Engine = "sqlite"
	Postgres Engine = "postgres"
)

// Queryer is what *sql.DB and *sql.Tx have in common, so store functions can
// run inside or outside a transaction.
type Queryer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// DB is an open database. On SQLite it holds one writer connection (SQLite
// allows one writer at a time; a single connection makes that queue explicit
// and in-process instead of busy-waiting) and a pool of readers. On
// PostgreSQL both are the same pool.
type DB struct {
	Engine Engine
	writer *sql.DB
	reader *sql.DB
	url    string

	readStmts, writeStmts *stmtCache
	ckpt                  *checkpointer // SQLite: see checkpoint.go
	sqliteSync            string        // SQLite: the writer's synchronous setting
	writerCacheSize       atomic.Int64  // SQLite: the writer's cache_size (see writerCache)
	wantWriterCache       atomic.Int64  // SQLite: the cache_size the file's size asks for, at the last look
}

// Options tune Open.
type Options struct {
	// SQLiteSynchronous is SQLite's synchronous pragma: FULL (default) or
	// NORMAL. FULL makes every acknowledged commit survive a power cut.
	SQLiteSynchronous string
	// MaxReaders bounds the reader pool; 0 means 4×GOMAXPROCS.
	MaxReaders int
	// SQLiteCheckpointPages is the size of SQLite's log, in pages, at
	// which the writer checkpoints itself; 0 means writerCheckpointPages.
	SQLiteCheckpointPages int
}

// Open opens the database named by rawURL: "sqlite:PATH" or
// "postgres://…". It does not run migrations.
func Open(ctx context.Context, rawURL string, opts Options) (*DB, error) {
	switch {
	case strings.HasPrefix(rawURL, "sqlite:"):
		return openSQLite(ctx, strings.TrimPrefix(rawURL, "sqlite:"), opts)
	case strings.HasPrefix(rawURL, "postgres://"), strings.HasPrefix(rawURL, "postgresql://"):
		return openPostgres(ctx, rawURL, opts)
	default:
		return nil, fmt.Errorf("database URL must start with sqlite: or postgres:// (got %q)", Redact(rawURL))
	}
}

// syncWithFdatasync makes SQLite sync with fdatasync(2), as SQLite built
// by Linux distributions does: its commits, the checkpoint's sync of the
// database file and the sync of the directory after it creates the log.
// The library here keeps SQLite's source default, fsync(2). fdatasync
// writes the data and the metadata needed to read it back, the file's size
// included, but not its timestamps: the durability is the same. On ext4,
// fsync also sends each commit's new modification time through the file
// system's journal, where a commit may wait for a journal commit under
// way, such as that of a checkpoint's sync of the database file (the
// writer's own, or a background pass that caught up). Measured at 1,000
// messages a second, the sends' p99 fell by about a sixth (benchmarks.md,
// "The slow sends at 1,000 msg/s taken apart"). The switch is process-wide
// and costs an atomic store, so every Open and Backup sets it; where
// fdatasync is unavailable (macOS, Windows) SQLite keeps its own call.
// Plaza's systemd unit (@system-service) and the container runtime's
// default seccomp profile both allow fdatasync.
func syncWithFdatasync() { _, _ = sqlite.Fdatasync(true) }

func openSQLite(ctx context.Context, path string, opts Options) (*DB, error) {
	if path == "" {
		return nil, errors.New("sqlite: URL needs a file path")
	}
	syncWithFdatasync()
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return nil, fmt.Errorf("create database directory: %w", err)
	}
	sync := strings.ToUpper(opts.SQLiteSynchronous)
	if sync == "" {
		sync = "FULL"
	}
	if sync != "FULL" && sync != "NORMAL" {
		return nil, fmt.Errorf("sqlite synchronous must be FULL or NORMAL, got %q", opts.SQLiteSynchronous)
	}
	// temp_store(MEMORY) keeps statement journals in memory: a statement
	// that writes many rows (the chat writer's multi-row inserts and
	// updates) copies each page it changes there first, and on a temp
	// file that was two pwrite calls per page.
	base := "file:" + (&url.URL{Path: path}).EscapedPath() +
		"?_pragma=journal_mode(WAL)&_pragma=busy_timeout(5000)&_pragma=foreign_keys(1)" +
		"&_pragma=synchronous(" + sync + ")&_pragma=temp_store(MEMORY)"
	// _txlock=immediate takes the write lock at BEGIN, so a transaction never
	// fails half-way with SQLITE_BUSY when another process (plaza admin)
	// writes at the same time; it waits for busy_timeout instead.
	// The writer's own checkpoint comes due at writerCheckpointPages
	// rather than SQLite's 1,000, so the background one (every
	// checkpointEvery or checkpointPages of log, and once more
	// checkpointLead before the writer's comes due) has copied nearly
	// everything by then: see checkpoint.go.
	// The writer's cache may grow to 64 MiB of pages before it spills
	// changed ones to the log mid-transaction (cache_spill, in pages):
	// a chat batch of up to 4,096 messages changes a leaf of the sync
	// log's index for nearly every member account, and when SQLite's
	// 2 MiB default made it spill, it wrote those pages twice and read
	// evicted ones back (11% of the server's CPU at full load, with 512
	// messages a batch); 16,384 pages of 4 KiB, SQLite's default page
	// size, which Plaza keeps. What it keeps between transactions
	// depends on the database's size (writerCache): set as each writer
	// connection opens, and again when the file passes 1 GiB either way.
	pages := opts.SQLiteCheckpointPages
	if pages <= 0 {
		pages = writerCheckpointPages
	}
	db := &DB{Engine: SQLite, url: "sqlite:" + path, sqliteSync: sync}
	wc, err := sqlite.NewConnector(base + "&_txlock=immediate&_pragma=wal_autocheckpoint(" + strconv.Itoa(pages) + ")&_pragma=cache_spill(16384)")
	if err != nil {
		return nil, fmt.Errorf("open sqlite writer: %w", err)
	}
	writer := sql.OpenDB(&writerConnector{Connector: wc, path: path, cache: &db.writerCacheSize})
	writer.SetMaxOpenConns(1)
	writer.SetMaxIdleConns(1)
	writer.SetConnMaxLifetime(0)
	writer.SetConnMaxIdleTime(0)

	reader, err := sql.Open("sqlite", base+"&_pragma=query_only(1)")
	if err != nil {
		writer.Close()
		return nil, fmt.Errorf("open sqlite readers: %w", err)
	}
	n := opts.MaxReaders
	if n <= 0 {
		n = 4 * runtime.GOMAXPROCS(0)
	}
	reader.SetMaxOpenConns(n)
	reader.SetMaxIdleConns(n)
	reader.SetConnMaxIdleTime(5 * time.Minute)

	ckpt, err := sql.Open("sqlite", base)
	if err != nil {
		writer.Close()
		reader.Close()
		return nil, fmt.Errorf("open sqlite checkpointer: %w", err)
	}
	ckpt.SetMaxOpenConns(1)
	ckpt.SetMaxIdleConns(1)
	ckpt.SetConnMaxLifetime(0)
	ckpt.SetConnMaxIdleTime(0)

	db.writer, db.reader = writer, reader
	db.readStmts, db.writeStmts = newStmtCache(reader), newStmtCache(writer)
	if err := db.ping(ctx); err != nil {
		db.Close()
		ckpt.Close()
		return nil, err
	}
	noteSize := func() { db.wantWriterCache.Store(writerCache(path)) }
	noteSize()
	db.ckpt = startCheckpointer(ckpt, pages, noteSize)
	return db, nil
}

func openPostgres(ctx context.Context, rawURL string, opts Options) (*DB, error) {
	pool, err := sql.Open("pgx", rawURL)
	if err != nil {
		return nil, fmt.Errorf("open postgres: %w", err)
	}
	n := opts.MaxReaders
	if n <= 0 {
		n = 4 * runtime.GOMAXPROCS(0)
	}
	pool.SetMaxOpenConns(n + 4)
	pool.SetMaxIdleConns(n + 4)
	pool.SetConnMaxIdleTime(5 * time.Minute)
	c := newStmtCache(pool)
	db := &DB{Engine: Postgres, writer: pool, reader: pool, url: rawURL, readStmts: c, writeStmts: c}
	if err := db.ping(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

func (db *DB) ping(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := db.writer.PingContext(ctx); err != nil {
		return fmt.Errorf("connect to %s database %s: %w", db.Engine, Redact(db.url), err)
	}
	return nil
}

// Close closes every connection.
func (db *DB) Close() error {
	db.readStmts.close()
	db.writeStmts.close()
	var err error
	if db.ckpt != nil {
		err = db.ckpt.close()
	}
	err = errors.Join(err, db.writer.Close())
	if db.reader != db.writer {
		err = errors.Join(err, db.reader.Close())
	}
	return err
}

// Read returns the pool for queries that do not write. On SQLite these run
// concurrently with the writer thanks to WAL. Statements are prepared once
// and reused.
func (db *DB) Read() Queryer { return db.readStmts }

// Write returns the connection for single-statement writes outside a
// transaction, with prepared statements reused likewise.
func (db *DB) Write() Queryer { return db.writeStmts }

// Prepare prepares a statement on the writer, for hot write paths that
// run it inside transactions with tx.StmtContext: parsing once instead of
// per execution matters at tens of thousands of writes per second.
func (db *DB) Prepare(ctx context.Context, query string) (*sql.Stmt, error) {
	return db.writer.PrepareContext(ctx, query)
}

// Stats returns the pool statistics of the writer and reader pools (the
// same pool twice on PostgreSQL) for metrics.
func (db *DB) Stats() map[string]*sql.DB {
	if db.reader == db.writer {
		return map[string]*sql.DB{"pool": db.writer}
	}
	return map[string]*sql.DB{"writer": db.writer, "reader": db.reader}
}

// URL returns the database URL with any password removed.
func (db *DB) URL() string { return Redact(db.url) }

// InTx runs fn in a transaction and commits if fn returns nil. A commit
// error is returned as is: on SQLite with synchronous=FULL a nil return means
// the write is on disk.
func (db *DB) InTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := db.writer.BeginTx(ctx, nil)
	return db.runTx(tx, err, fn)
}

// InTxHeld is InTx for a hot path whose statements already run without
// a deadline, such as the chat writer's group commits. On SQLite, ctx
// bounds the wait for the writer's connection, which another
// transaction may hold, and a transaction whose ctx has ended by the
// time fn returns is rolled back, as InTx's would be; but once the
// connection is held, BEGIN and COMMIT are not interrupted. They cannot
// stall for long: the writer takes SQLite's write lock at BEGIN
// (_txlock=immediate), where a wait for another process is bounded by
// busy_timeout, and COMMIT then waits for no lock. A context that can
// end would make the driver start a goroutine for each of the two to
// watch it, and set and clear SQLite's progress handler for each, on
// every commit of the one writer. On PostgreSQL, where a statement can
// wait for another node's row locks, it is InTx.
func (db *DB) InTxHeld(ctx context.Context, fn func(tx *sql.Tx) error) error {
	if db.Engine != SQLite {
		return db.InTx(ctx, fn)
	}
	conn, err := db.writer.Conn(ctx)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer conn.Close()
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	tx, err := conn.BeginTx(context.WithoutCancel(ctx), nil)
	return db.runTx(tx, err, func(tx *sql.Tx) error {
		if err := fn(tx); err != nil {
			return err
		}
		return ctx.Err()
	})
}

// runTx runs fn in tx, begun with error err, and commits if fn returns
// nil. On SQLite tx holds the writer's connection, whose cache it first
// fits to the database's size (fitWriterCache).
func (db *DB) runTx(tx *sql.Tx, err error, fn func(tx *sql.Tx) error) error {
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	if db.Engine == SQLite {
		db.fitWriterCache(tx)
	}
	// Also when fn panics: the transaction must not stay open on the one
	// writer connection while the panic unwinds (InTxLazy resets the
	// connection on the way out, which it cannot do inside one).
	defer func() { _ = tx.Rollback() }() // after Commit, a no-op
	if err := fn(tx); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// InTxLazy is InTx for work that can be done again, such as the search
// index, which records how far it got in the same transaction: its commit
// does not wait for the disk. A crash may undo the last such commits,
// never part of one; the next commit that does wait (any send) makes them
// durable too. Commits of derived data then cost no flush of their own
// while sends wait behind them for the one writer. On SQLite the writer
// connection runs the transaction with synchronous=NORMAL and is set
// back after (or discarded, if that fails); on PostgreSQL the transaction
// sets synchronous_commit off for itself.
func (db *DB) InTxLazy(ctx context.Context, fn func(tx *sql.Tx) error) error {
	if db.Engine == Postgres {
		return db.InTx(ctx, func(tx *sql.Tx) error {
			if _, err := tx.ExecContext(ctx, `SET LOCAL synchronous_commit = off`); err != nil {
				return err
			}
			return fn(tx)
		})
	}
	if db.sqliteSync == "NORMAL" {
		return db.InTx(ctx, fn)
	}
	conn, err := db.writer.Conn(ctx)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer conn.Close()
	// Sends commit on this connection next: it must be back to its
	// setting, or gone, so that the pool opens one from the DSN
	// (writerConnector). The reset is armed before the change, and
	// checked: SQLite applies a synchronous pragma when it prepares it,
	// so even a PRAGMA that reports an error may have taken effect.
	defer func() {
		ctx := context.Background()
		var now string
		if _, err := conn.ExecContext(ctx, `PRAGMA synchronous = `+db.sqliteSync); err == nil {
			_ = conn.QueryRowContext(ctx, `PRAGMA synchronous`).Scan(&now) // "" if it fails
		}
		if now != syncLevel[db.sqliteSync] {
			_ = conn.Raw(func(any) error { return driver.ErrBadConn })
		}
	}()
	if _, err := conn.ExecContext(context.WithoutCancel(ctx), `PRAGMA synchronous = NORMAL`); err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	tx, err := conn.BeginTx(ctx, nil)
	return db.runTx(tx, err, fn)
}

// syncLevel is what PRAGMA synchronous reads for each setting Open takes.
var syncLevel = map[string]string{"NORMAL": "1", "FULL": "2"}

// Redact returns a database URL with its password replaced, for logs.
func Redact(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil || u.User == nil {
		return rawURL
	}
	if _, ok := u.User.Password(); ok {
		u.User = url.UserPassword(u.User.Username(), "xxxxx")
	}
	return u.String()
}

package sqldb

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"os"
	"strconv"
	"sync/atomic"
)

// What SQLite's writer keeps in its page cache between transactions
// (cache_size; negative values are KiB).
//
// When a B-tree split hands out page numbers out of key order, SQLite
// swaps the pages through the number of the lock-byte page, the page
// that starts at 1 GiB and holds no data. While the database is smaller
// than that, the number lies past its end, and the commit then truncates
// the cache to the database's size the long way: it walks every slot of
// the cache's hash table and every page in it. That walk came on about
// one commit in six at 1,000 messages a second and on more than a third
// at 5,000; with 64 MiB kept and full, each took about 450 µs
// (benchmarks.md, "The writer's page cache, bounded"). So a database
// under 1 GiB keeps 8 MiB. From 1 GiB on the number is never past the
// end, there is no walk, and the writer keeps 64 MiB, so that fewer
// pages are read back.
//
// The size is that of the database file when a writer connection opens
// (writerConnector). The checkpointer looks at the file's size again
// after each of its passes, about once a second, and the next write
// transaction sets the cache it asks for (fitWriterCache), so that a
// database that passes 1 GiB while the server runs gets the larger cache
// then, not at the next start. The bound is loose in one way:
// SQLite as built here shares one pool of pages among all of a process's
// connections, so after a transaction that changed more pages the
// writer may keep them while the pool has room, and the pool holds
// 2 MiB for each reader (four per core) and the checkpointer besides.
const (
	smallWriterCache = -8 << 10  // KiB
	largeWriterCache = -64 << 10 // KiB
)

// lockByteOffset is where SQLite's lock-byte page starts; tests move it
// (the checkpointer reads it from its own goroutine).
var lockByteOffset atomic.Int64

func init() { lockByteOffset.Store(1 << 30) }

// writerCache returns the writer's cache_size for the database file at
// path: the small one for a file that is missing, cannot be read, or is
// under lockByteOffset.
func writerCache(path string) int64 {
	if fi, err := os.Stat(path); err == nil && fi.Size() >= lockByteOffset.Load() {
		return largeWriterCache
	}
	return smallWriterCache
}

// writerConnector opens the writer's connections, each with the cache
// its database's size asks for at that moment.
type writerConnector struct {
	driver.Connector
	path  string
	cache *atomic.Int64 // the cache_size the writer's connection has
}

func (c *writerConnector) Connect(ctx context.Context) (driver.Conn, error) {
	conn, err := c.Connector.Connect(ctx)
	if err != nil {
		return nil, err
	}
	want := writerCache(c.path)
	ex, ok := conn.(driver.ExecerContext)
	if !ok {
		conn.Close()
		return nil, errors.New("sqlite: the driver's connection cannot execute statements")
	}
	if _, err := ex.ExecContext(ctx, cachePragma(want), nil); err != nil {
		conn.Close()
		return nil, fmt.Errorf("set the writer's cache size: %w", err)
	}
	c.cache.Store(want)
	return conn, nil
}

// fitWriterCache gives the writer's connection, which tx holds, the
// cache its database's size asked for at the checkpointer's last look,
// if it has another. Between changes, about once in a database's life,
// it costs two atomic loads a transaction. The pragma cannot wait for
// anything, so it runs without tx's context, which would have the
// driver watch it with a goroutine; if it fails, the next transaction
// tries again.
func (db *DB) fitWriterCache(tx *sql.Tx) {
	want := db.wantWriterCache.Load()
	if want == 0 || want == db.writerCacheSize.Load() {
		return
	}
	if _, err := tx.ExecContext(context.Background(), cachePragma(want)); err == nil {
		db.writerCacheSize.Store(want)
	}
}

// cachePragma sets a connection's cache_size.
func cachePragma(kib int64) string { return "PRAGMA cache_size = " + strconv.FormatInt(kib, 10) }

package sqldb

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
)

// What SQLite's writer keeps in its page cache between transactions
// (cache_size; negative values are KiB).
//
// When a B-tree split hands out page numbers out of key order, SQLite
// swaps the pages through the number of the lock-byte page, the page
// at 1 GiB that holds no data. While the database is smaller than that,
// the number lies past its end, and the commit then truncates the cache
// to the database's size the long way: it walks every slot of the
// cache's hash table and every page in it. With 64 MiB kept, once a
// server had run for a while, that walk cost about 450 µs on one commit
// in six at 1,000 messages a second and on more than a third at 5,000
// (benchmarks.md, "The writer's page cache, bounded"). So a database
// under 1 GiB keeps 8 MiB. From 1 GiB on the number lies inside the
// database and there is no walk, and the writer keeps 64 MiB, so that
// fewer pages are read back.
//
// The size is looked at when the database is opened: a database that
// passes 1 GiB keeps 8 MiB until the server restarts. The bound is
// loose in one way: SQLite as built here shares one pool of pages among
// all of a process's connections, so the writer may keep what the
// readers' share leaves unused too (2 MiB each).
const (
	smallWriterCache = -8 << 10  // KiB
	largeWriterCache = -64 << 10 // KiB
)

// lockByteOffset is where SQLite's lock-byte page lies; tests lower it.
var lockByteOffset int64 = 1 << 30

// keepWriterCache sets what the writer keeps from the database's size.
// The writer is one connection that is never closed while the database
// is open, so the setting stays with it; a connection opened again after
// an error keeps the smaller size, the one its name gives it.
func keepWriterCache(ctx context.Context, writer *sql.DB) error {
	var pages, size int64
	if err := writer.QueryRowContext(ctx, `PRAGMA page_count`).Scan(&pages); err != nil {
		return fmt.Errorf("read the database's size: %w", err)
	}
	if err := writer.QueryRowContext(ctx, `PRAGMA page_size`).Scan(&size); err != nil {
		return fmt.Errorf("read the database's page size: %w", err)
	}
	if pages*size < lockByteOffset {
		return nil
	}
	if _, err := writer.ExecContext(ctx, `PRAGMA cache_size = `+strconv.Itoa(largeWriterCache)); err != nil {
		return fmt.Errorf("size the writer's page cache: %w", err)
	}
	return nil
}

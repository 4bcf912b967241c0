package sqldb

import (
	"os"
	"strconv"
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
// The size is that of the database file when the database is opened,
// and goes into the connection's name, so that a writer connection
// opened again after an error gets it too; a database that passes 1 GiB
// keeps 8 MiB until the server restarts. The bound is loose in one way:
// SQLite as built here shares one pool of pages among all of a process's
// connections, so after a transaction that changed more pages the
// writer may keep them while the pool has room, and the pool holds
// 2 MiB for each reader (four per core) and the checkpointer besides.
const (
	smallWriterCache = -8 << 10  // KiB
	largeWriterCache = -64 << 10 // KiB
)

// lockByteOffset is where SQLite's lock-byte page starts; tests lower it.
var lockByteOffset int64 = 1 << 30

// writerCache returns the writer's cache_size for the database file at
// path: the small one for a file that is missing, cannot be read, or is
// under lockByteOffset.
func writerCache(path string) string {
	if fi, err := os.Stat(path); err == nil && fi.Size() >= lockByteOffset {
		return strconv.Itoa(largeWriterCache)
	}
	return strconv.Itoa(smallWriterCache)
}

package sqldb

// SetLockByteOffset moves where writerCache takes SQLite's lock-byte
// page to lie, so that a test can open a small database as a large one;
// the returned func puts it back.
func SetLockByteOffset(n int64) (restore func()) {
	was := lockByteOffset.Swap(n)
	return func() { lockByteOffset.Store(was) }
}

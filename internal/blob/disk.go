package blob

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"time"
)

// File modes: the group may read media (a backup or a web server running as
// another user in the group); nobody else may.
const (
	dirMode  = 0o750
	fileMode = 0o640
)

// tempPrefix starts the names of files being written. "~" is not allowed in
// keys, so a temp file can never be mistaken for, or opened as, an object.
const tempPrefix = "~put-"

// Disk is a Store of files under a directory: the object under key
// "ab/cd/123" is the file DIR/ab/cd/123.
//
// Put is durable when it returns: it writes a temp file beside the target,
// fsyncs it, renames it into place and fsyncs the directory, so an
// acknowledged upload survives a crash and a failed one is never visible.
// Disk does not keep contentType: Objects carry none, and the media package
// records the type in the database.
type Disk struct {
	dir string
}

var _ Store = (*Disk)(nil)

// NewDisk returns a Disk storing files under dir, creating dir if needed.
func NewDisk(dir string) (*Disk, error) {
	if dir == "" {
		return nil, errors.New("blob: disk store needs a directory")
	}
	// Absolute, so a later change of working directory cannot move the
	// store.
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("blob: disk store directory: %w", err)
	}
	if err := os.MkdirAll(abs, dirMode); err != nil {
		return nil, fmt.Errorf("blob: create disk store directory: %w", err)
	}
	fi, err := os.Stat(abs)
	if err != nil {
		return nil, fmt.Errorf("blob: disk store directory: %w", err)
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("blob: disk store %s is not a directory", abs)
	}
	return &Disk{dir: abs}, nil
}

// Dir returns the absolute directory the store keeps its files in.
func (d *Disk) Dir() string { return d.dir }

// path returns the file for a key that has passed checkKey.
func (d *Disk) path(key string) string {
	return filepath.Join(d.dir, filepath.FromSlash(key))
}

// Put stores exactly size bytes from r under key (size -1: unknown) in a
// temp file that is renamed into place only once complete and synced.
func (d *Disk) Put(ctx context.Context, key string, r io.Reader, size int64, contentType string) error {
	if err := checkKey(key); err != nil {
		return fmt.Errorf("blob: put: %w", err)
	}
	if err := d.put(ctx, key, r, size); err != nil {
		return fmt.Errorf("blob: put %s: %w", key, err)
	}
	return nil
}

func (d *Disk) put(ctx context.Context, key string, r io.Reader, size int64) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	path := d.path(key)
	dir := filepath.Dir(path)
	if err := d.mkdirs(dir); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, tempPrefix+"*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	committed := false
	defer func() {
		if !committed {
			f.Close()
			os.Remove(tmp)
		}
	}()
	// CreateTemp makes files 0600; media must be readable by the group.
	if err := f.Chmod(fileMode); err != nil {
		return err
	}
	if _, err := io.Copy(f, &sizeReader{r: ctxReader{ctx, r}, want: size}); err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	committed = true
	// The rename is durable only once the directory entry is.
	return syncDir(dir)
}

// mkdirs creates dir and any missing parents inside the store, syncing each
// parent that gains an entry, so a file's directories survive a crash along
// with the file.
func (d *Disk) mkdirs(dir string) error {
	if fi, err := os.Stat(dir); err == nil && fi.IsDir() {
		return nil
	}
	parent := filepath.Dir(dir)
	if parent != d.dir && parent != dir {
		if err := d.mkdirs(parent); err != nil {
			return err
		}
	}
	if err := os.Mkdir(dir, dirMode); err != nil && !errors.Is(err, fs.ErrExist) {
		return err
	}
	// Also after ErrExist: a concurrent Put that made dir may not have
	// synced parent yet, and this Put must not return before it is.
	return syncDir(parent)
}

// syncDir fsyncs a directory so that entries created or renamed in it are
// durable.
func syncDir(dir string) error {
	f, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = f.Sync()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("sync directory: %w", err)
	}
	return nil
}

// isMissing reports whether err from opening or removing a file means that
// there is no object: no such file, or a path component that is a file
// (key "a/b/c" when "a/b" is an object).
func isMissing(err error) bool {
	return errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR)
}

// Open returns the file under key; the Object is the *os.File itself, so
// reads and seeks cost no more than the file system's.
func (d *Disk) Open(ctx context.Context, key string) (Object, error) {
	if err := checkKey(key); err != nil {
		return nil, fmt.Errorf("blob: open: %w", err)
	}
	f, err := os.Open(d.path(key))
	if isMissing(err) {
		return nil, fmt.Errorf("blob: open %s: %w", key, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("blob: open %s: %w", key, err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("blob: open %s: %w", key, err)
	}
	// A directory is a key prefix ("ab/cd" of "ab/cd/123"), not an
	// object.
	if !fi.Mode().IsRegular() {
		f.Close()
		return nil, fmt.Errorf("blob: open %s: %w", key, ErrNotFound)
	}
	return &diskObject{File: f, size: fi.Size(), modTime: fi.ModTime()}, nil
}

// Delete removes the file under key. Emptied directories stay: they are few
// (one per key prefix) and removing them would race with a Put into them.
func (d *Disk) Delete(ctx context.Context, key string) error {
	if err := checkKey(key); err != nil {
		return fmt.Errorf("blob: delete: %w", err)
	}
	path := d.path(key)
	fi, err := os.Lstat(path)
	if isMissing(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("blob: delete %s: %w", key, err)
	}
	if fi.IsDir() {
		// A key prefix, not an object: nothing to delete.
		return nil
	}
	if err := os.Remove(path); err != nil && !isMissing(err) {
		return fmt.Errorf("blob: delete %s: %w", key, err)
	}
	return nil
}

// diskObject is an open file with the size and time it had when opened.
type diskObject struct {
	*os.File
	size    int64
	modTime time.Time
}

func (o *diskObject) Size() int64        { return o.size }
func (o *diskObject) ModTime() time.Time { return o.modTime }

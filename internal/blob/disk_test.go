package blob

import (
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func newDiskHarness(tb testing.TB) harness {
	tb.Helper()
	d, err := NewDisk(tb.TempDir())
	if err != nil {
		tb.Fatalf("NewDisk: %v", err)
	}
	return harness{store: d, list: func(tb testing.TB) []string { return diskFiles(tb, d.Dir()) }}
}

// diskFiles lists every file under dir, temp files included, as slash
// paths relative to dir.
func diskFiles(tb testing.TB, dir string) []string {
	tb.Helper()
	var names []string
	err := filepath.WalkDir(dir, func(path string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !e.IsDir() {
			rel, err := filepath.Rel(dir, path)
			if err != nil {
				return err
			}
			names = append(names, filepath.ToSlash(rel))
		}
		return nil
	})
	if err != nil {
		tb.Fatalf("walk %s: %v", dir, err)
	}
	slices.Sort(names)
	return names
}

func TestDiskModes(t *testing.T) {
	// Modes are what the store sets, whatever the umask would allow.
	d, err := NewDisk(filepath.Join(t.TempDir(), "media"))
	if err != nil {
		t.Fatalf("NewDisk: %v", err)
	}
	put(t, d, "ab/cd/1", []byte("x"))
	for _, c := range []struct {
		path string
		want fs.FileMode
	}{
		{"ab", fs.ModeDir | 0o750},
		{"ab/cd", fs.ModeDir | 0o750},
		{"ab/cd/1", 0o640},
	} {
		fi, err := os.Stat(filepath.Join(d.Dir(), c.path))
		if err != nil {
			t.Fatal(err)
		}
		if got := fi.Mode(); got != c.want {
			t.Errorf("mode of %s = %v, want %v", c.path, got, c.want)
		}
	}
}

func TestDiskOpenIsFile(t *testing.T) {
	d, err := NewDisk(t.TempDir())
	if err != nil {
		t.Fatalf("NewDisk: %v", err)
	}
	put(t, d, "f", []byte("x"))
	obj := open(t, d, "f")
	// http.ServeContent and io.Copy reach the file's own fast paths
	// (sendfile) only through an *os.File.
	do, ok := obj.(*diskObject)
	if !ok || do.File == nil {
		t.Fatalf("Open returned %T, want an *os.File-backed object", obj)
	}
}

func TestDiskKeyUnderFile(t *testing.T) {
	d, err := NewDisk(t.TempDir())
	if err != nil {
		t.Fatalf("NewDisk: %v", err)
	}
	put(t, d, "a/b", []byte("x"))
	// "a/b" is a file, so "a/b/c" cannot exist: not found, not an I/O
	// error.
	wantNotFound(t, d, "a/b/c")
	if err := d.Delete(t.Context(), "a/b/c"); err != nil {
		t.Errorf("Delete(a/b/c): %v, want nil", err)
	}
	if err := d.Delete(t.Context(), "a"); err != nil {
		t.Errorf("Delete of a directory key: %v, want nil", err)
	}
	if got := readAll(t, d, "a/b"); string(got) != "x" {
		t.Errorf("a/b = %q after deleting its directory's key, want %q", got, "x")
	}
}

func TestNewDiskErrors(t *testing.T) {
	if _, err := NewDisk(""); err == nil {
		t.Error("NewDisk(\"\") succeeded")
	}
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := NewDisk(file); err == nil || !strings.Contains(err.Error(), "file") {
		t.Errorf("NewDisk(a file) error = %v, want one naming it", err)
	}
}

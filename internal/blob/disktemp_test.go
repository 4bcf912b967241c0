package blob

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestDiskRemoveTemp(t *testing.T) {
	d, err := NewDisk(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := d.Put(ctx, "exports/1.1.zip", strings.NewReader("zip"), -1, ""); err != nil {
		t.Fatal(err)
	}
	if err := d.Put(ctx, "media/a", strings.NewReader("media"), -1, ""); err != nil {
		t.Fatal(err)
	}
	// Temp files as a killed Put leaves them: one old, one being written.
	old := filepath.Join(d.Dir(), "exports", tempPrefix+"old")
	fresh := filepath.Join(d.Dir(), "exports", tempPrefix+"fresh")
	other := filepath.Join(d.Dir(), "media", tempPrefix+"elsewhere")
	for _, p := range []string{old, fresh, other} {
		if err := os.WriteFile(p, []byte("partial"), fileMode); err != nil {
			t.Fatal(err)
		}
	}
	past := time.Now().Add(-2 * time.Hour)
	if err := os.Chtimes(old, past, past); err != nil {
		t.Fatal(err)
	}

	exists := func(p string) bool { _, err := os.Stat(p); return err == nil }
	tests := []struct {
		prefix    string
		olderThan time.Duration
		removed   int
		gone      []string
		kept      []string
	}{
		{"exports", time.Hour, 1, []string{old}, []string{fresh, other}},
		{"missing", 0, 0, nil, []string{fresh, other}},
		{"exports", 0, 1, []string{fresh}, []string{other}},
		{"", 0, 1, []string{other}, nil},
	}
	for _, tt := range tests {
		n, err := d.RemoveTemp(tt.prefix, tt.olderThan)
		if err != nil || n != tt.removed {
			t.Errorf("RemoveTemp(%q, %v): got %d, %v; want %d", tt.prefix, tt.olderThan, n, err, tt.removed)
		}
		for _, p := range tt.gone {
			if exists(p) {
				t.Errorf("RemoveTemp(%q, %v) left %s", tt.prefix, tt.olderThan, filepath.Base(p))
			}
		}
		for _, p := range tt.kept {
			if !exists(p) {
				t.Errorf("RemoveTemp(%q, %v) removed %s", tt.prefix, tt.olderThan, filepath.Base(p))
			}
		}
	}
	for _, key := range []string{"exports/1.1.zip", "media/a"} {
		if !exists(filepath.Join(d.Dir(), key)) {
			t.Errorf("RemoveTemp removed the object %s", key)
		}
	}
	if _, err := d.RemoveTemp("../up", 0); err == nil {
		t.Error("RemoveTemp(\"../up\") did not fail")
	}
}

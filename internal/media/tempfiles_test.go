package media_test

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/plaza-im/plaza/internal/media"
)

// Temp files left by uploads a crash cut off are removed: all of them at
// start, and those over an hour old on the schedule.
func TestHostileStaleTempFilesCleaned(t *testing.T) {
	cfg := media.DefaultConfig()
	svc, _ := newService(t, cfg)
	dir := svc.Config().TempDir
	old := filepath.Join(dir, "plaza-upload-old")
	fresh := filepath.Join(dir, "plaza-upload-fresh")
	for _, f := range []string{old, fresh} {
		if err := os.WriteFile(f, []byte("partial upload"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	past := time.Now().Add(-2 * time.Hour)
	if err := os.Chtimes(old, past, past); err != nil {
		t.Fatal(err)
	}
	if n, err := svc.CleanTemp(time.Hour); err != nil || n != 1 {
		t.Errorf("scheduled clean: removed %d, %v; want 1", n, err)
	}
	if _, err := os.Stat(old); !os.IsNotExist(err) {
		t.Errorf("the two-hour-old temp file is still there: %v", err)
	}
	if _, err := os.Stat(fresh); err != nil {
		t.Errorf("the fresh temp file was removed by the scheduled clean: %v", err)
	}
	if n, err := svc.CleanTemp(0); err != nil || n != 1 {
		t.Errorf("clean at start: removed %d, %v; want 1", n, err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("after the clean at start %d files remain, want 0", len(entries))
	}
}

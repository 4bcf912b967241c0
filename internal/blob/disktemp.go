package blob

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// RemoveTemp removes the temp files under the key prefix (a folder of the
// store, "" for all of it) that were last written more than olderThan ago,
// and returns how many it removed. A Put killed with its process (SIGKILL,
// a power cut) leaves its temp file behind; nothing else removes it. A Put
// in progress writes its file all along, so an olderThan of minutes
// spares it; 0 removes every temp file, for when nothing can be writing
// (before a server starts).
func (d *Disk) RemoveTemp(prefix string, olderThan time.Duration) (int, error) {
	root := d.dir
	if prefix != "" {
		if err := checkKey(prefix); err != nil {
			return 0, fmt.Errorf("blob: remove temp files: %w", err)
		}
		root = d.path(prefix)
	}
	cutoff := time.Now().Add(-olderThan)
	n := 0
	err := filepath.WalkDir(root, func(path string, e fs.DirEntry, err error) error {
		if err != nil {
			if isMissing(err) {
				return nil
			}
			return err
		}
		if e.IsDir() || !strings.HasPrefix(e.Name(), tempPrefix) {
			return nil
		}
		fi, err := e.Info()
		if err != nil {
			if isMissing(err) {
				return nil
			}
			return err
		}
		if olderThan > 0 && fi.ModTime().After(cutoff) {
			return nil
		}
		if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		n++
		return nil
	})
	if err != nil {
		return n, fmt.Errorf("blob: remove temp files: %w", err)
	}
	return n, nil
}

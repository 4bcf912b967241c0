package media

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"time"
)

// CleanTemp removes files in the temp directory older than maxAge, or
// all of them when maxAge is 0 (at start, when no upload can be using
// one), and returns how many it removed. Uploads cut off by a crash leave
// their temp files behind; nothing else would ever remove them. It does
// nothing when the temp directory is the system's, which others share.
func (s *Service) CleanTemp(maxAge time.Duration) (int, error) {
	if s.cfg.TempDir == "" {
		return 0, nil
	}
	entries, err := os.ReadDir(s.cfg.TempDir)
	if errors.Is(err, os.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	now := time.Now()
	n := 0
	for _, e := range entries {
		fi, err := e.Info()
		if err != nil || fi.IsDir() || (maxAge > 0 && now.Sub(fi.ModTime()) < maxAge) {
			continue
		}
		if os.Remove(filepath.Join(s.cfg.TempDir, e.Name())) == nil {
			n++
		}
	}
	return n, nil
}

// tempMaxAge is the age past which a temp file is abandoned: an upload
// in progress writes its file continuously, and checking one takes
// seconds.
const tempMaxAge = time.Hour

// RunTempCleaner removes abandoned temp files, lapsed quota reservations
// and deleted media that no message carries any more every interval until
// ctx ends.
func (s *Service) RunTempCleaner(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if n, err := s.CleanTemp(tempMaxAge); err != nil {
				s.log.Warn("cleaning upload temp files failed", "err", err)
			} else if n > 0 {
				s.log.Info("removed abandoned upload temp files", "files", n)
			}
			if _, err := s.PruneReservations(ctx); err != nil {
				s.log.Warn("pruning media reservations failed", "err", err)
			}
			if n, err := s.SweepReleased(ctx); err != nil {
				s.log.Warn("removing deleted media failed", "err", err)
			} else if n > 0 {
				s.log.Info("removed deleted media no message carries", "items", n)
			}
		}
	}
}

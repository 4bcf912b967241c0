package export

import (
	"context"
	"database/sql"
	"io"
	"time"

	"github.com/plaza-im/plaza"
	"github.com/plaza-im/plaza/internal/jobs"
)

// progress is one run's count of work done, saved to the export's row at
// most every ProgressEvery. Work is counted in units: one message written
// (each is written twice, as JSON and as HTML), one KiB of media.
type progress struct {
	s        *Service
	r        *jobs.Run
	id       plaza.ID
	total    int64
	done     int64
	lastSave time.Time
}

// mediaUnit is the media bytes one unit of work stands for.
const mediaUnit = 1024

// maxPPM caps the progress saved while writing: 1 means ready.
const maxPPM = 990_000

// add counts units done and saves the progress when it is due. It returns
// errStopped when the export was stopped meanwhile.
func (p *progress) add(ctx context.Context, units int64) error {
	p.done += units
	if time.Since(p.lastSave) < p.s.cfg.ProgressEvery {
		return nil
	}
	return p.save(ctx)
}

// save writes the progress to the export's row, and is the run's check
// that the export still runs.
func (p *progress) save(ctx context.Context) error {
	p.lastSave = time.Now()
	ppm := int64(0)
	if p.total > 0 {
		ppm = min(p.done*1_000_000/p.total, maxPPM)
	}
	return p.r.Tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE exports SET progress_ppm = $1 WHERE id = $2 AND status = 'running'`, ppm, p.id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return errStopped
		}
		return nil
	})
}

// page is called after each page read: it sleeps PageDelay (tests only)
// and gives up when ctx has ended.
func (p *progress) page(ctx context.Context) error {
	if d := p.s.cfg.PageDelay; d > 0 {
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-ctx.Done():
		case <-t.C:
		}
	}
	return ctx.Err()
}

// progressWriter counts media bytes copied through it as units of work.
type progressWriter struct {
	ctx     context.Context
	w       io.Writer
	p       *progress
	pending int64
}

func (pw *progressWriter) Write(b []byte) (int, error) {
	n, err := pw.w.Write(b)
	pw.pending += int64(n)
	if pw.pending >= mediaUnit {
		units := pw.pending / mediaUnit
		pw.pending -= units * mediaUnit
		if perr := pw.p.add(pw.ctx, units); perr != nil && err == nil {
			err = perr
		}
	}
	return n, err
}

// pages reads a list a page at a time (fetch returns up to limit items
// after the cursor), calling each for every item, until a page comes back
// short. key gives an item's cursor.
func pages[T any](ctx context.Context, p *progress, fetch func(after plaza.ID, limit int) ([]T, error), key func(T) plaza.ID, each func(T) error) error {
	limit := p.s.cfg.PageSize
	var after plaza.ID
	for {
		items, err := fetch(after, limit)
		if err != nil {
			return err
		}
		for _, it := range items {
			if err := each(it); err != nil {
				return err
			}
		}
		if len(items) < limit {
			return nil
		}
		after = key(items[len(items)-1])
		if err := p.page(ctx); err != nil {
			return err
		}
	}
}

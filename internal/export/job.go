package export

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/plaza-im/plaza"
	"github.com/plaza-im/plaza/internal/jobs"
)

// errStopped ends a run whose export stopped while it was written: the
// account was deleted.
var errStopped = errors.New("export: stopped")

// errPutEnded unblocks the ZIP writer when the store's Put has returned.
var errPutEnded = errors.New("export: the store stopped reading")

// blobKey names the ZIP of one run of an export. Each attempt writes its
// own object, so a run that starts over never reads or overwrites what an
// earlier, killed one may still be writing.
func blobKey(id plaza.ID, attempt int) string {
	return fmt.Sprintf("exports/%d.%d.zip", id, attempt)
}

// runJob writes one export. It starts over on every attempt: a ZIP
// streamed into the store cannot be resumed, so the state worth keeping is
// only which object the last attempt wrote, kept in the export's row and
// deleted before writing anew.
func (s *Service) runJob(ctx context.Context, r *jobs.Run) error {
	var p jobPayload
	if err := json.Unmarshal(r.Payload, &p); err != nil || p.ExportID == 0 {
		return jobs.Permanent(fmt.Errorf("export job: bad payload %q", r.Payload))
	}
	key := blobKey(p.ExportID, r.Attempt)
	var e Export
	var oldKey string
	live := false
	err := r.Tx(ctx, func(tx *sql.Tx) error {
		var err error
		e, err = scanExportKey(tx.QueryRowContext(ctx, `SELECT `+exportColumns+`, blob_key FROM exports WHERE id = $1`, p.ExportID), &oldKey)
		if err != nil {
			return err
		}
		if e.Status != Pending && e.Status != Running {
			return nil
		}
		live = true
		// The key is recorded before anything is written, so whatever
		// this run leaves behind can be found and deleted.
		_, err = tx.ExecContext(ctx, `UPDATE exports SET status = 'running', progress_ppm = 0, blob_key = $1 WHERE id = $2`, key, p.ExportID)
		return err
	})
	if errors.Is(err, sql.ErrNoRows) {
		return jobs.Permanent(fmt.Errorf("export %s: not found", p.ExportID))
	}
	if err != nil {
		return fmt.Errorf("export %s: %w", p.ExportID, err)
	}
	if !live {
		if e.Status == Ready {
			// Finished by an earlier run whose end was not recorded.
			return nil
		}
		// Stopped (the account was deleted): nothing to write, and what
		// an earlier run wrote goes.
		return s.dropKey(ctx, p.ExportID, oldKey)
	}
	if oldKey != "" && oldKey != key {
		if err := s.store.Delete(ctx, oldKey); err != nil {
			return fmt.Errorf("export %s: delete the earlier attempt: %w", e.ID, err)
		}
	}
	e.Status = Running
	started := time.Now()
	size, err := s.write(ctx, r, e, key)
	if err == nil {
		err = s.finish(ctx, r, e, key, size)
		if err == nil {
			s.log.Info("export ready", "export", e.ID, "bytes", size, "took", time.Since(started).Round(time.Millisecond), "attempt", r.Attempt)
			return nil
		}
	}
	if errors.Is(err, errStopped) {
		return s.dropKey(ctx, e.ID, key)
	}
	if ctx.Err() != nil {
		// The queue is stopping or another node took the job over: the
		// next run starts over.
		return err
	}
	if r.Attempt < maxAttempts {
		return err
	}
	s.log.Error("export failed", "export", e.ID, "attempt", r.Attempt, "err", err)
	if ferr := s.fail(ctx, r, e.ID, key); ferr != nil {
		return errors.Join(err, ferr)
	}
	return jobs.Permanent(err)
}

func scanExportKey(row *sql.Row, key *string) (Export, error) {
	var e Export
	var ppm, created int64
	var finished, expires sql.NullInt64
	if err := row.Scan(&e.ID, &e.AccountID, &e.RequesterID, &e.Status, &ppm, &e.Size, &e.Error, &created, &finished, &expires, key); err != nil {
		return Export{}, err
	}
	e.CreatedAt = time.UnixMicro(created).UTC()
	return e, nil
}

// finish marks the export ready, unless it was stopped meanwhile.
func (s *Service) finish(ctx context.Context, r *jobs.Run, e Export, key string, size int64) error {
	now := s.now()
	return r.Tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE exports SET status = 'ready', progress_ppm = 1000000, size = $1, finished_at = $2, expires_at = $3
			WHERE id = $4 AND status = 'running' AND blob_key = $5`, size, now.UnixMicro(), now.Add(s.cfg.Expiry).UnixMicro(), e.ID, key)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return errStopped
		}
		return nil
	})
}

// fail marks the export failed after its last attempt and deletes what the
// attempt wrote.
func (s *Service) fail(ctx context.Context, r *jobs.Run, id plaza.ID, key string) error {
	wctx := context.WithoutCancel(ctx)
	if err := s.store.Delete(wctx, key); err != nil {
		return err
	}
	return r.Tx(wctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(wctx, `UPDATE exports SET status = 'failed', blob_key = '', error = $1, finished_at = $2
			WHERE id = $3 AND status IN ('pending', 'running')`, errWriteFailed, s.now().UnixMicro(), id)
		return err
	})
}

// errWriteFailed is what the requester of a failed export reads: the
// cause is in the server's log, not for them.
const errWriteFailed = "the export could not be written; ask for a new one"

// dropKey deletes the object of a stopped export and forgets it.
func (s *Service) dropKey(ctx context.Context, id plaza.ID, key string) error {
	if key == "" {
		return nil
	}
	if err := s.store.Delete(ctx, key); err != nil {
		return fmt.Errorf("export %s: delete a stopped export: %w", id, err)
	}
	_, err := s.db.Write().ExecContext(ctx, `UPDATE exports SET blob_key = '' WHERE id = $1 AND blob_key = $2 AND status IN ('failed', 'expired')`, id, key)
	return err
}

// write streams the export's ZIP into the store under key and returns its
// size. The ZIP is written in a goroutine into one end of a pipe while the
// store reads the other: Put takes a reader of unknown length, and holds
// at most a part of it (S3) or nothing (disk).
func (s *Service) write(ctx context.Context, r *jobs.Run, e Export, key string) (int64, error) {
	pr, pw := io.Pipe()
	cw := &countWriter{w: pw}
	var werr error
	done := make(chan struct{})
	go func() {
		defer close(done)
		werr = s.writeZip(ctx, r, e, cw)
		pw.CloseWithError(werr)
	}()
	perr := s.store.Put(ctx, key, pr, -1, "application/zip")
	pr.CloseWithError(errPutEnded)
	<-done
	if werr != nil && !errors.Is(werr, errPutEnded) {
		return 0, werr
	}
	if perr != nil {
		return 0, fmt.Errorf("store the export: %w", perr)
	}
	return cw.n, nil
}

// countWriter counts the bytes written through it.
type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

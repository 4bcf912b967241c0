package export_test

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/plaza-im/plaza"
	"github.com/plaza-im/plaza/internal/blob"
	"github.com/plaza-im/plaza/internal/export"
	"github.com/plaza-im/plaza/internal/jobs"
	"github.com/plaza-im/plaza/internal/plazatest"
	"github.com/plaza-im/plaza/internal/sqldb"
	"github.com/plaza-im/plaza/internal/sqldb/sqldbtest"
)

// exportRow reads an export's status and object key.
func exportRow(tb testing.TB, db *sqldb.DB, id plaza.ID) (status, key string) {
	tb.Helper()
	if err := db.Read().QueryRowContext(context.Background(), `SELECT status, blob_key FROM exports WHERE id = $1`, id).Scan(&status, &key); err != nil {
		tb.Fatal(err)
	}
	return status, key
}

// objectExists reports whether the store holds key.
func objectExists(tb testing.TB, store blob.Store, key string) bool {
	tb.Helper()
	obj, err := store.Open(context.Background(), key)
	if errors.Is(err, blob.ErrNotFound) {
		return false
	}
	if err != nil {
		tb.Fatal(err)
	}
	obj.Close()
	return true
}

func TestRequestRules(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		e := newPausedEnv(t, db, 3, export.Config{PerDay: 2})
		s, other := e.user(0), e.user(1)

		first, err := e.svc.Request(ctx, s, s)
		if err != nil || first.Status != export.Pending || first.AccountID != s || first.RequesterID != s {
			t.Fatalf("Request: got %+v, %v; want a pending export of and for the subject", first, err)
		}
		_, err = e.svc.Request(ctx, s, s)
		if pe := plazatest.WantCode(t, err, plaza.EConflict); pe.Details["export_id"] != first.ID.String() {
			t.Errorf("a second request: got details %v, want export_id %s", pe.Details, first.ID)
		}
		// Someone else's export is not found, however they ask.
		_, err = e.svc.Get(ctx, other, first.ID)
		plazatest.WantCode(t, err, plaza.ENotFound)
		_, _, err = e.svc.Open(ctx, other, first.ID)
		plazatest.WantCode(t, err, plaza.ENotFound)
		if list, err := e.svc.List(ctx, other); err != nil || len(list) != 0 {
			t.Errorf("another's list: got %v, %v; want none", list, err)
		}
		_, _, err = e.svc.Open(ctx, s, first.ID)
		plazatest.WantCode(t, err, plaza.EConflict)

		e.start()
		if got := e.waitExport(t, s, first.ID); got.Status != export.Ready {
			t.Fatalf("got %+v, want ready", got)
		}
		second, err := e.svc.Request(ctx, s, s)
		if err != nil {
			t.Fatal(err)
		}
		e.waitExport(t, s, second.ID)
		_, err = e.svc.Request(ctx, s, s)
		if pe := plazatest.WantCode(t, err, plaza.ERateLimited); pe.Details["retry_after_seconds"].(int) <= 0 {
			t.Errorf("the day's third request: got details %v, want retry_after_seconds", pe.Details)
		}
		list, err := e.svc.List(ctx, s)
		if err != nil || len(list) != 2 || list[0].ID != second.ID || list[1].ID != first.ID {
			t.Errorf("List: got %+v, %v; want the second then the first", list, err)
		}
	})
}

// TestLegacyRequester exports one account for another (a legacy
// contact): the requester sees and downloads it, the subject does not.
func TestLegacyRequester(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, sqldbtest.Open(t, sqldb.SQLite), 2, export.Config{})
	subject, contact := e.user(0), e.user(1)
	ex, err := e.svc.Request(ctx, subject, contact)
	if err != nil {
		t.Fatal(err)
	}
	e.waitExport(t, contact, ex.ID)
	files := e.download(t, contact, ex.ID)
	if !bytes.Contains(files["account.json"], []byte(`"handle": "`+e.users[0].Handle+`"`)) {
		t.Errorf("the export does not hold the subject's account")
	}
	_, err = e.svc.Get(ctx, subject, ex.ID)
	plazatest.WantCode(t, err, plaza.ENotFound)
	if list, _ := e.svc.List(ctx, contact); len(list) != 1 || list[0].AccountID != subject {
		t.Errorf("the contact's list: got %+v, want the subject's export", list)
	}
}

// TestRestartDeletesEarlierAttempt checks that a run starting over deletes
// the object an earlier, interrupted attempt wrote.
func TestRestartDeletesEarlierAttempt(t *testing.T) {
	ctx := context.Background()
	db := sqldbtest.Open(t, sqldb.SQLite)
	e := newPausedEnv(t, db, 1, export.Config{})
	s := e.user(0)
	ex, err := e.svc.Request(ctx, s, s)
	if err != nil {
		t.Fatal(err)
	}
	stale := fmt.Sprintf("exports/%d.7.zip", ex.ID)
	if err := e.store.Put(ctx, stale, strings.NewReader("half a zip"), -1, "application/zip"); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Write().ExecContext(ctx, `UPDATE exports SET status = 'running', blob_key = $1 WHERE id = $2`, stale, ex.ID); err != nil {
		t.Fatal(err)
	}
	e.start()
	e.waitExport(t, s, ex.ID)
	if objectExists(t, e.store, stale) {
		t.Error("the earlier attempt's object is still stored")
	}
	if st, key := exportRow(t, db, ex.ID); st != export.Ready || key != fmt.Sprintf("exports/%d.1.zip", ex.ID) || !objectExists(t, e.store, key) {
		t.Errorf("got %s with key %q, want ready under the first attempt's key", st, key)
	}
}

func TestDeleteAccountStopsExports(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		e := newPausedEnv(t, db, 3, export.Config{})
		done, pending, requester := e.user(0), e.user(1), e.user(2)

		// A pending export of one account, asked for by another, stops
		// before its job runs: the job is cancelled.
		queued, err := e.svc.Request(ctx, pending, requester)
		if err != nil {
			t.Fatal(err)
		}
		if err := db.InTx(ctx, func(tx *sql.Tx) error { return e.svc.DeleteAccountData(ctx, tx, pending) }); err != nil {
			t.Fatal(err)
		}
		if st, _ := exportRow(t, db, queued.ID); st != export.Failed {
			t.Errorf("a pending export of a deleted account is %s, want failed", st)
		}
		var jobs int
		if err := db.Read().QueryRowContext(ctx, `SELECT COUNT(*) FROM jobs WHERE kind = 'export' AND dedupe_key = $1`, queued.ID.String()).Scan(&jobs); err != nil || jobs != 0 {
			t.Errorf("got %d jobs for the stopped export (err %v), want 0", jobs, err)
		}

		// A ready export expires at once.
		e.start()
		ready, err := e.svc.Request(ctx, done, done)
		if err != nil {
			t.Fatal(err)
		}
		e.waitExport(t, done, ready.ID)
		_, key := exportRow(t, db, ready.ID)
		if err := db.InTx(ctx, func(tx *sql.Tx) error { return e.svc.DeleteAccountData(ctx, tx, done) }); err != nil {
			t.Fatal(err)
		}
		got, err := e.svc.Get(ctx, done, ready.ID)
		if err != nil || got.Status != export.Expired {
			t.Errorf("a ready export of a deleted account: got %+v, %v; want expired", got, err)
		}
		_, _, err = e.svc.Open(ctx, done, ready.ID)
		plazatest.WantCode(t, err, plaza.EGone)
		if err := e.svc.EraseAccount(ctx, done); err != nil {
			t.Fatal(err)
		}
		if objectExists(t, e.store, key) {
			t.Error("the ZIP of a deleted account's export is still stored")
		}
		if st, k := exportRow(t, db, ready.ID); st != export.Expired || k != "" {
			t.Errorf("got %s with key %q, want expired without a key", st, k)
		}
		// Another export may be asked for now (the pending one ended).
		if _, err := e.svc.Request(ctx, pending, pending); err != nil {
			t.Errorf("a new request after the deletion stopped the last: %v", err)
		}
	})
}

// TestExpiry checks that the periodic job deletes the ZIP of an expired
// export, and fails an export whose job gave up without finishing it.
func TestExpiry(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		e := newPausedEnv(t, db, 2, export.Config{ExpireEvery: 50 * time.Millisecond})
		s, other := e.user(0), e.user(1)
		stuck, err := e.svc.Request(ctx, other, other)
		if err != nil {
			t.Fatal(err)
		}
		// Its job gave up (the runs all died) before the queue started.
		if _, err := db.Write().ExecContext(ctx, `UPDATE jobs SET status = 'failed' WHERE kind = 'export'`); err != nil {
			t.Fatal(err)
		}
		e.start()
		ex, err := e.svc.Request(ctx, s, s)
		if err != nil {
			t.Fatal(err)
		}
		e.waitExport(t, s, ex.ID)
		_, key := exportRow(t, db, ex.ID)
		if _, err := db.Write().ExecContext(ctx, `UPDATE exports SET expires_at = $1 WHERE id = $2`, time.Now().Add(-time.Minute).UnixMicro(), ex.ID); err != nil {
			t.Fatal(err)
		}
		plazatest.Eventually(t, time.Minute, func() error {
			if st, k := exportRow(t, db, ex.ID); st != export.Expired || k != "" {
				return fmt.Errorf("export is %s with key %q", st, k)
			}
			if st, _ := exportRow(t, db, stuck.ID); st != export.Failed {
				return fmt.Errorf("the stuck export is %s", st)
			}
			return nil
		})
		if objectExists(t, e.store, key) {
			t.Error("an expired export's ZIP is still stored")
		}
		_, _, err = e.svc.Open(ctx, s, ex.ID)
		plazatest.WantCode(t, err, plaza.EGone)

		// A failed export that still names its ZIP (an erasure failed it,
		// and its job never ran again) loses the ZIP too.
		ex2, err := e.svc.Request(ctx, s, s)
		if err != nil {
			t.Fatal(err)
		}
		e.waitExport(t, s, ex2.ID)
		_, key2 := exportRow(t, db, ex2.ID)
		if _, err := db.Write().ExecContext(ctx, `UPDATE exports SET status = 'failed' WHERE id = $1`, ex2.ID); err != nil {
			t.Fatal(err)
		}
		plazatest.Eventually(t, time.Minute, func() error {
			if st, k := exportRow(t, db, ex2.ID); st != export.Failed || k != "" {
				return fmt.Errorf("export is %s with key %q", st, k)
			}
			return nil
		})
		if objectExists(t, e.store, key2) {
			t.Error("a failed export's ZIP is still stored")
		}
	})
}

// TestAddSection checks that a section another package adds is written
// and listed in the index.
func TestAddSection(t *testing.T) {
	ctx := context.Background()
	e := newPausedEnv(t, sqldbtest.Open(t, sqldb.SQLite), 1, export.Config{})
	e.svc.AddSection("legacy_contact", func(ctx context.Context, subject plaza.ID, w *export.Writer) error {
		return w.JSON("legacy_contact.json", map[string]any{"account_id": subject, "may_download": true})
	})
	e.start()
	s := e.user(0)
	ex, err := e.svc.Request(ctx, s, s)
	if err != nil {
		t.Fatal(err)
	}
	e.waitExport(t, s, ex.ID)
	files := e.download(t, s, ex.ID)
	if !bytes.Contains(files["legacy_contact.json"], []byte(`"may_download": true`)) || !bytes.Contains(files["index.html"], []byte("legacy_contact.json")) {
		t.Errorf("the added section is missing: %s", files["legacy_contact.json"])
	}
	for _, name := range []string{"", "Bad Name", "a/b"} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("AddSection(%q) did not panic", name)
				}
			}()
			e.svc.AddSection(name, nil)
		}()
	}
}

// TestRerunOfFinishedExport checks that a job run again for an export
// that is already ready (its end was not recorded, say) keeps the ZIP.
func TestRerunOfFinishedExport(t *testing.T) {
	ctx := context.Background()
	db := sqldbtest.Open(t, sqldb.SQLite)
	e := newEnv(t, db, 1, export.Config{})
	s := e.user(0)
	ex, err := e.svc.Request(ctx, s, s)
	if err != nil {
		t.Fatal(err)
	}
	e.waitExport(t, s, ex.ID)
	_, key := exportRow(t, db, ex.ID)
	// The export is marked ready inside the job, a moment before the job's
	// own row goes; until then the same key is still taken.
	var job plaza.ID
	plazatest.Eventually(t, time.Minute, func() error {
		var err error
		job, err = e.jobs.Enqueue(ctx, nil, jobs.Spec{Kind: "export", Key: ex.ID.String(), Payload: fmt.Appendf(nil, `{"export_id":"%d"}`, ex.ID)})
		return err
	})
	plazatest.Eventually(t, time.Minute, func() error {
		if _, err := e.jobs.Get(ctx, job); plaza.ErrorCode(err) != plaza.ENotFound {
			return fmt.Errorf("the job is still there (%v)", err)
		}
		return nil
	})
	if st, k := exportRow(t, db, ex.ID); st != export.Ready || k != key || !objectExists(t, e.store, key) {
		t.Errorf("after a rerun: got %s with key %q (stored: %v), want ready with its ZIP", st, k, objectExists(t, e.store, k))
	}
}

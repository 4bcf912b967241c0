package account_test

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/plaza-im/plaza"
	"github.com/plaza-im/plaza/internal/account"
	"github.com/plaza-im/plaza/internal/audit"
	"github.com/plaza-im/plaza/internal/jobs"
	"github.com/plaza-im/plaza/internal/plazatest"
	"github.com/plaza-im/plaza/internal/sqldb"
	"github.com/plaza-im/plaza/internal/sqldb/sqldbtest"
)

// waitTimeout bounds every poll for a job's outcome.
const waitTimeout = 20 * time.Second

// fastJobs polls and retries within milliseconds, so tests never wait.
var fastJobs = jobs.Config{Poll: 5 * time.Millisecond, Backoff: 5 * time.Millisecond, MaxBackoff: 20 * time.Millisecond}

// withJobs gives svc a queue on db; with run set the queue runs until the
// test ends.
func withJobs(tb testing.TB, db *sqldb.DB, svc *account.Service, run bool) *jobs.Queue {
	tb.Helper()
	q := jobs.New(db, fastJobs, slog.New(slog.DiscardHandler))
	svc.UseJobs(q)
	if run {
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { defer close(done); q.Run(ctx) }()
		tb.Cleanup(func() { cancel(); <-done })
	}
	return q
}

// eraseJobs counts the account's unfinished erase jobs.
func eraseJobs(tb testing.TB, db *sqldb.DB, id plaza.ID) int {
	tb.Helper()
	return countRows(tb, db, `jobs WHERE kind = $1 AND dedupe_key = $2`, account.EraseKind, id.String())
}

// TestScheduleAndCancelDeletion: the password is checked; scheduling sets
// the date a grace period ahead, ends every session and queues the job;
// the owner may sign in again and sees the date; scheduling twice is a
// conflict; cancelling clears both, once.
func TestScheduleAndCancelDeletion(t *testing.T) {
	t.Parallel()
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		svc, clk := newClockedService(t, db, march15, func(c *account.Config) { c.DeletionGrace = 72 * time.Hour })
		withJobs(t, db, svc, false)
		var h hookLog
		svc.OnStandingChange(h.record)
		a, tok := register(t, svc, "alice")
		login(t, svc, "alice", "phone")
		h.take()

		before := snapshot(t, db)
		_, err := svc.ScheduleDeletion(ctx, a.ID, "not the password")
		if e := wantCode(t, err, plaza.EForbidden); e.Details["field"] != "password" {
			t.Errorf("details %v, want field password", e.Details)
		}
		if diff := cmp.Diff(before, snapshot(t, db)); diff != "" {
			t.Errorf("a wrong password changed the database (-before +after):\n%s", diff)
		}

		at, err := svc.ScheduleDeletion(ctx, a.ID, testPassword)
		if err != nil {
			t.Fatal(err)
		}
		if want := clk.Now().Add(72 * time.Hour); !at.Equal(want) {
			t.Errorf("scheduled at %v, want %v", at, want)
		}
		if ids := h.take(); !slices.Equal(ids, []plaza.ID{a.ID}) {
			t.Errorf("standing hook got %v, want [%s]", ids, a.ID)
		}
		if n := countRows(t, db, `sessions WHERE account_id = $1`, a.ID); n != 0 {
			t.Errorf("%d sessions left, want 0", n)
		}
		_, err = svc.Authenticate(ctx, tok)
		wantCode(t, err, plaza.EUnauthenticated)
		if n := eraseJobs(t, db, a.ID); n != 1 {
			t.Errorf("%d erase jobs queued, want 1", n)
		}
		got, _, err := svc.Login(ctx, "alice", testPassword, "")
		if err != nil || !got.DeletionScheduledAt.Equal(at) {
			t.Errorf("sign-in within the grace period: %v, %v; want it to show %v", got.DeletionScheduledAt, err, at)
		}
		_, err = svc.ScheduleDeletion(ctx, a.ID, testPassword)
		if e := wantCode(t, err, plaza.EConflict); e.Details["deletion_scheduled_at"] != at.Format(time.RFC3339) {
			t.Errorf("details %v, want the date", e.Details)
		}

		kept, err := svc.CancelDeletion(ctx, a.ID)
		if err != nil || !kept.DeletionScheduledAt.IsZero() || kept.Status != account.Active {
			t.Fatalf("cancel: %+v, %v; want the active account without a date", kept, err)
		}
		if n := eraseJobs(t, db, a.ID); n != 0 {
			t.Errorf("%d erase jobs left after cancelling, want 0", n)
		}
		_, err = svc.CancelDeletion(ctx, a.ID)
		wantCode(t, err, plaza.EConflict)
		if _, err := svc.ScheduleDeletion(ctx, a.ID, testPassword); err != nil {
			t.Errorf("scheduling again after cancelling: %v", err)
		}
	})
}

// TestScheduledErasure: once the grace period is over the job erases the
// account, in steps, with one audit row by the system actor; erasing
// again afterwards adds nothing.
func TestScheduledErasure(t *testing.T) {
	t.Parallel()
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		svc := newServiceWith(t, db, func(c *account.Config) { c.DeletionGrace = 50 * time.Millisecond })
		var steps atomic.Int64
		svc.OnErase(func(ctx context.Context, id plaza.ID, inTx account.TxFunc) error {
			steps.Add(1)
			return nil
		})
		withJobs(t, db, svc, true)
		a, _ := register(t, svc, "alice")
		b, bobTok := register(t, svc, "bob")
		if _, err := svc.ScheduleDeletion(ctx, a.ID, testPassword); err != nil {
			t.Fatal(err)
		}
		plazatest.Eventually(t, waitTimeout, func() error {
			if n := eraseJobs(t, db, a.ID); n != 0 {
				return errors.New("the erase job is still there")
			}
			return nil
		})
		got, err := svc.Get(ctx, a.ID)
		if err != nil || got.Status != account.Deleted || got.DisplayName != "" || !got.DeletionScheduledAt.IsZero() {
			t.Errorf("after the job: %+v, %v; want it deleted and scrubbed", got, err)
		}
		if n := steps.Load(); n != 1 {
			t.Errorf("the erase step ran %d times, want 1", n)
		}
		entries := auditEntries(t, db)
		if len(entries) != 1 || entries[0].Action != "account.delete" || entries[0].Actor != account.ErasureActor.Name || entries[0].ActorID != 0 || entries[0].TargetID != a.ID.String() {
			t.Errorf("audit log %+v, want one account.delete by the system", entries)
		}
		if err := svc.Erase(ctx, a.ID); err != nil {
			t.Fatal(err)
		}
		if n := len(auditEntries(t, db)); n != 1 {
			t.Errorf("%d audit rows after erasing again, want 1", n)
		}
		if auth := authenticate(t, svc, bobTok); auth.Account.ID != b.ID {
			t.Errorf("bob's session belongs to %s", auth.Account.ID)
		}
	})
}

// TestErasureResumesAfterFailure: a step that fails (a crash, a store
// that does not answer) makes the job try again; the retry skips the
// scrub it already did, finishes the steps, and the audit row is still
// written once.
func TestErasureResumesAfterFailure(t *testing.T) {
	t.Parallel()
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		svc := newServiceWith(t, db, func(c *account.Config) { c.DeletionGrace = 10 * time.Millisecond })
		var runs atomic.Int64
		svc.OnErase(func(ctx context.Context, id plaza.ID, inTx account.TxFunc) error {
			if runs.Add(1) < 3 {
				return errors.New("the store did not answer")
			}
			return nil
		})
		withJobs(t, db, svc, true)
		a, _ := register(t, svc, "alice")
		if _, err := svc.ScheduleDeletion(ctx, a.ID, testPassword); err != nil {
			t.Fatal(err)
		}
		plazatest.Eventually(t, waitTimeout, func() error {
			if eraseJobs(t, db, a.ID) != 0 {
				return errors.New("the erase job is still there")
			}
			return nil
		})
		if n := runs.Load(); n != 3 {
			t.Errorf("the step ran %d times, want 3", n)
		}
		if got := actions(auditEntries(t, db)); !slices.Equal(got, []string{"account.delete"}) {
			t.Errorf("audit actions %v, want one account.delete", got)
		}
	})
}

// TestDeletionUnderWayCannotBeCancelled: once the job has started, the
// owner cannot cancel and an admin cannot memorialise; it finishes.
func TestDeletionUnderWayCannotBeCancelled(t *testing.T) {
	t.Parallel()
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		svc := newServiceWith(t, db, func(c *account.Config) { c.DeletionGrace = 10 * time.Millisecond })
		entered, release := make(chan struct{}), make(chan struct{})
		var once sync.Once
		svc.OnErase(func(ctx context.Context, id plaza.ID, inTx account.TxFunc) error {
			once.Do(func() { close(entered) })
			<-release
			return nil
		})
		withJobs(t, db, svc, true)
		a, _ := register(t, svc, "alice")
		if _, err := svc.ScheduleDeletion(ctx, a.ID, testPassword); err != nil {
			t.Fatal(err)
		}
		select {
		case <-entered:
		case <-time.After(waitTimeout):
			t.Fatal("the erase job did not start")
		}
		_, err := svc.CancelDeletion(ctx, a.ID)
		wantCode(t, err, plaza.EConflict)
		_, err = svc.Memorialise(ctx, audit.CLI, a.ID, "too late")
		wantCode(t, err, plaza.EGone) // the scrub is done: the account is deleted
		close(release)
		plazatest.Eventually(t, waitTimeout, func() error {
			if eraseJobs(t, db, a.ID) != 0 {
				return errors.New("the erase job is still there")
			}
			return nil
		})
	})
}

// TestMemorialiseCancelsDeletion: memorialising an account whose deletion
// is scheduled cancels it, job and date, and says so in the audit row.
func TestMemorialiseCancelsDeletion(t *testing.T) {
	t.Parallel()
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		svc := newService(t, db)
		withJobs(t, db, svc, false)
		a, _ := register(t, svc, "alice")
		if _, err := svc.ScheduleDeletion(ctx, a.ID, testPassword); err != nil {
			t.Fatal(err)
		}
		got, err := svc.Memorialise(ctx, audit.CLI, a.ID, "her family asked")
		if err != nil || got.Status != account.Memorialised || !got.DeletionScheduledAt.IsZero() {
			t.Fatalf("memorialise: %+v, %v; want memorialised without a date", got, err)
		}
		if n := eraseJobs(t, db, a.ID); n != 0 {
			t.Errorf("%d erase jobs left, want 0", n)
		}
		entries := auditEntries(t, db)
		if last := entries[len(entries)-1]; last.Details["deletion_cancelled"] != true {
			t.Errorf("audit details %v, want deletion_cancelled", last.Details)
		}
		_, err = svc.CancelDeletion(ctx, a.ID)
		wantCode(t, err, plaza.EConflict)
	})
}

// TestErasureJobLeavesACancelledAccount: a job that runs although the
// deletion was cancelled (cleared by hand, say) leaves the account alone.
func TestErasureJobLeavesACancelledAccount(t *testing.T) {
	t.Parallel()
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		svc := newServiceWith(t, db, func(c *account.Config) { c.DeletionGrace = 200 * time.Millisecond })
		withJobs(t, db, svc, true)
		a, _ := register(t, svc, "alice")
		if _, err := svc.ScheduleDeletion(ctx, a.ID, testPassword); err != nil {
			t.Fatal(err)
		}
		exec(t, db, `UPDATE accounts SET deletion_scheduled_at = NULL WHERE id = $1`, a.ID)
		plazatest.Eventually(t, waitTimeout, func() error {
			if eraseJobs(t, db, a.ID) != 0 {
				return errors.New("the erase job is still there")
			}
			return nil
		})
		if got, err := svc.Get(ctx, a.ID); err != nil || got.Status != account.Active {
			t.Errorf("after the job: %+v, %v; want the account active", got, err)
		}
		if n := len(auditEntries(t, db)); n != 0 {
			t.Errorf("%d audit rows, want none", n)
		}
	})
}

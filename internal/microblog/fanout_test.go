package microblog

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/plaza-im/plaza"
	"github.com/plaza-im/plaza/internal/events"
	"github.com/plaza-im/plaza/internal/plazatest"
	"github.com/plaza-im/plaza/internal/sqldb"
	"github.com/plaza-im/plaza/internal/sqldb/sqldbtest"
)

// TestFanoutResumesAfterRestart: a worker stopped after its first batch
// leaves the job where that batch's commit put it; a new worker finishes
// it, every follower gets the post once, and the job is gone. Running
// the finished batches again doubles nothing.
func TestFanoutResumesAfterRestart(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		const followers = 7
		e := newEnv(t, db, envOptions{users: followers + 1, noWorker: true, cfg: func(c *Config) { c.FanoutBatch = 2 }})
		ctx := context.Background()
		author := e.user(followers)
		for i := 0; i < followers; i++ {
			e.follows(t, e.user(i), author)
		}
		p := e.post(t, author, "to every follower once")

		// The first worker dies after one batch.
		wctx, stop := context.WithCancel(ctx)
		var once sync.Once
		e.svc.afterBatch = func() { once.Do(stop) }
		done := make(chan struct{})
		go func() { defer close(done); e.svc.RunFanout(wctx) }()
		<-done
		e.svc.afterBatch = nil
		if n := e.count(t, `SELECT COUNT(*) FROM timeline WHERE post_id = $1`, p.ID); n != 2 {
			t.Fatalf("after one batch %d followers have the post, want 2", n)
		}
		var upTo int64
		if err := db.Read().QueryRowContext(ctx, `SELECT done_up_to FROM fanout_jobs WHERE post_id = $1`, p.ID).Scan(&upTo); err != nil || upTo == 0 {
			t.Fatalf("job after one batch: done_up_to %d, %v; want it moved", upTo, err)
		}

		// Replay the first batch as a crashed worker would have: the
		// inserts find their rows and add none.
		if _, err := db.Write().ExecContext(ctx, `UPDATE fanout_jobs SET done_up_to = 0`); err != nil {
			t.Fatal(err)
		}
		e.startWorker(t)
		e.drain(t)
		for i := 0; i < followers; i++ {
			if n := e.count(t, `SELECT COUNT(*) FROM timeline WHERE post_id = $1 AND account_id = $2`, p.ID, e.user(i)); n != 1 {
				t.Errorf("follower %d has the post %d times, want once", i, n)
			}
		}
		if n := e.count(t, `SELECT COUNT(*) FROM timeline WHERE post_id = $1`, p.ID); n != followers {
			t.Errorf("%d timeline rows, want %d", n, followers)
		}
	})
}

// TestFanoutLeases: a job leased by a live worker elsewhere is left
// alone until its lease lapses; then this node takes it over.
func TestFanoutLeases(t *testing.T) {
	e := newEnv(t, sqldbtest.Open(t, sqldb.Postgres), envOptions{users: 2, noWorker: true})
	ctx := context.Background()
	e.follows(t, e.user(0), e.user(1))
	p := e.post(t, e.user(1), "leased")
	far := time.Now().Add(time.Hour).UnixMicro()
	if _, err := e.db.Write().ExecContext(ctx, `UPDATE fanout_jobs SET lease_until = $1`, far); err != nil {
		t.Fatal(err)
	}
	if n, err := e.svc.fanoutRound(ctx); err != nil || n != 0 {
		t.Fatalf("fanoutRound took %d jobs (%v) leased elsewhere, want none", n, err)
	}
	if _, err := e.db.Write().ExecContext(ctx, `UPDATE fanout_jobs SET lease_until = $1`, time.Now().Add(-time.Second).UnixMicro()); err != nil {
		t.Fatal(err)
	}
	if n, err := e.svc.fanoutRound(ctx); err != nil || n != 1 {
		t.Fatalf("fanoutRound took %d jobs (%v) after the lease lapsed, want 1", n, err)
	}
	if n := e.count(t, `SELECT COUNT(*) FROM timeline WHERE post_id = $1 AND account_id = $2`, p.ID, e.user(0)); n != 1 {
		t.Errorf("the follower has the post %d times, want once", n)
	}
}

// TestLiveDelivery: followers' and contacts' devices get post.created;
// a contacts post reaches contacts only; the author's own devices get
// their posts; a post above the threshold goes once to the author's
// subject instead.
func TestLiveDelivery(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db, envOptions{users: 4})
		ctx := context.Background()
		author, follower, contact, stranger := e.user(0), e.user(1), e.user(2), e.user(3)
		e.follows(t, follower, author)
		e.befriend(t, contact, author)
		w := watchAccounts(t, e, author, follower, contact, stranger)
		pub := e.post(t, author, "for everyone")
		moment := e.postWith(t, author, PostInput{Text: "for contacts", Visibility: Contacts})
		e.drain(t)
		want := map[plaza.ID][]plaza.ID{author: {pub.ID, moment.ID}, follower: {pub.ID}, contact: {moment.ID}, stranger: nil}
		plazatest.Eventually(t, 5*time.Second, func() error {
			for a, ids := range want {
				if got := w.posts(a); fmt.Sprint(got) != fmt.Sprint(ids) {
					return fmt.Errorf("account %d got posts %v, want %v", a, got, ids)
				}
			}
			return nil
		})
		_ = ctx
	})
}

// watcher collects the post.created frames published on accounts'
// subjects.
type watcher struct {
	mu  sync.Mutex
	got map[plaza.ID][]plaza.ID
}

func watchAccounts(tb testing.TB, e *env, accounts ...plaza.ID) *watcher {
	tb.Helper()
	w := &watcher{got: map[plaza.ID][]plaza.ID{}}
	for _, a := range accounts {
		sub, err := e.bus.Subscribe(events.AccountSubject(a), func(data []byte) {
			_, frame, err := events.ParseEnvelope(data)
			if err != nil {
				return
			}
			var f struct {
				Type string `json:"type"`
				Data Post   `json:"data"`
			}
			if json.Unmarshal(frame, &f) != nil || f.Type != events.PostCreated {
				return
			}
			w.mu.Lock()
			defer w.mu.Unlock()
			w.got[a] = append(w.got[a], f.Data.ID)
		})
		if err != nil {
			tb.Fatal(err)
		}
		tb.Cleanup(func() { sub.Unsubscribe() })
	}
	return w
}

func (w *watcher) posts(a plaza.ID) []plaza.ID {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]plaza.ID(nil), w.got[a]...)
}

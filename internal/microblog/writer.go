package microblog

import (
	"context"
	"database/sql"
	"sync"
	"time"

	"github.com/plaza-im/plaza"
)

// writer commits new posts in groups. On SQLite every write goes through
// one connection and each commit waits for the disk (synchronous=FULL),
// so the writer takes every post that is waiting (up to MaxBatch),
// stores them in one transaction and only then answers each author:
// under load batches grow by themselves; alone, a post is committed at
// once. When a batch's transaction fails, each of its posts is committed
// alone, so only a post the store refuses fails.
type writer struct {
	s    *Service
	reqs chan *createReq
	done chan struct{}

	// mu guards closed and the send side of reqs.
	mu     sync.RWMutex
	closed bool
	once   sync.Once
}

// createReq is a post to store, already checked.
type createReq struct {
	post      Post
	mentioned []plaza.ID
	plan      *pubPlan // nil unless the post is published at once
	res       chan error
}

// queueLen bounds the posts waiting for the writer; when it is full,
// Create waits (back-pressure reaches the author as latency).
const queueLen = 4096

// commitTimeout bounds one group commit; submitTimeout bounds how long
// Create waits for its place and its commit.
const (
	commitTimeout = 10 * time.Second
	submitTimeout = 15 * time.Second
)

func newWriter(s *Service) *writer {
	w := &writer{s: s, reqs: make(chan *createReq, queueLen), done: make(chan struct{})}
	go w.run()
	return w
}

func (w *writer) close() {
	w.once.Do(func() {
		w.mu.Lock()
		w.closed = true
		close(w.reqs)
		w.mu.Unlock()
		<-w.done
	})
}

var errUnavailable = plaza.Errorf(plaza.EUnavailable, "the post could not be stored in time; try again")

// submit queues r and waits for its commit.
func (w *writer) submit(ctx context.Context, r *createReq) error {
	r.res = make(chan error, 1)
	limit := time.NewTimer(submitTimeout)
	defer limit.Stop()
	w.mu.RLock()
	if w.closed {
		w.mu.RUnlock()
		return plaza.Errorf(plaza.EGone, "the server is shutting down: post again")
	}
	select {
	case w.reqs <- r:
	case <-ctx.Done():
		w.mu.RUnlock()
		return ctx.Err()
	case <-limit.C:
		w.mu.RUnlock()
		return errUnavailable
	}
	w.mu.RUnlock()
	// Once queued, wait for the outcome even if ctx ends: the post may
	// be committed, and the author must not be told otherwise.
	select {
	case err := <-r.res:
		return err
	case <-limit.C:
		return errUnavailable
	}
}

func (w *writer) run() {
	defer close(w.done)
	batch := make([]*createReq, 0, w.s.cfg.MaxBatch)
	for first := range w.reqs {
		batch = append(batch[:0], first)
	fill:
		for len(batch) < w.s.cfg.MaxBatch {
			select {
			case r, ok := <-w.reqs:
				if !ok {
					break fill
				}
				batch = append(batch, r)
			default:
				break fill
			}
		}
		w.commit(batch)
	}
}

// commit stores a batch, falling back to one transaction per post when
// the batch fails, and answers each request.
func (w *writer) commit(batch []*createReq) {
	ctx, cancel := context.WithTimeout(context.Background(), commitTimeout)
	defer cancel()
	out, err := w.store(ctx, batch)
	if err == nil {
		w.s.afterPublish(ctx, out)
		for _, r := range batch {
			r.res <- nil
		}
		return
	}
	if len(batch) == 1 {
		batch[0].res <- err
		return
	}
	for _, r := range batch {
		out, err := w.store(ctx, []*createReq{r})
		if err == nil {
			w.s.afterPublish(ctx, out)
		}
		r.res <- err
	}
}

// store stores the posts of batch in one transaction.
func (w *writer) store(ctx context.Context, batch []*createReq) (published, error) {
	var out published
	err := w.s.db.InTx(ctx, func(tx *sql.Tx) error {
		posts := make([]Post, len(batch))
		for i, r := range batch {
			posts[i] = r.post
		}
		refused, err := checkTargets(ctx, tx, posts)
		if err != nil {
			return err
		}
		for _, err := range refused {
			if err != nil {
				// The batch fails; commit then stores each post alone,
				// so only this one is refused.
				return err
			}
		}
		var plans []*pubPlan
		for _, r := range batch {
			if err := insertPost(ctx, w.s.inTx(tx), r.post, r.mentioned); err != nil {
				return err
			}
			if r.plan != nil {
				plans = append(plans, r.plan)
			}
		}
		out, err = w.s.applyPublished(ctx, tx, plans)
		return err
	})
	return out, err
}

// Package jobs runs Plaza's background work: one table of jobs that
// survives restarts and that every node shares. A node claims a due job by
// taking a lease on its row; the lease is renewed while the handler runs,
// and a run that stops renewing it (the process was killed, the node lost
// the database) is claimed again once the lease lapses. Every write a run
// makes matches the lease token its claim set, so a run whose lease
// another node took over can change nothing: no job is lost, and none is
// finished twice. A handler that fails is retried with exponential
// backoff until its attempts are used up; the row is then kept with
// status "failed" and the last error.
//
// Handlers must be idempotent: a later attempt either resumes from the
// state the last Checkpoint saved or starts over.
package jobs

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/plaza-im/plaza"
	"github.com/plaza-im/plaza/internal/sqldb"
)

// Status is where a job stands. A finished job's row is deleted, so a
// job has no "done" status: Get answers not_found for it.
type Status string

// The statuses of a job.
const (
	// Queued: waiting for its RunAfter, or for a free worker.
	Queued Status = "queued"
	// Running: claimed by a node (or left so by one that died, until its
	// lease lapses).
	Running Status = "running"
	// Failed: its attempts are used up, or its handler said the failure
	// is permanent. The row is kept for inspection.
	Failed Status = "failed"
)

// Spec describes a job to enqueue.
type Spec struct {
	// Kind names the registered handler, e.g. "export" or "account.erase".
	Kind string
	// Key, when set, allows at most one unfinished job per (Kind, Key).
	Key string
	// Payload is JSON, defined by the handler.
	Payload []byte
	// RunAfter is the earliest time the job may run; zero means now.
	RunAfter time.Time
	// MaxAttempts bounds the runs; 0 means Config.MaxAttempts.
	MaxAttempts int
}

// Job is a job as stored.
type Job struct {
	ID      plaza.ID
	Kind    string
	Key     string
	Payload []byte
	// State is what the last Checkpoint saved; nil on a fresh start.
	State []byte
	// Attempt counts the runs, this one included: 1 on the first run.
	Attempt   int
	Status    Status
	RunAfter  time.Time
	CreatedAt time.Time
	LastError string
}

// Handler runs one job. It returns nil when the job is done (its row is
// then deleted), an error to have it retried with backoff, or
// Permanent(err) to mark it failed at once. Its ctx ends when the run's
// lease is lost or the queue stops; it should then return promptly.
type Handler func(ctx context.Context, r *Run) error

// ErrLeaseLost is returned by a Run's Checkpoint and Tx when another node
// has taken the job over: this run may change nothing any more.
var ErrLeaseLost = errors.New("jobs: lease lost")

// permanentError marks a failure that retrying cannot fix.
type permanentError struct{ err error }

func (e permanentError) Error() string { return e.err.Error() }
func (e permanentError) Unwrap() error { return e.err }

// Permanent wraps err so that the job fails at once instead of being
// retried. Permanent(nil) is nil.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return permanentError{err}
}

// Config tunes a Queue. Zero fields take DefaultConfig's values.
type Config struct {
	// Lease is how long a claim holds a job without renewal; a running
	// handler's lease is renewed every Lease/3. A node that dies holds its
	// jobs this long (on PostgreSQL; SQLite frees them at start).
	Lease time.Duration
	// Poll is how often the queue looks for due jobs when nothing woke it.
	Poll time.Duration
	// Backoff is the delay before the first retry; it doubles with each
	// attempt up to MaxBackoff.
	Backoff, MaxBackoff time.Duration
	// MaxAttempts is how many runs a job gets unless its Spec says.
	MaxAttempts int
	// Workers is how many jobs this node runs at once.
	Workers int
}

// DefaultConfig returns the defaults: a 30 s lease, a 1 s poll, backoff
// from 10 s doubling to 10 min, 5 attempts and 2 workers.
func DefaultConfig() Config {
	return Config{
		Lease:       30 * time.Second,
		Poll:        time.Second,
		Backoff:     10 * time.Second,
		MaxBackoff:  10 * time.Minute,
		MaxAttempts: 5,
		Workers:     2,
	}
}

// withDefaults fills the zero fields of c.
func (c Config) withDefaults() Config {
	d := DefaultConfig()
	if c.Lease <= 0 {
		c.Lease = d.Lease
	}
	if c.Poll <= 0 {
		c.Poll = d.Poll
	}
	if c.Backoff <= 0 {
		c.Backoff = d.Backoff
	}
	if c.MaxBackoff <= 0 {
		c.MaxBackoff = d.MaxBackoff
	}
	if c.MaxBackoff < c.Backoff {
		c.MaxBackoff = c.Backoff
	}
	if c.MaxAttempts <= 0 {
		c.MaxAttempts = d.MaxAttempts
	}
	if c.Workers <= 0 {
		c.Workers = d.Workers
	}
	return c
}

// Limits on what a Spec may hold: a job row is small; big inputs belong
// in their own tables, referenced from the payload.
const (
	maxKindLen     = 64
	maxKeyLen      = 256
	maxPayloadLen  = 64 << 10
	maxAttemptsCap = 100
	// everyKey is the dedupe key of a periodic job's one row.
	everyKey = "@every"
)

// Queue claims and runs jobs. Register handlers with Handle and Every,
// then call Run once.
type Queue struct {
	db  *sqldb.DB
	cfg Config
	log *slog.Logger
	now func() time.Time

	mu       sync.Mutex
	handlers map[string]Handler
	periodic map[string]time.Duration
	started  bool

	wake chan struct{}
	m    *queueMetrics

	// Test hooks: afterRound is called after each look for due jobs with
	// the number claimed; crashOnStop leaves leases behind on stop, as a
	// killed process does.
	afterRound  func(claimed int)
	crashOnStop bool
}

// New returns a queue on db. Zero fields of cfg take DefaultConfig's
// values.
func New(db *sqldb.DB, cfg Config, log *slog.Logger) *Queue {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Queue{
		db:       db,
		cfg:      cfg.withDefaults(),
		log:      log,
		now:      time.Now,
		handlers: map[string]Handler{},
		periodic: map[string]time.Duration{},
		wake:     make(chan struct{}, 1),
		m:        newQueueMetrics(),
	}
}

// Handle registers the handler of kind. It must be called before Run and
// panics on a kind already registered: two handlers for one kind is a
// wiring mistake.
func (q *Queue) Handle(kind string, h Handler) {
	q.register(kind, h, 0)
}

// Every registers a periodic job: h runs about once per interval, on one
// node of the cluster rather than on each. The job's one row is created by
// the first Run that finds it missing and keeps its schedule across
// restarts; after each run (successful or not) it is due again interval
// later. A periodic job never ends up failed: an error is logged and kept
// as its last error.
func (q *Queue) Every(kind string, interval time.Duration, h Handler) {
	if interval <= 0 {
		panic("jobs: Every " + kind + " with a non-positive interval")
	}
	q.register(kind, h, interval)
}

func (q *Queue) register(kind string, h Handler, interval time.Duration) {
	if err := checkKind(kind); err != nil {
		panic("jobs: " + err.Error())
	}
	if h == nil {
		panic("jobs: nil handler for " + kind)
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.started {
		panic("jobs: handler for " + kind + " registered after Run")
	}
	if _, dup := q.handlers[kind]; dup {
		panic("jobs: two handlers for " + kind)
	}
	q.handlers[kind] = h
	q.m.known(kind)
	if interval > 0 {
		q.periodic[kind] = interval
	}
}

// checkKind accepts kinds of lower-case letters, digits, '.', '_' and '-'.
func checkKind(kind string) error {
	if kind == "" || len(kind) > maxKindLen {
		return fmt.Errorf("kind %q must be 1 to %d bytes", kind, maxKindLen)
	}
	for _, c := range []byte(kind) {
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '.' || c == '_' || c == '-') {
			return fmt.Errorf("kind %q may hold only a-z, 0-9, '.', '_' and '-'", kind)
		}
	}
	return nil
}

// validate checks a Spec; a bad one is a programming mistake more often
// than user input, but it gets the same clear error.
func (s Spec) validate() error {
	var p plaza.Problems
	if err := checkKind(s.Kind); err != nil {
		p.Add("kind", err.Error())
	}
	if len(s.Key) > maxKeyLen {
		p.Add("key", fmt.Sprintf("must be at most %d bytes", maxKeyLen))
	}
	if s.Key == everyKey {
		p.Add("key", "is reserved for periodic jobs")
	}
	if len(s.Payload) > maxPayloadLen {
		p.Add("payload", fmt.Sprintf("must be at most %d bytes", maxPayloadLen))
	} else if len(s.Payload) > 0 && !json.Valid(s.Payload) {
		p.Add("payload", "must be JSON")
	}
	if s.MaxAttempts < 0 || s.MaxAttempts > maxAttemptsCap {
		p.Add("max_attempts", fmt.Sprintf("must be between 0 and %d", maxAttemptsCap))
	}
	return p.Err()
}

// Enqueue adds a job and returns its ID. With tx nil it commits in its own
// transaction and wakes this node's queue; with a tx, the job exists once
// tx commits, and the caller may call Wake after that to start it without
// waiting for the next poll. A Spec whose Key names an unfinished job of
// the same Kind is refused with conflict, details.job_id naming that job.
// A kind no node handles waits until one does.
func (q *Queue) Enqueue(ctx context.Context, tx *sql.Tx, s Spec) (plaza.ID, error) {
	if err := s.validate(); err != nil {
		return 0, err
	}
	if tx != nil {
		return q.enqueue(ctx, tx, s)
	}
	var id plaza.ID
	err := q.db.InTx(ctx, func(tx *sql.Tx) error {
		var err error
		id, err = q.enqueue(ctx, tx, s)
		return err
	})
	if err != nil {
		return 0, err
	}
	q.Wake()
	return id, nil
}

// sqlInsert adds a job unless its key is taken. The conflict target names
// the partial unique index, so any other violation is still an error (and
// on PostgreSQL no failed statement aborts the caller's transaction).
const sqlInsert = `INSERT INTO jobs (id, kind, dedupe_key, payload, state, status, attempts, max_attempts,
		run_after, lease_until, lease_token, last_error, created_at, updated_at)
	VALUES ($1, $2, $3, $4, NULL, 'queued', 0, $5, $6, 0, 0, '', $7, $7)
	ON CONFLICT (kind, dedupe_key) WHERE dedupe_key <> '' AND status <> 'failed' DO NOTHING
	RETURNING id`

func (q *Queue) enqueue(ctx context.Context, tx *sql.Tx, s Spec) (plaza.ID, error) {
	now := q.now()
	runAfter := s.RunAfter
	if runAfter.IsZero() {
		runAfter = now
	}
	attempts := s.MaxAttempts
	if attempts == 0 {
		attempts = q.cfg.MaxAttempts
	}
	payload := string(s.Payload)
	// The job holding the key may finish between the insert and the look
	// for it: then the insert is tried again.
	for range 3 {
		id := plaza.NewID()
		var got plaza.ID
		err := tx.QueryRowContext(ctx, sqlInsert, id, s.Kind, s.Key, payload, attempts, runAfter.UnixMicro(), now.UnixMicro()).Scan(&got)
		if err == nil {
			return got, nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return 0, sqldb.MapError(err, "job")
		}
		err = tx.QueryRowContext(ctx, `SELECT id FROM jobs WHERE kind = $1 AND dedupe_key = $2 AND status <> 'failed'`, s.Kind, s.Key).Scan(&got)
		if err == nil {
			return 0, plaza.Errorf(plaza.EConflict, "a %s job for %q is already queued or running", s.Kind, s.Key).
				WithDetails(map[string]any{"job_id": got.String()})
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return 0, fmt.Errorf("enqueue %s: %w", s.Kind, err)
		}
	}
	return 0, fmt.Errorf("enqueue %s: the key %q kept changing hands", s.Kind, s.Key)
}

// Cancel deletes the queued or failed job of kind with key, inside tx
// when it is not nil. It reports false when there is none, or when it is
// running: a running job cannot be called back. A failed job can: its
// owner must be able to withdraw what it asked for (a scheduled deletion
// whose erasure kept failing) rather than be told it is under way for
// ever.
func (q *Queue) Cancel(ctx context.Context, tx *sql.Tx, kind, key string) (bool, error) {
	if key == "" {
		return false, plaza.Invalid("key", "must not be empty")
	}
	var db sqldb.Queryer = q.db.Write()
	if tx != nil {
		db = tx
	}
	res, err := db.ExecContext(ctx, `DELETE FROM jobs WHERE kind = $1 AND dedupe_key = $2 AND status IN ('queued', 'failed')`, kind, key)
	if err != nil {
		return false, fmt.Errorf("cancel %s job: %w", kind, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("cancel %s job: %w", kind, err)
	}
	return n > 0, nil
}

// jobColumns are the columns scanJob reads, in order.
const jobColumns = `id, kind, dedupe_key, payload, state, attempts, status, run_after, created_at, last_error`

func scanJob(row interface{ Scan(...any) error }, extra ...any) (Job, error) {
	var j Job
	var payload string
	var status string
	var runAfter, created int64
	dest := append([]any{&j.ID, &j.Kind, &j.Key, &payload, &j.State, &j.Attempt, &status, &runAfter, &created, &j.LastError}, extra...)
	if err := row.Scan(dest...); err != nil {
		return Job{}, err
	}
	if payload != "" {
		j.Payload = []byte(payload)
	}
	j.Status = Status(status)
	j.RunAfter = time.UnixMicro(runAfter).UTC()
	j.CreatedAt = time.UnixMicro(created).UTC()
	return j, nil
}

// Get returns the job with id; a finished job's row is gone, so it
// answers not_found.
func (q *Queue) Get(ctx context.Context, id plaza.ID) (Job, error) {
	j, err := scanJob(q.db.Read().QueryRowContext(ctx, `SELECT `+jobColumns+` FROM jobs WHERE id = $1`, id))
	if err != nil {
		return Job{}, sqldb.MapError(err, "job")
	}
	return j, nil
}

// Wake makes the queue look for due jobs now rather than at its next
// poll, e.g. after a transaction that enqueued one has committed.
func (q *Queue) Wake() {
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

// Package export writes a person's data out of Plaza: everything they
// have, as JSON files with a documented schema, their own media files and
// static HTML pages that show it all offline, in one ZIP. A background job
// (package jobs) writes the ZIP, streaming it straight into the media
// store, so neither the request that asks for it nor the node that writes
// it holds more than a page of data at a time; it survives restarts by
// starting over. The ZIP may be downloaded by whoever asked for it until
// it expires, after which a periodic job deletes it.
//
// An export of an account is normally asked for by the account itself;
// the legacy contact of a memorialised account may ask for one on its
// behalf (Request's subject and requester differ then).
package export

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"sync"
	"time"

	"github.com/plaza-im/plaza"
	"github.com/plaza-im/plaza/internal/account"
	"github.com/plaza-im/plaza/internal/blob"
	"github.com/plaza-im/plaza/internal/channel"
	"github.com/plaza-im/plaza/internal/chat"
	"github.com/plaza-im/plaza/internal/identity"
	"github.com/plaza-im/plaza/internal/jobs"
	"github.com/plaza-im/plaza/internal/media"
	"github.com/plaza-im/plaza/internal/microblog"
	"github.com/plaza-im/plaza/internal/moderation"
	"github.com/plaza-im/plaza/internal/sqldb"
)

// Statuses of an export. A ready export becomes expired once its ZIP is
// deleted.
const (
	Pending = "pending"
	Running = "running"
	Ready   = "ready"
	Failed  = "failed"
	Expired = "expired"
)

// The job kinds this package runs.
const (
	jobKind    = "export"
	expireKind = "export.expire"
)

// Export is one export as its requester sees it.
type Export struct {
	ID plaza.ID
	// AccountID is whose data it holds; RequesterID who asked and may
	// download it (the same account, or its legacy contact).
	AccountID, RequesterID plaza.ID
	Status                 string
	// Progress runs from 0 to 1.
	Progress float64
	// Size is the ZIP's size in bytes, once ready.
	Size int64
	// Error says why a failed export failed, in words for its requester.
	Error      string
	CreatedAt  time.Time
	FinishedAt time.Time // zero until ready or failed
	ExpiresAt  time.Time // zero until ready
}

// Config tunes the service.
type Config struct {
	// Expiry is how long a ready export may be downloaded.
	Expiry time.Duration
	// ExpireEvery is how often expired exports' ZIPs are deleted.
	ExpireEvery time.Duration
	// ProgressEvery is the least time between two saves of an export's
	// progress.
	ProgressEvery time.Duration
	// PerDay bounds the exports of one account in 24 hours: each may hold
	// all of its media, kept for Expiry.
	PerDay int
	// PageSize is how many rows one read fetches.
	PageSize int
	// PageDelay is slept after each page read. It exists for tests that
	// must catch an export while it runs; the server sets it only in
	// builds made for tests.
	PageDelay time.Duration
}

// DefaultConfig returns the defaults: exports kept 7 days, expired ones
// deleted hourly, progress saved at most once a second, 5 exports a day,
// pages of 500 rows.
func DefaultConfig() Config {
	return Config{Expiry: 7 * 24 * time.Hour, ExpireEvery: time.Hour, ProgressEvery: time.Second, PerDay: 5, PageSize: 500}
}

// Services are the domains an export reads.
type Services struct {
	Accounts   *account.Service
	Identity   *identity.Service
	Chat       *chat.Service
	Media      *media.Service
	Channels   *channel.Service
	Microblog  *microblog.Service
	Moderation *moderation.Service
}

// Section writes one part of an export for subject through w. Sections
// other packages add (AddSection) run after the built-in ones.
type Section func(ctx context.Context, subject plaza.ID, w *Writer) error

// Service runs exports.
type Service struct {
	db    *sqldb.DB
	store blob.Store
	jobs  *jobs.Queue
	d     Services
	cfg   Config
	log   *slog.Logger
	now   func() time.Time

	mu       sync.Mutex
	sections []namedSection
}

type namedSection struct {
	name string
	fn   Section
}

// NewService returns the service and registers its jobs on q: "export",
// which writes one export, and the periodic "export.expire", which deletes
// the ZIPs of expired exports. Zero fields of cfg take DefaultConfig's
// values.
func NewService(db *sqldb.DB, store blob.Store, q *jobs.Queue, d Services, cfg Config, log *slog.Logger) *Service {
	def := DefaultConfig()
	if cfg.Expiry <= 0 {
		cfg.Expiry = def.Expiry
	}
	if cfg.ExpireEvery <= 0 {
		cfg.ExpireEvery = def.ExpireEvery
	}
	if cfg.ProgressEvery <= 0 {
		cfg.ProgressEvery = def.ProgressEvery
	}
	if cfg.PerDay <= 0 {
		cfg.PerDay = def.PerDay
	}
	if cfg.PageSize <= 0 {
		cfg.PageSize = def.PageSize
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Service{db: db, store: store, jobs: q, d: d, cfg: cfg, log: log,
		now: func() time.Time { return time.Now().UTC().Truncate(time.Microsecond) }}
	q.Handle(jobKind, s.runJob)
	q.Every(expireKind, cfg.ExpireEvery, s.expireJob)
	return s
}

// sectionName is what AddSection accepts: it names the section's files.
var sectionName = regexp.MustCompile(`^[a-z][a-z0-9_]{0,39}$`)

// AddSection adds a section to every export, after the built-in ones.
// name (lower-case letters, digits and '_') names the section in the
// index; its files must not clash with another section's. Call it while
// wiring, before exports run.
func (s *Service) AddSection(name string, fn Section) {
	if !sectionName.MatchString(name) {
		panic("export: bad section name " + name)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, sec := range s.sections {
		if sec.name == name {
			panic("export: two sections named " + name)
		}
	}
	s.sections = append(s.sections, namedSection{name, fn})
}

// jobPayload is the export job's payload.
type jobPayload struct {
	ExportID plaza.ID `json:"export_id"`
}

// maxAttempts is how many runs an export gets: a run that fails on the
// store or the database is retried; one that keeps failing is reported.
const maxAttempts = 3

// Request starts an export of subject's data that requester may download,
// and returns it pending. The caller has checked that requester may:
// subject itself, or the legacy contact of a memorialised subject. While
// another export of subject is pending or running, Request answers
// conflict with details.export_id naming it.
func (s *Service) Request(ctx context.Context, subject, requester plaza.ID) (Export, error) {
	now := s.now()
	e := Export{ID: plaza.NewID(), AccountID: subject, RequesterID: requester, Status: Pending, CreatedAt: now}
	err := s.db.InTx(ctx, func(tx *sql.Tx) error {
		if err := s.checkRequest(ctx, tx, subject, now); err != nil {
			return err
		}
		payload := fmt.Appendf(nil, `{"export_id":"%d"}`, e.ID)
		jobID, err := s.jobs.Enqueue(ctx, tx, jobs.Spec{Kind: jobKind, Key: e.ID.String(), Payload: payload, MaxAttempts: maxAttempts})
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO exports (account_id, id, requester_id, status, job_id, progress_ppm, size, blob_key, error, created_at)
			VALUES ($1, $2, $3, $4, $5, 0, 0, '', '', $6)`, subject, e.ID, requester, Pending, jobID, now.UnixMicro())
		if sqldb.IsUniqueViolation(err) {
			// Another request for subject committed first.
			return plaza.Errorf(plaza.EConflict, "an export of this account is already being written")
		}
		return err
	})
	if err != nil {
		if plaza.ErrorCode(err) == plaza.EConflict {
			return Export{}, s.conflict(ctx, subject)
		}
		return Export{}, fmt.Errorf("request export: %w", err)
	}
	s.jobs.Wake()
	return e, nil
}

// checkRequest refuses a request while an export of subject is under way
// or the day's exports are used up.
func (s *Service) checkRequest(ctx context.Context, tx *sql.Tx, subject plaza.ID, now time.Time) error {
	var open, oldest sql.NullInt64
	var recent int
	since := now.Add(-24 * time.Hour).UnixMicro()
	err := tx.QueryRowContext(ctx, `SELECT
		(SELECT id FROM exports WHERE account_id = $1 AND status IN ('pending', 'running') LIMIT 1),
		(SELECT COUNT(*) FROM exports WHERE account_id = $1 AND created_at > $2),
		(SELECT MIN(created_at) FROM exports WHERE account_id = $1 AND created_at > $2)`, subject, since).Scan(&open, &recent, &oldest)
	if err != nil {
		return err
	}
	if open.Valid {
		return conflictError(plaza.ID(open.Int64))
	}
	if recent >= s.cfg.PerDay {
		wait := time.UnixMicro(oldest.Int64).Add(24 * time.Hour).Sub(now)
		return plaza.Errorf(plaza.ERateLimited, "at most %d exports of an account a day; try again later", s.cfg.PerDay).
			WithDetails(map[string]any{"limit": "exports", "retry_after_seconds": max(int(wait.Seconds()), 1)})
	}
	return nil
}

func conflictError(id plaza.ID) error {
	return plaza.Errorf(plaza.EConflict, "an export of this account is already being written").
		WithDetails(map[string]any{"export_id": id.String()})
}

// conflict returns the conflict error naming subject's export under way,
// looked up after the transaction that found it has ended.
func (s *Service) conflict(ctx context.Context, subject plaza.ID) error {
	var id plaza.ID
	err := s.db.Read().QueryRowContext(ctx, `SELECT id FROM exports WHERE account_id = $1 AND status IN ('pending', 'running')`, subject).Scan(&id)
	if err != nil {
		return plaza.Errorf(plaza.EConflict, "an export of this account is already being written; try again")
	}
	return conflictError(id)
}

const exportColumns = `id, account_id, requester_id, status, progress_ppm, size, error, created_at, finished_at, expires_at`

func scanExport(row interface{ Scan(...any) error }) (Export, error) {
	var e Export
	var ppm, created int64
	var finished, expires sql.NullInt64
	if err := row.Scan(&e.ID, &e.AccountID, &e.RequesterID, &e.Status, &ppm, &e.Size, &e.Error, &created, &finished, &expires); err != nil {
		return Export{}, err
	}
	e.Progress = float64(ppm) / 1e6
	e.CreatedAt = time.UnixMicro(created).UTC()
	if finished.Valid {
		e.FinishedAt = time.UnixMicro(finished.Int64).UTC()
	}
	if expires.Valid {
		e.ExpiresAt = time.UnixMicro(expires.Int64).UTC()
	}
	return e, nil
}

// Get returns the export id if requester asked for it; anyone else's is
// not found. A ready export past its expiry shows as expired.
func (s *Service) Get(ctx context.Context, requester, id plaza.ID) (Export, error) {
	e, err := scanExport(s.db.Read().QueryRowContext(ctx, `SELECT `+exportColumns+` FROM exports WHERE id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) || err == nil && e.RequesterID != requester {
		return Export{}, plaza.Errorf(plaza.ENotFound, "export not found")
	}
	if err != nil {
		return Export{}, fmt.Errorf("get export: %w", err)
	}
	return s.shown(e), nil
}

// shown marks a ready export whose time is up as expired before the
// periodic job gets to it.
func (s *Service) shown(e Export) Export {
	if e.Status == Ready && !e.ExpiresAt.After(s.now()) {
		e.Status = Expired
	}
	return e
}

// listMax bounds List: a day allows PerDay exports, kept a week.
const listMax = 50

// List returns the exports requester asked for, newest first (at most 50).
func (s *Service) List(ctx context.Context, requester plaza.ID) ([]Export, error) {
	rows, err := s.db.Read().QueryContext(ctx, `SELECT `+exportColumns+` FROM exports WHERE requester_id = $1 ORDER BY id DESC LIMIT $2`, requester, listMax)
	if err != nil {
		return nil, fmt.Errorf("list exports: %w", err)
	}
	defer rows.Close()
	out := []Export{}
	for rows.Next() {
		e, err := scanExport(rows)
		if err != nil {
			return nil, fmt.Errorf("list exports: %w", err)
		}
		out = append(out, s.shown(e))
	}
	return out, rows.Err()
}

// Open returns the ZIP of the export id for its requester to download:
// not_found for anyone else, conflict while it is being written, gone
// once it has expired (or failed). The caller closes the Object.
func (s *Service) Open(ctx context.Context, requester, id plaza.ID) (blob.Object, Export, error) {
	e, err := s.Get(ctx, requester, id)
	if err != nil {
		return nil, Export{}, err
	}
	switch e.Status {
	case Ready:
	case Pending, Running:
		return nil, Export{}, plaza.Errorf(plaza.EConflict, "the export is not ready yet")
	case Expired:
		return nil, Export{}, plaza.Errorf(plaza.EGone, "this export has expired; ask for a new one")
	default:
		return nil, Export{}, plaza.Errorf(plaza.EGone, "this export failed; ask for a new one")
	}
	var key string
	if err := s.db.Read().QueryRowContext(ctx, `SELECT blob_key FROM exports WHERE id = $1`, id).Scan(&key); err != nil {
		return nil, Export{}, fmt.Errorf("open export: %w", err)
	}
	obj, err := s.store.Open(ctx, key)
	if errors.Is(err, blob.ErrNotFound) {
		// Expired (and deleted) since Get read it.
		return nil, Export{}, plaza.Errorf(plaza.EGone, "this export has expired; ask for a new one")
	}
	if err != nil {
		return nil, Export{}, fmt.Errorf("open export %s: %w", id, err)
	}
	return obj, e, nil
}

// DeleteAccountData is the account-deletion hook (account.OnDelete): in
// the deleting transaction, exports of the account, and those it asked for
// as someone's legacy contact, stop. One under way fails (its job notices
// at its next progress save and deletes what it wrote); a ready one
// expires now, and the periodic job deletes its ZIP (EraseAccount does at
// once).
func (s *Service) DeleteAccountData(ctx context.Context, tx *sql.Tx, id plaza.ID) error {
	now := s.now().UnixMicro()
	for _, col := range []string{"account_id", "requester_id"} {
		rows, err := tx.QueryContext(ctx, `SELECT id FROM exports WHERE `+col+` = $1 AND status = 'pending'`, id)
		if err != nil {
			return fmt.Errorf("delete exports: %w", err)
		}
		var pending []plaza.ID
		for rows.Next() {
			var e plaza.ID
			if err := rows.Scan(&e); err != nil {
				rows.Close()
				return fmt.Errorf("delete exports: %w", err)
			}
			pending = append(pending, e)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("delete exports: %w", err)
		}
		for _, e := range pending {
			if _, err := s.jobs.Cancel(ctx, tx, jobKind, e.String()); err != nil {
				return fmt.Errorf("delete exports: %w", err)
			}
		}
		if _, err := tx.ExecContext(ctx, `UPDATE exports SET status = 'failed', error = $1, finished_at = $2
			WHERE `+col+` = $3 AND status IN ('pending', 'running')`, errAccountDeleted, now, id); err != nil {
			return fmt.Errorf("delete exports: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE exports SET expires_at = $1 WHERE `+col+` = $2 AND status = 'ready'`, now, id); err != nil {
			return fmt.Errorf("delete exports: %w", err)
		}
	}
	return nil
}

// errAccountDeleted is the error of an export its account's deletion
// stopped.
const errAccountDeleted = "the account was deleted"

// EraseAccount deletes the ZIPs of the account's exports that
// DeleteAccountData ended, at once rather than at the next periodic
// sweep. It is idempotent, for a hook that runs after the deletion
// commits.
func (s *Service) EraseAccount(ctx context.Context, id plaza.ID) error {
	return s.sweep(ctx, id)
}

package identity_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/plaza-im/plaza"
	"github.com/plaza-im/plaza/internal/account"
	"github.com/plaza-im/plaza/internal/audit"
	"github.com/plaza-im/plaza/internal/identity"
	"github.com/plaza-im/plaza/internal/plazatest"
	"github.com/plaza-im/plaza/internal/sms"
	"github.com/plaza-im/plaza/internal/sqldb"
)

// validCNID is a valid Chinese resident identity card number (the GB
// 11643-1999 example, check digit X).
const validCNID = "11010519491231002X"

// t0 is the pinned "now" of the clocked tests.
var t0 = time.Date(2026, 3, 15, 12, 0, 0, 0, time.UTC)

// clock is a settable time source for identity.SetClock.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// sender is an sms.Sender that records what it sends, and fails instead
// while fail is set.
type sender struct {
	mu   sync.Mutex
	msgs []sms.Message
	fail error
}

func (s *sender) Send(_ context.Context, m sms.Message) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fail != nil {
		return s.fail
	}
	s.msgs = append(s.msgs, m)
	return nil
}

// failWith makes every later Send return err (nil: succeed again).
func (s *sender) failWith(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fail = err
}

func (s *sender) sent() []sms.Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.msgs)
}

// lastCode returns the code of the last message sent to phone.
func (s *sender) lastCode(tb testing.TB, phone string) string {
	tb.Helper()
	msgs := s.sent()
	for i := len(msgs) - 1; i >= 0; i-- {
		if msgs[i].To == phone {
			return msgs[i].Code
		}
	}
	tb.Fatalf("no code was sent to %s (sent: %+v)", phone, msgs)
	return ""
}

// fixture is one test's identity service and what it runs on.
type fixture struct {
	db       *sqldb.DB
	accounts *account.Service
	keyPath  string
	keys     *identity.Keyring
	sms      *sender
	clock    *clock
	cfg      identity.Config
	svc      *identity.Service

	mu     sync.Mutex
	phones int
}

// newFixture returns a service on db with a fresh key, a recording SMS
// sender and a clock pinned at t0; edit may change the config first.
func newFixture(tb testing.TB, db *sqldb.DB, edit func(*identity.Config)) *fixture {
	tb.Helper()
	acfg := account.DefaultConfig()
	acfg.Password = account.PasswordParams{MemoryKiB: 64, Time: 1, Threads: 1}
	accounts := account.NewService(db, acfg)
	if err := accounts.SeedTerms(context.Background()); err != nil {
		tb.Fatalf("seed terms: %v", err)
	}
	keyPath := filepath.Join(tb.TempDir(), "secret.key")
	keys, _, err := identity.LoadKeyring(keyPath, true)
	if err != nil {
		tb.Fatalf("load keyring: %v", err)
	}
	cfg := identity.DefaultConfig()
	if edit != nil {
		edit(&cfg)
	}
	f := &fixture{db: db, accounts: accounts, keyPath: keyPath, keys: keys, sms: &sender{}, clock: &clock{now: t0}, cfg: cfg}
	f.svc = f.service(keys)
	return f
}

// service returns another service sharing the fixture's database, config,
// sender and clock, sealing with keys.
func (f *fixture) service(keys *identity.Keyring) *identity.Service {
	svc := identity.NewService(f.db, keys, f.sms, f.cfg)
	identity.SetClock(svc, f.clock.Now)
	return svc
}

// register opens an account for handle.
func (f *fixture) register(tb testing.TB, handle string) plaza.ID {
	tb.Helper()
	a, _, err := f.accounts.Register(context.Background(), account.Registration{
		Handle: handle, Password: "correct horse battery staple", DisplayName: "Person " + handle,
		BirthDate: "1990-01-01", AcceptedTermsVersion: 1,
	})
	if err != nil {
		tb.Fatalf("register %q: %v", handle, err)
	}
	return a.ID
}

// newPhone returns a valid mainland China mobile number no other call
// returned, in E.164 form.
func (f *fixture) newPhone() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.phones++
	return fmt.Sprintf("+86139%08d", 10000000+f.phones)
}

// verifyPhone confirms phone for id with the code the sender received.
func (f *fixture) verifyPhone(tb testing.TB, id plaza.ID, phone string) {
	tb.Helper()
	ctx := context.Background()
	if _, err := f.svc.StartPhone(ctx, id, phone); err != nil {
		tb.Fatalf("start phone %s: %v", phone, err)
	}
	if err := f.svc.VerifyPhone(ctx, id, f.sms.lastCode(tb, phone)); err != nil {
		tb.Fatalf("verify phone %s: %v", phone, err)
	}
}

// verified opens an account for handle with a verified phone.
func (f *fixture) verified(tb testing.TB, handle string) plaza.ID {
	tb.Helper()
	id := f.register(tb, handle)
	f.verifyPhone(tb, id, f.newPhone())
	return id
}

// submit records sub for id and fails the test if it is refused.
func (f *fixture) submit(tb testing.TB, id plaza.ID, sub identity.Submission) identity.Identity {
	tb.Helper()
	got, err := f.svc.Submit(context.Background(), id, sub)
	if err != nil {
		tb.Fatalf("submit identity: %v", err)
	}
	return got
}

// submission returns a valid Chinese national ID submission for name.
func submission(name string) identity.Submission {
	return identity.Submission{LegalName: name, DocumentType: identity.NationalID, DocumentNumber: validCNID, DocumentCountry: "CN"}
}

// compliance is the reviewer the tests look through.
var compliance = audit.Actor{ID: 42, Name: "carol (compliance)"}

// reviews lists the identities with status through the review queue.
func (f *fixture) reviews(tb testing.TB, svc *identity.Service, status string) []identity.Review {
	tb.Helper()
	got, err := svc.Reviews(context.Background(), compliance, status, 0, 100)
	if err != nil {
		tb.Fatalf("reviews %s: %v", status, err)
	}
	return got
}

// wantLevel fails the test unless err is verification_required for level.
func wantLevel(tb testing.TB, err error, level string) {
	tb.Helper()
	wantCode(tb, err, plaza.EVerificationRequired)
	if got := plaza.AsError(err).Details["level"]; got != level {
		tb.Fatalf("got details level %v, want %q (error: %v)", got, level, err)
	}
}

// auditEntries returns the whole audit log, oldest first, after checking
// that its chain verifies.
func auditEntries(tb testing.TB, db *sqldb.DB) []audit.Entry {
	tb.Helper()
	ctx := context.Background()
	log := audit.New(db)
	rep, err := log.Verify(ctx)
	if err != nil {
		tb.Fatalf("verify audit log: %v", err)
	}
	if !rep.OK {
		tb.Fatalf("verify audit log: got %+v, want OK", rep)
	}
	entries, err := log.List(ctx, 0, 10000)
	if err != nil {
		tb.Fatalf("list audit log: %v", err)
	}
	slices.Reverse(entries)
	if int64(len(entries)) != rep.Rows {
		tb.Fatalf("got %d listed audit entries, want %d (rows verified)", len(entries), rep.Rows)
	}
	return entries
}

// withAction returns the entries whose action is action.
func withAction(entries []audit.Entry, action string) []audit.Entry {
	var out []audit.Entry
	for _, e := range entries {
		if e.Action == action {
			out = append(out, e)
		}
	}
	return out
}

// countRows returns SELECT COUNT(*) for a query's FROM/WHERE tail.
func countRows(tb testing.TB, db *sqldb.DB, tail string, args ...any) int {
	tb.Helper()
	var n int
	if err := db.Read().QueryRowContext(context.Background(), `SELECT COUNT(*) FROM `+tail, args...).Scan(&n); err != nil {
		tb.Fatalf("count %s: %v", tail, err)
	}
	return n
}

// exec runs a statement on the writer, for tests that reach past the
// service to alter a row.
func exec(tb testing.TB, db *sqldb.DB, query string, args ...any) {
	tb.Helper()
	if _, err := db.Write().ExecContext(context.Background(), query, args...); err != nil {
		tb.Fatalf("%s: %v", query, err)
	}
}

// wantNoLeak fails the test if err's text contains any of secrets.
func wantNoLeak(tb testing.TB, err error, secrets ...string) {
	tb.Helper()
	if err == nil {
		return
	}
	for _, s := range secrets {
		if s != "" && strings.Contains(err.Error(), s) {
			tb.Errorf("error %q repeats %q", err, s)
		}
	}
}

// readFile returns a file's bytes, failing the test if it cannot.
func readFile(tb testing.TB, path string) []byte {
	tb.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		tb.Fatalf("read %s: %v", path, err)
	}
	return b
}

// The assertions the test suites share live in plazatest.
var (
	wantCode    = plazatest.WantCode
	wantInvalid = plazatest.WantInvalid
)

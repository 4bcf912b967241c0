package account_test

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/plaza-im/plaza/internal/account"
	"github.com/plaza-im/plaza/internal/audit"
	"github.com/plaza-im/plaza/internal/plazatest"
	"github.com/plaza-im/plaza/internal/sqldb"
)

// cheapPassword keeps Argon2id fast under -race; password_test.go covers
// the default parameters.
var cheapPassword = account.PasswordParams{MemoryKiB: 64, Time: 1, Threads: 1}

// testPassword is the password register gives every account.
const testPassword = "correct horse battery staple"

// clock is a settable time source for account.SetClock.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func newClock(t time.Time) *clock { return &clock{now: t.UTC()} }

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

// Set moves the clock to t.
func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t.UTC()
}

// newService returns a Service on db with cheap password hashing and the
// default terms seeded, so registration accepts version 1.
func newService(tb testing.TB, db *sqldb.DB) *account.Service {
	tb.Helper()
	return newServiceWith(tb, db, nil)
}

// newServiceWith is newService with a chance to change the config first.
func newServiceWith(tb testing.TB, db *sqldb.DB, edit func(*account.Config)) *account.Service {
	tb.Helper()
	cfg := account.DefaultConfig()
	cfg.Password = cheapPassword
	if edit != nil {
		edit(&cfg)
	}
	svc := account.NewService(db, cfg)
	if err := svc.SeedTerms(context.Background()); err != nil {
		tb.Fatalf("seed terms: %v", err)
	}
	return svc
}

// newClockedService is newService on a clock pinned at start.
func newClockedService(tb testing.TB, db *sqldb.DB, start time.Time, edit func(*account.Config)) (*account.Service, *clock) {
	tb.Helper()
	c := newClock(start)
	cfg := account.DefaultConfig()
	cfg.Password = cheapPassword
	if edit != nil {
		edit(&cfg)
	}
	svc := account.NewService(db, cfg)
	account.SetClock(svc, c.Now)
	if err := svc.SeedTerms(context.Background()); err != nil {
		tb.Fatalf("seed terms: %v", err)
	}
	return svc, c
}

// registration returns a valid registration for handle that accepts the
// current terms.
func registration(tb testing.TB, svc *account.Service, handle string) account.Registration {
	tb.Helper()
	terms, err := svc.CurrentTerms(context.Background())
	if err != nil {
		tb.Fatalf("current terms: %v", err)
	}
	return account.Registration{
		Handle:               handle,
		Password:             testPassword,
		DisplayName:          "Person " + handle,
		BirthDate:            "1990-05-17",
		AcceptedTermsVersion: terms.Version,
		UserAgent:            "test/1.0",
	}
}

// register opens an account for handle and returns it with its token.
func register(tb testing.TB, svc *account.Service, handle string) (account.Account, string) {
	tb.Helper()
	a, tok, err := svc.Register(context.Background(), registration(tb, svc, handle))
	if err != nil {
		tb.Fatalf("register %q: %v", handle, err)
	}
	return a, tok
}

// login signs handle in with testPassword and returns the token.
func login(tb testing.TB, svc *account.Service, handle, userAgent string) string {
	tb.Helper()
	_, tok, err := svc.Login(context.Background(), handle, testPassword, userAgent)
	if err != nil {
		tb.Fatalf("login %q: %v", handle, err)
	}
	return tok
}

// authenticate resolves tok and fails the test if it does not.
func authenticate(tb testing.TB, svc *account.Service, tok string) account.Auth {
	tb.Helper()
	auth, err := svc.Authenticate(context.Background(), tok)
	if err != nil {
		tb.Fatalf("authenticate: got %v, want success", err)
	}
	return auth
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
	entries, err := log.List(ctx, 0, 1000)
	if err != nil {
		tb.Fatalf("list audit log: %v", err)
	}
	slices.Reverse(entries)
	if int64(len(entries)) != rep.Rows {
		tb.Fatalf("got %d listed audit entries, want %d (rows verified)", len(entries), rep.Rows)
	}
	return entries
}

// actions returns the action of each entry.
func actions(entries []audit.Entry) []string {
	out := make([]string, len(entries))
	for i, e := range entries {
		out[i] = e.Action
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
// service to age a row.
func exec(tb testing.TB, db *sqldb.DB, query string, args ...any) {
	tb.Helper()
	if _, err := db.Write().ExecContext(context.Background(), query, args...); err != nil {
		tb.Fatalf("%s: %v", query, err)
	}
}

// tables lists every table of the database, sorted.
func tables(tb testing.TB, db *sqldb.DB) []string {
	tb.Helper()
	q := `SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'`
	if db.Engine == sqldb.Postgres {
		q = `SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'`
	}
	rows, err := db.Read().QueryContext(context.Background(), q)
	if err != nil {
		tb.Fatalf("list tables: %v", err)
	}
	defer rows.Close()
	var names []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			tb.Fatalf("list tables: %v", err)
		}
		names = append(names, n)
	}
	if err := rows.Err(); err != nil {
		tb.Fatalf("list tables: %v", err)
	}
	sort.Strings(names)
	return names
}

// dbSnapshot is every row of every table, each row rendered as text and
// each table's rows sorted, so two snapshots compare equal exactly when no
// row was added, removed or changed.
type dbSnapshot map[string][]string

func snapshot(tb testing.TB, db *sqldb.DB) dbSnapshot {
	tb.Helper()
	snap := dbSnapshot{}
	for _, table := range tables(tb, db) {
		rows, err := db.Read().QueryContext(context.Background(), `SELECT * FROM "`+table+`"`)
		if err != nil {
			tb.Fatalf("read %s: %v", table, err)
		}
		cols, err := rows.Columns()
		if err != nil {
			tb.Fatalf("read %s: %v", table, err)
		}
		lines := []string{}
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				tb.Fatalf("read %s: %v", table, err)
			}
			line := ""
			for i, v := range vals {
				if b, ok := v.([]byte); ok {
					v = fmt.Sprintf("%x", b)
				}
				line += fmt.Sprintf("%s=%v ", cols[i], v)
			}
			lines = append(lines, line)
		}
		if err := rows.Err(); err != nil {
			tb.Fatalf("read %s: %v", table, err)
		}
		rows.Close()
		sort.Strings(lines)
		snap[table] = lines
	}
	return snap
}

// counts returns the number of rows per table.
func (s dbSnapshot) counts() map[string]int {
	out := map[string]int{}
	for t, rows := range s {
		out[t] = len(rows)
	}
	return out
}

// The assertions the test suites share live in plazatest.
var (
	wantCode    = plazatest.WantCode
	wantInvalid = plazatest.WantInvalid
)

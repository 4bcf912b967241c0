package account_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/plaza-im/plaza"
	"github.com/plaza-im/plaza/internal/account"
	"github.com/plaza-im/plaza/internal/audit"
	"github.com/plaza-im/plaza/internal/sqldb"
	"github.com/plaza-im/plaza/internal/sqldb/sqldbtest"
)

// march15 is the pinned "now" of the date-sensitive tests.
var march15 = time.Date(2026, 3, 15, 12, 0, 0, 0, time.UTC)

func TestRegister(t *testing.T) {
	t.Parallel()
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		svc, _ := newClockedService(t, db, march15, nil)
		r := registration(t, svc, "  Alice_1 ")
		r.DisplayName = "  Alice Liddell  "
		a, tok, err := svc.Register(ctx, r)
		if err != nil {
			t.Fatalf("register: %v", err)
		}
		if !strings.HasPrefix(tok, "plz_") {
			t.Errorf("got token %q, want prefix %q", tok, "plz_")
		}
		want := account.Account{
			ID: a.ID, Handle: "alice_1", DisplayName: "Alice Liddell", BirthDate: "1990-05-17",
			Status: account.Active, Roles: []account.Role{}, CreatedAt: march15, Language: account.English,
		}
		if a.ID == 0 {
			t.Errorf("got ID 0, want a new ID")
		}
		if diff := cmp.Diff(want, a); diff != "" {
			t.Errorf("registered account (-want +got):\n%s", diff)
		}
		got, err := svc.Get(ctx, a.ID)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("stored account (-want +got):\n%s", diff)
		}

		auth := authenticate(t, svc, tok)
		if auth.Account.ID != a.ID || auth.NeedsConsent() {
			t.Errorf("authenticate: got account %d, needs consent %v; want %d, false", auth.Account.ID, auth.NeedsConsent(), a.ID)
		}
		consents, err := svc.Consents(ctx, a.ID)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff([]account.Consent{{Version: 1, AcceptedAt: march15}}, consents); diff != "" {
			t.Errorf("consents (-want +got):\n%s", diff)
		}
		sessions, err := svc.Sessions(ctx, a.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(sessions) != 1 || sessions[0].UserAgent != "test/1.0" || sessions[0].ID != auth.SessionID {
			t.Errorf("got sessions %+v, want one with user agent test/1.0 and ID %d", sessions, auth.SessionID)
		}

		// Only hashes are stored: neither the password nor the token
		// appears in the database.
		snap := snapshot(t, db)
		for table, rows := range snap {
			for _, row := range rows {
				if strings.Contains(row, testPassword) || strings.Contains(row, strings.TrimPrefix(tok, "plz_")) {
					t.Errorf("table %s holds a secret in plain text: %s", table, row)
				}
			}
		}
	})
}

// TestRegisterReturnsStoredAccount checks that the account Register returns
// is the one later reads return, on the real clock (whose nanoseconds the
// database cannot keep).
func TestRegisterReturnsStoredAccount(t *testing.T) {
	t.Parallel()
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		svc := newService(t, db)
		a, _ := register(t, svc, "alice")
		got, err := svc.Get(context.Background(), a.ID)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(a, got); diff != "" {
			t.Errorf("Register's account and Get's differ (-register +get):\n%s", diff)
		}
	})
}

func TestRegisterHandleIsUniqueRegardlessOfCase(t *testing.T) {
	t.Parallel()
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		svc := newService(t, db)
		register(t, svc, "alice")
		for _, h := range []string{"alice", "ALICE", " Alice "} {
			t.Run(h, func(t *testing.T) {
				_, _, err := svc.Register(ctx, registration(t, svc, h))
				wantCode(t, err, plaza.EConflict)
				if got := plaza.AsError(err).Details["field"]; got != "handle" {
					t.Errorf("got details field %v, want handle", got)
				}
			})
		}
		if n := countRows(t, db, `accounts`); n != 1 {
			t.Errorf("got %d accounts, want 1", n)
		}
	})
}

// TestRegisterRace lets several people claim one handle at once: the unique
// index decides, exactly one wins and the others get a conflict.
func TestRegisterRace(t *testing.T) {
	t.Parallel()
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		svc := newService(t, db)
		const n = 6
		r := registration(t, svc, "popular")
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				_, _, errs[i] = svc.Register(ctx, r)
			})
		}
		wg.Wait()
		wins := 0
		for _, err := range errs {
			switch plaza.ErrorCode(err) {
			case "":
				wins++
			case plaza.EConflict:
			default:
				t.Errorf("got error %v, want success or %s", err, plaza.EConflict)
			}
		}
		if wins != 1 {
			t.Errorf("got %d successful registrations, want 1", wins)
		}
		if got := countRows(t, db, `accounts`); got != 1 {
			t.Errorf("got %d accounts, want 1", got)
		}
		if got := countRows(t, db, `sessions`); got != 1 {
			t.Errorf("got %d sessions, want 1", got)
		}
	})
}

func TestRegisterValidation(t *testing.T) {
	t.Parallel()
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		svc, _ := newClockedService(t, db, march15, nil)
		tests := []struct {
			name   string
			edit   func(*account.Registration)
			fields []string // nil: valid
		}{
			{"handle too short", func(r *account.Registration) { r.Handle = "ab" }, []string{"handle"}},
			{"handle empty", func(r *account.Registration) { r.Handle = "" }, []string{"handle"}},
			{"handle too long", func(r *account.Registration) { r.Handle = strings.Repeat("a", 31) }, []string{"handle"}},
			{"handle with dash", func(r *account.Registration) { r.Handle = "al-ice" }, []string{"handle"}},
			{"handle with space", func(r *account.Registration) { r.Handle = "al ice" }, []string{"handle"}},
			{"handle with dot", func(r *account.Registration) { r.Handle = "al.ice" }, []string{"handle"}},
			{"handle not ASCII", func(r *account.Registration) { r.Handle = "ålice" }, []string{"handle"}},
			{"password 7 characters", func(r *account.Registration) { r.Password = "1234567" }, []string{"password"}},
			{"password 257 characters", func(r *account.Registration) { r.Password = strings.Repeat("p", 257) }, []string{"password"}},
			{"display name empty", func(r *account.Registration) { r.DisplayName = "" }, []string{"display_name"}},
			{"display name whitespace", func(r *account.Registration) { r.DisplayName = " \t " }, []string{"display_name"}},
			{"display name 65 characters", func(r *account.Registration) { r.DisplayName = strings.Repeat("n", 65) }, []string{"display_name"}},
			{"display name control character", func(r *account.Registration) { r.DisplayName = "Bob\x07" }, []string{"display_name"}},
			{"display name bidi override", func(r *account.Registration) { r.DisplayName = "Bob\u202Eevil" }, []string{"display_name"}},
			{"birth date malformed", func(r *account.Registration) { r.BirthDate = "17/05/1990" }, []string{"birth_date"}},
			{"birth date without zeros", func(r *account.Registration) { r.BirthDate = "1990-5-17" }, []string{"birth_date"}},
			{"birth date not a day", func(r *account.Registration) { r.BirthDate = "1990-02-30" }, []string{"birth_date"}},
			{"birth date missing", func(r *account.Registration) { r.BirthDate = "" }, []string{"birth_date"}},
			{"birth date tomorrow", func(r *account.Registration) { r.BirthDate = "2026-03-16" }, []string{"birth_date"}},
			{"birth date before 1900", func(r *account.Registration) { r.BirthDate = "1899-12-31" }, []string{"birth_date"}},
			{"every field at once", func(r *account.Registration) {
				r.Handle, r.Password, r.DisplayName, r.BirthDate = "x", "short", "", "soon"
			}, []string{"handle", "password", "display_name", "birth_date"}},

			{"handle 3 characters", func(r *account.Registration) { r.Handle = "abc" }, nil},
			{"handle 30 characters", func(r *account.Registration) { r.Handle = strings.Repeat("b", 30) }, nil},
			{"handle digits and underscore", func(r *account.Registration) { r.Handle = "a_1_2" }, nil},
			{"password 8 characters", func(r *account.Registration) { r.Handle, r.Password = "pw8", "12345678" }, nil},
			{"password 256 characters", func(r *account.Registration) { r.Handle, r.Password = "pw256", strings.Repeat("p", 256) }, nil},
			{"password 8 multibyte characters", func(r *account.Registration) { r.Handle, r.Password = "pwcjk", "密码密码密码密码" }, nil},
			{"display name 64 characters", func(r *account.Registration) { r.Handle, r.DisplayName = "dn64", strings.Repeat("é", 64) }, nil},
			{"display name emoji with ZWJ", func(r *account.Registration) { r.Handle, r.DisplayName = "dnzwj", "👩\u200d💻" }, nil},
		}
		for i, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				r := registration(t, svc, fmt.Sprintf("user%d", i))
				tt.edit(&r)
				before := countRows(t, db, `accounts`)
				_, tok, err := svc.Register(ctx, r)
				if tt.fields == nil {
					if err != nil {
						t.Fatalf("got %v, want success", err)
					}
					authenticate(t, svc, tok)
					if _, _, err := svc.Login(ctx, r.Handle, r.Password, ""); err != nil {
						t.Errorf("login with the new password: got %v, want success", err)
					}
					return
				}
				wantInvalid(t, err, tt.fields...)
				if after := countRows(t, db, `accounts`); after != before {
					t.Errorf("got %d accounts after a refused registration, want %d", after, before)
				}
			})
		}
	})
}

func TestRegisterRequiresCurrentTerms(t *testing.T) {
	t.Parallel()
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		svc := newService(t, db)
		check := func(t *testing.T, accepted, current int64) {
			t.Helper()
			r := registration(t, svc, "newcomer")
			r.AcceptedTermsVersion = accepted
			_, _, err := svc.Register(ctx, r)
			wantCode(t, err, plaza.ETermsAcceptanceRequired)
			if got := plaza.AsError(err).Details["version"]; got != current {
				t.Errorf("got details version %v (%T), want %d", got, got, current)
			}
			if n := countRows(t, db, `accounts`); n != 0 {
				t.Errorf("got %d accounts, want 0", n)
			}
		}
		t.Run("missing", func(t *testing.T) { check(t, 0, 1) })
		t.Run("not yet published", func(t *testing.T) { check(t, 2, 1) })
		if _, err := svc.PublishTerms(ctx, audit.CLI, "Terms v2", "New rules.", false); err != nil {
			t.Fatal(err)
		}
		t.Run("outdated", func(t *testing.T) { check(t, 1, 2) })
		t.Run("current", func(t *testing.T) {
			r := registration(t, svc, "newcomer")
			r.AcceptedTermsVersion = 2
			a, _, err := svc.Register(ctx, r)
			if err != nil {
				t.Fatalf("got %v, want success", err)
			}
			consents, err := svc.Consents(ctx, a.ID)
			if err != nil {
				t.Fatal(err)
			}
			if len(consents) != 1 || consents[0].Version != 2 {
				t.Errorf("got consents %+v, want only version 2", consents)
			}
		})
	})
}

// TestAgeGate checks the minimum age at its boundary, and that a refused
// registration leaves no trace in any table.
func TestAgeGate(t *testing.T) {
	t.Parallel()
	east := time.FixedZone("UTC+8", 8*3600)
	west := time.FixedZone("UTC-8", -8*3600)
	tests := []struct {
		name  string
		now   time.Time
		loc   *time.Location
		birth string
		ok    bool
	}{
		{"turns 14 tomorrow", march15, time.UTC, "2012-03-16", false},
		{"turns 13 today", march15, time.UTC, "2013-03-15", false},
		{"born today", march15, time.UTC, "2026-03-15", false},
		{"turns 14 today", march15, time.UTC, "2012-03-15", true},
		{"turned 14 yesterday", march15, time.UTC, "2012-03-14", true},
		{"born 29 February, on 28 February", time.Date(2026, 2, 28, 12, 0, 0, 0, time.UTC), time.UTC, "2012-02-29", false},
		{"born 29 February, on 1 March", time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC), time.UTC, "2012-02-29", true},
		// The age is counted in the operator's time zone.
		{"14 in UTC+8 while still 13 in UTC", time.Date(2026, 3, 14, 20, 0, 0, 0, time.UTC), east, "2012-03-15", true},
		{"13 in UTC-8 while already 14 in UTC", time.Date(2026, 3, 15, 5, 0, 0, 0, time.UTC), west, "2012-03-15", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
				ctx := context.Background()
				svc, _ := newClockedService(t, db, tt.now, func(c *account.Config) { c.MinAge, c.Location = 14, tt.loc })
				register(t, svc, "existing") // so the tables are not all empty
				before := snapshot(t, db)
				for _, table := range []string{"accounts", "sessions", "consents", "account_roles", "terms", "audit_head"} {
					if _, ok := before[table]; !ok {
						t.Fatalf("got tables %v, want %s among them", tables(t, db), table)
					}
				}

				r := registration(t, svc, "youngster")
				r.BirthDate = tt.birth
				_, _, err := svc.Register(ctx, r)
				after := snapshot(t, db)
				if tt.ok {
					if err != nil {
						t.Fatalf("got %v, want success", err)
					}
					if got, want := after.counts()["accounts"], before.counts()["accounts"]+1; got != want {
						t.Errorf("got %d accounts, want %d", got, want)
					}
					return
				}
				wantCode(t, err, plaza.EAgeRequirement)
				if got := plaza.AsError(err).Details["minimum_age"]; got != 14 {
					t.Errorf("got details minimum_age %v, want 14", got)
				}
				if diff := cmp.Diff(before.counts(), after.counts()); diff != "" {
					t.Errorf("row counts changed after a refused registration (-before +after):\n%s", diff)
				}
				if diff := cmp.Diff(before, after); diff != "" {
					t.Errorf("rows changed after a refused registration (-before +after):\n%s", diff)
				}
			})
		})
	}
}

// TestRegisterBirthDateInOperatorZone checks that "in the future" means
// after today's date where the operator is, as the age does.
func TestRegisterBirthDateInOperatorZone(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		now   time.Time
		loc   *time.Location
		birth string
		code  string
	}{
		// 04:00 on 15 March in UTC+8: a baby born today is too young, but
		// the date is not in the future.
		{"today in UTC+8", time.Date(2026, 3, 14, 20, 0, 0, 0, time.UTC), time.FixedZone("UTC+8", 8*3600), "2026-03-15", plaza.EAgeRequirement},
		// 21:00 on 14 March in UTC-8: 15 March is tomorrow.
		{"tomorrow in UTC-8", time.Date(2026, 3, 15, 5, 0, 0, 0, time.UTC), time.FixedZone("UTC-8", -8*3600), "2026-03-15", plaza.EInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
				svc, _ := newClockedService(t, db, tt.now, func(c *account.Config) { c.Location = tt.loc })
				r := registration(t, svc, "baby")
				r.BirthDate = tt.birth
				_, _, err := svc.Register(context.Background(), r)
				wantCode(t, err, tt.code)
			})
		})
	}
}

func TestGetByHandle(t *testing.T) {
	t.Parallel()
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		svc := newService(t, db)
		a, _ := register(t, svc, "alice")
		for _, h := range []string{"alice", "ALICE", " Alice "} {
			got, err := svc.GetByHandle(ctx, h)
			if err != nil || got.ID != a.ID {
				t.Errorf("GetByHandle(%q): got %d, %v; want %d", h, got.ID, err, a.ID)
			}
		}
		_, err := svc.GetByHandle(ctx, "nobody")
		wantCode(t, err, plaza.ENotFound)
		_, err = svc.Get(ctx, a.ID+12345)
		wantCode(t, err, plaza.ENotFound)
	})
}

func TestProfile(t *testing.T) {
	t.Parallel()
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		svc := newService(t, db)
		a, _ := register(t, svc, "alice")
		p, err := svc.Profile(ctx, a.ID)
		if err != nil {
			t.Fatal(err)
		}
		want := account.Profile{ID: a.ID, Handle: "alice", DisplayName: "Person alice", Status: account.Active}
		if p != want {
			t.Errorf("got profile %+v, want %+v", p, want)
		}
		_, err = svc.Profile(ctx, a.ID+12345)
		wantCode(t, err, plaza.ENotFound)
	})
}

func TestSetDisplayName(t *testing.T) {
	t.Parallel()
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		svc := newService(t, db)
		a, _ := register(t, svc, "alice")

		got, err := svc.SetDisplayName(ctx, a.ID, "  Alice in Wonderland \n")
		if err != nil {
			t.Fatal(err)
		}
		if got.DisplayName != "Alice in Wonderland" {
			t.Errorf("got display name %q, want %q", got.DisplayName, "Alice in Wonderland")
		}
		if p, err := svc.Profile(ctx, a.ID); err != nil || p.DisplayName != "Alice in Wonderland" {
			t.Errorf("profile: got %q, %v; want %q", p.DisplayName, err, "Alice in Wonderland")
		}

		for name, bad := range map[string]string{
			"empty":         "",
			"whitespace":    "   ",
			"65 characters": strings.Repeat("x", 65),
			"control":       "Al\x1bice",
			"bidi override": "\u202Eecila",
		} {
			t.Run(name, func(t *testing.T) {
				_, err := svc.SetDisplayName(ctx, a.ID, bad)
				wantInvalid(t, err, "display_name")
				if p, _ := svc.Profile(ctx, a.ID); p.DisplayName != "Alice in Wonderland" {
					t.Errorf("got display name %q after a refused change, want %q", p.DisplayName, "Alice in Wonderland")
				}
			})
		}

		_, err = svc.SetDisplayName(ctx, a.ID+12345, "Ghost")
		wantCode(t, err, plaza.ENotFound)
	})
}

func TestErase(t *testing.T) {
	t.Parallel()
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		svc := newService(t, db)
		a, tok := register(t, svc, "alice")
		tok2 := login(t, svc, "alice", "phone")
		bob, bobTok := register(t, svc, "bob")
		if err := svc.GrantRole(ctx, audit.CLI, a.ID, account.Moderator); err != nil {
			t.Fatal(err)
		}

		if err := svc.Erase(ctx, a.ID); err != nil {
			t.Fatalf("erase: %v", err)
		}
		for _, tk := range []string{tok, tok2} {
			_, err := svc.Authenticate(ctx, tk)
			wantCode(t, err, plaza.EUnauthenticated)
		}
		if s, err := svc.Sessions(ctx, a.ID); err != nil || len(s) != 0 {
			t.Errorf("sessions: got %d, %v; want none", len(s), err)
		}
		_, err := svc.Profile(ctx, a.ID)
		wantCode(t, err, plaza.EGone)

		got, err := svc.Get(ctx, a.ID)
		if err != nil {
			t.Fatal(err)
		}
		want := account.Account{ID: a.ID, Handle: "alice", Status: account.Deleted, Roles: []account.Role{}, CreatedAt: a.CreatedAt.Truncate(time.Microsecond),
			Language: account.English}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("deleted account keeps only its ID and handle (-want +got):\n%s", diff)
		}
		if n := countRows(t, db, `accounts WHERE id = $1 AND password_hash = ''`, a.ID); n != 1 {
			t.Errorf("got %d scrubbed password hashes, want 1", n)
		}

		for _, h := range []string{"alice", "ALICE"} {
			_, _, err = svc.Register(ctx, registration(t, svc, h))
			wantCode(t, err, plaza.EConflict)
		}
		_, _, errDeleted := svc.Login(ctx, "alice", testPassword, "")
		_, _, errUnknown := svc.Login(ctx, "nobody", testPassword, "")
		wantCode(t, errDeleted, plaza.EUnauthenticated)
		if errDeleted.Error() != errUnknown.Error() {
			t.Errorf("got %q for a deleted account, want the same as for an unknown handle: %q", errDeleted, errUnknown)
		}
		err = svc.GrantRole(ctx, audit.CLI, a.ID, account.Admin)
		wantCode(t, err, plaza.ENotFound)

		// Bob is untouched.
		if auth := authenticate(t, svc, bobTok); auth.Account.ID != bob.ID {
			t.Errorf("got account %d for bob's token, want %d", auth.Account.ID, bob.ID)
		}
	})
}

// TestEraseTwice erases an account that is already erased, as a job run
// again after a crash does: nothing changes and no second audit row is
// written. An ID that never was an account is not found.
func TestEraseTwice(t *testing.T) {
	t.Parallel()
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		svc := newService(t, db)
		a, _ := register(t, svc, "alice")
		if err := svc.Erase(ctx, a.ID); err != nil {
			t.Fatal(err)
		}
		before := snapshot(t, db)
		if err := svc.Erase(ctx, a.ID); err != nil {
			t.Fatalf("erase again: got %v, want nil", err)
		}
		if diff := cmp.Diff(before, snapshot(t, db)); diff != "" {
			t.Errorf("erasing again changed the database (-before +after):\n%s", diff)
		}
		if got := actions(auditEntries(t, db)); !slices.Equal(got, []string{"account.delete"}) {
			t.Errorf("got audit actions %v, want one account.delete", got)
		}
		err := svc.Erase(ctx, a.ID+12345)
		wantCode(t, err, plaza.ENotFound)
	})
}

// TestDeletedAccountStaysScrubbed checks that a deleted account keeps only
// its ID and handle: no later write puts personal details back on it.
func TestDeletedAccountStaysScrubbed(t *testing.T) {
	t.Parallel()
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		svc := newService(t, db)
		a, _ := register(t, svc, "alice")
		if err := svc.Erase(ctx, a.ID); err != nil {
			t.Fatal(err)
		}
		_, err := svc.SetDisplayName(ctx, a.ID, "Alice Again")
		wantCode(t, err, plaza.ENotFound)
		if got, _ := svc.Get(ctx, a.ID); got.DisplayName != "" {
			t.Errorf("got display name %q on a deleted account, want \"\"", got.DisplayName)
		}
	})
}

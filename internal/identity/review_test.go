package identity_test

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/plaza-im/plaza"
	"github.com/plaza-im/plaza/internal/account"
	"github.com/plaza-im/plaza/internal/audit"
	"github.com/plaza-im/plaza/internal/identity"
	"github.com/plaza-im/plaza/internal/sqldb"
	"github.com/plaza-im/plaza/internal/sqldb/sqldbtest"
)

func identityStatus(tb testing.TB, svc *identity.Service, id plaza.ID) identity.Status {
	tb.Helper()
	st, err := svc.Status(context.Background(), id)
	if err != nil {
		tb.Fatalf("status: %v", err)
	}
	return st
}

func TestSubmitNeedsAVerifiedPhone(t *testing.T) {
	t.Parallel()
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		f := newFixture(t, db, nil)
		id := f.register(t, "alice")
		_, err := f.svc.Submit(ctx, id, submission("Zhang San"))
		wantLevel(t, err, "phone")
		if n := countRows(t, db, `identities`); n != 0 {
			t.Errorf("got %d identities, want 0", n)
		}
		// Even an invalid submission hears about the phone first.
		_, err = f.svc.Submit(ctx, id, identity.Submission{})
		wantLevel(t, err, "phone")
	})
}

func TestSubmit(t *testing.T) {
	t.Parallel()
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		f := newFixture(t, db, nil)
		id := f.verified(t, "alice")
		if st := identityStatus(t, f.svc, id); st.Identity != identity.StatusNone {
			t.Errorf("got identity status %q before submitting, want none", st.Identity)
		}
		_, err := f.svc.Latest(ctx, id)
		wantCode(t, err, plaza.ENotFound)

		got, err := f.svc.Submit(ctx, id, identity.Submission{
			LegalName: "  Zhang San ", DocumentType: identity.NationalID,
			DocumentNumber: "110105 19491231 002x", DocumentCountry: " cn ",
		})
		if err != nil {
			t.Fatalf("submit: %v", err)
		}
		want := identity.Identity{ID: got.ID, AccountID: id, Status: identity.StatusPending, DocumentType: identity.NationalID, DocumentCountry: "CN", SubmittedAt: t0}
		if got.ID == 0 || got != want {
			t.Errorf("got %+v, want %+v with a new ID", got, want)
		}
		if latest, err := f.svc.Latest(ctx, id); err != nil || latest != want {
			t.Errorf("Latest() = %+v, %v; want %+v", latest, err, want)
		}
		if st := identityStatus(t, f.svc, id); st != (identity.Status{Phone: true, Identity: identity.StatusPending}) {
			t.Errorf("got status %+v, want phone and a pending identity", st)
		}
		// Trimmed and normalized before sealing.
		revs := f.reviews(t, f.svc, identity.StatusPending)
		if len(revs) != 1 || revs[0].LegalName != "Zhang San" || revs[0].DocumentNumber != validCNID {
			t.Errorf("got reviews %+v, want one for %q with number %s", revs, "Zhang San", validCNID)
		}

		// Passports of any country pass the general rule.
		other := f.verified(t, "bob")
		f.submit(t, other, identity.Submission{LegalName: "Jean Dupont", DocumentType: identity.Passport, DocumentNumber: "12ab34567", DocumentCountry: "FR"})
	})
}

func TestSubmitValidation(t *testing.T) {
	t.Parallel()
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		f := newFixture(t, db, nil)
		id := f.verified(t, "alice")
		tests := []struct {
			name   string
			sub    identity.Submission
			fields []string
		}{
			{"everything wrong", identity.Submission{LegalName: "", DocumentType: "driving_licence", DocumentCountry: "China", DocumentNumber: "QX9!"},
				[]string{"legal_name", "document_type", "document_country", "document_number"}},
			{"bad check digit", identity.Submission{LegalName: "Wang Wuqiang", DocumentType: identity.NationalID, DocumentCountry: "CN", DocumentNumber: "110105194912310021"},
				[]string{"document_number"}},
			{"impossible birth date", identity.Submission{LegalName: "Wang Wuqiang", DocumentType: identity.NationalID, DocumentCountry: "CN", DocumentNumber: "110105194913310027"},
				[]string{"document_number"}},
			{"passport number in a national ID", identity.Submission{LegalName: "Wang Wuqiang", DocumentType: identity.NationalID, DocumentCountry: "CN", DocumentNumber: "E99887766"},
				[]string{"document_number"}},
			{"name with a control character", identity.Submission{LegalName: "Wang\x07Wuqiang", DocumentType: identity.NationalID, DocumentCountry: "CN", DocumentNumber: validCNID},
				[]string{"legal_name"}},
			{"name too long", identity.Submission{LegalName: strings.Repeat("Wuqiang", 19), DocumentType: identity.Passport, DocumentCountry: "GB", DocumentNumber: "Q99887766"},
				[]string{"legal_name"}},
			{"unknown document type", identity.Submission{LegalName: "Wang Wuqiang", DocumentType: "National_ID", DocumentCountry: "CN", DocumentNumber: validCNID},
				[]string{"document_type"}},
			{"three-letter country", identity.Submission{LegalName: "Wang Wuqiang", DocumentType: identity.Passport, DocumentCountry: "CHN", DocumentNumber: "E99887766"},
				[]string{"document_country"}},
			{"passport with punctuation", identity.Submission{LegalName: "Wang Wuqiang", DocumentType: identity.Passport, DocumentCountry: "CN", DocumentNumber: "E998.87766"},
				[]string{"document_number"}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				_, err := f.svc.Submit(ctx, id, tt.sub)
				wantInvalid(t, err, tt.fields...)
				// Messages go back to clients and into logs: they never
				// repeat the name or the number.
				wantNoLeak(t, err, "Wang", "Wuqiang", tt.sub.DocumentNumber, strings.ToUpper(tt.sub.DocumentNumber))
				if b, jerr := json.Marshal(plaza.AsError(err)); jerr != nil || strings.Contains(string(b), "Wuqiang") || strings.Contains(string(b), "99887766") {
					t.Errorf("error details %s (%v) repeat the name or number", b, jerr)
				}
			})
		}
		if n := countRows(t, db, `identities`); n != 0 {
			t.Errorf("got %d identities after refused submissions, want 0", n)
		}
	})
}

func TestSubmitOnceAtATime(t *testing.T) {
	t.Parallel()
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		f := newFixture(t, db, nil)
		id := f.verified(t, "alice")
		first := f.submit(t, id, submission("Zhang San"))

		_, err := f.svc.Submit(ctx, id, submission("Zhang San"))
		wantCode(t, err, plaza.EConflict)
		if !strings.Contains(err.Error(), "already waiting for review") {
			t.Errorf("got %q, want it to say one is waiting", err)
		}

		if _, err := f.svc.Decide(ctx, compliance, first.ID, false, "the photo is blurred"); err != nil {
			t.Fatal(err)
		}
		if st := identityStatus(t, f.svc, id); st.Identity != identity.StatusRejected || st.Reason != "the photo is blurred" {
			t.Errorf("got status %+v, want rejected with the reviewer's reason", st)
		}
		f.clock.Advance(time.Second)
		second := f.submit(t, id, submission("Zhang San"))
		if st := identityStatus(t, f.svc, id); st.Identity != identity.StatusPending || st.Reason != "" {
			t.Errorf("after resubmitting: got status %+v, want pending without a reason", st)
		}
		if latest, err := f.svc.Latest(ctx, id); err != nil || latest.ID != second.ID {
			t.Errorf("Latest() = %+v, %v; want the second submission %d", latest, err, second.ID)
		}

		if _, err := f.svc.Decide(ctx, compliance, second.ID, true, ""); err != nil {
			t.Fatal(err)
		}
		_, err = f.svc.Submit(ctx, id, submission("Zhang San"))
		wantCode(t, err, plaza.EConflict)
		if !strings.Contains(err.Error(), "already verified") {
			t.Errorf("got %q, want it to say the identity is verified", err)
		}
		if n := countRows(t, db, `identities WHERE account_id = $1`, id); n != 2 {
			t.Errorf("got %d identities, want 2", n)
		}
	})
}

func TestReviews(t *testing.T) {
	t.Parallel()
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		f := newFixture(t, db, nil)
		alice, bob := f.verified(t, "alice"), f.verified(t, "bob")
		a := f.submit(t, alice, submission("Zhang San"))
		f.clock.Advance(time.Second)
		b := f.submit(t, bob, identity.Submission{LegalName: "李四", DocumentType: identity.Passport, DocumentNumber: "E99887766", DocumentCountry: "CN"})

		before := len(auditEntries(t, db))
		got := f.reviews(t, f.svc, identity.StatusPending)
		want := []identity.Review{
			{Identity: a, LegalName: "Zhang San", DocumentNumber: validCNID},
			{Identity: b, LegalName: "李四", DocumentNumber: "E99887766"},
		}
		if len(got) != len(want) {
			t.Fatalf("got %d reviews, want %d: %+v", len(got), len(want), got)
		}
		for i := range want {
			if got[i] != want[i] {
				t.Errorf("review %d: got %+v, want %+v", i, got[i], want[i])
			}
		}

		// Every identity shown is one identity.read row, naming it.
		entries := auditEntries(t, db)[before:]
		if len(entries) != 2 {
			t.Fatalf("got %d audit rows for 2 reviews shown, want 2: %+v", len(entries), entries)
		}
		for i, e := range entries {
			r := got[i]
			if e.Action != "identity.read" || e.ActorID != compliance.ID || e.Actor != compliance.Name ||
				e.TargetType != "account" || e.TargetID != r.AccountID.String() || e.Details["identity_id"] != r.ID.String() {
				t.Errorf("audit row %d: got %+v, want identity.read by %v of account %d naming identity %d", i, e, compliance, r.AccountID, r.ID)
			}
		}

		// Paging: after the first, one at a time.
		page, err := f.svc.Reviews(ctx, compliance, identity.StatusPending, a.ID, 1)
		if err != nil {
			t.Fatal(err)
		}
		if len(page) != 1 || page[0].ID != b.ID {
			t.Errorf("page after %d: got %+v, want only %d", a.ID, page, b.ID)
		}
		if n := len(withAction(auditEntries(t, db), "identity.read")); n != 3 {
			t.Errorf("got %d identity.read rows after showing 3 items, want 3", n)
		}

		// An empty page records nothing.
		empty, err := f.svc.Reviews(ctx, compliance, identity.StatusVerified, 0, 50)
		if err != nil || len(empty) != 0 {
			t.Errorf("verified reviews: got %+v, %v; want none", empty, err)
		}
		if n := len(withAction(auditEntries(t, db), "identity.read")); n != 3 {
			t.Errorf("got %d identity.read rows after an empty page, want 3", n)
		}

		// Decided identities list under their status, with the decision.
		f.clock.Advance(time.Minute)
		if _, err := f.svc.Decide(ctx, compliance, a.ID, false, "name does not match the photo"); err != nil {
			t.Fatal(err)
		}
		rejected := f.reviews(t, f.svc, identity.StatusRejected)
		if len(rejected) != 1 {
			t.Fatalf("got %d rejected reviews, want 1", len(rejected))
		}
		r := rejected[0]
		if r.ID != a.ID || r.Status != identity.StatusRejected || r.DecidedBy != compliance.Name || !r.DecidedAt.Equal(f.clock.Now()) ||
			r.Reason != "name does not match the photo" || r.LegalName != "Zhang San" {
			t.Errorf("got rejected review %+v, want identity %d rejected by %q at %v with the reason", r, a.ID, compliance.Name, f.clock.Now())
		}
	})
}

func TestReviewsBadStatus(t *testing.T) {
	t.Parallel()
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		f := newFixture(t, db, nil)
		f.submit(t, f.verified(t, "alice"), submission("Zhang San"))
		for _, status := range []string{"", "all", "Pending", "none", "pending "} {
			got, err := f.svc.Reviews(context.Background(), compliance, status, 0, 50)
			wantInvalid(t, err, "status")
			if got != nil {
				t.Errorf("Reviews(%q) returned %+v with its error", status, got)
			}
		}
		if n := len(withAction(auditEntries(t, db), "identity.read")); n != 0 {
			t.Errorf("got %d identity.read rows, want 0", n)
		}
	})
}

func TestDecide(t *testing.T) {
	t.Parallel()
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		f := newFixture(t, db, nil)
		alice, bob := f.verified(t, "alice"), f.verified(t, "bob")
		a := f.submit(t, alice, submission("Zhang Sanfeng"))
		b := f.submit(t, bob, identity.Submission{LegalName: "Li Sihai", DocumentType: identity.Passport, DocumentNumber: "E99887766", DocumentCountry: "CN"})
		f.clock.Advance(time.Hour)

		// Approve.
		got, err := f.svc.Decide(ctx, compliance, a.ID, true, " matches the document ")
		if err != nil {
			t.Fatalf("approve: %v", err)
		}
		want := a
		want.Status, want.DecidedAt, want.Reason = identity.StatusVerified, f.clock.Now(), "matches the document"
		if got != want {
			t.Errorf("approve: got %+v, want %+v", got, want)
		}
		if st := identityStatus(t, f.svc, alice); st.Identity != identity.StatusVerified || st.Level() != identity.LevelIdentity {
			t.Errorf("got status %+v, want identity verified", st)
		}
		approvals := withAction(auditEntries(t, db), "identity.approve")
		if len(approvals) != 1 {
			t.Fatalf("got %d identity.approve rows, want 1", len(approvals))
		}
		e := approvals[0]
		if e.ActorID != compliance.ID || e.Actor != compliance.Name || e.TargetType != "account" || e.TargetID != alice.String() ||
			e.Reason != "matches the document" || e.Details["identity_id"] != a.ID.String() ||
			e.Details["document_type"] != identity.NationalID || e.Details["document_country"] != "CN" {
			t.Errorf("got approval row %+v, want it by %v on account %d naming identity %d", e, compliance, alice, a.ID)
		}

		// A rejection must say why.
		for _, reason := range []string{"", "  \t "} {
			_, err := f.svc.Decide(ctx, compliance, b.ID, false, reason)
			wantInvalid(t, err, "reason")
		}
		_, err = f.svc.Decide(ctx, compliance, b.ID, false, strings.Repeat("r", 1001))
		wantInvalid(t, err, "reason")
		_, err = f.svc.Decide(ctx, compliance, b.ID, true, strings.Repeat("r", 1001))
		wantInvalid(t, err, "reason")
		if st := identityStatus(t, f.svc, bob); st.Identity != identity.StatusPending {
			t.Errorf("after refused decisions: got status %q, want pending", st.Identity)
		}

		got, err = f.svc.Decide(ctx, compliance, b.ID, false, strings.Repeat("照", 1000))
		if err != nil {
			t.Fatalf("reject with a 1000-character reason: %v", err)
		}
		if got.Status != identity.StatusRejected {
			t.Errorf("got status %q, want rejected", got.Status)
		}
		if st := identityStatus(t, f.svc, bob); st.Identity != identity.StatusRejected || st.Reason != strings.Repeat("照", 1000) {
			t.Errorf("got status %q with reason %q, want rejected with the reviewer's reason", st.Identity, st.Reason)
		}
		if n := len(withAction(auditEntries(t, db), "identity.reject")); n != 1 {
			t.Errorf("got %d identity.reject rows, want 1", n)
		}

		// Decided once only.
		for _, tt := range []struct {
			id      plaza.ID
			approve bool
		}{{a.ID, true}, {a.ID, false}, {b.ID, true}, {b.ID, false}} {
			_, err := f.svc.Decide(ctx, compliance, tt.id, tt.approve, "second thoughts")
			wantCode(t, err, plaza.EConflict)
		}
		if st := identityStatus(t, f.svc, alice); st.Identity != identity.StatusVerified {
			t.Errorf("after a second decision: got %q, want still verified", st.Identity)
		}

		_, err = f.svc.Decide(ctx, compliance, plaza.NewID(), true, "")
		wantCode(t, err, plaza.ENotFound)

		// Decisions never carry the legal identity into the log.
		for _, e := range auditEntries(t, db) {
			b, _ := json.Marshal(e)
			for _, secret := range []string{"Zhang Sanfeng", "Sanfeng", "Li Sihai", "Sihai", validCNID, "E99887766"} {
				if strings.Contains(string(b), secret) {
					t.Errorf("audit row %s contains %q", b, secret)
				}
			}
		}
	})
}

func TestDecideByProvider(t *testing.T) {
	t.Parallel()
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		f := newFixture(t, db, nil)
		id := f.verified(t, "alice")
		idn := f.submit(t, id, submission("Zhang San"))
		provider := audit.Actor{Name: "provider:acme"}
		if _, err := f.svc.Decide(context.Background(), provider, idn.ID, true, ""); err != nil {
			t.Fatal(err)
		}
		revs := f.reviews(t, f.svc, identity.StatusVerified)
		if len(revs) != 1 || revs[0].DecidedBy != "provider:acme" {
			t.Errorf("got %+v, want one decided by provider:acme", revs)
		}
		e := withAction(auditEntries(t, db), "identity.approve")
		if len(e) != 1 || e[0].ActorID != 0 || e[0].Actor != "provider:acme" {
			t.Errorf("got approval rows %+v, want one by provider:acme", e)
		}
	})
}

// Canaries for TestLegalIdentityAtRest: if either appears anywhere at rest,
// the legal identity was stored in clear.
const (
	canaryName   = "CANARYLEGALNAME-Zhang"
	canaryNumber = validCNID
)

// TestLegalIdentityAtRest is the acceptance test for sealed legal
// identities: after a full submit, review and decide cycle, neither the
// legal name nor the document number appears in the database files
// (SQLite: the file and its write-ahead log, byte for byte; PostgreSQL:
// every row of every table, as text) nor in the audit log.
func TestLegalIdentityAtRest(t *testing.T) {
	t.Parallel()
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		f := newFixture(t, db, nil)
		id := f.verified(t, "alice")
		idn := f.submit(t, id, identity.Submission{LegalName: canaryName, DocumentType: identity.NationalID, DocumentNumber: canaryNumber, DocumentCountry: "CN"})
		revs := f.reviews(t, f.svc, identity.StatusPending)
		if len(revs) != 1 || revs[0].LegalName != canaryName || revs[0].DocumentNumber != canaryNumber {
			t.Fatalf("got reviews %+v, want the canary opened", revs)
		}
		if _, err := f.svc.Decide(ctx, compliance, idn.ID, true, "ok"); err != nil {
			t.Fatal(err)
		}
		f.reviews(t, f.svc, identity.StatusVerified)

		canaries := [][]byte{
			[]byte(canaryName), []byte(strings.ToLower(canaryName)), []byte("CANARYLEGALNAME"),
			[]byte(canaryNumber), []byte(strings.ToLower(canaryNumber)), []byte("11010519491231002"),
		}
		// In hex too, as PostgreSQL renders bytea and a careless column
		// might store it.
		for _, c := range slices.Clone(canaries) {
			canaries = append(canaries, []byte(hex.EncodeToString(c)))
		}

		switch db.Engine {
		case sqldb.SQLite:
			path := strings.TrimPrefix(db.URL(), "sqlite:")
			var all []byte
			for _, p := range []string{path, path + "-wal"} {
				b := readFile(t, p)
				all = append(all, b...)
				for _, c := range canaries {
					if bytes.Contains(b, c) {
						t.Errorf("%s contains %q", p, c)
					}
				}
			}
			// The files read are the right ones: the display name, stored
			// in clear, is there.
			if !bytes.Contains(all, []byte("Person alice")) {
				t.Fatalf("neither %s nor its -wal contains the display name: not the database's files?", path)
			}
		case sqldb.Postgres:
			tables := listTables(t, db)
			if len(tables) < 5 {
				t.Fatalf("got tables %q, want the whole schema", tables)
			}
			seen := false
			for _, table := range tables {
				for _, row := range rowsAsText(t, db, table) {
					seen = seen || strings.Contains(row, "Person alice")
					for _, c := range canaries {
						if strings.Contains(strings.ToLower(row), strings.ToLower(string(c))) {
							t.Errorf("table %s holds %q: %s", table, c, row)
						}
					}
				}
			}
			if !seen {
				t.Fatalf("no row contains the display name: the scan missed the accounts table")
			}
		}

		entries := auditEntries(t, db)
		if len(entries) < 3 {
			t.Fatalf("got %d audit rows, want the reads and the approval", len(entries))
		}
		for _, e := range entries {
			b, _ := json.Marshal(e)
			for _, c := range canaries {
				if strings.Contains(string(b), string(c)) {
					t.Errorf("audit row %s contains %q", b, c)
				}
			}
		}
	})
}

// listTables returns the PostgreSQL database's tables in schema public.
func listTables(tb testing.TB, db *sqldb.DB) []string {
	tb.Helper()
	rows, err := db.Read().QueryContext(context.Background(),
		`SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY table_name`)
	if err != nil {
		tb.Fatalf("list tables: %v", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			tb.Fatalf("list tables: %v", err)
		}
		out = append(out, n)
	}
	if err := rows.Err(); err != nil {
		tb.Fatalf("list tables: %v", err)
	}
	return out
}

// rowsAsText returns every row of a PostgreSQL table as its text form.
func rowsAsText(tb testing.TB, db *sqldb.DB, table string) []string {
	tb.Helper()
	rows, err := db.Read().QueryContext(context.Background(), `SELECT t::text FROM "`+table+`" t`)
	if err != nil {
		tb.Fatalf("read %s: %v", table, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			tb.Fatalf("read %s: %v", table, err)
		}
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		tb.Fatalf("read %s: %v", table, err)
	}
	return out
}

// sealedColumns returns an identity's stored legal_name and
// document_number.
func sealedColumns(tb testing.TB, db *sqldb.DB, id plaza.ID) (name, number []byte) {
	tb.Helper()
	err := db.Read().QueryRowContext(context.Background(), `SELECT legal_name, document_number FROM identities WHERE id = $1`, id).Scan(&name, &number)
	if err != nil {
		tb.Fatalf("read identity %d: %v", id, err)
	}
	return name, number
}

// rowAAD is the associated data review.go binds a sealed field to; the
// tests check it by opening a field with its own row's value first.
func rowAAD(id plaza.ID, field string) []byte {
	return []byte("plaza/identity/" + id.String() + "/" + field)
}

func TestTamperedIdentitiesDoNotOpen(t *testing.T) {
	t.Parallel()
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		f := newFixture(t, db, nil)
		a := f.submit(t, f.verified(t, "alice"), submission("Zhang San"))
		b := f.submit(t, f.verified(t, "bob"), identity.Submission{LegalName: "Li Si", DocumentType: identity.Passport, DocumentNumber: "E99887766", DocumentCountry: "CN"})
		c := f.submit(t, f.verified(t, "carol"), submission("Wang Wu"))

		nameA, _ := sealedColumns(t, db, a.ID)
		nameB, _ := sealedColumns(t, db, b.ID)
		// The associated data is what the test thinks it is.
		if pt, err := f.keys.Open(nameA, rowAAD(a.ID, "legal_name")); err != nil || string(pt) != "Zhang San" {
			t.Fatalf("open a's name in place: got %q, %v; want Zhang San", pt, err)
		}

		// Swap two rows' names.
		exec(t, db, `UPDATE identities SET legal_name = $1 WHERE id = $2`, nameB, a.ID)
		exec(t, db, `UPDATE identities SET legal_name = $1 WHERE id = $2`, nameA, b.ID)

		before := len(withAction(auditEntries(t, db), "identity.read"))
		revs := f.reviews(t, f.svc, identity.StatusPending)
		if len(revs) != 3 {
			t.Fatalf("got %d reviews, want 3 (tampered rows still listed)", len(revs))
		}
		for _, r := range revs[:2] {
			if r.OpenError != identity.ErrDecrypt.Error() || r.LegalName != "" || r.DocumentNumber != "" {
				t.Errorf("tampered review %d: got open error %q, name %q, number %q; want %q and nothing opened",
					r.ID, r.OpenError, r.LegalName, r.DocumentNumber, identity.ErrDecrypt)
			}
			if r.DocumentType == "" || r.AccountID == 0 || r.Status != identity.StatusPending {
				t.Errorf("tampered review %+v lost its other fields", r)
			}
		}
		if !strings.Contains(revs[0].OpenError, "altered") || !strings.Contains(revs[0].OpenError, "another row") {
			t.Errorf("open error %q does not say what may have happened", revs[0].OpenError)
		}
		if r := revs[2]; r.ID != c.ID || r.OpenError != "" || r.LegalName != "Wang Wu" {
			t.Errorf("untouched review: got %+v, want %d opened", r, c.ID)
		}
		// Looking is recorded even when nothing opens.
		if n := len(withAction(auditEntries(t, db), "identity.read")) - before; n != 3 {
			t.Errorf("got %d identity.read rows for 3 items, want 3", n)
		}

		// The keyring itself refuses the moved ciphertext.
		_, err := f.keys.Open(nameA, rowAAD(b.ID, "legal_name"))
		if err == nil || !errors.Is(err, identity.ErrDecrypt) {
			t.Errorf("open a's name as b's: got %v, want ErrDecrypt", err)
		}

		// A number moved into its own row's name field does not open either.
		_, numberC := sealedColumns(t, db, c.ID)
		exec(t, db, `UPDATE identities SET legal_name = $1 WHERE id = $2`, numberC, c.ID)
		// And one flipped bit in a ciphertext is caught.
		nameC := append([]byte(nil), numberC...)
		nameC[len(nameC)-1] ^= 1
		if _, err := f.keys.Open(nameC, rowAAD(c.ID, "document_number")); !errors.Is(err, identity.ErrDecrypt) {
			t.Errorf("open a flipped ciphertext: got %v, want ErrDecrypt", err)
		}
		revs = f.reviews(t, f.svc, identity.StatusPending)
		if revs[2].OpenError == "" || revs[2].LegalName != "" {
			t.Errorf("number moved into the name field: got %+v, want an open error", revs[2])
		}

		// Deciding does not need to open anything.
		if _, err := f.svc.Decide(ctx, compliance, a.ID, false, "record damaged, please resubmit"); err != nil {
			t.Errorf("reject a tampered identity: %v", err)
		}
	})
}

func TestDeleteAccountData(t *testing.T) {
	t.Parallel()
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		f := newFixture(t, db, nil)
		setup := func(handle string) (plaza.ID, string) {
			id := f.register(t, handle)
			phone := f.newPhone()
			f.verifyPhone(t, id, phone)
			idn := f.submit(t, id, submission("Zhang San"))
			if _, err := f.svc.Decide(ctx, compliance, idn.ID, false, "blurred"); err != nil {
				t.Fatal(err)
			}
			f.submit(t, id, submission("Zhang San"))
			// A code on its way to a second number.
			if _, err := f.svc.StartPhone(ctx, id, f.newPhone()); err != nil {
				t.Fatal(err)
			}
			return id, phone
		}
		alice, alicePhone := setup("alice")
		bob, _ := setup("bob")
		counts := func(id plaza.ID) [3]int {
			return [3]int{
				countRows(t, db, `phones WHERE account_id = $1`, id),
				countRows(t, db, `phone_challenges WHERE account_id = $1`, id),
				countRows(t, db, `identities WHERE account_id = $1`, id),
			}
		}
		if got := counts(alice); got != [3]int{1, 1, 2} {
			t.Fatalf("before: got alice's phones, challenges, identities %v, want [1 1 2]", got)
		}

		err := db.InTx(ctx, func(tx *sql.Tx) error { return identity.DeleteAccountData(ctx, tx, alice) })
		if err != nil {
			t.Fatalf("delete account data: %v", err)
		}
		if got := counts(alice); got != [3]int{} {
			t.Errorf("after: got alice's phones, challenges, identities %v, want none", got)
		}
		if got := counts(bob); got != [3]int{1, 1, 2} {
			t.Errorf("after: got bob's phones, challenges, identities %v, want [1 1 2] untouched", got)
		}
		if st := identityStatus(t, f.svc, alice); st != (identity.Status{Identity: identity.StatusNone}) {
			t.Errorf("after: got alice's status %+v, want nothing verified", st)
		}
		// Alice's number is free again.
		f.verifyPhone(t, f.register(t, "carol"), alicePhone)

		// Rolled back with its transaction.
		err = db.InTx(ctx, func(tx *sql.Tx) error {
			if err := identity.DeleteAccountData(ctx, tx, bob); err != nil {
				return err
			}
			return plaza.Errorf(plaza.EConflict, "changed my mind")
		})
		wantCode(t, err, plaza.EConflict)
		if got := counts(bob); got != [3]int{1, 1, 2} {
			t.Errorf("after a rollback: got bob's phones, challenges, identities %v, want [1 1 2]", got)
		}
	})
}

// TestEraseLeavesNoIdentity erases an account through the account
// service, with the hook wired as the server wires it: no phone, code or
// legal identity ciphertext of it is left.
func TestEraseLeavesNoIdentity(t *testing.T) {
	t.Parallel()
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		f := newFixture(t, db, nil)
		f.accounts.OnDelete(identity.DeleteAccountData)
		id := f.register(t, "alice")
		f.verifyPhone(t, id, f.newPhone())
		idn := f.submit(t, id, submission("Zhang San"))
		if _, err := f.svc.Decide(ctx, compliance, idn.ID, true, ""); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.StartPhone(ctx, id, f.newPhone()); err != nil {
			t.Fatal(err)
		}
		if err := f.accounts.Erase(ctx, id); err != nil {
			t.Fatal(err)
		}
		for _, table := range []string{"phones", "phone_challenges", "identities"} {
			if n := countRows(t, db, table+` WHERE account_id = $1`, id); n != 0 {
				t.Errorf("%s: %d rows left, want 0", table, n)
			}
		}
	})
}

// TestHostileComplianceDecidesOwnIdentity has a compliance officer try to
// approve their own identity: refused as their own submission, nothing
// changes, and a colleague may decide it.
func TestHostileComplianceDecidesOwnIdentity(t *testing.T) {
	t.Parallel()
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		f := newFixture(t, db, nil)
		carol := f.verified(t, "carol")
		own := f.submit(t, carol, submission("Zhang Sanfeng"))
		self := audit.Actor{ID: carol, Name: "carol (compliance)"}
		for _, approve := range []bool{true, false} {
			_, err := f.svc.Decide(ctx, self, own.ID, approve, "looks fine to me")
			wantCode(t, err, plaza.EForbidden)
			if got := plaza.AsError(err).Details["reason"]; got != account.ReasonOwnSubmission {
				t.Fatalf("approve=%v: got details.reason %v, want %q", approve, got, account.ReasonOwnSubmission)
			}
		}
		if st := identityStatus(t, f.svc, carol); st.Identity != identity.StatusPending {
			t.Errorf("after the refused decisions the identity is %q, want pending", st.Identity)
		}
		if n := len(withAction(auditEntries(t, db), "identity.approve")); n != 0 {
			t.Errorf("got %d identity.approve rows, want none", n)
		}
		if _, err := f.svc.Decide(ctx, compliance, own.ID, true, ""); err != nil {
			t.Fatalf("a colleague approves: %v", err)
		}
	})
}

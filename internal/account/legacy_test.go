package account_test

import (
	"context"
	"testing"
	"time"

	"github.com/plaza-im/plaza"
	"github.com/plaza-im/plaza/internal/audit"
	"github.com/plaza-im/plaza/internal/sqldb"
	"github.com/plaza-im/plaza/internal/sqldb/sqldbtest"
)

// befriend makes a and b contacts, as chat's accepted request does.
func befriend(tb testing.TB, db *sqldb.DB, a, b plaza.ID) {
	tb.Helper()
	for _, p := range [][2]plaza.ID{{a, b}, {b, a}} {
		exec(tb, db, `INSERT INTO contacts (account_id, contact_id, created_at) VALUES ($1, $2, 0)`, p[0], p[1])
	}
}

// TestLegacyContactRules: the legacy contact must be someone else, an
// active account and a contact; a refusal changes nothing. Setting again
// replaces; removing leaves none.
func TestLegacyContactRules(t *testing.T) {
	t.Parallel()
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		svc := newService(t, db)
		a, _ := register(t, svc, "alice")
		b, _ := register(t, svc, "bob")
		c, _ := register(t, svc, "carol")
		stranger, _ := register(t, svc, "stranger")
		suspended, _ := register(t, svc, "suspended")
		befriend(t, db, a.ID, b.ID)
		befriend(t, db, a.ID, c.ID)
		befriend(t, db, a.ID, suspended.ID)
		if _, err := svc.Suspend(ctx, audit.CLI, suspended.ID, "spam", time.Time{}); err != nil {
			t.Fatal(err)
		}

		_, err := svc.LegacyContact(ctx, a.ID)
		wantCode(t, err, plaza.ENotFound)
		for _, c := range []struct {
			name    string
			contact plaza.ID
			check   func(error)
		}{
			{"oneself", a.ID, func(err error) { wantInvalid(t, err, "account_id") }},
			{"unknown", a.ID + 12345, func(err error) { wantInvalid(t, err, "account_id") }},
			{"suspended", suspended.ID, func(err error) { wantInvalid(t, err, "account_id") }},
			{"not a contact", stranger.ID, func(err error) { wantCode(t, err, plaza.ENotAContact) }},
		} {
			_, err := svc.SetLegacyContact(ctx, a.ID, c.contact, true)
			c.check(err)
			if n := countRows(t, db, `legacy_contacts`); n != 0 {
				t.Fatalf("%s: %d legacy contacts stored, want none", c.name, n)
			}
		}

		got, err := svc.SetLegacyContact(ctx, a.ID, b.ID, true)
		if err != nil || got.ContactID != b.ID || !got.MayDownload || got.Handle != "bob" {
			t.Fatalf("set: %+v, %v; want bob, may download", got, err)
		}
		if got, err = svc.SetLegacyContact(ctx, a.ID, c.ID, false); err != nil || got.ContactID != c.ID || got.MayDownload {
			t.Fatalf("replace: %+v, %v; want carol, may not download", got, err)
		}
		if got, err := svc.LegacyContact(ctx, a.ID); err != nil || got.ContactID != c.ID {
			t.Errorf("get: %+v, %v; want carol", got, err)
		}
		if n := countRows(t, db, `legacy_contacts`); n != 1 {
			t.Errorf("%d legacy contacts stored, want 1", n)
		}
		if err := svc.RemoveLegacyContact(ctx, a.ID); err != nil {
			t.Fatal(err)
		}
		wantCode(t, svc.RemoveLegacyContact(ctx, a.ID), plaza.ENotFound)
		_, err = svc.LegacyContact(ctx, a.ID)
		wantCode(t, err, plaza.ENotFound)
	})
}

// TestCheckLegacyExport: only the legacy contact of a memorialised
// account, allowed to download, may; everyone else is told not found.
func TestCheckLegacyExport(t *testing.T) {
	t.Parallel()
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		svc := newService(t, db)
		a, _ := register(t, svc, "alice")
		b, _ := register(t, svc, "bob")
		c, _ := register(t, svc, "carol")
		d, _ := register(t, svc, "dave")
		befriend(t, db, a.ID, b.ID)
		befriend(t, db, c.ID, b.ID)
		if _, err := svc.SetLegacyContact(ctx, a.ID, b.ID, true); err != nil {
			t.Fatal(err)
		}
		if _, err := svc.SetLegacyContact(ctx, c.ID, b.ID, false); err != nil {
			t.Fatal(err)
		}
		wantCode(t, svc.CheckLegacyExport(ctx, a.ID, b.ID), plaza.ENotFound) // not memorialised yet
		for _, id := range []plaza.ID{a.ID, c.ID} {
			if _, err := svc.Memorialise(ctx, audit.CLI, id, "the family asked"); err != nil {
				t.Fatal(err)
			}
		}
		if err := svc.CheckLegacyExport(ctx, a.ID, b.ID); err != nil {
			t.Errorf("the legacy contact allowed to download: got %v, want nil", err)
		}
		for name, pair := range map[string][2]plaza.ID{
			"not allowed to download": {c.ID, b.ID},
			"a stranger":              {a.ID, d.ID},
			"the account itself":      {a.ID, a.ID},
			"no such account":         {a.ID + 12345, b.ID},
		} {
			if err := svc.CheckLegacyExport(ctx, pair[0], pair[1]); plaza.ErrorCode(err) != plaza.ENotFound {
				t.Errorf("%s: got %v, want not_found", name, err)
			}
		}
	})
}

// TestEraseRemovesLegacyContacts: erasing an account removes its legacy
// contact and its place as someone else's.
func TestEraseRemovesLegacyContacts(t *testing.T) {
	t.Parallel()
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		svc := newService(t, db)
		a, _ := register(t, svc, "alice")
		b, _ := register(t, svc, "bob")
		c, _ := register(t, svc, "carol")
		befriend(t, db, a.ID, b.ID)
		befriend(t, db, b.ID, c.ID)
		for _, p := range [][2]plaza.ID{{a.ID, b.ID}, {b.ID, c.ID}, {c.ID, b.ID}} {
			if _, err := svc.SetLegacyContact(ctx, p[0], p[1], true); err != nil {
				t.Fatal(err)
			}
		}
		if err := svc.Erase(ctx, b.ID); err != nil {
			t.Fatal(err)
		}
		if n := countRows(t, db, `legacy_contacts WHERE account_id = $1 OR contact_id = $1`, b.ID); n != 0 {
			t.Errorf("%d legacy contact rows of the erased account left, want 0", n)
		}
		if n := countRows(t, db, `legacy_contacts`); n != 0 {
			t.Errorf("%d legacy contact rows left, want 0", n)
		}
	})
}

package account_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/plaza-im/plaza"
	"github.com/plaza-im/plaza/internal/account"
	"github.com/plaza-im/plaza/internal/audit"
	"github.com/plaza-im/plaza/internal/sqldb"
	"github.com/plaza-im/plaza/internal/sqldb/sqldbtest"
)

func TestSeedTerms(t *testing.T) {
	t.Parallel()
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		cfg := account.DefaultConfig()
		cfg.Password = cheapPassword
		svc := account.NewService(db, cfg)
		account.SetClock(svc, newClock(march15).Now)

		_, err := svc.CurrentTerms(ctx)
		wantCode(t, err, plaza.ENotFound)
		for i := range 2 {
			if err := svc.SeedTerms(ctx); err != nil {
				t.Fatalf("seed %d: %v", i+1, err)
			}
		}
		if err := account.NewService(db, cfg).SeedTerms(ctx); err != nil {
			t.Fatalf("seed from a second node: %v", err)
		}
		cur, err := svc.CurrentTerms(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if cur.Version != 1 || cur.Title != "Terms of Service" || cur.Body == "" || cur.RequiresReconsent || !cur.PublishedAt.Equal(march15) {
			t.Errorf("got %+v, want version 1 \"Terms of Service\" with a body, published %v, no re-consent", cur, march15)
		}
		if n := countRows(t, db, `terms`); n != 1 {
			t.Errorf("got %d terms rows after seeding three times, want 1", n)
		}
		if entries := auditEntries(t, db); len(entries) != 0 {
			t.Errorf("got audit actions %v after seeding, want none", actions(entries))
		}
	})
}

func TestPublishTerms(t *testing.T) {
	t.Parallel()
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		svc, _ := newClockedService(t, db, march15, nil)
		admin, _ := register(t, svc, "admin")
		actor := audit.Actor{ID: admin.ID, Name: "admin"}

		t2, err := svc.PublishTerms(ctx, actor, "  Terms v2 ", "\n Be kind. \n", true)
		if err != nil {
			t.Fatal(err)
		}
		want := account.Terms{Version: 2, Title: "Terms v2", Body: "Be kind.", RequiresReconsent: true, PublishedAt: march15}
		if diff := cmp.Diff(want, t2); diff != "" {
			t.Errorf("published terms (-want +got):\n%s", diff)
		}
		if cur, err := svc.CurrentTerms(ctx); err != nil || cur != want {
			t.Errorf("current terms: got %+v, %v; want %+v", cur, err, want)
		}
		t3, err := svc.PublishTerms(ctx, audit.CLI, "Terms v3", "Be kinder.", false)
		if err != nil || t3.Version != 3 || t3.RequiresReconsent {
			t.Errorf("third terms: got %+v, %v; want version 3 without re-consent", t3, err)
		}
		if old, err := svc.TermsVersion(ctx, 2); err != nil || old != want {
			t.Errorf("version 2: got %+v, %v; want %+v", old, err, want)
		}
		if v1, err := svc.TermsVersion(ctx, 1); err != nil || v1.Title != "Terms of Service" {
			t.Errorf("version 1: got %+v, %v; want the seeded terms", v1, err)
		}
		_, err = svc.TermsVersion(ctx, 4)
		wantCode(t, err, plaza.ENotFound)

		entries := auditEntries(t, db)
		if got := actions(entries); !slices.Equal(got, []string{"terms.publish", "terms.publish"}) {
			t.Fatalf("got audit actions %v, want two terms.publish", got)
		}
		e := entries[0]
		if e.ActorID != admin.ID || e.Actor != "admin" || e.TargetType != "terms" || e.TargetID != "2" {
			t.Errorf("got audit entry %+v, want actor %d admin, target terms 2", e, admin.ID)
		}
		if diff := cmp.Diff(map[string]any{"title": "Terms v2", "requires_reconsent": true}, e.Details); diff != "" {
			t.Errorf("audit details (-want +got):\n%s", diff)
		}
		if e := entries[1]; e.ActorID != 0 || e.Actor != audit.CLI.Name || e.TargetID != "3" {
			t.Errorf("got audit entry %+v, want the CLI publishing version 3", e)
		}
	})
}

func TestPublishTermsValidation(t *testing.T) {
	t.Parallel()
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		svc := newService(t, db)
		tests := []struct {
			name, title, body string
			fields            []string
		}{
			{"empty title", "", "Body.", []string{"title"}},
			{"whitespace title", " \t\n", "Body.", []string{"title"}},
			{"201-character title", strings.Repeat("t", 201), "Body.", []string{"title"}},
			{"empty body", "Title", "", []string{"body"}},
			{"whitespace body", "Title", "   \n\n ", []string{"body"}},
			{"body over 200000 bytes", "Title", strings.Repeat("é", 100_001), []string{"body"}},
			{"invalid UTF-8 body", "Title", "Body \xff.", []string{"body"}},
			{"both empty", "", "", []string{"title", "body"}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				_, err := svc.PublishTerms(ctx, audit.CLI, tt.title, tt.body, true)
				wantInvalid(t, err, tt.fields...)
			})
		}
		if cur, err := svc.CurrentTerms(ctx); err != nil || cur.Version != 1 {
			t.Errorf("got current version %d, %v; want 1", cur.Version, err)
		}
		if entries := auditEntries(t, db); len(entries) != 0 {
			t.Errorf("got audit actions %v after refused publications, want none", actions(entries))
		}
		if _, err := svc.PublishTerms(ctx, audit.CLI, strings.Repeat("t", 200), strings.Repeat("b", 200_000), false); err != nil {
			t.Errorf("200-character title and 200000-byte body: got %v, want success", err)
		}
	})
}

// TestReconsentGate publishes terms that require re-consent and checks the
// gate holds until the current version is accepted.
func TestReconsentGate(t *testing.T) {
	t.Parallel()
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		svc, clk := newClockedService(t, db, march15, nil)
		a, tok := register(t, svc, "alice")
		needs := func(want bool) {
			t.Helper()
			auth := authenticate(t, svc, tok)
			if got := auth.NeedsConsent(); got != want {
				t.Fatalf("got NeedsConsent() = %v, want %v", got, want)
			}
		}
		needs(false)

		if _, err := svc.PublishTerms(ctx, audit.CLI, "v2", "Not required.", false); err != nil {
			t.Fatal(err)
		}
		needs(false)

		if _, err := svc.PublishTerms(ctx, audit.CLI, "v3", "Required.", true); err != nil {
			t.Fatal(err)
		}
		auth := authenticate(t, svc, tok)
		if !auth.NeedsConsent() || auth.AcceptedTerms != 1 || auth.RequiredTerms != 3 {
			t.Fatalf("got accepted %d, required %d, NeedsConsent() = %v; want 1, 3, true", auth.AcceptedTerms, auth.RequiredTerms, auth.NeedsConsent())
		}
		// A later version that does not demand re-consent does not lift the
		// gate of an earlier one.
		if _, err := svc.PublishTerms(ctx, audit.CLI, "v4", "Not required.", false); err != nil {
			t.Fatal(err)
		}
		needs(true)

		for _, v := range []int64{0, 1, 2, 3, 5} {
			err := svc.Accept(ctx, a.ID, v)
			wantCode(t, err, plaza.EInvalid)
			if got := plaza.AsError(err).Details["version"]; got != int64(4) {
				t.Errorf("accept %d: got details version %v, want 4", v, got)
			}
			needs(true)
		}

		clk.Advance(time.Hour)
		if err := svc.Accept(ctx, a.ID, 4); err != nil {
			t.Fatalf("accept current: %v", err)
		}
		needs(false)
		if err := svc.Accept(ctx, a.ID, 4); err != nil {
			t.Errorf("accept current again: got %v, want success", err)
		}
		consents, err := svc.Consents(ctx, a.ID)
		if err != nil {
			t.Fatal(err)
		}
		want := []account.Consent{{Version: 1, AcceptedAt: march15}, {Version: 4, AcceptedAt: march15.Add(time.Hour)}}
		if diff := cmp.Diff(want, consents); diff != "" {
			t.Errorf("consents (-want +got):\n%s", diff)
		}

		// Someone who registers now accepted the current terms and is not
		// gated.
		b, btok := register(t, svc, "bob")
		if auth := authenticate(t, svc, btok); auth.NeedsConsent() {
			t.Errorf("new account: got NeedsConsent() = true, want false")
		}
		if c, _ := svc.Consents(ctx, b.ID); len(c) != 1 || c[0].Version != 4 {
			t.Errorf("new account: got consents %+v, want version 4", c)
		}
	})
}

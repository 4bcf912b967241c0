package account_test

import (
	"context"
	"encoding/base64"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/plaza-im/plaza"
	"github.com/plaza-im/plaza/internal/account"
	"github.com/plaza-im/plaza/internal/audit"
	"github.com/plaza-im/plaza/internal/sqldb"
	"github.com/plaza-im/plaza/internal/sqldb/sqldbtest"
)

func ptr[T any](v T) *T { return &v }

// TestPrivacySettings: new accounts may be found by handle, not by phone;
// a change of one setting keeps the other.
func TestPrivacySettings(t *testing.T) {
	t.Parallel()
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		svc := newService(t, db)
		a, _ := register(t, svc, "alice")
		p, err := svc.Privacy(ctx, a.ID)
		if err != nil {
			t.Fatal(err)
		}
		if want := (account.Privacy{FindByHandle: true, FindByPhone: false}); p != want {
			t.Fatalf("defaults = %+v, want %+v", p, want)
		}
		if p, err = svc.SetPrivacy(ctx, a.ID, nil, ptr(true)); err != nil {
			t.Fatal(err)
		}
		if want := (account.Privacy{FindByHandle: true, FindByPhone: true}); p != want {
			t.Fatalf("after find_by_phone on = %+v, want %+v", p, want)
		}
		if p, err = svc.SetPrivacy(ctx, a.ID, ptr(false), nil); err != nil {
			t.Fatal(err)
		}
		if want := (account.Privacy{FindByHandle: false, FindByPhone: true}); p != want {
			t.Fatalf("after find_by_handle off = %+v, want %+v", p, want)
		}
		_, err = svc.SetPrivacy(ctx, a.ID, nil, nil)
		wantInvalid(t, err, "find_by_handle")
	})
}

// TestFindByHandle: an exact handle (normalised) finds the profile; a
// hidden, unknown, closed or deleted one gets the same not_found.
func TestFindByHandle(t *testing.T) {
	t.Parallel()
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		svc := newService(t, db)
		a, _ := register(t, svc, "alice")
		hidden, _ := register(t, svc, "hidden")
		closed, _ := register(t, svc, "closed")
		gone, _ := register(t, svc, "gone")
		if _, err := svc.SetPrivacy(ctx, hidden.ID, ptr(false), nil); err != nil {
			t.Fatal(err)
		}
		if _, err := svc.Close(ctx, audit.CLI, closed.ID, "spam"); err != nil {
			t.Fatal(err)
		}
		if err := svc.Erase(ctx, gone.ID); err != nil {
			t.Fatal(err)
		}
		p, err := svc.FindByHandle(ctx, "  ALICE ")
		if err != nil {
			t.Fatal(err)
		}
		if p.ID != a.ID || p.Handle != "alice" {
			t.Fatalf("found %+v, want alice", p)
		}
		var msgs []string
		for _, h := range []string{"hidden", "nobody", "closed", "gone", "alic"} {
			_, err := svc.FindByHandle(ctx, h)
			msgs = append(msgs, wantCode(t, err, plaza.ENotFound).Message)
		}
		for _, m := range msgs[1:] {
			if m != msgs[0] {
				t.Errorf("not-found messages differ: %q", msgs)
			}
		}
		_, err = svc.FindByHandle(ctx, "a b!")
		wantInvalid(t, err, "handle")

		if _, err := svc.FindableByPhone(ctx, a.ID); plaza.ErrorCode(err) != plaza.ENotFound {
			t.Fatalf("by phone before opting in: %v, want not_found", err)
		}
		if _, err := svc.SetPrivacy(ctx, a.ID, nil, ptr(true)); err != nil {
			t.Fatal(err)
		}
		if p, err := svc.FindableByPhone(ctx, a.ID); err != nil || p.ID != a.ID {
			t.Fatalf("by phone after opting in: %+v, %v", p, err)
		}
	})
}

// TestLanguage: registration takes en or zh-CN (default en); the owner
// may change it; anything else is refused naming the field.
func TestLanguage(t *testing.T) {
	t.Parallel()
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		svc := newService(t, db)
		a, tok := register(t, svc, "alice")
		if a.Language != account.English {
			t.Fatalf("default language = %q, want en", a.Language)
		}
		r := registration(t, svc, "bob")
		r.Language = "zh-CN"
		b, _, err := svc.Register(ctx, r)
		if err != nil {
			t.Fatal(err)
		}
		if got, _ := svc.Get(ctx, b.ID); got.Language != account.SimplifiedChinese {
			t.Fatalf("registered language = %q, want zh-CN", got.Language)
		}
		r = registration(t, svc, "carol")
		r.Language = "fr"
		_, _, err = svc.Register(ctx, r)
		wantInvalid(t, err, "language")

		if _, err := svc.SetLanguage(ctx, a.ID, "zh-CN"); err != nil {
			t.Fatal(err)
		}
		if got := authenticate(t, svc, tok).Account.Language; got != account.SimplifiedChinese {
			t.Fatalf("language seen through the session = %q, want zh-CN", got)
		}
		for _, bad := range []string{"", "zh", "EN"} {
			_, err := svc.SetLanguage(ctx, a.ID, bad)
			wantInvalid(t, err, "language")
		}
	})
}

// TestInvites: a link resolves to its owner until it expires or is
// revoked, or its owner is suspended; only its hash is stored; an owner
// has at most MaxLiveInvites working links.
func TestInvites(t *testing.T) {
	t.Parallel()
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		start := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
		svc, clk := newClockedService(t, db, start, nil)
		a, _ := register(t, svc, "alice")
		b, _ := register(t, svc, "bob")

		inv, token, err := svc.CreateInvite(ctx, a.ID)
		if err != nil {
			t.Fatal(err)
		}
		if raw, err := base64.RawURLEncoding.DecodeString(token); err != nil || len(raw)*8 < 128 {
			t.Fatalf("token %q: %d random bits (%v), want at least 128", token, len(raw)*8, err)
		}
		if !inv.ExpiresAt.Equal(start.Add(7 * 24 * time.Hour)) {
			t.Errorf("expires_at = %v, want 7 days on", inv.ExpiresAt)
		}
		if n := countRows(t, db, `invites WHERE prefix = $1 AND token_hash <> $2`, token[:4], []byte(token)); n != 1 {
			t.Errorf("%d rows with the prefix and a hashed token, want 1", n)
		}
		got, p, err := svc.ResolveInvite(ctx, token)
		if err != nil {
			t.Fatal(err)
		}
		if got.ID != inv.ID || p.ID != a.ID {
			t.Fatalf("resolved %+v of %+v, want invite %s of alice", got, p, inv.ID)
		}
		list, err := svc.Invites(ctx, a.ID)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff([]account.Invite{inv}, list); diff != "" {
			t.Errorf("invites (-want +got):\n%s", diff)
		}
		for _, bad := range []string{"", "short", token + "x", token[:23] + "!"} {
			_, _, err := svc.ResolveInvite(ctx, bad)
			wantCode(t, err, plaza.ENotFound)
		}

		// Someone else's invite is not theirs to revoke.
		wantCode(t, svc.RevokeInvite(ctx, b.ID, inv.ID), plaza.ENotFound)
		if err := svc.RevokeInvite(ctx, a.ID, inv.ID); err != nil {
			t.Fatal(err)
		}
		_, _, err = svc.ResolveInvite(ctx, token)
		wantCode(t, err, plaza.ENotFound)
		wantCode(t, svc.RevokeInvite(ctx, a.ID, inv.ID), plaza.ENotFound)

		// Expiry.
		_, token2, err := svc.CreateInvite(ctx, a.ID)
		if err != nil {
			t.Fatal(err)
		}
		clk.Advance(7*24*time.Hour - time.Second)
		if _, _, err := svc.ResolveInvite(ctx, token2); err != nil {
			t.Fatalf("a second before expiry: %v", err)
		}
		clk.Advance(time.Second)
		_, _, err = svc.ResolveInvite(ctx, token2)
		wantCode(t, err, plaza.ENotFound)
		if list, _ := svc.Invites(ctx, a.ID); len(list) != 0 {
			t.Errorf("expired invites listed: %+v", list)
		}

		// The limit, and an owner who is suspended.
		var last string
		for i := range account.MaxLiveInvites {
			if _, last, err = svc.CreateInvite(ctx, b.ID); err != nil {
				t.Fatalf("invite %d: %v", i+1, err)
			}
		}
		_, _, err = svc.CreateInvite(ctx, b.ID)
		wantCode(t, err, plaza.EConflict)
		if _, err := svc.Suspend(ctx, audit.CLI, b.ID, "spam", time.Time{}); err != nil {
			t.Fatal(err)
		}
		_, _, err = svc.ResolveInvite(ctx, last)
		wantCode(t, err, plaza.ENotFound)

		if err := svc.Erase(ctx, b.ID); err != nil {
			t.Fatal(err)
		}
		if n := countRows(t, db, `invites WHERE account_id = $1`, b.ID); n != 0 {
			t.Errorf("%d invites of an erased account left, want 0", n)
		}
	})
}

// TestAvatar: setting a photo bumps the version and returns the item it
// replaced; clearing hides it without reusing the version; erasure
// removes it.
func TestAvatar(t *testing.T) {
	t.Parallel()
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		svc := newService(t, db)
		a, _ := register(t, svc, "alice")
		_, _, err := svc.Avatar(ctx, a.ID)
		wantCode(t, err, plaza.ENotFound)
		if p, _ := svc.Profile(ctx, a.ID); p.AvatarVersion != 0 {
			t.Fatalf("version without a photo = %d, want 0", p.AvatarVersion)
		}
		old, err := svc.SetAvatar(ctx, a.ID, 101)
		if err != nil || old != 0 {
			t.Fatalf("first photo: replaced %d, %v; want 0, nil", old, err)
		}
		if old, err = svc.SetAvatar(ctx, a.ID, 102); err != nil || old != 101 {
			t.Fatalf("second photo: replaced %d, %v; want 101, nil", old, err)
		}
		m, v, err := svc.Avatar(ctx, a.ID)
		if err != nil || m != 102 || v != 2 {
			t.Fatalf("avatar = %d v%d, %v; want 102 v2", m, v, err)
		}
		if p, _ := svc.Profile(ctx, a.ID); p.AvatarVersion != 2 {
			t.Fatalf("profile version = %d, want 2", p.AvatarVersion)
		}
		if old, err = svc.ClearAvatar(ctx, a.ID); err != nil || old != 102 {
			t.Fatalf("clear: %d, %v; want 102, nil", old, err)
		}
		if p, _ := svc.Profile(ctx, a.ID); p.AvatarVersion != 0 {
			t.Fatalf("version after clearing = %d, want 0", p.AvatarVersion)
		}
		if old, err = svc.ClearAvatar(ctx, a.ID); err != nil || old != 0 {
			t.Fatalf("clear again: %d, %v; want 0, nil", old, err)
		}
		if _, err := svc.SetAvatar(ctx, a.ID, 103); err != nil {
			t.Fatal(err)
		}
		if _, v, _ := svc.Avatar(ctx, a.ID); v != 3 {
			t.Fatalf("version after a new photo = %d, want 3 (never reused)", v)
		}
		if err := svc.Erase(ctx, a.ID); err != nil {
			t.Fatal(err)
		}
		_, _, err = svc.Avatar(ctx, a.ID)
		wantCode(t, err, plaza.ENotFound)
		if n := countRows(t, db, `accounts WHERE id = $1 AND avatar_media_id IS NULL AND find_by_phone = $2`, a.ID, false); n != 1 {
			t.Errorf("erased account keeps its photo or phone setting")
		}
	})
}

// TestYourAccountPeople: the export holds the language, the privacy
// settings, the profile photo's item and the working invite links, never
// a token.
func TestYourAccountPeople(t *testing.T) {
	t.Parallel()
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		svc := newService(t, db)
		a, _ := register(t, svc, "alice")
		if _, err := svc.SetLanguage(ctx, a.ID, "zh-CN"); err != nil {
			t.Fatal(err)
		}
		if _, err := svc.SetPrivacy(ctx, a.ID, nil, ptr(true)); err != nil {
			t.Fatal(err)
		}
		if _, err := svc.SetAvatar(ctx, a.ID, 77); err != nil {
			t.Fatal(err)
		}
		inv, token, err := svc.CreateInvite(ctx, a.ID)
		if err != nil {
			t.Fatal(err)
		}
		y, err := svc.YourAccount(ctx, a.ID)
		if err != nil {
			t.Fatal(err)
		}
		if y.Language != account.SimplifiedChinese || y.Privacy != (account.Privacy{FindByHandle: true, FindByPhone: true}) || y.AvatarMediaID != 77 {
			t.Errorf("export = language %q, privacy %+v, photo %d", y.Language, y.Privacy, y.AvatarMediaID)
		}
		if len(y.Invites) != 1 || y.Invites[0].ID != inv.ID || y.Invites[0].Prefix == token {
			t.Errorf("exported invites = %+v, want the one link without its token", y.Invites)
		}
	})
}

package account_test

import (
	"context"
	"testing"

	"github.com/plaza-im/plaza"
	"github.com/plaza-im/plaza/internal/sqldb"
	"github.com/plaza-im/plaza/internal/sqldb/sqldbtest"
)

func TestHostileInvisibleDisplayNames(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		svc := newService(t, db)
		a, _ := register(t, svc, "alice")
		for _, name := range []string{
			"\u200d", "\u3164", "\u2800", "\u115f\u1160", "\uffa0", "\u0301", "\u200d\u3164\u2800",
			"a\x00b", "\u202eevil", "two\nlines", "a\u2066b",
		} {
			r := registration(t, svc, "bob")
			r.DisplayName = name
			_, _, err := svc.Register(ctx, r)
			wantInvalid(t, err, "display_name")
			_, err = svc.SetDisplayName(ctx, a.ID, name)
			wantInvalid(t, err, "display_name")
		}
		for i, name := range []string{"张伟", "محمد علي", "👩\u200d👩\u200d👧", "🏴\U000e0067\U000e0062\U000e0073\U000e0063\U000e0074\U000e007f", "Zoë"} {
			r := registration(t, svc, "legit"+string(rune('a'+i)))
			r.DisplayName = name
			got, _, err := svc.Register(ctx, r)
			if err != nil {
				t.Fatalf("register with display name %q: %v", name, err)
			}
			if got.DisplayName != name {
				t.Fatalf("got display name %q, want %q", got.DisplayName, name)
			}
			if _, err := svc.SetDisplayName(ctx, a.ID, name); err != nil {
				t.Fatalf("set display name %q: %v", name, err)
			}
		}
	})
}

func TestHostileNulInSignInHandle(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		svc := newService(t, db)
		register(t, svc, "alice")
		_, _, err := svc.Login(context.Background(), "alice\x00", testPassword, "test")
		wantInvalid(t, err, "handle")
		if plaza.ErrorCode(err) != plaza.EInvalid {
			t.Fatal("want invalid_request")
		}
	})
}

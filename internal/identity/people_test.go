package identity_test

import (
	"context"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/plaza-im/plaza"
	"github.com/plaza-im/plaza/internal/sqldb"
	"github.com/plaza-im/plaza/internal/sqldb/sqldbtest"
)

// TestCodeTextInAccountLanguage: the code's message is written in the
// language the account chose.
func TestCodeTextInAccountLanguage(t *testing.T) {
	t.Parallel()
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		f := newFixture(t, db, nil)
		en, zh := f.register(t, "alice"), f.register(t, "bob")
		if _, err := f.accounts.SetLanguage(ctx, zh, "zh-CN"); err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct {
			id   plaza.ID
			want string
		}{
			{en, "Your Plaza verification code is %s. It expires in 10 minutes. Do not share it."},
			{zh, "您的 Plaza 验证码是 %s，10 分钟内有效。请勿告诉他人。"},
		} {
			phone := f.newPhone()
			if _, err := f.svc.StartPhone(ctx, c.id, phone); err != nil {
				t.Fatal(err)
			}
			msgs := f.sms.sent()
			got := msgs[len(msgs)-1]
			if want := strings.Replace(c.want, "%s", got.Code, 1); got.Body != want {
				t.Errorf("body = %q, want %q", got.Body, want)
			}
		}
	})
}

// TestAccountsWithPhone: only verified numbers count, in any written form
// of the number; a number nobody verified finds nobody.
func TestAccountsWithPhone(t *testing.T) {
	t.Parallel()
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		f := newFixture(t, db, nil)
		a, b := f.register(t, "alice"), f.register(t, "bob")
		f.verifyPhone(t, a, "+8613800138000")
		// bob asked for a code but never entered it.
		if _, err := f.svc.StartPhone(ctx, b, "+8613900139000"); err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct {
			raw  string
			want []plaza.ID
		}{
			{"+86 138 0013 8000", []plaza.ID{a}},
			{"+8613800138000", []plaza.ID{a}},
			{"+8613900139000", []plaza.ID{}},
			{"+8613700137000", []plaza.ID{}},
		} {
			got, err := f.svc.AccountsWithPhone(ctx, c.raw)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(c.want, got); diff != "" {
				t.Errorf("%s (-want +got):\n%s", c.raw, diff)
			}
		}
		_, err := f.svc.AccountsWithPhone(ctx, "12345")
		wantInvalid(t, err, "phone")
	})
}

package identity_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/plaza-im/plaza"
	"github.com/plaza-im/plaza/internal/identity"
	"github.com/plaza-im/plaza/internal/sms"
	"github.com/plaza-im/plaza/internal/sqldb"
	"github.com/plaza-im/plaza/internal/sqldb/sqldbtest"
)

func TestNormalizePhone(t *testing.T) {
	valid := []struct{ raw, region, want string }{
		{"+86 138 0013 8000", "", "+8613800138000"},
		{"+8613800138000", "", "+8613800138000"},
		{"  +86-138-0013-8000  ", "", "+8613800138000"},
		{"+86 (138) 0013 8000", "", "+8613800138000"},
		{"13800138000", "CN", "+8613800138000"},
		{"138 0013 8000", "CN", "+8613800138000"},
		{"+44 20 7946 0958", "CN", "+442079460958"}, // + wins over the default region
		{"+1 650 253 0000", "", "+16502530000"},
	}
	for _, tt := range valid {
		got, err := identity.NormalizePhone(tt.raw, tt.region)
		if err != nil || got != tt.want {
			t.Errorf("NormalizePhone(%q, %q) = %q, %v; want %q, nil", tt.raw, tt.region, got, err, tt.want)
		}
	}
	invalid := []struct{ name, raw, region string }{
		{"national number without a region", "13912345678", ""},
		{"empty", "", ""},
		{"blank", "   ", "CN"},
		{"garbage", "call me maybe", ""},
		{"garbage with digits", "phone 4471-9902", "CN"},
		{"too short", "+86 13912", ""},
		{"unknown country code", "+999 4471990233", ""},
		{"too many digits", "+86 139 1234 5678 9", ""},
		{"too long", "+86 139 1234 5678 ext. 44719902334471", ""},
		{"very long", "+86" + strings.Repeat("4", 60), ""},
		{"national number of the wrong region", "13912345678", "US"},
	}
	digitsOnly := regexp.MustCompile(`[^0-9]`)
	for _, tt := range invalid {
		t.Run(tt.name, func(t *testing.T) {
			got, err := identity.NormalizePhone(tt.raw, tt.region)
			if err == nil {
				t.Fatalf("NormalizePhone(%q, %q) = %q, nil; want invalid_request", tt.raw, tt.region, got)
			}
			if got != "" {
				t.Errorf("NormalizePhone(%q, %q) returned %q with its error, want \"\"", tt.raw, tt.region, got)
			}
			wantInvalid(t, err, "phone")
			// The error never repeats the number, in any form.
			wantNoLeak(t, err, strings.TrimSpace(tt.raw))
			if d := digitsOnly.ReplaceAllString(tt.raw, ""); len(d) >= 4 {
				wantNoLeak(t, err, d)
				wantNoLeak(t, err, d[len(d)-4:])
			}
		})
	}
}

// outboxLine is one message of sms.Outbox's file.
type outboxLine struct {
	To     string    `json:"to"`
	Body   string    `json:"body"`
	Code   string    `json:"code"`
	SentAt time.Time `json:"sent_at"`
}

// readOutbox returns every message in the outbox file at path.
func readOutbox(tb testing.TB, path string) []outboxLine {
	tb.Helper()
	f, err := os.Open(path)
	if err != nil {
		tb.Fatalf("open outbox: %v", err)
	}
	defer f.Close()
	var out []outboxLine
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var l outboxLine
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			tb.Fatalf("outbox line %q: %v", sc.Text(), err)
		}
		out = append(out, l)
	}
	if err := sc.Err(); err != nil {
		tb.Fatalf("read outbox: %v", err)
	}
	return out
}

var sixDigits = regexp.MustCompile(`^[0-9]{6}$`)

// otherCode returns a well-formed code different from code.
func otherCode(tb testing.TB, code string) string {
	tb.Helper()
	n, err := strconv.Atoi(code)
	if err != nil {
		tb.Fatalf("code %q: %v", code, err)
	}
	return fmt.Sprintf("%06d", (n+1)%1_000_000)
}

func phoneStatus(tb testing.TB, svc *identity.Service, id plaza.ID) bool {
	tb.Helper()
	st, err := svc.Status(context.Background(), id)
	if err != nil {
		tb.Fatalf("status: %v", err)
	}
	return st.Phone
}

func TestPhoneVerificationThroughOutbox(t *testing.T) {
	t.Parallel()
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		f := newFixture(t, db, nil)
		outbox, err := sms.NewOutbox(filepath.Join(t.TempDir(), "outbox", "sms.jsonl"))
		if err != nil {
			t.Fatal(err)
		}
		svc := identity.NewService(db, f.keys, outbox, f.cfg)
		identity.SetClock(svc, f.clock.Now)
		id := f.register(t, "alice")

		ch, err := svc.StartPhone(ctx, id, "+86 138 0013 8000")
		if err != nil {
			t.Fatalf("start phone: %v", err)
		}
		if want := (identity.Challenge{ExpiresAt: t0.Add(10 * time.Minute), ResendAfter: t0.Add(time.Minute)}); ch != want {
			t.Errorf("got challenge %+v, want %+v", ch, want)
		}
		lines := readOutbox(t, outbox.Path())
		if len(lines) != 1 {
			t.Fatalf("got %d outbox lines, want 1", len(lines))
		}
		msg := lines[0]
		if msg.To != "+8613800138000" {
			t.Errorf("got to %q, want +8613800138000", msg.To)
		}
		if !sixDigits.MatchString(msg.Code) {
			t.Fatalf("got code %q, want 6 digits", msg.Code)
		}
		for _, want := range []string{msg.Code, "Plaza", "10 minutes"} {
			if !strings.Contains(msg.Body, want) {
				t.Errorf("body %q does not contain %q", msg.Body, want)
			}
		}
		if msg.SentAt.IsZero() {
			t.Errorf("got no sent_at")
		}

		// The code is kept only as a hash.
		var stored []byte
		if err := db.Read().QueryRowContext(ctx, `SELECT code_hash FROM phone_challenges WHERE account_id = $1`, id).Scan(&stored); err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(stored), msg.Code) || strings.Contains(fmt.Sprintf("%x", stored), msg.Code) {
			t.Errorf("the stored code hash contains the code")
		}
		if phoneStatus(t, svc, id) {
			t.Errorf("phone verified before the code was entered")
		}

		if err := svc.VerifyPhone(ctx, id, " "+msg.Code+" "); err != nil {
			t.Fatalf("verify phone: %v", err)
		}
		if !phoneStatus(t, svc, id) {
			t.Errorf("got phone false after verification, want true")
		}
		var phone string
		var verifiedAt int64
		if err := db.Read().QueryRowContext(ctx, `SELECT phone, verified_at FROM phones WHERE account_id = $1`, id).Scan(&phone, &verifiedAt); err != nil {
			t.Fatal(err)
		}
		if phone != "+8613800138000" || verifiedAt != t0.UnixMicro() {
			t.Errorf("got phones row %q at %d, want +8613800138000 at %d", phone, verifiedAt, t0.UnixMicro())
		}
		if n := countRows(t, db, `phone_challenges`); n != 0 {
			t.Errorf("got %d challenges after verification, want 0", n)
		}
		// The code is used up.
		wantInvalid(t, svc.VerifyPhone(ctx, id, msg.Code), "code")
	})
}

func TestVerifyPhoneCountsAttempts(t *testing.T) {
	t.Parallel()
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		f := newFixture(t, db, nil)
		id := f.register(t, "alice")
		phone := f.newPhone()
		if _, err := f.svc.StartPhone(ctx, id, phone); err != nil {
			t.Fatal(err)
		}
		code := f.sms.lastCode(t, phone)
		wrong := otherCode(t, code)
		for i, want := range []string{"4 attempts left", "3 attempts left", "2 attempts left", "1 attempt left"} {
			err := f.svc.VerifyPhone(ctx, id, wrong)
			wantInvalid(t, err, "code")
			if !strings.Contains(err.Error(), want) {
				t.Errorf("wrong code %d: got %q, want it to say %q", i+1, err, want)
			}
			if n := countRows(t, db, `phone_challenges WHERE attempts = $1`, i+1); n != 1 {
				t.Errorf("after %d wrong codes: got %d challenges with attempts = %d, want 1", i+1, n, i+1)
			}
		}
		err := f.svc.VerifyPhone(ctx, id, wrong)
		wantInvalid(t, err, "code")
		if !strings.Contains(err.Error(), "no attempts are left") {
			t.Errorf("5th wrong code: got %q, want it to say no attempts are left", err)
		}
		// The challenge is dead: not even the right code opens it.
		err = f.svc.VerifyPhone(ctx, id, code)
		wantInvalid(t, err, "code")
		if phoneStatus(t, f.svc, id) {
			t.Errorf("phone verified with a code whose attempts ran out")
		}
	})
}

func TestVerifyPhoneMaxAttemptsFromConfig(t *testing.T) {
	t.Parallel()
	db := sqldbtest.Open(t, sqldb.SQLite)
	ctx := context.Background()
	f := newFixture(t, db, func(c *identity.Config) { c.MaxAttempts = 2 })
	id := f.register(t, "alice")
	phone := f.newPhone()
	if _, err := f.svc.StartPhone(ctx, id, phone); err != nil {
		t.Fatal(err)
	}
	code := f.sms.lastCode(t, phone)
	if err := f.svc.VerifyPhone(ctx, id, otherCode(t, code)); !strings.Contains(fmt.Sprint(err), "1 attempt left") {
		t.Errorf("1st wrong code of 2: got %v, want 1 attempt left", err)
	}
	if err := f.svc.VerifyPhone(ctx, id, otherCode(t, code)); !strings.Contains(fmt.Sprint(err), "no attempts are left") {
		t.Errorf("2nd wrong code of 2: got %v, want no attempts left", err)
	}
	wantInvalid(t, f.svc.VerifyPhone(ctx, id, code), "code")
}

// TestResendWaitSurvivesUsedUpAttempts checks StartPhone's promise that
// "a new code may be sent no sooner than ResendAfter after the previous
// one" also holds when the previous code died of wrong attempts: otherwise
// five bad guesses buy a new SMS at once, and the resend wait no longer
// bounds how many texts someone can make the server send to a number.
func TestResendWaitSurvivesUsedUpAttempts(t *testing.T) {
	t.Parallel()
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		f := newFixture(t, db, nil)
		id := f.register(t, "alice")
		phone := f.newPhone()
		if _, err := f.svc.StartPhone(ctx, id, phone); err != nil {
			t.Fatal(err)
		}
		wrong := otherCode(t, f.sms.lastCode(t, phone))
		for range 5 {
			wantCode(t, f.svc.VerifyPhone(ctx, id, wrong), plaza.EInvalid)
		}
		f.clock.Advance(10 * time.Second)
		_, err := f.svc.StartPhone(ctx, id, phone)
		if plaza.ErrorCode(err) != plaza.ERateLimited {
			t.Fatalf("StartPhone 10 s after the previous code, whose attempts ran out: got %v, want rate_limited (retry in 50 s); %d texts sent", err, len(f.sms.sent()))
		}
		f.clock.Advance(50 * time.Second)
		if _, err := f.svc.StartPhone(ctx, id, phone); err != nil {
			t.Errorf("StartPhone 60 s after the previous code: got %v, want a new code", err)
		}
	})
}

func TestVerifyPhoneExpiredCode(t *testing.T) {
	t.Parallel()
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		f := newFixture(t, db, nil)

		// Just before the deadline the code works.
		early := f.register(t, "early")
		phone := f.newPhone()
		if _, err := f.svc.StartPhone(ctx, early, phone); err != nil {
			t.Fatal(err)
		}
		f.clock.Advance(f.cfg.CodeTTL - time.Microsecond)
		if err := f.svc.VerifyPhone(ctx, early, f.sms.lastCode(t, phone)); err != nil {
			t.Errorf("verify 1 µs before expiry: got %v, want success", err)
		}

		// At the deadline it is refused, and gone.
		late := f.register(t, "late")
		phone = f.newPhone()
		if _, err := f.svc.StartPhone(ctx, late, phone); err != nil {
			t.Fatal(err)
		}
		f.clock.Advance(f.cfg.CodeTTL)
		err := f.svc.VerifyPhone(ctx, late, f.sms.lastCode(t, phone))
		wantInvalid(t, err, "code")
		if !strings.Contains(err.Error(), "expired") {
			t.Errorf("got %q, want it to say the code expired", err)
		}
		if phoneStatus(t, f.svc, late) {
			t.Errorf("phone verified with an expired code")
		}
		if n := countRows(t, db, `phone_challenges WHERE account_id = $1`, late); n != 0 {
			t.Errorf("got %d challenges after expiry, want 0", n)
		}
		// A new code may be asked for at once and works.
		f.verifyPhone(t, late, phone)
	})
}

func TestStartPhoneResendWait(t *testing.T) {
	t.Parallel()
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		f := newFixture(t, db, nil)
		id := f.register(t, "alice")
		phone := f.newPhone()
		if _, err := f.svc.StartPhone(ctx, id, phone); err != nil {
			t.Fatal(err)
		}
		first := f.sms.lastCode(t, phone)

		for _, tt := range []struct {
			advance time.Duration
			retry   int
		}{{30 * time.Second, 30}, {29*time.Second + 500*time.Millisecond, 1}} {
			f.clock.Advance(tt.advance)
			_, err := f.svc.StartPhone(ctx, id, phone)
			wantCode(t, err, plaza.ERateLimited)
			if got := plaza.AsError(err).Details["retry_after_seconds"]; got != tt.retry {
				t.Errorf("got retry_after_seconds %v (%T), want %d", got, got, tt.retry)
			}
			if !strings.Contains(err.Error(), fmt.Sprintf("try again in %d seconds", tt.retry)) {
				t.Errorf("got %q, want it to say when to try again", err)
			}
			// The wait is per account, whatever the number.
			_, err = f.svc.StartPhone(ctx, id, f.newPhone())
			wantCode(t, err, plaza.ERateLimited)
		}
		if n := len(f.sms.sent()); n != 1 {
			t.Errorf("got %d texts sent while rate limited, want 1", n)
		}

		// 60 s after the first: a new code, which replaces the old one.
		f.clock.Advance(500 * time.Millisecond)
		ch, err := f.svc.StartPhone(ctx, id, phone)
		if err != nil {
			t.Fatalf("resend after 60 s: %v", err)
		}
		if want := f.clock.Now().Add(time.Minute); !ch.ResendAfter.Equal(want) {
			t.Errorf("got resend after %v, want %v", ch.ResendAfter, want)
		}
		second := f.sms.lastCode(t, phone)
		if first != second {
			err := f.svc.VerifyPhone(ctx, id, first)
			wantInvalid(t, err, "code")
		}
		if err := f.svc.VerifyPhone(ctx, id, second); err != nil {
			t.Errorf("verify the new code: %v", err)
		}
	})
}

func TestStartPhoneSenderFails(t *testing.T) {
	t.Parallel()
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		f := newFixture(t, db, nil)
		id := f.register(t, "alice")
		phone := f.newPhone()
		down := errors.New("gateway down")
		f.sms.failWith(down)
		_, err := f.svc.StartPhone(ctx, id, phone)
		if !errors.Is(err, down) {
			t.Fatalf("got %v, want the sender's error", err)
		}
		if n := countRows(t, db, `phone_challenges`); n != 0 {
			t.Errorf("got %d challenges after a failed send, want 0", n)
		}
		// The code never arrived: asking again at once is fine.
		f.sms.failWith(nil)
		if _, err := f.svc.StartPhone(ctx, id, phone); err != nil {
			t.Fatalf("retry after a failed send: got %v, want a code", err)
		}
		if err := f.svc.VerifyPhone(ctx, id, f.sms.lastCode(t, phone)); err != nil {
			t.Errorf("verify after retry: %v", err)
		}
	})
}

func TestOneAccountPerPhone(t *testing.T) {
	t.Parallel()
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		f := newFixture(t, db, nil)
		a, b := f.register(t, "alice"), f.register(t, "bob")
		phone := f.newPhone()
		f.verifyPhone(t, a, phone)

		_, err := f.svc.StartPhone(ctx, b, phone)
		wantCode(t, err, plaza.EConflict)
		if got := plaza.AsError(err).Details["field"]; got != "phone" {
			t.Errorf("got details field %v, want phone", got)
		}
		wantNoLeak(t, err, phone, strings.TrimPrefix(phone, "+"))
		// Typed differently, it is the same number.
		_, err = f.svc.StartPhone(ctx, b, phone[:3]+" "+phone[3:6]+" "+phone[6:])
		wantCode(t, err, plaza.EConflict)
		if n := len(f.sms.sent()); n != 1 {
			t.Errorf("got %d texts sent, want 1 (none to a number taken)", n)
		}
	})
}

func TestVerifyPhoneRechecksNumberIsFree(t *testing.T) {
	t.Parallel()
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		f := newFixture(t, db, nil)
		a, b := f.register(t, "alice"), f.register(t, "bob")
		phone := f.newPhone()
		// Both ask before either confirms.
		for _, id := range []plaza.ID{a, b} {
			if _, err := f.svc.StartPhone(ctx, id, phone); err != nil {
				t.Fatal(err)
			}
		}
		codes := f.sms.sent()
		if err := f.svc.VerifyPhone(ctx, a, codes[0].Code); err != nil {
			t.Fatal(err)
		}
		wantCode(t, f.svc.VerifyPhone(ctx, b, codes[1].Code), plaza.EConflict)
		if phoneStatus(t, f.svc, b) {
			t.Errorf("second account verified a number the first holds")
		}
	})
}

func TestManyAccountsPerPhoneWhenAllowed(t *testing.T) {
	t.Parallel()
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		f := newFixture(t, db, func(c *identity.Config) { c.OneAccountPerPhone = false })
		a, b := f.register(t, "alice"), f.register(t, "bob")
		phone := f.newPhone()
		f.verifyPhone(t, a, phone)
		f.verifyPhone(t, b, phone)
		if !phoneStatus(t, f.svc, a) || !phoneStatus(t, f.svc, b) {
			t.Errorf("got phone verified %v and %v, want both", phoneStatus(t, f.svc, a), phoneStatus(t, f.svc, b))
		}
		if n := countRows(t, db, `phones WHERE phone = $1`, phone); n != 2 {
			t.Errorf("got %d accounts on the number, want 2", n)
		}
	})
}

func TestChangePhoneNumber(t *testing.T) {
	t.Parallel()
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		f := newFixture(t, db, nil)
		a, b := f.register(t, "alice"), f.register(t, "bob")
		first, second := f.newPhone(), f.newPhone()
		f.verifyPhone(t, a, first)

		// The same number again is refused before any text goes out.
		_, err := f.svc.StartPhone(ctx, a, first)
		wantCode(t, err, plaza.EConflict)
		if !strings.Contains(err.Error(), "already verified on your account") {
			t.Errorf("got %q, want it to say the number is already on the account", err)
		}
		if n := len(f.sms.sent()); n != 1 {
			t.Errorf("got %d texts sent, want 1", n)
		}

		// Another number replaces it, and frees the first for others.
		f.verifyPhone(t, a, second)
		if n := countRows(t, db, `phones WHERE account_id = $1 AND phone = $2`, a, second); n != 1 {
			t.Errorf("got %d rows for the new number, want 1", n)
		}
		if n := countRows(t, db, `phones WHERE account_id = $1`, a); n != 1 {
			t.Errorf("got %d phones on the account, want 1", n)
		}
		f.verifyPhone(t, b, first)
	})
}

func TestVerifyPhoneWithoutChallenge(t *testing.T) {
	t.Parallel()
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		f := newFixture(t, db, nil)
		id := f.register(t, "alice")
		err := f.svc.VerifyPhone(context.Background(), id, "123456")
		wantInvalid(t, err, "code")
		if !strings.Contains(err.Error(), "no code is waiting") {
			t.Errorf("got %q, want it to say no code is waiting", err)
		}
	})
}

func TestVerifyPhoneMalformedCode(t *testing.T) {
	t.Parallel()
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		f := newFixture(t, db, nil)
		id := f.register(t, "alice")
		phone := f.newPhone()
		if _, err := f.svc.StartPhone(ctx, id, phone); err != nil {
			t.Fatal(err)
		}
		for _, code := range []string{"", "12345", "1234567", "12345a", "12 345", "١٢٣٤٥٦", "+12345", "-12345"} {
			err := f.svc.VerifyPhone(ctx, id, code)
			wantInvalid(t, err, "code")
			if !strings.Contains(err.Error(), "6 digits") {
				t.Errorf("VerifyPhone(%q): got %q, want it to ask for 6 digits", code, err)
			}
		}
		// Malformed codes use up no attempts.
		if n := countRows(t, db, `phone_challenges WHERE attempts = 0`); n != 1 {
			t.Errorf("got %d untouched challenges, want 1", n)
		}
		if err := f.svc.VerifyPhone(ctx, id, f.sms.lastCode(t, phone)); err != nil {
			t.Errorf("verify after malformed codes: %v", err)
		}
	})
}

func TestStartPhoneInvalidNumber(t *testing.T) {
	t.Parallel()
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		f := newFixture(t, db, nil)
		id := f.register(t, "alice")
		for _, raw := range []string{"", "not a number", "13912345678", "+86 13912"} {
			_, err := f.svc.StartPhone(ctx, id, raw)
			wantInvalid(t, err, "phone")
		}
		if n := len(f.sms.sent()); n != 0 {
			t.Errorf("got %d texts sent, want 0", n)
		}
		if n := countRows(t, db, `phone_challenges`); n != 0 {
			t.Errorf("got %d challenges, want 0", n)
		}
	})
}

func TestStartPhoneDefaultRegion(t *testing.T) {
	t.Parallel()
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		f := newFixture(t, db, func(c *identity.Config) { c.DefaultRegion = "CN"; c.ServiceName = "Example Chat" })
		id := f.register(t, "alice")
		if _, err := f.svc.StartPhone(context.Background(), id, "139 1234 5678"); err != nil {
			t.Fatal(err)
		}
		msgs := f.sms.sent()
		if len(msgs) != 1 || msgs[0].To != "+8613912345678" {
			t.Fatalf("got messages %+v, want one to +8613912345678", msgs)
		}
		if !strings.Contains(msgs[0].Body, "Example Chat") || !strings.Contains(msgs[0].Body, msgs[0].Code) {
			t.Errorf("got body %q, want the service name and code", msgs[0].Body)
		}
		if err := f.svc.VerifyPhone(context.Background(), id, msgs[0].Code); err != nil {
			t.Fatal(err)
		}
	})
}

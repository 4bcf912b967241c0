package identity_test

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/plaza-im/plaza"
	"github.com/plaza-im/plaza/internal/sqldb"
	"github.com/plaza-im/plaza/internal/sqldb/sqldbtest"
)

// TestHostilePhoneCodeGuessRace fires many wrong guesses at one code at
// once: the attempt cap must hold however they interleave, so exactly
// MaxAttempts of them are compared with the code.
func TestHostilePhoneCodeGuessRace(t *testing.T) {
	t.Parallel()
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		f := newFixture(t, db, nil)
		// Without a guard a round lets a sixth check through only now and
		// then; a few rounds make it show nearly every run.
		for round := range 4 {
			guessRound(t, f, fmt.Sprintf("target%d", round))
		}
	})
}

// guessRound sends a code to a new account and races 150 wrong guesses at
// it.
func guessRound(t *testing.T, f *fixture, handle string) {
	t.Helper()
	ctx := context.Background()
	id := f.register(t, handle)
	phone := f.newPhone()
	if _, err := f.svc.StartPhone(ctx, id, phone); err != nil {
		t.Fatalf("%s: start phone: %v", handle, err)
	}
	code := f.sms.lastCode(t, phone)
	n, err := strconv.Atoi(code)
	if err != nil {
		t.Fatalf("%s: code %q: %v", handle, code, err)
	}
	wrong := fmt.Sprintf("%06d", (n+1)%1_000_000)
	const guesses = 150
	errs := make([]error, guesses)
	race(guesses, func(i int) { errs[i] = f.svc.VerifyPhone(ctx, id, wrong) })
	checked := 0
	for i, err := range errs {
		wantInvalid(t, err, "code")
		rule := plaza.AsError(err).Details["fields"].([]plaza.FieldProblem)[0].Rule
		switch {
		case strings.HasPrefix(rule, "is incorrect"):
			checked++
		case strings.HasPrefix(rule, "too many wrong attempts"):
		default:
			t.Fatalf("%s: guess %d: got rule %q, want incorrect or too many attempts", handle, i, rule)
		}
	}
	if checked != f.cfg.MaxAttempts {
		t.Errorf("%s: got %d of %d concurrent guesses compared with the code, want %d", handle, checked, guesses, f.cfg.MaxAttempts)
	}
	if got := countRows(t, f.db, `phone_challenges WHERE account_id = $1 AND attempts = $2`, id, f.cfg.MaxAttempts); got != 1 {
		t.Errorf("%s: got %d challenges with attempts = %d, want 1", handle, got, f.cfg.MaxAttempts)
	}
	// The right code no longer helps: the attempts are used up.
	wantInvalid(t, f.svc.VerifyPhone(ctx, id, code), "code")
}

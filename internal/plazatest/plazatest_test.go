package plazatest

import (
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/plaza-im/plaza"
)

// fakeTB records whether a helper failed; Fatalf stops the helper as the
// real one does, through runtime.Goexit in a goroutine.
type fakeTB struct {
	testing.TB
	failed atomic.Bool
}

func (f *fakeTB) Helper() {}
func (f *fakeTB) Fatalf(string, ...any) {
	f.failed.Store(true)
	panic(fatal{})
}

type fatal struct{}

// fails reports whether fn failed the test it was given.
func fails(fn func(tb testing.TB)) (failed bool) {
	f := &fakeTB{}
	defer func() {
		if r := recover(); r != nil && r != (fatal{}) {
			panic(r)
		}
		failed = f.failed.Load()
	}()
	fn(f)
	return false
}

func TestWantHelpers(t *testing.T) {
	var probs plaza.Problems
	probs.Add("a", "bad")
	probs.Add("b", "bad")
	invalid := probs.Err()
	tests := []struct {
		name string
		fn   func(tb testing.TB)
		fail bool
	}{
		{"code matches", func(tb testing.TB) { WantCode(tb, plaza.Errorf(plaza.ENotFound, "x"), plaza.ENotFound) }, false},
		{"code differs", func(tb testing.TB) { WantCode(tb, plaza.Errorf(plaza.ENotFound, "x"), plaza.EForbidden) }, true},
		{"nil error", func(tb testing.TB) { WantCode(tb, nil, plaza.ENotFound) }, true},
		{"exact fields", func(tb testing.TB) { WantInvalid(tb, invalid, "a", "b") }, false},
		{"fields out of order", func(tb testing.TB) { WantInvalid(tb, invalid, "b", "a") }, true},
		{"fewer fields", func(tb testing.TB) { WantInvalid(tb, invalid, "a") }, true},
		{"one field among others", func(tb testing.TB) { WantInvalidField(tb, invalid, "b") }, false},
		{"field missing", func(tb testing.TB) { WantInvalidField(tb, invalid, "c") }, true},
		{"not invalid", func(tb testing.TB) { WantInvalidField(tb, plaza.Errorf(plaza.ENotFound, "x"), "a") }, true},
	}
	for _, tt := range tests {
		if got := fails(tt.fn); got != tt.fail {
			t.Errorf("%s: failed = %v, want %v", tt.name, got, tt.fail)
		}
	}
}

func TestEventually(t *testing.T) {
	n := 0
	Eventually(t, time.Minute, func() error {
		if n++; n < 3 {
			return errors.New("not yet")
		}
		return nil
	})
	if n != 3 {
		t.Errorf("cond ran %d times, want 3", n)
	}
	if !fails(func(tb testing.TB) {
		Eventually(tb, time.Millisecond, func() error { return errors.New("never") })
	}) {
		t.Error("Eventually with a condition that never holds did not fail")
	}
}

package account

import (
	"context"
	"errors"
	"strings"
	"testing"
)

var testParams = PasswordParams{MemoryKiB: 64, Time: 1, Threads: 1}

func TestDefaultPasswordParams(t *testing.T) {
	ctx := context.Background()
	h := newHasher(DefaultPasswordParams)
	hash, err := h.Hash(ctx, "correct horse battery staple")
	if err != nil {
		t.Fatal(err)
	}
	const prefix = "$argon2id$v=19$m=19456,t=2,p=1$"
	if !strings.HasPrefix(hash, prefix) {
		t.Fatalf("got hash %q, want prefix %q", hash, prefix)
	}
	ok, stale, err := h.Verify(ctx, "correct horse battery staple", hash)
	if err != nil || !ok || stale {
		t.Errorf("right password: got ok=%v stale=%v err=%v, want ok=true stale=false err=nil", ok, stale, err)
	}
	ok, _, err = h.Verify(ctx, "correct horse battery stapler", hash)
	if err != nil || ok {
		t.Errorf("wrong password: got ok=%v err=%v, want ok=false err=nil", ok, err)
	}
}

func TestHashIsSaltedAndVerifies(t *testing.T) {
	ctx := context.Background()
	h := newHasher(testParams)
	a, err := h.Hash(ctx, "same password")
	if err != nil {
		t.Fatal(err)
	}
	b, err := h.Hash(ctx, "same password")
	if err != nil {
		t.Fatal(err)
	}
	if a == b {
		t.Errorf("got the same hash twice (%q), want different salts", a)
	}
	if strings.Contains(a, "same password") {
		t.Errorf("got hash %q, want it not to contain the password", a)
	}
	for _, hash := range []string{a, b} {
		if ok, _, err := h.Verify(ctx, "same password", hash); err != nil || !ok {
			t.Errorf("verify %q: got ok=%v err=%v, want ok=true", hash, ok, err)
		}
	}
}

func TestVerifyReportsStaleHashes(t *testing.T) {
	ctx := context.Background()
	weak := newHasher(testParams)
	hash, err := weak.Hash(ctx, "password1")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name      string
		params    PasswordParams
		wantStale bool
	}{
		{"same parameters", testParams, false},
		{"more memory", PasswordParams{MemoryKiB: 128, Time: 1, Threads: 1}, true},
		{"more passes", PasswordParams{MemoryKiB: 64, Time: 2, Threads: 1}, true},
		{"less memory", PasswordParams{MemoryKiB: 32, Time: 1, Threads: 1}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ok, stale, err := newHasher(tt.params).Verify(ctx, "password1", hash)
			if err != nil || !ok {
				t.Fatalf("got ok=%v err=%v, want ok=true: a hash verifies with its own parameters", ok, err)
			}
			if stale != tt.wantStale {
				t.Errorf("got stale=%v, want %v", stale, tt.wantStale)
			}
		})
	}
}

func TestVerifyRejectsMalformedHashes(t *testing.T) {
	ctx := context.Background()
	h := newHasher(testParams)
	good, err := h.Hash(ctx, "password1")
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(good, "$")
	join := func(p ...string) string { return strings.Join(p, "$") }
	tests := []struct {
		name, hash string
	}{
		{"empty (a deleted account)", ""},
		{"bcrypt", "$2a$10$abcdefghijklmnopqrstuuABCDEFGHIJKLMNOPQRSTUVWXYZ01234"},
		{"argon2i", join("", "argon2i", parts[2], parts[3], parts[4], parts[5])},
		{"other version", join("", "argon2id", "v=16", parts[3], parts[4], parts[5])},
		{"bad parameters", join("", "argon2id", parts[2], "m=x,t=1,p=1", parts[4], parts[5])},
		{"bad salt", join("", "argon2id", parts[2], parts[3], "!!!", parts[5])},
		{"bad key", join("", "argon2id", parts[2], parts[3], parts[4], "!!!")},
		{"too few parts", join("", "argon2id", parts[2], parts[3], parts[4])},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ok, _, err := h.Verify(ctx, "password1", tt.hash)
			if err == nil || ok {
				t.Errorf("got ok=%v err=%v, want ok=false and an error", ok, err)
			}
		})
	}
}

// TestHashWaitsForASlot checks that hashing queues behind the concurrency
// bound and gives up when its context ends, instead of piling up.
func TestHashWaitsForASlot(t *testing.T) {
	h := newHasher(testParams)
	for range cap(h.sem) {
		if err := h.acquire(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := h.Hash(ctx, "password1"); !errors.Is(err, context.Canceled) {
		t.Errorf("Hash with every slot taken: got %v, want %v", err, context.Canceled)
	}
	if _, _, err := h.Verify(ctx, "password1", h.dummy); !errors.Is(err, context.Canceled) {
		t.Errorf("Verify with every slot taken: got %v, want %v", err, context.Canceled)
	}
	h.release()
	if _, err := h.Hash(context.Background(), "password1"); err != nil {
		t.Errorf("Hash after a slot was released: got %v, want success", err)
	}
}

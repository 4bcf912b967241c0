package account

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"runtime"
	"strings"

	"golang.org/x/crypto/argon2"
)

// PasswordParams are Argon2id's cost parameters.
type PasswordParams struct {
	MemoryKiB uint32
	Time      uint32
	Threads   uint8
}

// DefaultPasswordParams follow OWASP's minimum for Argon2id: 19 MiB, two
// passes, one lane.
var DefaultPasswordParams = PasswordParams{MemoryKiB: 19 * 1024, Time: 2, Threads: 1}

const (
	saltLen = 16
	keyLen  = 32
)

// hasher bounds concurrent hashes: each takes MemoryKiB of memory and tens
// of milliseconds of CPU, so a burst of logins must queue rather than
// exhaust the machine.
type hasher struct {
	params PasswordParams
	sem    chan struct{}
	// dummy is a hash of a random password, verified against when a login
	// names an unknown handle so that both cases cost the same time.
	dummy string
}

func newHasher(p PasswordParams) *hasher {
	h := &hasher{params: p, sem: make(chan struct{}, runtime.GOMAXPROCS(0))}
	var pw [16]byte
	_, _ = rand.Read(pw[:])
	h.dummy = h.encode(pw[:], p)
	return h
}

func (h *hasher) acquire(ctx context.Context) error {
	select {
	case h.sem <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (h *hasher) release() { <-h.sem }

// Hash returns the PHC-format Argon2id hash of password.
func (h *hasher) Hash(ctx context.Context, password string) (string, error) {
	if err := h.acquire(ctx); err != nil {
		return "", err
	}
	defer h.release()
	return h.encode([]byte(password), h.params), nil
}

func (h *hasher) encode(password []byte, p PasswordParams) string {
	salt := make([]byte, saltLen)
	_, _ = rand.Read(salt)
	key := argon2.IDKey(password, salt, p.Time, p.MemoryKiB, p.Threads, keyLen)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, p.MemoryKiB, p.Time, p.Threads,
		base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(key))
}

// Verify reports whether password matches encoded, and whether encoded was
// made with weaker parameters than the current ones (so the caller can
// store a fresh hash).
func (h *hasher) Verify(ctx context.Context, password, encoded string) (ok, stale bool, err error) {
	p, salt, key, err := decodeHash(encoded)
	if err != nil {
		return false, false, err
	}
	if err := h.acquire(ctx); err != nil {
		return false, false, err
	}
	defer h.release()
	got := argon2.IDKey([]byte(password), salt, p.Time, p.MemoryKiB, p.Threads, uint32(len(key)))
	ok = subtle.ConstantTimeCompare(got, key) == 1
	stale = p.MemoryKiB < h.params.MemoryKiB || p.Time < h.params.Time
	return ok, stale, nil
}

// burn verifies against the dummy hash and discards the result.
func (h *hasher) burn(ctx context.Context, password string) {
	_, _, _ = h.Verify(ctx, password, h.dummy)
}

func decodeHash(s string) (PasswordParams, []byte, []byte, error) {
	var p PasswordParams
	parts := strings.Split(s, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return p, nil, nil, fmt.Errorf("password hash: not an argon2id hash")
	}
	var v int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &v); err != nil || v != argon2.Version {
		return p, nil, nil, fmt.Errorf("password hash: unsupported version %q", parts[2])
	}
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.MemoryKiB, &p.Time, &p.Threads); err != nil {
		return p, nil, nil, fmt.Errorf("password hash: bad parameters: %w", err)
	}
	// argon2.IDKey panics on zero passes or lanes; a corrupt row must be an
	// error instead. The upper bounds stop a forged row from costing
	// gigabytes.
	if p.Time < 1 || p.Time > 16 || p.Threads < 1 || p.MemoryKiB < 8*uint32(p.Threads) || p.MemoryKiB > 1<<21 {
		return p, nil, nil, fmt.Errorf("password hash: parameters out of range")
	}
	salt, err := base64.RawStdEncoding.DecodeString(parts[4])
	if err != nil {
		return p, nil, nil, fmt.Errorf("password hash: bad salt: %w", err)
	}
	key, err := base64.RawStdEncoding.DecodeString(parts[5])
	if err != nil {
		return p, nil, nil, fmt.Errorf("password hash: bad key: %w", err)
	}
	return p, salt, key, nil
}

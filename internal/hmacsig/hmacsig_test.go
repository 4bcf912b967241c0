package hmacsig

import (
	"errors"
	"testing"
	"time"
)

func TestVerify(t *testing.T) {
	secret := []byte("s3cret")
	now := time.Unix(1_800_000_000, 0)
	body := []byte(`{"identity_id":"1","approve":true}`)
	ts, sig := Header(secret, now, body)
	tests := []struct {
		name     string
		ts, sig  string
		body     []byte
		now      time.Time
		want     error
		wantPass bool
	}{
		{"valid", ts, sig, body, now, nil, true},
		{"valid within skew", ts, sig, body, now.Add(4 * time.Minute), nil, true},
		{"unsigned", "", "", body, now, ErrMissing, false},
		{"stale", ts, sig, body, now.Add(6 * time.Minute), ErrStale, false},
		{"from the future", ts, sig, body, now.Add(-6 * time.Minute), ErrStale, false},
		{"altered body", ts, sig, []byte(`{"identity_id":"1","approve":false}`), now, ErrSignature, false},
		{"other secret", ts, "sha256=" + Sign([]byte("other"), ts, body), body, now, ErrSignature, false},
		{"no prefix", ts, sig[len("sha256="):], body, now, ErrSignature, false},
		{"not hex", ts, "sha256=zz", body, now, ErrSignature, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Verify(secret, tt.ts, tt.sig, tt.body, tt.now)
			if (err == nil) != tt.wantPass || tt.want != nil && !errors.Is(err, tt.want) {
				t.Errorf("got %v, want %v", err, tt.want)
			}
		})
	}
}

// Package hmacsig signs and checks Plaza's webhooks, outgoing (SMS
// gateway) and incoming (identity providers): an HMAC-SHA256 over
// "TIMESTAMP.BODY", sent as X-Plaza-Timestamp (Unix seconds) and
// X-Plaza-Signature: sha256=HEX. The timestamp bounds replays.
package hmacsig

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strconv"
	"strings"
	"time"
)

// Header names.
const (
	TimestampHeader = "X-Plaza-Timestamp"
	SignatureHeader = "X-Plaza-Signature"
)

// MaxSkew is how far a signed timestamp may be from now.
const MaxSkew = 5 * time.Minute

// Sign returns the hex HMAC-SHA256 of "timestamp.body" under secret.
func Sign(secret []byte, timestamp string, body []byte) string {
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte(timestamp))
	mac.Write([]byte{'.'})
	mac.Write(body)
	return hex.EncodeToString(mac.Sum(nil))
}

// Header returns the signature header value for body signed at ts.
func Header(secret []byte, ts time.Time, body []byte) (timestamp, signature string) {
	timestamp = strconv.FormatInt(ts.Unix(), 10)
	return timestamp, "sha256=" + Sign(secret, timestamp, body)
}

// Errors from Verify. None of them says more than needed to a caller who
// may be forging requests.
var (
	ErrMissing   = errors.New("the request is not signed: send X-Plaza-Timestamp and X-Plaza-Signature")
	ErrStale     = errors.New("the signature's timestamp is more than 5 minutes from now")
	ErrSignature = errors.New("the signature does not match")
)

// Verify checks a signature header against body, in constant time.
func Verify(secret []byte, timestamp, signature string, body []byte, now time.Time) error {
	if timestamp == "" || signature == "" {
		return ErrMissing
	}
	sec, err := strconv.ParseInt(timestamp, 10, 64)
	if err != nil {
		return ErrMissing
	}
	if d := now.Sub(time.Unix(sec, 0)); d > MaxSkew || d < -MaxSkew {
		return ErrStale
	}
	got, ok := strings.CutPrefix(signature, "sha256=")
	if !ok {
		return ErrSignature
	}
	gotRaw, err := hex.DecodeString(got)
	if err != nil {
		return ErrSignature
	}
	want, _ := hex.DecodeString(Sign(secret, timestamp, body))
	if !hmac.Equal(gotRaw, want) {
		return ErrSignature
	}
	return nil
}

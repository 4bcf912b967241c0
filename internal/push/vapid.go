package push

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"time"

	"github.com/plaza-im/plaza/internal/sqldb"
)

// vapidKeys is the server's VAPID key pair (RFC 8292): pushes are signed
// with the private key, and browsers subscribe with the public one. Every
// node of a cluster must use the same pair, so it lives in the database.
// The private key is never logged nor shown.
type vapidKeys struct {
	// privateB64 and publicB64 are base64url without padding: the 32-byte
	// scalar and the 65-byte uncompressed point.
	privateB64, publicB64 string
}

// String keeps the private key out of logs and error messages.
func (k vapidKeys) String() string { return "vapid key " + k.publicB64 }

// loadKeys returns the cluster's VAPID keys, generating and storing them
// if there are none yet. Nodes starting together each try to insert their
// own pair, one wins, and all read back the winner.
func loadKeys(ctx context.Context, db *sqldb.DB) (vapidKeys, error) {
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return vapidKeys{}, fmt.Errorf("generate VAPID key: %w", err)
	}
	d, err := priv.Bytes()
	if err != nil {
		return vapidKeys{}, fmt.Errorf("generate VAPID key: %w", err)
	}
	pub, err := priv.PublicKey.Bytes()
	if err != nil {
		return vapidKeys{}, fmt.Errorf("generate VAPID key: %w", err)
	}
	if _, err := db.Write().ExecContext(ctx, `INSERT INTO push_vapid_keys (id, private_key, public_key, created_at) VALUES (1, $1, $2, $3)
		ON CONFLICT (id) DO NOTHING`, d, pub, time.Now().UnixMicro()); err != nil {
		return vapidKeys{}, fmt.Errorf("store VAPID key: %w", err)
	}
	if err := db.Write().QueryRowContext(ctx, `SELECT private_key, public_key FROM push_vapid_keys WHERE id = 1`).Scan(&d, &pub); err != nil {
		return vapidKeys{}, fmt.Errorf("read VAPID key: %w", err)
	}
	if _, err := ecdsa.ParseRawPrivateKey(elliptic.P256(), d); err != nil || len(pub) != 65 {
		return vapidKeys{}, fmt.Errorf("the stored VAPID key is not a P-256 key pair")
	}
	return vapidKeys{privateB64: base64.RawURLEncoding.EncodeToString(d), publicB64: base64.RawURLEncoding.EncodeToString(pub)}, nil
}

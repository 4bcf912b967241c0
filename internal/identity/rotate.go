package identity

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/plaza-im/plaza/internal/audit"
	"github.com/plaza-im/plaza/internal/sqldb"
)

// RotationReport says what a key rotation did.
type RotationReport struct {
	From, To string // key IDs
	Resealed int
	// Retired is the file the old key was moved to.
	Retired string
}

// RotateKey re-seals every legal identity under a fresh key:
//
//  1. the new key is written to KEYFILE.next; from then on every sealer,
//     including a running server, uses it, and both keys open;
//  2. rows still sealed with another key are re-sealed in batches, until
//     none is left (so rows a server sealed during step 2 are caught too);
//  3. KEYFILE.next replaces KEYFILE, and the old key is kept as
//     KEYFILE.retired-TIMESTAMP for backups taken before the rotation.
//
// An interrupted rotation is finished by running it again.
func RotateKey(ctx context.Context, db *sqldb.DB, kr *Keyring, log *audit.Log, actor audit.Actor) (RotationReport, error) {
	var rep RotationReport
	// The key file itself names the old key: during an interrupted
	// rotation the keyring already seals with the new one.
	cur, err := readKeyFile(kr.path)
	if err != nil {
		return rep, err
	}
	from := cur.id
	to, err := kr.beginRotation()
	if err != nil {
		return rep, fmt.Errorf("rotate key: %w", err)
	}
	rep.From, rep.To = from, to
	_, keys, err := kr.ring()
	if err != nil {
		return rep, err
	}
	newKey := keys[to]
	for {
		n := 0
		err := db.InTx(ctx, func(tx *sql.Tx) error {
			rows, err := resealBatch(ctx, tx, to, 200)
			if err != nil {
				return err
			}
			n = len(rows)
			for _, r := range rows {
				name, err := open(keys, r.legalName, aad(r.ID, "legal_name"))
				if err != nil {
					return fmt.Errorf("identity %s: %w", r.ID, err)
				}
				number, err := open(keys, r.documentNumber, aad(r.ID, "document_number"))
				if err != nil {
					return fmt.Errorf("identity %s: %w", r.ID, err)
				}
				err = updateSealed(ctx, tx, r.ID, newKey.seal(name, aad(r.ID, "legal_name")), newKey.seal(number, aad(r.ID, "document_number")), to)
				if err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return rep, fmt.Errorf("rotate key: %w (the new key stays in %s.next; run the rotation again to finish)", err, kr.path)
		}
		rep.Resealed += n
		if n == 0 {
			break
		}
	}
	if rep.Retired, err = kr.finishRotation(time.Now()); err != nil {
		return rep, fmt.Errorf("rotate key: %w", err)
	}
	err = db.InTx(ctx, func(tx *sql.Tx) error {
		_, err := log.Append(ctx, tx, audit.Record{
			Actor: actor, Action: "identity.key_rotate", TargetType: "key", TargetID: to,
			Details: map[string]any{"from": from, "to": to, "resealed": rep.Resealed},
		})
		return err
	})
	return rep, err
}

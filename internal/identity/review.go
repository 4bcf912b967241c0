package identity

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/plaza-im/plaza"
	"github.com/plaza-im/plaza/internal/account"
	"github.com/plaza-im/plaza/internal/audit"
	"github.com/plaza-im/plaza/internal/sqldb"
)

// Submission is what a person sends to verify their legal identity.
type Submission struct {
	LegalName       string
	DocumentType    string
	DocumentNumber  string
	DocumentCountry string
}

// Identity is a submission as its owner sees it: never the name or number.
type Identity struct {
	ID              plaza.ID
	AccountID       plaza.ID
	Status          string
	DocumentType    string
	DocumentCountry string
	SubmittedAt     time.Time
	DecidedAt       time.Time
	Reason          string
}

// Review is a submission as the compliance role sees it, opened.
type Review struct {
	Identity
	LegalName      string
	DocumentNumber string
	DecidedBy      string
	// OpenError is set when the sealed fields do not open (tampering, or
	// a key that is gone); the other fields are still shown.
	OpenError string
}

// aad binds a sealed field to its row and name, so a ciphertext copied to
// another row or field does not open.
func aad(id plaza.ID, field string) []byte {
	return []byte("plaza/identity/" + id.String() + "/" + field)
}

// Submit records a legal identity for review. It needs the level the policy
// sets for identity.submit (a verified phone by default); a pending or
// verified identity cannot be replaced.
func (s *Service) Submit(ctx context.Context, accountID plaza.ID, sub Submission) (Identity, error) {
	if err := s.Require(ctx, accountID, IdentitySubmit); err != nil {
		return Identity{}, err
	}
	now := s.now()
	var p plaza.Problems
	name, rule := cleanLegalName(sub.LegalName)
	if rule != "" {
		p.Add("legal_name", rule)
	}
	if sub.DocumentType != NationalID && sub.DocumentType != Passport {
		p.Add("document_type", "must be national_id or passport")
	}
	country := strings.ToUpper(strings.TrimSpace(sub.DocumentCountry))
	if rule := countryRule(country); rule != "" {
		p.Add("document_country", rule)
	}
	number := normalizeDocumentNumber(sub.DocumentNumber)
	if rule := documentNumberRule(sub.DocumentType, country, number, now); rule != "" {
		p.Add("document_number", rule)
	}
	if err := p.Err(); err != nil {
		return Identity{}, err
	}

	id := Identity{ID: plaza.NewID(), AccountID: accountID, Status: StatusPending, DocumentType: sub.DocumentType, DocumentCountry: country, SubmittedAt: now}
	err := s.db.InTx(ctx, func(tx *sql.Tx) error {
		st, err := status(ctx, tx, accountID)
		if err != nil {
			return err
		}
		switch st.Identity {
		case StatusPending:
			return plaza.Errorf(plaza.EConflict, "an identity is already waiting for review")
		case StatusVerified:
			return plaza.Errorf(plaza.EConflict, "your identity is already verified")
		}
		// Seal inside the transaction: on SQLite the write lock orders it
		// against a key rotation's batches.
		sealedName, err := s.keys.Seal([]byte(name), aad(id.ID, "legal_name"))
		if err != nil {
			return err
		}
		sealedNumber, err := s.keys.Seal([]byte(number), aad(id.ID, "document_number"))
		if err != nil {
			return err
		}
		err = insertIdentity(ctx, tx, id, sealedName, sealedNumber, sealedKeyID(sealedName))
		if sqldb.IsUniqueViolation(err) {
			// identities_open: a concurrent submission won.
			return plaza.Errorf(plaza.EConflict, "an identity is already waiting for review")
		}
		return err
	})
	if err != nil {
		return Identity{}, fmt.Errorf("submit identity: %w", err)
	}
	return id, nil
}

// Latest returns the account's newest submission.
func (s *Service) Latest(ctx context.Context, accountID plaza.ID) (Identity, error) {
	r, err := latestIdentity(ctx, s.db.Read(), accountID)
	if err != nil {
		return Identity{}, err
	}
	return r.Identity, nil
}

// ReviewStatuses are the filters the review queue accepts.
var ReviewStatuses = []string{StatusPending, StatusVerified, StatusRejected}

// Reviews lists submissions with the given status, oldest first, after
// the cursor, and opens their sealed fields for viewer. Every identity
// shown is written to the audit log as read by viewer, in the same
// transaction that reads it: no look goes unrecorded.
func (s *Service) Reviews(ctx context.Context, viewer audit.Actor, status string, after plaza.ID, limit int) ([]Review, error) {
	valid := false
	for _, st := range ReviewStatuses {
		valid = valid || st == status
	}
	if !valid {
		return nil, plaza.Invalid("status", "must be pending, verified or rejected")
	}
	if limit < 1 || limit > 500 {
		return nil, plaza.Invalid("limit", "must be 1–500")
	}
	var out []Review
	err := s.db.InTx(ctx, func(tx *sql.Tx) error {
		rows, err := listIdentities(ctx, tx, status, after, limit)
		if err != nil {
			return err
		}
		out = make([]Review, 0, len(rows))
		for _, r := range rows {
			rev := Review{Identity: r.Identity, DecidedBy: r.decidedBy}
			name, err1 := s.keys.Open(r.legalName, aad(r.ID, "legal_name"))
			number, err2 := s.keys.Open(r.documentNumber, aad(r.ID, "document_number"))
			if err1 != nil || err2 != nil {
				rev.OpenError = ErrDecrypt.Error()
			} else {
				rev.LegalName, rev.DocumentNumber = string(name), string(number)
			}
			if _, err := s.audit.Append(ctx, tx, audit.Record{
				Actor: viewer, Action: "identity.read", TargetType: "account", TargetID: r.AccountID.String(),
				Details: map[string]any{"identity_id": r.ID.String()},
			}); err != nil {
				return err
			}
			out = append(out, rev)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("identity reviews: %w", err)
	}
	return out, nil
}

// Decide approves or rejects a pending submission. A rejection needs a
// reason, which the person sees. actor is a compliance user or, for a
// provider's webhook, "provider:NAME"; nobody decides their own.
func (s *Service) Decide(ctx context.Context, actor audit.Actor, id plaza.ID, approve bool, reason string) (Identity, error) {
	reason = strings.TrimSpace(reason)
	if n := utf8.RuneCountInString(reason); !approve && n == 0 || n > 1000 {
		return Identity{}, plaza.Invalid("reason", "must be 1–1000 characters (a rejection must say why)")
	}
	to, action := StatusRejected, "identity.reject"
	if approve {
		to, action = StatusVerified, "identity.approve"
	}
	now := s.now()
	var out Identity
	err := s.db.InTx(ctx, func(tx *sql.Tx) error {
		r, err := getIdentity(ctx, tx, id)
		if err != nil {
			return err
		}
		if r.Status != StatusPending {
			return plaza.Errorf(plaza.EConflict, "this identity was already decided: %s", r.Status)
		}
		if err := account.RefuseOwn(actor, "an identity", r.AccountID); err != nil {
			return err
		}
		if err := decideIdentity(ctx, tx, id, to, actor.Name, reason, now); err != nil {
			return err
		}
		out = r.Identity
		out.Status, out.DecidedAt, out.Reason = to, now, reason
		_, err = s.audit.Append(ctx, tx, audit.Record{
			Actor: actor, Action: action, TargetType: "account", TargetID: r.AccountID.String(), Reason: reason,
			Details: map[string]any{"identity_id": id.String(), "document_type": r.DocumentType, "document_country": r.DocumentCountry},
		})
		return err
	})
	if err != nil {
		return Identity{}, fmt.Errorf("decide identity: %w", err)
	}
	return out, nil
}

// DeleteAccountData removes an account's phone, pending code and
// identities; account deletion calls it in its own transaction.
func DeleteAccountData(ctx context.Context, tx *sql.Tx, accountID plaza.ID) error {
	for _, q := range []string{
		`DELETE FROM phone_challenges WHERE account_id = $1`,
		`DELETE FROM phones WHERE account_id = $1`,
		`DELETE FROM identities WHERE account_id = $1`,
	} {
		if _, err := tx.ExecContext(ctx, q, accountID); err != nil {
			return fmt.Errorf("delete identity data: %w", err)
		}
	}
	return nil
}

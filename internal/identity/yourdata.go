package identity

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/plaza-im/plaza"
)

// YourVerification is what an account's export holds of its verification:
// whether and when a phone number was verified, with its last digits, and
// for each identity it submitted the status, the document's type and
// issuing country and the reviewer's reason.
//
// The number itself is left out, as everywhere Plaza answers: an export
// may be read by a legacy contact, and the number is a key to the person
// elsewhere (it signs them in to other services). Its last four digits
// say which number it was.
//
// The legal name and document number are left out on purpose. They are
// sealed with the operator's key and opened only for the compliance role,
// each look written to the audit log; an export opened them for a process
// that no one reviews, into a file that may be downloaded by a legacy
// contact or left on a shared computer. The person typed them in and has
// the document; the export says what was checked and what came of it.
type YourVerification struct {
	Phone       *YourPhone           `json:"phone"`
	Identity    string               `json:"identity"`
	Submissions []YourIdentityRecord `json:"identity_submissions"`
}

// YourPhone is an account's verified phone number, by its last digits.
type YourPhone struct {
	Ending     string    `json:"number_ending"`
	VerifiedAt time.Time `json:"verified_at"`
}

// YourIdentityRecord is one identity submission, without its sealed
// fields.
type YourIdentityRecord struct {
	ID              plaza.ID   `json:"id"`
	Status          string     `json:"status"`
	DocumentType    string     `json:"document_type"`
	DocumentCountry string     `json:"document_country"`
	SubmittedAt     time.Time  `json:"submitted_at"`
	DecidedAt       *time.Time `json:"decided_at,omitempty"`
	Reason          string     `json:"reason,omitempty"`
}

// yourSubmissionsMax bounds the submissions listed: each waits for a
// review before the next may be made, so real accounts have a handful.
const yourSubmissionsMax = 100

// YourVerification returns an account's verification data for its export.
func (s *Service) YourVerification(ctx context.Context, accountID plaza.ID) (YourVerification, error) {
	v := YourVerification{Identity: StatusNone, Submissions: []YourIdentityRecord{}}
	var number string
	var at int64
	err := s.db.Read().QueryRowContext(ctx, `SELECT phone, verified_at FROM phones WHERE account_id = $1`, accountID).Scan(&number, &at)
	switch {
	case err == nil:
		v.Phone = &YourPhone{Ending: number[max(len(number)-4, 0):], VerifiedAt: fromMicros(at)}
	case !errors.Is(err, sql.ErrNoRows):
		return YourVerification{}, fmt.Errorf("your verification: %w", err)
	}
	// Only the columns that are not sealed are read.
	rows, err := s.db.Read().QueryContext(ctx, `SELECT id, status, document_type, document_country, submitted_at, decided_at, reason
		FROM identities WHERE account_id = $1 ORDER BY id DESC LIMIT $2`, accountID, yourSubmissionsMax)
	if err != nil {
		return YourVerification{}, fmt.Errorf("your verification: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var r YourIdentityRecord
		var submitted int64
		var decided sql.NullInt64
		if err := rows.Scan(&r.ID, &r.Status, &r.DocumentType, &r.DocumentCountry, &submitted, &decided, &r.Reason); err != nil {
			return YourVerification{}, fmt.Errorf("your verification: %w", err)
		}
		r.SubmittedAt = fromMicros(submitted)
		if decided.Valid {
			t := fromMicros(decided.Int64)
			r.DecidedAt = &t
		}
		v.Submissions = append(v.Submissions, r)
	}
	if err := rows.Err(); err != nil {
		return YourVerification{}, fmt.Errorf("your verification: %w", err)
	}
	if len(v.Submissions) > 0 {
		v.Identity = v.Submissions[0].Status
	}
	return v, nil
}

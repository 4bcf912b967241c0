package plaza

import (
	"errors"
	"fmt"
	"strings"
)

// Error codes shared by every layer. The HTTP layer maps each to a status;
// clients branch on the code, never on the message.
const (
	EInvalid                 = "invalid_request"
	EUnauthenticated         = "unauthenticated"
	EForbidden               = "forbidden"
	ENotFound                = "not_found"
	EConflict                = "conflict"
	EGone                    = "gone"
	ETooLarge                = "payload_too_large"
	EUnsupportedMediaType    = "unsupported_media_type"
	ERateLimited             = "rate_limited"
	EInternal                = "internal"
	ETermsAcceptanceRequired = "terms_acceptance_required"
	EAgeRequirement          = "age_requirement"
	EVerificationRequired    = "verification_required"
	EAccountSuspended        = "account_suspended"
	EAccountClosed           = "account_closed"
	ENotAContact             = "not_a_contact"
	EBlocked                 = "blocked"
	ERecallWindowExpired     = "recall_window_expired"
	ECategoryNotAuthorized   = "category_not_authorized"
	EQuotaExceeded           = "quota_exceeded"
	ECursorExpired           = "cursor_expired"
	EInsufficientStorage     = "insufficient_storage"
	ERequestTimeout          = "request_timeout"
	EUnavailable             = "unavailable"
)

// Error is an error with a stable code, a message a person can read and
// optional structured details. Messages must never contain secrets or
// legal identity: they are sent to clients as they are.
type Error struct {
	Code    string
	Message string
	Details map[string]any
}

// Error implements the error interface.
func (e *Error) Error() string {
	return e.Code + ": " + e.Message
}

// Errorf returns an *Error with the given code and a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// WithDetails returns a copy of e carrying the given details.
func (e *Error) WithDetails(details map[string]any) *Error {
	c := *e
	c.Details = details
	return &c
}

// ErrorCode returns the code of the first *Error in err's chain, EInternal
// for any other non-nil error and "" for nil.
func ErrorCode(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return EInternal
}

// AsError returns the first *Error in err's chain, or nil.
func AsError(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return nil
}

// FieldProblem names a request field and the rule its value broke.
type FieldProblem struct {
	Field string `json:"field"`
	Rule  string `json:"rule"`
}

// Problems collects validation failures so a caller hears about every bad
// field at once rather than one per round trip.
type Problems struct {
	list []FieldProblem
}

// Add records that field broke rule.
func (p *Problems) Add(field, rule string) {
	p.list = append(p.list, FieldProblem{Field: field, Rule: rule})
}

// Err returns nil when nothing was added, otherwise an EInvalid error whose
// message lists every problem and whose details carry them as "fields".
func (p *Problems) Err() error {
	if len(p.list) == 0 {
		return nil
	}
	parts := make([]string, len(p.list))
	for i, f := range p.list {
		parts[i] = f.Field + ": " + f.Rule
	}
	return &Error{
		Code:    EInvalid,
		Message: strings.Join(parts, "; "),
		Details: map[string]any{"fields": p.list},
	}
}

// Invalid returns an EInvalid error for a single field.
func Invalid(field, rule string) error {
	var p Problems
	p.Add(field, rule)
	return p.Err()
}

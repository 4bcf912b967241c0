package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"mime"
	"net/http"
	"strconv"
	"strings"

	"github.com/plaza-im/plaza"
	"github.com/plaza-im/plaza/internal/sqldb"
	"github.com/plaza-im/plaza/internal/strictjson"
)

// statusOf maps error codes to HTTP statuses. It is the only place that
// does.
var statusOf = map[string]int{
	plaza.EInvalid:                 http.StatusBadRequest,
	plaza.EUnauthenticated:         http.StatusUnauthorized,
	plaza.EForbidden:               http.StatusForbidden,
	plaza.ENotFound:                http.StatusNotFound,
	eMethodNotAllowed:              http.StatusMethodNotAllowed,
	plaza.EConflict:                http.StatusConflict,
	plaza.EGone:                    http.StatusGone,
	plaza.ETooLarge:                http.StatusRequestEntityTooLarge,
	plaza.EUnsupportedMediaType:    http.StatusUnsupportedMediaType,
	plaza.ERateLimited:             http.StatusTooManyRequests,
	plaza.EInternal:                http.StatusInternalServerError,
	plaza.ETermsAcceptanceRequired: http.StatusForbidden,
	plaza.EAgeRequirement:          http.StatusForbidden,
	plaza.EVerificationRequired:    http.StatusForbidden,
	plaza.EAccountSuspended:        http.StatusForbidden,
	plaza.EAccountClosed:           http.StatusForbidden,
	plaza.ENotAContact:             http.StatusForbidden,
	plaza.EBlocked:                 http.StatusForbidden,
	plaza.ERecallWindowExpired:     http.StatusForbidden,
	plaza.ECategoryNotAuthorized:   http.StatusForbidden,
	plaza.EQuotaExceeded:           http.StatusTooManyRequests,
	plaza.ECursorExpired:           http.StatusGone,
	plaza.EInsufficientStorage:     http.StatusInsufficientStorage,
	plaza.ERequestTimeout:          http.StatusRequestTimeout,
	plaza.EUnavailable:             http.StatusServiceUnavailable,
}

const eMethodNotAllowed = "method_not_allowed"

type errorBody struct {
	Error errorDetail `json:"error"`
}

type errorDetail struct {
	Code    string         `json:"code"`
	Message string         `json:"message"`
	Details map[string]any `json:"details,omitempty"`
}

// writeError writes err in the API's error shape. Internal errors are
// logged once here, with the request ID, and the client hears only
// "internal error".
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	e := plaza.AsError(err)
	if sqldb.IsDiskFull(err) || (e != nil && e.Code == plaza.EInsufficientStorage) {
		// Not the client's fault, and not a bug: say so, and let
		// /healthz and /metrics report it.
		s.storage.markFull()
		s.log.ErrorContext(r.Context(), "storage full", "route", infoOf(r).route, "err", err)
		e = plaza.AsError(sqldb.ErrDiskFull)
	}
	if e == nil || statusOf[e.Code] == 0 {
		info := infoOf(r)
		s.log.ErrorContext(r.Context(), "internal error", "request_id", info.requestID, "route", info.route, "err", err)
		e = &plaza.Error{Code: plaza.EInternal, Message: "internal error", Details: map[string]any{"request_id": info.requestID}}
	}
	status := statusOf[e.Code]
	switch status {
	case http.StatusUnauthorized:
		w.Header().Set("WWW-Authenticate", `Bearer realm="plaza"`)
	case http.StatusTooManyRequests:
		if secs, ok := e.Details["retry_after_seconds"].(int); ok {
			w.Header().Set("Retry-After", strconv.Itoa(secs))
		}
	}
	_ = writeJSON(w, status, errorBody{Error: errorDetail{Code: e.Code, Message: e.Message, Details: e.Details}})
}

func writeJSON(w http.ResponseWriter, status int, v any) error {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

func noContent(w http.ResponseWriter) error {
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// rateLimited returns the error for a refused event.
func rateLimited(what string, retryAfterNanos int64) error {
	secs := int(math.Ceil(float64(retryAfterNanos) / 1e9))
	if secs < 1 {
		secs = 1
	}
	return plaza.Errorf(plaza.ERateLimited, "too many %s; try again in %d seconds", what, secs).
		WithDetails(map[string]any{"retry_after_seconds": secs})
}

// decode reads a JSON object into v. The body must be application/json,
// at most MaxBodyBytes, one object, and name only known fields; otherwise
// the error says which rule it broke.
func (s *Server) decode(w http.ResponseWriter, r *http.Request, v any) error {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || mt != "application/json" {
			return plaza.Errorf(plaza.EUnsupportedMediaType, "send the body as JSON with Content-Type: application/json")
		}
	}
	data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.cfg.MaxBodyBytes))
	if err != nil {
		return decodeError(err, s.cfg.MaxBodyBytes)
	}
	// Strings with NUL or bad UTF-8, repeated keys and keys in the wrong
	// case are refused before decoding: encoding/json would let them all
	// through, silently changed or not.
	if err := strictjson.Check(data, v); err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return decodeError(err, s.cfg.MaxBodyBytes)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return plaza.Invalid("body", "must hold a single JSON object")
	}
	return nil
}

func decodeError(err error, limit int64) error {
	var (
		tooLarge *http.MaxBytesError
		syntax   *json.SyntaxError
		typ      *json.UnmarshalTypeError
	)
	switch {
	case errors.As(err, &tooLarge):
		return plaza.Errorf(plaza.ETooLarge, "the body is larger than %d bytes", limit).WithDetails(map[string]any{"limit_bytes": limit})
	case errors.Is(err, io.EOF):
		return plaza.Invalid("body", "must be a JSON object")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return plaza.Invalid("body", "is truncated JSON")
	case errors.As(err, &syntax):
		return plaza.Invalid("body", fmt.Sprintf("is not valid JSON (at byte %d)", syntax.Offset))
	case errors.As(err, &typ):
		if typ.Field == "" {
			return plaza.Invalid("body", "must be a JSON object")
		}
		return plaza.Invalid(typ.Field, "must be "+jsonKind(typ.Type.Kind().String()))
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		field := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return plaza.Invalid(field, "is not a known field")
	default:
		// Custom unmarshalers (IDs) report their own rule.
		return plaza.Invalid("body", err.Error())
	}
}

func jsonKind(goKind string) string {
	switch goKind {
	case "string":
		return "a string"
	case "bool":
		return "true or false"
	case "int", "int8", "int16", "int32", "int64", "uint", "uint8", "uint16", "uint32", "uint64":
		return "an integer"
	case "float32", "float64":
		return "a number"
	case "slice", "array":
		return "an array"
	case "map", "struct":
		return "an object"
	}
	return "of another type"
}

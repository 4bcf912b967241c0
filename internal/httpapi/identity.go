package httpapi

import (
	"bytes"
	"io"
	"net/http"
	"time"

	"github.com/plaza-im/plaza"
	"github.com/plaza-im/plaza/internal/audit"
	"github.com/plaza-im/plaza/internal/hmacsig"
	"github.com/plaza-im/plaza/internal/identity"
)

// Wire shapes of the identity endpoints. Only reviewJSON, served to the
// compliance role, ever carries a legal name or document number.

type identityJSON struct {
	ID              plaza.ID   `json:"id"`
	AccountID       plaza.ID   `json:"account_id"`
	Status          string     `json:"status"`
	DocumentType    string     `json:"document_type"`
	DocumentCountry string     `json:"document_country"`
	SubmittedAt     time.Time  `json:"submitted_at"`
	DecidedAt       *time.Time `json:"decided_at,omitempty"`
	Reason          string     `json:"reason,omitempty"`
}

func toIdentityJSON(i identity.Identity) identityJSON {
	out := identityJSON{ID: i.ID, AccountID: i.AccountID, Status: i.Status, DocumentType: i.DocumentType,
		DocumentCountry: i.DocumentCountry, SubmittedAt: i.SubmittedAt, Reason: i.Reason}
	if !i.DecidedAt.IsZero() {
		d := i.DecidedAt
		out.DecidedAt = &d
	}
	return out
}

type reviewJSON struct {
	identityJSON
	LegalName      string `json:"legal_name"`
	DocumentNumber string `json:"document_number"`
	DecidedBy      string `json:"decided_by,omitempty"`
	OpenError      string `json:"open_error,omitempty"`
}

func (s *Server) startPhone(w http.ResponseWriter, r *http.Request) error {
	var req struct {
		Phone string `json:"phone"`
	}
	if err := s.decode(w, r, &req); err != nil {
		return err
	}
	if ok, retry := s.phoneIP.Allow(s.clientIP(r).String()); !ok {
		return rateLimited("verification codes requested from your address", int64(retry))
	}
	if phone, err := identity.NormalizePhone(req.Phone, s.cfg.PhoneRegion); err == nil {
		if ok, retry := s.phoneNumber.Allow(phone); !ok {
			return rateLimited("verification codes sent to this number", int64(retry))
		}
	}
	ch, err := s.identity.StartPhone(r.Context(), authOf(r).Account.ID, req.Phone)
	if err != nil {
		return err
	}
	delivery := "sms"
	if s.cfg.SMSOutbox {
		delivery = "outbox"
	}
	return writeJSON(w, http.StatusAccepted, map[string]any{"status": "sent", "expires_at": ch.ExpiresAt, "resend_after": ch.ResendAfter, "delivery": delivery})
}

func (s *Server) verifyPhone(w http.ResponseWriter, r *http.Request) error {
	var req struct {
		Code string `json:"code"`
	}
	if err := s.decode(w, r, &req); err != nil {
		return err
	}
	id := authOf(r).Account.ID
	// The service caps attempts per code; these bound guessing across
	// codes and across the accounts one address controls.
	if ok, retry := s.phoneVerifyAccount.Allow(id.String()); !ok {
		return rateLimited("code entries for this account", int64(retry))
	}
	if ok, retry := s.phoneVerifyIP.Allow(s.clientIP(r).String()); !ok {
		return rateLimited("code entries from your address", int64(retry))
	}
	if err := s.identity.VerifyPhone(r.Context(), id, req.Code); err != nil {
		return err
	}
	st, err := s.identity.Status(r.Context(), id)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, toVerificationJSON(st))
}

func (s *Server) submitIdentity(w http.ResponseWriter, r *http.Request) error {
	var req struct {
		LegalName       string `json:"legal_name"`
		DocumentType    string `json:"document_type"`
		DocumentNumber  string `json:"document_number"`
		DocumentCountry string `json:"document_country"`
	}
	if err := s.decode(w, r, &req); err != nil {
		return err
	}
	id, err := s.identity.Submit(r.Context(), authOf(r).Account.ID, identity.Submission{
		LegalName: req.LegalName, DocumentType: req.DocumentType, DocumentNumber: req.DocumentNumber, DocumentCountry: req.DocumentCountry,
	})
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusAccepted, toIdentityJSON(id))
}

func (s *Server) getIdentity(w http.ResponseWriter, r *http.Request) error {
	id, err := s.identity.Latest(r.Context(), authOf(r).Account.ID)
	if err != nil {
		if plaza.ErrorCode(err) == plaza.ENotFound {
			return plaza.Errorf(plaza.ENotFound, "you have not submitted an identity")
		}
		return err
	}
	return writeJSON(w, http.StatusOK, toIdentityJSON(id))
}

func (s *Server) listIdentityReviews(w http.ResponseWriter, r *http.Request) error {
	status := r.URL.Query().Get("status")
	if status == "" {
		status = identity.StatusPending
	}
	limit, err := queryInt(r, "limit", 50, 1, 200)
	if err != nil {
		return err
	}
	var after plaza.ID
	if c := r.URL.Query().Get("cursor"); c != "" {
		if after, err = plaza.ParseID("cursor", c); err != nil {
			return plaza.Invalid("cursor", "must be a next_cursor from a previous page")
		}
	}
	reviews, err := s.identity.Reviews(r.Context(), actorOf(r), status, after, int(limit))
	if err != nil {
		return err
	}
	items := make([]reviewJSON, 0, len(reviews))
	for _, rv := range reviews {
		items = append(items, reviewJSON{identityJSON: toIdentityJSON(rv.Identity), LegalName: rv.LegalName,
			DocumentNumber: rv.DocumentNumber, DecidedBy: rv.DecidedBy, OpenError: rv.OpenError})
	}
	return writeJSON(w, http.StatusOK, idPage(items, limit, func(rv reviewJSON) plaza.ID { return rv.ID }))
}

type decisionRequest struct {
	Approve *bool  `json:"approve"`
	Reason  string `json:"reason"`
}

func (d decisionRequest) check() error {
	if d.Approve == nil {
		return plaza.Invalid("approve", "is required: true or false")
	}
	return nil
}

// readDecision reads a reviewer's decision on the item named by the {id}
// path value (what names it in a not-found error).
func (s *Server) readDecision(w http.ResponseWriter, r *http.Request, what string) (plaza.ID, decisionRequest, error) {
	var req decisionRequest
	id, err := pathID(r, "id")
	if err != nil {
		return 0, req, plaza.Errorf(plaza.ENotFound, "%s not found", what)
	}
	if err := s.decode(w, r, &req); err != nil {
		return 0, req, err
	}
	return id, req, req.check()
}

// idPage is a page of a list ordered by ID: when it is full, the last
// item's ID is the cursor of the next page.
func idPage[T any](items []T, limit int64, id func(T) plaza.ID) list[T] {
	out := list[T]{Items: items}
	if len(items) > 0 && int64(len(items)) == limit {
		out.NextCursor = id(items[len(items)-1]).String()
	}
	return out
}

func (s *Server) decideIdentity(w http.ResponseWriter, r *http.Request) error {
	id, req, err := s.readDecision(w, r, "identity review")
	if err != nil {
		return err
	}
	out, err := s.identity.Decide(r.Context(), actorOf(r), id, *req.Approve, req.Reason)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, toIdentityJSON(out))
}

// identityWebhook takes a decision from an external verification provider.
// The body must be signed with the provider's secret (package hmacsig);
// an unknown provider, a missing, stale or wrong signature all get the
// same 401 and change nothing.
func (s *Server) identityWebhook(w http.ResponseWriter, r *http.Request) error {
	name := r.PathValue("provider")
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 64<<10))
	if err != nil {
		return plaza.Errorf(plaza.ETooLarge, "the body is larger than 64 KiB")
	}
	secret, known := s.cfg.IdentityProviders[name]
	if !known {
		secret = []byte("no such provider: compare anyway to keep timing alike")
	}
	err = hmacsig.Verify(secret, r.Header.Get(hmacsig.TimestampHeader), r.Header.Get(hmacsig.SignatureHeader), body, time.Now())
	if err != nil || !known {
		return plaza.Errorf(plaza.EUnauthenticated, "the webhook signature is missing or invalid")
	}
	var req struct {
		IdentityID plaza.ID `json:"identity_id"`
		decisionRequest
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	if err := s.decode(w, r, &req); err != nil {
		return err
	}
	if req.IdentityID == 0 {
		return plaza.Invalid("identity_id", "is required")
	}
	if err := req.check(); err != nil {
		return err
	}
	out, err := s.identity.Decide(r.Context(), audit.Actor{Name: "provider:" + name}, req.IdentityID, *req.Approve, req.Reason)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, map[string]any{"id": out.ID, "status": out.Status})
}

type verificationJSON struct {
	Phone          bool   `json:"phone"`
	Identity       string `json:"identity"`
	IdentityReason string `json:"identity_reason,omitempty"`
}

func toVerificationJSON(st identity.Status) verificationJSON {
	return verificationJSON{Phone: st.Phone, Identity: st.Identity, IdentityReason: st.Reason}
}

func (s *Server) verificationPolicy(w http.ResponseWriter, r *http.Request) error {
	out := map[string]string{}
	for a, l := range s.identity.Policy() {
		out[string(a)] = l.String()
	}
	return writeJSON(w, http.StatusOK, out)
}

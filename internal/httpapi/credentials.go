package httpapi

import (
	"context"
	"net/http"
	"time"

	"github.com/plaza-im/plaza"
	"github.com/plaza-im/plaza/internal/audit"
	"github.com/plaza-im/plaza/internal/channel"
	"github.com/plaza-im/plaza/internal/microblog"
)

// Credentials are granted, listed and revoked by admins the same way for
// channels (/admin/channels/{id}/credentials) and accounts
// (/admin/accounts/{id}/credentials); these handlers differ only in the
// holder's path ID and the domain that keeps the credentials.

func (s *Server) grantCredential(w http.ResponseWriter, r *http.Request) error {
	return grantCredential(s, w, r, channelID, s.channels.GrantCredential)
}

func (s *Server) listCredentials(w http.ResponseWriter, r *http.Request) error {
	return listCredentials(w, r, channelID, s.channels.Credentials)
}

func (s *Server) revokeCredential(w http.ResponseWriter, r *http.Request) error {
	return revokeCredential(w, r, channelID, s.channels.RevokeCredential)
}

func (s *Server) grantAccountCredential(w http.ResponseWriter, r *http.Request) error {
	return grantCredential(s, w, r, accountID, s.microblog.GrantCredential)
}

func (s *Server) listAccountCredentials(w http.ResponseWriter, r *http.Request) error {
	return listCredentials(w, r, accountID, s.microblog.Credentials)
}

func (s *Server) revokeAccountCredential(w http.ResponseWriter, r *http.Request) error {
	return revokeCredential(w, r, accountID, s.microblog.RevokeCredential)
}

// The credential types the handlers serve.
type credential interface {
	channel.Credential | microblog.Credential
}

func grantCredential[C credential](s *Server, w http.ResponseWriter, r *http.Request, holder func(*http.Request) (plaza.ID, error),
	grant func(context.Context, audit.Actor, plaza.ID, string, time.Time) (C, error)) error {
	id, err := holder(r)
	if err != nil {
		return err
	}
	var req struct {
		Category  string    `json:"category"`
		ExpiresAt time.Time `json:"expires_at"`
	}
	if err := s.decode(w, r, &req); err != nil {
		return err
	}
	cr, err := grant(r.Context(), actorOf(r), id, req.Category, req.ExpiresAt)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, cr)
}

func listCredentials[C credential](w http.ResponseWriter, r *http.Request, holder func(*http.Request) (plaza.ID, error),
	credentials func(context.Context, plaza.ID) ([]C, error)) error {
	id, err := holder(r)
	if err != nil {
		return err
	}
	cs, err := credentials(r.Context(), id)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, list[C]{Items: cs})
}

func revokeCredential(w http.ResponseWriter, r *http.Request, holder func(*http.Request) (plaza.ID, error),
	revoke func(context.Context, audit.Actor, plaza.ID, plaza.ID, string) error) error {
	id, err := holder(r)
	if err != nil {
		return err
	}
	cid, err := pathID(r, "credential_id")
	if err != nil {
		return plaza.Errorf(plaza.ENotFound, "credential not found")
	}
	if err := revoke(r.Context(), actorOf(r), id, cid, r.URL.Query().Get("reason")); err != nil {
		return err
	}
	return noContent(w)
}

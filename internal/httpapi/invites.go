package httpapi

import (
	"net/http"
	"time"

	"github.com/plaza-im/plaza"
	"github.com/plaza-im/plaza/internal/account"
)

// Invite links: /add/TOKEN opens the web client, which resolves the token
// (GET /invites/{token}) to the person's profile and sends an ordinary
// contact request, with the token.

type inviteCreatedJSON struct {
	ID        plaza.ID  `json:"id"`
	Token     string    `json:"token"`
	URL       string    `json:"url"`
	Prefix    string    `json:"prefix"`
	CreatedAt time.Time `json:"created_at"`
	ExpiresAt time.Time `json:"expires_at"`
}

type inviteJSON struct {
	Account   profileJSON `json:"account"`
	ExpiresAt time.Time   `json:"expires_at"`
}

func (s *Server) createInvite(w http.ResponseWriter, r *http.Request) error {
	inv, token, err := s.accounts.CreateInvite(r.Context(), authOf(r).Account.ID)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, inviteCreatedJSON{
		ID: inv.ID, Token: token, URL: "/add/" + token, Prefix: inv.Prefix, CreatedAt: inv.CreatedAt, ExpiresAt: inv.ExpiresAt,
	})
}

func (s *Server) listInvites(w http.ResponseWriter, r *http.Request) error {
	invs, err := s.accounts.Invites(r.Context(), authOf(r).Account.ID)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, list[account.Invite]{Items: invs})
}

func (s *Server) revokeInvite(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return plaza.Errorf(plaza.ENotFound, "invite not found")
	}
	if err := s.accounts.RevokeInvite(r.Context(), authOf(r).Account.ID, id); err != nil {
		return err
	}
	return noContent(w)
}

// errOwnInvite refuses using one's own invite link.
var errOwnInvite = plaza.Errorf(plaza.EConflict, "this is your own invite link: share it with someone else").
	WithDetails(map[string]any{"reason": "own_invite"})

// resolveInvite returns the working invite with token and its owner, as
// the caller may use it: their own is a conflict, and an owner who
// blocked the caller is the same not_found as a link that does not work.
func (s *Server) resolveInvite(r *http.Request, token string) (account.Invite, account.Profile, error) {
	inv, p, err := s.accounts.ResolveInvite(r.Context(), token)
	if err != nil {
		return account.Invite{}, account.Profile{}, err
	}
	caller := authOf(r).Account.ID
	if p.ID == caller {
		return account.Invite{}, account.Profile{}, errOwnInvite
	}
	if b, err := s.chat.Blocked(r.Context(), p.ID, caller); err != nil {
		return account.Invite{}, account.Profile{}, err
	} else if b {
		return account.Invite{}, account.Profile{}, account.InviteNotFound()
	}
	return inv, p, nil
}

func (s *Server) getInvite(w http.ResponseWriter, r *http.Request) error {
	inv, p, err := s.resolveInvite(r, r.PathValue("token"))
	if err != nil {
		return err
	}
	out, err := s.profileOf(r, p)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, inviteJSON{Account: out, ExpiresAt: inv.ExpiresAt})
}

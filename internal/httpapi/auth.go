package httpapi

import (
	"net/http"
	"strings"

	"github.com/plaza-im/plaza"
	"github.com/plaza-im/plaza/internal/account"
	"github.com/plaza-im/plaza/internal/audit"
)

// authorize authenticates the request and applies, in order, the account's
// standing, the terms gate and the route's roles.
func (s *Server) authorize(r *http.Request, a access, roles []account.Role) error {
	tok, ok := bearerToken(r)
	if !ok && r.URL.Path == "/api/v1/stream" {
		// Browsers cannot set headers on a WebSocket: the stream also takes
		// the token as a query parameter. Logs never record query strings.
		tok = r.URL.Query().Get("access_token")
		ok = tok != ""
	}
	if !ok {
		return plaza.Errorf(plaza.EUnauthenticated, "sign in first: send Authorization: Bearer TOKEN")
	}
	au, err := s.accounts.Authenticate(r.Context(), tok)
	if err != nil {
		return err
	}
	info := infoOf(r)
	info.auth, info.accountID = &au, au.Account.ID
	if a == anyStanding {
		return nil
	}
	// The rules live in the account domain so that open streams, which
	// re-check them, apply exactly these.
	if err := au.Standing(a == signedIn); err != nil {
		return err
	}
	if len(roles) > 0 && !au.Account.HasRole(roles...) {
		names := make([]string, len(roles))
		for i, r := range roles {
			names[i] = string(r)
		}
		return plaza.Errorf(plaza.EForbidden, "this needs the %s role", strings.Join(names, " or "))
	}
	return nil
}

// authOf returns the authenticated caller; only valid on non-public routes.
func authOf(r *http.Request) *account.Auth { return infoOf(r).auth }

// actorOf returns the caller as an audit actor.
func actorOf(r *http.Request) audit.Actor {
	a := authOf(r)
	return audit.Actor{ID: a.Account.ID, Name: a.Account.Handle}
}

// pathID parses the path value name as an ID.
func pathID(r *http.Request, name string) (plaza.ID, error) {
	id, err := plaza.ParseID(name, r.PathValue(name))
	if err != nil {
		return 0, plaza.Errorf(plaza.ENotFound, "%s not found", name)
	}
	return id, nil
}

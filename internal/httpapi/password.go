package httpapi

import (
	"net/http"
)

// changePassword changes the caller's password. It is open in any
// standing, like signing out: securing an account must never wait on new
// terms or an appeal. Guesses of the current password count against the
// same limits as sign-in attempts for the account, so a stolen session
// cannot be used to guess the password faster than the sign-in form.
func (s *Server) changePassword(w http.ResponseWriter, r *http.Request) error {
	var req struct {
		CurrentPassword string `json:"current_password"`
		NewPassword     string `json:"new_password"`
	}
	if err := s.decode(w, r, &req); err != nil {
		return err
	}
	a := authOf(r)
	if ok, retry := s.loginIP.Allow(s.clientIP(r).String()); !ok {
		return rateLimited("sign-in attempts from your address", int64(retry))
	}
	if ok, retry := s.loginAccount.Allow(normalizeKey(a.Account.Handle)); !ok {
		return rateLimited("sign-in attempts for this account", int64(retry))
	}
	if err := s.accounts.ChangePassword(r.Context(), a.Account.ID, a.SessionID, req.CurrentPassword, req.NewPassword); err != nil {
		return err
	}
	return noContent(w)
}

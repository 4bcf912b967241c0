package httpapi

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/plaza-im/plaza"
	"github.com/plaza-im/plaza/internal/account"
)

// Finding people: by exact handle or by verified phone number, each only
// as far as the person allows (GET and PATCH /me/privacy), and never
// across a block. Every lookup is charged to the caller's rate limit
// before anything is looked up, and every miss is the same 404, so
// lookups cannot be used to list who is on the server or who has which
// number.

// avatarURL is the versioned URL of an account's profile photo, nil when
// it has none.
func avatarURL(id plaza.ID, version int64) *string {
	if version <= 0 {
		return nil
	}
	u := "/api/v1/accounts/" + id.String() + "/avatar?v=" + strconv.FormatInt(version, 10)
	return &u
}

func (s *Server) lookupAccount(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	if q.Has("handle") == q.Has("phone") || len(q["handle"]) > 1 || len(q["phone"]) > 1 {
		return plaza.Invalid("handle", "give exactly one of handle or phone")
	}
	ctx := r.Context()
	caller := authOf(r).Account.ID
	var p account.Profile
	var err error
	if q.Has("handle") {
		if err := s.lookupHandle.Take(ctx, caller.String(), 1); err != nil {
			return err
		}
		if p, err = s.accounts.FindByHandle(ctx, q.Get("handle")); err != nil {
			return err
		}
	} else {
		if err := s.lookupPhone.Take(ctx, caller.String(), 1); err != nil {
			return err
		}
		if p, err = s.findByPhone(r, q.Get("phone")); err != nil {
			return err
		}
	}
	if b, err := s.chat.Blocked(ctx, p.ID, caller); err != nil {
		return err
	} else if b {
		return account.NobodyFound()
	}
	out, err := s.profileOf(r, p)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, out)
}

// findByPhone returns the profile of an account that verified the number
// raw and lets people find it by phone; otherwise the lookup's one 404.
func (s *Server) findByPhone(r *http.Request, raw string) (account.Profile, error) {
	// An unencoded + in a query string arrives as a space.
	if strings.HasPrefix(raw, " ") {
		raw = "+" + strings.TrimLeft(raw, " ")
	}
	ids, err := s.identity.AccountsWithPhone(r.Context(), raw)
	if err != nil {
		return account.Profile{}, err
	}
	for _, id := range ids {
		p, err := s.accounts.FindableByPhone(r.Context(), id)
		if err == nil {
			return p, nil
		}
		if plaza.ErrorCode(err) != plaza.ENotFound {
			return account.Profile{}, err
		}
	}
	return account.Profile{}, account.NobodyFound()
}

func (s *Server) getPrivacy(w http.ResponseWriter, r *http.Request) error {
	p, err := s.accounts.Privacy(r.Context(), authOf(r).Account.ID)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, p)
}

func (s *Server) patchPrivacy(w http.ResponseWriter, r *http.Request) error {
	var req struct {
		FindByHandle *bool `json:"find_by_handle"`
		FindByPhone  *bool `json:"find_by_phone"`
	}
	if err := s.decode(w, r, &req); err != nil {
		return err
	}
	p, err := s.accounts.SetPrivacy(r.Context(), authOf(r).Account.ID, req.FindByHandle, req.FindByPhone)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, p)
}

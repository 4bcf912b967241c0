package httpapi

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/plaza-im/plaza"
	"github.com/plaza-im/plaza/internal/account"
	"github.com/plaza-im/plaza/internal/audit"
)

func (s *Server) publishTerms(w http.ResponseWriter, r *http.Request) error {
	var req struct {
		Title             string `json:"title"`
		Body              string `json:"body"`
		RequiresReconsent bool   `json:"requires_reconsent"`
	}
	if err := s.decode(w, r, &req); err != nil {
		return err
	}
	t, err := s.accounts.PublishTerms(r.Context(), actorOf(r), req.Title, req.Body, req.RequiresReconsent)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, toTermsJSON(t))
}

func (s *Server) adminFindAccount(w http.ResponseWriter, r *http.Request) error {
	handle := r.URL.Query().Get("handle")
	if handle == "" {
		return plaza.Invalid("handle", "is required")
	}
	out := list[meJSON]{Items: []meJSON{}}
	a, err := s.accounts.GetByHandle(r.Context(), handle)
	switch {
	case err == nil:
		me, err := s.meOf(r, a)
		if err != nil {
			return err
		}
		out.Items = append(out.Items, me)
	case plaza.ErrorCode(err) != plaza.ENotFound:
		return err
	}
	return writeJSON(w, http.StatusOK, out)
}

func (s *Server) adminGetAccount(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	a, err := s.accounts.Get(r.Context(), id)
	if err != nil {
		return err
	}
	return s.writeMe(w, r, a)
}

func (s *Server) changeRole(w http.ResponseWriter, r *http.Request, grant bool) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	role, err := account.ParseRole(r.PathValue("role"))
	if err != nil {
		return err
	}
	if grant {
		err = s.accounts.GrantRole(r.Context(), actorOf(r), id, role)
	} else {
		err = s.accounts.RevokeRole(r.Context(), actorOf(r), id, role)
	}
	if err != nil {
		return err
	}
	return noContent(w)
}

func (s *Server) grantRole(w http.ResponseWriter, r *http.Request) error {
	return s.changeRole(w, r, true)
}

func (s *Server) revokeRole(w http.ResponseWriter, r *http.Request) error {
	return s.changeRole(w, r, false)
}

func (s *Server) suspend(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var req struct {
		Reason string     `json:"reason"`
		Until  *time.Time `json:"until"`
	}
	if err := s.decode(w, r, &req); err != nil {
		return err
	}
	var until time.Time
	if req.Until != nil {
		until = *req.Until
	}
	a, err := s.accounts.Suspend(r.Context(), actorOf(r), id, req.Reason, until)
	if err != nil {
		return err
	}
	return s.writeMe(w, r, a)
}

// reasonAction is a handler for an action on the account in the path that
// takes only a reason (reinstatement, closure, memorialisation): the
// service checks the caller's rank, records the reason in the audit log,
// and the answer is the account as it now stands.
func (s *Server) reasonAction(act func(ctx context.Context, actor audit.Actor, id plaza.ID, reason string) (account.Account, error)) func(http.ResponseWriter, *http.Request) error {
	return func(w http.ResponseWriter, r *http.Request) error {
		id, err := pathID(r, "id")
		if err != nil {
			return err
		}
		var req struct {
			Reason string `json:"reason"`
		}
		if err := s.decode(w, r, &req); err != nil {
			return err
		}
		a, err := act(r.Context(), actorOf(r), id, req.Reason)
		if err != nil {
			return err
		}
		return s.writeMe(w, r, a)
	}
}

// queryInt reads an optional integer query parameter within [min, max].
func queryInt(r *http.Request, name string, def, min, max int64) (int64, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < min || n > max {
		return 0, plaza.Invalid(name, "must be an integer from "+strconv.FormatInt(min, 10)+" to "+strconv.FormatInt(max, 10))
	}
	return n, nil
}

func (s *Server) listAudit(w http.ResponseWriter, r *http.Request) error {
	limit, err := queryInt(r, "limit", 100, 1, 1000)
	if err != nil {
		return err
	}
	var before int64
	if c := r.URL.Query().Get("cursor"); c != "" {
		if before, err = strconv.ParseInt(c, 10, 64); err != nil || before < 1 {
			return plaza.Invalid("cursor", "must be a next_cursor from a previous page")
		}
	}
	entries, err := s.audit.List(r.Context(), before, int(limit))
	if err != nil {
		return err
	}
	out := list[audit.Entry]{Items: entries}
	if len(entries) == int(limit) && entries[len(entries)-1].Seq > 1 {
		out.NextCursor = strconv.FormatInt(entries[len(entries)-1].Seq, 10)
	}
	return writeJSON(w, http.StatusOK, out)
}

func (s *Server) verifyAudit(w http.ResponseWriter, r *http.Request) error {
	rep, err := s.audit.Verify(r.Context())
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, rep)
}

// normalizeKey turns a typed handle into a rate-limit key, clipped so a
// huge value cannot bloat the limiter.
func normalizeKey(s string) string {
	s = strings.ToLower(strings.TrimSpace(s))
	if len(s) > 64 {
		s = s[:64]
	}
	return s
}

func (s *Server) writeMe(w http.ResponseWriter, r *http.Request, a account.Account) error {
	me, err := s.meOf(r, a)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, me)
}

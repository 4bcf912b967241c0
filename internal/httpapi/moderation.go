package httpapi

import (
	"net/http"
	"strconv"
	"time"

	"github.com/plaza-im/plaza"
	"github.com/plaza-im/plaza/internal/moderation"
)

// moderationPage reads ?cursor= and ?limit= (1–100, default 50).
func moderationPage(r *http.Request) (plaza.ID, int, error) {
	limit, err := queryInt(r, "limit", 50, 1, 100)
	if err != nil {
		return 0, 0, err
	}
	cursor, err := afterCursor(r)
	return cursor, int(limit), err
}

// newestFirstPage reads ?cursor= (the next_cursor of the page before)
// and ?limit= (1–100, default 50) for a list that runs newest first.
func newestFirstPage(r *http.Request) (plaza.ID, int64, error) {
	limit, err := queryInt(r, "limit", 50, 1, 100)
	if err != nil {
		return 0, 0, err
	}
	before, err := afterCursor(r)
	return before, limit, err
}

func (s *Server) listRules(w http.ResponseWriter, r *http.Request) error {
	rules, err := s.moderation.Rules(r.Context())
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, list[moderation.Rule]{Items: rules})
}

func (s *Server) putRule(w http.ResponseWriter, r *http.Request) error {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id < 1 || id > moderation.MaxRuleID {
		return plaza.Invalid("id", "must be a rule number from 1 to "+strconv.Itoa(moderation.MaxRuleID))
	}
	var req struct {
		Title       string `json:"title"`
		Description string `json:"description"`
	}
	if err := s.decode(w, r, &req); err != nil {
		return err
	}
	rule, err := s.moderation.PutRule(r.Context(), actorOf(r), moderation.Rule{ID: id, Title: req.Title, Description: req.Description})
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, rule)
}

func (s *Server) fileReport(w http.ResponseWriter, r *http.Request) error {
	var req struct {
		TargetType string `json:"target_type"`
		TargetID   string `json:"target_id"`
		RuleID     int64  `json:"rule_id"`
		Comment    string `json:"comment"`
		Context    bool   `json:"context"`
	}
	if err := s.decode(w, r, &req); err != nil {
		return err
	}
	target, err := plaza.ParseID("target_id", req.TargetID)
	if err != nil {
		return err
	}
	rep, err := s.moderation.File(r.Context(), actorOf(r), moderation.ReportInput{
		TargetType: req.TargetType, TargetID: target, RuleID: req.RuleID, Comment: req.Comment, Context: req.Context,
	})
	if err != nil {
		return err
	}
	rep.ReporterID, rep.Evidence = 0, nil
	return writeJSON(w, http.StatusCreated, rep)
}

func (s *Server) myReports(w http.ResponseWriter, r *http.Request) error {
	before, limit, err := newestFirstPage(r)
	if err != nil {
		return err
	}
	reps, err := s.moderation.MyReports(r.Context(), authOf(r).Account.ID, before, int(limit))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, idPage(reps, limit, func(r moderation.Report) plaza.ID { return r.ID }))
}

func (s *Server) listReportQueue(w http.ResponseWriter, r *http.Request) error {
	cursor, limit, err := moderationPage(r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	f := moderation.QueueFilter{Status: q.Get("status"), TargetType: q.Get("target_type"), After: cursor, Limit: limit}
	if f.RuleID, err = queryInt(r, "rule_id", 0, 1, moderation.MaxRuleID); err != nil {
		return err
	}
	items, err := s.moderation.Queue(r.Context(), f)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, idPage(items, int64(limit), func(it moderation.Item) plaza.ID { return it.ID }))
}

// moderationRequest is the body of a decision, with or without a report.
type moderationRequest struct {
	Action           string  `json:"action"`
	RuleID           int64   `json:"rule_id"`
	Reason           string  `json:"reason"`
	Label            string  `json:"label"`
	DurationDays     int     `json:"duration_days"`
	TargetType       string  `json:"target_type"`
	TargetID         string  `json:"target_id"`
	AuthorityOrderID *string `json:"authority_order_id"`
}

func (req moderationRequest) input() moderation.DecisionInput {
	return moderation.DecisionInput{Action: req.Action, RuleID: req.RuleID, Reason: req.Reason, Label: req.Label, DurationDays: req.DurationDays}
}

// decisionJSON is a decision as moderators see it: the statement of
// reasons with decision_id, the moderator and the affected account.
type decisionJSON struct {
	DecisionID plaza.ID `json:"decision_id"`
	moderation.Decision
	ModeratorID plaza.ID `json:"moderator_id"`
	AccountID   plaza.ID `json:"account_id,omitempty"`
}

func toDecisionJSON(d moderation.Decision) decisionJSON {
	return decisionJSON{DecisionID: d.ID, Decision: d, ModeratorID: d.ModeratorID, AccountID: d.AccountID}
}

func (s *Server) decideReport(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return plaza.Errorf(plaza.ENotFound, "report not found")
	}
	var req moderationRequest
	if err := s.decode(w, r, &req); err != nil {
		return err
	}
	if req.TargetType != "" || req.TargetID != "" || req.AuthorityOrderID != nil {
		return plaza.Invalid("target_type", "a report's decision is about the reported target: use POST /api/v1/admin/decisions to act on something else")
	}
	d, err := s.moderation.DecideReport(r.Context(), actorOf(r), id, req.input())
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, toDecisionJSON(d))
}

func (s *Server) takeDecision(w http.ResponseWriter, r *http.Request) error {
	var req moderationRequest
	if err := s.decode(w, r, &req); err != nil {
		return err
	}
	in := req.input()
	in.TargetType = req.TargetType
	var err error
	if in.TargetID, err = plaza.ParseID("target_id", req.TargetID); err != nil {
		return err
	}
	if req.AuthorityOrderID != nil {
		if in.AuthorityOrderID, err = plaza.ParseID("authority_order_id", *req.AuthorityOrderID); err != nil {
			return err
		}
	}
	d, err := s.moderation.Act(r.Context(), actorOf(r), in)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, toDecisionJSON(d))
}

func (s *Server) myDecisions(w http.ResponseWriter, r *http.Request) error {
	before, limit, err := newestFirstPage(r)
	if err != nil {
		return err
	}
	ds, err := s.moderation.MyDecisions(r.Context(), authOf(r).Account.ID, before, int(limit))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, idPage(ds, limit, func(d moderation.Decision) plaza.ID { return d.ID }))
}

func decisionID(r *http.Request) (plaza.ID, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return 0, plaza.Errorf(plaza.ENotFound, "decision not found")
	}
	return id, nil
}

func (s *Server) myDecision(w http.ResponseWriter, r *http.Request) error {
	id, err := decisionID(r)
	if err != nil {
		return err
	}
	d, err := s.moderation.MyDecision(r.Context(), authOf(r).Account.ID, id)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, d)
}

func (s *Server) appealDecision(w http.ResponseWriter, r *http.Request) error {
	id, err := decisionID(r)
	if err != nil {
		return err
	}
	var req struct {
		Text string `json:"text"`
	}
	if err := s.decode(w, r, &req); err != nil {
		return err
	}
	a, err := s.moderation.Appeal(r.Context(), actorOf(r), id, req.Text)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, a.Decision.Appeal)
}

// appealJSON is an appeal as moderators see it.
type appealJSON struct {
	moderation.Appeal
	Decision decisionJSON `json:"decision"`
}

func toAppealJSON(a moderation.Appeal) appealJSON {
	return appealJSON{Appeal: a, Decision: toDecisionJSON(a.Decision)}
}

func (s *Server) listAppeals(w http.ResponseWriter, r *http.Request) error {
	cursor, limit, err := moderationPage(r)
	if err != nil {
		return err
	}
	as, err := s.moderation.Appeals(r.Context(), r.URL.Query().Get("status"), cursor, limit)
	if err != nil {
		return err
	}
	out := make([]appealJSON, len(as))
	for i, a := range as {
		out[i] = toAppealJSON(a)
	}
	return writeJSON(w, http.StatusOK, idPage(out, int64(limit), func(a appealJSON) plaza.ID { return a.ID }))
}

func (s *Server) decideAppeal(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return plaza.Errorf(plaza.ENotFound, "appeal not found")
	}
	var req struct {
		Uphold *bool  `json:"uphold"`
		Reason string `json:"reason"`
	}
	if err := s.decode(w, r, &req); err != nil {
		return err
	}
	if req.Uphold == nil {
		return plaza.Invalid("uphold", "is required: true keeps the decision, false reverses it")
	}
	a, err := s.moderation.DecideAppeal(r.Context(), actorOf(r), id, *req.Uphold, req.Reason)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, toAppealJSON(a))
}

func (s *Server) recordOrder(w http.ResponseWriter, r *http.Request) error {
	var req struct {
		Authority  string     `json:"authority"`
		LegalBasis string     `json:"legal_basis"`
		ReceivedAt *time.Time `json:"received_at"`
		Scope      string     `json:"scope"`
		TargetType string     `json:"target_type"`
		TargetID   *string    `json:"target_id"`
		Outcome    string     `json:"outcome"`
		Note       string     `json:"note"`
	}
	if err := s.decode(w, r, &req); err != nil {
		return err
	}
	o := moderation.Order{Authority: req.Authority, LegalBasis: req.LegalBasis, Scope: req.Scope, TargetType: req.TargetType, Outcome: req.Outcome, Note: req.Note}
	if req.ReceivedAt != nil {
		o.ReceivedAt = *req.ReceivedAt
	}
	if req.TargetID != nil && *req.TargetID != "" {
		id, err := plaza.ParseID("target_id", *req.TargetID)
		if err != nil {
			return err
		}
		o.TargetID = &id
	}
	o, err := s.moderation.RecordOrder(r.Context(), actorOf(r), o)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, o)
}

func (s *Server) listOrders(w http.ResponseWriter, r *http.Request) error {
	before, limit, err := newestFirstPage(r)
	if err != nil {
		return err
	}
	os, err := s.moderation.Orders(r.Context(), before, int(limit))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, idPage(os, limit, func(o moderation.Order) plaza.ID { return o.ID }))
}

func (s *Server) transparency(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	format := q.Get("format")
	if format != "" && format != "json" && format != "csv" {
		return plaza.Invalid("format", "must be json or csv")
	}
	if ok, retry := s.transparencyIP.Allow(s.clientIP(r).String()); !ok {
		return rateLimited("transparency reports from your address", int64(retry))
	}
	from, to, err := s.moderation.ParsePeriod(q.Get("from"), q.Get("to"))
	if err != nil {
		return err
	}
	t, err := s.moderation.Transparency(r.Context(), from, to)
	if err != nil {
		return err
	}
	// Public and the same for everyone: caches may keep it briefly.
	w.Header().Set("Cache-Control", "public, max-age=60")
	if format == "csv" {
		w.Header().Set("Content-Type", "text/csv; charset=utf-8")
		w.Header().Set("Content-Disposition", `attachment; filename="plaza-transparency-`+t.From+`-to-`+t.To+`.csv"`)
		w.WriteHeader(http.StatusOK)
		_, err := w.Write(t.CSV())
		return err
	}
	return writeJSON(w, http.StatusOK, t)
}

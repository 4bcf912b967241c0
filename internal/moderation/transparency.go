package moderation

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/plaza-im/plaza"
	"github.com/plaza-im/plaza/internal/audit"
)

// Transparency is the public transparency report for a period (DSA Art.
// 15 and 24). Every number is counted from the audit log, so it equals
// what the tamper-evident record says happened.
type Transparency struct {
	From        string    `json:"from"`
	To          string    `json:"to"`
	GeneratedAt time.Time `json:"generated_at"`
	Reports     struct {
		Total        int            `json:"total"`
		ByRule       map[string]int `json:"by_rule"`
		ByTargetType map[string]int `json:"by_target_type"`
	} `json:"reports"`
	Decisions struct {
		Total    int            `json:"total"`
		ByAction map[string]int `json:"by_action"`
		ByRule   map[string]int `json:"by_rule"`
		BySource map[string]int `json:"by_source"`
		// MedianHoursToDecision is from the first report of a target to
		// the decision on it; null when no report was decided.
		MedianHoursToDecision *float64 `json:"median_hours_to_decision"`
		Automated             int      `json:"automated"`
	} `json:"decisions"`
	Appeals struct {
		Total    int `json:"total"`
		Upheld   int `json:"upheld"`
		Reversed int `json:"reversed"`
	} `json:"appeals"`
	AuthorityOrders struct {
		Total       int            `json:"total"`
		ByAuthority map[string]int `json:"by_authority"`
		ByOutcome   map[string]int `json:"by_outcome"`
	} `json:"authority_orders"`
	IdentityReviews     Reviewed `json:"identity_reviews"`
	ChannelApplications Reviewed `json:"channel_applications"`
	// Rules names the rules the counts cite, by number.
	Rules map[string]string `json:"rules"`
}

// Reviewed counts the outcomes of a review.
type Reviewed struct {
	Approved int `json:"approved"`
	Rejected int `json:"rejected"`
}

// MaxPeriodDays bounds a report's period.
const MaxPeriodDays = 5 * 366

var countedActions = []string{"report.create", "moderation.decide", "appeal.create", "appeal.decide", "authority_order.record",
	"identity.approve", "identity.reject", "channel.approve", "channel.reject"}

// ParsePeriod reads a report period from "YYYY-MM-DD" dates, both days
// included, in UTC. Empty dates mean the last 30 days to today.
func (s *Service) ParsePeriod(from, to string) (time.Time, time.Time, error) {
	today := s.now().Truncate(24 * time.Hour)
	var p plaza.Problems
	end, start := today, today.AddDate(0, 0, -29)
	var err error
	if to != "" {
		if end, err = time.Parse(time.DateOnly, to); err != nil {
			p.Add("to", "must be a date YYYY-MM-DD")
		}
	}
	if from != "" {
		if start, err = time.Parse(time.DateOnly, from); err != nil {
			p.Add("from", "must be a date YYYY-MM-DD")
		}
	} else if to != "" {
		start = end.AddDate(0, 0, -29)
	}
	if err := p.Err(); err != nil {
		return time.Time{}, time.Time{}, err
	}
	if end.Before(start) {
		return time.Time{}, time.Time{}, plaza.Invalid("to", "must not be before from")
	}
	if end.Sub(start) > MaxPeriodDays*24*time.Hour {
		return time.Time{}, time.Time{}, plaza.Invalid("from", fmt.Sprintf("the period must be at most %d days", MaxPeriodDays))
	}
	return start, end, nil
}

// Transparency counts the period [from, to] (whole UTC days). A report is
// remembered for a short while: the endpoint is public and each one reads
// the period's audit rows.
func (s *Service) Transparency(ctx context.Context, from, to time.Time) (Transparency, error) {
	key := from.Format(time.DateOnly) + "/" + to.Format(time.DateOnly)
	if t, ok := s.report.get(key, s.now()); ok {
		return t, nil
	}
	// At most two reports are counted at once: each reads the period's
	// audit rows, and the endpoint is public.
	select {
	case s.counting <- struct{}{}:
		defer func() { <-s.counting }()
	case <-ctx.Done():
		return Transparency{}, ctx.Err()
	}
	var t Transparency
	t.From, t.To, t.GeneratedAt = from.Format(time.DateOnly), to.Format(time.DateOnly), s.now().Truncate(time.Second)
	t.Reports.ByRule, t.Reports.ByTargetType = map[string]int{}, map[string]int{}
	t.Decisions.ByAction, t.Decisions.ByRule, t.Decisions.BySource = map[string]int{}, map[string]int{}, map[string]int{}
	t.AuthorityOrders.ByAuthority, t.AuthorityOrders.ByOutcome = map[string]int{}, map[string]int{}
	var hours []float64
	err := s.audit.Each(ctx, from, to.AddDate(0, 0, 1), countedActions, func(e audit.Entry) error {
		switch e.Action {
		case "report.create":
			t.Reports.Total++
			t.Reports.ByRule[detail(e, "rule_id")]++
			t.Reports.ByTargetType[e.TargetType]++
		case "moderation.decide":
			t.Decisions.Total++
			t.Decisions.ByAction[detail(e, "action")]++
			t.Decisions.ByRule[detail(e, "rule_id")]++
			t.Decisions.BySource[detail(e, "source")]++
			if h, ok := e.Details["hours_to_decision"].(float64); ok {
				hours = append(hours, h)
			}
		case "appeal.create":
			t.Appeals.Total++
		case "appeal.decide":
			if detail(e, "outcome") == Reversed {
				t.Appeals.Reversed++
			} else {
				t.Appeals.Upheld++
			}
		case "authority_order.record":
			t.AuthorityOrders.Total++
			t.AuthorityOrders.ByAuthority[detail(e, "authority")]++
			t.AuthorityOrders.ByOutcome[detail(e, "outcome")]++
		case "identity.approve":
			t.IdentityReviews.Approved++
		case "identity.reject":
			t.IdentityReviews.Rejected++
		case "channel.approve":
			t.ChannelApplications.Approved++
		case "channel.reject":
			t.ChannelApplications.Rejected++
		}
		return nil
	})
	if err != nil {
		return Transparency{}, fmt.Errorf("transparency: %w", err)
	}
	if len(hours) > 0 {
		m := median(hours)
		t.Decisions.MedianHoursToDecision = &m
	}
	rules, err := s.Rules(ctx)
	if err != nil {
		return Transparency{}, err
	}
	t.Rules = map[string]string{}
	for _, r := range rules {
		t.Rules[strconv.FormatInt(r.ID, 10)] = r.Title
	}
	s.report.put(key, t, s.now())
	return t, nil
}

// detail returns a detail of an audit entry as text (numbers decode as
// float64).
func detail(e audit.Entry, name string) string {
	switch v := e.Details[name].(type) {
	case string:
		return v
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	case nil:
		return "unknown"
	default:
		return fmt.Sprint(v)
	}
}

func median(xs []float64) float64 {
	s := slices.Clone(xs)
	sort.Float64s(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// CSV renders the report as rows of section, key and count.
func (t Transparency) CSV() []byte {
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	_ = w.Write([]string{"section", "key", "value"})
	row := func(section, key string, v any) { _ = w.Write([]string{section, key, fmt.Sprint(v)}) }
	rows := func(section string, m map[string]int) {
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			row(section, k, m[k])
		}
	}
	row("period", "from", t.From)
	row("period", "to", t.To)
	row("reports", "total", t.Reports.Total)
	rows("reports_by_rule", t.Reports.ByRule)
	rows("reports_by_target_type", t.Reports.ByTargetType)
	row("decisions", "total", t.Decisions.Total)
	row("decisions", "automated", t.Decisions.Automated)
	rows("decisions_by_action", t.Decisions.ByAction)
	rows("decisions_by_rule", t.Decisions.ByRule)
	rows("decisions_by_source", t.Decisions.BySource)
	if m := t.Decisions.MedianHoursToDecision; m != nil {
		row("decisions", "median_hours_to_decision", strconv.FormatFloat(*m, 'f', 3, 64))
	} else {
		row("decisions", "median_hours_to_decision", "")
	}
	row("appeals", "total", t.Appeals.Total)
	row("appeals", "upheld", t.Appeals.Upheld)
	row("appeals", "reversed", t.Appeals.Reversed)
	row("authority_orders", "total", t.AuthorityOrders.Total)
	rows("authority_orders_by_authority", t.AuthorityOrders.ByAuthority)
	rows("authority_orders_by_outcome", t.AuthorityOrders.ByOutcome)
	row("identity_reviews", "approved", t.IdentityReviews.Approved)
	row("identity_reviews", "rejected", t.IdentityReviews.Rejected)
	row("channel_applications", "approved", t.ChannelApplications.Approved)
	row("channel_applications", "rejected", t.ChannelApplications.Rejected)
	w.Flush()
	return b.Bytes()
}

// transparencyCache remembers recent reports for ttl; at most 64.
type transparencyCache struct {
	mu  sync.Mutex
	ttl time.Duration
	m   map[string]cachedReport
}

type cachedReport struct {
	t  Transparency
	at time.Time
}

func newTransparencyCache() *transparencyCache {
	return &transparencyCache{ttl: 30 * time.Second, m: map[string]cachedReport{}}
}

func (c *transparencyCache) get(key string, now time.Time) (Transparency, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	r, ok := c.m[key]
	if !ok || now.Sub(r.at) >= c.ttl {
		return Transparency{}, false
	}
	return r.t, true
}

func (c *transparencyCache) put(key string, t Transparency, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ttl <= 0 {
		return
	}
	if len(c.m) >= 64 {
		clear(c.m)
	}
	c.m[key] = cachedReport{t, now}
}

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
	// Plaza's audit log starts long after 2000, and nothing happens
	// tomorrow: bounding the dates bounds what the day cache can hold.
	if first := time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC); start.Before(first) {
		return time.Time{}, time.Time{}, plaza.Invalid("from", "must be 2000-01-01 or later")
	}
	if end.After(today) {
		return time.Time{}, time.Time{}, plaza.Invalid("to", "must not be after today (UTC)")
	}
	if end.Before(start) {
		return time.Time{}, time.Time{}, plaza.Invalid("to", "must not be before from")
	}
	if end.Sub(start) > MaxPeriodDays*24*time.Hour {
		return time.Time{}, time.Time{}, plaza.Invalid("from", fmt.Sprintf("the period must be at most %d days", MaxPeriodDays))
	}
	return start, end, nil
}

// Transparency counts the period [from, to] (whole UTC days). Each past
// day is counted from the audit log once and remembered (it cannot
// change: rows are stamped when appended); today is counted afresh. A
// whole report is also remembered briefly. The endpoint is public, so at
// most two counts read the log at once.
func (s *Service) Transparency(ctx context.Context, from, to time.Time) (Transparency, error) {
	key := from.Format(time.DateOnly) + "/" + to.Format(time.DateOnly)
	now := s.now()
	if t, ok := s.report.get(key, now); ok {
		return t, nil
	}
	// A day is settled once it ended some minutes ago, so a node whose
	// clock lags a little has appended its rows.
	settled := func(day time.Time) bool { return now.Sub(day.AddDate(0, 0, 1)) > 10*time.Minute }
	// days holds each day's tally in date order, so that later wordings
	// of a rule win when they are merged.
	var days []*tally
	var missing []time.Time
	var missingAt []int
	for d := from; !d.After(to); d = d.AddDate(0, 0, 1) {
		t := s.days.get(d)
		if t == nil || !settled(d) {
			missing, missingAt = append(missing, d), append(missingAt, len(days))
		}
		days = append(days, t)
	}
	if len(missing) > 0 {
		select {
		case s.counting <- struct{}{}:
		case <-ctx.Done():
			return Transparency{}, ctx.Err()
		}
		counted, err := s.countDays(ctx, missing)
		<-s.counting
		if err != nil {
			return Transparency{}, fmt.Errorf("transparency: %w", err)
		}
		for i, d := range missing {
			if settled(d) {
				s.days.put(d, counted[i])
			}
			days[missingAt[i]] = counted[i]
		}
	}
	var t Transparency
	t.From, t.To, t.GeneratedAt = from.Format(time.DateOnly), to.Format(time.DateOnly), now.Truncate(time.Second)
	t.Reports.ByRule, t.Reports.ByTargetType = map[string]int{}, map[string]int{}
	t.Decisions.ByAction, t.Decisions.ByRule, t.Decisions.BySource = map[string]int{}, map[string]int{}, map[string]int{}
	t.AuthorityOrders.ByAuthority, t.AuthorityOrders.ByOutcome = map[string]int{}, map[string]int{}
	t.Rules = map[string]string{}
	var hours []float64
	for _, d := range days {
		d.addTo(&t)
		hours = append(hours, d.hours...)
	}
	if len(hours) > 0 {
		m := median(hours)
		t.Decisions.MedianHoursToDecision = &m
	}
	// Rules are named as worded when cited; a rule cited only before
	// titles were recorded gets its current title.
	rules, err := s.Rules(ctx)
	if err != nil {
		return Transparency{}, err
	}
	for _, r := range rules {
		id := strconv.FormatInt(r.ID, 10)
		if _, ok := t.Rules[id]; !ok {
			t.Rules[id] = r.Title
		}
	}
	s.report.put(key, t, now)
	return t, nil
}

// tally is one day's counts.
type tally struct {
	reports, decisions, automated, appeals, upheld, reversed, orders int
	idApproved, idRejected, chApproved, chRejected                   int
	byRule, byTarget, byAction, byDecisionRule, bySource             map[string]int
	byAuthority, byOutcome                                           map[string]int
	ruleTitles                                                       map[string]string
	hours                                                            []float64
}

func newTally() *tally {
	return &tally{byRule: map[string]int{}, byTarget: map[string]int{}, byAction: map[string]int{}, byDecisionRule: map[string]int{},
		bySource: map[string]int{}, byAuthority: map[string]int{}, byOutcome: map[string]int{}, ruleTitles: map[string]string{}}
}

func (c *tally) add(e audit.Entry) {
	if title, ok := e.Details["rule_title"].(string); ok {
		c.ruleTitles[detail(e, "rule_id")] = title
	}
	switch e.Action {
	case "report.create":
		c.reports++
		c.byRule[detail(e, "rule_id")]++
		c.byTarget[e.TargetType]++
	case "moderation.decide":
		c.decisions++
		c.byAction[detail(e, "action")]++
		c.byDecisionRule[detail(e, "rule_id")]++
		c.bySource[detail(e, "source")]++
		if h, ok := e.Details["hours_to_decision"].(float64); ok {
			c.hours = append(c.hours, h)
		}
	case "appeal.create":
		c.appeals++
	case "appeal.decide":
		if detail(e, "outcome") == Reversed {
			c.reversed++
		} else {
			c.upheld++
		}
	case "authority_order.record":
		c.orders++
		c.byAuthority[detail(e, "authority")]++
		c.byOutcome[detail(e, "outcome")]++
	case "identity.approve":
		c.idApproved++
	case "identity.reject":
		c.idRejected++
	case "channel.approve":
		c.chApproved++
	case "channel.reject":
		c.chRejected++
	}
}

func (c *tally) addTo(t *Transparency) {
	sum := func(dst, src map[string]int) {
		for k, v := range src {
			dst[k] += v
		}
	}
	t.Reports.Total += c.reports
	sum(t.Reports.ByRule, c.byRule)
	sum(t.Reports.ByTargetType, c.byTarget)
	t.Decisions.Total += c.decisions
	t.Decisions.Automated += c.automated
	sum(t.Decisions.ByAction, c.byAction)
	sum(t.Decisions.ByRule, c.byDecisionRule)
	sum(t.Decisions.BySource, c.bySource)
	t.Appeals.Total += c.appeals
	t.Appeals.Upheld += c.upheld
	t.Appeals.Reversed += c.reversed
	t.AuthorityOrders.Total += c.orders
	sum(t.AuthorityOrders.ByAuthority, c.byAuthority)
	sum(t.AuthorityOrders.ByOutcome, c.byOutcome)
	t.IdentityReviews.Approved += c.idApproved
	t.IdentityReviews.Rejected += c.idRejected
	t.ChannelApplications.Approved += c.chApproved
	t.ChannelApplications.Rejected += c.chRejected
	for k, v := range c.ruleTitles {
		t.Rules[k] = v // later days come later: the latest wording wins
	}
}

// countDays counts each of days (in ascending order) from the audit log,
// reading each run of consecutive days in one pass.
func (s *Service) countDays(ctx context.Context, days []time.Time) ([]*tally, error) {
	out := make([]*tally, len(days))
	index := make(map[string]int, len(days))
	for i, d := range days {
		out[i] = newTally()
		index[d.Format(time.DateOnly)] = i
	}
	for start := 0; start < len(days); {
		end := start
		for end+1 < len(days) && days[end+1].Equal(days[end].AddDate(0, 0, 1)) {
			end++
		}
		err := s.audit.Each(ctx, days[start], days[end].AddDate(0, 0, 1), countedActions, func(e audit.Entry) error {
			if i, ok := index[e.At.UTC().Format(time.DateOnly)]; ok {
				out[i].add(e)
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
		start = end + 1
	}
	return out, nil
}

// dayCache remembers settled days' tallies; at most maxDays.
type dayCache struct {
	mu sync.Mutex
	m  map[time.Time]*tally
}

// maxCachedDays holds every day from 2000 to well past 2040 (the dates
// a report may ask for), so settled days are never counted twice.
const maxCachedDays = 20_000

func (c *dayCache) get(d time.Time) *tally {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.m[d]
}

func (c *dayCache) put(d time.Time, t *tally) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil || len(c.m) >= maxCachedDays {
		c.m = map[time.Time]*tally{}
	}
	c.m[d] = t
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

package push

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	webpush "github.com/SherClockHolmes/webpush-go"

	"github.com/plaza-im/plaza"
	"github.com/plaza-im/plaza/internal/bus"
	"github.com/plaza-im/plaza/internal/events"
)

// candidate is a stored event for an account that may deserve a push.
type candidate struct {
	account plaza.ID
	typ     string
	data    json.RawMessage
}

// job is one push to one subscription.
type job struct {
	sub     target
	payload []byte
	topic   string
	urgency webpush.Urgency
	attempt int
}

// target is a subscription to send to.
type target struct {
	account, id  plaza.ID
	endpoint     string
	p256dh, auth []byte
}

// Payload is the JSON a push carries, decrypted by the browser's service
// worker: what to show, and where to go when it is clicked.
type Payload struct {
	Type           string    `json:"type"`
	ConversationID *plaza.ID `json:"conversation_id,omitempty"`
	Title          string    `json:"title"`
	Body           string    `json:"body"`
	URL            string    `json:"url"`
}

// Bounds of what a push shows: a preview, never the whole message.
const (
	maxTitle = 60
	maxBody  = 120
	// batch is the most events a worker looks up at once.
	batch = 256
)

// tapped are the frame prefixes of the event types that may push.
var tapped = [][]byte{
	[]byte(`{"type":"` + events.MessageCreated + `"`),
	[]byte(`{"type":"` + events.Notification + `"`),
	[]byte(`{"type":"` + events.ModerationDecision + `"`),
}

// Tap returns b with every stored event published through it also handed
// to push: give it to the sync log (the chat service), so push sees each
// event once, on the node that committed it. It never waits for the
// workers: when the queue is full the event is dropped (counted). The
// publisher only takes the presence map's read lock, which writers of it
// hold for map updates (and, in the rare renewal that finds the node's
// row gone, for one pass over the map).
func (s *Service) Tap(b bus.Bus) bus.Bus { return &tapBus{Bus: b, s: s} }

type tapBus struct {
	bus.Bus
	s *Service
}

// OnLoss passes the wrapped bus's loss notices on, if it has them.
func (t *tapBus) OnLoss(fn func(bus.Loss)) func() {
	if ln, ok := t.Bus.(bus.LossNotifier); ok {
		return ln.OnLoss(fn)
	}
	return func() {}
}

func (t *tapBus) Publish(ctx context.Context, subject string, data []byte) error {
	t.s.observe(subject, data)
	return t.Bus.Publish(ctx, subject, data)
}

// observe queues a stored event of a tapped type.
func (s *Service) observe(subject string, data []byte) {
	rest, ok := strings.CutPrefix(subject, "acct.")
	if !ok {
		return
	}
	id, err := strconv.ParseInt(rest, 10, 64)
	if err != nil {
		return
	}
	// An account with a device connected here gets the event from the
	// hub; the worker would drop it anyway. Asking first keeps the tap to
	// a map look-up for nearly every event on a busy node, instead of a
	// JSON decoding of each frame (two per message sent).
	if s.pres.here(plaza.ID(id)) {
		return
	}
	seq, frame, err := events.ParseEnvelope(data)
	if err != nil || seq <= 0 {
		return // control messages and ephemeral events (typing)
	}
	hit := false
	for _, p := range tapped {
		if bytes.HasPrefix(frame, p) {
			hit = true
			break
		}
	}
	if !hit {
		return
	}
	var f struct {
		Type string          `json:"type"`
		Data json.RawMessage `json:"data"`
	}
	if json.Unmarshal(frame, &f) != nil {
		return
	}
	select {
	case s.queue <- candidate{account: plaza.ID(id), typ: f.Type, data: f.Data}:
	default:
		s.sent.WithLabelValues(resultDropped).Inc()
	}
}

// worker takes queued events in batches, drops those of accounts
// connected somewhere, looks up the subscriptions of the rest in one
// query and queues a push for each.
func (s *Service) worker() {
	defer s.wg.Done()
	for {
		var cs []candidate
		select {
		case <-s.stop:
			return
		case c := <-s.queue:
			cs = append(cs, c)
		}
	more:
		for len(cs) < batch {
			select {
			case c := <-s.queue:
				cs = append(cs, c)
			default:
				break more
			}
		}
		if err := s.handle(s.ctx, cs); err != nil && s.ctx.Err() == nil {
			s.log.Warn("push: looking up subscriptions failed; these events send no push", "events", len(cs), "err", err)
		}
	}
}

// handle turns a batch of events into pushes.
func (s *Service) handle(ctx context.Context, cs []candidate) error {
	var accounts []plaza.ID
	seen := map[plaza.ID]bool{}
	for _, c := range cs {
		if !seen[c.account] && !s.pres.here(c.account) {
			seen[c.account] = true
			accounts = append(accounts, c.account)
		}
	}
	if len(accounts) == 0 {
		return nil
	}
	subs, err := s.offlineTargets(ctx, accounts)
	if err != nil {
		return err
	}
	for _, c := range cs {
		ts := subs[c.account]
		// Asked again after the look-up: a device may have connected
		// here meanwhile, and this node's rows are not consulted.
		if len(ts) == 0 || s.pres.here(c.account) {
			continue
		}
		p, topic, urgency, ok, err := s.payload(ctx, c)
		if err != nil {
			s.log.Warn("push: preparing a notification failed", "type", c.typ, "err", err)
			continue
		}
		if !ok {
			continue
		}
		body, _ := json.Marshal(p)
		for _, t := range ts {
			s.enqueue(job{sub: t, payload: body, topic: topic, urgency: urgency})
		}
	}
	return nil
}

// offlineTargets returns the live subscriptions (their session not
// expired) of those of accounts with no device connected to any other
// node whose lease is current. This node's own rows are not consulted:
// they trail its memory by up to a flush, and the caller has asked that
// memory (presence.here) already. A device that has just left would
// otherwise still count as connected, through a row written just before
// it left, and its first message would send no push.
func (s *Service) offlineTargets(ctx context.Context, accounts []plaza.ID) (map[plaza.ID][]target, error) {
	now := time.Now().UnixMicro()
	rows, err := s.db.Read().QueryContext(ctx, `SELECT s.account_id, s.id, s.endpoint, s.p256dh, s.auth
		FROM push_subscriptions s JOIN sessions se ON se.account_id = s.account_id AND se.id = s.session_id
		WHERE se.expires_at > $1 AND s.account_id IN (`+placeholders(3, len(accounts))+`)
		AND NOT EXISTS (SELECT 1 FROM push_presence p JOIN push_nodes n ON n.node_id = p.node_id
			WHERE p.account_id = s.account_id AND p.node_id <> $2 AND n.lease_until > `+dbNow(s.db.Engine)+`)`,
		append([]any{now, s.pres.node}, ids(accounts)...)...)
	if err != nil {
		return nil, fmt.Errorf("push targets: %w", err)
	}
	defer rows.Close()
	out := map[plaza.ID][]target{}
	for rows.Next() {
		var t target
		if err := rows.Scan(&t.account, &t.id, &t.endpoint, &t.p256dh, &t.auth); err != nil {
			return nil, fmt.Errorf("push targets: %w", err)
		}
		out[t.account] = append(out[t.account], t)
	}
	return out, rows.Err()
}

// payload renders what a push about c shows; ok is false when c needs
// none (one's own message, a muted conversation, a notification kind that
// does not push).
func (s *Service) payload(ctx context.Context, c candidate) (p Payload, topic string, urgency webpush.Urgency, ok bool, err error) {
	switch c.typ {
	case events.MessageCreated:
		return s.messagePayload(ctx, c)
	case events.Notification:
		var n struct {
			Kind    string    `json:"kind"`
			ActorID plaza.ID  `json:"actor_id"`
			PostID  *plaza.ID `json:"post_id"`
		}
		if err := json.Unmarshal(c.data, &n); err != nil {
			return p, "", "", false, err
		}
		var what string
		switch n.Kind {
		case "mention":
			what = "mentioned you"
		case "reply":
			what = "replied to your post"
		default:
			return p, "", "", false, nil
		}
		name := s.displayName(ctx, n.ActorID)
		p = Payload{Type: events.Notification, Title: clip(name, maxTitle), Body: clip(name+" "+what, maxBody), URL: "/notifications"}
		if n.PostID != nil {
			p.URL = "/posts/" + n.PostID.String()
		}
		return p, "", webpush.UrgencyNormal, true, nil
	case events.ModerationDecision:
		var d struct {
			ID     plaza.ID `json:"id"`
			Action string   `json:"action"`
			Rule   struct {
				Title string `json:"title"`
			} `json:"rule"`
		}
		if err := json.Unmarshal(c.data, &d); err != nil {
			return p, "", "", false, err
		}
		body := "Action: " + d.Action
		if d.Rule.Title != "" {
			body += " — " + d.Rule.Title
		}
		p = Payload{Type: events.ModerationDecision, Title: "A moderation decision concerns you", Body: clip(body, maxBody), URL: "/me/decisions/" + d.ID.String()}
		return p, "", webpush.UrgencyNormal, true, nil
	}
	return p, "", "", false, nil
}

// messagePayload renders a push about a new message.
func (s *Service) messagePayload(ctx context.Context, c candidate) (p Payload, topic string, urgency webpush.Urgency, ok bool, err error) {
	var m struct {
		ConversationID plaza.ID   `json:"conversation_id"`
		SenderID       plaza.ID   `json:"sender_id"`
		Kind           string     `json:"kind"`
		Text           string     `json:"text"`
		Mentions       []plaza.ID `json:"mentions"`
	}
	if err := json.Unmarshal(c.data, &m); err != nil {
		return p, "", "", false, err
	}
	if m.SenderID == c.account {
		return p, "", "", false, nil
	}
	view, err := s.chat.PushView(ctx, c.account, m.ConversationID)
	if plaza.ErrorCode(err) == plaza.ENotFound {
		return p, "", "", false, nil // left the conversation meanwhile
	}
	if err != nil {
		return p, "", "", false, err
	}
	mentioned := false
	if view.Kind == "group" {
		for _, id := range m.Mentions {
			mentioned = mentioned || id == c.account
		}
		if !mentioned && strings.Contains(m.Text, "@") {
			if a, err := s.accounts.Get(ctx, c.account); err == nil {
				mentioned = mentions(m.Text, a.Handle)
			}
		}
	}
	if view.Muted && !mentioned {
		return p, "", "", false, nil
	}
	sender := s.displayName(ctx, m.SenderID)
	preview := m.Text
	switch m.Kind {
	case "image":
		preview = "Photo " + preview
	case "video":
		preview = "Video " + preview
	case "voice":
		preview = "Voice message"
	case "file":
		preview = "File " + preview
	}
	preview = strings.TrimSpace(preview)
	conv := m.ConversationID
	p = Payload{Type: events.MessageCreated, ConversationID: &conv, Title: clip(sender, maxTitle), Body: clip(preview, maxBody), URL: "/chats/" + conv.String()}
	if view.Kind == "group" {
		p.Title = clip(view.Title, maxTitle)
		p.Body = clip(sender+": "+preview, maxBody)
	}
	urgency = webpush.UrgencyNormal
	if mentioned || view.Kind != "group" {
		urgency = webpush.UrgencyHigh
	}
	// One pending push per conversation: a newer one replaces it at the
	// push service while the browser is away.
	return p, "c" + conv.String(), urgency, true, nil
}

// mentions reports whether text holds @handle as a word of its own
// (case-insensitive).
func mentions(text, handle string) bool {
	if handle == "" {
		return false
	}
	lower, want := strings.ToLower(text), "@"+strings.ToLower(handle)
	for i := 0; ; {
		j := strings.Index(lower[i:], want)
		if j < 0 {
			return false
		}
		end := i + j + len(want)
		before, _ := utf8.DecodeLastRuneInString(lower[:i+j])
		after, _ := utf8.DecodeRuneInString(lower[end:])
		if !handleRune(before) && !handleRune(after) {
			return true
		}
		i = end
	}
}

// handleRune reports whether r may be part of a handle (a-z, 0-9, _; any
// case), so a mention of @ann is not found in @anna nor in mail@ann, while
// 你好@ann。 and "@ann." are mentions.
func handleRune(r rune) bool {
	return r < utf8.RuneSelf && (r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_')
}

// displayName returns the account's display name, or a neutral word.
func (s *Service) displayName(ctx context.Context, id plaza.ID) string {
	a, err := s.accounts.Get(ctx, id)
	if err != nil || a.DisplayName == "" {
		return "Someone"
	}
	return a.DisplayName
}

// clip cuts s to at most n characters, marking a cut with "…".
func clip(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

// enqueue queues a push for the senders, dropping it if the queue is full.
func (s *Service) enqueue(j job) {
	select {
	case s.sends <- j:
	default:
		s.sent.WithLabelValues(resultDropped).Inc()
	}
}

// sender sends queued pushes until stop.
func (s *Service) sender() {
	defer s.wg.Done()
	for {
		select {
		case <-s.stop:
			return
		case j := <-s.sends:
			s.send(j)
		}
	}
}

// send sends one push: a subscription that is gone (404, 410) is deleted;
// another failure is tried again later, up to Attempts tries, without
// holding a sender meanwhile.
func (s *Service) send(j job) {
	resp, err := webpush.SendNotificationWithContext(s.ctx, j.payload, &webpush.Subscription{
		Endpoint: j.sub.endpoint,
		Keys: webpush.Keys{
			P256dh: base64URL(j.sub.p256dh),
			Auth:   base64URL(j.sub.auth),
		},
	}, &webpush.Options{
		HTTPClient: s.http,
		// webpush-go v1.4.0 adds "mailto:" to any subject that does not
		// start with "https:", so a mailto: subject goes in without it.
		Subscriber:      strings.TrimPrefix(s.cfg.Subject, "mailto:"),
		Topic:           j.topic,
		TTL:             int(s.cfg.TTL / time.Second),
		Urgency:         j.urgency,
		VAPIDPublicKey:  s.keys.publicB64,
		VAPIDPrivateKey: s.keys.privateB64,
		// One record of 1 KiB: the payload is a few hundred bytes, and
		// the default pads every push to 4 KiB.
		RecordSize: 1024,
	})
	status := 0
	if err == nil {
		status = resp.StatusCode
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4096))
		_ = resp.Body.Close()
	}
	switch {
	case err == nil && status >= 200 && status < 300:
		s.sent.WithLabelValues(resultSent).Inc()
		return
	case status == http.StatusNotFound || status == http.StatusGone:
		s.sent.WithLabelValues(resultGone).Inc()
		if _, err := s.db.Write().ExecContext(s.ctx, `DELETE FROM push_subscriptions WHERE account_id = $1 AND id = $2`, j.sub.account, j.sub.id); err != nil && s.ctx.Err() == nil {
			s.log.Warn("push: deleting a gone subscription failed", "err", err)
		}
		return
	case s.ctx.Err() != nil:
		return
	}
	j.attempt++
	// Client errors other than 429 will not get better by trying again.
	// Nor will a timeout: the endpoint held a sender for the whole Timeout
	// once, and may be doing so on purpose.
	retry := j.attempt < s.cfg.Attempts && (err != nil && !timedOut(err) || status == http.StatusTooManyRequests || status >= 500)
	if !retry {
		s.sent.WithLabelValues(resultFailed).Inc()
		s.log.Info("push failed", "status", status, "err", errText(err), "attempts", j.attempt)
		return
	}
	wait := s.cfg.RetryBase << (j.attempt - 1)
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		t := time.NewTimer(wait)
		defer t.Stop()
		select {
		case <-s.stop:
		case <-t.C:
			s.enqueue(j)
		}
	}()
}

// timedOut reports whether a request failed by running out of time.
func timedOut(err error) bool {
	var ne net.Error
	return errors.Is(err, context.DeadlineExceeded) || errors.As(err, &ne) && ne.Timeout()
}

func base64URL(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// errText is err without the endpoint's URL, which is the subscription's
// capability and stays out of logs.
func errText(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Op + ": " + ue.Err.Error()
	}
	if err == nil {
		return ""
	}
	return err.Error()
}

package chat

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/plaza-im/plaza"
	"github.com/plaza-im/plaza/internal/account"
	"github.com/plaza-im/plaza/internal/bus"
	"github.com/plaza-im/plaza/internal/events"
	"github.com/plaza-im/plaza/internal/identity"
	"github.com/plaza-im/plaza/internal/plazatest"
	"github.com/plaza-im/plaza/internal/sms"
	"github.com/plaza-im/plaza/internal/sqldb"
)

// waitTimeout bounds every poll for an asynchronous outcome.
const waitTimeout = 10 * time.Second

// testClock is the chat service's time source in tests: the real time
// shifted by an offset that Advance grows, or a fixed instant after
// Freeze. Time keeps moving by default so that ordering by time still
// works, and the recall window can be crossed without sleeping.
type testClock struct {
	mu     sync.Mutex
	offset time.Duration
	frozen time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.frozen.IsZero() {
		return c.frozen
	}
	return time.Now().Add(c.offset).UTC().Truncate(time.Microsecond)
}

// Advance moves the clock forward by d.
func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.frozen.IsZero() {
		c.frozen = c.frozen.Add(d)
		return
	}
	c.offset += d
}

// Freeze stops the clock at at.
func (c *testClock) Freeze(at time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.frozen = at.UTC().Truncate(time.Microsecond)
}

// env is one chat service on a fresh database, with the services it
// depends on.
type env struct {
	db       *sqldb.DB
	accounts *account.Service
	ids      *identity.Service
	bus      *bus.Local
	svc      *Service
	clock    *testClock
	// outbox is the file where phone codes are sent.
	outbox string
}

// setup is what a test may change before the service starts.
type setup struct {
	chat     Config
	identity identity.Config
}

// newEnv builds accounts, identity (with a policy that needs no
// verification unless a test says otherwise), a local bus and the chat
// service on db, all released when the test ends.
func newEnv(tb testing.TB, db *sqldb.DB, opts ...func(*setup)) *env {
	tb.Helper()
	ctx := context.Background()
	su := setup{chat: DefaultConfig(), identity: identity.DefaultConfig()}
	su.identity.Policy = identity.Policy{}
	for _, o := range opts {
		o(&su)
	}

	acfg := account.DefaultConfig()
	acfg.Password = account.PasswordParams{MemoryKiB: 64, Time: 1, Threads: 1}
	accounts := account.NewService(db, acfg)
	if err := accounts.SeedTerms(ctx); err != nil {
		tb.Fatalf("seed terms: %v", err)
	}
	dir := tb.TempDir()
	keys, _, err := identity.LoadKeyring(filepath.Join(dir, "k"), true)
	if err != nil {
		tb.Fatalf("load keyring: %v", err)
	}
	outbox, err := sms.NewOutbox(filepath.Join(dir, "sms.jsonl"))
	if err != nil {
		tb.Fatalf("sms outbox: %v", err)
	}
	ids := identity.NewService(db, keys, outbox, su.identity)

	b := bus.NewLocal("test")
	tb.Cleanup(func() { b.Close() })

	svc, err := NewService(ctx, db, b, accounts, ids, su.chat, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		tb.Fatalf("new chat service: %v", err)
	}
	tb.Cleanup(svc.Close)
	// Set before the first send reaches the writer goroutine: the
	// channel send in submit orders this write before its reads.
	clk := &testClock{}
	svc.now = clk.Now
	return &env{db: db, accounts: accounts, ids: ids, bus: b, svc: svc, clock: clk, outbox: outbox.Path()}
}

// withChat changes the chat configuration.
func withChat(f func(*Config)) func(*setup) {
	return func(s *setup) { f(&s.chat) }
}

// account registers an account with handle and returns its ID.
func (e *env) account(tb testing.TB, handle string) plaza.ID {
	tb.Helper()
	a, _, err := e.accounts.Register(context.Background(), account.Registration{
		Handle: handle, Password: "password123", DisplayName: handle, BirthDate: "1990-01-01", AcceptedTermsVersion: 1,
	})
	if err != nil {
		tb.Fatalf("register %s: %v", handle, err)
	}
	return a.ID
}

// accountsN registers n accounts named prefix_0, prefix_1, ….
func (e *env) accountsN(tb testing.TB, prefix string, n int) []plaza.ID {
	tb.Helper()
	out := make([]plaza.ID, n)
	for i := range out {
		out[i] = e.account(tb, fmt.Sprintf("%s_%d", prefix, i))
	}
	return out
}

// befriend makes a and b contacts, a asking and b accepting, unless they
// already are.
func (e *env) befriend(tb testing.TB, a, b plaza.ID) {
	tb.Helper()
	ctx := context.Background()
	if ok, err := areContacts(ctx, e.db.Read(), a, b); err != nil {
		tb.Fatalf("are contacts: %v", err)
	} else if ok {
		return
	}
	req, err := e.svc.RequestContact(ctx, a, b, "hi")
	if err != nil {
		tb.Fatalf("request contact %s→%s: %v", a, b, err)
	}
	if req.Status == RequestAccepted {
		return
	}
	if _, err := e.svc.AcceptContact(ctx, b, req.ID); err != nil {
		tb.Fatalf("accept contact %s→%s: %v", a, b, err)
	}
}

// direct makes a and b contacts and opens their direct conversation.
// directPairs makes a direct conversation of each two of users in turn.
func (e *env) directPairs(tb testing.TB, users []plaza.ID) []Conversation {
	tb.Helper()
	var convs []Conversation
	for i := 0; i+1 < len(users); i += 2 {
		convs = append(convs, e.direct(tb, users[i], users[i+1]))
	}
	return convs
}

func (e *env) direct(tb testing.TB, a, b plaza.ID) Conversation {
	tb.Helper()
	e.befriend(tb, a, b)
	c, _, err := e.svc.OpenDirect(context.Background(), a, b)
	if err != nil {
		tb.Fatalf("open direct %s–%s: %v", a, b, err)
	}
	return c
}

// group makes owner a contact of each member and creates a group.
func (e *env) group(tb testing.TB, owner plaza.ID, title string, members ...plaza.ID) Conversation {
	tb.Helper()
	for _, m := range members {
		e.befriend(tb, owner, m)
	}
	c, err := e.svc.CreateGroup(context.Background(), owner, title, members)
	if err != nil {
		tb.Fatalf("create group %q: %v", title, err)
	}
	return c
}

// send sends a text with a fresh client_id and returns the message.
func (e *env) send(tb testing.TB, from, conv plaza.ID, text string) Message {
	tb.Helper()
	m, created, err := e.svc.Send(context.Background(), from, SendInput{
		ConversationID: conv, ClientID: "c-" + plaza.NewID().String(), Kind: KindText, Text: text,
	})
	if err != nil {
		tb.Fatalf("send %q: %v", text, err)
	}
	if !created {
		tb.Fatalf("send %q: created = false, want true", text)
	}
	return m
}

// history returns every message of conv that account may see.
func (e *env) history(tb testing.TB, account, conv plaza.ID) []Message {
	tb.Helper()
	msgs, err := e.svc.History(context.Background(), account, conv, 0, 0, 100000)
	if err != nil {
		tb.Fatalf("history: %v", err)
	}
	return msgs
}

// event is a stream frame, from the sync log or the bus.
type event struct {
	Type   string          `json:"type"`
	Cursor string          `json:"cursor"`
	Data   json.RawMessage `json:"data"`
	// Seq is the bus envelope's sequence number (bus events only).
	Seq int64 `json:"-"`
}

// cursor returns the frame's cursor as a number (0 when absent).
func (ev event) cursor(tb testing.TB) int64 {
	tb.Helper()
	if ev.Cursor == "" {
		return 0
	}
	n, err := strconv.ParseInt(ev.Cursor, 10, 64)
	if err != nil {
		tb.Fatalf("cursor %q: %v", ev.Cursor, err)
	}
	return n
}

// message decodes the frame's data as a message.
func (ev event) message(tb testing.TB) Message {
	tb.Helper()
	var m Message
	if err := json.Unmarshal(ev.Data, &m); err != nil {
		tb.Fatalf("decode %s data %s: %v", ev.Type, ev.Data, err)
	}
	return m
}

// conversation decodes the frame's data as a conversation.
func (ev event) conversation(tb testing.TB) Conversation {
	tb.Helper()
	var c Conversation
	if err := json.Unmarshal(ev.Data, &c); err != nil {
		tb.Fatalf("decode %s data %s: %v", ev.Type, ev.Data, err)
	}
	return c
}

func decodeFrame(tb testing.TB, b []byte) event {
	tb.Helper()
	var ev event
	if err := json.Unmarshal(b, &ev); err != nil {
		tb.Fatalf("decode frame %s: %v", b, err)
	}
	return ev
}

// syncAll returns every event of account's sync log after since.
func (e *env) syncAll(tb testing.TB, account plaza.ID, since int64) []event {
	tb.Helper()
	page, err := e.svc.Sync(context.Background(), account, since, 1000)
	if err != nil {
		tb.Fatalf("sync %s since %d: %v", account, since, err)
	}
	if page.More {
		tb.Fatalf("sync %s since %d: more than 1000 events", account, since)
	}
	out := make([]event, len(page.Events))
	for i, raw := range page.Events {
		out[i] = decodeFrame(tb, raw)
	}
	return out
}

// ofType keeps the events of type typ.
func ofType(evs []event, typ string) []event {
	var out []event
	for _, ev := range evs {
		if ev.Type == typ {
			out = append(out, ev)
		}
	}
	return out
}

// recorder keeps what the bus delivers on one account's subject.
type recorder struct {
	mu     sync.Mutex
	events []event
	bad    []string
}

// record subscribes to account's subject on e's bus until the test ends.
func (e *env) record(tb testing.TB, account plaza.ID) *recorder {
	tb.Helper()
	r := &recorder{}
	// Events are published after their commit by the log's publisher
	// goroutine, so ones stored before this call may still be on their
	// way: like a device, the recorder skips what its cursor has seen.
	head, err := e.svc.Events().Head(context.Background(), account)
	if err != nil {
		tb.Fatalf("sync head: %v", err)
	}
	sub, err := e.bus.Subscribe(events.AccountSubject(account), func(data []byte) {
		seq, f, err := events.ParseEnvelope(data)
		r.mu.Lock()
		defer r.mu.Unlock()
		if err != nil {
			r.bad = append(r.bad, err.Error())
			return
		}
		if seq > 0 && seq <= head {
			return
		}
		var ev event
		if err := json.Unmarshal(f, &ev); err != nil {
			r.bad = append(r.bad, fmt.Sprintf("frame %s: %v", f, err))
			return
		}
		ev.Seq = seq
		r.events = append(r.events, ev)
	})
	if err != nil {
		tb.Fatalf("subscribe: %v", err)
	}
	tb.Cleanup(func() { sub.Unsubscribe() })
	return r
}

// snapshot returns what was recorded so far.
func (r *recorder) snapshot(tb testing.TB) []event {
	tb.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.bad) > 0 {
		tb.Fatalf("undecodable bus events: %v", r.bad)
	}
	return append([]event(nil), r.events...)
}

// wait polls until at least n events were recorded and returns them all.
func (r *recorder) wait(tb testing.TB, n int) []event {
	tb.Helper()
	var evs []event
	plazatest.Eventually(tb, waitTimeout, func() error {
		if evs = r.snapshot(tb); len(evs) < n {
			return fmt.Errorf("bus delivered %d events, want %d: %+v", len(evs), n, evs)
		}
		return nil
	})
	return evs
}

// waitType polls until an event of type typ was recorded and returns the
// recorded events of that type.
func (r *recorder) waitType(tb testing.TB, typ string, n int) []event {
	tb.Helper()
	var evs []event
	plazatest.Eventually(tb, waitTimeout, func() error {
		if evs = ofType(r.snapshot(tb), typ); len(evs) < n {
			return fmt.Errorf("bus delivered %d %s events, want %d", len(evs), typ, n)
		}
		return nil
	})
	return evs
}

// mustNil fails on a non-nil error.
func mustNil(tb testing.TB, err error, what string) {
	tb.Helper()
	if err != nil {
		tb.Fatalf("%s: %v", what, err)
	}
}

// isCode reports whether err carries code (for goroutines, which must not
// call Fatal).
func isCode(err error, code string) bool { return plaza.ErrorCode(err) == code }

// seqs returns the seq of each message.
func seqs(msgs []Message) []int64 {
	out := make([]int64, len(msgs))
	for i, m := range msgs {
		out[i] = m.Seq
	}
	return out
}

// wantSeqs fails unless msgs have exactly the seqs from..to in order.
func wantSeqs(tb testing.TB, msgs []Message, from, to int64) {
	tb.Helper()
	if got, want := int64(len(msgs)), to-from+1; got != want {
		tb.Fatalf("got %d messages (seqs %v), want %d (seqs %d..%d)", got, seqs(msgs), want, from, to)
	}
	for i, m := range msgs {
		if want := from + int64(i); m.Seq != want {
			tb.Fatalf("message %d has seq %d, want %d (seqs %v)", i, m.Seq, want, seqs(msgs))
		}
	}
}

// The assertions the test suites share live in plazatest.
var (
	wantCode    = plazatest.WantCode
	wantInvalid = plazatest.WantInvalidField
)

package realtime

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/plaza-im/plaza"
	"github.com/plaza-im/plaza/internal/bus"
	"github.com/plaza-im/plaza/internal/events"
	"github.com/plaza-im/plaza/internal/plazatest"
	"github.com/plaza-im/plaza/internal/sqldb"
	"github.com/plaza-im/plaza/internal/sqldb/sqldbtest"
)

// waitTimeout bounds every poll for an asynchronous outcome.
const waitTimeout = 15 * time.Second

// eachTransport runs f with the default configuration on each transport.
func eachTransport(t *testing.T, f func(t *testing.T, cfg Config)) {
	for _, tr := range []string{TransportNBIO, TransportStd} {
		t.Run(tr, func(t *testing.T) {
			cfg := DefaultConfig()
			cfg.Transport = tr
			f(t, cfg)
		})
	}
}

// eventually polls cond until it holds or waitTimeout passes.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(waitTimeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// countingBus counts the live subscriptions per subject, so a test sees
// exactly what the hub subscribed and dropped.
type countingBus struct {
	bus.Bus
	mu        sync.Mutex
	subs      map[string]int
	lossFns   []func(bus.Loss)
	published map[string]int // subject → publishes
}

func (c *countingBus) Publish(ctx context.Context, subject string, data []byte) error {
	c.mu.Lock()
	if c.published == nil {
		c.published = map[string]int{}
	}
	c.published[subject]++
	c.mu.Unlock()
	return c.Bus.Publish(ctx, subject, data)
}

type countedSub struct {
	bus.Subscription
	b       *countingBus
	subject string
	once    sync.Once
}

func (c *countingBus) Subscribe(subject string, h func([]byte), opts ...bus.SubscribeOption) (bus.Subscription, error) {
	s, err := c.Bus.Subscribe(subject, h, opts...)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	c.subs[subject]++
	c.mu.Unlock()
	return &countedSub{Subscription: s, b: c, subject: subject}, nil
}

func (s *countedSub) Unsubscribe() error {
	s.once.Do(func() {
		s.b.mu.Lock()
		s.b.subs[s.subject]--
		if s.b.subs[s.subject] == 0 {
			delete(s.b.subs, s.subject)
		}
		s.b.mu.Unlock()
	})
	return s.Subscription.Unsubscribe()
}

// OnLoss records the hub's loss handler, so a test can report a loss
// that did not happen (the local bus only loses when a subscriber
// falls behind).
func (c *countingBus) OnLoss(fn func(bus.Loss)) (stop func()) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.lossFns = append(c.lossFns, fn)
	return func() {}
}

// lose reports a loss of the given kind to every handler.
func (c *countingBus) lose(kind bus.Loss) {
	c.mu.Lock()
	fns := append([]func(bus.Loss){}, c.lossFns...)
	c.mu.Unlock()
	for _, fn := range fns {
		fn(kind)
	}
}

// live returns a copy of the live subscriptions, AllSubject left out.
func (c *countingBus) live() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := map[string]int{}
	for k, v := range c.subs {
		if k != AllSubject {
			out[k] = v
		}
	}
	return out
}

// hubEnv is a hub on a real database, the local bus and an httptest
// server, with the domains replaced by small fakes that use the sync log
// as chat does.
type hubEnv struct {
	t      *testing.T
	db     *sqldb.DB
	bus    *countingBus
	log    *events.Log
	hub    *Hub
	srv    *httptest.Server
	reg    *prometheus.Registry
	nextID plaza.ID

	mu       sync.Mutex
	follows  map[plaza.ID][]plaza.ID // account → followed channels
	authors  map[plaza.ID][]plaza.ID // account → followed authors above the fan-out threshold
	standing map[plaza.ID]error      // session → its standing
	// standingCalls is the number of streams of each standing check;
	// standingDown, when set, fails every check as an unreachable
	// database would.
	standingCalls []int
	standingDown  error
	sent          []string // client_ids in the order Send queued them
	// hold, when set, keeps every send's commit waiting until it is
	// closed.
	hold chan struct{}
}

func newHubEnv(t *testing.T, db *sqldb.DB, cfg Config) *hubEnv {
	t.Helper()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	e := &hubEnv{t: t, db: db, bus: &countingBus{Bus: bus.NewLocal("hubtest"), subs: map[string]int{}},
		follows: map[plaza.ID][]plaza.ID{}, authors: map[plaza.ID][]plaza.ID{}, standing: map[plaza.ID]error{}, reg: prometheus.NewRegistry(), nextID: 1000}
	l, err := events.NewLog(context.Background(), db, e.bus, events.LogConfig{Retention: time.Hour}, quiet)
	if err != nil {
		t.Fatal(err)
	}
	e.log = l
	e.hub = NewHub(cfg, e.bus, l, Domain{Send: e.send, Typing: e.typing}, quiet, e.reg)
	e.hub.UseChannels(func(_ context.Context, a plaza.ID) ([]plaza.ID, error) {
		e.mu.Lock()
		defer e.mu.Unlock()
		return append([]plaza.ID(nil), e.follows[a]...), nil
	})
	e.hub.UseAuthors(func(_ context.Context, a plaza.ID) ([]plaza.ID, error) {
		e.mu.Lock()
		defer e.mu.Unlock()
		return append([]plaza.ID(nil), e.authors[a]...), nil
	})
	if err := e.hub.UseStanding(func(_ context.Context, refs []StreamRef) ([]error, error) {
		e.mu.Lock()
		defer e.mu.Unlock()
		e.standingCalls = append(e.standingCalls, len(refs))
		if e.standingDown != nil {
			return nil, e.standingDown
		}
		errs := make([]error, len(refs))
		for i, r := range refs {
			errs[i] = e.standing[r.Session]
		}
		return errs, nil
	}); err != nil {
		t.Fatal(err)
	}
	e.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		a, _ := strconv.ParseInt(q.Get("account"), 10, 64)
		s, _ := strconv.ParseInt(q.Get("session"), 10, 64)
		since := int64(-1)
		if v := q.Get("since"); v != "" {
			since, _ = strconv.ParseInt(v, 10, 64)
		}
		if err := e.hub.Serve(w, r, plaza.ID(a), plaza.ID(s), since); err != nil {
			http.Error(w, plaza.ErrorCode(err), http.StatusBadRequest)
		}
	}))
	t.Cleanup(func() {
		e.hub.Close()
		e.srv.Close()
		l.Close()
		e.bus.Close()
	})
	return e
}

// account inserts an account row (the sync log references it).
func (e *hubEnv) account() plaza.ID {
	e.t.Helper()
	e.mu.Lock()
	e.nextID++
	id := e.nextID
	e.mu.Unlock()
	if _, err := e.db.Write().ExecContext(context.Background(), `INSERT INTO accounts (id, handle, display_name, password_hash, birth_date, created_at, updated_at)
		VALUES ($1, $2, '', '', '2000-01-01', 0, 0)`, id, "u"+id.String()); err != nil {
		e.t.Fatal(err)
	}
	return id
}

// send is the fake chat send: it records the send as queued, and its
// wait stores a message.created event for the sender and publishes it,
// like chat.
func (e *hubEnv) send(ctx context.Context, acct plaza.ID, in SendInput) (func() (any, error), error) {
	if in.ClientID == "" {
		return nil, plaza.Invalid("client_id", "is required")
	}
	e.mu.Lock()
	e.sent = append(e.sent, in.ClientID)
	hold := e.hold
	e.mu.Unlock()
	return func() (any, error) {
		if hold != nil {
			<-hold
		}
		return e.storeSend(acct, in)
	}, nil
}

func (e *hubEnv) storeSend(acct plaza.ID, in SendInput) (any, error) {
	data, _ := json.Marshal(map[string]any{"client_id": in.ClientID, "text": in.Text})
	var evs []events.Pending
	err := e.db.InTx(context.Background(), func(tx *sql.Tx) error {
		var err error
		evs, err = e.log.Append(context.Background(), tx, []events.Event{{Account: acct, Type: events.MessageCreated, Data: data, Stored: data}})
		return err
	})
	if err != nil {
		return nil, err
	}
	e.log.Publish(context.Background(), evs)
	return json.RawMessage(data), nil
}

func (e *hubEnv) typing(ctx context.Context, acct, conv plaza.ID) error {
	if conv == 0 {
		return plaza.Errorf(plaza.ENotFound, "conversation not found")
	}
	data, _ := json.Marshal(map[string]any{"conversation_id": conv, "account_id": acct})
	return e.log.PublishEphemeral(ctx, []plaza.ID{acct}, events.Typing, data)
}

// store appends an event for acct and publishes it, as a domain would.
func (e *hubEnv) store(acct plaza.ID, text string) int64 {
	e.t.Helper()
	seq, evs := e.storeOnly(acct, text)
	e.log.Publish(context.Background(), evs)
	return seq
}

// storeOnly appends an event for acct without publishing it: the bus
// lost it.
func (e *hubEnv) storeOnly(acct plaza.ID, text string) (int64, []events.Pending) {
	e.t.Helper()
	data, _ := json.Marshal(map[string]string{"text": text})
	var evs []events.Pending
	if err := e.db.InTx(context.Background(), func(tx *sql.Tx) error {
		var err error
		evs, err = e.log.Append(context.Background(), tx, []events.Event{{Account: acct, Type: events.ConversationUpdated, Data: data, Stored: data}})
		return err
	}); err != nil {
		e.t.Fatal(err)
	}
	return evs[0].Seq, evs
}

type device struct {
	t  *testing.T
	ws *websocket.Conn
}

type gotFrame struct {
	Type   string          `json:"type"`
	ID     string          `json:"id"`
	Cursor string          `json:"cursor"`
	Data   json.RawMessage `json:"data"`
}

// dial opens a stream and reads up to its ready frame.
func (e *hubEnv) dial(acct, session plaza.ID, since string) *device {
	e.t.Helper()
	d, err := e.tryDial(acct, session, since)
	if err != nil {
		e.t.Fatal(err)
	}
	for {
		if f := d.read(); f.Type == events.Ready {
			return d
		}
	}
}

func (e *hubEnv) tryDial(acct, session plaza.ID, since string) (*device, error) {
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	u := fmt.Sprintf("ws%s/?account=%d&session=%d&since=%s", strings.TrimPrefix(e.srv.URL, "http"), acct, session, since)
	ws, _, err := websocket.Dial(ctx, u, nil)
	if err != nil {
		return nil, err
	}
	ws.SetReadLimit(1 << 20)
	e.t.Cleanup(func() { ws.CloseNow() })
	return &device{t: e.t, ws: ws}, nil
}

func (d *device) read() gotFrame {
	d.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	_, b, err := d.ws.Read(ctx)
	if err != nil {
		d.t.Fatalf("read: %v", err)
	}
	var f gotFrame
	if err := json.Unmarshal(b, &f); err != nil {
		d.t.Fatalf("frame %s: %v", b, err)
	}
	return f
}

func (d *device) write(v any) {
	d.t.Helper()
	b, _ := json.Marshal(v)
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	if err := d.ws.Write(ctx, websocket.MessageText, b); err != nil {
		d.t.Fatalf("write: %v", err)
	}
}

// closedWith reads until the stream ends and checks its close code.
func (d *device) closedWith(code websocket.StatusCode) {
	d.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	for {
		_, _, err := d.ws.Read(ctx)
		if err == nil {
			continue
		}
		var ce websocket.CloseError
		if !errors.As(err, &ce) || ce.Code != code {
			d.t.Fatalf("stream ended with %v, want close code %d", err, code)
		}
		return
	}
}

func (d *device) hangUp() { _ = d.ws.Close(websocket.StatusNormalClosure, "") }

// accountsOnHub returns how many accounts the hub holds and their devices.
func (h *Hub) bookkeeping() (accounts, conns, channels int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, ac := range h.accounts {
		conns += len(ac.conns)
	}
	return len(h.accounts), conns, len(h.topics)
}

// TestHubAttachDetachBookkeeping: the first device of an account
// subscribes to its subject and its followed channels; further devices
// share them; the last one to leave drops them all.
func TestHubAttachDetachBookkeeping(t *testing.T) {
	eachTransport(t, func(t *testing.T, cfg Config) {
		sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
			e := newHubEnv(t, db, cfg)
			a, b := e.account(), e.account()
			ch1, ch2 := plaza.ID(1), plaza.ID(2)
			e.follows[a] = []plaza.ID{ch1, ch2}
			e.follows[b] = []plaza.ID{ch2}
			a1 := e.dial(a, 1, "")
			a2 := e.dial(a, 2, "")
			b1 := e.dial(b, 3, "")
			want := map[string]int{events.AccountSubject(a): 1, events.AccountSubject(b): 1, events.ChannelSubject(ch1): 1, events.ChannelSubject(ch2): 1}
			if got := e.bus.live(); fmt.Sprint(got) != fmt.Sprint(want) {
				t.Fatalf("subscriptions = %v, want %v", got, want)
			}
			if n, c, chs := e.hub.bookkeeping(); n != 2 || c != 3 || chs != 2 || e.hub.Connections() != 3 {
				t.Fatalf("hub holds %d accounts, %d devices, %d channels; want 2, 3, 2", n, c, chs)
			}

			a1.hangUp()
			eventually(t, "the first device to be detached", func() bool { return e.hub.Connections() == 2 })
			if got := e.bus.live(); fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("after one of two devices left, subscriptions = %v, want %v", got, want)
			}
			// The remaining device still gets the account's events.
			seq := e.store(a, "still here")
			if f := a2.read(); f.Cursor != strconv.FormatInt(seq, 10) {
				t.Errorf("remaining device got %+v, want cursor %d", f, seq)
			}

			a2.hangUp()
			eventually(t, "the account's last device to be detached", func() bool { return e.hub.Connections() == 1 })
			want = map[string]int{events.AccountSubject(b): 1, events.ChannelSubject(ch2): 1}
			eventually(t, "the account's subscriptions to be dropped", func() bool { return fmt.Sprint(e.bus.live()) == fmt.Sprint(want) })

			b1.hangUp()
			eventually(t, "every subscription to be dropped", func() bool { return len(e.bus.live()) == 0 })
			if n, c, chs := e.hub.bookkeeping(); n != 0 || c != 0 || chs != 0 {
				t.Errorf("hub still holds %d accounts, %d devices, %d channels", n, c, chs)
			}
		})
	})
}

// TestHubFollowControl: a follow change published on the account's
// subject makes the node subscribe to the channel and deliver its posts;
// an unfollow drops the subscription, and another follower keeps it.
func TestHubFollowControl(t *testing.T) {
	eachTransport(t, func(t *testing.T, cfg Config) {
		e := newHubEnv(t, sqldbtest.Open(t, sqldb.SQLite), cfg)
		ctx := context.Background()
		a, b := e.account(), e.account()
		ch := plaza.ID(77)
		da := e.dial(a, 1, "")
		db := e.dial(b, 2, "")
		notify := FollowNotifier(e.bus, slog.New(slog.NewTextHandler(io.Discard, nil)))
		chSubs := func() int { return e.bus.live()[events.ChannelSubject(ch)] }

		notify(ctx, a, events.FollowControl{Channel: ch, Follow: true})
		eventually(t, "the channel subscription", func() bool { return chSubs() == 1 })
		notify(ctx, b, events.FollowControl{Channel: ch, Follow: true})
		notify(ctx, b, events.FollowControl{Channel: ch, Follow: true}) // twice: no second subscription
		eventually(t, "b to follow", func() bool {
			e.hub.mu.Lock()
			defer e.hub.mu.Unlock()
			cs := e.hub.topics[events.ChannelSubject(ch)]
			return cs != nil && cs.accounts[b]
		})
		if n := chSubs(); n != 1 {
			t.Fatalf("%d subscriptions to the channel, want 1 for both followers", n)
		}
		post := events.Frame(events.ChannelPost, 0, []byte(`{"id":"9"}`))
		if err := e.bus.Publish(ctx, events.ChannelSubject(ch), post); err != nil {
			t.Fatal(err)
		}
		for _, d := range []*device{da, db} {
			if f := d.read(); f.Type != events.ChannelPost || string(f.Data) != `{"id":"9"}` || f.Cursor != "" {
				t.Errorf("follower got %+v, want the channel.post without a cursor", f)
			}
		}

		notify(ctx, a, events.FollowControl{Channel: ch, Follow: false})
		eventually(t, "a to unfollow", func() bool {
			e.hub.mu.Lock()
			defer e.hub.mu.Unlock()
			return !e.hub.topics[events.ChannelSubject(ch)].accounts[a]
		})
		if n := chSubs(); n != 1 {
			t.Fatalf("after one of two unfollowed: %d subscriptions, want 1", n)
		}
		notify(ctx, b, events.FollowControl{Channel: ch, Follow: false})
		eventually(t, "the channel subscription to be dropped", func() bool { return chSubs() == 0 })

		// A follow change for an account with no device here is ignored.
		notify(ctx, e.account(), events.FollowControl{Channel: ch, Follow: true})
		// A bad control message is logged and ignored; the stream goes on.
		if err := e.bus.Publish(ctx, events.AccountSubject(a), events.ControlEnvelope([]byte("{"))); err != nil {
			t.Fatal(err)
		}
		seq := e.store(a, "after")
		if f := da.read(); f.Cursor != strconv.FormatInt(seq, 10) {
			t.Errorf("after the control messages device got %+v, want cursor %d", f, seq)
		}
		if n := chSubs(); n != 0 {
			t.Errorf("%d channel subscriptions after the last unfollow, want 0", n)
		}
	})
}

// TestHubSlowConsumerIsClosed: a device that stops reading while events
// keep coming overflows its queue; when it reads again it learns, by close
// code 4008, to resume from its cursor, and it is detached; its next
// stream from that cursor misses nothing.
func TestHubSlowConsumerIsClosed(t *testing.T) {
	eachTransport(t, func(t *testing.T, cfg Config) {
		cfg.QueueLen = 4
		e := newHubEnv(t, sqldbtest.Open(t, sqldb.SQLite), cfg)
		a := e.account()
		d := e.dial(a, 1, "")
		// Large frames fill the socket's buffers while the device reads
		// nothing, so the writer blocks and the queue overflows.
		big := events.Frame(events.Typing, 0, []byte(`"`+strings.Repeat("x", 256<<10)+`"`))
		for i := 0; i < 400 && slowClosed(t, e) == 0; i++ {
			if err := e.bus.Publish(context.Background(), events.AccountSubject(a), events.Envelope(0, big)); err != nil {
				t.Fatal(err)
			}
			time.Sleep(time.Millisecond) // let the writer block on the socket
		}
		eventually(t, "the queue to overflow", func() bool { return slowClosed(t, e) == 1 })
		// The device reads again: the frames already on their way, then the
		// close frame.
		ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
		defer cancel()
		var err error
		for err == nil {
			_, _, err = d.ws.Read(ctx)
		}
		var ce websocket.CloseError
		if !errors.As(err, &ce) || ce.Code != statusTooSlow || !strings.Contains(ce.Reason, "since=") {
			t.Errorf("slow device's stream ended with %v, want close 4008 telling it to reconnect with since=", err)
		}
		eventually(t, "the slow device to be detached", func() bool { return e.hub.Connections() == 0 })
		eventually(t, "its subscription to be dropped", func() bool { return len(e.bus.live()) == 0 })
		// It resumes from its cursor.
		seq := e.store(a, "missed")
		d2, err := e.tryDial(a, 2, "0")
		if err != nil {
			t.Fatal(err)
		}
		if f := d2.read(); f.Cursor != strconv.FormatInt(seq, 10) {
			t.Errorf("resumed stream replayed %+v, want cursor %d", f, seq)
		}
		if f := d2.read(); f.Type != events.Ready {
			t.Errorf("after the replay got %+v, want ready", f)
		}
	})
}

// slowClosed reads the hub's count of devices closed for being too slow.
func slowClosed(t *testing.T, e *hubEnv) float64 {
	t.Helper()
	mfs, err := e.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == "plaza_realtime_slow_consumers_total" {
			return mf.GetMetric()[0].GetCounter().GetValue()
		}
	}
	return 0
}

// TestHubReconnectStorm connects and disconnects devices of a few
// accounts concurrently; afterwards the hub's books and the bus's
// subscriptions are exact, and events still reach the devices left.
func TestHubReconnectStorm(t *testing.T) {
	eachTransport(t, func(t *testing.T, cfg Config) {
		sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
			e := newHubEnv(t, db, cfg)
			var accts []plaza.ID
			for i := 0; i < 4; i++ {
				a := e.account()
				accts = append(accts, a)
				e.follows[a] = []plaza.ID{plaza.ID(10 + i%2)}
			}
			const storm = 200
			var wg sync.WaitGroup
			errs := make(chan error, storm)
			for i := 0; i < storm; i++ {
				wg.Add(1)
				go func(i int) {
					defer wg.Done()
					d, err := e.tryDial(accts[i%len(accts)], plaza.ID(i+1), "")
					if err != nil {
						errs <- err
						return
					}
					if i%3 == 0 {
						d.ws.CloseNow() // vanish without a close handshake
					} else {
						d.hangUp()
					}
				}(i)
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Fatalf("dial during the storm: %v", err)
			}
			eventually(t, "every stormed device to be detached", func() bool { return e.hub.Connections() == 0 })
			eventually(t, "every subscription to be dropped", func() bool { return len(e.bus.live()) == 0 })
			if n, c, chs := e.hub.bookkeeping(); n != 0 || c != 0 || chs != 0 {
				t.Fatalf("after the storm the hub holds %d accounts, %d devices, %d channels", n, c, chs)
			}

			// One device per account now: exactly one subscription each.
			devs := make([]*device, len(accts))
			for i, a := range accts {
				devs[i] = e.dial(a, plaza.ID(1000+i), "")
			}
			want := map[string]int{events.ChannelSubject(10): 1, events.ChannelSubject(11): 1}
			for _, a := range accts {
				want[events.AccountSubject(a)] = 1
			}
			if got := e.bus.live(); fmt.Sprint(got) != fmt.Sprint(want) {
				t.Fatalf("subscriptions = %v, want %v", got, want)
			}
			for i, a := range accts {
				seq := e.store(a, "after the storm")
				if f := devs[i].read(); f.Cursor != strconv.FormatInt(seq, 10) {
					t.Errorf("device of %s got %+v, want cursor %d", a, f, seq)
				}
			}
		})
	})
}

// TestHubStandingCloses: a standing change published for an account (or
// for everyone) closes the streams that lost it with the code that says
// why; the others stay open.
func TestHubStandingCloses(t *testing.T) {
	eachTransport(t, func(t *testing.T, cfg Config) {
		e := newHubEnv(t, sqldbtest.Open(t, sqldb.SQLite), cfg)
		ctx := context.Background()
		notify := StandingNotifier(e.bus, slog.New(slog.NewTextHandler(io.Discard, nil)))
		a, b := e.account(), e.account()
		ended, kept := e.dial(a, 1, ""), e.dial(a, 2, "")
		other := e.dial(b, 3, "")
		e.mu.Lock()
		e.standing[1] = plaza.Errorf(plaza.EUnauthenticated, "signed out")
		e.mu.Unlock()
		notify(ctx, a)
		ended.closedWith(StatusSessionEnded)
		eventually(t, "the ended stream to be detached", func() bool { return e.hub.Connections() == 2 })

		for _, tc := range []struct {
			code string
			want websocket.StatusCode
		}{
			{plaza.EAccountSuspended, StatusAccountRestricted},
			{plaza.EAccountClosed, StatusAccountRestricted},
			{plaza.ETermsAcceptanceRequired, StatusTermsRequired},
		} {
			s := plaza.ID(100 + len(tc.code))
			d := e.dial(b, s, "")
			e.mu.Lock()
			e.standing[s] = plaza.Errorf(tc.code, "no")
			e.mu.Unlock()
			notify(ctx, 0) // every account's streams, on AllSubject
			d.closedWith(tc.want)
		}
		// A failed check (the database is down) leaves streams open, even
		// one whose session would be found ended.
		e.mu.Lock()
		e.standing[2] = plaza.Errorf(plaza.EUnauthenticated, "signed out")
		e.standingDown = errors.New("database unreachable")
		e.mu.Unlock()
		notify(ctx, a)
		eventually(t, "the failed check", func() bool {
			e.mu.Lock()
			defer e.mu.Unlock()
			return len(e.standingCalls) > 0 && e.standingCalls[len(e.standingCalls)-1] == 1
		})
		seq := e.store(a, "kept")
		if f := kept.read(); f.Cursor != strconv.FormatInt(seq, 10) {
			t.Errorf("kept stream got %+v, want cursor %d", f, seq)
		}
		if f := func() gotFrame {
			seq := e.store(b, "other")
			f := other.read()
			f.ID = strconv.FormatInt(seq, 10)
			return f
		}(); f.Cursor != f.ID {
			t.Errorf("the other account's stream got %+v", f)
		}
	})
}

// TestHubStandingChecksInBatches: re-checking every stream asks the
// check about standingBatch streams at a time, not one at a time, and
// closes exactly the streams it was told lost their standing (the hub
// takes its streams in no set order, so where those fall among the
// batches varies from run to run).
func TestHubStandingChecksInBatches(t *testing.T) {
	e := newHubEnv(t, sqldbtest.Open(t, sqldb.SQLite), DefaultConfig())
	const n = standingBatch + 44
	a := e.account()
	devices := make([]*device, n)
	for i := range devices {
		devices[i] = e.dial(a, plaza.ID(1+i), "")
	}
	ended := map[int]bool{0: true, standingBatch - 1: true, standingBatch: true, n - 1: true}
	e.mu.Lock()
	for i := range ended {
		e.standing[plaza.ID(1+i)] = plaza.Errorf(plaza.EUnauthenticated, "signed out")
	}
	e.standingCalls = nil
	e.mu.Unlock()
	StandingNotifier(e.bus, slog.New(slog.NewTextHandler(io.Discard, nil)))(context.Background(), 0)
	for i := range ended {
		devices[i].closedWith(StatusSessionEnded)
	}
	eventually(t, "the ended streams to be detached", func() bool { return e.hub.Connections() == n-len(ended) })
	eventually(t, "every stream to be checked", func() bool {
		e.mu.Lock()
		defer e.mu.Unlock()
		sum := 0
		for _, c := range e.standingCalls {
			sum += c
		}
		return sum >= n
	})
	e.mu.Lock()
	calls := append([]int(nil), e.standingCalls...)
	e.mu.Unlock()
	sum := 0
	for _, c := range calls {
		if c > standingBatch {
			t.Errorf("a check of %d streams, more than %d", c, standingBatch)
		}
		sum += c
	}
	if sum != n || len(calls) != 2 {
		t.Errorf("checks of %v streams, want %d streams in 2 checks", calls, n)
	}
	seq := e.store(a, "still here")
	for i, d := range devices {
		if ended[i] {
			continue
		}
		if f := d.read(); f.Cursor != strconv.FormatInt(seq, 10) {
			t.Fatalf("stream %d got %+v, want cursor %d", i, f, seq)
		}
	}
}

// TestHubRefusedSendRepliesInOrder: a send refused before it is queued
// is answered in its place among the acks of the sends around it, and the
// goroutine that replies ends once nothing waits.
func TestHubRefusedSendRepliesInOrder(t *testing.T) {
	eachTransport(t, func(t *testing.T, cfg Config) {
		e := newHubEnv(t, sqldbtest.Open(t, sqldb.SQLite), cfg)
		a := e.account()
		d := e.dial(a, 1, "")
		const n = 12
		for i := 0; i < n; i++ {
			client := fmt.Sprint("c", i)
			if i%3 == 1 {
				client = "" // refused by the domain's checks
			}
			d.write(map[string]any{"type": "message.send", "id": fmt.Sprint("F", i), "data": map[string]any{"conversation_id": "5", "client_id": client, "kind": "text", "text": "hi"}})
		}
		for got := 0; got < n; {
			f := d.read()
			if f.Type == events.MessageCreated {
				continue
			}
			want := events.MessageAck
			if got%3 == 1 {
				want = "error"
			}
			if f.Type != want || f.ID != fmt.Sprint("F", got) {
				t.Fatalf("reply %d is %s for %s, want %s for F%d", got, f.Type, f.ID, want, got)
			}
			got++
		}
		e.hub.mu.Lock()
		var c *Conn
		for conn := range e.hub.accounts[a].conns {
			c = conn
		}
		e.hub.mu.Unlock()
		plazatest.Eventually(t, 5*time.Second, func() error {
			c.ackMu.Lock()
			defer c.ackMu.Unlock()
			if c.acking || len(c.acks) > 0 {
				return fmt.Errorf("the reply goroutine still runs with %d sends waiting", len(c.acks))
			}
			return nil
		})
	})
}

// TestHubFramesOfAConnectionInOrder: message.send frames sent without
// waiting are queued and acked in the order sent; typing and bad frames
// are answered with error frames that name the problem.
func TestHubFramesOfAConnectionInOrder(t *testing.T) {
	eachTransport(t, func(t *testing.T, cfg Config) {
		e := newHubEnv(t, sqldbtest.Open(t, sqldb.SQLite), cfg)
		a := e.account()
		d := e.dial(a, 1, "")
		const n = 30
		for i := 0; i < n; i++ {
			d.write(map[string]any{"type": "message.send", "id": fmt.Sprint("F", i), "data": map[string]any{"conversation_id": "5", "client_id": fmt.Sprint("c", i), "kind": "text", "text": "hi"}})
		}
		acks := 0
		for acks < n {
			f := d.read()
			switch f.Type {
			case events.MessageAck:
				if f.ID != fmt.Sprint("F", acks) {
					t.Fatalf("ack %d is for %s, want F%d", acks, f.ID, acks)
				}
				acks++
			case events.MessageCreated:
			default:
				t.Fatalf("unexpected frame %+v", f)
			}
		}
		e.mu.Lock()
		for i, c := range e.sent {
			if c != fmt.Sprint("c", i) {
				t.Errorf("send %d queued as %s, want c%d", i, c, i)
			}
		}
		e.mu.Unlock()

		for _, tc := range []struct {
			frame string
			field string
		}{
			{`{"type":"message.send","id":"E1","data":{"conversation_id":"5","client_id":"","kind":"text","text":"x"}}`, "client_id"},
			{`{"type":"typing","id":"E2","data":{"conversation_id":"5","extra":1}}`, "data.extra"},
			{`{"type":"nope","id":"E3","data":{}}`, "type"},
			// A NUL escaped in a string, and a raw NUL that breaks the JSON.
			{`{"type":"message.send","id":"E4","data":{"conversation_id":"5","client_id":"c","kind":"text","text":"a\u0000b"}}`, "data.text"},
			{"{\"type\":\"typing\",\"id\":\"E5\",\"data\":{\"conversation_id\":\"5\x00\"}}", "frame"},
		} {
			ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
			if err := d.ws.Write(ctx, websocket.MessageText, []byte(tc.frame)); err != nil {
				t.Fatal(err)
			}
			cancel()
			for {
				f := d.read()
				if f.Type == events.Typing || f.Type == events.MessageCreated {
					continue // live events still arriving from the sends above
				}
				if f.Type != events.Error || !strings.Contains(string(f.Data), `"`+tc.field+`"`) {
					t.Errorf("frame %s answered %+v, want an error naming %q", tc.frame, f, tc.field)
				}
				break
			}
		}
		// A valid typing frame reaches the account's devices, without cursor.
		d.write(map[string]any{"type": "typing", "data": map[string]any{"conversation_id": "5"}})
		f := d.read()
		for f.Type == events.MessageCreated {
			f = d.read()
		}
		if f.Type != events.Typing || f.Cursor != "" {
			t.Errorf("typing echoed as %+v", f)
		}
	})
}

// TestHubAuthorSubjects: an author above the fan-out threshold publishes
// once on their subject; a node subscribes to it for the connected
// accounts that follow the author (at connection, and when told of a new
// follow), shares one subscription among them, delivers the post to each,
// and drops it with the last unfollow or disconnection.
func TestHubAuthorSubjects(t *testing.T) {
	eachTransport(t, func(t *testing.T, cfg Config) {
		e := newHubEnv(t, sqldbtest.Open(t, sqldb.SQLite), cfg)
		ctx := context.Background()
		a, b, other := e.account(), e.account(), e.account()
		star := plaza.ID(4242)
		e.mu.Lock()
		e.authors[a] = []plaza.ID{star}
		e.mu.Unlock()
		da := e.dial(a, 1, "")
		db := e.dial(b, 2, "")
		do := e.dial(other, 3, "")
		subs := func() int { return e.bus.live()[events.AuthorSubject(star)] }
		eventually(t, "the author subscription at connection", func() bool { return subs() == 1 })
		notify := FollowNotifier(e.bus, slog.New(slog.NewTextHandler(io.Discard, nil)))
		notify(ctx, b, events.FollowControl{Author: star, Follow: true})
		eventually(t, "b to follow the author", func() bool {
			e.hub.mu.Lock()
			defer e.hub.mu.Unlock()
			ts := e.hub.topics[events.AuthorSubject(star)]
			return ts != nil && ts.accounts[b]
		})
		if n := subs(); n != 1 {
			t.Fatalf("%d subscriptions to the author, want 1 shared", n)
		}
		post := events.Frame(events.PostCreated, 0, []byte(`{"id":"5"}`))
		if err := e.bus.Publish(ctx, events.AuthorSubject(star), post); err != nil {
			t.Fatal(err)
		}
		for _, d := range []*device{da, db} {
			if f := d.read(); f.Type != events.PostCreated || string(f.Data) != `{"id":"5"}` || f.Cursor != "" {
				t.Errorf("follower got %+v, want the post.created without a cursor", f)
			}
		}
		// The account that follows nobody gets its own events and nothing
		// of the author's.
		seq := e.store(other, "own")
		if f := do.read(); f.Cursor != strconv.FormatInt(seq, 10) {
			t.Errorf("a non-follower got %+v first, want its own event", f)
		}
		notify(ctx, b, events.FollowControl{Author: star, Follow: false})
		da.hangUp()
		eventually(t, "the author subscription to be dropped", func() bool { return subs() == 0 })
	})
}

// TestHubResyncAfterBusLoss: an event the bus lost reaches the device as
// soon as the bus reports a loss, not only with the account's next event;
// a sign-out lost with it closes the stream; nothing is written twice.
func TestHubResyncAfterBusLoss(t *testing.T) {
	eachTransport(t, func(t *testing.T, cfg Config) {
		e := newHubEnv(t, sqldbtest.Open(t, sqldb.SQLite), cfg)
		e.hub.trailing = time.Hour // the trailing pass is TestHubResyncTrailingPass's
		a, b := e.account(), e.account()
		d, signedOut := e.dial(a, 1, ""), e.dial(b, 2, "")
		first := e.store(a, "delivered")
		if f := d.read(); f.Cursor != strconv.FormatInt(first, 10) {
			t.Fatalf("got %+v, want cursor %d", f, first)
		}
		lost1, _ := e.storeOnly(a, "lost 1")
		lost2, _ := e.storeOnly(a, "lost 2")
		e.mu.Lock()
		e.standing[2] = plaza.Errorf(plaza.EUnauthenticated, "signed out")
		e.mu.Unlock()

		e.bus.lose(bus.LossDropped)
		for _, want := range []int64{lost1, lost2} {
			if f := d.read(); f.Cursor != strconv.FormatInt(want, 10) {
				t.Fatalf("after the loss got %+v, want cursor %d", f, want)
			}
		}
		signedOut.closedWith(StatusSessionEnded)

		// More losses with nothing lost write nothing; the next event
		// follows directly, so no frame came twice. A burst of losses
		// makes one more pass, a second after the first.
		for range 50 {
			e.bus.lose(bus.LossDropped)
		}
		eventually(t, "the second resync", func() bool { return testutil.ToFloat64(e.hub.resyncs) >= 2 })
		next := e.store(a, "next")
		if f := d.read(); f.Cursor != strconv.FormatInt(next, 10) {
			t.Fatalf("got %+v, want cursor %d", f, next)
		}
		time.Sleep(minResyncInterval + 500*time.Millisecond) // let a wrongly queued third pass run
		if got := testutil.ToFloat64(e.hub.resyncs); got != 2 {
			t.Errorf("plaza_realtime_resyncs_total = %v after a loss and a burst of 50, want 2", got)
		}
		e.bus.mu.Lock()
		asked := e.bus.published[AllSubject]
		e.bus.mu.Unlock()
		if asked != 0 {
			t.Errorf("a dropped-events loss asked the other nodes to resync (%d)", asked)
		}
	})
}

// TestHubResyncTrailingPass: a loss is followed by a second pass a little
// later, for events dropped after the first pass read the heads; a
// reconnect also asks every node to resync.
func TestHubResyncTrailingPass(t *testing.T) {
	e := newHubEnv(t, sqldbtest.Open(t, sqldb.SQLite), DefaultConfig())
	e.hub.trailing = 200 * time.Millisecond
	a := e.account()
	d := e.dial(a, 1, "")
	e.bus.lose(bus.LossReconnect)
	eventually(t, "the first resync", func() bool { return testutil.ToFloat64(e.hub.resyncs) >= 1 })
	// Lost after the first pass: only the trailing one finds it.
	lost, _ := e.storeOnly(a, "lost after the first pass")
	if f := d.read(); f.Cursor != strconv.FormatInt(lost, 10) {
		t.Fatalf("got %+v, want cursor %d", f, lost)
	}
	e.bus.mu.Lock()
	asked := e.bus.published[AllSubject]
	e.bus.mu.Unlock()
	if asked != 1 {
		t.Errorf("a reconnect published %d resync requests to every node, want 1", asked)
	}
}

// onChannel waits until n accounts listen on channel ch's subject and
// the hub has subscribed to it.
func (e *hubEnv) onChannel(ch plaza.ID, n int) {
	e.t.Helper()
	eventually(e.t, fmt.Sprintf("%d followers on the channel's subject", n), func() bool {
		e.hub.mu.Lock()
		defer e.hub.mu.Unlock()
		ts := e.hub.topics[events.ChannelSubject(ch)]
		return ts != nil && ts.sub != nil && len(ts.accounts) == n
	})
}

// TestHubChannelPostFansOutInOrder: a post on a channel with hundreds of
// connected followers (enough for the hand-off to spread over the cores)
// reaches every device once, and posts handed over one after another
// reach each device in that order, also when the device's own events are
// being written meanwhile.
func TestHubChannelPostFansOutInOrder(t *testing.T) {
	eachTransport(t, func(t *testing.T, cfg Config) {
		e := newHubEnv(t, sqldbtest.Open(t, sqldb.SQLite), cfg)
		ch := plaza.ID(88)
		const followers, posts = 600, 6
		accts := make([]plaza.ID, followers)
		devs := make([]*device, followers)
		for i := range accts {
			accts[i] = e.account()
			e.mu.Lock()
			e.follows[accts[i]] = []plaza.ID{ch}
			e.mu.Unlock()
			devs[i] = e.dial(accts[i], plaza.ID(i+1), "")
		}
		e.onChannel(ch, followers)
		// The first follower's own events are published while the posts
		// are, so its stream is often busy writing when a post comes.
		own := make(chan int64, posts)
		go func() {
			defer close(own)
			for i := 0; i < posts; i++ {
				own <- e.store(accts[0], "own")
			}
		}()
		for p := 0; p < posts; p++ {
			post := events.Frame(events.ChannelPost, 0, []byte(fmt.Sprintf(`{"id":"%d"}`, p)))
			if err := e.bus.Publish(context.Background(), events.ChannelSubject(ch), post); err != nil {
				t.Fatal(err)
			}
		}
		var seqs []int64
		for s := range own {
			seqs = append(seqs, s)
		}
		for i, d := range devs {
			next, mine := 0, 0
			for next < posts || (i == 0 && mine < posts) {
				f := d.read()
				switch {
				case f.Type == events.ChannelPost:
					if want := fmt.Sprintf(`{"id":"%d"}`, next); string(f.Data) != want {
						t.Fatalf("follower %d: post %s, want %s (in publish order, each once)", i, f.Data, want)
					}
					next++
				case i == 0 && mine < len(seqs) && f.Cursor == strconv.FormatInt(seqs[mine], 10):
					mine++
				default:
					t.Fatalf("follower %d got %+v", i, f)
				}
			}
		}
	})
}

// TestHubChannelPostPastTheFanOutBound: with the fan-out workers' bound
// reached, a post goes to each device's own queue instead of waiting for
// room (the bus handler must not block), and still reaches every device
// once.
func TestHubChannelPostPastTheFanOutBound(t *testing.T) {
	eachTransport(t, func(t *testing.T, cfg Config) {
		e := newHubEnv(t, sqldbtest.Open(t, sqldb.SQLite), cfg)
		e.hub.fan.mu.Lock()
		e.hub.fan.limit = 3 // fewer than one post's devices on a worker
		e.hub.fan.mu.Unlock()
		ch := plaza.ID(87)
		const followers, posts = 40, 5
		devs := make([]*device, followers)
		for i := range devs {
			a := e.account()
			e.mu.Lock()
			e.follows[a] = []plaza.ID{ch}
			e.mu.Unlock()
			devs[i] = e.dial(a, plaza.ID(i+1), "")
		}
		e.onChannel(ch, followers)
		for p := range posts {
			post := events.Frame(events.ChannelPost, 0, []byte(fmt.Sprintf(`{"id":"%d"}`, p)))
			if err := e.bus.Publish(context.Background(), events.ChannelSubject(ch), post); err != nil {
				t.Fatal(err)
			}
		}
		for i, d := range devs {
			seen := map[string]bool{}
			for len(seen) < posts {
				f := d.read()
				if f.Type != events.ChannelPost || seen[string(f.Data)] {
					t.Fatalf("follower %d got %+v (seen %v)", i, f, seen)
				}
				seen[string(f.Data)] = true
			}
		}
		eventually(t, "no device left pending at a worker", func() bool {
			e.hub.fan.mu.Lock()
			defer e.hub.fan.mu.Unlock()
			for _, p := range e.hub.fan.parts {
				if p.pending != 0 || len(p.jobs) != 0 {
					return false
				}
			}
			return true
		})
	})
}

// TestHubChannelPostToSlowFollower: a follower that stops reading is
// closed with 4008 once the posts waiting for it pass its bounds; the
// other followers get every post, in order.
func TestHubChannelPostToSlowFollower(t *testing.T) {
	eachTransport(t, func(t *testing.T, cfg Config) {
		cfg.QueueLen = 4
		e := newHubEnv(t, sqldbtest.Open(t, sqldb.SQLite), cfg)
		ch := plaza.ID(89)
		slow, fast := e.account(), e.account()
		e.mu.Lock()
		e.follows[slow] = []plaza.ID{ch}
		e.follows[fast] = []plaza.ID{ch}
		e.mu.Unlock()
		ds, df := e.dial(slow, 1, ""), e.dial(fast, 2, "")
		e.onChannel(ch, 2)
		var inOrder atomic.Int64 // posts the fast follower read, in order
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), 2*waitTimeout)
			defer cancel()
			for {
				_, b, err := df.ws.Read(ctx)
				if err != nil {
					return
				}
				// Not decoded: a quarter of a megabyte per post would
				// slow this reader down enough to make it too slow too.
				if !bytes.Contains(b[:min(len(b), 64)], fmt.Appendf(nil, `{"n":%d,`, inOrder.Load())) {
					return // out of order: the count stops
				}
				inOrder.Add(1)
			}
		}()
		pad := strings.Repeat("x", 256<<10)
		sent := 0
		for ; sent < 400 && slowClosed(t, e) == 0; sent++ {
			post := events.Frame(events.ChannelPost, 0, []byte(fmt.Sprintf(`{"n":%d,"pad":"%s"}`, sent, pad)))
			if err := e.bus.Publish(context.Background(), events.ChannelSubject(ch), post); err != nil {
				t.Fatal(err)
			}
			time.Sleep(time.Millisecond)
		}
		eventually(t, "the slow follower to be closed", func() bool { return slowClosed(t, e) == 1 })
		ds.closedWith(statusTooSlow)
		eventually(t, "the slow follower to be detached", func() bool { return e.hub.Connections() == 1 })
		eventually(t, fmt.Sprintf("the follower that reads to get all %d posts in order", sent), func() bool { return inOrder.Load() == int64(sent) })
	})
}

package main

// The machinery of TestNoAcknowledgedMessageIsLost: senders that retry an
// unknown outcome with the same client_id, and devices that stay on the
// stream through the kills.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// life is one run of the server between kills.
type life struct {
	url      string
	replaced chan struct{} // closed once the next run serves
}

// killRun is the senders' shared state: where the server is now and what
// happened to their sends.
type killRun struct {
	cur    atomic.Pointer[life]
	client *http.Client

	acks        atomic.Int64 // sends acknowledged
	unknown     atomic.Int64 // sends whose first outcome was unknown
	committed   atomic.Int64 // … and whose retry answered 200
	uncommitted atomic.Int64 // … and whose retry answered 201
	resends     atomic.Int64 // deliberate resends of an acknowledged client_id
	failed      atomic.Bool  // a sender gave up

	serverErrors   atomic.Int64           // 5xx answers (retried, but a bug)
	firstServerErr atomic.Pointer[string] // the first one, for the report
}

func newKillRun(url string) *killRun {
	r := &killRun{client: &http.Client{
		Timeout: 30 * time.Second,
		// Keep a connection per sender rather than the default two per
		// host, so the run does not churn through ephemeral ports.
		Transport: &http.Transport{MaxIdleConnsPerHost: 64},
	}}
	r.cur.Store(&life{url: url, replaced: make(chan struct{})})
	return r
}

// restarted points the senders at the server's new address and wakes
// those waiting to retry.
func (r *killRun) restarted(url string) {
	old := r.cur.Swap(&life{url: url, replaced: make(chan struct{})})
	close(old.replaced)
}

// waitAcks polls until n more sends are acknowledged.
func (r *killRun) waitAcks(tb testing.TB, ctx context.Context, n int) {
	tb.Helper()
	target := r.acks.Load() + int64(n)
	for r.acks.Load() < target {
		if r.failed.Load() {
			tb.Fatalf("a sender gave up while waiting for %d more acknowledged sends", n)
		}
		select {
		case <-ctx.Done():
			tb.Fatalf("only %d of %d acknowledged sends before the deadline", r.acks.Load(), target)
		case <-time.After(5 * time.Millisecond):
		}
	}
}

// sender posts messages to conv as u until stop, each with a new
// client_id (prefix-N), and returns those acknowledged. Every 16th it
// sends again, which must answer 200 with the same message.
func (r *killRun) sender(ctx context.Context, stop <-chan struct{}, u user, conv, prefix string) ([]messageJSON, error) {
	var out []messageJSON
	fail := func(format string, args ...any) ([]messageJSON, error) {
		r.failed.Store(true)
		return out, fmt.Errorf("sender %s: "+format, append([]any{prefix}, args...)...)
	}
	lastSeq := int64(0)
	for i := 0; ; i++ {
		select {
		case <-stop:
			return out, nil
		default:
		}
		clientID := fmt.Sprintf("%s-%d", prefix, i)
		text := fmt.Sprintf("message %d of %s", i, prefix)
		m, status, unknown, err := r.deliver(ctx, u, conv, clientID, text)
		if err != nil {
			return fail("%v", err)
		}
		switch {
		case unknown == 0 && status != http.StatusCreated:
			return fail("a first send of client_id %s answered %d, want 201", clientID, status)
		case unknown > 0:
			r.unknown.Add(1)
			if status == http.StatusOK {
				r.committed.Add(1)
			} else {
				r.uncommitted.Add(1)
			}
		}
		if m.ClientID != clientID || m.ConversationID != conv || m.SenderID != u.ID || m.Kind != "text" || m.Text != text || m.ID == "" {
			return fail("client_id %s acknowledged as %+v", clientID, m)
		}
		// This sender's sends are sequential: each is committed after the
		// one before, so it must come later in the conversation.
		if m.Seq <= lastSeq {
			return fail("client_id %s got seq %d, not after its previous send's %d", clientID, m.Seq, lastSeq)
		}
		lastSeq = m.Seq
		out = append(out, m)
		r.acks.Add(1)
		if i%16 == 15 {
			again, status, _, err := r.deliver(ctx, u, conv, clientID, text)
			if err != nil {
				return fail("resend: %v", err)
			}
			if status != http.StatusOK || again != m {
				return fail("resending client_id %s answered %d %+v, want 200 %+v", clientID, status, again, m)
			}
			r.resends.Add(1)
		}
	}
}

// deliver posts the message until the server answers 200 or 201. An
// unknown outcome (no answer, or a 5xx) is retried with the same
// client_id: at once after a restart, or after a short poll interval if
// the server is still the same.
func (r *killRun) deliver(ctx context.Context, u user, conv, clientID, text string) (messageJSON, int, int, error) {
	body, _ := json.Marshal(map[string]any{"client_id": clientID, "kind": "text", "text": text})
	unknown := 0
	for {
		l := r.cur.Load()
		m, status, err := r.post(ctx, l.url+"/api/v1/conversations/"+conv+"/messages", u.Token, body)
		var definite *definiteError
		switch {
		case err == nil:
			return m, status, unknown, nil
		case errors.As(err, &definite):
			return m, status, unknown, err
		}
		unknown++
		select {
		case <-ctx.Done():
			return m, 0, unknown, fmt.Errorf("client_id %s: still unknown after %d attempts when the run ended: %v", clientID, unknown, err)
		case <-l.replaced:
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// definiteError is an answer that is neither an ack nor a server failure:
// the send was refused, and retrying would not help.
type definiteError struct{ err error }

func (e *definiteError) Error() string { return e.err.Error() }

// post sends one request. A transport error or a 5xx is an unknown
// outcome; another non-2xx status is a definiteError.
func (r *killRun) post(ctx context.Context, url, token string, body []byte) (messageJSON, int, error) {
	var m messageJSON
	req, err := http.NewRequestWithContext(ctx, "POST", url, bytes.NewReader(body))
	if err != nil {
		return m, 0, &definiteError{err}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := r.client.Do(req)
	if err != nil {
		return m, 0, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return m, 0, fmt.Errorf("POST %s: read the answer: %w", url, err)
	}
	switch {
	case resp.StatusCode >= 500:
		r.serverErrors.Add(1)
		msg := fmt.Sprintf("%d %s", resp.StatusCode, b)
		r.firstServerErr.CompareAndSwap(nil, &msg)
		return m, resp.StatusCode, fmt.Errorf("POST %s: %d %s", url, resp.StatusCode, b)
	case resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusCreated:
		return m, resp.StatusCode, &definiteError{fmt.Errorf("POST %s: got %d %s, want 200 or 201", url, resp.StatusCode, b)}
	}
	if err := json.Unmarshal(b, &m); err != nil {
		return m, resp.StatusCode, &definiteError{fmt.Errorf("POST %s: decode %s: %w", url, b, err)}
	}
	return m, resp.StatusCode, nil
}

// watcher is a device of one account that stays on the stream through
// the kills: it reconnects with since=CURSOR to wherever the server now
// is, and must see every event of the account's sync log exactly once,
// in cursor order.
type watcher struct {
	u        user
	cursor   atomic.Int64 // the last cursor received
	connects atomic.Int64
	lastErr  atomic.Value // string: why the last connection ended

	frames []frameJSON // every frame with a cursor, in order; read after done
	// downAt is when the connection last ended (zero while connected);
	// outages are the times from an end to the next ready frame. Both
	// belong to watch's goroutine; read outages after done.
	downAt  time.Time
	outages []time.Duration
	done    chan struct{} // closed when watch returns
	err     error         // watch's result, set before done closes
}

func newWatcher(u user) *watcher {
	w := &watcher{u: u, done: make(chan struct{})}
	w.lastErr.Store("")
	return w
}

// watch follows w's stream until ctx ends. It returns an error only for
// a broken promise: a gap or a repeat in the cursors, or a ready frame
// that does not match the replay. A lost connection is expected (the
// server was killed, or found the device too slow): it reconnects.
func (r *killRun) watch(ctx context.Context, w *watcher) error {
	for {
		l := r.cur.Load()
		err := r.watchOnce(ctx, l.url, w)
		if ctx.Err() != nil {
			return nil
		}
		var definite *definiteError
		if errors.As(err, &definite) {
			return err
		}
		w.lastErr.Store(err.Error())
		if w.downAt.IsZero() {
			w.downAt = time.Now()
		}
		select {
		case <-ctx.Done():
			return nil
		case <-l.replaced:
		case <-time.After(20 * time.Millisecond):
		}
	}
}

func (r *killRun) watchOnce(ctx context.Context, baseURL string, w *watcher) error {
	since := w.cursor.Load()
	url := fmt.Sprintf("ws%s/api/v1/stream?since=%d", strings.TrimPrefix(baseURL, "http"), since)
	dctx, cancel := context.WithTimeout(ctx, frameTimeout)
	ws, _, err := websocket.Dial(dctx, url, &websocket.DialOptions{HTTPHeader: http.Header{"Authorization": {"Bearer " + w.u.Token}}})
	cancel()
	if err != nil {
		return err
	}
	defer ws.CloseNow()
	ws.SetReadLimit(1 << 20)
	w.connects.Add(1)
	for {
		_, data, err := ws.Read(ctx)
		if err != nil {
			return err
		}
		var f frameJSON
		if err := json.Unmarshal(data, &f); err != nil {
			return &definiteError{fmt.Errorf("stream of %s: frame %s: %w", w.u.Handle, data, err)}
		}
		if f.Cursor == "" {
			continue // not in the sync log (typing)
		}
		c, err := strconv.ParseInt(f.Cursor, 10, 64)
		if err != nil {
			return &definiteError{fmt.Errorf("stream of %s: %s frame has cursor %q", w.u.Handle, f.Type, f.Cursor)}
		}
		last := w.cursor.Load()
		switch {
		case f.Type == "ready":
			if c != last {
				return &definiteError{fmt.Errorf("stream of %s (since=%d): ready at cursor %d after a replay up to %d", w.u.Handle, since, c, last)}
			}
			if !w.downAt.IsZero() {
				w.outages = append(w.outages, time.Since(w.downAt))
				w.downAt = time.Time{}
			}
		case c != last+1:
			return &definiteError{fmt.Errorf("stream of %s (since=%d): %s at cursor %d after %d, want %d", w.u.Handle, since, f.Type, c, last, last+1)}
		default:
			w.frames = append(w.frames, f)
			w.cursor.Store(c)
		}
	}
}

// waitCursor polls until w has received the events up to cursor head.
func (w *watcher) waitCursor(tb testing.TB, ctx context.Context, head int64) {
	tb.Helper()
	for w.cursor.Load() < head {
		select {
		case <-w.done:
			tb.Fatalf("stream of %s: the device stopped at cursor %d of %d: %v", w.u.Handle, w.cursor.Load(), head, w.err)
		case <-ctx.Done():
			tb.Fatalf("stream of %s: at cursor %d of %d when the run ended (%d connections; the last ended with %q)", w.u.Handle, w.cursor.Load(), head, w.connects.Load(), w.lastErr.Load())
		case <-time.After(5 * time.Millisecond):
		}
	}
}

// convPair is two accounts and their direct conversation.
type convPair struct {
	a, b user
	conv string
}

// traffic is a kill run's load: perAccount senders for each account of
// pairs, and one device of each account on its stream, all until the
// test ends at the latest.
type traffic struct {
	run      *killRun
	stop     chan struct{} // closed by halt
	halted   sync.Once
	wg       sync.WaitGroup
	mu       sync.Mutex // guards acked and errs
	acked    [][]messageJSON
	errs     []error
	watchers map[string]*watcher // by account ID
	unwatch  context.CancelFunc
}

func startTraffic(tb testing.TB, ctx context.Context, run *killRun, pairs []convPair, perAccount int) *traffic {
	tr := &traffic{run: run, stop: make(chan struct{}), watchers: map[string]*watcher{}}
	for _, pr := range pairs {
		for _, u := range []user{pr.a, pr.b} {
			for k := range perAccount {
				tr.wg.Go(func() {
					msgs, err := run.sender(ctx, tr.stop, u, pr.conv, fmt.Sprintf("%s-%d", u.Handle, k))
					tr.mu.Lock()
					defer tr.mu.Unlock()
					tr.acked = append(tr.acked, msgs)
					if err != nil {
						tr.errs = append(tr.errs, err)
					}
				})
			}
		}
	}
	wctx, unwatch := context.WithCancel(ctx)
	tr.unwatch = unwatch
	for _, pr := range pairs {
		for _, u := range []user{pr.a, pr.b} {
			w := newWatcher(u)
			tr.watchers[u.ID] = w
			go func() {
				defer close(w.done)
				w.err = run.watch(wctx, w)
			}()
		}
	}
	// Whatever happens to the test, the senders and devices end before
	// it does.
	tb.Cleanup(func() {
		unwatch()
		tr.halt()
		tr.wg.Wait()
		for _, w := range tr.watchers {
			<-w.done
		}
	})
	return tr
}

// halt tells the senders to stop after their current send.
func (tr *traffic) halt() { tr.halted.Do(func() { close(tr.stop) }) }

// stopSending stops the senders, waits for them and fails the test on
// any sender's error.
func (tr *traffic) stopSending(tb testing.TB, ctx context.Context) {
	tb.Helper()
	tr.halt()
	done := make(chan struct{})
	go func() { tr.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
		tb.Fatal("the senders did not finish in time")
	}
	for _, err := range tr.errs {
		tb.Error(err)
	}
	if tb.Failed() {
		tb.FailNow()
	}
}

// drain waits until every device has its account's head as baseURL
// reports it, stops them, fails the test on a device's error, and
// returns how often the devices connected in all.
func (tr *traffic) drain(tb testing.TB, ctx context.Context, baseURL string) int64 {
	tb.Helper()
	connects := int64(0)
	for _, w := range tr.watchers {
		w.waitCursor(tb, ctx, headCursor(tb, baseURL, w.u.Token))
		connects += w.connects.Load()
	}
	tr.unwatch()
	for _, w := range tr.watchers {
		<-w.done
		if w.err != nil {
			tb.Error(w.err)
		}
	}
	if tb.Failed() {
		tb.FailNow()
	}
	return connects
}

// want returns every acknowledged message by conversation and client_id,
// and their number.
func (tr *traffic) want() (map[string]map[string]messageJSON, int) {
	want := map[string]map[string]messageJSON{}
	total := 0
	for _, msgs := range tr.acked {
		for _, m := range msgs {
			if want[m.ConversationID] == nil {
				want[m.ConversationID] = map[string]messageJSON{}
			}
			want[m.ConversationID][m.ClientID] = m
			total++
		}
	}
	return want, total
}

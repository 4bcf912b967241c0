// Package bench is Plaza's load generator: it connects many devices to a
// server's WebSocket stream, has them send messages to each other at a
// fixed rate or as fast as the server acknowledges, and reports what was
// sent, acknowledged and delivered, throughput and end-to-end latency.
// `plaza bench` drives it against a server it starts or one at a URL.
package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
)

// Account is a signed-in account the generator drives.
type Account struct {
	ID    string
	Token string
}

// Config describes one run.
type Config struct {
	// URL is the server's base URL, e.g. http://127.0.0.1:8080.
	URL string
	// Accounts are the devices; they are paired into direct
	// conversations in order (0 with 1, 2 with 3, …), so len(Accounts)
	// must be even.
	Accounts []Account
	// Rate is the total messages per second to send; 0 sends as fast as
	// acknowledgements come back, with Window sends in flight per device.
	Rate   float64
	Window int
	// Warmup runs before measuring; Duration is measured.
	Warmup, Duration time.Duration
	// Idle connects the devices and sends nothing (for memory per
	// connection); the report then has no message figures.
	Idle bool
	// Progress, if set, receives a line now and then.
	Progress func(string)
	// OnMeasure, if set, is called as the measured time starts (true)
	// and ends (false), so the caller can read CPU counters over exactly
	// that time.
	OnMeasure func(start bool)
}

// Report is a run's outcome.
type Report struct {
	Devices       int
	Conversations int
	Duration      time.Duration
	Sent          int64
	Acked         int64
	Delivered     int64
	Errors        int64
	AckedPerSec   float64
	DeliveredPerS float64
	// Latency from send to delivery at the other device (end to end) and
	// from send to ack.
	E2E Percentiles
	Ack Percentiles
}

// Percentiles of a latency distribution.
type Percentiles struct {
	P50, P95, P99, Max time.Duration
	N                  int
}

func percentiles(d []time.Duration) Percentiles {
	if len(d) == 0 {
		return Percentiles{}
	}
	sort.Slice(d, func(i, j int) bool { return d[i] < d[j] })
	at := func(q float64) time.Duration { return d[min(len(d)-1, int(q*float64(len(d))))] }
	return Percentiles{P50: at(0.50), P95: at(0.95), P99: at(0.99), Max: d[len(d)-1], N: len(d)}
}

// device is one WebSocket client.
type device struct {
	acct    Account
	conv    string
	ws      *websocket.Conn
	pending chan struct{} // window of sends awaiting ack
	mu      sync.Mutex
	sentAt  map[string]time.Time // frame id → send time, for ack latency
}

// run holds the counters shared by every device.
type run struct {
	measuring atomic.Bool
	sent      atomic.Int64
	acked     atomic.Int64
	delivered atomic.Int64
	errors    atomic.Int64

	mu  sync.Mutex
	e2e []time.Duration
	ack []time.Duration
}

func (r *run) record(e2e bool, d time.Duration) {
	if !r.measuring.Load() {
		return
	}
	r.mu.Lock()
	if e2e {
		r.e2e = append(r.e2e, d)
	} else {
		r.ack = append(r.ack, d)
	}
	r.mu.Unlock()
}

// Run connects the devices, opens their conversations, sends, and reports.
func Run(ctx context.Context, cfg Config) (Report, error) {
	if len(cfg.Accounts) < 2 || len(cfg.Accounts)%2 != 0 {
		return Report{}, errors.New("bench: need an even number of accounts, at least 2")
	}
	if cfg.Window <= 0 {
		cfg.Window = 8
	}
	progress := cfg.Progress
	if progress == nil {
		progress = func(string) {}
	}
	client := &http.Client{Timeout: 60 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	devs := make([]*device, len(cfg.Accounts))
	for i, a := range cfg.Accounts {
		devs[i] = &device{acct: a, pending: make(chan struct{}, cfg.Window), sentAt: map[string]time.Time{}}
	}
	progress(fmt.Sprintf("opening %d direct conversations", len(devs)/2))
	if err := parallel(ctx, len(devs)/2, 32, func(i int) error {
		a, b := devs[2*i], devs[2*i+1]
		id, err := openDirect(ctx, client, cfg.URL, a.acct, b.acct.ID)
		a.conv, b.conv = id, id
		return err
	}); err != nil {
		return Report{}, err
	}
	progress(fmt.Sprintf("connecting %d devices", len(devs)))
	wsURL := "ws" + strings.TrimPrefix(cfg.URL, "http") + "/api/v1/stream"
	r := &run{}
	var wg sync.WaitGroup
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	if err := parallel(ctx, len(devs), 64, func(i int) error {
		d := devs[i]
		ws, _, err := websocket.Dial(ctx, wsURL, &websocket.DialOptions{HTTPHeader: http.Header{"Authorization": {"Bearer " + d.acct.Token}}})
		if err != nil {
			return fmt.Errorf("connect device %d: %w", i, err)
		}
		ws.SetReadLimit(1 << 20)
		d.ws = ws
		ready := make(chan struct{})
		wg.Add(1)
		go func() {
			defer wg.Done()
			d.read(runCtx, r, ready)
		}()
		select {
		case <-ready:
			return nil
		case <-time.After(30 * time.Second):
			return fmt.Errorf("device %d: no ready frame within 30 s", i)
		}
	}); err != nil {
		return Report{}, err
	}
	defer func() {
		for _, d := range devs {
			if d.ws != nil {
				d.ws.CloseNow()
			}
		}
		cancel()
		wg.Wait()
	}()
	rep := Report{Devices: len(devs), Conversations: len(devs) / 2}
	if cfg.Idle {
		progress("all devices connected and idle")
		select {
		case <-time.After(cfg.Duration):
		case <-ctx.Done():
		}
		return rep, nil
	}

	senders, sendCancel := context.WithCancel(runCtx)
	var swg sync.WaitGroup
	for i, d := range devs {
		swg.Add(1)
		go func() {
			defer swg.Done()
			d.send(senders, r, cfg, i)
		}()
	}
	progress(fmt.Sprintf("warming up for %s", cfg.Warmup))
	sleep(ctx, cfg.Warmup)
	base := [3]int64{r.sent.Load(), r.acked.Load(), r.delivered.Load()}
	if cfg.OnMeasure != nil {
		cfg.OnMeasure(true)
	}
	r.measuring.Store(true)
	start := time.Now()
	progress(fmt.Sprintf("measuring for %s", cfg.Duration))
	sleep(ctx, cfg.Duration)
	r.measuring.Store(false)
	elapsed := time.Since(start)
	if cfg.OnMeasure != nil {
		cfg.OnMeasure(false)
	}
	rep.Sent, rep.Acked, rep.Delivered = r.sent.Load()-base[0], r.acked.Load()-base[1], r.delivered.Load()-base[2]
	sendCancel()
	swg.Wait()
	rep.Duration = elapsed
	rep.Errors = r.errors.Load()
	rep.AckedPerSec = float64(rep.Acked) / elapsed.Seconds()
	rep.DeliveredPerS = float64(rep.Delivered) / elapsed.Seconds()
	r.mu.Lock()
	rep.E2E, rep.Ack = percentiles(r.e2e), percentiles(r.ack)
	r.mu.Unlock()
	return rep, nil
}

func sleep(ctx context.Context, d time.Duration) {
	select {
	case <-time.After(d):
	case <-ctx.Done():
	}
}

// send sends messages until ctx ends: paced at cfg.Rate/devices, or
// whenever the window has room.
func (d *device) send(ctx context.Context, r *run, cfg Config, idx int) {
	var tick <-chan time.Time
	if cfg.Rate > 0 {
		per := time.Duration(float64(time.Second) * float64(len(cfg.Accounts)) / cfg.Rate)
		// Spread devices over the interval so sends do not come in waves.
		sleep(ctx, time.Duration(rand.Int64N(int64(per)+1)))
		t := time.NewTicker(per)
		defer t.Stop()
		tick = t.C
	}
	for n := 0; ; n++ {
		if tick != nil {
			select {
			case <-ctx.Done():
				return
			case <-tick:
			}
		}
		select {
		case d.pending <- struct{}{}:
		case <-ctx.Done():
			return
		}
		now := time.Now()
		id := strconv.Itoa(n)
		frame := `{"type":"message.send","id":"` + id + `","data":{"conversation_id":"` + d.conv + `","client_id":"b` + strconv.Itoa(idx) + `-` + id +
			`","kind":"text","text":"` + strconv.FormatInt(now.UnixNano(), 10) + `"}}`
		d.mu.Lock()
		d.sentAt[id] = now
		d.mu.Unlock()
		wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		err := d.ws.Write(wctx, websocket.MessageText, []byte(frame))
		cancel()
		if err != nil {
			return
		}
		r.sent.Add(1)
	}
}

// read consumes frames: acks free the window, message.created from the
// other member counts as a delivery.
func (d *device) read(ctx context.Context, r *run, ready chan<- struct{}) {
	signalled := false
	for {
		_, data, err := d.ws.Read(ctx)
		if err != nil {
			return
		}
		now := time.Now()
		// The generator shares the machine's cores with the server: read
		// the few fields it needs by scanning instead of decoding JSON.
		typ := field(data, "type")
		switch typ {
		case "ready":
			if !signalled {
				close(ready)
				signalled = true
			}
		case "message.ack", "error":
			if typ == "error" {
				r.errors.Add(1)
			} else {
				r.acked.Add(1)
			}
			id := field(data, "id")
			d.mu.Lock()
			at, ok := d.sentAt[id]
			delete(d.sentAt, id)
			d.mu.Unlock()
			if ok {
				r.record(false, now.Sub(at))
			}
			select {
			case <-d.pending:
			default:
			}
		case "message.created":
			if field(data, "sender_id") == d.acct.ID {
				continue // our own message echoed to our device
			}
			r.delivered.Add(1)
			if ns, err := strconv.ParseInt(field(data, "text"), 10, 64); err == nil {
				r.record(true, now.Sub(time.Unix(0, ns)))
			}
		}
	}
}

// field returns the first string value of "key" in a JSON frame; enough
// for the server's frames, whose first "id" is the frame's own.
func field(b []byte, key string) string {
	pat := `"` + key + `":"`
	i := bytes.Index(b, []byte(pat))
	if i < 0 {
		return ""
	}
	rest := b[i+len(pat):]
	j := bytes.IndexByte(rest, '"')
	if j < 0 {
		return ""
	}
	return string(rest[:j])
}

func openDirect(ctx context.Context, c *http.Client, base string, a Account, other string) (string, error) {
	body := `{"kind":"direct","member_ids":["` + other + `"]}`
	req, err := http.NewRequestWithContext(ctx, "POST", base+"/api/v1/conversations", strings.NewReader(body))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+a.Token)
	res, err := c.Do(req)
	if err != nil {
		return "", err
	}
	defer res.Body.Close()
	var out struct {
		ID    string `json:"id"`
		Error struct {
			Code, Message string
		} `json:"error"`
	}
	if err := json.NewDecoder(res.Body).Decode(&out); err != nil {
		return "", fmt.Errorf("open conversation: %s: %w", res.Status, err)
	}
	if res.StatusCode/100 != 2 {
		return "", fmt.Errorf("open conversation: %s %s: %s (start the server with --direct-messages anyone and a verification policy that lets these accounts message)", res.Status, out.Error.Code, out.Error.Message)
	}
	return out.ID, nil
}

// parallel runs fn(0..n-1) with at most width at once and returns the
// first error.
func parallel(ctx context.Context, n, width int, fn func(i int) error) error {
	sem := make(chan struct{}, width)
	errc := make(chan error, 1)
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		select {
		case sem <- struct{}{}:
		case err := <-errc:
			wg.Wait()
			return err
		case <-ctx.Done():
			wg.Wait()
			return ctx.Err()
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			if err := fn(i); err != nil {
				select {
				case errc <- err:
				default:
				}
			}
		}()
	}
	wg.Wait()
	select {
	case err := <-errc:
		return err
	default:
		return nil
	}
}

// Register creates n accounts through the API (one password hash each on
// the server: slow, but needs no database access). The server must accept
// registrations without rate limits.
func Register(ctx context.Context, base, prefix string, n int) ([]Account, error) {
	client := &http.Client{Timeout: 60 * time.Second}
	out := make([]Account, n)
	err := parallel(ctx, n, 8, func(i int) error {
		body := fmt.Sprintf(`{"handle":"%s%d","password":"bench-password","display_name":"bench %d","birth_date":"1990-01-01","accepted_terms_version":%d}`, prefix, i, i, 1)
		req, err := http.NewRequestWithContext(ctx, "POST", base+"/api/v1/accounts", strings.NewReader(body))
		if err != nil {
			return err
		}
		req.Header.Set("Content-Type", "application/json")
		res, err := client.Do(req)
		if err != nil {
			return err
		}
		defer res.Body.Close()
		var r struct {
			Account struct {
				ID string `json:"id"`
			} `json:"account"`
			Token string `json:"token"`
			Error struct {
				Code, Message string
			} `json:"error"`
		}
		if err := json.NewDecoder(res.Body).Decode(&r); err != nil || res.StatusCode != http.StatusCreated {
			return fmt.Errorf("register bench account: %s %s %s", res.Status, r.Error.Code, r.Error.Message)
		}
		out[i] = Account{ID: r.Account.ID, Token: r.Token}
		return nil
	})
	return out, err
}

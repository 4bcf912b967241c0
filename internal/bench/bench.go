// Package bench is Plaza's load generator: it connects many devices to a
// server's WebSocket stream, has them send messages to each other at a
// fixed rate or as fast as the server acknowledges, and reports what was
// sent, acknowledged and delivered, throughput and end-to-end latency.
// `plaza bench` drives it against a server it starts or one at a URL.
package bench

import (
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
	// Reconnects counts the streams devices opened again after theirs
	// ended (a node restarting, a network fault) over the whole run;
	// Gone the devices that stopped because their session or standing
	// ended.
	Reconnects    int64
	Gone          int64
	AckedPerSec   float64
	DeliveredPerS float64
	// Latency from send to delivery at the other device (end to end) and
	// from send to ack. A send is timed when it is queued to be written,
	// and an ack or delivery when it reached the device's socket (the
	// kernel's receive time of the newest bytes of the read that brought
	// it, on Linux): the load generator's wait to read it is left out,
	// its wait to write a send is not.
	E2E Percentiles
	Ack Percentiles
	// ReadLag is the wait left out: from a frame's arrival at the device's
	// socket to the generator reading it, over every ack and delivery
	// measured (a lower bound, as the arrival is the newest bytes').
	ReadLag Percentiles
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
	ws      *wsConn
	pending chan struct{} // window of sends awaiting ack, when paced

	// mu guards the fields below: the reader sends the next message
	// when an ack frees the window, and the pacer or the first burst may
	// send at the same time.
	mu     sync.Mutex
	next   int64       // the next frame id
	acked  int64       // the frame id whose reply comes next
	sentAt []time.Time // send time by frame id modulo the window
	frame  []byte      // the frame being built

	// cursor is the last cursor the device saw, to reconnect with
	// since=cursor; the reader's alone.
	cursor int64

	// Samples taken while measuring, by this device's reader only:
	// merged after the readers end, so no lock is shared between devices.
	e2e, ack, lag []time.Duration
}

// run holds the counters shared by every device.
type run struct {
	measuring  atomic.Bool
	stopped    atomic.Bool // no more sends
	paced      bool
	sent       atomic.Int64
	acked      atomic.Int64
	delivered  atomic.Int64
	errors     atomic.Int64
	reconnects atomic.Int64
	gone       atomic.Int64
	// conns guards the devices' ws fields against closeAll: a device
	// that reconnects after the run stopped closes its new stream.
	conns sync.Mutex
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
		devs[i] = &device{acct: a, pending: make(chan struct{}, cfg.Window), sentAt: make([]time.Time, cfg.Window)}
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
	r := &run{paced: cfg.Rate > 0}
	var wg sync.WaitGroup
	// Devices reconnect until the run stops: its end cancels their waits
	// and dials.
	devCtx, stopDevices := context.WithCancel(ctx)
	defer stopDevices()
	closeAll := func() {
		r.stopped.Store(true)
		stopDevices()
		r.conns.Lock()
		for _, d := range devs {
			if d.ws != nil {
				d.ws.close()
			}
		}
		r.conns.Unlock()
		wg.Wait()
	}
	if err := parallel(ctx, len(devs), 64, func(i int) error {
		d := devs[i]
		ws, err := dialWS(ctx, cfg.URL, d.acct.Token, "")
		if err != nil {
			return fmt.Errorf("connect device %d: %w", i, err)
		}
		if !d.swap(r, ws, i) {
			return errors.New("bench: stopped")
		}
		ready := make(chan struct{})
		wg.Add(1)
		go func() {
			defer wg.Done()
			d.stream(devCtx, r, cfg, i, ready)
		}()
		select {
		case <-ready:
			return nil
		case <-time.After(30 * time.Second):
			return fmt.Errorf("device %d: no ready frame within 30 s", i)
		}
	}); err != nil {
		closeAll()
		return Report{}, err
	}
	rep := Report{Devices: len(devs), Conversations: len(devs) / 2}
	if cfg.Idle {
		progress("all devices connected and idle")
		sleep(ctx, cfg.Duration)
		closeAll()
		return rep, nil
	}

	senders, sendCancel := context.WithCancel(ctx)
	defer sendCancel()
	var swg sync.WaitGroup
	for i, d := range devs {
		swg.Add(1)
		if !r.paced {
			// Fill the window; each ack then sends the next from the
			// reader, with no goroutine or channel hop per message.
			go func() {
				defer swg.Done()
				for range cfg.Window {
					if !d.queueOne(r, i) {
						return
					}
				}
				_ = d.flush()
			}()
			continue
		}
		go func() {
			defer swg.Done()
			d.pace(senders, r, cfg, i)
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
	closeAll()
	swg.Wait()
	rep.Duration = elapsed
	rep.Errors = r.errors.Load()
	rep.Reconnects, rep.Gone = r.reconnects.Load(), r.gone.Load()
	rep.AckedPerSec = float64(rep.Acked) / elapsed.Seconds()
	rep.DeliveredPerS = float64(rep.Delivered) / elapsed.Seconds()
	var e2e, ack, lag []time.Duration
	for _, d := range devs {
		e2e, ack, lag = append(e2e, d.e2e...), append(ack, d.ack...), append(lag, d.lag...)
	}
	rep.E2E, rep.Ack, rep.ReadLag = percentiles(e2e), percentiles(ack), percentiles(lag)
	return rep, nil
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}

// pace sends at cfg.Rate/devices until ctx ends, as long as the window
// has room.
func (d *device) pace(ctx context.Context, r *run, cfg Config, idx int) {
	per := time.Duration(float64(time.Second) * float64(len(cfg.Accounts)) / cfg.Rate)
	// Spread devices over the interval so sends do not come in waves.
	sleep(ctx, time.Duration(rand.Int64N(int64(per)+1)))
	t := time.NewTicker(per)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		select {
		case d.pending <- struct{}{}:
		case <-ctx.Done():
			return
		}
		if !d.queueOne(r, idx) {
			return
		}
		_ = d.flush() // if the stream ended, the reconnect sends it again

	}
}

// queueOne queues the device's next message for the socket's next
// flush; false once the run has stopped. The text is the send time, so
// the receiving device can time the delivery.
func (d *device) queueOne(r *run, idx int) bool {
	if r.stopped.Load() {
		return false
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	n := d.next
	d.next++
	now := time.Now()
	d.sentAt[n%int64(len(d.sentAt))] = now
	d.queueFrame(n, now, idx)
	r.sent.Add(1)
	return true
}

// queueFrame queues message n, first sent at sent, with its client_id
// (the same on a resend, so the server stores it once); d.mu must be
// held.
func (d *device) queueFrame(n int64, sent time.Time, idx int) {
	f := append(d.frame[:0], `{"type":"message.send","id":"`...)
	f = strconv.AppendInt(f, n, 10)
	f = append(f, `","data":{"conversation_id":"`...)
	f = append(f, d.conv...)
	f = append(f, `","client_id":"b`...)
	f = strconv.AppendInt(f, int64(idx), 10)
	f = append(f, '-')
	f = strconv.AppendInt(f, n, 10)
	f = append(f, `","kind":"text","text":"`...)
	f = strconv.AppendInt(f, sent.UnixNano(), 10)
	f = append(f, `"}}`...)
	d.frame = f
	// Queued under the lock: the frame buffer is reused, and frames go
	// out in id order, which the ring of send times relies on.
	d.ws.queue(f)
}

// read consumes frames: acks free the window (and, unpaced, queue the
// next message, written once the frames that have arrived are handled),
// message.created from the other member counts as a delivery. It closes
// ready at the first ready frame and reports whether ready is closed (or
// was nil) when the stream ends.
func (d *device) read(r *run, window, idx int, ready chan<- struct{}, b *backoff) (signalled bool) {
	signalled = ready == nil
	for {
		if !d.ws.buffered() && d.ws.flush() != nil {
			return
		}
		data, err := d.ws.next()
		if err != nil {
			return
		}
		read := time.Now()
		now := d.ws.arrived(read)
		switch typ := frameType(data); string(typ) {
		case "ready":
			d.cursor = max(d.cursor, num(data, patCursor))
			b.reset()
			if !signalled {
				close(ready)
				signalled = true
			}
		case "message.ack", "error":
			if string(typ) == "error" {
				r.errors.Add(1)
			} else {
				r.acked.Add(1)
			}
			if id := num(data, patID); id >= 0 {
				d.mu.Lock()
				d.acked = id + 1
				// Acks come back in the order sent, at most a window
				// behind, so the slot still holds this frame's time.
				at := d.sentAt[id%int64(window)]
				d.mu.Unlock()
				if r.measuring.Load() {
					d.ack = append(d.ack, now.Sub(at))
					d.lag = append(d.lag, read.Sub(now))
				}
			}
			if r.paced {
				select {
				case <-d.pending:
				default:
				}
			} else {
				d.queueOne(r, idx)
			}
		case "message.created":
			d.cursor = max(d.cursor, num(data, patCursor))
			if string(str(data, patSenderID)) == d.acct.ID {
				continue // our own message echoed to our device
			}
			r.delivered.Add(1)
			if ns := num(data, patText); ns > 0 && r.measuring.Load() {
				d.e2e = append(d.e2e, now.Sub(time.Unix(0, ns)))
				d.lag = append(d.lag, read.Sub(now))
			}
		}
	}
}

func openDirect(ctx context.Context, c *http.Client, base string, a Account, other string) (string, error) {
	return createConversation(ctx, c, base, a, `{"kind":"direct","member_ids":["`+other+`"]}`, "open conversation",
		"start the server with --direct-messages anyone and a verification policy that lets these accounts message")
}

// createConversation posts body to /api/v1/conversations as owner and
// returns the conversation's id; a refusal's error names what was being
// done and the hint.
func createConversation(ctx context.Context, c *http.Client, base string, owner Account, body, what, hint string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, "POST", base+"/api/v1/conversations", strings.NewReader(body))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+owner.Token)
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
		return "", fmt.Errorf("%s: %s: %w", what, res.Status, err)
	}
	if res.StatusCode/100 != 2 {
		return "", fmt.Errorf("%s: %s %s: %s (%s)", what, res.Status, out.Error.Code, out.Error.Message, hint)
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

package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// ReconnectConfig describes a reconnect storm: the devices, paired into
// direct conversations as in Run, connect and each sends a message so
// that every one holds a cursor; then every socket is closed at once,
// Away messages per conversation are posted over HTTP while they are
// gone, and every device reconnects at the same moment with since= its
// last cursor.
type ReconnectConfig struct {
	URL      string
	Accounts []Account
	Away     int
	Progress func(string)
	// OnMeasure, if set, is called as the devices start reconnecting
	// (true) and once all are ready or the deadline passed (false), so
	// the caller can read CPU counters over the storm.
	OnMeasure func(start bool)
}

// ReconnectReport is a storm's outcome. Every device must get exactly
// the messages of its conversation that were sent while it was away
// (each conversation's seq after the device's last, with no gap and no
// repeat); Lost, Duplicated and OutOfOrder count the exceptions.
type ReconnectReport struct {
	Devices       int
	Conversations int
	AwayMessages  int // posted while every device was away
	// Ready is the time from the storm's start to each device's ready
	// frame; AllReady is when the last one came (0: not every device got
	// ready within the deadline). Retries counts dials that failed and
	// were tried again.
	Ready    Percentiles
	AllReady time.Duration
	NotReady int
	Retries  int64
	// Events the devices should get after their cursors, and what came.
	Expected, Received int64
	Lost, Duplicated   int64
	OutOfOrder         int64 // an event after a gap, or a cursor that went back
}

// OK reports whether every device got ready and every event arrived
// exactly once, in order.
func (r ReconnectReport) OK() bool {
	return r.NotReady == 0 && r.Lost == 0 && r.Duplicated == 0 && r.OutOfOrder == 0 && r.Received == r.Expected
}

// stormDevice is one device of a storm. Its reader alone writes the
// fields after ws while it runs; the storm reads them once the reader has
// ended.
type stormDevice struct {
	acct    Account
	conv    string
	partner Account
	ws      *wsConn

	cursor  int64 // the last cursor seen
	seq     int64 // the last seq of its conversation seen
	baseSeq int64 // seq at the drop: expected after it are baseSeq+1…
	got     int64 // events after baseSeq that arrived
	dup     int64
	gap     int64
	ready   int64 // unix nanos of the ready frame after the storm
}

// storm is what a storm's readers share.
type storm struct {
	counting bool         // after the drop: check and count
	wantSeq  int64        // before the drop: the seq every device waits for
	settled  atomic.Int64 // devices that reached wantSeq, or got ready after the drop
	arrived  atomic.Int64 // events that arrived after the drop
}

// read follows the device's stream until its socket closes.
func (d *stormDevice) read(ws *wsConn, s *storm, readyc chan<- struct{}) {
	for {
		data, err := ws.next()
		if err != nil {
			return
		}
		if d.handle(data, time.Now(), s) && readyc != nil {
			close(readyc)
			readyc = nil
		}
	}
}

// handle takes one frame, checking order while the storm counts: seq
// increases by one, an event's cursor is past the one before. It reports
// whether the frame was the ready frame.
func (d *stormDevice) handle(data []byte, now time.Time, s *storm) bool {
	switch string(frameType(data)) {
	case "ready":
		if s.counting && d.ready == 0 {
			d.ready = now.UnixNano()
			s.settled.Add(1)
		}
		// The ready frame repeats the last event's cursor.
		if c := num(data, patCursor); c > d.cursor {
			d.cursor = c
		}
		return true
	case "message.created":
	default:
		if c := num(data, patCursor); c > d.cursor {
			d.cursor = c
		}
		return false
	}
	if c := num(data, patCursor); c > d.cursor {
		d.cursor = c
	} else if s.counting {
		d.gap++ // an event whose cursor did not advance
	}
	if string(str(data, patConvID)) != d.conv {
		return false
	}
	seq := num(data, patSeq)
	switch {
	case seq <= d.seq:
		if s.counting {
			d.dup++
		}
		return false
	case seq > d.seq+1 && s.counting:
		d.gap++
	}
	d.seq = seq
	if s.counting {
		d.got++
		s.arrived.Add(1)
	} else if seq == s.wantSeq {
		s.settled.Add(1)
	}
	return false
}

// RunReconnect runs the storm and reports; an error means the run could
// not be made, a report that is not OK that it found loss or disorder.
func RunReconnect(ctx context.Context, cfg ReconnectConfig) (ReconnectReport, error) {
	if len(cfg.Accounts) < 2 || len(cfg.Accounts)%2 != 0 {
		return ReconnectReport{}, errors.New("bench: need an even number of accounts, at least 2")
	}
	if cfg.Away < 1 {
		return ReconnectReport{}, errors.New("bench: a reconnect storm needs at least one message sent while away")
	}
	progress := cfg.Progress
	if progress == nil {
		progress = func(string) {}
	}
	client := &http.Client{Timeout: 60 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	devs := make([]*stormDevice, len(cfg.Accounts))
	for i, a := range cfg.Accounts {
		devs[i] = &stormDevice{acct: a}
	}
	progress(fmt.Sprintf("opening %d direct conversations", len(devs)/2))
	if err := parallel(ctx, len(devs)/2, 32, func(i int) error {
		a, b := devs[2*i], devs[2*i+1]
		id, err := openDirect(ctx, client, cfg.URL, a.acct, b.acct.ID)
		a.conv, b.conv, a.partner, b.partner = id, id, b.acct, a.acct
		return err
	}); err != nil {
		return ReconnectReport{}, err
	}
	rep := ReconnectReport{Devices: len(devs), Conversations: len(devs) / 2}
	var wg sync.WaitGroup
	var mu sync.Mutex // guards every d.ws
	closeAll := func() {
		mu.Lock()
		for _, d := range devs {
			if d.ws != nil {
				d.ws.close()
			}
		}
		mu.Unlock()
		wg.Wait()
	}
	defer closeAll()

	// Connect, and have each device send one message, so that each
	// conversation has seq 1 and 2 and every device a cursor past both.
	st := &storm{wantSeq: 2}
	progress(fmt.Sprintf("connecting %d devices; each sends one message", len(devs)))
	if err := parallel(ctx, len(devs), 64, func(i int) error {
		d := devs[i]
		ws, err := dialWS(ctx, cfg.URL, d.acct.Token, "")
		if err != nil {
			return fmt.Errorf("connect device %d: %w", i, err)
		}
		mu.Lock()
		d.ws = ws
		mu.Unlock()
		ready := make(chan struct{})
		wg.Add(1)
		go func() {
			defer wg.Done()
			d.read(ws, st, ready)
		}()
		select {
		case <-ready:
		case <-time.After(30 * time.Second):
			return fmt.Errorf("device %d: no ready frame within 30 s", i)
		}
		frame := `{"type":"message.send","id":"1","data":{"conversation_id":"` + d.conv + `","client_id":"r` + strconv.Itoa(i) + `","kind":"text","text":"before"}}`
		return ws.send([]byte(frame))
	}); err != nil {
		return rep, err
	}
	if err := waitFor(ctx, 60*time.Second, func() bool { return st.settled.Load() == int64(len(devs)) }); err != nil {
		return rep, fmt.Errorf("before the drop, %d of %d devices had both messages of their conversation: %w", st.settled.Load(), len(devs), err)
	}

	progress(fmt.Sprintf("dropping all %d connections at once", len(devs)))
	closeAll() // the readers have ended: their fields are ours to read
	for _, d := range devs {
		d.ws = nil
		d.baseSeq = d.seq
	}

	rep.AwayMessages = cfg.Away * len(devs) / 2
	progress(fmt.Sprintf("posting %d messages while every device is away", rep.AwayMessages))
	if err := parallel(ctx, len(devs)/2, 32, func(i int) error {
		// One conversation's messages in order, the members taking turns.
		for k := 0; k < cfg.Away; k++ {
			from := devs[2*i+k%2].acct
			if err := postMessage(ctx, client, cfg.URL, from, devs[2*i].conv, "a"+strconv.Itoa(i)+"-"+strconv.Itoa(k)); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		return rep, err
	}
	for _, d := range devs {
		// Every message of the conversation after the last one the
		// device saw: the ones sent while away, and any it missed before.
		rep.Expected += int64(2+cfg.Away) - d.baseSeq
	}

	st = &storm{counting: true}
	progress(fmt.Sprintf("reconnecting %d devices at once with since=their cursors", len(devs)))
	var retries atomic.Int64
	var dials sync.WaitGroup
	if cfg.OnMeasure != nil {
		cfg.OnMeasure(true)
	}
	start := time.Now()
	giveUp := start.Add(60 * time.Second)
	for i, d := range devs {
		dials.Add(1)
		go func() {
			defer dials.Done()
			since := strconv.FormatInt(d.cursor, 10)
			// Full jitter (see backoff), on the storm's own short
			// schedule: 100 ms doubling to 2 s.
			b := &backoff{base: 100 * time.Millisecond, max: 2 * time.Second}
			for {
				dctx, cancel := context.WithDeadline(ctx, giveUp)
				ws, err := dialWS(dctx, cfg.URL, d.acct.Token, since)
				cancel()
				if err == nil {
					mu.Lock()
					d.ws = ws
					mu.Unlock()
					wg.Add(1)
					go func() {
						defer wg.Done()
						d.read(ws, st, nil)
					}()
					return
				}
				wait := b.next()
				if ctx.Err() != nil || time.Now().Add(wait).After(giveUp) {
					progress(fmt.Sprintf("device %d could not reconnect: %v", i, err))
					return
				}
				retries.Add(1)
				sleep(ctx, wait)
			}
		}()
	}
	dials.Wait()
	_ = waitFor(ctx, time.Until(giveUp), func() bool { return st.settled.Load() == int64(len(devs)) })
	if cfg.OnMeasure != nil {
		cfg.OnMeasure(false)
	}
	// Replay comes before ready, so by now every event should be in;
	// allow stragglers a few seconds.
	_ = waitFor(ctx, 5*time.Second, func() bool { return st.arrived.Load() >= rep.Expected })
	closeAll()

	rep.Retries = retries.Load()
	var ready []time.Duration
	for _, d := range devs {
		if d.ready == 0 {
			rep.NotReady++
		} else {
			ready = append(ready, time.Unix(0, d.ready).Sub(start))
		}
		rep.Received += d.got
		rep.Duplicated += d.dup
		rep.OutOfOrder += d.gap
		if want := int64(2+cfg.Away) - d.baseSeq; d.got < want {
			rep.Lost += want - d.got
		}
	}
	rep.Ready = percentiles(ready)
	if rep.NotReady == 0 {
		rep.AllReady = rep.Ready.Max
	}
	return rep, nil
}

// postMessage sends a text message over the HTTP API.
func postMessage(ctx context.Context, c *http.Client, base string, from Account, conv, clientID string) error {
	body := `{"client_id":"` + clientID + `","kind":"text","text":"away"}`
	req, err := http.NewRequestWithContext(ctx, "POST", base+"/api/v1/conversations/"+conv+"/messages", strings.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+from.Token)
	res, err := c.Do(req)
	if err != nil {
		return fmt.Errorf("post a message: %w", err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(res.Body, 4096))
	if res.StatusCode != http.StatusCreated {
		return fmt.Errorf("post a message: %s: %s", res.Status, b)
	}
	return nil
}

// waitFor polls cond every 20 ms until it holds or timeout passes.
func waitFor(ctx context.Context, timeout time.Duration, cond func() bool) error {
	deadline := time.Now().Add(timeout)
	for !cond() {
		if !time.Now().Before(deadline) {
			return fmt.Errorf("not done within %s", timeout)
		}
		sleep(ctx, 20*time.Millisecond)
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
	return nil
}

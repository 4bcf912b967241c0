package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"
)

// ChannelConfig describes a channel fan-out run: Devices of the channel's
// followers connect, the owner publishes Posts posts one after another,
// and each post's arrival at every device is timed from the moment the
// publish call returned.
type ChannelConfig struct {
	URL        string
	OwnerToken string
	ChannelID  string
	Devices    []Account
	Posts      int
	Progress   func(string)
}

// ChannelReport is a fan-out run's outcome.
type ChannelReport struct {
	Devices  int
	Posts    int
	Expected int // Devices × Posts
	Received int
	// Latency from the publish call's return to arrival (a device may get
	// the post before the call returns: that counts as 0).
	Latency Percentiles
	// WithinOneSecond is the share of deliveries that arrived within 1 s.
	WithinOneSecond float64
	// PublishCall is how long the publish calls took.
	PublishCall Percentiles
	// Last is, per post, the time from the start of the publish call to
	// the last connected follower's delivery (publish → last delivery),
	// over the posts; a post some follower never got is left out.
	Last Percentiles
}

// RunChannel connects the devices, publishes, and reports.
func RunChannel(ctx context.Context, cfg ChannelConfig) (ChannelReport, error) {
	progress := cfg.Progress
	if progress == nil {
		progress = func(string) {}
	}
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()

	type arrival struct {
		post string
		at   time.Time
	}
	arrivals := make(chan arrival, 1<<16)
	conns := make([]*wsConn, len(cfg.Devices))
	var wg sync.WaitGroup
	var connsMu sync.Mutex
	defer func() {
		connsMu.Lock()
		for _, c := range conns {
			if c != nil {
				c.close()
			}
		}
		connsMu.Unlock()
		cancel()
		wg.Wait()
	}()
	progress(fmt.Sprintf("connecting %d followers", len(cfg.Devices)))
	err := parallel(ctx, len(cfg.Devices), 64, func(i int) error {
		ws, err := dialWS(ctx, cfg.URL, cfg.Devices[i].Token, "")
		if err != nil {
			return fmt.Errorf("connect follower %d: %w", i, err)
		}
		connsMu.Lock()
		conns[i] = ws
		connsMu.Unlock()
		ready := make(chan struct{})
		wg.Add(1)
		go func() {
			defer wg.Done()
			signalled := false
			for {
				data, err := ws.next()
				if err != nil {
					return
				}
				now := time.Now()
				switch string(frameType(data)) {
				case "ready":
					if !signalled {
						close(ready)
						signalled = true
					}
				case "channel.post":
					select {
					case arrivals <- arrival{post: string(str(data, patID)), at: now}:
					case <-runCtx.Done():
						return
					}
				}
			}
		}()
		select {
		case <-ready:
			return nil
		case <-time.After(30 * time.Second):
			return fmt.Errorf("follower %d: no ready frame within 30 s", i)
		}
	})
	if err != nil {
		return ChannelReport{}, err
	}
	rep := ChannelReport{Devices: len(cfg.Devices), Posts: cfg.Posts, Expected: len(cfg.Devices) * cfg.Posts}
	client := &http.Client{Timeout: 30 * time.Second}
	var lat, calls, lasts []time.Duration
	within := 0
	for p := 0; p < cfg.Posts; p++ {
		sleep(ctx, 500*time.Millisecond) // let the previous post settle
		body := fmt.Sprintf(`{"title":"Bench post %d","body":"Hello, followers.","category":"bench"}`, p)
		req, _ := http.NewRequestWithContext(ctx, "POST", cfg.URL+"/api/v1/channels/"+cfg.ChannelID+"/posts", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+cfg.OwnerToken)
		start := time.Now()
		res, err := client.Do(req)
		if err != nil {
			return rep, err
		}
		returned := time.Now()
		var post struct {
			ID    string `json:"id"`
			Error struct{ Code, Message string }
		}
		_ = json.NewDecoder(res.Body).Decode(&post)
		res.Body.Close()
		if res.StatusCode != http.StatusCreated {
			return rep, fmt.Errorf("publish: %s %s %s", res.Status, post.Error.Code, post.Error.Message)
		}
		calls = append(calls, returned.Sub(start))
		got := 0
		var last time.Time
		deadline := time.After(10 * time.Second)
	collect:
		for got < len(cfg.Devices) {
			select {
			case a := <-arrivals:
				if a.post != post.ID {
					continue
				}
				got++
				if a.at.After(last) {
					last = a.at
				}
				d := max(a.at.Sub(returned), 0)
				lat = append(lat, d)
				if d <= time.Second {
					within++
				}
			case <-deadline:
				break collect
			}
		}
		rep.Received += got
		if got == len(cfg.Devices) {
			lasts = append(lasts, last.Sub(start))
		}
		progress(fmt.Sprintf("post %d: %d of %d followers had it", p+1, got, len(cfg.Devices)))
	}
	rep.Latency, rep.PublishCall, rep.Last = percentiles(lat), percentiles(calls), percentiles(lasts)
	if rep.Expected > 0 {
		rep.WithinOneSecond = float64(within) / float64(rep.Expected)
	}
	return rep, nil
}

package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
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
	// CPU, if set, returns the CPU time the server (0 if unknown) and
	// the load generator have used so far, for the CPU per post.
	CPU func() (server, generator time.Duration)
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
	// First is, per post, the time from the start of the publish call to
	// the first follower's delivery: the part of Last before the fan-out
	// (the request, its checks and its commit).
	First Percentiles
	// ReadLag is the load generator's own wait, from a post's arrival at
	// a device's socket (which is when it counts as delivered, on Linux)
	// to the generator reading it.
	ReadLag Percentiles
	// ServerCPUMS and GeneratorCPUMS are the CPU time each used per
	// post, in milliseconds, from the start of its publish call to its
	// last delivery (the pauses between posts left out); zero when not
	// measured. /proc counts in ticks of 10 ms: the mean over many posts
	// is what is worth reading.
	ServerCPUMS    float64 `json:"server_cpu_ms_per_post,omitempty"`
	GeneratorCPUMS float64 `json:"generator_cpu_ms_per_post,omitempty"`
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
	var devices listeners
	defer func() {
		cancel()
		devices.close()
	}()
	progress(fmt.Sprintf("connecting %d followers", len(cfg.Devices)))
	tokens := make([]string, len(cfg.Devices))
	for i, d := range cfg.Devices {
		tokens[i] = d.Token
	}
	err := devices.connect(ctx, cfg.URL, tokens, "follower", func(_ int, data []byte, at time.Time) bool {
		if string(frameType(data)) != "channel.post" {
			return true
		}
		select {
		case arrivals <- arrival{post: string(str(data, patID)), at: at}:
			return true
		case <-runCtx.Done():
			return false
		}
	})
	if err != nil {
		return ChannelReport{}, err
	}
	rep := ChannelReport{Devices: len(cfg.Devices), Posts: cfg.Posts, Expected: len(cfg.Devices) * cfg.Posts}
	client := &http.Client{Timeout: 30 * time.Second}
	var lat, calls, lasts, firsts []time.Duration
	within := 0
	cpu := cfg.CPU
	if cpu == nil {
		cpu = func() (time.Duration, time.Duration) { return 0, 0 } // not measured
	}
	var serverCPU, generatorCPU time.Duration // summed over the posts
	serverKnown := true
	for p := 0; p < cfg.Posts; p++ {
		sleep(ctx, 500*time.Millisecond) // let the previous post settle
		body := fmt.Sprintf(`{"title":"Bench post %d","body":"Hello, followers.","category":"bench"}`, p)
		req, _ := http.NewRequestWithContext(ctx, "POST", cfg.URL+"/api/v1/channels/"+cfg.ChannelID+"/posts", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+cfg.OwnerToken)
		server0, generator0 := cpu()
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
		var first, last time.Time
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
				if first.IsZero() || a.at.Before(first) {
					first = a.at
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
		server, generator := cpu()
		serverKnown = serverKnown && server0 > 0 && server >= server0
		serverCPU += server - server0
		generatorCPU += generator - generator0
		rep.Received += got
		if got == len(cfg.Devices) {
			lasts = append(lasts, last.Sub(start))
			firsts = append(firsts, first.Sub(start))
		}
		progress(fmt.Sprintf("post %d: %d of %d followers had it", p+1, got, len(cfg.Devices)))
	}
	if cfg.Posts > 0 {
		if serverKnown {
			rep.ServerCPUMS = serverCPU.Seconds() * 1000 / float64(cfg.Posts)
		}
		rep.GeneratorCPUMS = generatorCPU.Seconds() * 1000 / float64(cfg.Posts)
	}
	rep.Latency, rep.PublishCall, rep.Last, rep.First = percentiles(lat), percentiles(calls), percentiles(lasts), percentiles(firsts)
	rep.ReadLag = devices.readLag()
	if rep.Expected > 0 {
		rep.WithinOneSecond = float64(within) / float64(rep.Expected)
	}
	return rep, nil
}

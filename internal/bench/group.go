package bench

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// GroupConfig describes a group fan-out run: Sender creates a group with
// Members, every member's device connects (the sender's on a second
// device, as a phone beside the laptop that sends), and the sender posts
// Messages messages Interval apart over its stream. Each message's
// arrival at every member device is timed from the moment it was sent.
type GroupConfig struct {
	URL      string
	Sender   Account
	Members  []Account // the others; with Sender, the group
	Messages int
	Interval time.Duration
	Progress func(string)
}

// GroupReport is a group run's outcome.
type GroupReport struct {
	Members  int // the group's size, the sender included
	Devices  int // receiving devices: one per member
	Messages int
	Expected int // Devices × Messages
	Received int
	// Latency is send→delivery over every delivery of every message;
	// PerMessageP99 and Last are, per message, the p99 and the slowest
	// of its Devices deliveries, summarised over the messages.
	Latency       Percentiles
	PerMessageP99 Percentiles
	Last          Percentiles
	// Messages' p50, p99 and max one by one, in the order sent.
	PerMessage []Percentiles
	// ReadLag is the load generator's own wait, from a message's arrival
	// at a device's socket (which is when it counts as delivered, on
	// Linux) to the generator reading it.
	ReadLag Percentiles
}

// RunGroup creates the group, connects its devices, sends, and reports.
func RunGroup(ctx context.Context, cfg GroupConfig) (GroupReport, error) {
	progress := cfg.Progress
	if progress == nil {
		progress = func(string) {}
	}
	if cfg.Messages < 1 || len(cfg.Members) < 1 {
		return GroupReport{}, errors.New("bench: a group run needs at least one message and one member besides the sender")
	}
	client := &http.Client{Timeout: 60 * time.Second}
	ids := make([]string, len(cfg.Members))
	for i, m := range cfg.Members {
		ids[i] = m.ID
	}
	progress(fmt.Sprintf("creating a group of %d members", len(cfg.Members)+1))
	conv, err := createGroup(ctx, client, cfg.URL, cfg.Sender, ids)
	if err != nil {
		return GroupReport{}, err
	}

	// Every member's device, the sender's second one last.
	receivers := append(append([]Account(nil), cfg.Members...), cfg.Sender)
	// lat[m] holds message m's delivery latencies; the lock is taken
	// after each arrival is timed, so waiting for it does not count.
	lat := make([][]time.Duration, cfg.Messages)
	var mu sync.Mutex
	arrived := make(chan struct{}, 1)
	var devices listeners
	defer devices.close()
	progress(fmt.Sprintf("connecting %d member devices", len(receivers)))
	clientPrefix := []byte(`"client_id":"g`)
	tokens := make([]string, len(receivers))
	for i, r := range receivers {
		tokens[i] = r.Token
	}
	err = devices.connect(ctx, cfg.URL, tokens, "member", func(_ int, data []byte, at time.Time) bool {
		if string(frameType(data)) != "message.created" {
			return true
		}
		m, ns := num(data, clientPrefix), num(data, patText)
		if m < 0 || m >= int64(len(lat)) || ns <= 0 || string(str(data, patConvID)) != conv {
			return true
		}
		mu.Lock()
		lat[m] = append(lat[m], at.Sub(time.Unix(0, ns)))
		mu.Unlock()
		select {
		case arrived <- struct{}{}:
		default:
		}
		return true
	})
	if err != nil {
		return GroupReport{}, err
	}

	// The sending device reads only to notice a refusal: an error frame
	// means a message will never arrive, and the run stops there.
	sender, err := dialWS(ctx, cfg.URL, cfg.Sender.Token, "")
	if err != nil {
		return GroupReport{}, fmt.Errorf("connect the sender: %w", err)
	}
	var reading sync.WaitGroup
	defer reading.Wait()
	defer sender.close() // ends the reading
	refused := make(chan string, 1)
	reading.Go(func() {
		for {
			data, err := sender.next()
			if err != nil {
				return
			}
			if string(frameType(data)) == "error" {
				select {
				case refused <- string(data):
				default:
				}
			}
		}
	})

	rep := GroupReport{Members: len(cfg.Members) + 1, Devices: len(receivers), Messages: cfg.Messages, Expected: len(receivers) * cfg.Messages}
	progress(fmt.Sprintf("sending %d messages, %s apart", cfg.Messages, cfg.Interval))
	for m := 0; m < cfg.Messages; m++ {
		if m > 0 {
			sleep(ctx, cfg.Interval)
		}
		now := time.Now()
		frame := `{"type":"message.send","id":"` + strconv.Itoa(m) + `","data":{"conversation_id":"` + conv + `","client_id":"g` + strconv.Itoa(m) +
			`","kind":"text","text":"` + strconv.FormatInt(now.UnixNano(), 10) + `"}}`
		if err := sender.send([]byte(frame)); err != nil {
			return rep, fmt.Errorf("send message %d: %w", m, err)
		}
		select {
		case f := <-refused:
			return rep, fmt.Errorf("the server refused a group message: %s", f)
		default:
		}
	}
	// Wait for the last deliveries, up to 10 s after the last send.
	deadline := time.NewTimer(10 * time.Second)
	defer deadline.Stop()
	for {
		mu.Lock()
		got := 0
		for _, l := range lat {
			got += len(l)
		}
		mu.Unlock()
		if got >= rep.Expected {
			break
		}
		select {
		case <-arrived:
			continue
		case f := <-refused:
			return rep, fmt.Errorf("the server refused a group message: %s", f)
		case <-deadline.C:
		case <-ctx.Done():
			return rep, ctx.Err()
		}
		break
	}
	mu.Lock()
	defer mu.Unlock()
	var all, p99s, lasts []time.Duration
	for _, l := range lat {
		rep.Received += len(l)
		all = append(all, l...)
		p := percentiles(l)
		rep.PerMessage = append(rep.PerMessage, p)
		if p.N > 0 {
			p99s, lasts = append(p99s, p.P99), append(lasts, p.Max)
		}
	}
	rep.Latency, rep.PerMessageP99, rep.Last = percentiles(all), percentiles(p99s), percentiles(lasts)
	rep.ReadLag = devices.readLag()
	return rep, nil
}

func createGroup(ctx context.Context, c *http.Client, base string, owner Account, members []string) (string, error) {
	body, _ := json.Marshal(map[string]any{"kind": "group", "title": "Bench group", "member_ids": members})
	return createConversation(ctx, c, base, owner, string(body), "create group",
		"start the server with --direct-messages anyone and a verification policy that lets these accounts create conversations")
}

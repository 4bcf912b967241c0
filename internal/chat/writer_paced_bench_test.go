package chat

import (
	"context"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"
)

// BenchmarkWriterPaced sends to the single writer at a steady rate, the
// way `plaza bench --rate` does (1,000 accounts in 500 direct
// conversations, each device in turn, so that a batch holds sends to
// different conversations), with nothing else in the process: no
// streams, frames, checks before the queue or load generator. It
// reports the p50 and p99 of submit → durable commit, which is the part
// of a send's latency the storage alone sets at that rate, and the
// process's CPU and write system calls per message. Each loop is one
// message, so the rate sets how long a run takes:
//
//	go test -run '^$' -bench 'WriterPaced/rate=1000' -benchtime 15000x -count 3 ./internal/chat/
//	go test -run '^$' -bench 'WriterPaced/rate=5000' -benchtime 60000x -count 3 ./internal/chat/
//
// With -writer-age 1000000 after the package, the same on a database of
// about 270 MiB (see benchAge).
//
// The pacer submits every send that is due each time it wakes, as the
// load generator's devices together do. Latency counts from the submit;
// pace-lag-p99-ms says how late the pacer itself submitted, so that a
// run where it could not keep up shows as such.
func BenchmarkWriterPaced(b *testing.B) {
	for _, rate := range []int{1000, 5000} {
		b.Run("rate="+strconv.Itoa(rate), func(b *testing.B) {
			w := newWriterBench(b, 1, true, 4096)
			w.paced(b, rate)
		})
	}
}

func (w *writerBench) paced(b *testing.B, rate int) {
	ctx := context.Background()
	var (
		mu       sync.Mutex
		lat, lag []time.Duration
		wg       sync.WaitGroup
	)
	cpu0, writes0 := processCPU(), mustWriteCalls(b)
	interval := time.Second / time.Duration(rate)
	start := time.Now()
	n := 0
	for b.Loop() {
		due := start.Add(time.Duration(n) * interval)
		n++
		if d := time.Until(due); d > 0 {
			time.Sleep(d)
		}
		dev := w.n % benchAccounts // device dev is pairs[dev/2].from[dev%2]
		w.n++
		p := &w.pairs[dev/2]
		in := SendInput{ConversationID: p.conv, Kind: KindText,
			ClientID: "p" + strconv.Itoa(dev) + "-" + strconv.Itoa(w.n), Text: "paced"}
		at := time.Now()
		lag = append(lag, at.Sub(due))
		q, err := w.e.svc.w.submit(ctx, p.from[dev%2], in, Direct, p.version, at)
		if err != nil {
			b.Errorf("submit: %v", err)
			break
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, created, err := q.Wait(); err != nil || !created {
				b.Errorf("send: created %v, %v", created, err)
				return
			}
			took := time.Since(at)
			mu.Lock()
			lat = append(lat, took)
			mu.Unlock()
		}()
	}
	wg.Wait()
	if len(lat) == 0 {
		return // every send failed, and said so
	}
	msgs := float64(n)
	pct := func(d []time.Duration, p float64) float64 {
		slices.Sort(d)
		return float64(d[int(p*float64(len(d)-1))].Microseconds()) / 1000
	}
	b.ReportMetric(msgs/time.Since(start).Seconds(), "msg/s")
	b.ReportMetric(pct(lat, 0.50), "p50-ms")
	b.ReportMetric(pct(lat, 0.99), "p99-ms")
	b.ReportMetric(pct(lag, 0.99), "pace-lag-p99-ms")
	b.ReportMetric(float64((processCPU()-cpu0).Microseconds())/msgs, "cpu-µs/msg")
	b.ReportMetric(float64(mustWriteCalls(b)-writes0)/msgs, "writes/msg")
}

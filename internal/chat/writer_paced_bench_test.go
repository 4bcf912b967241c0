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
// process's CPU and write system calls per message. b.N is the number
// of messages, so -benchtime 12000x at rate=1000 runs 12 s.
//
//	go test -run '^$' -bench WriterPaced -benchtime 12000x -count 3 ./internal/chat/
//
// The pacer submits every send that is due each time it wakes, which
// Go's timers do about once a millisecond at these rates, as the load
// generator's devices together do.
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
	lat := make([]time.Duration, 0, b.N)
	var mu sync.Mutex
	var wg sync.WaitGroup
	cpu0, writes0 := processCPU(), mustWriteCalls(b)
	interval := time.Second / time.Duration(rate)
	start := time.Now()
	b.ResetTimer()
	for n := 0; n < b.N; {
		due := int(time.Since(start)/interval) + 1
		for ; n < b.N && n < due; n++ {
			d := w.n % benchAccounts
			w.n++
			p := &w.pairs[d/2]
			in := SendInput{ConversationID: p.conv, Kind: KindText,
				ClientID: "p" + strconv.Itoa(d) + "-" + strconv.Itoa(w.n), Text: "paced"}
			at := time.Now()
			q, err := w.e.svc.w.submit(ctx, p.from[d%2], in, Direct, p.version, at)
			if err != nil {
				b.Fatalf("submit: %v", err)
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, created, err := q.Wait(); err != nil || !created {
					b.Errorf("send: created %v, %v", created, err)
					return
				}
				d := time.Since(at)
				mu.Lock()
				lat = append(lat, d)
				mu.Unlock()
			}()
		}
		if n < b.N {
			time.Sleep(time.Until(start.Add(time.Duration(n) * interval)))
		}
	}
	wg.Wait()
	b.StopTimer()
	if len(lat) == 0 {
		return // every send failed, and said so
	}
	msgs := float64(b.N)
	slices.Sort(lat)
	pct := func(p float64) float64 { return float64(lat[int(p*float64(len(lat)-1))].Microseconds()) / 1000 }
	b.ReportMetric(msgs/time.Since(start).Seconds(), "msg/s")
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
	b.ReportMetric(float64((processCPU()-cpu0).Microseconds())/msgs, "cpu-µs/msg")
	b.ReportMetric(float64(mustWriteCalls(b)-writes0)/msgs, "writes/msg")
}

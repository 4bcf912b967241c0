package bus_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/plaza-im/plaza/internal/bus"
)

// benchPayload is about the size of a chat message event.
var benchPayload = make([]byte, 256)

// BenchmarkLocalPublish measures one Publish on the in-process bus,
// handlers included (they only count).
func BenchmarkLocalPublish(b *testing.B) {
	ctx := context.Background()
	for _, subs := range []int{1, 100} {
		b.Run(fmt.Sprintf("subscribers=%d", subs), func(b *testing.B) {
			l := bus.NewLocal("bench")
			defer l.Close()
			counts := make([]int, subs)
			for i := range subs {
				if _, err := l.Subscribe("acct.1", func([]byte) { counts[i]++ }); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportAllocs()
			b.SetBytes(int64(len(benchPayload)))
			for b.Loop() {
				if err := l.Publish(ctx, "acct.1", benchPayload); err != nil {
					b.Fatal(err)
				}
			}
			if counts[subs-1] == 0 {
				b.Fatal("no event delivered")
			}
		})
	}

	// Many request goroutines publishing to different accounts at once,
	// as a busy node does: measures contention on the subject table.
	b.Run("subscribers=1/parallel", func(b *testing.B) {
		const subjects = 64
		l := bus.NewLocal("bench")
		defer l.Close()
		// One counter per subscription, a cache line apart: the bus runs
		// a subscription's handler one call at a time, and a shared
		// counter would measure its own contention.
		counts := make([][8]int64, subjects)
		for i := range subjects {
			if _, err := l.Subscribe(fmt.Sprintf("acct.%d", i), func([]byte) { counts[i][0]++ }); err != nil {
				b.Fatal(err)
			}
		}
		var next atomic.Int64
		b.ReportAllocs()
		b.SetBytes(int64(len(benchPayload)))
		b.RunParallel(func(pb *testing.PB) {
			subject := fmt.Sprintf("acct.%d", next.Add(1)%subjects)
			for pb.Next() {
				if err := l.Publish(ctx, subject, benchPayload); err != nil {
					b.Error(err)
					return
				}
			}
		})
		var delivered int64
		for _, c := range counts {
			delivered += c[0]
		}
		if delivered == 0 {
			b.Fatal("no event delivered")
		}
	})
}

// BenchmarkNATSPublishDeliver measures the throughput from Publish to
// one subscriber's handler through the NATS server, both on one
// connection. The publisher stays at most a window ahead of the handler,
// so the benchmark measures delivery rather than how fast events can be
// dropped.
func BenchmarkNATSPublishDeliver(b *testing.B) {
	url := natsURL(b)
	nb, err := bus.OpenNATS(url, uniquePrefix(b), bus.WithLogger(quietLogger()))
	if err != nil {
		b.Fatal(err)
	}
	defer nb.Close()

	const window = 1 << 14
	var received atomic.Int64
	progress := make(chan struct{}, 1)
	if _, err := nb.Subscribe("acct.1", func([]byte) {
		if received.Add(1)%1024 == 0 {
			select {
			case progress <- struct{}{}:
			default:
			}
		}
	}); err != nil {
		b.Fatal(err)
	}
	// waitFor waits until the handler has seen n events.
	waitFor := func(n int64) {
		deadline := time.NewTimer(waitTimeout)
		defer deadline.Stop()
		// The last events of a run may not end on a multiple of 1024,
		// so no token comes for them: poll as well.
		poll := time.NewTicker(time.Millisecond)
		defer poll.Stop()
		for received.Load() < n {
			select {
			case <-progress:
			case <-poll.C:
			case <-deadline.C:
				b.Fatalf("handler got %d events, want %d", received.Load(), n)
			}
		}
	}

	ctx := context.Background()
	b.ReportAllocs()
	b.SetBytes(int64(len(benchPayload)))
	start := time.Now()
	var sent int64
	for b.Loop() {
		if err := nb.Publish(ctx, "acct.1", benchPayload); err != nil {
			b.Fatal(err)
		}
		sent++
		if sent%1024 == 0 && sent-received.Load() > window {
			waitFor(sent - window/2)
		}
	}
	waitFor(sent)
	b.ReportMetric(float64(sent)/time.Since(start).Seconds(), "events/s")
}

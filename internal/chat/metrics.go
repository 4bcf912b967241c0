package chat

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// writerMetrics describe the send path: how long a send takes to be
// durable, how the single writer groups and commits sends, and how many
// wait for it.
type writerMetrics struct {
	send, batch, commit prometheus.Histogram
	queue               prometheus.GaugeFunc
}

func newWriterMetrics(w *writer) *writerMetrics {
	return &writerMetrics{
		send: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "plaza_chat_send_seconds",
			Help:    "Time from a send entering the chat service (before its checks) to its answer from the writer: committed, refused, or failed.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 15},
		}),
		batch: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "plaza_chat_commit_batch_size",
			Help:    "Sends per committed writer transaction (group commit); duplicates and refused sends count.",
			Buckets: prometheus.ExponentialBuckets(1, 2, 13), // 1 … 4,096, the default MaxBatch
		}),
		commit: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "plaza_chat_commit_seconds",
			Help:    "Time of one writer transaction, from begin to commit or rollback (each retry and each half of a split batch is one).",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}),
		queue: prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "plaza_chat_writer_queue",
			Help: "Sends checked and queued for this node's single writer, not yet taken into a batch (the queue holds 8192; past that, senders wait).",
		}, func() float64 { return float64(len(w.reqs)) }),
	}
}

// answered observes the latency of a send that started at start.
func (m *writerMetrics) answered(start time.Time) {
	m.send.Observe(time.Since(start).Seconds())
}

// Collectors returns the chat service's metrics and those of its sync log
// (package events), for the caller to register: plaza_chat_send_seconds,
// plaza_chat_commit_batch_size, plaza_chat_commit_seconds,
// plaza_chat_writer_queue and plaza_events_publish_queue.
func (s *Service) Collectors() []prometheus.Collector {
	m := s.w.m
	return append([]prometheus.Collector{m.send, m.batch, m.commit, m.queue}, s.evlog.Collectors()...)
}

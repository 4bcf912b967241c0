package jobs

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// queueMetrics describe the jobs this node runs, and the backlog of the
// whole cluster.
type queueMetrics struct {
	running prometheus.Gauge
	failed  *prometheus.CounterVec
	run     *prometheus.HistogramVec
	queued  *prometheus.Desc
}

func newQueueMetrics() *queueMetrics {
	return &queueMetrics{
		running: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "plaza_jobs_running",
			Help: "Job handlers running on this node now.",
		}),
		failed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "plaza_jobs_failed_total",
			Help: "Job runs on this node whose handler returned an error or panicked (whether retried, failed for good, or periodic), and jobs given up after runs that ended without a word, by kind.",
		}, []string{"kind"}),
		run: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "plaza_jobs_run_seconds",
			Help:    "Time a job's handler ran on this node, by kind, whatever the outcome.",
			Buckets: []float64{.01, .05, .1, .5, 1, 5, 10, 30, 60, 300, 900, 3600},
		}, []string{"kind"}),
		queued: prometheus.NewDesc("plaza_jobs_queued",
			"Jobs due to run and not yet claimed, by kind, counted in the shared jobs table: every node reports the whole cluster's backlog (use max, not sum).",
			[]string{"kind"}, nil),
	}
}

// known makes the series of kind exist at zero, so dashboards and alerts
// see a kind before its first failure.
func (m *queueMetrics) known(kind string) {
	m.failed.WithLabelValues(kind)
	m.run.WithLabelValues(kind)
}

// ran records a run of kind that took d and ended with err.
func (m *queueMetrics) ran(kind string, d time.Duration, err error) {
	m.run.WithLabelValues(kind).Observe(d.Seconds())
	if err != nil {
		m.failed.WithLabelValues(kind).Inc()
	}
}

// Collectors returns the queue's metrics, for the caller to register:
// plaza_jobs_queued, plaza_jobs_running, plaza_jobs_failed_total and
// plaza_jobs_run_seconds.
func (q *Queue) Collectors() []prometheus.Collector {
	return []prometheus.Collector{q.m.running, q.m.failed, q.m.run, queuedCollector{q}}
}

// queuedCollector reads plaza_jobs_queued from the database at each
// scrape.
type queuedCollector struct{ q *Queue }

// queuedTimeout bounds the count at a scrape: a stalled database leaves
// the figure out rather than hanging the scrape.
const queuedTimeout = 2 * time.Second

func (c queuedCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.q.m.queued }

func (c queuedCollector) Collect(ch chan<- prometheus.Metric) {
	q := c.q
	counts := map[string]float64{}
	q.mu.Lock()
	for kind := range q.handlers {
		counts[kind] = 0
	}
	q.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), queuedTimeout)
	defer cancel()
	rows, err := q.db.Read().QueryContext(ctx, `SELECT kind, COUNT(*) FROM jobs
		WHERE status = 'queued' AND run_after <= $1 GROUP BY kind`, q.now().UnixMicro())
	if err != nil {
		q.log.Warn("counting queued jobs for the metrics failed", "err", err)
		return
	}
	defer rows.Close()
	for rows.Next() {
		var kind string
		var n int64
		if err := rows.Scan(&kind, &n); err != nil {
			q.log.Warn("counting queued jobs for the metrics failed", "err", err)
			return
		}
		counts[kind] = float64(n)
	}
	if err := rows.Err(); err != nil {
		q.log.Warn("counting queued jobs for the metrics failed", "err", err)
		return
	}
	for kind, n := range counts {
		ch <- prometheus.MustNewConstMetric(q.m.queued, prometheus.GaugeValue, n, kind)
	}
}

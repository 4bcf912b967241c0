package jobs_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/plaza-im/plaza/internal/jobs"
	"github.com/plaza-im/plaza/internal/plazatest"
	"github.com/plaza-im/plaza/internal/sqldb"
	"github.com/plaza-im/plaza/internal/sqldb/sqldbtest"
	"github.com/prometheus/client_golang/prometheus"
)

// wantMetric polls until series has the value want.
func wantMetric(tb testing.TB, reg *prometheus.Registry, series string, want float64) {
	tb.Helper()
	plazatest.Eventually(tb, 30*time.Second, func() error {
		if got := plazatest.MetricValue(tb, reg, series); got != want {
			return fmt.Errorf("%s: got %v, want %v", series, got, want)
		}
		return nil
	})
}

// TestQueueMetrics holds the one worker in a handler and checks the
// running and queued gauges, then the run time and failure counts.
func TestQueueMetrics(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		clk := newClock()
		cfg := testConfig()
		cfg.Workers = 1
		started, release := make(chan struct{}, 8), make(chan struct{})
		reg := prometheus.NewRegistry()
		r := startQueue(t, db, cfg, clk, func(q *jobs.Queue) {
			q.Handle("test.block", func(ctx context.Context, _ *jobs.Run) error {
				started <- struct{}{}
				<-release
				return nil
			})
			q.Handle("test.fail", func(context.Context, *jobs.Run) error {
				return jobs.Permanent(errors.New("broken"))
			})
			reg.MustRegister(q.Collectors()...)
		})
		for _, s := range []string{`plaza_jobs_queued{kind="test.block"}`, `plaza_jobs_failed_total{kind="test.fail"}`, `plaza_jobs_run_seconds_count{kind="test.block"}`, "plaza_jobs_running"} {
			if got := plazatest.MetricValue(t, reg, s); got != 0 {
				t.Fatalf("before any job: %s = %v, want 0", s, got)
			}
		}

		for i := range 3 {
			enqueue(t, r.q, jobs.Spec{Kind: "test.block", Key: fmt.Sprint(i)})
		}
		// Not due yet: not queued in the metric's sense.
		enqueue(t, r.q, jobs.Spec{Kind: "test.block", Key: "later", RunAfter: clk.Now().Add(time.Hour)})
		<-started
		wantMetric(t, reg, "plaza_jobs_running", 1)
		wantMetric(t, reg, `plaza_jobs_queued{kind="test.block"}`, 2)
		close(release)
		wantMetric(t, reg, `plaza_jobs_run_seconds_count{kind="test.block"}`, 3)
		wantMetric(t, reg, "plaza_jobs_running", 0)
		wantMetric(t, reg, `plaza_jobs_queued{kind="test.block"}`, 0)

		enqueue(t, r.q, jobs.Spec{Kind: "test.fail"})
		wantMetric(t, reg, `plaza_jobs_failed_total{kind="test.fail"}`, 1)
		if got := plazatest.MetricValue(t, reg, `plaza_jobs_failed_total{kind="test.block"}`); got != 0 {
			t.Errorf("test.block failures: got %v, want 0", got)
		}
	})
}

// Package plazatest holds the assertions and polling that the test suites
// of several packages share. It is imported by tests only (the import
// graph test enforces that).
package plazatest

import (
	"net/http/httptest"
	"runtime/metrics"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/plaza-im/plaza"
)

// WantCode fails the test unless err carries code, and returns err as a
// *plaza.Error.
func WantCode(tb testing.TB, err error, code string) *plaza.Error {
	tb.Helper()
	if got := plaza.ErrorCode(err); got != code {
		tb.Fatalf("got error %v (code %q), want code %q", err, got, code)
	}
	return plaza.AsError(err)
}

// ProblemFields returns the fields an invalid_request error names in its
// "fields" details, in order.
func ProblemFields(tb testing.TB, err error) []string {
	tb.Helper()
	e := plaza.AsError(err)
	if e == nil {
		tb.Fatalf("got %v, want a *plaza.Error", err)
	}
	list, ok := e.Details["fields"].([]plaza.FieldProblem)
	if !ok {
		tb.Fatalf("got details %v, want a \"fields\" list", e.Details)
	}
	names := make([]string, len(list))
	for i, p := range list {
		names[i] = p.Field
	}
	return names
}

// WantInvalid fails the test unless err is invalid_request naming exactly
// fields, in that order.
func WantInvalid(tb testing.TB, err error, fields ...string) {
	tb.Helper()
	WantCode(tb, err, plaza.EInvalid)
	if got := ProblemFields(tb, err); !slices.Equal(got, fields) {
		tb.Fatalf("got invalid fields %q, want %q (error: %v)", got, fields, err)
	}
}

// WantInvalidField fails the test unless err is invalid_request naming
// field, among others or alone.
func WantInvalidField(tb testing.TB, err error, field string) {
	tb.Helper()
	WantCode(tb, err, plaza.EInvalid)
	if got := ProblemFields(tb, err); !slices.Contains(got, field) {
		tb.Fatalf("got invalid fields %q, want one naming %q (error: %v)", got, field, err)
	}
}

// pollInterval is how long Eventually waits between checks: short, since
// what it waits for is usually a goroutine a few steps behind.
const pollInterval = 2 * time.Millisecond

// Eventually polls cond until it returns nil and fails the test with
// cond's last error if that does not happen within timeout. It checks
// once more at the deadline, so a slow machine fails only when the
// condition really never held.
func Eventually(tb testing.TB, timeout time.Duration, cond func() error) {
	tb.Helper()
	deadline := time.Now().Add(timeout)
	for {
		err := cond()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			tb.Fatalf("not within %v: %v", timeout, err)
		}
		time.Sleep(pollInterval)
	}
}

// MetricValue returns the value of one series (name and labels, as the
// text format writes them) that g serves, or -1 if it serves none.
func MetricValue(tb testing.TB, g prometheus.Gatherer, series string) float64 {
	tb.Helper()
	rec := httptest.NewRecorder()
	promhttp.HandlerFor(g, promhttp.HandlerOpts{}).ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	for line := range strings.Lines(rec.Body.String()) {
		if v, ok := strings.CutPrefix(strings.TrimSuffix(line, "\n"), series+" "); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				tb.Fatalf("series %s: %v", series, err)
			}
			return f
		}
	}
	return -1
}

// GoroutinesCreated returns how many goroutines the process has started,
// and whether this Go counts them, for tests and benchmarks that count or
// bound the goroutines a piece of work starts.
func GoroutinesCreated() (uint64, bool) {
	s := []metrics.Sample{{Name: "/sched/goroutines-created:goroutines"}}
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindUint64 {
		return 0, false
	}
	return s[0].Value.Uint64(), true
}

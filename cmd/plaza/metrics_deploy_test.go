package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
)

// deployDir holds the Grafana dashboard and the Prometheus alert rules.
const deployDir = "../../deploy"

// TestDeployMetricsExist scrapes a running server and checks that every
// plaza_ metric the dashboard and the alert rules name is one the server
// exports, so a renamed or misspelt metric breaks the build rather than
// a graph or an alert that would then never fire.
func TestDeployMetricsExist(t *testing.T) {
	clearPlazaEnv(t)
	families := scrapeFamilies(t)
	files, err := filepath.Glob(filepath.Join(deployDir, "grafana", "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	rules, err := filepath.Glob(filepath.Join(deployDir, "prometheus", "*.yml"))
	if err != nil {
		t.Fatal(err)
	}
	files = append(files, rules...)
	if len(files) < 2 {
		t.Fatalf("got deploy files %v, want a dashboard and alert rules", files)
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if unknown := unknownMetrics(string(b), families); len(unknown) > 0 {
			t.Errorf("%s names metrics the server does not export: %s", f, strings.Join(unknown, ", "))
		}
	}
}

// TestUnknownMetrics checks the check: a misspelt name, or a histogram's
// suffix on a metric that is not one, is reported.
func TestUnknownMetrics(t *testing.T) {
	families := map[string]string{"plaza_chat_send_seconds": "histogram", "plaza_draining": "gauge"}
	for _, tc := range []struct {
		text string
		want []string
	}{
		{`histogram_quantile(0.99, rate(plaza_chat_send_seconds_bucket[5m])) and plaza_draining == 1`, nil},
		{`rate(plaza_chat_send_seconds_count[5m]) / rate(plaza_chat_send_seconds_sum[5m])`, nil},
		{`rate(plaza_chat_send_secondz_bucket[5m])`, []string{"plaza_chat_send_secondz_bucket"}},
		{`plaza_draining_count + plaza_drainin`, []string{"plaza_drainin", "plaza_draining_count"}},
	} {
		if got := unknownMetrics(tc.text, families); !slices.Equal(got, tc.want) {
			t.Errorf("unknownMetrics(%q): got %v, want %v", tc.text, got, tc.want)
		}
	}
}

var metricName = regexp.MustCompile(`plaza_[a-z_]+`)

// unknownMetrics returns, sorted, the plaza_ names in text that are
// neither a metric family of families (name → type) nor a histogram's
// _bucket, _sum or _count series.
func unknownMetrics(text string, families map[string]string) []string {
	var out []string
	for _, name := range metricName.FindAllString(text, -1) {
		if _, ok := families[name]; ok || slices.Contains(out, name) {
			continue
		}
		known := false
		for _, suffix := range []string{"_bucket", "_sum", "_count"} {
			if base, ok := strings.CutSuffix(name, suffix); ok {
				typ := families[base]
				known = typ == "histogram" || (typ == "summary" && suffix != "_bucket")
				break
			}
		}
		if !known {
			out = append(out, name)
		}
	}
	slices.Sort(out)
	return out
}

// scrapeFamilies starts a server on the local bus and returns the metric
// families of its /metrics, by name, with their types.
func scrapeFamilies(t *testing.T) map[string]string {
	t.Helper()
	cfg := DefaultConfig()
	cfg.Data = t.TempDir()
	cfg.Listen = "127.0.0.1:0"
	m := &Main{Config: cfg, LogOutput: io.Discard}
	ctx, cancel := context.WithCancel(context.Background())
	if err := m.Open(ctx); err != nil {
		cancel()
		m.Close()
		t.Fatal(err)
	}
	ran := make(chan error, 1)
	go func() { ran <- m.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-ran:
		case <-time.After(exitTimeout):
			t.Errorf("Run did not return within %v of cancel", exitTimeout)
		}
		m.Close()
	})
	// A request first, so that the HTTP metrics have series.
	res, err := http.Get("http://" + m.Addr() + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res, err = http.Get("http://" + m.Addr() + "/metrics"); err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET /metrics: got %d, want 200", res.StatusCode)
	}
	families := map[string]string{}
	for _, line := range strings.Split(string(body), "\n") {
		if f := strings.Fields(line); len(f) == 4 && f[0] == "#" && f[1] == "TYPE" {
			families[f[2]] = f[3]
		}
	}
	if len(families) == 0 {
		t.Fatalf("GET /metrics: no metric families in\n%s", body)
	}
	return families
}

// TestAlertRules checks that every alert rule in deploy/prometheus has
// what the on-call runbook relies on: a name, an expression, a for, a
// severity of page or warning, a summary and a description; and that no
// two alerts share a name.
func TestAlertRules(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(deployDir, "prometheus", "*.yml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no alert rule files in deploy/prometheus")
	}
	seen := map[string]bool{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var doc struct {
			Groups []struct {
				Name  string `yaml:"name"`
				Rules []struct {
					Alert       string            `yaml:"alert"`
					Expr        string            `yaml:"expr"`
					For         string            `yaml:"for"`
					Labels      map[string]string `yaml:"labels"`
					Annotations map[string]string `yaml:"annotations"`
				} `yaml:"rules"`
			} `yaml:"groups"`
		}
		dec := yaml.NewDecoder(strings.NewReader(string(b)))
		dec.KnownFields(true)
		if err := dec.Decode(&doc); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if len(doc.Groups) == 0 {
			t.Errorf("%s: no rule groups", f)
		}
		for _, g := range doc.Groups {
			if g.Name == "" || len(g.Rules) == 0 {
				t.Errorf("%s: group %q: got %d rules and a name %q, want a name and rules", f, g.Name, len(g.Rules), g.Name)
			}
			for i, r := range g.Rules {
				where := f + ": group " + g.Name + ": rule " + r.Alert
				if r.Alert == "" {
					t.Errorf("%s: group %s: rule %d has no alert name", f, g.Name, i)
				}
				if seen[r.Alert] {
					t.Errorf("%s: alert name used twice", where)
				}
				seen[r.Alert] = true
				if strings.TrimSpace(r.Expr) == "" {
					t.Errorf("%s: no expr", where)
				}
				if _, err := time.ParseDuration(r.For); err != nil {
					t.Errorf("%s: for %q: want a duration (%v)", where, r.For, err)
				}
				if s := r.Labels["severity"]; s != "page" && s != "warning" {
					t.Errorf("%s: labels.severity %q, want page or warning", where, s)
				}
				for _, a := range []string{"summary", "description"} {
					if strings.TrimSpace(r.Annotations[a]) == "" {
						t.Errorf("%s: no annotations.%s", where, a)
					}
				}
			}
		}
	}
}

// TestDashboardDatasource checks that the dashboard queries the
// ${DS_PROMETHEUS} datasource variable everywhere, so it imports into
// any Grafana whatever its Prometheus is called.
func TestDashboardDatasource(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(deployDir, "grafana", "plaza-dashboard.json"))
	if err != nil {
		t.Fatal(err)
	}
	type source struct {
		Type string `json:"type"`
		UID  string `json:"uid"`
	}
	var d struct {
		Templating struct {
			List []struct {
				Name, Type string
			} `json:"list"`
		} `json:"templating"`
		Panels []struct {
			Title      string  `json:"title"`
			Type       string  `json:"type"`
			Datasource *source `json:"datasource"`
			Targets    []struct {
				Expr       string  `json:"expr"`
				Datasource *source `json:"datasource"`
			} `json:"targets"`
		} `json:"panels"`
	}
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(d.Templating.List, func(v struct{ Name, Type string }) bool {
		return v.Name == "DS_PROMETHEUS" && v.Type == "datasource"
	}) {
		t.Errorf("templating: no datasource variable DS_PROMETHEUS")
	}
	want := source{"prometheus", "${DS_PROMETHEUS}"}
	for _, p := range d.Panels {
		if p.Type == "row" {
			continue
		}
		if p.Datasource == nil || *p.Datasource != want || len(p.Targets) == 0 {
			t.Errorf("panel %q: got datasource %v and %d queries, want %v and queries", p.Title, p.Datasource, len(p.Targets), want)
		}
		for _, q := range p.Targets {
			if q.Datasource == nil || *q.Datasource != want || q.Expr == "" {
				t.Errorf("panel %q: a query has datasource %v and expr %q, want %v and an expr", p.Title, q.Datasource, q.Expr, want)
			}
		}
	}
}

package main

// The cluster test of docs/operations.md: three plaza nodes on one
// PostgreSQL database, a three-server NATS cluster, media in SeaweedFS's
// S3 gateway and Caddy in front, every piece a real process on loopback.
// While messages flow, a plaza node is killed, then a NATS server; every
// device must come back through Caddy and see every acknowledged message
// exactly once, in order.
//
// It needs the binaries caddy, nats-server and weed (.ci/run installs
// them) and runs only with PLAZA_TEST_CLUSTER=1:
//
//	PLAZA_TEST_CLUSTER=1 PLAZA_TEST_POSTGRES=postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable \
//	  go test -count=1 -run TestClusterBehindLoadBalancer -v ./cmd/plaza/

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/plaza-im/plaza/internal/sqldb"
	"github.com/plaza-im/plaza/internal/sqldb/sqldbtest"
)

const clusterEnv = "PLAZA_TEST_CLUSTER"

// auxProcess is a server the cluster needs (NATS, SeaweedFS, Caddy),
// logging to a file that is shown when the test fails.
type auxProcess struct {
	name    string
	bin     string
	args    []string
	env     []string
	logPath string
	cmd     *exec.Cmd
	exited  chan struct{}
}

func startAux(tb testing.TB, name, bin string, env []string, args ...string) *auxProcess {
	tb.Helper()
	p := &auxProcess{name: name, bin: bin, args: args, env: env, logPath: filepath.Join(tb.TempDir(), name+".log")}
	p.start(tb)
	tb.Cleanup(func() {
		p.kill()
		if tb.Failed() {
			b, _ := os.ReadFile(p.logPath)
			if len(b) > 8<<10 {
				b = b[len(b)-8<<10:]
			}
			tb.Logf("%s log (end):\n%s", name, b)
		}
	})
	return p
}

func (p *auxProcess) start(tb testing.TB) {
	tb.Helper()
	f, err := os.OpenFile(p.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	p.cmd = exec.Command(p.bin, p.args...)
	p.cmd.Stdout, p.cmd.Stderr = f, f
	p.cmd.Env = append(os.Environ(), p.env...)
	if err := p.cmd.Start(); err != nil {
		tb.Fatalf("start %s: %v", p.name, err)
	}
	p.exited = make(chan struct{})
	go func(cmd *exec.Cmd, exited chan struct{}) {
		_ = cmd.Wait()
		close(exited)
	}(p.cmd, p.exited)
}

// kill ends the process with SIGKILL, as a crash would.
func (p *auxProcess) kill() {
	if p.cmd == nil {
		return
	}
	_ = p.cmd.Process.Kill()
	<-p.exited
	p.cmd = nil
}

// findBinary looks for name in PATH, then in the given places.
func findBinary(tb testing.TB, name string, also ...string) string {
	tb.Helper()
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	for _, p := range also {
		if st, err := os.Stat(p); err == nil && !st.IsDir() {
			return p
		}
	}
	tb.Fatalf("%s not found in PATH or %v (.ci/run installs it)", name, also)
	return ""
}

// freePorts returns n distinct free loopback ports, asked of the kernel
// (each listener is held until all are found, so none repeats).
func freePorts(tb testing.TB, n int) []int {
	tb.Helper()
	out := make([]int, n)
	for i := range out {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			tb.Fatal(err)
		}
		defer l.Close()
		out[i] = l.Addr().(*net.TCPAddr).Port
	}
	return out
}

// waitUntil polls check until it returns nil or the timeout passes.
func waitUntil(tb testing.TB, what string, timeout time.Duration, check func() error) {
	tb.Helper()
	deadline := time.Now().Add(timeout)
	for {
		err := check()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			tb.Fatalf("%s: not within %v: %v", what, timeout, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// natsCluster starts n NATS servers routed to each other and returns
// them with their client URLs.
func natsCluster(tb testing.TB, n int) ([]*auxProcess, []string) {
	tb.Helper()
	bin := findBinary(tb, "nats-server", "/usr/sbin/nats-server")
	ports := freePorts(tb, 3*n) // client, cluster and monitoring port of each
	var routes []string
	for i := range n {
		routes = append(routes, fmt.Sprintf("nats://127.0.0.1:%d", ports[3*i+1]))
	}
	var procs []*auxProcess
	var urls []string
	for i := range n {
		client, cluster, monitor := ports[3*i], ports[3*i+1], ports[3*i+2]
		procs = append(procs, startAux(tb, fmt.Sprintf("nats-%d", i+1), bin, nil,
			"-a", "127.0.0.1", "-p", fmt.Sprint(client), "-m", fmt.Sprint(monitor),
			"-n", fmt.Sprintf("plaza-nats-%d", i+1), "--cluster_name", "plaza",
			"-cluster", fmt.Sprintf("nats://127.0.0.1:%d", cluster),
			"-routes", strings.Join(routes, ",")))
		urls = append(urls, fmt.Sprintf("nats://127.0.0.1:%d", client))
	}
	for i := range n {
		url := fmt.Sprintf("http://127.0.0.1:%d/routez", ports[3*i+2])
		waitUntil(tb, fmt.Sprintf("nats-%d routed to the others", i+1), 30*time.Second, func() error {
			var rz struct {
				NumRoutes int `json:"num_routes"`
			}
			if err := getJSON(url, &rz); err != nil {
				return err
			}
			if rz.NumRoutes < n-1 {
				return fmt.Errorf("%d routes", rz.NumRoutes)
			}
			return nil
		})
	}
	return procs, urls
}

func getJSON(url string, out any) error {
	resp, err := http.Get(url)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	return json.NewDecoder(resp.Body).Decode(out)
}

// seaweedS3 starts SeaweedFS (master, volume, filer and S3 gateway in one
// process) with one identity, creates a bucket and returns the --media
// URL for it and the environment with the credentials.
func seaweedS3(tb testing.TB) (string, []string) {
	tb.Helper()
	home, _ := os.UserHomeDir()
	gopath := filepath.Join(home, "go")
	if out, err := exec.Command("go", "env", "GOPATH").Output(); err == nil {
		gopath = strings.TrimSpace(string(out))
	}
	bin := findBinary(tb, "weed", filepath.Join(gopath, "bin", "weed"))
	dir := tb.TempDir()
	const access, secret = "plazacluster", "plaza-cluster-test-secret"
	cfg := fmt.Sprintf(`{"identities":[{"name":"plaza","credentials":[{"accessKey":%q,"secretKey":%q}],"actions":["Admin","Read","List","Tagging","Write"]}]}`, access, secret)
	cfgPath := filepath.Join(dir, "s3.json")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		tb.Fatal(err)
	}
	ports := freePorts(tb, 8)
	master, volume, filer, s3port := ports[0], ports[1], ports[2], ports[3]
	data := filepath.Join(dir, "data")
	if err := os.MkdirAll(data, 0o700); err != nil {
		tb.Fatal(err)
	}
	startAux(tb, "seaweedfs", bin, nil, "server",
		"-dir="+data, "-ip=127.0.0.1", "-ip.bind=127.0.0.1",
		fmt.Sprintf("-master.port=%d", master), "-master.volumeSizeLimitMB=64",
		fmt.Sprintf("-volume.port=%d", volume), "-volume.max=20",
		"-filer", fmt.Sprintf("-filer.port=%d", filer),
		"-s3", fmt.Sprintf("-s3.port=%d", s3port), "-s3.config="+cfgPath,
		// Every port is picked here, so that nothing else on the machine
		// is in the way: the gRPC ones, and two S3 side services off.
		fmt.Sprintf("-master.port.grpc=%d", ports[4]), fmt.Sprintf("-volume.port.grpc=%d", ports[5]),
		fmt.Sprintf("-filer.port.grpc=%d", ports[6]), fmt.Sprintf("-s3.port.grpc=%d", ports[7]),
		"-s3.port.iceberg=0", "-s3.port.lance=0")

	endpoint := fmt.Sprintf("http://127.0.0.1:%d", s3port)
	client := s3.New(s3.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(endpoint),
		UsePathStyle: true,
		Credentials:  credentials.NewStaticCredentialsProvider(access, secret, ""),
	})
	const bucket = "plaza-media"
	// The gateway answers before the volume server has joined: retry.
	waitUntil(tb, "SeaweedFS S3 takes a bucket and an object", 90*time.Second, func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if _, err := client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
			var owned interface{ ErrorCode() string }
			if !errors.As(err, &owned) || (owned.ErrorCode() != "BucketAlreadyOwnedByYou" && owned.ErrorCode() != "BucketAlreadyExists") {
				return err
			}
		}
		_, err := client.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String("probe"), Body: strings.NewReader("ok")})
		return err
	})
	// The credentials go in the environment, as docs/operations.md
	// advises, not in the URL (which the test log shows).
	return fmt.Sprintf("s3://%s/media?endpoint=%s&region=us-east-1&path_style=true", bucket, endpoint),
		[]string{"AWS_ACCESS_KEY_ID=" + access, "AWS_SECRET_ACCESS_KEY=" + secret}
}

// caddyFront starts Caddy on a free port as the load balancer of the
// given upstreams (host:port) and returns its URL.
func caddyFront(tb testing.TB, upstreams []string) string {
	tb.Helper()
	bin := findBinary(tb, "caddy", "/usr/bin/caddy")
	dir := tb.TempDir()
	port := freePorts(tb, 1)[0]
	// Active health checks on /readyz take a draining or cut-off node
	// out; a dial that fails (a killed node) is retried on the next
	// upstream for up to lb_try_duration, and passive health keeps the
	// node out for fail_duration. WebSockets pass through as they are.
	caddyfile := fmt.Sprintf(`{
	admin off
	auto_https off
}

http://127.0.0.1:%d {
	reverse_proxy %s {
		lb_policy round_robin
		lb_try_duration 10s
		lb_try_interval 100ms
		fail_duration 5s
		health_uri /readyz
		health_interval 1s
		health_timeout 1s
		flush_interval -1
	}
}
`, port, strings.Join(upstreams, " "))
	path := filepath.Join(dir, "Caddyfile")
	if err := os.WriteFile(path, []byte(caddyfile), 0o600); err != nil {
		tb.Fatal(err)
	}
	env := []string{"HOME=" + dir, "XDG_DATA_HOME=" + filepath.Join(dir, "data"), "XDG_CONFIG_HOME=" + filepath.Join(dir, "config")}
	startAux(tb, "caddy", bin, env, "run", "--config", path, "--adapter", "caddyfile")
	url := fmt.Sprintf("http://127.0.0.1:%d", port)
	waitUntil(tb, "Caddy proxies /readyz", 30*time.Second, func() error {
		resp, err := http.Get(url + "/readyz")
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("status %d", resp.StatusCode)
		}
		return nil
	})
	return url
}

// busOutage returns the time between the node's last "disconnected from
// NATS" log line and the "reconnected" after it.
func busOutage(tb testing.TB, s *server) time.Duration {
	tb.Helper()
	var down, up time.Time
	for line := range strings.Lines(s.logs()) {
		rec, ok := parseLog(line)
		if !ok {
			continue
		}
		at, _ := time.Parse(time.RFC3339Nano, fmt.Sprint(rec["time"]))
		switch msg := fmt.Sprint(rec["msg"]); {
		case strings.HasPrefix(msg, "bus: disconnected from NATS"):
			down, up = at, time.Time{}
		case strings.HasPrefix(msg, "bus: reconnected to NATS") && !down.IsZero():
			up = at
		}
	}
	if down.IsZero() || up.IsZero() {
		tb.Fatalf("no disconnection and reconnection to NATS in the node's log")
	}
	return up.Sub(down)
}

// resumableAcross uploads data with tus: created and half sent through
// node a, the offset asked and the rest sent through node b. It returns
// the media ID.
func resumableAcross(tb testing.TB, a, b string, u user, data []byte) string {
	tb.Helper()
	do := func(method, url string, hdr map[string]string, body []byte) *http.Response {
		tb.Helper()
		req, err := http.NewRequest(method, url, bytes.NewReader(body))
		if err != nil {
			tb.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+u.Token)
		req.Header.Set("Tus-Resumable", "1.0.0")
		for k, v := range hdr {
			req.Header.Set(k, v)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			tb.Fatalf("%s %s: %v", method, url, err)
		}
		return resp
	}
	resp := do("POST", a+"/api/v1/uploads", map[string]string{
		"Upload-Length":   fmt.Sprint(len(data)),
		"Upload-Metadata": "filetype dGV4dC9wbGFpbg==", // text/plain
	}, nil)
	resp.Body.Close()
	loc := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusCreated || loc == "" {
		tb.Fatalf("create an upload on %s: %s, Location %q", a, resp.Status, loc)
	}
	path := loc[strings.Index(loc, "/api/v1/uploads/"):]
	half := len(data) / 2
	patch := func(node string, offset int) *http.Response {
		return do("PATCH", node+path, map[string]string{"Content-Type": "application/offset+octet-stream", "Upload-Offset": fmt.Sprint(offset)}, data[offset:][:min(half, len(data)-offset)])
	}
	resp = patch(a, 0)
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		tb.Fatalf("first half through %s: %s", a, resp.Status)
	}
	resp = do("HEAD", b+path, nil, nil)
	resp.Body.Close()
	if got := resp.Header.Get("Upload-Offset"); resp.StatusCode != http.StatusOK || got != fmt.Sprint(half) {
		tb.Fatalf("HEAD through %s: %s, offset %q; want 200 and %d", b, resp.Status, got, half)
	}
	resp = patch(b, half)
	defer resp.Body.Close()
	id := resp.Header.Get("Plaza-Media-Id")
	if resp.StatusCode != http.StatusOK || id == "" {
		tb.Fatalf("second half through %s: %s, Plaza-Media-Id %q", b, resp.Status, id)
	}
	return id
}

// ackTimeline samples the number of acknowledged sends every 20 ms, so
// that the outages can be measured from the senders' side.
type ackTimeline struct {
	mu      sync.Mutex
	at      []time.Time
	acks    []int64
	stopped chan struct{}
}

func sampleAcks(run *killRun, stop <-chan struct{}) *ackTimeline {
	tl := &ackTimeline{stopped: make(chan struct{})}
	go func() {
		defer close(tl.stopped)
		t := time.NewTicker(20 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case now := <-t.C:
				tl.mu.Lock()
				tl.at = append(tl.at, now)
				tl.acks = append(tl.acks, run.acks.Load())
				tl.mu.Unlock()
			}
		}
	}()
	return tl
}

// window returns, for the span [from, from+d), the sends acknowledged and
// the longest stretch without any acknowledgement.
func (tl *ackTimeline) window(from time.Time, d time.Duration) (acked int64, longestStall time.Duration) {
	tl.mu.Lock()
	defer tl.mu.Unlock()
	var first, last int64 = -1, 0
	var lastChange time.Time
	for i, at := range tl.at {
		if at.Before(from) || !at.Before(from.Add(d)) {
			continue
		}
		if first < 0 {
			first, last, lastChange = tl.acks[i], tl.acks[i], at
			continue
		}
		if tl.acks[i] != last {
			longestStall = max(longestStall, at.Sub(lastChange))
			last, lastChange = tl.acks[i], at
		}
	}
	if first < 0 {
		return 0, 0
	}
	return last - first, longestStall
}

// outageFigures summarises the watchers' reconnect times after an event.
func outageFigures(ws map[string]*watcher, from int) (n int, p50, worst time.Duration) {
	var all []time.Duration
	for _, w := range ws {
		if len(w.outages) > from {
			all = append(all, w.outages[from:]...)
		}
	}
	if len(all) == 0 {
		return 0, 0, 0
	}
	slices.Sort(all)
	return len(all), all[len(all)/2], all[len(all)-1]
}

func TestClusterBehindLoadBalancer(t *testing.T) {
	if os.Getenv(clusterEnv) != "1" {
		t.Skipf("set %s=1 (and %s) to run three nodes behind Caddy with a NATS cluster and SeaweedFS", clusterEnv, sqldbtest.PostgresEnv)
	}
	if os.Getenv(sqldbtest.PostgresEnv) == "" {
		t.Fatalf("%s=1 needs %s", clusterEnv, sqldbtest.PostgresEnv)
	}
	started := time.Now()
	natsProcs, natsURLs := natsCluster(t, 3)
	media, mediaEnv := seaweedS3(t)
	dbURL := sqldbtest.URL(t, sqldb.Postgres)
	keyFile := filepath.Join(t.TempDir(), "secret.key")
	if err := os.WriteFile(keyFile, []byte(randomHex(t, 32)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	prefix := "plazalb" + randomHex(t, 6)
	// Node i is given NATS server i only; it learns the others from the
	// cluster and fails over to them. So NATS server 2 carries node 2.
	nodes := make([]*server, 3)
	var upstreams []string
	for i := range nodes {
		nodes[i] = startProcess(t, mediaEnv, "serve", "--listen", "127.0.0.1:0", "--log-format", "json", "--rate-limits", "off",
			"--data", t.TempDir(), "--db", dbURL, "--bus", natsURLs[i], "--bus-prefix", prefix,
			"--secret-key-file", keyFile, "--media", media, "--trusted-proxies", "127.0.0.1/32",
			"--direct-messages", "anyone", "--verification-policy", "message.send=none,contact.request=none,conversation.create=none")
		upstreams = append(upstreams, strings.TrimPrefix(nodes[i].URL, "http://"))
	}
	front := caddyFront(t, upstreams)
	t.Logf("cluster up in %v: plaza %v, NATS %v, Caddy %s", time.Since(started).Round(time.Millisecond), upstreams, natsURLs, front)

	// Media uploaded through one node is read through the others.
	const npairs = 12
	pairs := make([]convPair, npairs)
	for i := range pairs {
		a := register(t, front, fmt.Sprintf("lba%d", i))
		b := register(t, front, fmt.Sprintf("lbb%d", i))
		pairs[i] = convPair{a: a, b: b, conv: openDirect(t, front, a, b)}
	}
	photo := []byte("a file stored in S3 through node 2\n")
	mediaID := uploadFile(t, nodes[1].URL, pairs[0].a, "notes.txt", photo)
	for _, n := range []*server{nodes[0], nodes[2]} {
		r := call(t, "GET", n.URL+"/api/v1/media/"+mediaID, pairs[0].a.Token, nil)
		if r.status != http.StatusOK || !bytes.Equal(r.body, photo) {
			t.Fatalf("media %s uploaded through node 2, read through %s: status %d, %d bytes; want 200 and the %d bytes", mediaID, n.URL, r.status, len(r.body), len(photo))
		}
	}

	// A resumable upload begun on node 2 is finished on node 3 (its parts
	// are in S3) and read through node 1.
	resumed := bytes.Repeat([]byte("resumable across nodes\n"), 4000)
	resumedID := resumableAcross(t, nodes[1].URL, nodes[2].URL, pairs[0].a, resumed)
	if r := call(t, "GET", nodes[0].URL+"/api/v1/media/"+resumedID, pairs[0].a.Token, nil); r.status != http.StatusOK || !bytes.Equal(r.body, resumed) {
		t.Fatalf("resumable upload %s read through node 1: status %d, %d bytes; want 200 and %d bytes", resumedID, r.status, len(r.body), len(resumed))
	}

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	run := newKillRun(front)
	stop := make(chan struct{})
	timeline := sampleAcks(run, stop)
	tr := startTraffic(t, ctx, run, pairs, 1)
	watchers := tr.watchers
	allConnected := func(what string) {
		waitUntil(t, what, time.Minute, func() error {
			for _, w := range watchers {
				if w.connects.Load() == 0 {
					return fmt.Errorf("%s has not connected", w.u.Handle)
				}
			}
			return nil
		})
	}
	allConnected("every device on its stream")

	// A plaza node dies.
	run.waitAcks(t, ctx, 600)
	killNodeAt := time.Now()
	nodes[0].kill(t)
	t.Logf("plaza node 1 killed with SIGKILL after %d acknowledged sends", run.acks.Load())
	run.waitAcks(t, ctx, 600)

	// A NATS server dies: node 2 moves to another.
	reconnects := func() int { return strings.Count(nodes[1].logs(), "bus: reconnected to NATS") }
	before := reconnects()
	killNATSAt := time.Now()
	natsProcs[1].kill()
	t.Logf("NATS server 2 killed with SIGKILL after %d acknowledged sends", run.acks.Load())
	waitUntil(t, "node 2 to reconnect to the bus", time.Minute, func() error {
		if reconnects() == before {
			return errors.New("not yet")
		}
		return nil
	})
	busBack := busOutage(t, nodes[1])
	if !strings.Contains(nodes[1].logs(), "bus: disconnected from NATS") {
		t.Errorf("node 2 did not log its disconnection from NATS server 2")
	}
	// Its streams caught up from the database for what the bus lost.
	waitUntil(t, "node 2's streams to resync", 30*time.Second, func() error {
		r := call(t, "GET", nodes[1].URL+"/metrics", "", nil)
		for line := range strings.Lines(string(r.body)) {
			if v, ok := strings.CutPrefix(line, "plaza_realtime_resyncs_total "); ok && strings.TrimSpace(v) != "0" {
				return nil
			}
		}
		return errors.New("plaza_realtime_resyncs_total is still 0")
	})
	run.waitAcks(t, ctx, 600)
	stoppedAt := time.Now()
	close(stop)
	<-timeline.stopped
	tr.stopSending(t, ctx)

	// Every device reaches its account's head: nothing lost; the
	// watchers' own checks fail on a gap or a repeat.
	check := nodes[2].URL
	connects := tr.drain(t, ctx, check)
	want, total := tr.want()
	for _, pr := range pairs {
		hist := history(t, check, pr.a.Token, pr.conv)
		checkHistory(t, pr.conv, hist, want[pr.conv])
		byID := make(map[string]messageJSON, len(hist))
		for _, m := range hist {
			byID[m.ID] = m
		}
		for _, u := range []user{pr.a, pr.b} {
			checkLog(t, "live stream of "+u.Handle+" through Caddy", watchers[u.ID].frames, 0, byID)
		}
	}

	// Media written before the kills is still read through the
	// survivors, and an upload through node 3 is read through node 2.
	later := []byte("uploaded after the kills through node 3\n")
	laterID := uploadFile(t, nodes[2].URL, pairs[1].a, "later.txt", later)
	for _, c := range []struct {
		id   string
		u    user
		data []byte
		via  *server
	}{{mediaID, pairs[0].a, photo, nodes[2]}, {laterID, pairs[1].a, later, nodes[1]}} {
		r := call(t, "GET", c.via.URL+"/api/v1/media/"+c.id, c.u.Token, nil)
		if r.status != http.StatusOK || !bytes.Equal(r.body, c.data) {
			t.Errorf("media %s through %s after the kills: status %d, %d bytes", c.id, c.via.URL, r.status, len(r.body))
		}
	}

	nodeN, nodeP50, nodeMax := outageFigures(watchers, 0)
	// Rates over the 5 s after each death, or until the senders stopped
	// if that came sooner.
	rate := func(from time.Time, d time.Duration) (float64, time.Duration) {
		d = min(d, stoppedAt.Sub(from))
		n, stall := timeline.window(from, d)
		return float64(n) / d.Seconds(), stall
	}
	nodeRate, nodeStall := rate(killNodeAt, 5*time.Second)
	natsRate, natsStall := rate(killNATSAt, 5*time.Second)
	t.Logf("figures: %d devices, %d senders, %d messages acknowledged in %v, every one delivered once and in order; "+
		"node kill: %d streams reconnected through Caddy (p50 %v, max %v), %.0f sends/s acknowledged after it (longest pause %v), %d sends retried for an unknown outcome (%d answered 5xx by the proxy or a dying node); "+
		"NATS kill: node 2 back on the bus %v after it lost it (its log), %.0f sends/s acknowledged after it (longest pause %v); %d stream connections in all; whole test %v",
		len(watchers), 2*npairs, total, time.Since(started).Round(time.Millisecond),
		nodeN, nodeP50.Round(time.Millisecond), nodeMax.Round(time.Millisecond), nodeRate, nodeStall.Round(time.Millisecond), run.unknown.Load(), run.serverErrors.Load(),
		busBack.Round(100*time.Microsecond), natsRate, natsStall.Round(time.Millisecond), connects, time.Since(started).Round(time.Millisecond))
}

package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
)

const healthcheckUsage = `Usage: plaza healthcheck [--listen ADDR [--path PATH] | --url URL] [--timeout D]

Asks a running server one of its health endpoints and exits 0 when it
answers 200, 1 otherwise. For container health checks in images without a
shell or curl.

--path picks the endpoint: /readyz (the default) fails while the server
drains or cannot reach its database or storage, which is what a load
balancer wants to know; /livez fails only when the process no longer
serves HTTP, which is what a runtime that replaces unhealthy containers
(Docker Swarm, ECS, Nomad) must use, or an outage of the database would
restart every replica.

`

// runHealthcheck asks a server's --path (/readyz by default), on the
// server the same --listen (or PLAZA_LISTEN) as serve's names, so a
// container image sets the address once for both. It exits 0 on 200 and 1
// on anything else.
//
// The default stays /readyz so that existing uses as a readiness gate
// (compose's service_healthy, scripts waiting for a server) keep their
// meaning; the image's HEALTHCHECK asks /livez by name.
func runHealthcheck(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	listen := DefaultConfig().Listen
	var target string
	path := "/readyz"
	timeout := 5 * time.Second
	fs := flag.NewFlagSet("plaza healthcheck", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, healthcheckUsage); fs.PrintDefaults() }
	fs.StringVar(&listen, "listen", listen, "the server's listen `address` (host:port), as given to plaza serve")
	fs.StringVar(&path, "path", path, "the endpoint `path` to ask at --listen: /readyz (ready for traffic) or /livez (the process serves; for checks that restart containers)")
	fs.StringVar(&target, "url", "", "full `URL` to check instead of --listen and --path")
	fs.DurationVar(&timeout, "timeout", timeout, "give up after this `duration`")
	if err := parse(fs, args); err != nil {
		return usageError("%w", err)
	}
	if fs.NArg() > 0 {
		return usageError("plaza healthcheck takes no arguments, got %q", fs.Args())
	}
	if timeout <= 0 {
		return usageError("--timeout must be positive")
	}
	if given(fs, "path") && target != "" {
		return usageError("--path and --url exclude each other: the URL holds the path")
	}
	if !strings.HasPrefix(path, "/") || strings.ContainsAny(path, "?# ") {
		return usageError("--path must be a path such as /livez, not %q", path)
	}
	if target == "" {
		u, err := checkURL(listen, path)
		if err != nil {
			return usageError("--listen: %w", err)
		}
		target = u
	} else if u, err := url.Parse(target); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return usageError("--url must be an http:// or https:// URL, not %q", target)
	}

	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	status, body, err := probe(ctx, target)
	if err != nil {
		return &exitError{code: 1, err: fmt.Errorf("healthcheck %s: %w", target, err)}
	}
	if status != http.StatusOK {
		return &exitError{code: 1, err: fmt.Errorf("healthcheck %s: %d %s", target, status, body)}
	}
	fmt.Fprintf(stdout, "%s: %d %s\n", target, status, body)
	return nil
}

// checkURL turns a listen address and a path into the URL to check. A
// wildcard host (":8080", "0.0.0.0:8080", "[::]:8080") is reached on the
// loopback address of its family, since that is where a check inside the
// same container or host can find it.
func checkURL(listen, path string) (string, error) {
	host, port, err := net.SplitHostPort(listen)
	if err != nil {
		return "", err
	}
	if port == "" || port == "0" {
		return "", fmt.Errorf("%q has no fixed port to check", listen)
	}
	switch host {
	case "", "0.0.0.0":
		host = "127.0.0.1"
	case "::":
		host = "::1"
	}
	return "http://" + net.JoinHostPort(host, port) + path, nil
}

// probe GETs target without a proxy (a proxy from the environment would
// check something other than this server) and returns the status and the
// start of the body, which says why a server is not ready.
func probe(ctx context.Context, target string) (int, string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		return 0, "", err
	}
	client := &http.Client{Transport: &http.Transport{Proxy: nil, DisableKeepAlives: true}}
	resp, err := client.Do(req)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			return 0, "", errors.New("no answer in time")
		}
		// The caller names the URL already; keep only the cause.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return 0, "", err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	return resp.StatusCode, strings.TrimSpace(string(b)), nil
}

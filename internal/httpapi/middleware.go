package httpapi

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"runtime/debug"
	"strings"
	"time"

	"github.com/plaza-im/plaza"
	"github.com/plaza-im/plaza/internal/account"
	"github.com/plaza-im/plaza/internal/bus"
)

// reqInfo travels in the request context from the outer middleware to the
// route adapter and back, so the access log and metrics know the matched
// route and the account.
type reqInfo struct {
	requestID string
	route     string
	accountID plaza.ID
	auth      *account.Auth
}

type infoKey struct{}

func infoOf(r *http.Request) *reqInfo {
	if i, ok := r.Context().Value(infoKey{}).(*reqInfo); ok {
		return i
	}
	return &reqInfo{}
}

// statusWriter records the status code for logs and metrics.
type statusWriter struct {
	http.ResponseWriter
	status int
	wrote  bool
}

func (w *statusWriter) WriteHeader(code int) {
	if !w.wrote {
		w.status, w.wrote = code, true
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if !w.wrote {
		w.status, w.wrote = http.StatusOK, true
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection (WebSockets,
// flushing).
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// discardWriter swallows the mux's plain-text 404/405 so the API can answer
// in its own error shape.
type discardWriter struct {
	header http.Header
	status int
}

func (w *discardWriter) Header() http.Header         { return w.header }
func (w *discardWriter) Write(b []byte) (int, error) { return len(b), nil }
func (w *discardWriter) WriteHeader(code int)        { w.status = code }

func newRequestID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// maxRequestID bounds an X-Request-Id a proxy in front chooses: long
// enough for a UUID or a trace ID, short enough for logs.
const maxRequestID = 64

// requestID returns the request's X-Request-Id if a trusted proxy sent it
// (--trusted-proxies) and it is sane (1 to 64 of A–Z, a–z, 0–9, '.', '_',
// '-'), so one ID follows a request from the proxy through every node's
// logs; otherwise a new one. A client's own ID is not taken: it could
// reuse one from an incident and muddle the logs that trace it. Anything
// else could forge log lines or bloat them, so it is replaced, not
// cleaned.
func (s *Server) requestID(r *http.Request) string {
	id := r.Header.Get("X-Request-Id")
	if id == "" || len(id) > maxRequestID || !s.fromTrustedProxy(r) {
		return newRequestID()
	}
	for i := 0; i < len(id); i++ {
		switch c := id[i]; {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '.', c == '_', c == '-':
		default:
			return newRequestID()
		}
	}
	return id
}

// outer wraps every request: request ID, security headers, panic recovery,
// JSON answers for unknown routes, the access log and the metrics. The
// request ID is echoed in X-Request-Id and goes in the context
// (bus.WithRequestID), so the events the request causes carry it to the
// other nodes.
func (s *Server) outer(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		info := &reqInfo{requestID: s.requestID(r)}
		ctx := context.WithValue(r.Context(), infoKey{}, info)
		r = r.WithContext(bus.WithRequestID(ctx, info.requestID))
		sw := &statusWriter{ResponseWriter: w}

		h := sw.Header()
		h.Set("X-Request-Id", info.requestID)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'")
		h.Set("Cross-Origin-Resource-Policy", "same-origin")

		defer func() {
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler {
					panic(p)
				}
				s.log.Error("panic", "request_id", info.requestID, "route", info.route, "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
				if !sw.wrote {
					s.writeError(sw, r, fmt.Errorf("panic: %v", p))
				}
			}
			route := info.route
			if route == "" {
				route = "unmatched"
			}
			elapsed := time.Since(start)
			method := knownMethod(r.Method)
			s.metrics.observe(route, method, sw.status, elapsed)
			level := slog.LevelInfo
			if sw.status >= 500 {
				level = slog.LevelError
			}
			attrs := []slog.Attr{
				slog.String("request_id", info.requestID),
				slog.String("method", method),
				slog.String("route", route),
				slog.Int("status", sw.status),
				slog.Float64("duration_ms", float64(elapsed.Microseconds())/1000),
				slog.String("ip", s.clientIP(r).String()),
			}
			if info.accountID != 0 {
				attrs = append(attrs, slog.String("account_id", info.accountID.String()))
			}
			s.log.LogAttrs(r.Context(), level, "request", attrs...)
		}()

		if _, pattern := s.mux.Handler(r); pattern == "" {
			if s.ui != nil && (r.Method == http.MethodGet || r.Method == http.MethodHead) && isUIPath(r.URL.Path) {
				info.route = "ui"
				h.Del("Content-Security-Policy") // the app needs its own
				s.ui.ServeHTTP(sw, r)
				return
			}
			d := &discardWriter{header: make(http.Header)}
			next.ServeHTTP(d, r)
			if d.status == http.StatusMethodNotAllowed {
				sw.Header().Set("Allow", d.header.Get("Allow"))
				s.writeError(sw, r, plaza.Errorf(eMethodNotAllowed, "%s is not allowed here; allowed: %s", r.Method, d.header.Get("Allow")))
				return
			}
			s.writeError(sw, r, plaza.Errorf(plaza.ENotFound, "no such endpoint: %s %s", r.Method, r.URL.Path))
			return
		}
		next.ServeHTTP(sw, r)
	})
}

// isUIPath reports whether a path that no API route matched belongs to
// the web client: everything except the API's namespace and the
// operational endpoints, which keep their JSON 404 and 405 answers. The
// UI is not an API route, so it is not in routes.go or the OpenAPI
// document.
func isUIPath(p string) bool {
	for _, reserved := range []string{"/api", "/healthz", "/metrics"} {
		if p == reserved || strings.HasPrefix(p, reserved+"/") {
			return false
		}
	}
	return true
}

// clientIP returns the caller's address: the connection's peer, or, when
// the peer is a trusted proxy, the last address in X-Forwarded-For that is
// not itself a trusted proxy.
func (s *Server) clientIP(r *http.Request) netip.Addr {
	peer, ok := peerAddr(r)
	if !ok {
		return netip.Addr{}
	}
	if !s.trusted(peer) {
		return peer
	}
	hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		a, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			break
		}
		a = a.Unmap()
		if !s.trusted(a) {
			return a
		}
		peer = a
	}
	return peer
}

// peerAddr returns the address of the connection's peer.
func peerAddr(r *http.Request) (netip.Addr, bool) {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	peer, err := netip.ParseAddr(host)
	return peer.Unmap(), err == nil
}

// fromTrustedProxy reports whether the connection's peer is a trusted
// proxy.
func (s *Server) fromTrustedProxy(r *http.Request) bool {
	peer, ok := peerAddr(r)
	return ok && s.trusted(peer)
}

func (s *Server) trusted(a netip.Addr) bool {
	for _, p := range s.cfg.TrustedProxies {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// bearerToken returns the token of an "Authorization: Bearer" header.
func bearerToken(r *http.Request) (string, bool) {
	h := r.Header.Get("Authorization")
	scheme, tok, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	tok = strings.TrimSpace(tok)
	return tok, tok != ""
}

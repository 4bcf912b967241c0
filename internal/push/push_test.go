package push

import (
	"context"
	"crypto/ecdh"
	"crypto/rand"
	"encoding/base64"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/plaza-im/plaza"
	"github.com/plaza-im/plaza/internal/account"
	"github.com/plaza-im/plaza/internal/plazatest"
	"github.com/plaza-im/plaza/internal/sqldb"
	"github.com/plaza-im/plaza/internal/sqldb/sqldbtest"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// newTestService returns a service on db (a node); it is closed when the
// test ends. Its workers are not started: tests drive it directly.
func newTestService(tb testing.TB, db *sqldb.DB, cfg Config) *Service {
	tb.Helper()
	s, err := NewService(context.Background(), db, cfg, quiet)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(s.Close)
	return s
}

func TestNodesAgreeOnVAPIDKey(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		// Nodes starting together: each generates a pair, one is stored,
		// all use it.
		const nodes = 4
		keys := make([]string, nodes)
		var wg sync.WaitGroup
		for i := range nodes {
			wg.Go(func() {
				s, err := NewService(context.Background(), db, DefaultConfig(), quiet)
				if err != nil {
					t.Error(err)
					return
				}
				keys[i] = s.PublicKey()
				s.Close()
			})
		}
		wg.Wait()
		later := newTestService(t, db, DefaultConfig())
		for i, k := range keys {
			if k != later.PublicKey() {
				t.Errorf("node %d uses key %q, a later node %q: want one key for the cluster", i, k, later.PublicKey())
			}
		}
		raw, err := base64.RawURLEncoding.DecodeString(later.PublicKey())
		if err != nil || len(raw) != 65 || raw[0] != 4 {
			t.Fatalf("public key %q: want base64url of an uncompressed P-256 point", later.PublicKey())
		}
		if _, err := ecdh.P256().NewPublicKey(raw); err != nil {
			t.Errorf("public key is not on the curve: %v", err)
		}
		if strings.Contains(later.keys.String(), later.keys.privateB64) {
			t.Error("the keys' String shows the private key")
		}
	})
}

// signedIn registers handle and returns its account and session.
func signedIn(tb testing.TB, accounts *account.Service, handle string) (plaza.ID, plaza.ID) {
	tb.Helper()
	ctx := context.Background()
	a, token, err := accounts.Register(ctx, account.Registration{Handle: handle, Password: "password-" + handle, DisplayName: handle,
		BirthDate: "1990-01-01", AcceptedTermsVersion: 1})
	if err != nil {
		tb.Fatal(err)
	}
	auth, err := accounts.Authenticate(ctx, token)
	if err != nil {
		tb.Fatal(err)
	}
	return a.ID, auth.SessionID
}

func subscription(tb testing.TB) SubscriptionInput {
	tb.Helper()
	priv, err := ecdh.P256().GenerateKey(rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	auth := make([]byte, 16)
	_, _ = rand.Read(auth)
	return SubscriptionInput{Endpoint: "https://fcm.googleapis.com/fcm/send/" + rand.Text(),
		P256dh: base64.RawURLEncoding.EncodeToString(priv.PublicKey().Bytes()), Auth: base64.RawURLEncoding.EncodeToString(auth)}
}

// targets returns the accounts among want that s would push to now.
func targets(tb testing.TB, s *Service, want ...plaza.ID) []plaza.ID {
	tb.Helper()
	got, err := s.offlineTargets(context.Background(), want)
	if err != nil {
		tb.Fatal(err)
	}
	var out []plaza.ID
	for _, a := range want {
		if len(got[a]) > 0 {
			out = append(out, a)
		}
	}
	return out
}

func TestPresenceAcrossNodes(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		accounts := account.NewService(db, account.Config{Password: account.PasswordParams{MemoryKiB: 64, Time: 1, Threads: 1}, MinAge: 14})
		if err := accounts.SeedTerms(ctx); err != nil {
			t.Fatal(err)
		}
		cfg := DefaultConfig()
		cfg.Lease = time.Hour
		a, b := newTestService(t, db, cfg), newTestService(t, db, cfg)
		ann, annSession := signedIn(t, accounts, "annie")
		bo, boSession := signedIn(t, accounts, "bobby")
		for _, s := range []struct{ account, session plaza.ID }{{ann, annSession}, {bo, boSession}} {
			if _, _, err := b.Subscribe(ctx, s.account, s.session, subscription(t)); err != nil {
				t.Fatal(err)
			}
		}
		if got := targets(t, b, ann, bo); !cmp.Equal(got, []plaza.ID{ann, bo}) {
			t.Fatalf("with nobody connected, targets %v; want both", got)
		}

		// Ann connects to node a: node b no longer pushes to her.
		a.Presence(ann, true)
		if err := a.FlushPresence(ctx); err != nil {
			t.Fatal(err)
		}
		if got := targets(t, b, ann, bo); !cmp.Equal(got, []plaza.ID{bo}) {
			t.Fatalf("with ann connected to the other node, targets %v; want bo alone", got)
		}

		// Node a judges its own devices by its memory, not by its rows,
		// which trail it by up to a flush. Ann has just left and her row
		// is still there: node a pushes to her at once, node b (which
		// has only the row) once the row is gone.
		a.Presence(ann, false)
		if got := targets(t, a, ann, bo); !cmp.Equal(got, []plaza.ID{ann, bo}) {
			t.Fatalf("on the node ann has just left, targets %v; want both", got)
		}
		if got := targets(t, b, ann, bo); !cmp.Equal(got, []plaza.ID{bo}) {
			t.Fatalf("on the other node before the flush, targets %v; want bo alone", got)
		}
		a.Presence(ann, true)

		// Node a stops renewing (it crashed): once its lease has run out,
		// ann counts as offline again.
		expire := func(node plaza.ID, ago time.Duration) {
			t.Helper()
			if _, err := db.Write().ExecContext(ctx, `UPDATE push_nodes SET lease_until = $1 WHERE node_id = $2`, time.Now().Add(-ago).UnixMicro(), node); err != nil {
				t.Fatal(err)
			}
		}
		expire(a.pres.node, time.Second)
		if got := targets(t, b, ann, bo); !cmp.Equal(got, []plaza.ID{ann, bo}) {
			t.Fatalf("after node a's lease ran out, targets %v; want both", got)
		}
		// It comes back and renews: ann is present again.
		if err := a.pres.renew(ctx); err != nil {
			t.Fatal(err)
		}
		if got := targets(t, b, ann, bo); !cmp.Equal(got, []plaza.ID{bo}) {
			t.Fatalf("after node a renewed, targets %v; want bo alone", got)
		}

		// Long dead, node a is swept by another node's renewal; when it
		// renews again it registers anew and rewrites its presence.
		expire(a.pres.node, sweepAfter+time.Minute)
		if err := b.pres.renew(ctx); err != nil {
			t.Fatal(err)
		}
		var n int
		if err := db.Read().QueryRowContext(ctx, `SELECT COUNT(*) FROM push_presence WHERE node_id = $1`, a.pres.node).Scan(&n); err != nil || n != 0 {
			t.Fatalf("after the sweep node a has %d presence rows (err %v), want 0", n, err)
		}
		if err := a.pres.renew(ctx); err != nil {
			t.Fatal(err)
		}
		if got := targets(t, b, ann, bo); !cmp.Equal(got, []plaza.ID{bo}) {
			t.Fatalf("after node a registered again, targets %v; want bo alone", got)
		}

		// Ann's last device leaves node a.
		a.Presence(ann, false)
		if err := a.FlushPresence(ctx); err != nil {
			t.Fatal(err)
		}
		if got := targets(t, b, ann, bo); !cmp.Equal(got, []plaza.ID{ann, bo}) {
			t.Fatalf("after ann left, targets %v; want both", got)
		}

		// A node that shuts down takes its presence with it.
		a.Presence(bo, true)
		if err := a.FlushPresence(ctx); err != nil {
			t.Fatal(err)
		}
		a.Close()
		if got := targets(t, b, ann, bo); !cmp.Equal(got, []plaza.ID{ann, bo}) {
			t.Fatalf("after node a closed, targets %v; want both", got)
		}
	})
}

func TestMentions(t *testing.T) {
	for _, tc := range []struct {
		text, handle string
		want         bool
	}{
		{"@bob hi", "bob", true},
		{"hi @Bob!", "bob", true},
		{"hi @bob, and @bobby", "bob", true},
		{"@bobby only", "bob", false},
		{"write to x@bob.example", "bob", false},
		{"mail@bob", "bob", false},
		{"你好@bob。", "bob", true},
		{"hi @bob.", "bob", true},
		{"你好 @bob。", "bob", true},
		{"bob", "bob", false},
		{"@bob_2 there", "bob", false},
		{"no one", "", false},
	} {
		if got := mentions(tc.text, tc.handle); got != tc.want {
			t.Errorf("mentions(%q, %q) = %v, want %v", tc.text, tc.handle, got, tc.want)
		}
	}
}

func TestCheckEndpoint(t *testing.T) {
	strict := &Service{cfg: Config{}}
	loose := &Service{cfg: Config{AllowLoopback: true}}
	for _, tc := range []struct {
		endpoint      string
		strict, loose bool // accepted
	}{
		{"https://fcm.googleapis.com/fcm/send/abc", true, true},
		{"https://push.example.com:8443/x?y=1", true, true},
		{"http://push.example.com/x", false, false},
		{"https://127.0.0.1/x", false, true},
		{"http://127.0.0.1:9999/x", false, true},
		{"http://localhost/x", false, true},
		{"http://[::1]/x", false, true},
		{"https://10.1.2.3/x", false, false},
		{"https://192.168.0.1/x", false, false},
		{"https://169.254.169.254/latest", false, false},
		{"https://0.0.0.0/x", false, false},
		{"https://user:pw@push.example.com/x", false, false},
		{"ftp://push.example.com/x", false, false},
		{"push.example.com/x", false, false},
		{"https://push.example.com/x#frag", false, false},
		{"", false, false},
		{"https://push.example.com/" + strings.Repeat("a", 2048), false, false},
	} {
		if got := strict.checkEndpoint(tc.endpoint) == ""; got != tc.strict {
			t.Errorf("strict: %q accepted %v, want %v", tc.endpoint, got, tc.strict)
		}
		if got := loose.checkEndpoint(tc.endpoint) == ""; got != tc.loose {
			t.Errorf("with loopback allowed: %q accepted %v, want %v", tc.endpoint, got, tc.loose)
		}
	}
}

// TestCheckEndpointKnownServices: by default an endpoint must be on a
// browser vendor's push service; loopback (for tests) is apart.
func TestCheckEndpointKnownServices(t *testing.T) {
	s := &Service{cfg: Config{Services: DefaultServices, AllowLoopback: true}}
	for endpoint, want := range map[string]bool{
		"https://fcm.googleapis.com/fcm/send/abc":            true,
		"https://updates.push.services.mozilla.com/wpush/v2": true,
		"https://wns2-by3p.notify.windows.com/w/?token=x":    true,
		"https://web.push.apple.com/QGuQyavX":                true,
		"https://FCM.GoogleAPIs.com./fcm/send/abc":           true,
		"https://push.example.com/x":                         false,
		"https://evilgoogleapis.com/x":                       false,
		"https://googleapis.com.evil.example/x":              false,
		"http://127.0.0.1:9999/x":                            true,
	} {
		if got := s.checkEndpoint(endpoint) == ""; got != want {
			t.Errorf("%q accepted %v, want %v (%s)", endpoint, got, want, s.checkEndpoint(endpoint))
		}
	}
}

func TestClientRefusesInternalAddresses(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(201) }))
	defer srv.Close()
	cfg := DefaultConfig()
	res, err := newClient(cfg).Post(srv.URL, "application/octet-stream", nil)
	if err == nil {
		res.Body.Close()
		t.Fatal("the push client connected to a loopback address, want it refused")
	}
	cfg.AllowLoopback = true
	res, err = newClient(cfg).Post(srv.URL, "application/octet-stream", nil)
	if err != nil {
		t.Fatalf("with loopback allowed: %v", err)
	}
	res.Body.Close()
}

func TestSubscribeMovesAndCaps(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		accounts := account.NewService(db, account.Config{Password: account.PasswordParams{MemoryKiB: 64, Time: 1, Threads: 1}, MinAge: 14})
		if err := accounts.SeedTerms(ctx); err != nil {
			t.Fatal(err)
		}
		s := newTestService(t, db, DefaultConfig())
		ann, annSession := signedIn(t, accounts, "annie")
		bo, boSession := signedIn(t, accounts, "bobby")
		in := subscription(t)
		first, created, err := s.Subscribe(ctx, ann, annSession, in)
		if err != nil || !created {
			t.Fatalf("subscribe: created %v, err %v", created, err)
		}
		moved, created, err := s.Subscribe(ctx, bo, boSession, in)
		if err != nil || created || moved.ID == first.ID {
			t.Fatalf("subscribing ann's endpoint as bo: %+v created %v err %v; want it moved under a new id", moved, created, err)
		}
		if err := s.Unsubscribe(ctx, ann, moved.ID); plaza.ErrorCode(err) != plaza.ENotFound {
			t.Errorf("ann deleting bo's subscription: %v, want not_found", err)
		}
		plazatest.WantInvalid(t, func() error {
			_, _, err := s.Subscribe(ctx, ann, annSession, SubscriptionInput{Endpoint: in.Endpoint, P256dh: in.Auth, Auth: in.P256dh})
			return err
		}(), "keys.p256dh", "keys.auth")
	})
}

package bus_test

import (
	"context"
	"fmt"
	"net"
	"os/exec"
	"path/filepath"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/plaza-im/plaza/internal/bus"
)

// natsServer runs a private nats-server on a free loopback port, so a
// test may stop and restart it; it skips without the binary.
type natsServer struct {
	tb   testing.TB
	bin  string
	port int
	dir  string
	cmd  *exec.Cmd
}

func startNATSServer(tb testing.TB) *natsServer {
	tb.Helper()
	bin, err := exec.LookPath("nats-server")
	if err != nil {
		if bin, err = exec.LookPath("/usr/sbin/nats-server"); err != nil {
			tb.Skip("needs the nats-server binary (Debian package nats-server)")
		}
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	s := &natsServer{tb: tb, bin: bin, port: port, dir: tb.TempDir()}
	s.start()
	tb.Cleanup(s.stop)
	return s
}

func (s *natsServer) url() string { return fmt.Sprintf("nats://127.0.0.1:%d", s.port) }

func (s *natsServer) start() {
	s.tb.Helper()
	s.cmd = exec.Command(s.bin, "-a", "127.0.0.1", "-p", fmt.Sprint(s.port), "-l", filepath.Join(s.dir, "nats.log"))
	if err := s.cmd.Start(); err != nil {
		s.tb.Fatal(err)
	}
	deadline := time.Now().Add(waitTimeout)
	for {
		c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", s.port))
		if err == nil {
			c.Close()
			return
		}
		if time.Now().After(deadline) {
			s.tb.Fatalf("nats-server did not start: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// stop kills the server at once, as a crash would.
func (s *natsServer) stop() {
	if s.cmd != nil && s.cmd.Process != nil {
		_ = s.cmd.Process.Kill()
		_ = s.cmd.Wait()
		s.cmd = nil
	}
}

// TestNATSReportsLossOnReconnect: when the server goes away and comes
// back, the bus reports a loss once its subscriptions are in place again,
// so that whoever was fed by them can catch up; they then work as before.
func TestNATSReportsLossOnReconnect(t *testing.T) {
	t.Parallel()
	srv := startNATSServer(t)
	b, err := bus.OpenNATS(srv.url(), uniquePrefix(t), bus.WithLogger(quietLogger()))
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	losses := make(chan struct{}, 4)
	stop := b.OnLoss(func(l bus.Loss) {
		if l == bus.LossReconnect {
			losses <- struct{}{}
		}
	})
	for _, inline := range []bool{false, true} {
		r := newRecorder()
		var opts []bus.SubscribeOption
		if inline {
			opts = append(opts, bus.Inline())
		}
		if _, err := b.Subscribe(fmt.Sprintf("s%v", inline), r.handle, opts...); err != nil {
			t.Fatal(err)
		}
		defer func(r *recorder, subject string) {
			publish(t, b, subject, "after")
			if got := r.wait(t, 1); !slices.Equal(got, []string{"after"}) {
				t.Errorf("%s after the reconnect got %q", subject, got)
			}
		}(r, fmt.Sprintf("s%v", inline))
	}

	srv.stop()
	select {
	case <-losses:
		t.Fatal("a loss was reported before the bus was back")
	case <-time.After(100 * time.Millisecond):
	}
	srv.start()
	select {
	case <-losses:
	case <-time.After(waitTimeout):
		t.Fatal("no loss reported after the reconnect")
	}

	// Unregistered, a handler hears of no more losses.
	stop()
	var after atomic.Int64
	b.OnLoss(func(bus.Loss) { after.Add(1) })
	srv.stop()
	srv.start()
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	for after.Load() == 0 && ctx.Err() == nil {
		time.Sleep(10 * time.Millisecond)
	}
	if after.Load() == 0 {
		t.Fatal("the second handler heard of no loss")
	}
	if len(losses) != 0 {
		t.Errorf("the unregistered handler was called %d more times", len(losses))
	}
}

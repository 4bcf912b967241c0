package httpapi

import (
	"context"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/plaza-im/plaza/internal/bus"
)

// lossyBus drops the next `drop` publishes on subjects with a prefix.
type lossyBus struct {
	bus.Bus
	prefix string
	drop   atomic.Int64
}

func (l *lossyBus) Publish(ctx context.Context, subject string, data []byte) error {
	if strings.HasPrefix(subject, l.prefix) && l.drop.Add(-1) >= 0 {
		return nil
	}
	return l.Bus.Publish(ctx, subject, data)
}

// TestStreamFillsGapsFromTheSyncLog loses a live event on the bus: the
// device notices the gap at the next event and fills it from the database,
// so it still sees every message, in order.
func TestStreamFillsGapsFromTheSyncLog(t *testing.T) {
	lossy := &lossyBus{}
	e := newEnv(t, func(c *envConfig) {
		c.wrapBus = func(b bus.Bus) bus.Bus { lossy.Bus = b; return lossy }
	})
	alice, bob := e.verified("alice"), e.verified("bob")
	e.befriend(alice, bob)
	conv := e.direct(alice, bob)
	dev := e.dial(bob, "")
	dev.until("ready")

	lossy.prefix = "acct." + bob.id.String()
	lossy.drop.Store(1)
	m1 := e.send(alice, conv, "m1", "lost on the bus").want(t, 201, "")
	m2 := e.send(alice, conv, "m2", "arrives").want(t, 201, "")

	var got []string
	var cursors []int
	for len(got) < 2 {
		f := dev.until("message.created")
		got = append(got, f["data"].(map[string]any)["id"].(string))
		n, _ := strconv.Atoi(f["cursor"].(string))
		cursors = append(cursors, n)
	}
	if got[0] != m1.body["id"] || got[1] != m2.body["id"] {
		t.Errorf("device got %v, want %v then %v", got, m1.body["id"], m2.body["id"])
	}
	if cursors[1] != cursors[0]+1 {
		t.Errorf("cursors %v are not consecutive", cursors)
	}
}

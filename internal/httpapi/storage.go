package httpapi

import (
	"sync/atomic"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// storageHealth tracks whether the server can write: a write that hit a
// full disk marks it full for a while, and the free space of the data
// directory is checked against a threshold when /healthz or /metrics
// asks. Either condition makes /healthz answer 503, so a load balancer
// or an operator's alert sees what clients see as 507s.
type storageHealth struct {
	dir     string // "" skips the free-space check
	minFree int64
	// lastFull is when a write last hit a full disk (Unix nanoseconds).
	lastFull atomic.Int64
	now      func() time.Time
}

// storageFullFor is how long one failed write keeps the storage reported
// full; a later successful check of the free space does not clear it
// sooner, since the database may be full while the file system is not.
const storageFullFor = time.Minute

func newStorageHealth(dir string, minFree int64, reg prometheus.Registerer) *storageHealth {
	h := &storageHealth{dir: dir, minFree: minFree, now: time.Now}
	reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "plaza_storage_full",
		Help: "1 when writes recently failed for lack of space or the data directory has less free space than --min-free-bytes, else 0.",
	}, func() float64 {
		if full, _ := h.full(); full {
			return 1
		}
		return 0
	}))
	if dir != "" {
		reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "plaza_storage_free_bytes",
			Help: "Free bytes on the file system of the data directory, for unprivileged users.",
		}, func() float64 {
			n, _ := freeBytes(h.dir)
			return float64(n)
		}))
	}
	return h
}

// markFull records that a write failed for lack of space.
func (h *storageHealth) markFull() { h.lastFull.Store(h.now().UnixNano()) }

// full reports whether storage is full, and why.
func (h *storageHealth) full() (bool, string) {
	if t := h.lastFull.Load(); t != 0 && h.now().Sub(time.Unix(0, t)) < storageFullFor {
		return true, "storage full: writes are failing for lack of space"
	}
	if h.dir != "" && h.minFree > 0 {
		if n, err := freeBytes(h.dir); err == nil && n < h.minFree {
			return true, "storage almost full: the data directory has less free space than --min-free-bytes"
		}
	}
	return false, ""
}

// freeBytes returns the space available to unprivileged users on dir's
// file system.
func freeBytes(dir string) (int64, error) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		return 0, err
	}
	return int64(st.Bavail) * int64(st.Bsize), nil
}

package bench

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"golang.org/x/exp/trace"
)

// A Role picks a goroutine out of a runtime trace by a function its
// stacks show, such as the loop it runs.
type Role struct {
	Name string // what the report calls it: "writer"
	Func string // a function on its stack: "…/internal/chat.(*writer).run"
}

// SQLiteCalls names the system calls a report tells apart, by a function
// on the stack that makes them: SQLite's sync to disk and its writes of
// pages (modernc.org/sqlite's unix VFS).
var SQLiteCalls = []Role{
	{Name: "sync", Func: "modernc.org/sqlite/lib._full_fsync"},
	{Name: "write", Func: "modernc.org/sqlite/lib._seekAndWriteFd"},
}

// GoTime is how one goroutine spent the traced time.
type GoTime struct {
	Role string `json:"role"`
	// Observed is the time the trace shows the goroutine in some state,
	// from its first event (or its creation) to the trace's end (or its
	// exit); the four states add up to it.
	Observed time.Duration `json:"observed_ns"`
	Running  time.Duration `json:"running_ns"`
	Syscall  time.Duration `json:"syscall_ns"` // in system calls, blocked or not
	Runnable time.Duration `json:"runnable_ns"`
	// Waiting is idle time: blocked on a channel, a lock, the network.
	Waiting time.Duration `json:"waiting_ns"`
	// Calls are the system calls of each kind asked for: how many and
	// how long each took, from entering the call to returning from it
	// (waiting for a P afterwards is Runnable). A call under way when the
	// trace started or ended is in Syscall but not here.
	Calls map[string]*Calls `json:"calls,omitempty"`
}

// Calls are the durations of one kind of system call.
type Calls struct {
	N     int           `json:"n"`
	Total time.Duration `json:"total_ns"`
	Dist  Percentiles   `json:"latency"`
	durs  []time.Duration
}

// Share is d as a share of the observed time.
func (g *GoTime) Share(d time.Duration) float64 {
	if g.Observed <= 0 {
		return 0
	}
	return float64(d) / float64(g.Observed)
}

// goState is what the analysis keeps per goroutine while it reads.
type goState struct {
	t       GoTime
	state   trace.GoState
	since   trace.Time
	known   bool
	call    string // the kind of the system call it is in, if one asked for
	callAt  trace.Time
	checked int // stacks looked at for a role
}

// AnalyzeTrace reads a runtime trace (as /debug/pprof/trace serves it)
// and returns how the goroutine of each role spent it, telling apart the
// system calls of kinds, and the time the trace spans. A role's goroutine
// is the first whose own stack shows the role's function; a role no
// goroutine showed is left out.
func AnalyzeTrace(r io.Reader, roles, kinds []Role) (map[string]*GoTime, time.Duration, error) {
	tr, err := trace.NewReader(r)
	if err != nil {
		return nil, 0, fmt.Errorf("read trace: %w", err)
	}
	gs := make(map[trace.GoID]*goState)
	found := make(map[string]trace.GoID)
	var first, last trace.Time
	seen := false
	for {
		ev, err := tr.ReadEvent()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, 0, fmt.Errorf("read trace: %w", err)
		}
		now := ev.Time()
		if !seen {
			first, seen = now, true
		}
		last = now
		if ev.Kind() != trace.EventStateTransition {
			continue
		}
		st := ev.StateTransition()
		if st.Resource.Kind != trace.ResourceGoroutine {
			continue
		}
		id := st.Resource.Goroutine()
		from, to := st.Goroutine()
		g := gs[id]
		if g == nil {
			g = &goState{}
			gs[id] = g
		}
		g.account(now)
		g.state, g.since, g.known = to, now, true
		if from == to {
			// The runtime states every goroutine's state again at each
			// of the trace's generations (about every second): nothing
			// changed, and a call under way goes on.
			continue
		}
		if from == trace.GoSyscall && g.call != "" {
			c := g.t.Calls[g.call]
			if c == nil {
				c = &Calls{}
				if g.t.Calls == nil {
					g.t.Calls = make(map[string]*Calls)
				}
				g.t.Calls[g.call] = c
			}
			d := now.Sub(g.callAt)
			c.N++
			c.Total += d
			c.durs = append(c.durs, d)
		}
		g.call = ""
		// The transition's own stack: the goroutine's where it made the
		// transition itself, its start where it was created, none where
		// another goroutine woke it (the event's stack is that other's).
		stack := st.Stack
		if from == trace.GoRunning && to == trace.GoSyscall {
			g.call, g.callAt = stackHas(stack, kinds), now
		}
		// A goroutine's role shows on the stacks of its own transitions;
		// a few dozen are enough to see it, and looking at every one of
		// every goroutine's would be most of the work.
		if g.t.Role == "" && g.checked < 64 && stack != trace.NoStack {
			g.checked++
			if role := stackHas(stack, roles); role != "" {
				if _, dup := found[role]; !dup {
					g.t.Role = role
					found[role] = id
				}
			}
		}
	}
	out := make(map[string]*GoTime, len(found))
	for role, id := range found {
		g := gs[id]
		if g.state != trace.GoNotExist {
			g.account(last) // up to the trace's end
		}
		for _, c := range g.t.Calls {
			c.Dist = percentiles(c.durs)
			c.durs = nil
		}
		out[role] = &g.t
	}
	return out, last.Sub(first), nil
}

// account adds the time since the goroutine's last transition to the
// state it was in.
func (g *goState) account(now trace.Time) {
	if !g.known {
		return
	}
	d := now.Sub(g.since)
	g.since = now
	switch g.state {
	case trace.GoRunning:
		g.t.Running += d
	case trace.GoSyscall:
		g.t.Syscall += d
	case trace.GoRunnable:
		g.t.Runnable += d
	case trace.GoWaiting:
		g.t.Waiting += d
	default: // not yet created, exited, or not known
		return
	}
	g.t.Observed += d
}

// stackHas returns the name of the first of roles whose function is on
// stack, or "".
func stackHas(stack trace.Stack, roles []Role) string {
	for f := range stack.Frames() {
		for _, r := range roles {
			if strings.HasSuffix(f.Func, r.Func) {
				return r.Name
			}
		}
	}
	return ""
}

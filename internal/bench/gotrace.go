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

// SyscallKinds names the system calls a report tells apart, by a
// function on the stack that makes them: SQLite's sync to disk and its
// writes of log pages (modernc.org/sqlite's unix VFS).
var SyscallKinds = []Role{
	{Name: "sync", Func: "modernc.org/sqlite/lib._full_fsync"},
	{Name: "write", Func: "modernc.org/sqlite/lib._seekAndWriteFd"},
}

// GoTime is how one goroutine spent the traced time.
type GoTime struct {
	Role string `json:"role"`
	// Observed is the time the trace shows the goroutine in some state;
	// the others add up to it.
	Observed time.Duration `json:"observed_ns"`
	Running  time.Duration `json:"running_ns"`
	Syscall  time.Duration `json:"syscall_ns"` // in system calls, blocked or not
	Runnable time.Duration `json:"runnable_ns"`
	// Waiting is idle time: blocked on a channel, a lock, the network.
	Waiting time.Duration `json:"waiting_ns"`
	// Calls are the system calls of each of SyscallKinds: how many and
	// how long each took, from entering the call to returning from it
	// (waiting for a core afterwards is Runnable).
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
	call    string // the kind of the system call it is in, if one of SyscallKinds
	callAt  trace.Time
	checked int // stacks looked at for a role
}

// AnalyzeTrace reads a runtime trace (as /debug/pprof/trace serves it)
// and returns how the goroutine of each role spent it: the first
// goroutine whose stack shows the role's function. A role no goroutine
// showed is left out.
func AnalyzeTrace(r io.Reader, roles []Role) (map[string]*GoTime, error) {
	tr, err := trace.NewReader(r)
	if err != nil {
		return nil, fmt.Errorf("read trace: %w", err)
	}
	gs := make(map[trace.GoID]*goState)
	found := make(map[string]trace.GoID)
	for {
		ev, err := tr.ReadEvent()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("read trace: %w", err)
		}
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
		now := ev.Time()
		if g.known {
			d := now.Sub(g.since)
			g.t.Observed += d
			switch g.state {
			case trace.GoRunning:
				g.t.Running += d
			case trace.GoSyscall:
				g.t.Syscall += d
			case trace.GoRunnable:
				g.t.Runnable += d
			case trace.GoWaiting:
				g.t.Waiting += d
			}
		}
		g.state, g.since, g.known = to, now, true
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
			g.call = ""
		}
		// The transition's own stack: the goroutine's where it made the
		// transition itself, its start where it was created, none where
		// another goroutine woke it (the event's stack is that other's).
		stack := st.Stack
		if to == trace.GoSyscall {
			g.call, g.callAt = stackHas(stack, SyscallKinds), now
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
		g := &gs[id].t
		for _, c := range g.Calls {
			c.Dist = percentiles(c.durs)
			c.durs = nil
		}
		out[role] = g
	}
	return out, nil
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

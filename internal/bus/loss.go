package bus

import "sync"

// A LossNotifier tells its subscribers' owners when events may have been
// lost: the connection to the bus dropped and came back (events published
// meanwhile by other nodes never arrived), or a subscriber fell behind and
// events were dropped. Whoever keeps state fed by events (the stream hub,
// which writes them to devices) then catches up from the database, which
// holds every event the bus carried.
//
// Both buses implement it; code that takes a Bus checks for it with a type
// assertion, so a Bus wrapper without it only loses the early catch-up.
type LossNotifier interface {
	// OnLoss registers fn, called after each loss with its kind; stop
	// unregisters it. fn runs on the bus's own goroutine and must not
	// block.
	OnLoss(fn func(Loss)) (stop func())
}

// Loss says how events may have been lost.
type Loss int

const (
	// LossReconnect: this node's connection to the bus dropped and is
	// back. Events other nodes published meanwhile did not reach it, and
	// events it had written just before the drop may not have reached
	// anyone.
	LossReconnect Loss = iota + 1
	// LossDropped: a subscriber on this node fell behind and events were
	// dropped for it. Reported when the dropping starts and, on the local
	// bus, again when it ends.
	LossDropped
)

func (l Loss) String() string {
	switch l {
	case LossReconnect:
		return "reconnect"
	case LossDropped:
		return "dropped"
	}
	return "unknown"
}

// lossFuncs is the registry behind OnLoss.
type lossFuncs struct {
	mu   sync.Mutex
	next int
	fns  map[int]func(Loss)
}

func (l *lossFuncs) add(fn func(Loss)) (stop func()) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.fns == nil {
		l.fns = map[int]func(Loss){}
	}
	id := l.next
	l.next++
	l.fns[id] = fn
	return func() {
		l.mu.Lock()
		delete(l.fns, id)
		l.mu.Unlock()
	}
}

// notify calls every registered function.
func (l *lossFuncs) notify(kind Loss) {
	l.mu.Lock()
	fns := make([]func(Loss), 0, len(l.fns))
	for _, fn := range l.fns {
		fns = append(fns, fn)
	}
	l.mu.Unlock()
	for _, fn := range fns {
		fn(kind)
	}
}

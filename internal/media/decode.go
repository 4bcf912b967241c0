package media

import (
	"context"
	"sync"

	"golang.org/x/sync/semaphore"

	"github.com/plaza-im/plaza"
)

// decodeGate decides when an image may be decoded, by the memory its
// pixels will take:
//
//   - small images (at most smallMax bytes decoded: stickers, screenshots,
//     chat photos) take one of a few fast-lane slots of their own, so they
//     never wait behind a huge image;
//   - bigger ones wait, first for their account's single big slot (one
//     account cannot hold the big lane with many uploads while others
//     wait), then for their bytes from a shared memory budget, granted in
//     arrival order.
//
// Peak decode memory is then about budget + small slots × smallMax, with
// twice that while pixels are re-encoded.
type decodeGate struct {
	small    chan struct{}
	smallMax int64
	budget   int64
	big      *semaphore.Weighted

	mu   sync.Mutex
	busy map[plaza.ID]chan struct{} // accounts holding a big slot; closed on release
}

// Defaults for the decode gate.
const (
	// DefaultSmallDecodeBytes is the fast lane's bound: a 4-megapixel
	// RGBA or 5-megapixel JPEG image.
	DefaultSmallDecodeBytes = 16 << 20
	// DefaultDecodeMemory is the budget shared by bigger decodes.
	DefaultDecodeMemory = 512 << 20
)

func newDecodeGate(smallSlots int, smallMax, budget int64) *decodeGate {
	return &decodeGate{
		small:    make(chan struct{}, smallSlots),
		smallMax: smallMax,
		budget:   budget,
		big:      semaphore.NewWeighted(budget),
		busy:     map[plaza.ID]chan struct{}{},
	}
}

// acquire waits until owner may decode an image of cost bytes, or ctx
// ends, and returns the function that gives the room back.
func (g *decodeGate) acquire(ctx context.Context, owner plaza.ID, cost int64) (func(), error) {
	if cost <= g.smallMax {
		select {
		case g.small <- struct{}{}:
			return func() { <-g.small }, nil
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	done, err := g.lockOwner(ctx, owner)
	if err != nil {
		return nil, err
	}
	// A single image never needs more than the whole budget (the
	// per-image limit refuses larger ones before this).
	n := min(cost, g.budget)
	if err := g.big.Acquire(ctx, n); err != nil {
		g.unlockOwner(owner, done)
		return nil, err
	}
	return func() {
		g.big.Release(n)
		g.unlockOwner(owner, done)
	}, nil
}

// lockOwner waits until owner holds no big slot, then takes it.
func (g *decodeGate) lockOwner(ctx context.Context, owner plaza.ID) (chan struct{}, error) {
	for {
		g.mu.Lock()
		held, ok := g.busy[owner]
		if !ok {
			done := make(chan struct{})
			g.busy[owner] = done
			g.mu.Unlock()
			return done, nil
		}
		g.mu.Unlock()
		select {
		case <-held:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

func (g *decodeGate) unlockOwner(owner plaza.ID, done chan struct{}) {
	g.mu.Lock()
	delete(g.busy, owner)
	g.mu.Unlock()
	close(done)
}

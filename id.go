package plaza

import (
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"strconv"
	"sync"
	"time"
)

// ID identifies a stored object. IDs are 64-bit, generated in Go and sort by
// creation time, so the same cursor logic works on every database engine.
// In JSON an ID is a decimal string: JavaScript numbers lose precision past
// 2^53.
//
// Layout (most significant first): 41 bits of milliseconds since idEpoch
// (enough for 69 years), 10 bits of node (random per process) and 12 bits of
// sequence within the millisecond. The top bit stays zero so IDs are positive
// in a signed BIGINT.
type ID int64

// idEpoch is 2024-01-01T00:00:00Z in Unix milliseconds.
const idEpoch = 1704067200000

const (
	idNodeBits = 10
	idSeqBits  = 12
)

// NewID returns a new ID, unique within this process and, with high
// probability, across nodes (the node bits are random; uniqueness
// constraints in the store catch the rare collision).
func NewID() ID { return defaultIDGen.next() }

// IDTime returns the time at which id was generated.
func IDTime(id ID) time.Time {
	return time.UnixMilli(int64(id)>>(idNodeBits+idSeqBits) + idEpoch).UTC()
}

// ParseID parses a decimal ID. It returns an EInvalid error naming field when
// s is not a positive decimal integer.
func ParseID(field, s string) (ID, error) {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n <= 0 {
		return 0, Invalid(field, "must be a decimal ID")
	}
	return ID(n), nil
}

// String returns the decimal form of id.
func (id ID) String() string { return strconv.FormatInt(int64(id), 10) }

// MarshalJSON encodes id as a JSON string.
func (id ID) MarshalJSON() ([]byte, error) {
	return []byte(`"` + id.String() + `"`), nil
}

// UnmarshalJSON accepts a JSON string holding a decimal ID.
func (id *ID) UnmarshalJSON(b []byte) error {
	if len(b) < 2 || b[0] != '"' || b[len(b)-1] != '"' {
		return fmt.Errorf("an ID must be a JSON string of decimal digits")
	}
	n, err := strconv.ParseInt(string(b[1:len(b)-1]), 10, 64)
	if err != nil || n <= 0 {
		return fmt.Errorf("an ID must be a JSON string of decimal digits")
	}
	*id = ID(n)
	return nil
}

type idGen struct {
	mu   sync.Mutex
	node int64
	last int64 // milliseconds since idEpoch of the last ID
	seq  int64
}

var defaultIDGen = newIDGen()

func newIDGen() *idGen {
	var b [2]byte
	_, _ = rand.Read(b[:])
	return &idGen{node: int64(binary.BigEndian.Uint16(b[:])) & (1<<idNodeBits - 1)}
}

func (g *idGen) next() ID {
	g.mu.Lock()
	defer g.mu.Unlock()
	now := time.Now().UnixMilli() - idEpoch
	if now < g.last {
		// The clock stepped back: keep issuing from the last millisecond
		// so IDs stay increasing.
		now = g.last
	}
	if now == g.last {
		g.seq++
		if g.seq >= 1<<idSeqBits {
			// Sequence exhausted within this millisecond: borrow the next
			// one rather than sleeping.
			now++
			g.seq = 0
		}
	} else {
		g.seq = 0
	}
	g.last = now
	return ID(now<<(idNodeBits+idSeqBits) | g.node<<idSeqBits | g.seq)
}

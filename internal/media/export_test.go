package media

import (
	"context"

	"github.com/plaza-im/plaza"
)

// Internals the external tests check directly.
var (
	Orient          = orient
	TIFFOrientation = tiffOrientation
	OggCRC          = oggCRC
	MsFrom          = msFrom
	Fit             = fit
)

// HoldDecode takes room in s's decode gate as an image of cost bytes from
// owner would, until the returned function is called.
func HoldDecode(ctx context.Context, s *Service, owner plaza.ID, cost int64) (func(), error) {
	return s.gate.acquire(ctx, owner, cost)
}

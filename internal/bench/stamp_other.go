//go:build !linux

package bench

import (
	"io"
	"net"
	"time"
)

// stampedReader is Linux's: elsewhere frames are timed when read.
type stampedReader struct{}

func (s *stampedReader) Read([]byte) (int, error) { return 0, io.EOF }

func newStampedReader(net.Conn) *stampedReader { return nil }

func (s *stampedReader) arrived() (time.Time, bool) { return time.Time{}, false }

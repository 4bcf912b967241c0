package media

import (
	"errors"
	"fmt"
	"io"
	"math"
	"math/bits"
	"strings"
)

// Probe is what ProbeAV reads from an audio or video container.
type Probe struct {
	// DurationMS is the playing time in milliseconds, 0 when the container
	// does not say (a fragmented MP4 without mehd, say).
	DurationMS int64
	// Width and Height are the display size of the first video track,
	// after a 90° or 270° rotation in an MP4 track matrix; 0 for audio.
	Width, Height int
	// Codec names the codec of the first video track, or of the first
	// audio track when there is no video: "h264", "hevc", "vp8", "vp9",
	// "av1", "aac", "opus", "vorbis", "mp3", "pcm", or the container's own
	// code for others. Voice messages are stored in this codec, never
	// transcoded.
	Codec string
}

// Limits that keep probing a hostile file cheap. Sizes read from headers
// are only ever used to seek; what is read into memory is bounded by these.
const (
	windowSize  = 64 << 10 // bytes cached per probe
	maxDepth    = 8        // nesting of boxes or elements
	maxElements = 1 << 21  // boxes, elements, pages or frames visited
	maxString   = 256      // bytes of a string value (codec IDs, DocType)
)

// ProbeAV reads duration, codec and (for video) width and height from the
// container named by contentType, as Sniff returns it: MP4/MOV/M4A (moov,
// mvhd, tkhd), WebM/Matroska (Info Duration × TimecodeScale, or the last
// block's timestamp when a recorder left Duration out; Tracks), Ogg Opus or
// Vorbis (last granule position), WAV (data size / byte rate), MP3
// (Xing/Info/VBRI frame count, or a CBR estimate) and ADTS AAC (frames).
//
// It reads through r at chosen offsets, so a file on disk is never loaded
// whole; at most a 64 KiB window is held. A truncated or malformed file is
// ErrCorrupt, an unknown contentType ErrUnsupported; it never panics.
func ProbeAV(r io.ReaderAt, size int64, contentType string) (Probe, error) {
	if size < 0 {
		return Probe{}, fmt.Errorf("probe: negative size: %w", ErrCorrupt)
	}
	w := newWindow(r, size)
	mt, _, _ := strings.Cut(contentType, ";")
	var (
		p   Probe
		err error
	)
	switch strings.ToLower(strings.TrimSpace(mt)) {
	case TypeMP4, TypeQuickTime, TypeM4A, "audio/x-m4a", "application/mp4":
		p, err = probeMP4(w)
	case TypeWebMVideo, TypeWebMAudio, "video/x-matroska", "audio/x-matroska":
		p, err = probeMatroska(w)
	case TypeOgg, "audio/opus", "application/ogg":
		p, err = probeOgg(w)
	case TypeWAV, "audio/x-wav", "audio/wave", "audio/vnd.wave":
		p, err = probeWAV(w)
	case TypeMP3, "audio/mp3":
		p, err = probeMP3(w)
	case TypeAAC, "audio/x-aac":
		p, err = probeADTS(w)
	default:
		return Probe{}, fmt.Errorf("probe: content type %q: %w", contentType, ErrUnsupported)
	}
	if err != nil {
		return Probe{}, fmt.Errorf("probe %s: %w", mt, err)
	}
	if p.DurationMS < 0 || p.Width < 0 || p.Height < 0 {
		return Probe{}, fmt.Errorf("probe %s: negative duration or size: %w", mt, ErrCorrupt)
	}
	return p, nil
}

// corrupt wraps ErrCorrupt with what was wrong, for logs.
func corrupt(format string, args ...any) error {
	return fmt.Errorf(format+": %w", append(args, ErrCorrupt)...)
}

// window is an io.ReaderAt with a bounds check and a one-window cache, so
// the many small reads of a container walk cost few system calls and a
// header's size field can never make it allocate.
type window struct {
	r    io.ReaderAt
	size int64
	buf  []byte
	off  int64 // file offset of buf[0]
	n    int   // valid bytes in buf
}

func newWindow(r io.ReaderAt, size int64) *window {
	return &window{r: r, size: size, off: -1}
}

// errShort reports a read past the end of the file.
var errShort = errors.New("read past the end")

// read returns n bytes at off, valid until the next call. n must not
// exceed windowSize.
func (w *window) read(off int64, n int) ([]byte, error) {
	if n < 0 || n > windowSize {
		return nil, fmt.Errorf("read of %d bytes: %w", n, ErrCorrupt)
	}
	if off < 0 || off > w.size || int64(n) > w.size-off {
		return nil, corrupt("%d bytes at offset %d of %d: %v", n, off, w.size, errShort)
	}
	if w.off >= 0 && off >= w.off && off+int64(n) <= w.off+int64(w.n) {
		s := off - w.off
		return w.buf[s : s+int64(n)], nil
	}
	if w.buf == nil {
		want := int64(windowSize)
		if w.size < want {
			want = w.size
		}
		w.buf = make([]byte, want)
	}
	m := int64(len(w.buf))
	if m > w.size-off {
		m = w.size - off
	}
	got, err := w.r.ReadAt(w.buf[:m], off)
	if int64(got) < int64(n) {
		w.off = -1
		if err == nil || errors.Is(err, io.EOF) {
			err = errShort
		}
		return nil, corrupt("%d bytes at offset %d: %v", n, off, err)
	}
	w.off, w.n = off, got
	return w.buf[:n], nil
}

// msFrom converts a count of units at rate units per second to
// milliseconds, in 128 bits so that no count a container can hold
// overflows; a result past int64 saturates.
func msFrom(count, rate uint64) int64 {
	if rate == 0 {
		return 0
	}
	hi, lo := bits.Mul64(count, 1000)
	if hi >= rate {
		return math.MaxInt64
	}
	q, _ := bits.Div64(hi, lo, rate)
	if q > math.MaxInt64 {
		return math.MaxInt64
	}
	return int64(q)
}

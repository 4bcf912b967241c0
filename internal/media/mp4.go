package media

import (
	"encoding/binary"
	"math"
	"strings"
)

// box is an ISO BMFF box: its start, header length and total size.
type box struct {
	typ       string
	off, size int64
	hdr       int64
}

func (b box) payload() int64 { return b.off + b.hdr }
func (b box) end() int64     { return b.off + b.size }

// readBox reads the box header at off; the box must end by end, the end
// of its parent. A size of 0 means "to the end of the parent".
func readBox(w *window, off, end int64) (box, error) {
	if end-off < 8 {
		return box{}, corrupt("box header at offset %d runs past its parent", off)
	}
	h, err := w.read(off, 8)
	if err != nil {
		return box{}, err
	}
	b := box{typ: string(h[4:8]), off: off, size: int64(binary.BigEndian.Uint32(h)), hdr: 8}
	switch b.size {
	case 0:
		b.size = end - off
	case 1:
		if end-off < 16 {
			return box{}, corrupt("box %q at offset %d: large size runs past its parent", b.typ, off)
		}
		h, err = w.read(off+8, 8)
		if err != nil {
			return box{}, err
		}
		large := binary.BigEndian.Uint64(h)
		if large > math.MaxInt64 {
			return box{}, corrupt("box %q at offset %d: size %d", b.typ, off, large)
		}
		b.size, b.hdr = int64(large), 16
	}
	if b.size < b.hdr || b.size > end-off {
		return box{}, corrupt("box %q at offset %d: size %d does not fit its parent (%d bytes left)", b.typ, off, b.size, end-off)
	}
	return b, nil
}

// mp4Track is what the walk learns about one trak box.
type mp4Track struct {
	handler           string
	codec             string
	width, height     int // from tkhd, display size
	entryW, entryH    int // from the visual sample entry, coded size
	rotated           bool
	timescale, length uint64 // from mdhd
}

// mp4 collects the movie header and the tracks during a walk.
type mp4 struct {
	w                 *window
	timescale, length uint64 // from mvhd
	fragmentLength    uint64 // from mehd, in the movie timescale
	tracks            []*mp4Track
	visited           int
}

// maxTracks bounds the tracks remembered; a real file has a handful.
const maxTracks = 64

// probeMP4 finds the top-level moov box and walks the boxes that carry
// duration, dimensions and codecs. A file without moov (a recording cut off
// before the phone wrote it, or not an MP4 at all) is ErrCorrupt.
func probeMP4(w *window) (Probe, error) {
	m := &mp4{w: w}
	var moov box
	found := false
	for off := int64(0); off < w.size && !found; {
		if m.visited++; m.visited > maxElements {
			return Probe{}, corrupt("more than %d top-level boxes", maxElements)
		}
		b, err := readBox(w, off, w.size)
		if err != nil {
			return Probe{}, err
		}
		if off == 0 && b.typ != "ftyp" && b.typ != "moov" && b.typ != "free" && b.typ != "skip" && b.typ != "wide" && b.typ != "mdat" {
			return Probe{}, corrupt("first box is %q, not ftyp", b.typ)
		}
		moov, found = b, b.typ == "moov"
		off = b.end()
	}
	if !found {
		return Probe{}, corrupt("no moov box")
	}
	if err := m.walk(moov, 1, nil); err != nil {
		return Probe{}, err
	}
	return m.result(), nil
}

// walk visits the children of parent. Only the containers on the way to
// the boxes we read are entered, so depth stays small on real files and is
// capped on hostile ones.
func (m *mp4) walk(parent box, depth int, t *mp4Track) error {
	if depth > maxDepth {
		return corrupt("boxes nested deeper than %d", maxDepth)
	}
	for off := parent.payload(); off < parent.end(); {
		if parent.end()-off < 8 {
			break // some writers pad a container with a 4-byte terminator
		}
		if m.visited++; m.visited > maxElements {
			return corrupt("more than %d boxes", maxElements)
		}
		b, err := readBox(m.w, off, parent.end())
		if err != nil {
			return err
		}
		switch b.typ {
		case "trak":
			if len(m.tracks) < maxTracks {
				nt := &mp4Track{}
				m.tracks = append(m.tracks, nt)
				if err := m.walk(b, depth+1, nt); err != nil {
					return err
				}
			}
		case "mdia", "minf", "stbl", "mvex":
			if err := m.walk(b, depth+1, t); err != nil {
				return err
			}
		case "mvhd":
			if err := m.readMvhd(b); err != nil {
				return err
			}
		case "mehd":
			if err := m.readMehd(b); err != nil {
				return err
			}
		case "tkhd", "mdhd", "hdlr", "stsd":
			if t == nil {
				break // outside a trak these carry nothing we use
			}
			if err := m.readTrackBox(b, t); err != nil {
				return err
			}
		}
		off = b.end()
	}
	return nil
}

// payloadBytes reads up to n bytes of b's payload (less when the box is
// smaller).
func (m *mp4) payloadBytes(b box, n int) ([]byte, error) {
	if avail := b.end() - b.payload(); int64(n) > avail {
		n = int(avail)
	}
	return m.w.read(b.payload(), n)
}

// timeFields reads the timescale and duration shared by mvhd and mdhd in
// their version 0 (32-bit) and version 1 (64-bit) layouts. An all-ones
// duration means unknown.
func timeFields(p []byte, typ string) (timescale, length uint64, err error) {
	if len(p) < 1 {
		return 0, 0, corrupt("%s: empty", typ)
	}
	switch p[0] {
	case 0:
		if len(p) < 20 {
			return 0, 0, corrupt("%s: %d bytes", typ, len(p))
		}
		timescale, length = uint64(binary.BigEndian.Uint32(p[12:])), uint64(binary.BigEndian.Uint32(p[16:]))
		if length == math.MaxUint32 {
			length = 0
		}
	case 1:
		if len(p) < 32 {
			return 0, 0, corrupt("%s: %d bytes", typ, len(p))
		}
		timescale, length = uint64(binary.BigEndian.Uint32(p[20:])), binary.BigEndian.Uint64(p[24:])
		if length == math.MaxUint64 {
			length = 0
		}
	default:
		return 0, 0, corrupt("%s: version %d", typ, p[0])
	}
	return timescale, length, nil
}

func (m *mp4) readMvhd(b box) error {
	p, err := m.payloadBytes(b, 32)
	if err != nil {
		return err
	}
	m.timescale, m.length, err = timeFields(p, "mvhd")
	return err
}

func (m *mp4) readMehd(b box) error {
	p, err := m.payloadBytes(b, 12)
	if err != nil {
		return err
	}
	switch {
	case len(p) >= 8 && p[0] == 0:
		m.fragmentLength = uint64(binary.BigEndian.Uint32(p[4:]))
	case len(p) >= 12 && p[0] == 1:
		m.fragmentLength = binary.BigEndian.Uint64(p[4:])
	}
	return nil
}

func (m *mp4) readTrackBox(b box, t *mp4Track) error {
	switch b.typ {
	case "tkhd":
		p, err := m.payloadBytes(b, 96)
		if err != nil {
			return err
		}
		matrix, dims := 40, 76
		if len(p) > 0 && p[0] == 1 {
			matrix, dims = 52, 88
		}
		if len(p) < dims+8 {
			return corrupt("tkhd: %d bytes", len(p))
		}
		t.width = int(binary.BigEndian.Uint32(p[dims:]) >> 16)
		t.height = int(binary.BigEndian.Uint32(p[dims+4:]) >> 16)
		// A phone held upright records landscape frames with a 90° or
		// 270° matrix; players show them rotated, so report what they show.
		a := int32(binary.BigEndian.Uint32(p[matrix:]))
		bb := int32(binary.BigEndian.Uint32(p[matrix+4:]))
		c := int32(binary.BigEndian.Uint32(p[matrix+12:]))
		d := int32(binary.BigEndian.Uint32(p[matrix+16:]))
		t.rotated = a == 0 && d == 0 && bb != 0 && c != 0
	case "mdhd":
		p, err := m.payloadBytes(b, 32)
		if err != nil {
			return err
		}
		t.timescale, t.length, err = timeFields(p, "mdhd")
		return err
	case "hdlr":
		p, err := m.payloadBytes(b, 12)
		if err != nil {
			return err
		}
		if len(p) < 12 {
			return corrupt("hdlr: %d bytes", len(p))
		}
		// QuickTime has a second hdlr in minf naming the data handler
		// ("alis", "url "); the media handler in mdia comes first.
		if t.handler == "" {
			t.handler = string(p[8:12])
		}
	case "stsd":
		p, err := m.payloadBytes(b, 8+36)
		if err != nil {
			return err
		}
		if len(p) < 16 || binary.BigEndian.Uint32(p[4:]) == 0 {
			return nil // no sample entry: codec unknown
		}
		t.codec = codecFromFourCC(string(p[12:16]))
		if len(p) >= 8+36 {
			t.entryW = int(binary.BigEndian.Uint16(p[8+32:]))
			t.entryH = int(binary.BigEndian.Uint16(p[8+34:]))
		}
	}
	return nil
}

// codecFromFourCC names the codec of an MP4 sample entry.
func codecFromFourCC(fourcc string) string {
	switch fourcc {
	case "avc1", "avc2", "avc3", "avc4":
		return "h264"
	case "hvc1", "hev1":
		return "hevc"
	case "av01":
		return "av1"
	case "vp08":
		return "vp8"
	case "vp09":
		return "vp9"
	case "mp4a":
		return "aac"
	case "Opus":
		return "opus"
	case ".mp3":
		return "mp3"
	case "alac":
		return "alac"
	case "samr":
		return "amr_nb"
	case "sawb":
		return "amr_wb"
	case "mp4v":
		return "mpeg4"
	}
	if !printable([]byte(fourcc)) {
		return ""
	}
	return strings.ToLower(strings.TrimSpace(fourcc))
}

// result picks the first video track (or the first sound track) and the
// best duration the file offers.
func (m *mp4) result() Probe {
	var video, audio *mp4Track
	for _, t := range m.tracks {
		switch {
		case t.handler == "vide" && video == nil:
			video = t
		case t.handler == "soun" && audio == nil:
			audio = t
		}
	}
	var p Probe
	switch {
	case m.length > 0:
		p.DurationMS = msFrom(m.length, m.timescale)
	case m.fragmentLength > 0:
		p.DurationMS = msFrom(m.fragmentLength, m.timescale)
	default:
		for _, t := range m.tracks {
			p.DurationMS = max(p.DurationMS, msFrom(t.length, t.timescale))
		}
	}
	if video != nil {
		p.Codec = video.codec
		p.Width, p.Height = video.width, video.height
		if p.Width == 0 || p.Height == 0 {
			p.Width, p.Height = video.entryW, video.entryH
		}
		if video.rotated {
			p.Width, p.Height = p.Height, p.Width
		}
	} else if audio != nil {
		p.Codec = audio.codec
	}
	return p
}

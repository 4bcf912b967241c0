package media

import (
	"encoding/binary"
	"io"
	"math"
	"strings"
)

// EBML element IDs used here, with their marker bits as Matroska writes
// them.
const (
	idEBML          = 0x1A45DFA3
	idDocType       = 0x4282
	idSegment       = 0x18538067
	idInfo          = 0x1549A966
	idTimecodeScale = 0x2AD7B1
	idDuration      = 0x4489
	idTracks        = 0x1654AE6B
	idTrackEntry    = 0xAE
	idTrackType     = 0x83
	idCodecID       = 0x86
	idVideo         = 0xE0
	idPixelWidth    = 0xB0
	idPixelHeight   = 0xBA
	idCluster       = 0x1F43B675
	idTimecode      = 0xE7
	idSimpleBlock   = 0xA3
	idBlockGroup    = 0xA0
	idBlock         = 0xA1
)

// clusterChildren are the IDs that may appear inside a Cluster. A cluster
// of unknown size (what browsers' MediaRecorder writes) ends at the first
// ID that is not one of these.
var clusterChildren = map[uint64]bool{
	idTimecode: true, 0xA7: true, 0xAB: true, idSimpleBlock: true, idBlockGroup: true,
	0xAF: true, 0x5854: true, 0xEC: true, 0xBF: true,
}

// ebmlElement is one element header: its ID, where its data starts and
// how long it is (-1 for unknown).
type ebmlElement struct {
	id       uint64
	off      int64 // start of the header
	data     int64 // start of the data
	size     int64 // -1: unknown size
	idLength int
}

func (e ebmlElement) end() int64 { return e.data + e.size }

// mkvInfo is what a Matroska walk learns.
type mkvInfo struct {
	docType            string
	hasVideo, hasAudio bool
	timecodeScale      uint64
	duration           float64 // in timecode units, from Info
	lastBlock          int64   // largest block timestamp seen, in timecode units
	sawBlock           bool
	width, height      int
	videoCodec         string
	audioCodec         string
}

// mkv walks a Matroska or WebM file.
type mkv struct {
	w       *window
	info    mkvInfo
	visited int
	// sniffing relaxes size checks to the head's end and stops at the
	// first cluster: Sniff only needs the DocType and the track types.
	sniffing bool
}

// vint reads an EBML variable-length integer at off: an ID keeps its marker
// bits, a size loses them and reports all-ones as unknown.
func (m *mkv) vint(off int64, isID bool) (v uint64, n int, unknown bool, err error) {
	b, err := m.w.read(off, 1)
	if err != nil {
		return 0, 0, false, err
	}
	first := b[0]
	if first == 0 {
		return 0, 0, false, corrupt("EBML number at offset %d is longer than 8 bytes", off)
	}
	n = 1
	for mask := byte(0x80); first&mask == 0; mask >>= 1 {
		n++
	}
	if isID && n > 4 {
		return 0, 0, false, corrupt("EBML ID at offset %d is longer than 4 bytes", off)
	}
	b, err = m.w.read(off, n)
	if err != nil {
		return 0, 0, false, err
	}
	for _, c := range b {
		v = v<<8 | uint64(c)
	}
	if isID {
		return v, n, false, nil
	}
	v &^= 1 << (7 * n) // the marker bit
	return v, n, v == 1<<(7*n)-1, nil
}

// element reads the element header at off; its data must end by end
// unless its size is unknown.
func (m *mkv) element(off, end int64) (ebmlElement, error) {
	if m.visited++; m.visited > maxElements {
		return ebmlElement{}, corrupt("more than %d EBML elements", maxElements)
	}
	id, n, _, err := m.vint(off, true)
	if err != nil {
		return ebmlElement{}, err
	}
	size, sn, unknown, err := m.vint(off+int64(n), false)
	if err != nil {
		return ebmlElement{}, err
	}
	e := ebmlElement{id: id, off: off, data: off + int64(n+sn), size: -1, idLength: n}
	if unknown {
		return e, nil
	}
	if size > uint64(end-e.data) || e.data > end {
		if !m.sniffing {
			return ebmlElement{}, corrupt("element %#x at offset %d: size %d runs past its parent", id, off, size)
		}
		size = uint64(max(end-e.data, 0))
	}
	e.size = int64(size)
	return e, nil
}

// uintValue reads an unsigned integer element (at most 8 bytes).
func (m *mkv) uintValue(e ebmlElement) (uint64, error) {
	if e.size < 0 || e.size > 8 {
		return 0, corrupt("integer element %#x has %d bytes", e.id, e.size)
	}
	b, err := m.w.read(e.data, int(e.size))
	if err != nil {
		return 0, err
	}
	var v uint64
	for _, c := range b {
		v = v<<8 | uint64(c)
	}
	return v, nil
}

// stringValue reads a string element, cut at maxString bytes and at the
// first NUL, as the spec allows padding.
func (m *mkv) stringValue(e ebmlElement) (string, error) {
	if e.size < 0 {
		return "", corrupt("string element %#x has unknown size", e.id)
	}
	b, err := m.w.read(e.data, int(min(e.size, maxString)))
	if err != nil {
		return "", err
	}
	s, _, _ := strings.Cut(string(b), "\x00")
	return s, nil
}

// children calls fn for each child of the element spanning [start, end).
// fn returns the offset to continue at (normally the child's end).
func (m *mkv) children(start, end int64, fn func(ebmlElement) (int64, error)) error {
	for off := start; off < end; {
		e, err := m.element(off, end)
		if err != nil {
			return err
		}
		next, err := fn(e)
		if err != nil {
			return err
		}
		if next <= off {
			return corrupt("element %#x at offset %d does not advance", e.id, off)
		}
		off = next
	}
	return nil
}

// parseMatroska reads the EBML header and the Segment's Info and Tracks,
// and when Info has no Duration, the clusters for the last block's
// timestamp. The returned info is filled as far as the walk got, even with
// an error.
func parseMatroska(r io.ReaderAt, size int64, sniffing bool) (mkvInfo, error) {
	m := &mkv{w: newWindow(r, size), sniffing: sniffing}
	m.info.timecodeScale = 1_000_000
	err := m.parse()
	return m.info, err
}

func (m *mkv) parse() error {
	head, err := m.element(0, m.w.size)
	if err != nil {
		return err
	}
	if head.id != idEBML || head.size < 0 {
		return corrupt("no EBML header")
	}
	err = m.children(head.data, head.end(), func(e ebmlElement) (int64, error) {
		if e.size < 0 {
			return 0, corrupt("EBML header child %#x has unknown size", e.id)
		}
		if e.id == idDocType {
			s, err := m.stringValue(e)
			m.info.docType = s
			return e.end(), err
		}
		return e.end(), nil
	})
	if err != nil {
		return err
	}
	if m.info.docType != "webm" && m.info.docType != "matroska" {
		return corrupt("DocType %q", m.info.docType)
	}
	// Skip Void and other top-level elements up to the Segment.
	for off := head.end(); off < m.w.size; {
		e, err := m.element(off, m.w.size)
		if err != nil {
			return err
		}
		if e.id == idSegment {
			end := m.w.size
			if e.size >= 0 {
				end = e.end()
			}
			return m.segment(e.data, end)
		}
		if e.size < 0 {
			return corrupt("top-level element %#x has unknown size", e.id)
		}
		off = e.end()
	}
	return corrupt("no Segment")
}

// segment walks the Segment's children. With Duration and Tracks known it
// stops at the first Cluster; otherwise it reads every cluster's block
// timestamps, which is what a MediaRecorder file without Duration needs.
func (m *mkv) segment(start, end int64) error {
	sawTracks := false
	return m.children(start, end, func(e ebmlElement) (int64, error) {
		switch e.id {
		case idInfo:
			if e.size < 0 {
				return 0, corrupt("Info has unknown size")
			}
			return e.end(), m.segmentInfo(e)
		case idTracks:
			if e.size < 0 {
				return 0, corrupt("Tracks has unknown size")
			}
			sawTracks = true
			return e.end(), m.tracks(e)
		case idCluster:
			if m.sniffing || (m.info.duration > 0 && sawTracks) {
				return end, nil
			}
			return m.cluster(e, end)
		}
		if e.size < 0 {
			return 0, corrupt("element %#x in Segment has unknown size", e.id)
		}
		return e.end(), nil
	})
}

func (m *mkv) segmentInfo(info ebmlElement) error {
	return m.children(info.data, info.end(), func(e ebmlElement) (int64, error) {
		if e.size < 0 {
			return 0, corrupt("Info child %#x has unknown size", e.id)
		}
		switch e.id {
		case idTimecodeScale:
			v, err := m.uintValue(e)
			if err != nil {
				return 0, err
			}
			if v > 0 {
				m.info.timecodeScale = v
			}
		case idDuration:
			b, err := m.w.read(e.data, int(min(e.size, 8)))
			if err != nil {
				return 0, err
			}
			switch len(b) {
			case 4:
				m.info.duration = float64(math.Float32frombits(binary.BigEndian.Uint32(b)))
			case 8:
				m.info.duration = math.Float64frombits(binary.BigEndian.Uint64(b))
			default:
				return 0, corrupt("Duration has %d bytes", len(b))
			}
		}
		return e.end(), nil
	})
}

func (m *mkv) tracks(tracks ebmlElement) error {
	return m.children(tracks.data, tracks.end(), func(entry ebmlElement) (int64, error) {
		if entry.size < 0 {
			return 0, corrupt("Tracks child %#x has unknown size", entry.id)
		}
		if entry.id != idTrackEntry {
			return entry.end(), nil
		}
		var (
			kind  uint64
			codec string
			w, h  uint64
		)
		err := m.children(entry.data, entry.end(), func(e ebmlElement) (int64, error) {
			if e.size < 0 {
				return 0, corrupt("TrackEntry child %#x has unknown size", e.id)
			}
			var err error
			switch e.id {
			case idTrackType:
				kind, err = m.uintValue(e)
			case idCodecID:
				codec, err = m.stringValue(e)
			case idVideo:
				err = m.children(e.data, e.end(), func(v ebmlElement) (int64, error) {
					if v.size < 0 {
						return 0, corrupt("Video child %#x has unknown size", v.id)
					}
					var err error
					switch v.id {
					case idPixelWidth:
						w, err = m.uintValue(v)
					case idPixelHeight:
						h, err = m.uintValue(v)
					}
					return v.end(), err
				})
			}
			return e.end(), err
		})
		switch kind {
		case 1:
			if !m.info.hasVideo {
				m.info.hasVideo = true
				m.info.videoCodec = matroskaCodec(codec)
				if w <= math.MaxInt32 && h <= math.MaxInt32 {
					m.info.width, m.info.height = int(w), int(h)
				}
			}
		case 2:
			if !m.info.hasAudio {
				m.info.hasAudio = true
				m.info.audioCodec = matroskaCodec(codec)
			}
		}
		return entry.end(), err
	})
}

// cluster reads the Timecode and the timestamps of the blocks of one
// cluster and returns where the Segment continues.
func (m *mkv) cluster(c ebmlElement, segmentEnd int64) (int64, error) {
	end := segmentEnd
	if c.size >= 0 {
		end = c.end()
	}
	var base uint64
	for off := c.data; off < end; {
		e, err := m.element(off, end)
		if err != nil {
			return 0, err
		}
		if c.size < 0 && !clusterChildren[e.id] {
			return off, nil // an unknown-size cluster ends at its next sibling
		}
		if e.size < 0 {
			return 0, corrupt("Cluster child %#x has unknown size", e.id)
		}
		switch e.id {
		case idTimecode:
			if base, err = m.uintValue(e); err != nil {
				return 0, err
			}
		case idSimpleBlock:
			if err := m.block(e, base); err != nil {
				return 0, err
			}
		case idBlockGroup:
			err := m.children(e.data, e.end(), func(b ebmlElement) (int64, error) {
				if b.size < 0 {
					return 0, corrupt("BlockGroup child %#x has unknown size", b.id)
				}
				if b.id == idBlock {
					return b.end(), m.block(b, base)
				}
				return b.end(), nil
			})
			if err != nil {
				return 0, err
			}
		}
		off = e.end()
	}
	return end, nil
}

// block reads a block's relative timestamp: after the track number (an
// EBML size-style number) comes a signed 16-bit offset from the cluster's
// timecode.
func (m *mkv) block(e ebmlElement, base uint64) error {
	_, n, _, err := m.vint(e.data, false)
	if err != nil {
		return err
	}
	if int64(n)+2 > e.size {
		return corrupt("block at offset %d is too short", e.off)
	}
	b, err := m.w.read(e.data+int64(n), 2)
	if err != nil {
		return err
	}
	if base > math.MaxInt64/2 {
		return corrupt("cluster timecode %d", base)
	}
	ts := int64(base) + int64(int16(binary.BigEndian.Uint16(b)))
	if !m.info.sawBlock || ts > m.info.lastBlock {
		m.info.lastBlock, m.info.sawBlock = ts, true
	}
	return nil
}

// matroskaCodec names a Matroska CodecID the way Probe.Codec does.
func matroskaCodec(id string) string {
	switch {
	case id == "V_VP8":
		return "vp8"
	case id == "V_VP9":
		return "vp9"
	case id == "V_AV1":
		return "av1"
	case id == "V_MPEG4/ISO/AVC":
		return "h264"
	case id == "V_MPEGH/ISO/HEVC":
		return "hevc"
	case id == "A_OPUS":
		return "opus"
	case id == "A_VORBIS":
		return "vorbis"
	case strings.HasPrefix(id, "A_AAC"):
		return "aac"
	case id == "A_MPEG/L3":
		return "mp3"
	case strings.HasPrefix(id, "A_PCM"):
		return "pcm"
	case id == "A_FLAC":
		return "flac"
	}
	if !printable([]byte(id)) {
		return ""
	}
	return strings.ToLower(id)
}

// probeMatroska turns a Matroska walk into a Probe.
func probeMatroska(w *window) (Probe, error) {
	info, err := parseMatroska(w.r, w.size, false)
	if err != nil {
		return Probe{}, err
	}
	var p Probe
	scale := float64(info.timecodeScale)
	switch {
	case info.duration > 0:
		p.DurationMS = durationMS(info.duration * scale / 1e6)
	case info.sawBlock && info.lastBlock > 0:
		p.DurationMS = durationMS(float64(info.lastBlock) * scale / 1e6)
	}
	if info.hasVideo {
		p.Codec, p.Width, p.Height = info.videoCodec, info.width, info.height
	} else {
		p.Codec = info.audioCodec
	}
	return p, nil
}

// durationMS rounds a float duration in milliseconds, mapping the values a
// hostile float can hold (NaN, infinities, negatives, beyond any real
// recording) to 0, "unknown".
func durationMS(ms float64) int64 {
	if math.IsNaN(ms) || ms < 0 || ms > 1e15 {
		return 0
	}
	return int64(math.Round(ms))
}

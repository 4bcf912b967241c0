package media_test

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"hash/crc32"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"math"
	"testing"

	"github.com/plaza-im/plaza/internal/media"
)

// Fixtures are built in code, byte by byte where the standard library has
// no encoder, so every test shows what it feeds in.

// pattern returns a w×h image whose top-left quadrant is red and the rest
// blue, so a rotation can be told from a flip after lossy encoding.
func pattern(w, h int) *image.RGBA {
	m := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			c := color.RGBA{0, 0, 255, 255}
			if x < w/2 && y < h/2 {
				c = color.RGBA{255, 0, 0, 255}
			}
			m.SetRGBA(x, y, c)
		}
	}
	return m
}

func encodeJPEG(tb testing.TB, m image.Image) []byte {
	tb.Helper()
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, m, &jpeg.Options{Quality: 90}); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

func encodePNG(tb testing.TB, m image.Image) []byte {
	tb.Helper()
	var buf bytes.Buffer
	if err := png.Encode(&buf, m); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

// jpegSegment builds a JPEG marker segment.
func jpegSegment(marker byte, body []byte) []byte {
	s := []byte{0xFF, marker, 0, 0}
	binary.BigEndian.PutUint16(s[2:], uint16(len(body)+2))
	return append(s, body...)
}

// withSegments inserts segments right after SOI (the stdlib encoder
// writes no APP0, so this is where a camera's APP1 would sit).
func withSegments(j []byte, segs ...[]byte) []byte {
	out := append([]byte{}, j[:2]...)
	for _, s := range segs {
		out = append(out, s...)
	}
	return append(out, j[2:]...)
}

// byteOrder is binary.BigEndian or binary.LittleEndian.
type byteOrder interface {
	binary.ByteOrder
	binary.AppendByteOrder
}

// exifTIFF builds a big-endian TIFF block with IFD0 holding Make,
// Orientation and a GPS IFD pointer, and a GPS IFD with a version,
// latitude reference and latitude — what a phone writes.
func exifTIFF(orientation uint16, order byteOrder) []byte {
	var t []byte
	if order == binary.LittleEndian {
		t = []byte("II")
	} else {
		t = []byte("MM")
	}
	t = order.AppendUint16(t, 42)
	t = order.AppendUint32(t, 8)
	// IFD0 at 8: 3 entries (2+36 bytes) + next-IFD offset (4) = 42 bytes,
	// so its out-of-line data starts at 50.
	const makeAt, gpsAt = 50, 60
	entry := func(tag, typ uint16, count, value uint32) {
		t = order.AppendUint16(t, tag)
		t = order.AppendUint16(t, typ)
		t = order.AppendUint32(t, count)
		t = order.AppendUint32(t, value)
	}
	t = order.AppendUint16(t, 3)
	entry(0x010F, 2, 10, makeAt) // Make, ASCII
	var short [4]byte
	order.PutUint16(short[:], orientation)
	t = order.AppendUint16(t, 0x0112)
	t = order.AppendUint16(t, 3)
	t = order.AppendUint32(t, 1)
	t = append(t, short[:]...)
	entry(0x8825, 4, 1, gpsAt) // GPS IFD pointer
	t = order.AppendUint32(t, 0)
	t = append(t, "PlazaCam\x00\x00"...) // at 50
	// GPS IFD at 60: 3 entries, then the latitude rationals at 60+42.
	t = order.AppendUint16(t, 3)
	entry(0x0000, 1, 4, 0x02030000)                       // GPSVersionID
	entry(0x0001, 2, 2, 0x4E000000)                       // GPSLatitudeRef "N"
	entry(0x0002, 5, 3, uint32(gpsAt+42))                 // GPSLatitude
	t = order.AppendUint32(t, 0)                          // next IFD
	for _, v := range []uint32{39, 1, 54, 1, 1234, 100} { // 39°54'12.34"
		t = order.AppendUint32(t, v)
	}
	return t
}

// hostileJPEG is a photo as a phone sends it, plus the things that must
// not survive: EXIF with GPS (orientation 6), XMP with a location, IPTC,
// an ICC profile, a comment holding HTML, and HTML after EOI.
func hostileJPEG(tb testing.TB, w, h int) []byte {
	tb.Helper()
	j := withSegments(encodeJPEG(tb, pattern(w, h)),
		jpegSegment(0xE1, append([]byte("Exif\x00\x00"), exifTIFF(6, binary.BigEndian)...)),
		jpegSegment(0xE1, []byte("http://ns.adobe.com/xap/1.0/\x00<x:xmpmeta><exif:GPSLatitude>39,54.2N</exif:GPSLatitude></x:xmpmeta>")),
		jpegSegment(0xED, []byte("Photoshop 3.0\x008BIM\x04\x04\x00\x00\x00\x00\x00\x0c\x1c\x02\x5a\x00\x07Beijing")),
		jpegSegment(0xE2, append([]byte("ICC_PROFILE\x00\x01\x01"), make([]byte, 128)...)),
		jpegSegment(0xFE, []byte("<html><script>alert(document.cookie)</script></html>")),
	)
	return append(j, "<html><body><script>alert(1)</script></body></html>"...)
}

// pngChunk builds a PNG chunk with its CRC.
func pngChunk(typ string, data []byte) []byte {
	c := binary.BigEndian.AppendUint32(nil, uint32(len(data)))
	c = append(c, typ...)
	c = append(c, data...)
	return binary.BigEndian.AppendUint32(c, crc32.ChecksumIEEE(c[4:]))
}

// pixelFloodPNG declares w×h RGBA pixels in a file of a few dozen bytes:
// a decoder that trusts IHDR allocates w×h×4 bytes.
func pixelFloodPNG(w, h uint32) []byte {
	ihdr := binary.BigEndian.AppendUint32(nil, w)
	ihdr = binary.BigEndian.AppendUint32(ihdr, h)
	ihdr = append(ihdr, 8, 6, 0, 0, 0)
	b := append([]byte("\x89PNG\r\n\x1a\n"), pngChunk("IHDR", ihdr)...)
	b = append(b, pngChunk("IDAT", []byte{0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01})...)
	return append(b, pngChunk("IEND", nil)...)
}

// withPNGChunk inserts a chunk after IHDR.
func withPNGChunk(p []byte, typ string, data []byte) []byte {
	const afterIHDR = 8 + 25
	out := append([]byte{}, p[:afterIHDR]...)
	out = append(out, pngChunk(typ, data)...)
	return append(out, p[afterIHDR:]...)
}

// animatedGIF encodes frames of w×h in three colours, with a comment
// extension holding HTML inserted after the global colour table.
func animatedGIF(tb testing.TB, w, h, frames int) []byte {
	tb.Helper()
	pal := color.Palette{color.RGBA{255, 0, 0, 255}, color.RGBA{0, 255, 0, 255}, color.RGBA{0, 0, 255, 255}, color.RGBA{0, 0, 0, 0}}
	g := &gif.GIF{LoopCount: 0, Config: image.Config{ColorModel: pal, Width: w, Height: h}}
	for i := range frames {
		f := image.NewPaletted(image.Rect(0, 0, w, h), pal)
		for p := range f.Pix {
			f.Pix[p] = uint8(i % 3)
		}
		g.Image = append(g.Image, f)
		g.Delay = append(g.Delay, 10)
		g.Disposal = append(g.Disposal, gif.DisposalNone)
	}
	var buf bytes.Buffer
	if err := gif.EncodeAll(&buf, g); err != nil {
		tb.Fatal(err)
	}
	b := buf.Bytes()
	at := 13 + 3<<(b[10]&7+1)
	const text = "<script>alert(1)</script>"
	comment := append([]byte{0x21, 0xFE, byte(len(text))}, text...)
	comment = append(comment, 0)
	out := append([]byte{}, b[:at]...)
	out = append(out, comment...)
	return append(out, b[at:]...)
}

// mp4Box builds an ISO BMFF box.
func mp4Box(typ string, payload ...[]byte) []byte {
	n := 8
	for _, p := range payload {
		n += len(p)
	}
	b := binary.BigEndian.AppendUint32(nil, uint32(n))
	b = append(b, typ...)
	for _, p := range payload {
		b = append(b, p...)
	}
	return b
}

func u16(v uint16) []byte { return binary.BigEndian.AppendUint16(nil, v) }
func u32(v uint32) []byte { return binary.BigEndian.AppendUint32(nil, v) }
func u64(v uint64) []byte { return binary.BigEndian.AppendUint64(nil, v) }

// mp4Spec describes an MP4 to build.
type mp4Spec struct {
	brand               string
	timescale, duration uint32
	width, height       uint16 // 0: no video track
	rotate90            bool
	audio               bool
	moovLast            bool // mdat before moov, as most cameras write
	mdat                int  // bytes of media data
}

// matrix returns a tkhd matrix: identity, or a 90° rotation.
func matrix(rotate bool) []byte {
	m := []uint32{0x10000, 0, 0, 0, 0x10000, 0, 0, 0, 0x40000000}
	if rotate {
		m = []uint32{0, 0x10000, 0, 0xFFFF0000, 0, 0, 0, 0, 0x40000000}
	}
	var b []byte
	for _, v := range m {
		b = append(b, u32(v)...)
	}
	return b
}

func mp4Track(handler, entry string, s mp4Spec, width, height uint16) []byte {
	tkhd := mp4Box("tkhd", u32(3), u32(0), u32(0), u32(1), u32(0), u32(s.duration),
		make([]byte, 8), u16(0), u16(0), u16(0x0100), u16(0), matrix(s.rotate90 && handler == "vide"),
		u32(uint32(width)<<16), u32(uint32(height)<<16))
	mdhd := mp4Box("mdhd", u32(0), u32(0), u32(0), u32(s.timescale), u32(s.duration), u16(0x55c4), u16(0))
	hdlr := mp4Box("hdlr", u32(0), u32(0), []byte(handler), make([]byte, 12), []byte{0})
	var sample []byte
	if handler == "vide" {
		sample = mp4Box(entry, make([]byte, 6), u16(1), make([]byte, 16), u16(width), u16(height), make([]byte, 50))
	} else {
		sample = mp4Box(entry, make([]byte, 6), u16(1), make([]byte, 8), u16(2), u16(16), make([]byte, 4), u32(48000<<16))
	}
	stsd := mp4Box("stsd", u32(0), u32(1), sample)
	stbl := mp4Box("stbl", stsd)
	minf := mp4Box("minf", stbl)
	return mp4Box("trak", tkhd, mp4Box("mdia", mdhd, hdlr, minf))
}

// buildMP4 writes ftyp, moov (mvhd and the tracks) and mdat.
func buildMP4(s mp4Spec) []byte {
	if s.brand == "" {
		s.brand = "isom"
	}
	ftyp := mp4Box("ftyp", []byte(s.brand), u32(0x200), []byte("isomiso2mp41"))
	mvhd := mp4Box("mvhd", u32(0), u32(0), u32(0), u32(s.timescale), u32(s.duration),
		u32(0x10000), u16(0x100), make([]byte, 10), matrix(false), make([]byte, 24), u32(3))
	moovParts := [][]byte{mvhd}
	if s.width > 0 {
		moovParts = append(moovParts, mp4Track("vide", "avc1", s, s.width, s.height))
	}
	if s.audio {
		moovParts = append(moovParts, mp4Track("soun", "mp4a", s, 0, 0))
	}
	moov := mp4Box("moov", moovParts...)
	mdat := mp4Box("mdat", make([]byte, s.mdat))
	out := append([]byte{}, ftyp...)
	if s.moovLast {
		return append(append(out, mdat...), moov...)
	}
	return append(append(out, moov...), mdat...)
}

// wavFile writes a RIFF WAVE with a LIST chunk before fmt, as some
// recorders do, and dataBytes of silence.
func wavFile(rate uint32, channels, bits uint16, dataBytes int) []byte {
	le := binary.LittleEndian
	fmtChunk := le.AppendUint16(nil, 1)
	fmtChunk = le.AppendUint16(fmtChunk, channels)
	fmtChunk = le.AppendUint32(fmtChunk, rate)
	fmtChunk = le.AppendUint32(fmtChunk, rate*uint32(channels)*uint32(bits/8))
	fmtChunk = le.AppendUint16(fmtChunk, channels*bits/8)
	fmtChunk = le.AppendUint16(fmtChunk, bits)
	chunk := func(id string, body []byte) []byte {
		c := append([]byte(id), le.AppendUint32(nil, uint32(len(body)))...)
		c = append(c, body...)
		if len(body)%2 == 1 {
			c = append(c, 0)
		}
		return c
	}
	body := append([]byte("WAVE"), chunk("LIST", []byte("INFOISFT\x05\x00\x00\x00Plaz\x00\x00"))...)
	body = append(body, chunk("fmt ", fmtChunk)...)
	body = append(body, chunk("data", make([]byte, dataBytes))...)
	return append(append([]byte("RIFF"), le.AppendUint32(nil, uint32(len(body)))...), body...)
}

// oggPage builds one Ogg page with a correct CRC (computed by the
// package's function, which TestOggCRC checks against a known vector).
func oggPage(flags byte, granule uint64, serial, seq uint32, packets ...[]byte) []byte {
	le := binary.LittleEndian
	var lacing, body []byte
	for _, p := range packets {
		n := len(p)
		for n >= 255 {
			lacing = append(lacing, 255)
			n -= 255
		}
		lacing = append(lacing, byte(n))
		body = append(body, p...)
	}
	h := append([]byte("OggS"), 0, flags)
	h = le.AppendUint64(h, granule)
	h = le.AppendUint32(h, serial)
	h = le.AppendUint32(h, seq)
	h = le.AppendUint32(h, 0)
	h = append(h, byte(len(lacing)))
	page := append(append(h, lacing...), body...)
	le.PutUint32(page[22:], media.OggCRC(page))
	return page
}

// oggOpus builds an Ogg Opus stream of the given length: OpusHead,
// OpusTags, then pages of 20 ms packets, the last flagged end of stream.
func oggOpus(ms int, preSkip uint16) []byte {
	le := binary.LittleEndian
	head := append([]byte("OpusHead"), 1, 1)
	head = le.AppendUint16(head, preSkip)
	head = le.AppendUint32(head, 48000)
	head = append(head, 0, 0, 0)
	tags := append([]byte("OpusTags"), le.AppendUint32(nil, 5)...)
	tags = append(tags, "plaza"...)
	tags = le.AppendUint32(tags, 0)
	const serial = 0x1234
	out := oggPage(0x02, 0, serial, 0, head)
	out = append(out, oggPage(0, 0, serial, 1, tags)...)
	packets := ms / 20
	granule := uint64(preSkip)
	seq := uint32(2)
	for done := 0; done < packets; seq++ {
		n := min(50, packets-done)
		var ps [][]byte
		for range n {
			ps = append(ps, []byte{0xFC, 0xFF, 0xFE}) // a tiny CELT frame
		}
		done += n
		granule += uint64(n) * 960
		flags := byte(0)
		if done == packets {
			flags = 0x04
		}
		out = append(out, oggPage(flags, granule, serial, seq, ps...)...)
	}
	return out
}

// EBML helpers. ebml writes an element with a minimal size; unknown size
// is written as the 8-byte all-ones value.
func ebmlID(id uint32) []byte {
	switch {
	case id >= 1<<24:
		return u32(id)
	case id >= 1<<16:
		return []byte{byte(id >> 16), byte(id >> 8), byte(id)}
	case id >= 1<<8:
		return u16(uint16(id))
	}
	return []byte{byte(id)}
}

func ebml(id uint32, payload ...[]byte) []byte {
	var data []byte
	for _, p := range payload {
		data = append(data, p...)
	}
	size := u64(uint64(len(data)) | 1<<56) // 8-byte form: 0x01 then 7 bytes
	return append(append(ebmlID(id), size...), data...)
}

func ebmlUnknown(id uint32, payload ...[]byte) []byte {
	out := append(ebmlID(id), 0x01, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF)
	for _, p := range payload {
		out = append(out, p...)
	}
	return out
}

func ebmlUint(id uint32, v uint64) []byte { return ebml(id, u64(v)) }

// webmSpec describes a WebM to build.
type webmSpec struct {
	docType       string
	durationMS    float64 // 0: no Duration element, as MediaRecorder writes
	width, height uint64  // 0: audio only
	blocks        int     // SimpleBlocks, 20 ms apart, in one cluster
	unknownSizes  bool    // Segment and Cluster of unknown size
}

func buildWebM(s webmSpec) []byte {
	if s.docType == "" {
		s.docType = "webm"
	}
	header := ebml(0x1A45DFA3, ebmlUint(0x4286, 1), ebml(0x4282, []byte(s.docType)), ebmlUint(0x4287, 4))
	info := [][]byte{ebmlUint(0x2AD7B1, 1_000_000)}
	if s.durationMS > 0 {
		info = append(info, ebml(0x4489, u64(math.Float64bits(s.durationMS))))
	}
	var tracks [][]byte
	if s.width > 0 {
		tracks = append(tracks, ebml(0xAE, ebmlUint(0xD7, 1), ebmlUint(0x83, 1), ebml(0x86, []byte("V_VP8")),
			ebml(0xE0, ebmlUint(0xB0, s.width), ebmlUint(0xBA, s.height))))
	}
	tracks = append(tracks, ebml(0xAE, ebmlUint(0xD7, 2), ebmlUint(0x83, 2), ebml(0x86, []byte("A_OPUS"))))
	clusterParts := [][]byte{ebmlUint(0xE7, 0)}
	for i := range s.blocks {
		clusterParts = append(clusterParts, ebml(0xA3, []byte{0x82}, u16(uint16(i*20)), []byte{0x80, 0xFC}))
	}
	var cluster []byte
	if s.unknownSizes {
		cluster = ebmlUnknown(0x1F43B675, clusterParts...)
	} else {
		cluster = ebml(0x1F43B675, clusterParts...)
	}
	segParts := [][]byte{ebml(0x1549A966, info...), ebml(0x1654AE6B, tracks...), cluster}
	if s.unknownSizes {
		return append(header, ebmlUnknown(0x18538067, segParts...)...)
	}
	return append(header, ebml(0x18538067, segParts...)...)
}

// mp3File builds n MPEG-1 Layer III frames at 128 kbit/s, 44.1 kHz,
// stereo (417 bytes each), after an ID3v2 tag of tagBytes (none if 0).
// With xing, the first frame is an Info frame counting the others.
func mp3File(n, tagBytes int, xing bool) []byte {
	var out []byte
	if tagBytes > 0 {
		out = append([]byte("ID3\x03\x00\x00"), byte(tagBytes>>21&0x7f), byte(tagBytes>>14&0x7f), byte(tagBytes>>7&0x7f), byte(tagBytes&0x7f))
		out = append(out, make([]byte, tagBytes)...)
	}
	frame := func() []byte {
		f := make([]byte, 417)
		copy(f, []byte{0xFF, 0xFB, 0x90, 0x00})
		return f
	}
	if xing {
		f := frame()
		copy(f[4+32:], "Info")
		binary.BigEndian.PutUint32(f[4+32+4:], 1)
		binary.BigEndian.PutUint32(f[4+32+8:], uint32(n))
		out = append(out, f...)
	}
	for range n {
		out = append(out, frame()...)
	}
	return out
}

// adtsFile builds n AAC-LC ADTS frames at 44.1 kHz of 100 bytes each.
func adtsFile(n int) []byte {
	var out []byte
	for range n {
		f := make([]byte, 100)
		copy(f, []byte{0xFF, 0xF1, 0x50, 0x80, byte(100 >> 3), byte(100&7) << 5, 0xFC})
		out = append(out, f...)
	}
	return out
}

func mustHex(tb testing.TB, s string) []byte {
	tb.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// head returns the first 64 KiB, what an upload handler passes to Sniff.
func head(b []byte) []byte { return b[:min(len(b), 64<<10)] }

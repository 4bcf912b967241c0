package media

import (
	"encoding/binary"
)

// mp3Header is a parsed MPEG audio Layer III frame header.
type mp3Header struct {
	version    int // 1, 2, or 25 for MPEG 2.5
	mono       bool
	bitrate    int // kbit/s
	sampleRate int
	size       int // bytes in the frame, header included
	samples    int // per frame
}

var (
	mp3Bitrates1 = [16]int{0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 0}
	mp3Bitrates2 = [16]int{0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160, 0}
	mp3Rates     = map[int][3]int{1: {44100, 48000, 32000}, 2: {22050, 24000, 16000}, 25: {11025, 12000, 8000}}
)

// parseMP3Header parses a Layer III frame header at the start of b. Free
// format, reserved values and other layers are refused: they are rare
// enough that accepting them would mostly accept noise.
func parseMP3Header(b []byte) (mp3Header, bool) {
	if len(b) < 4 || b[0] != 0xFF || b[1]&0xE0 != 0xE0 {
		return mp3Header{}, false
	}
	var h mp3Header
	switch (b[1] >> 3) & 3 {
	case 0:
		h.version = 25
	case 2:
		h.version = 2
	case 3:
		h.version = 1
	default:
		return mp3Header{}, false
	}
	if (b[1]>>1)&3 != 1 { // Layer III
		return mp3Header{}, false
	}
	bi, si := b[2]>>4, (b[2]>>2)&3
	if bi == 0 || bi == 15 || si == 3 || b[3]&3 == 2 {
		return mp3Header{}, false
	}
	pad := int(b[2]>>1) & 1
	h.mono = b[3]>>6 == 3
	h.sampleRate = mp3Rates[h.version][si]
	if h.version == 1 {
		h.bitrate, h.samples = mp3Bitrates1[bi], 1152
		h.size = 144*h.bitrate*1000/h.sampleRate + pad
	} else {
		h.bitrate, h.samples = mp3Bitrates2[bi], 576
		h.size = 72*h.bitrate*1000/h.sampleRate + pad
	}
	return h, true
}

// sideInfo is the length of the Layer III side information, after which
// an encoder puts its Xing or Info header.
func (h mp3Header) sideInfo() int {
	switch {
	case h.version == 1 && h.mono:
		return 17
	case h.version == 1:
		return 32
	case h.mono:
		return 9
	}
	return 17
}

// mp3SyncScan bounds the search for the first frame after the ID3 tag.
const mp3SyncScan = windowSize

// probeMP3 finds the first frame after any ID3v2 tag. The duration comes
// from a Xing/Info or VBRI header's frame count when the encoder wrote
// one, otherwise from the audio size and the first frame's bitrate, which
// is exact for constant bitrate files and an estimate for others.
func probeMP3(w *window) (Probe, error) {
	start, err := id3End(w)
	if err != nil {
		return Probe{}, err
	}
	if start >= w.size {
		return Probe{}, corrupt("ID3 tag runs to the end of the file")
	}
	b, err := w.read(start, int(min(w.size-start, mp3SyncScan)))
	if err != nil {
		return Probe{}, err
	}
	at := -1
	var h mp3Header
	for i := 0; i+4 <= len(b); i++ {
		var ok bool
		if h, ok = parseMP3Header(b[i:]); !ok {
			continue
		}
		// Sync-like bytes occur in tags and junk; a frame counts when the
		// next one follows it, or when it is the last in the file.
		if next := i + h.size; next+4 <= len(b) {
			if h2, ok := parseMP3Header(b[next:]); !ok || h2.sampleRate != h.sampleRate {
				continue
			}
		}
		at = i
		break
	}
	if at < 0 {
		return Probe{}, corrupt("no MPEG audio frame in the first %d bytes", len(b))
	}
	frame := b[at:min(len(b), at+h.size)]
	p := Probe{Codec: "mp3"}
	if frames, ok := vbrFrames(frame, h); ok {
		p.DurationMS = msFrom(frames*uint64(h.samples), uint64(h.sampleRate))
		return p, nil
	}
	audio := w.size - start - int64(at)
	if w.size >= 128 {
		if t, err := w.read(w.size-128, 3); err == nil && string(t) == "TAG" {
			audio -= 128 // ID3v1 tag at the end
		}
	}
	p.DurationMS = msFrom(uint64(max(audio, 0))*8, uint64(h.bitrate)*1000)
	return p, nil
}

// vbrFrames reads the frame count of a Xing/Info or VBRI header in the
// first frame.
func vbrFrames(frame []byte, h mp3Header) (uint64, bool) {
	x := 4 + h.sideInfo()
	if len(frame) >= x+12 && (string(frame[x:x+4]) == "Xing" || string(frame[x:x+4]) == "Info") {
		if binary.BigEndian.Uint32(frame[x+4:])&1 != 0 {
			if n := binary.BigEndian.Uint32(frame[x+8:]); n > 0 {
				return uint64(n), true
			}
		}
	}
	const v = 4 + 32 // VBRI sits at a fixed place
	if len(frame) >= v+18 && string(frame[v:v+4]) == "VBRI" {
		if n := binary.BigEndian.Uint32(frame[v+14:]); n > 0 {
			return uint64(n), true
		}
	}
	return 0, false
}

// id3End returns the offset after an ID3v2 tag at the start of the file,
// 0 when there is none.
func id3End(w *window) (int64, error) {
	h, err := w.read(0, int(min(w.size, 10)))
	if err != nil {
		return 0, err
	}
	end, ok := skipID3(h)
	if !ok {
		return 0, corrupt("malformed ID3v2 tag header")
	}
	return int64(end), nil
}

// adtsHeader is a parsed ADTS (raw AAC) frame header.
type adtsHeader struct {
	sampleRate int
	size       int // frame bytes, header included
	blocks     int // raw data blocks of 1024 samples each
}

var adtsRates = [13]int{96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000, 7350}

// parseADTSHeader parses an ADTS header at the start of b.
func parseADTSHeader(b []byte) (adtsHeader, bool) {
	if len(b) < 7 || b[0] != 0xFF || b[1]&0xF6 != 0xF0 {
		return adtsHeader{}, false
	}
	si := (b[2] >> 2) & 0xF
	if int(si) >= len(adtsRates) {
		return adtsHeader{}, false
	}
	hdr := 9
	if b[1]&1 != 0 { // protection absent: no CRC
		hdr = 7
	}
	size := int(b[3]&3)<<11 | int(b[4])<<3 | int(b[5]>>5)
	if size < hdr {
		return adtsHeader{}, false
	}
	return adtsHeader{sampleRate: adtsRates[si], size: size, blocks: int(b[6]&3) + 1}, true
}

// probeADTS walks the ADTS frames, each of which says its length, and
// adds up their samples. It stops at the first thing that is not a frame
// (an ID3v1 tag, trailing junk) and at maxElements frames.
func probeADTS(w *window) (Probe, error) {
	off, err := id3End(w)
	if err != nil {
		return Probe{}, err
	}
	var (
		rate    int
		samples uint64
	)
	for n := 0; off+7 <= w.size && n < maxElements; n++ {
		b, err := w.read(off, 7)
		if err != nil {
			return Probe{}, err
		}
		h, ok := parseADTSHeader(b)
		if !ok || (rate != 0 && h.sampleRate != rate) {
			break
		}
		rate = h.sampleRate
		samples += uint64(h.blocks) * 1024
		off += int64(h.size)
	}
	if rate == 0 {
		return Probe{}, corrupt("no ADTS frame")
	}
	return Probe{DurationMS: msFrom(samples, uint64(rate)), Codec: "aac"}, nil
}

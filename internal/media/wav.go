package media

import (
	"encoding/binary"
	"fmt"
)

// wavFormat is the part of a WAV fmt chunk that matters here.
type wavFormat struct {
	tag      uint16
	channels uint16
	rate     uint32
	byteRate uint32
	subTag   uint16 // the real format of WAVE_FORMAT_EXTENSIBLE
}

func (f wavFormat) valid() bool {
	return f.tag != 0 && f.channels > 0 && f.channels <= 64 && f.rate > 0 && f.rate <= 1_000_000 && f.byteRate > 0
}

// parseWAVFormat reads a fmt chunk body.
func parseWAVFormat(b []byte) (wavFormat, bool) {
	if len(b) < 16 {
		return wavFormat{}, false
	}
	f := wavFormat{
		tag:      binary.LittleEndian.Uint16(b),
		channels: binary.LittleEndian.Uint16(b[2:]),
		rate:     binary.LittleEndian.Uint32(b[4:]),
		byteRate: binary.LittleEndian.Uint32(b[8:]),
	}
	if f.tag == 0xFFFE && len(b) >= 26 {
		f.subTag = binary.LittleEndian.Uint16(b[24:])
	}
	return f, true
}

// codec names the sample format.
func (f wavFormat) codec() string {
	tag := f.tag
	if tag == 0xFFFE && f.subTag != 0 {
		tag = f.subTag
	}
	switch tag {
	case 1:
		return "pcm"
	case 3:
		return "pcm_float"
	case 6:
		return "alaw"
	case 7:
		return "mulaw"
	case 0x11:
		return "adpcm_ima"
	case 0x55:
		return "mp3"
	}
	return fmt.Sprintf("wav_%#04x", tag)
}

// maxWAVChunks bounds the chunks walked before fmt and data; real files
// have a few (LIST, JUNK, bext, fact).
const maxWAVChunks = 1024

// findWAVFormat walks the chunks in a head held in memory, for Sniff.
func findWAVFormat(b []byte) (wavFormat, bool) {
	for i, n := 12, 0; i+8 <= len(b) && n < maxWAVChunks; n++ {
		size := int64(binary.LittleEndian.Uint32(b[i+4:]))
		if string(b[i:i+4]) == "fmt " {
			if size < 16 || i+8+16 > len(b) {
				return wavFormat{}, false
			}
			return parseWAVFormat(b[i+8 : i+8+min(int(size), len(b)-i-8, 40)])
		}
		next := int64(i) + 8 + size + size&1
		if next > int64(len(b)) {
			break
		}
		i = int(next)
	}
	return wavFormat{}, false
}

// probeWAV finds the fmt and data chunks. A data size larger than the file
// (what a recorder that was cut off, or one that streams, leaves behind) is
// clamped to the bytes actually present.
func probeWAV(w *window) (Probe, error) {
	h, err := w.read(0, 12)
	if err != nil {
		return Probe{}, err
	}
	if string(h[:4]) != "RIFF" || string(h[8:12]) != "WAVE" {
		return Probe{}, corrupt("no RIFF WAVE header")
	}
	var (
		f        wavFormat
		sawFmt   bool
		dataSize int64 = -1
	)
	for off, n := int64(12), 0; off+8 <= w.size && n < maxWAVChunks && (!sawFmt || dataSize < 0); n++ {
		c, err := w.read(off, 8)
		if err != nil {
			return Probe{}, err
		}
		id, size := string(c[:4]), int64(binary.LittleEndian.Uint32(c[4:]))
		body := off + 8
		switch id {
		case "fmt ":
			b, err := w.read(body, int(min(size, 40, w.size-body)))
			if err != nil {
				return Probe{}, err
			}
			if f, sawFmt = parseWAVFormat(b); !sawFmt || !f.valid() {
				return Probe{}, corrupt("invalid fmt chunk")
			}
		case "data":
			dataSize = min(size, w.size-body)
		}
		off = body + size + size&1
	}
	if !sawFmt || dataSize < 0 {
		return Probe{}, corrupt("WAV without fmt or data chunk")
	}
	return Probe{DurationMS: msFrom(uint64(dataSize), uint64(f.byteRate)), Codec: f.codec()}, nil
}

package media

import (
	"bytes"
	"encoding/binary"
	"fmt"
)

// oggPage is one parsed Ogg page, possibly cut short by the end of the
// buffer it was parsed from.
type oggPage struct {
	flags    byte
	granule  uint64
	serial   uint32
	body     []byte // as much of the body as the buffer held
	size     int    // header, segment table and body
	complete bool   // the whole page was in the buffer
	crcOK    bool   // only meaningful when complete
}

// noGranule marks a page on which no packet ends.
const noGranule = 1<<64 - 1

// maxOggPage is the largest possible page: a 27-byte header, 255 lacing
// values and 255 segments of 255 bytes. It fits the probe window.
const maxOggPage = 27 + 255 + 255*255

// parseOggPage parses the page at the start of b.
func parseOggPage(b []byte) (oggPage, bool) {
	if len(b) < 27 || string(b[:4]) != "OggS" || b[4] != 0 {
		return oggPage{}, false
	}
	nsegs := int(b[26])
	if len(b) < 27+nsegs {
		return oggPage{}, false
	}
	bodyLen := 0
	for _, l := range b[27 : 27+nsegs] {
		bodyLen += int(l)
	}
	p := oggPage{
		flags:   b[5],
		granule: binary.LittleEndian.Uint64(b[6:]),
		serial:  binary.LittleEndian.Uint32(b[14:]),
		size:    27 + nsegs + bodyLen,
	}
	p.body = b[27+nsegs : min(p.size, len(b))]
	if len(b) >= p.size {
		p.complete = true
		p.crcOK = oggCRC(b[:p.size]) == binary.LittleEndian.Uint32(b[22:])
	}
	return p, true
}

// oggCRCTable is the table for Ogg's CRC-32: polynomial 0x04c11db7, not
// reflected, initial value 0 (unlike hash/crc32's IEEE, which is
// reflected).
var oggCRCTable = func() (t [256]uint32) {
	for i := range t {
		r := uint32(i) << 24
		for range 8 {
			if r&0x80000000 != 0 {
				r = r<<1 ^ 0x04c11db7
			} else {
				r <<= 1
			}
		}
		t[i] = r
	}
	return t
}()

// oggCRC computes a page's checksum with its CRC field taken as zero.
func oggCRC(page []byte) uint32 {
	var crc uint32
	for i, c := range page {
		if i >= 22 && i < 26 {
			c = 0
		}
		crc = crc<<8 ^ oggCRCTable[byte(crc>>24)^c]
	}
	return crc
}

// oggStream describes the codec a stream's first packet announces.
type oggStream struct {
	codec   string
	rate    uint64 // granule positions per second
	preSkip uint64 // granules to drop at the start (Opus)
}

// oggCodec identifies an Opus or Vorbis identification header. Opus
// granule positions always count 48 kHz samples, whatever the input rate.
func oggCodec(packet []byte) (oggStream, bool) {
	switch {
	case len(packet) >= 19 && string(packet[:8]) == "OpusHead":
		if packet[8] > 15 || packet[9] == 0 { // major version 0, at least one channel
			return oggStream{}, false
		}
		return oggStream{codec: "opus", rate: 48000, preSkip: uint64(binary.LittleEndian.Uint16(packet[10:]))}, true
	case len(packet) >= 30 && string(packet[:7]) == "\x01vorbis":
		rate := binary.LittleEndian.Uint32(packet[12:])
		if binary.LittleEndian.Uint32(packet[7:]) != 0 || packet[11] == 0 || rate == 0 {
			return oggStream{}, false
		}
		return oggStream{codec: "vorbis", rate: uint64(rate)}, true
	}
	return oggStream{}, false
}

// oggTailScan bounds how far back from the end probeOgg looks for the last
// page of the stream; only a file multiplexing other streams after it
// needs more than one window.
const oggTailScan = 1 << 20

// probeOgg reads the codec from the first page and the duration from the
// granule position of the last page of the same stream.
func probeOgg(w *window) (Probe, error) {
	b, err := w.read(0, int(min(w.size, maxOggPage)))
	if err != nil {
		return Probe{}, err
	}
	first, ok := parseOggPage(b)
	if !ok || !first.complete || !first.crcOK || first.flags&0x02 == 0 {
		return Probe{}, corrupt("first Ogg page is not a valid beginning of stream")
	}
	stream, ok := oggCodec(first.body)
	if !ok {
		return Probe{}, fmt.Errorf("the Ogg stream is neither Opus nor Vorbis: %w", ErrUnsupported)
	}
	p := Probe{Codec: stream.codec}
	granule, found, err := lastGranule(w, first.serial)
	if err != nil {
		return Probe{}, err
	}
	if found && granule > stream.preSkip {
		p.DurationMS = msFrom(granule-stream.preSkip, stream.rate)
	}
	return p, nil
}

// lastGranule scans back from the end for the last complete page of the
// stream with the given serial that carries a granule position. It reads
// windows that overlap by half, so a page of ordinary size that straddles
// one window is whole in the next.
func lastGranule(w *window, serial uint32) (uint64, bool, error) {
	const step = windowSize / 2
	for end := w.size; end > 0 && w.size-end < oggTailScan; end -= step {
		start := max(end-windowSize, 0)
		b, err := w.read(start, int(end-start))
		if err != nil {
			return 0, false, err
		}
		for i := len(b); ; {
			i = bytes.LastIndex(b[:i], []byte("OggS"))
			if i < 0 {
				break
			}
			p, ok := parseOggPage(b[i:])
			if ok && p.complete && p.crcOK && p.serial == serial && p.granule != noGranule {
				return p.granule, true, nil
			}
		}
		if start == 0 {
			break
		}
	}
	return 0, false, nil
}

package media

import (
	"bytes"
	"encoding/binary"
	"strings"
)

// maxSniff is the most of a file's head that Sniff looks at. It is enough
// to see past the ID3 tags, JPEG APP segments and WebM headers that come
// before the bytes that decide a type, and small enough to keep in memory
// for every upload.
const maxSniff = 64 << 10

// Sniff decides the kind and content type of a file from its first bytes
// (at least 512 unless the file is shorter, up to 64 KiB are used) and the
// type the client claimed, which may be empty or a lie.
//
// The content decides: only the allowlisted formats (JPEG, PNG, GIF and WebP
// images; MP4/MOV and WebM video; Ogg Opus or Vorbis, WebM audio, M4A, AAC,
// MP3 and WAV audio), each of which must also pass a structural check of its
// header, get a media kind. Anything else — SVG, HTML, PDF, executables,
// archives, Matroska that is not WebM, HEIC — is KindFile with
// application/octet-stream.
//
// The claim can only take a media kind away, never give one: when it names
// a family that disagrees with the content (image/* for anything that is not
// an allowlisted image, audio/* or video/* for anything that is not audio or
// video, or a non-media type such as text/html for media content), the
// result is KindFile. An empty or application/octet-stream claim has no
// opinion. Within the audio/video family the claim only breaks the tie for
// MP4 and WebM files whose first bytes do not show a video track, since a
// phone's voice message and its video share those containers.
func Sniff(head []byte, claimed string) (kind, contentType string) {
	if len(head) > maxSniff {
		head = head[:maxSniff]
	}
	family := claimFamily(claimed)
	ct := sniffContent(head, family == KindAudio)
	kind = kindOf(ct)
	if kind == KindFile || !agrees(family, kind) {
		return KindFile, TypeFile
	}
	return kind, ct
}

// Families of a claimed content type, besides the kinds.
const (
	familyNone  = ""      // no opinion: empty or generic binary
	familyAV    = "av"    // audio or video without preference
	familyOther = "other" // a non-media type such as text/html
)

// claimFamily reduces a claimed Content-Type to the family it names. It
// parses leniently, because a lying client may send anything; a garbled
// value counts as a non-media claim.
func claimFamily(claimed string) string {
	mt, _, _ := strings.Cut(claimed, ";")
	mt = strings.ToLower(strings.TrimSpace(mt))
	switch {
	case mt == "", mt == "application/octet-stream", mt == "binary/octet-stream",
		mt == "application/unknown", mt == "application/x-unknown", mt == "*/*":
		return familyNone
	case strings.HasPrefix(mt, "image/"):
		return KindImage
	case strings.HasPrefix(mt, "audio/"):
		return KindAudio
	case strings.HasPrefix(mt, "video/"):
		return KindVideo
	case mt == "application/ogg", mt == "application/mp4":
		return familyAV
	}
	return familyOther
}

// agrees reports whether a claim of the given family is consistent with
// content of the given kind.
func agrees(family, kind string) bool {
	switch family {
	case familyNone:
		return true
	case KindImage:
		return kind == KindImage
	case KindAudio, KindVideo, familyAV:
		return kind == KindAudio || kind == KindVideo
	}
	return false
}

// kindOf maps a content type produced by sniffContent to its kind.
func kindOf(ct string) string {
	switch ct {
	case TypeJPEG, TypePNG, TypeGIF, TypeWebP:
		return KindImage
	case TypeMP4, TypeQuickTime, TypeWebMVideo:
		return KindVideo
	case TypeWebMAudio, TypeOgg, TypeM4A, TypeAAC, TypeMP3, TypeWAV:
		return KindAudio
	}
	return KindFile
}

// sniffContent returns the allowlisted content type b starts with, or "".
func sniffContent(b []byte, preferAudio bool) string {
	switch {
	case isJPEG(b):
		return TypeJPEG
	case isPNG(b):
		return TypePNG
	case isGIF(b):
		return TypeGIF
	case isWebP(b):
		return TypeWebP
	case isWAV(b):
		return TypeWAV
	case isOggAudio(b):
		return TypeOgg
	case bytes.HasPrefix(b, ebmlMagic):
		return sniffWebM(b, preferAudio)
	case len(b) >= 8 && string(b[4:8]) == "ftyp":
		return sniffISOBMFF(b, preferAudio)
	}
	return sniffMPEGAudio(b)
}

// isJPEG walks the marker segments up to the first scan: every segment
// must start with 0xFF and a marker that may stand there, with a sane
// length. A polyglot that merely starts with FF D8 fails; a real JPEG with
// hostile bytes in a comment passes, and ProcessImage drops the comment.
func isJPEG(b []byte) bool {
	if len(b) < 4 || b[0] != 0xFF || b[1] != 0xD8 || b[2] != 0xFF {
		return false
	}
	sawFrame := false
	for i := 2; i+4 <= len(b); {
		if b[i] != 0xFF {
			return false
		}
		m := b[i+1]
		if m == 0xFF { // fill byte
			i++
			continue
		}
		if m < 0xC0 || (m >= 0xD0 && m <= 0xD9) {
			return false // reserved, RSTn, SOI or EOI cannot come before a scan
		}
		if m == 0xDA {
			return sawFrame
		}
		n := int(binary.BigEndian.Uint16(b[i+2:]))
		if n < 2 {
			return false
		}
		if isSOF(m) {
			if n < 8 || i+9 > len(b) {
				return i+9 > len(b) // the frame header runs past the head
			}
			h := binary.BigEndian.Uint16(b[i+5:])
			w := binary.BigEndian.Uint16(b[i+7:])
			if w == 0 || h == 0 {
				return false
			}
			sawFrame = true
		}
		i += 2 + n
	}
	// The head ended inside a segment (a large EXIF block, say) without a
	// contradiction; the decoder will judge the rest.
	return true
}

// isSOF reports whether m is a start-of-frame marker (SOF0–SOF15 without
// DHT, JPG and DAC, which share the range).
func isSOF(m byte) bool {
	return m >= 0xC0 && m <= 0xCF && m != 0xC4 && m != 0xC8 && m != 0xCC
}

var pngMagic = []byte("\x89PNG\r\n\x1a\n")

// isPNG checks the signature and a well-formed IHDR as the first chunk.
func isPNG(b []byte) bool {
	if len(b) < 29 || !bytes.HasPrefix(b, pngMagic) {
		return false
	}
	if binary.BigEndian.Uint32(b[8:]) != 13 || string(b[12:16]) != "IHDR" {
		return false
	}
	w, h := binary.BigEndian.Uint32(b[16:]), binary.BigEndian.Uint32(b[20:])
	if w == 0 || h == 0 || w > 1<<31-1 || h > 1<<31-1 {
		return false
	}
	switch b[25] { // colour type
	case 0, 2, 3, 4, 6:
	default:
		return false
	}
	switch b[24] { // bit depth
	case 1, 2, 4, 8, 16:
		return true
	}
	return false
}

// isGIF checks the header, a non-empty logical screen and, when it is in
// the head, that a block introducer follows the global colour table.
func isGIF(b []byte) bool {
	if len(b) < 13 || (string(b[:6]) != "GIF87a" && string(b[:6]) != "GIF89a") {
		return false
	}
	if binary.LittleEndian.Uint16(b[6:]) == 0 || binary.LittleEndian.Uint16(b[8:]) == 0 {
		return false
	}
	next := 13
	if b[10]&0x80 != 0 {
		next += 3 << (b[10]&7 + 1)
	}
	if next >= len(b) {
		return true
	}
	switch b[next] {
	case 0x21, 0x2C:
		return true
	}
	return false
}

// isWebP checks the RIFF form type and that the first chunk is a VP8, VP8L
// or VP8X chunk with its own signature.
func isWebP(b []byte) bool {
	if len(b) < 30 || string(b[:4]) != "RIFF" || string(b[8:12]) != "WEBP" {
		return false
	}
	switch string(b[12:16]) {
	case "VP8 ":
		return b[23] == 0x9d && b[24] == 0x01 && b[25] == 0x2a
	case "VP8L":
		return b[20] == 0x2f
	case "VP8X":
		return binary.LittleEndian.Uint32(b[16:]) == 10
	}
	return false
}

// isWAV checks the RIFF form type and finds a plausible fmt chunk in the
// head.
func isWAV(b []byte) bool {
	if len(b) < 12 || string(b[:4]) != "RIFF" || string(b[8:12]) != "WAVE" {
		return false
	}
	f, ok := findWAVFormat(b)
	return ok && f.valid()
}

// isOggAudio checks the first Ogg page (beginning of stream, CRC when the
// page is in the head) and that it opens an Opus or Vorbis stream.
func isOggAudio(b []byte) bool {
	p, ok := parseOggPage(b)
	if !ok || p.flags&0x02 == 0 || len(p.body) == 0 {
		return false
	}
	if p.complete && !p.crcOK {
		return false
	}
	_, ok = oggCodec(p.body)
	return ok
}

var ebmlMagic = []byte{0x1A, 0x45, 0xDF, 0xA3}

// sniffWebM requires DocType webm and tells video from audio by the tracks
// seen in the head; Matroska files that are not WebM are not allowlisted.
func sniffWebM(b []byte, preferAudio bool) string {
	info, _ := parseMatroska(bytes.NewReader(b), int64(len(b)), true)
	if info.docType != "webm" {
		return ""
	}
	switch {
	case info.hasVideo:
		return TypeWebMVideo
	case info.hasAudio || preferAudio:
		return TypeWebMAudio
	}
	return TypeWebMVideo
}

// heifBrands are ISO BMFF brands of still images (HEIC, AVIF) and camera
// raw files, which share the container with MP4 but are not video.
var heifBrands = map[string]bool{
	"heic": true, "heix": true, "hevc": true, "hevx": true, "heim": true, "heis": true,
	"mif1": true, "msf1": true, "avif": true, "avis": true, "avci": true, "crx ": true,
}

// topLevelBoxes are the boxes that follow ftyp in the MP4 and QuickTime
// files cameras, phones and encoders write. Requiring one of them rejects
// a polyglot that has an ftyp box and then anything else.
var topLevelBoxes = map[string]bool{
	"moov": true, "mdat": true, "free": true, "skip": true, "wide": true, "uuid": true,
	"moof": true, "sidx": true, "styp": true, "pdin": true, "junk": true, "mfra": true,
	"emsg": true, "prft": true, "meta": true, "udta": true,
}

// audioBrands mark an MP4 that holds only audio (iTunes M4A, audiobooks).
var audioBrands = map[string]bool{"M4A ": true, "M4B ": true, "M4P ": true, "F4A ": true, "F4B ": true}

// sniffISOBMFF checks the ftyp box and the box after it, refuses still
// image brands and tells audio from video by the track handlers in the
// head, then by brand, then by the claim.
func sniffISOBMFF(b []byte, preferAudio bool) string {
	if len(b) < 16 {
		return ""
	}
	size := binary.BigEndian.Uint32(b)
	if size < 16 || size > 4096 || size%4 != 0 {
		return ""
	}
	major := string(b[8:12])
	if !printable(b[8:12]) || heifBrands[major] {
		return ""
	}
	if int(size)+8 <= len(b) {
		next := b[size:]
		ns := binary.BigEndian.Uint32(next)
		if (ns != 0 && ns != 1 && ns < 8) || !topLevelBoxes[string(next[4:8])] {
			return ""
		}
	}
	video, audio := scanHandlers(b)
	switch {
	case video && major == "qt  ":
		return TypeQuickTime
	case video:
		return TypeMP4
	case audio || audioBrands[major] || preferAudio:
		return TypeM4A
	case major == "qt  ":
		return TypeQuickTime
	}
	return TypeMP4
}

// scanHandlers looks for hdlr boxes in b and reports whether a video or a
// sound track was declared. It is a heuristic for the head only: ProbeAV
// walks the boxes properly.
func scanHandlers(b []byte) (video, audio bool) {
	for i := 0; ; {
		j := bytes.Index(b[i:], []byte("hdlr"))
		if j < 0 {
			return video, audio
		}
		i += j + 4
		if i+12 > len(b) {
			return video, audio
		}
		switch string(b[i+8 : i+12]) {
		case "vide":
			video = true
		case "soun":
			audio = true
		}
	}
}

// printable reports whether b is all printable ASCII, as four-character
// codes are.
func printable(b []byte) bool {
	for _, c := range b {
		if c < 0x20 || c > 0x7e {
			return false
		}
	}
	return true
}

// sniffMPEGAudio recognises MP3 and ADTS AAC, after an optional ID3v2 tag.
func sniffMPEGAudio(b []byte) string {
	start, ok := skipID3(b)
	if !ok {
		return ""
	}
	if start >= len(b) {
		// A large tag (cover art) fills the head. A valid ID3v2 header is
		// specific enough, and the bytes are served as audio/mpeg.
		if start > 10 {
			return TypeMP3
		}
		return ""
	}
	// Encoders pad between the tag and the first frame.
	for n := 0; start < len(b) && b[start] == 0 && n < 4096; n++ {
		start++
	}
	b = b[start:]
	if h, ok := parseMP3Header(b); ok {
		if h.size > len(b)-4 {
			return TypeMP3
		}
		if h2, ok := parseMP3Header(b[h.size:]); ok && h2.version == h.version && h2.sampleRate == h.sampleRate {
			return TypeMP3
		}
		return ""
	}
	if h, ok := parseADTSHeader(b); ok {
		if h.size > len(b)-7 {
			return TypeAAC
		}
		if h2, ok := parseADTSHeader(b[h.size:]); ok && h2.sampleRate == h.sampleRate {
			return TypeAAC
		}
	}
	return ""
}

// skipID3 returns the offset after an ID3v2 tag at the start of b (0 when
// there is none); ok is false for a malformed tag header.
func skipID3(b []byte) (int, bool) {
	if len(b) < 10 || string(b[:3]) != "ID3" {
		return 0, true
	}
	if b[3] < 2 || b[3] > 4 || b[4] == 0xFF {
		return 0, false
	}
	size := 0
	for _, c := range b[6:10] {
		if c >= 0x80 {
			return 0, false
		}
		size = size<<7 | int(c)
	}
	end := 10 + size
	if b[5]&0x10 != 0 { // footer present
		end += 10
	}
	return end, true
}

package media_test

import (
	"testing"

	"github.com/plaza-im/plaza/internal/media"
)

func TestSniff(t *testing.T) {
	jpg := encodeJPEG(t, pattern(64, 48))
	pngData := encodePNG(t, pattern(64, 48))
	elf := append([]byte("\x7fELF\x02\x01\x01\x00"), make([]byte, 600)...)
	mz := append([]byte("MZ\x90\x00\x03\x00\x00\x00"), make([]byte, 600)...)
	zip := append([]byte("PK\x03\x04\x14\x00\x00\x00\x08\x00"), make([]byte, 600)...)
	svg := []byte(`<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><script>alert(document.domain)</script><rect width="10" height="10"/></svg>`)
	html := []byte("<!DOCTYPE html><html><body><script>fetch('/api/v1/me')</script></body></html>")
	pdf := []byte("%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\n")
	// A polyglot that starts like a JPEG but is HTML after the signature.
	fakeJPEG := append([]byte{0xFF, 0xD8, 0xFF}, html...)
	// A file that starts like a PNG with a broken IHDR.
	fakePNG := append(append([]byte{}, pngData[:8]...), html...)
	// An MP4 signature followed by a script instead of boxes.
	fakeMP4 := append([]byte("\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2"), html...)
	heic := append([]byte("\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic"), make([]byte, 600)...)
	mkv := buildWebM(webmSpec{docType: "matroska", durationMS: 1000, width: 320, height: 240})
	theora := oggPage(0x02, 0, 1, 0, append([]byte("\x80theora"), make([]byte, 40)...))

	tests := []struct {
		name     string
		data     []byte
		claimed  string
		wantKind string
		wantType string
	}{
		{"jpeg", jpg, "image/jpeg", media.KindImage, media.TypeJPEG},
		{"jpeg without claim", jpg, "", media.KindImage, media.TypeJPEG},
		{"jpeg claimed octet-stream", jpg, "application/octet-stream", media.KindImage, media.TypeJPEG},
		{"png claimed jpeg: content decides within images", pngData, "image/jpeg", media.KindImage, media.TypePNG},
		{"png", pngData, "image/png; charset=binary", media.KindImage, media.TypePNG},
		{"gif", animatedGIF(t, 20, 10, 2), "image/gif", media.KindImage, media.TypeGIF},
		{"webp lossy", mustHex(t, webpLossyHex), "image/webp", media.KindImage, media.TypeWebP},
		{"webp lossless", mustHex(t, webpLosslessAlphaHex), "", media.KindImage, media.TypeWebP},
		{"jpeg with EXIF, comment and trailing html", hostileJPEG(t, 64, 32), "image/jpeg", media.KindImage, media.TypeJPEG},
		{"pixel flood png is still a png", pixelFloodPNG(100000, 100000), "image/png", media.KindImage, media.TypePNG},

		{"mp4 video", buildMP4(mp4Spec{timescale: 1000, duration: 2000, width: 640, height: 360, audio: true, mdat: 100}), "video/mp4", media.KindVideo, media.TypeMP4},
		{"mp4 video moov last, no claim", buildMP4(mp4Spec{timescale: 1000, duration: 2000, width: 640, height: 360, moovLast: true}), "", media.KindVideo, media.TypeMP4},
		{"quicktime", buildMP4(mp4Spec{brand: "qt  ", timescale: 600, duration: 1200, width: 1920, height: 1080}), "video/quicktime", media.KindVideo, media.TypeQuickTime},
		{"m4a by brand", buildMP4(mp4Spec{brand: "M4A ", timescale: 44100, duration: 44100, audio: true, moovLast: true}), "", media.KindAudio, media.TypeM4A},
		{"mp4 audio track only", buildMP4(mp4Spec{timescale: 48000, duration: 48000, audio: true}), "video/mp4", media.KindAudio, media.TypeM4A},
		{"mp4 of unknown content claimed audio", buildMP4(mp4Spec{timescale: 1000, duration: 1000, moovLast: true, mdat: 10}), "audio/mp4", media.KindAudio, media.TypeM4A},
		{"webm video", buildWebM(webmSpec{durationMS: 1500, width: 320, height: 240, blocks: 3}), "video/webm", media.KindVideo, media.TypeWebMVideo},
		{"webm audio", buildWebM(webmSpec{blocks: 3, unknownSizes: true}), "audio/webm;codecs=opus", media.KindAudio, media.TypeWebMAudio},
		{"ogg opus", oggOpus(1000, 312), "audio/ogg", media.KindAudio, media.TypeOgg},
		{"wav", wavFile(16000, 1, 16, 3200), "audio/wav", media.KindAudio, media.TypeWAV},
		{"mp3 with ID3", mp3File(10, 300, false), "audio/mpeg", media.KindAudio, media.TypeMP3},
		{"mp3 bare", mp3File(10, 0, false), "", media.KindAudio, media.TypeMP3},
		{"mp3 whose ID3 tag fills the head", mp3File(2, 100<<10, false), "audio/mpeg", media.KindAudio, media.TypeMP3},
		{"aac adts", adtsFile(10), "audio/aac", media.KindAudio, media.TypeAAC},

		// Hostile and non-allowlisted content.
		{"svg with script", svg, "image/svg+xml", media.KindFile, media.TypeFile},
		{"svg claimed png", svg, "image/png", media.KindFile, media.TypeFile},
		{"html claimed jpeg", html, "image/jpeg", media.KindFile, media.TypeFile},
		{"html unclaimed", html, "", media.KindFile, media.TypeFile},
		{"pdf", pdf, "application/pdf", media.KindFile, media.TypeFile},
		{"ELF claimed mp4", elf, "video/mp4", media.KindFile, media.TypeFile},
		{"MZ claimed mp4", mz, "video/mp4", media.KindFile, media.TypeFile},
		{"zip claimed png", zip, "image/png", media.KindFile, media.TypeFile},
		{"jpeg signature then html", fakeJPEG, "image/jpeg", media.KindFile, media.TypeFile},
		{"png signature then html", fakePNG, "image/png", media.KindFile, media.TypeFile},
		{"ftyp then html", fakeMP4, "video/mp4", media.KindFile, media.TypeFile},
		{"heic is not allowlisted", heic, "image/heic", media.KindFile, media.TypeFile},
		{"matroska that is not webm", mkv, "video/x-matroska", media.KindFile, media.TypeFile},
		{"ogg theora", theora, "video/ogg", media.KindFile, media.TypeFile},
		{"empty", nil, "image/png", media.KindFile, media.TypeFile},

		// The claim can take a media kind away.
		{"jpeg claimed video", jpg, "video/mp4", media.KindFile, media.TypeFile},
		{"jpeg claimed html", jpg, "text/html", media.KindFile, media.TypeFile},
		{"mp4 claimed image", buildMP4(mp4Spec{timescale: 1000, duration: 1000, width: 64, height: 64}), "image/png", media.KindFile, media.TypeFile},
		{"wav claimed video: same family", wavFile(8000, 1, 8, 800), "video/webm", media.KindAudio, media.TypeWAV},
		{"mp3 claimed image", mp3File(5, 0, false), "image/gif", media.KindFile, media.TypeFile},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			kind, ct := media.Sniff(head(tt.data), tt.claimed)
			if kind != tt.wantKind || ct != tt.wantType {
				t.Errorf("Sniff = %s, %s; want %s, %s", kind, ct, tt.wantKind, tt.wantType)
			}
		})
	}
}

// TestSniffShortHeads checks that every prefix of every fixture is either
// its own type or a file, never something else and never a panic.
func TestSniffShortHeads(t *testing.T) {
	samples := map[string][]byte{
		media.TypeJPEG: encodeJPEG(t, pattern(16, 16)),
		media.TypePNG:  encodePNG(t, pattern(16, 16)),
		media.TypeMP4:  buildMP4(mp4Spec{timescale: 1000, duration: 1000, width: 16, height: 16}),
		media.TypeOgg:  oggOpus(200, 312),
		media.TypeWAV:  wavFile(8000, 1, 8, 100),
		media.TypeMP3:  mp3File(3, 0, false),
	}
	for want, data := range samples {
		for n := range min(len(data), 700) {
			if _, ct := media.Sniff(data[:n], ""); ct != want && ct != media.TypeFile {
				t.Errorf("%s cut to %d bytes: got %s, want %s or %s", want, n, ct, want, media.TypeFile)
			}
		}
	}
}

func TestSniffIgnoresBytesPast64KiB(t *testing.T) {
	// A WAV whose fmt chunk sits after 64 KiB of JUNK cannot be judged
	// from the head the caller is asked for, and must not be read further.
	junk := append([]byte("JUNK"), u32le(70<<10)...)
	junk = append(junk, make([]byte, 70<<10)...)
	wav := wavFile(8000, 1, 8, 100)
	data := append(append(append([]byte{}, wav[:12]...), junk...), wav[12:]...)
	if kind, ct := media.Sniff(data, "audio/wav"); kind != media.KindFile {
		t.Errorf("got %s, %s; want %s", kind, ct, media.KindFile)
	}
}

func u32le(v uint32) []byte { return []byte{byte(v), byte(v >> 8), byte(v >> 16), byte(v >> 24)} }

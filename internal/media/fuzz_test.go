package media_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/plaza-im/plaza/internal/media"
)

// The fuzz targets run their seeds in every `go test`; explore with, for
// example, go test -fuzz=FuzzProbeAV -fuzztime=1m ./internal/media/

var kindOfType = map[string]string{
	media.TypeJPEG: media.KindImage, media.TypePNG: media.KindImage, media.TypeGIF: media.KindImage, media.TypeWebP: media.KindImage,
	media.TypeMP4: media.KindVideo, media.TypeQuickTime: media.KindVideo, media.TypeWebMVideo: media.KindVideo,
	media.TypeWebMAudio: media.KindAudio, media.TypeOgg: media.KindAudio, media.TypeM4A: media.KindAudio,
	media.TypeAAC: media.KindAudio, media.TypeMP3: media.KindAudio, media.TypeWAV: media.KindAudio,
	media.TypeFile: media.KindFile,
}

// seedFiles returns one small sample of every format, plus hostile ones.
func seedFiles(tb testing.TB) [][]byte {
	tb.Helper()
	return [][]byte{
		encodeJPEG(tb, pattern(16, 8)),
		hostileJPEG(tb, 16, 8),
		encodePNG(tb, pattern(8, 8)),
		pixelFloodPNG(100000, 100000),
		animatedGIF(tb, 8, 4, 2),
		mustHex(tb, webpLossyHex),
		mustHex(tb, webpLosslessAlphaHex),
		mustHex(tb, webpAnimatedHex),
		buildMP4(mp4Spec{timescale: 1000, duration: 1500, width: 64, height: 48, audio: true, mdat: 16}),
		buildMP4(mp4Spec{brand: "M4A ", timescale: 44100, duration: 44100, audio: true, moovLast: true}),
		buildWebM(webmSpec{durationMS: 1000, width: 64, height: 48, blocks: 3}),
		buildWebM(webmSpec{blocks: 5, unknownSizes: true}),
		oggOpus(200, 312),
		wavFile(8000, 1, 8, 80),
		mp3File(3, 20, true),
		adtsFile(3),
		[]byte("<svg onload=alert(1)><script>alert(2)</script></svg>"),
		[]byte("\x7fELF\x02\x01\x01\x00"),
	}
}

var claims = []string{"", "image/jpeg", "image/png", "video/mp4", "audio/webm", "audio/ogg", "text/html", "application/octet-stream"}

func FuzzSniff(f *testing.F) {
	for i, s := range seedFiles(f) {
		f.Add(s, claims[i%len(claims)])
	}
	f.Fuzz(func(t *testing.T, data []byte, claimed string) {
		kind, ct := media.Sniff(data, claimed)
		if want, ok := kindOfType[ct]; !ok || want != kind {
			t.Fatalf("Sniff = %s, %s; want a known type of that kind", kind, ct)
		}
		if strings.HasPrefix(strings.ToLower(strings.TrimSpace(claimed)), "image/") && kind != media.KindImage && kind != media.KindFile {
			t.Fatalf("claimed %q, got %s; want image or file", claimed, kind)
		}
	})
}

var imageTypes = []string{media.TypeJPEG, media.TypePNG, media.TypeGIF, media.TypeWebP}

func FuzzProcessImage(f *testing.F) {
	for _, s := range seedFiles(f)[:8] {
		_, ct := media.Sniff(s, "")
		for i, it := range imageTypes {
			if it == ct {
				f.Add(s, uint8(i))
			}
		}
	}
	// A small pixel budget keeps each run's memory small whatever
	// dimensions the fuzzer writes into a header.
	lim := media.ImageLimits{MaxPixels: 1 << 18, ThumbMax: 32}
	f.Fuzz(func(t *testing.T, data []byte, typ uint8) {
		ct := imageTypes[int(typ)%len(imageTypes)]
		out, err := media.ProcessImage(bytes.NewReader(data), ct, lim)
		if err != nil {
			if !errors.Is(err, media.ErrCorrupt) && !errors.Is(err, media.ErrUnsupported) && !errors.Is(err, media.ErrTooManyPixels) {
				t.Fatalf("got %v, want one of the sentinel errors", err)
			}
			return
		}
		if len(out.Data) == 0 || out.Width <= 0 || out.Height <= 0 || int64(out.Width)*int64(out.Height) > lim.MaxPixels {
			t.Fatalf("got %d bytes %d×%d, want a non-empty image within the limit", len(out.Data), out.Width, out.Height)
		}
		if out.ThumbWidth > 32 || out.ThumbHeight > 32 || len(out.Thumb) == 0 {
			t.Fatalf("thumb %d×%d of %d bytes, want at most 32×32", out.ThumbWidth, out.ThumbHeight, len(out.Thumb))
		}
		if out.ContentType == media.TypeJPEG {
			for _, m := range jpegMarkers(t, out.Data) {
				if m >= 0xE0 && m <= 0xEF || m == 0xFE {
					t.Fatalf("output has marker %#x; want no APPn or COM segment", m)
				}
			}
		}
	})
}

var avTypes = []string{media.TypeMP4, media.TypeWebMVideo, media.TypeOgg, media.TypeWAV, media.TypeMP3, media.TypeAAC}

func FuzzProbeAV(f *testing.F) {
	probeType := map[string]uint8{
		media.TypeMP4: 0, media.TypeQuickTime: 0, media.TypeM4A: 0, media.TypeWebMVideo: 1, media.TypeWebMAudio: 1,
		media.TypeOgg: 2, media.TypeWAV: 3, media.TypeMP3: 4, media.TypeAAC: 5,
	}
	for _, s := range seedFiles(f) {
		_, ct := media.Sniff(s, "")
		if i, ok := probeType[ct]; ok {
			f.Add(s, i)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte, typ uint8) {
		ct := avTypes[int(typ)%len(avTypes)]
		p, err := media.ProbeAV(bytes.NewReader(data), int64(len(data)), ct)
		if err != nil {
			if !errors.Is(err, media.ErrCorrupt) && !errors.Is(err, media.ErrUnsupported) {
				t.Fatalf("got %v, want ErrCorrupt or ErrUnsupported", err)
			}
			return
		}
		if p.DurationMS < 0 || p.Width < 0 || p.Height < 0 {
			t.Fatalf("got %+v, want no negative field", p)
		}
	})
}

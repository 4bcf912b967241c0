package media_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"math/rand/v2"
	"runtime"
	"strings"
	"testing"

	"github.com/plaza-im/plaza"
	"github.com/plaza-im/plaza/internal/media"
)

// forbidden are byte strings that betray metadata or hostile content in
// an output file.
var forbidden = []string{
	"Exif", "GPS", "PlazaCam", "http://ns.adobe.com", "xmpmeta", "Photoshop", "8BIM",
	"Beijing", "ICC_PROFILE", "<script", "<html", "alert(",
}

func assertClean(t *testing.T, what string, data []byte) {
	t.Helper()
	for _, f := range forbidden {
		if bytes.Contains(data, []byte(f)) {
			t.Errorf("%s contains %q; want no metadata or script bytes", what, f)
		}
	}
}

// jpegMarkers lists the markers before the first scan.
func jpegMarkers(t *testing.T, j []byte) []byte {
	t.Helper()
	var ms []byte
	for i := 2; i+4 <= len(j); {
		m := j[i+1]
		ms = append(ms, m)
		if m == 0xDA {
			return ms
		}
		i += 2 + int(binary.BigEndian.Uint16(j[i+2:]))
	}
	t.Fatalf("no scan in JPEG output")
	return nil
}

// isRed reports whether c is closer to red than to blue, which survives
// JPEG's chroma subsampling at block edges.
func isRed(c color.Color) bool {
	r, _, b, _ := c.RGBA()
	return r > b
}

func TestProcessImageStripsMetadataAndAppliesOrientation(t *testing.T) {
	in := hostileJPEG(t, 64, 32) // orientation 6: stored landscape, shown portrait
	if kind, _ := media.Sniff(head(in), "image/jpeg"); kind != media.KindImage {
		t.Fatalf("Sniff kind = %s, want %s", kind, media.KindImage)
	}
	for _, f := range []string{"Exif", "GPS", "<script"} {
		if !bytes.Contains(in, []byte(f)) {
			t.Fatalf("fixture lacks %q", f)
		}
	}
	out, err := media.ProcessImage(bytes.NewReader(in), media.TypeJPEG, media.ImageLimits{ThumbMax: 16})
	if err != nil {
		t.Fatal(err)
	}
	if out.ContentType != media.TypeJPEG || out.Width != 32 || out.Height != 64 {
		t.Errorf("got %s %d×%d, want %s 32×64", out.ContentType, out.Width, out.Height, media.TypeJPEG)
	}
	assertClean(t, "image", out.Data)
	assertClean(t, "thumbnail", out.Thumb)
	// The GPS latitude is binary in EXIF: look for its rationals.
	latitude := exifTIFF(6, binary.BigEndian)[102:]
	if !bytes.Contains(in, latitude) || bytes.Contains(out.Data, latitude) {
		t.Errorf("GPS latitude in input %v, in output %v; want true, false", bytes.Contains(in, latitude), bytes.Contains(out.Data, latitude))
	}
	for _, m := range jpegMarkers(t, out.Data) {
		if m >= 0xE0 && m <= 0xEF || m == 0xFE {
			t.Errorf("output has marker %#x; want no APPn or COM segment", m)
		}
	}
	if i := bytes.LastIndex(out.Data, []byte{0xFF, 0xD9}); i != len(out.Data)-2 {
		t.Errorf("EOI at %d of %d; want nothing after the image", i, len(out.Data))
	}
	m, err := jpeg.Decode(bytes.NewReader(out.Data))
	if err != nil {
		t.Fatal(err)
	}
	if b := m.Bounds(); b.Dx() != 32 || b.Dy() != 64 {
		t.Errorf("decoded %v, want 32×64", b)
	}
	// The red top-left quadrant of the stored image turns 90° clockwise
	// to the top right.
	for _, p := range []struct {
		x, y int
		red  bool
	}{{28, 4, true}, {20, 28, true}, {4, 4, false}, {28, 60, false}} {
		if got := isRed(m.At(p.x, p.y)); got != p.red {
			t.Errorf("pixel (%d,%d) red = %v, want %v", p.x, p.y, got, p.red)
		}
	}
	if out.ThumbContentType != media.TypeJPEG || out.ThumbWidth != 8 || out.ThumbHeight != 16 {
		t.Errorf("thumb %s %d×%d, want %s 8×16", out.ThumbContentType, out.ThumbWidth, out.ThumbHeight, media.TypeJPEG)
	}
}

func TestProcessImageFormats(t *testing.T) {
	alpha := image.NewNRGBA(image.Rect(0, 0, 40, 30))
	for i := range alpha.Pix {
		alpha.Pix[i] = 0x80
	}
	clearGIF := image.NewPaletted(image.Rect(0, 0, 30, 30), color.Palette{color.Transparent, color.RGBA{0, 0, 255, 255}})
	clearGIF.Pix[0] = 1 // one blue pixel on a transparent field
	var gifBuf bytes.Buffer
	if err := gif.Encode(&gifBuf, clearGIF, nil); err != nil {
		t.Fatal(err)
	}
	exifPNG := withPNGChunk(encodePNG(t, pattern(40, 20)), "eXIf", exifTIFF(8, binary.LittleEndian))

	tests := []struct {
		name                   string
		data                   []byte
		contentType            string
		lim                    media.ImageLimits
		wantType               string
		wantW, wantH           int
		wantThumb              string
		wantThumbW, wantThumbH int
		wantFrames             int // for GIF output
	}{
		{"jpeg large gets a 320 thumbnail", encodeJPEG(t, pattern(1000, 500)), media.TypeJPEG, media.ImageLimits{}, media.TypeJPEG, 1000, 500, media.TypeJPEG, 320, 160, 0},
		{"jpeg portrait thumbnail", encodeJPEG(t, pattern(300, 900)), media.TypeJPEG, media.ImageLimits{}, media.TypeJPEG, 300, 900, media.TypeJPEG, 107, 320, 0},
		{"small jpeg is not enlarged", encodeJPEG(t, pattern(40, 30)), media.TypeJPEG, media.ImageLimits{}, media.TypeJPEG, 40, 30, media.TypeJPEG, 40, 30, 0},
		{"png opaque", encodePNG(t, pattern(40, 30)), media.TypePNG, media.ImageLimits{}, media.TypePNG, 40, 30, media.TypeJPEG, 40, 30, 0},
		{"png with alpha keeps a png thumbnail", encodePNG(t, alpha), media.TypePNG, media.ImageLimits{ThumbMax: 20}, media.TypePNG, 40, 30, media.TypePNG, 20, 15, 0},
		{"png eXIf orientation 8", exifPNG, media.TypePNG, media.ImageLimits{}, media.TypePNG, 20, 40, media.TypeJPEG, 20, 40, 0},
		{"gif animated keeps its frames", animatedGIF(t, 20, 10, 3), media.TypeGIF, media.ImageLimits{}, media.TypeGIF, 20, 10, media.TypeJPEG, 20, 10, 3},
		{"gif over the frame budget keeps one frame", animatedGIF(t, 20, 20, 3), media.TypeGIF, media.ImageLimits{MaxPixels: 1000}, media.TypeGIF, 20, 20, media.TypeJPEG, 20, 20, 1},
		{"gif with transparency keeps a png thumbnail", gifBuf.Bytes(), media.TypeGIF, media.ImageLimits{}, media.TypeGIF, 30, 30, media.TypePNG, 30, 30, 1},
		{"webp lossy becomes jpeg", mustHex(t, webpLossyHex), media.TypeWebP, media.ImageLimits{}, media.TypeJPEG, 24, 16, media.TypeJPEG, 24, 16, 0},
		{"webp lossless with alpha becomes png", mustHex(t, webpLosslessAlphaHex), media.TypeWebP, media.ImageLimits{ThumbMax: 12}, media.TypePNG, 24, 16, media.TypePNG, 12, 8, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := media.ProcessImage(bytes.NewReader(tt.data), tt.contentType, tt.lim)
			if err != nil {
				t.Fatal(err)
			}
			if out.ContentType != tt.wantType || out.Width != tt.wantW || out.Height != tt.wantH {
				t.Errorf("got %s %d×%d, want %s %d×%d", out.ContentType, out.Width, out.Height, tt.wantType, tt.wantW, tt.wantH)
			}
			if out.ThumbContentType != tt.wantThumb || out.ThumbWidth != tt.wantThumbW || out.ThumbHeight != tt.wantThumbH {
				t.Errorf("thumb %s %d×%d, want %s %d×%d", out.ThumbContentType, out.ThumbWidth, out.ThumbHeight, tt.wantThumb, tt.wantThumbW, tt.wantThumbH)
			}
			assertClean(t, "image", out.Data)
			checkDecodes(t, out.Data, out.ContentType, out.Width, out.Height)
			checkDecodes(t, out.Thumb, out.ThumbContentType, out.ThumbWidth, out.ThumbHeight)
			if tt.wantFrames > 0 {
				g, err := gif.DecodeAll(bytes.NewReader(out.Data))
				if err != nil {
					t.Fatal(err)
				}
				if len(g.Image) != tt.wantFrames {
					t.Errorf("got %d frames, want %d", len(g.Image), tt.wantFrames)
				}
			}
			if out.ContentType == media.TypePNG && bytes.Contains(out.Data, []byte("eXIf")) {
				t.Error("PNG output has an eXIf chunk; want none")
			}
		})
	}
}

// checkDecodes decodes data as ct and checks its size.
func checkDecodes(t *testing.T, data []byte, ct string, w, h int) {
	t.Helper()
	cfg, format, err := image.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("decode %s: %v", ct, err)
	}
	if "image/"+format != ct || cfg.Width != w || cfg.Height != h {
		t.Errorf("decoded image/%s %d×%d, want %s %d×%d", format, cfg.Width, cfg.Height, ct, w, h)
	}
}

func TestProcessImageRejects(t *testing.T) {
	jpg := encodeJPEG(t, pattern(64, 48))
	floodJPEG := append([]byte{}, jpg...)
	sof := bytes.Index(floodJPEG, []byte{0xFF, 0xC0})
	binary.BigEndian.PutUint16(floodJPEG[sof+5:], 60000)
	binary.BigEndian.PutUint16(floodJPEG[sof+7:], 60000)
	floodGIF := animatedGIF(t, 10, 10, 1)
	binary.LittleEndian.PutUint16(floodGIF[6:], 65535)
	binary.LittleEndian.PutUint16(floodGIF[8:], 65535)
	pngData := encodePNG(t, pattern(64, 48))

	tests := []struct {
		name        string
		data        []byte
		contentType string
		want        error
		wantCode    string
	}{
		{"pixel flood png", pixelFloodPNG(100000, 100000), media.TypePNG, media.ErrTooManyPixels, plaza.ETooLarge},
		{"pixel flood jpeg", floodJPEG, media.TypeJPEG, media.ErrTooManyPixels, plaza.ETooLarge},
		{"pixel flood gif", floodGIF, media.TypeGIF, media.ErrTooManyPixels, plaza.ETooLarge},
		{"just over the limit", pixelFloodPNG(10001, 5000), media.TypePNG, media.ErrTooManyPixels, plaza.ETooLarge},
		{"truncated jpeg", jpg[:len(jpg)/2], media.TypeJPEG, media.ErrCorrupt, plaza.EInvalid},
		{"truncated png", pngData[:len(pngData)-30], media.TypePNG, media.ErrCorrupt, plaza.EInvalid},
		{"jpeg header only", jpg[:20], media.TypeJPEG, media.ErrCorrupt, plaza.EInvalid},
		{"png sent as jpeg", pngData, media.TypeJPEG, media.ErrCorrupt, plaza.EInvalid},
		{"html sent as jpeg", []byte("<html><script>alert(1)</script></html>"), media.TypeJPEG, media.ErrCorrupt, plaza.EInvalid},
		{"empty", nil, media.TypePNG, media.ErrCorrupt, plaza.EInvalid},
		{"svg", []byte("<svg/>"), "image/svg+xml", media.ErrUnsupported, plaza.EUnsupportedMediaType},
		{"file", jpg, media.TypeFile, media.ErrUnsupported, plaza.EUnsupportedMediaType},
		{"animated webp", mustHex(t, webpAnimatedHex), media.TypeWebP, media.ErrUnsupported, plaza.EUnsupportedMediaType},
		{"truncated webp", mustHex(t, webpLossyHex)[:100], media.TypeWebP, media.ErrCorrupt, plaza.EInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := media.ProcessImage(bytes.NewReader(tt.data), tt.contentType, media.ImageLimits{})
			if !errors.Is(err, tt.want) {
				t.Fatalf("got %v, want %v", err, tt.want)
			}
			if code := plaza.ErrorCode(err); code != tt.wantCode {
				t.Errorf("code %q, want %q", code, tt.wantCode)
			}
		})
	}
}

// TestPixelFloodAllocatesLittle checks that a PNG declaring 10^10 pixels
// (40 GB of RGBA) is refused from its header: the whole call must stay
// within a megabyte of allocations.
func TestPixelFloodAllocatesLittle(t *testing.T) {
	data := pixelFloodPNG(100000, 100000)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, err := media.ProcessImage(bytes.NewReader(data), media.TypePNG, media.ImageLimits{})
	runtime.ReadMemStats(&after)
	if !errors.Is(err, media.ErrTooManyPixels) {
		t.Fatalf("got %v, want %v", err, media.ErrTooManyPixels)
	}
	if got := after.TotalAlloc - before.TotalAlloc; got > 1<<20 {
		t.Errorf("allocated %d bytes, want at most %d", got, 1<<20)
	}
}

func TestProcessImageErrorsNameNoClientData(t *testing.T) {
	_, err := media.ProcessImage(bytes.NewReader(pixelFloodPNG(100000, 100000)), media.TypePNG, media.ImageLimits{})
	if e := plaza.AsError(err); e == nil || strings.Contains(e.Message, "100000") {
		t.Errorf("client message %v; want the generic sentinel message", e)
	}
}

func TestOrient(t *testing.T) {
	// The source is 3×2 with one letter per pixel:
	//   A B C
	//   D E F
	letters := "ABCDEF"
	src := image.NewRGBA(image.Rect(0, 0, 3, 2))
	for i := range 6 {
		src.Pix[4*i], src.Pix[4*i+3] = letters[i], 255
	}
	tests := []struct {
		orientation int
		want        string // rows separated by "/"
	}{
		{1, "ABC/DEF"},
		{2, "CBA/FED"},
		{3, "FED/CBA"},
		{4, "DEF/ABC"},
		{5, "AD/BE/CF"},
		{6, "DA/EB/FC"},
		{7, "FC/EB/DA"},
		{8, "CF/BE/AD"},
		{9, "ABC/DEF"},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.orientation), func(t *testing.T) {
			m := media.Orient(src, tt.orientation)
			b := m.Bounds()
			var rows []string
			for y := b.Min.Y; y < b.Max.Y; y++ {
				var row []byte
				for x := b.Min.X; x < b.Max.X; x++ {
					r, _, _, _ := m.At(x, y).RGBA()
					row = append(row, byte(r>>8))
				}
				rows = append(rows, string(row))
			}
			if got := strings.Join(rows, "/"); got != tt.want {
				t.Errorf("got %s, want %s", got, tt.want)
			}
		})
	}
}

func TestTIFFOrientation(t *testing.T) {
	be, le := binary.BigEndian, binary.LittleEndian
	long := exifTIFF(6, le)
	// Rewrite the orientation entry (IFD0's second, at 8+2+12) as a LONG.
	le.PutUint16(long[8+2+12+2:], 4)
	le.PutUint32(long[8+2+12+8:], 3)
	badCount := exifTIFF(6, be)
	be.PutUint32(badCount[8+2+12+4:], 2)
	badMagic := exifTIFF(6, be)
	badMagic[3] = 43
	farIFD := exifTIFF(6, be)
	be.PutUint32(farIFD[4:], 1<<30)

	tests := []struct {
		name string
		tiff []byte
		want int
	}{
		{"big endian", exifTIFF(6, be), 6},
		{"little endian", exifTIFF(3, le), 3},
		{"long type", long, 3},
		{"out of range value", exifTIFF(9, be), 0},
		{"count of two", badCount, 0},
		{"bad magic", badMagic, 0},
		{"IFD offset past the end", farIFD, 0},
		{"truncated in IFD0", exifTIFF(6, be)[:20], 0},
		{"empty", nil, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := media.TIFFOrientation(tt.tiff); got != tt.want {
				t.Errorf("got %d, want %d", got, tt.want)
			}
		})
	}
}

func TestFit(t *testing.T) {
	tests := []struct{ w, h, limit, wantW, wantH int }{
		{4000, 3000, 320, 320, 240},
		{3000, 4000, 320, 240, 320},
		{100, 50, 320, 100, 50},
		{50_000_000, 1, 320, 320, 1},
		{1, 50_000_000, 320, 1, 320},
		{321, 320, 320, 320, 319},
	}
	for _, tt := range tests {
		if w, h := media.Fit(tt.w, tt.h, tt.limit); w != tt.wantW || h != tt.wantH {
			t.Errorf("Fit(%d, %d, %d) = %d×%d, want %d×%d", tt.w, tt.h, tt.limit, w, h, tt.wantW, tt.wantH)
		}
	}
}

// photo makes a w×h image with gradients and noise, which compresses
// about as a phone photo does.
func photo(w, h int) *image.RGBA {
	m := image.NewRGBA(image.Rect(0, 0, w, h))
	rng := rand.New(rand.NewPCG(1, 2))
	for y := range h {
		for x := range w {
			i := m.PixOffset(x, y)
			n := uint8(rng.IntN(48))
			m.Pix[i] = uint8(x*255/w) + n
			m.Pix[i+1] = uint8(y*255/h) + n
			m.Pix[i+2] = uint8((x+y)*255/(w+h)) + n
			m.Pix[i+3] = 255
		}
	}
	return m
}

// BenchmarkProcessImage12MP processes a 4000×3000 JPEG (a 12-megapixel
// phone photo) with EXIF orientation 6: decode, rotate, re-encode at
// quality 85 and thumbnail. MB/s counts input bytes.
func BenchmarkProcessImage12MP(b *testing.B) {
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, photo(4000, 3000), &jpeg.Options{Quality: 92}); err != nil {
		b.Fatal(err)
	}
	data := withSegments(buf.Bytes(), jpegSegment(0xE1, append([]byte("Exif\x00\x00"), exifTIFF(6, binary.BigEndian)...)))
	b.SetBytes(int64(len(data)))
	b.ResetTimer()
	for b.Loop() {
		if _, err := media.ProcessImage(bytes.NewReader(data), media.TypeJPEG, media.ImageLimits{}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(data))/(1<<20), "MiB-input")
}

// BenchmarkProcessImage12MPUpright is the same photo without an
// orientation tag, the cost without the rotation.
func BenchmarkProcessImage12MPUpright(b *testing.B) {
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, photo(4000, 3000), &jpeg.Options{Quality: 92}); err != nil {
		b.Fatal(err)
	}
	data := buf.Bytes()
	b.SetBytes(int64(len(data)))
	b.ResetTimer()
	for b.Loop() {
		if _, err := media.ProcessImage(bytes.NewReader(data), media.TypeJPEG, media.ImageLimits{}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkProcessImagePNG processes a 2000×1500 screenshot-like PNG.
func BenchmarkProcessImagePNG(b *testing.B) {
	var buf bytes.Buffer
	if err := png.Encode(&buf, photo(2000, 1500)); err != nil {
		b.Fatal(err)
	}
	data := buf.Bytes()
	b.SetBytes(int64(len(data)))
	b.ResetTimer()
	for b.Loop() {
		if _, err := media.ProcessImage(bytes.NewReader(data), media.TypePNG, media.ImageLimits{}); err != nil {
			b.Fatal(err)
		}
	}
}

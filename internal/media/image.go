package media

import (
	"bytes"
	"fmt"
	"image"
	"image/gif"
	"image/jpeg"
	"image/png"
	"io"
	"strings"

	"golang.org/x/image/webp"
)

// ImageLimits bounds ProcessImage. Zero fields take their defaults.
type ImageLimits struct {
	// MaxPixels is the most pixels an image may declare (width × height,
	// and for an animated GIF the sum over its frames); default 50,000,000.
	MaxPixels int64
	// ThumbMax is the longest side of the thumbnail in pixels; default 320.
	ThumbMax int
}

// Defaults for ImageLimits.
const (
	DefaultMaxPixels = 50_000_000
	DefaultThumbMax  = 320
)

func (l ImageLimits) withDefaults() ImageLimits {
	if l.MaxPixels <= 0 {
		l.MaxPixels = DefaultMaxPixels
	}
	if l.ThumbMax <= 0 {
		l.ThumbMax = DefaultThumbMax
	}
	return l
}

// JPEG qualities. 85 keeps photos visually unchanged at about a third of
// the size of quality 100; thumbnails are small enough for 80.
const (
	jpegQuality      = 85
	thumbJPEGQuality = 80
)

// maxGIFFrames bounds the frames of an animated GIF kept animated; each
// frame costs a palette and an image header besides its pixels.
const maxGIFFrames = 1000

// Image is a processed image: the bytes to serve and a thumbnail, both
// re-encoded from decoded pixels, so they carry no metadata at all.
type Image struct {
	Data        []byte
	ContentType string
	// Width and Height are the upright dimensions, after orientation.
	Width, Height    int
	Thumb            []byte
	ThumbContentType string
	ThumbWidth       int
	ThumbHeight      int
}

// ProcessImage decodes an allowlisted image (contentType as Sniff returned
// it) and re-encodes it without any metadata: no EXIF or GPS, XMP, IPTC,
// ICC profile or comment survives, nor anything hidden in them or after
// the image data. It reads r to the end; the caller bounds its size.
//
// The declared dimensions are checked against lim.MaxPixels before any
// pixel is decoded, so a "pixel flood" fails fast with ErrTooManyPixels.
// JPEG (and PNG with an eXIf chunk) orientation is applied, so the output
// is upright without a tag. Formats come out as:
//
//   - JPEG → JPEG at quality 85;
//   - PNG → PNG;
//   - GIF → GIF, every frame kept when the frames' pixels together stay
//     within MaxPixels and there are at most 1000 of them, otherwise the
//     first frame only;
//   - WebP → PNG for lossless or transparent images, JPEG otherwise, since
//     Go has no WebP encoder; animated WebP is ErrUnsupported.
//
// The thumbnail (CatmullRom, longest side lim.ThumbMax, never enlarged) is
// a JPEG, or a PNG when the image has transparency. Truncated or corrupt
// data is ErrCorrupt.
func ProcessImage(r io.Reader, contentType string, lim ImageLimits) (Image, error) {
	lim = lim.withDefaults()
	data, err := io.ReadAll(r)
	if err != nil {
		return Image{}, fmt.Errorf("process image: read: %w", err)
	}
	mt, _, _ := strings.Cut(contentType, ";")
	mt = strings.ToLower(strings.TrimSpace(mt))
	var decodeConfig func(io.Reader) (image.Config, error)
	switch mt {
	case TypeJPEG:
		decodeConfig = jpeg.DecodeConfig
	case TypePNG:
		decodeConfig = png.DecodeConfig
	case TypeGIF:
		decodeConfig = gif.DecodeConfig
	case TypeWebP:
		decodeConfig = webp.DecodeConfig
	default:
		return Image{}, fmt.Errorf("process image: content type %q: %w", contentType, ErrUnsupported)
	}
	cfg, err := decodeConfig(bytes.NewReader(data))
	if err != nil {
		return Image{}, fmt.Errorf("process image: %w", decodeError(mt, "header", err))
	}
	if cfg.Width <= 0 || cfg.Height <= 0 {
		return Image{}, fmt.Errorf("process image: %s of %d×%d: %w", mt, cfg.Width, cfg.Height, ErrCorrupt)
	}
	if px := int64(cfg.Width) * int64(cfg.Height); px > lim.MaxPixels {
		return Image{}, fmt.Errorf("process image: %s of %d×%d is %d pixels, more than %d: %w",
			mt, cfg.Width, cfg.Height, px, lim.MaxPixels, ErrTooManyPixels)
	}
	var out Image
	switch mt {
	case TypeJPEG:
		out, err = processJPEG(data, lim.ThumbMax)
	case TypePNG:
		out, err = processPNG(data, lim.ThumbMax)
	case TypeGIF:
		out, err = processGIF(data, lim)
	case TypeWebP:
		out, err = processWebP(data, lim.ThumbMax)
	}
	if err != nil {
		return Image{}, fmt.Errorf("process image: %w", err)
	}
	return out, nil
}

// decodeError classifies a decoder's error: the decoders' own
// UnsupportedError types (12-bit JPEG, say) are ErrUnsupported, everything
// else (truncation, bad checksums, invalid codes) is ErrCorrupt.
func decodeError(mt, what string, err error) error {
	switch err.(type) {
	case jpeg.UnsupportedError, png.UnsupportedError:
		return fmt.Errorf("%s %s: %v: %w", mt, what, err, ErrUnsupported)
	}
	return fmt.Errorf("%s %s: %v: %w", mt, what, err, ErrCorrupt)
}

// finish encodes the upright image and its thumbnail.
func finish(m image.Image, encode func(io.Writer, image.Image) error, ct string, thumbMax int) (Image, error) {
	var buf bytes.Buffer
	if err := encode(&buf, m); err != nil {
		return Image{}, fmt.Errorf("encode %s: %w", ct, err)
	}
	out := Image{Data: buf.Bytes(), ContentType: ct, Width: m.Bounds().Dx(), Height: m.Bounds().Dy()}
	if err := out.addThumb(m, thumbMax); err != nil {
		return Image{}, err
	}
	return out, nil
}

func encodeJPEG(w io.Writer, m image.Image) error {
	return jpeg.Encode(w, m, &jpeg.Options{Quality: jpegQuality})
}

func processJPEG(data []byte, thumbMax int) (Image, error) {
	m, err := jpeg.Decode(bytes.NewReader(data))
	if err != nil {
		return Image{}, decodeError(TypeJPEG, "data", err)
	}
	m = orient(m, jpegOrientation(data))
	return finish(m, encodeJPEG, TypeJPEG, thumbMax)
}

func processPNG(data []byte, thumbMax int) (Image, error) {
	m, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		return Image{}, decodeError(TypePNG, "data", err)
	}
	m = orient(m, pngOrientation(data))
	return finish(m, png.Encode, TypePNG, thumbMax)
}

func processWebP(data []byte, thumbMax int) (Image, error) {
	// VP8X flags: bit 1 marks an animation, which x/image/webp cannot
	// decode; say so rather than calling the file corrupt.
	if len(data) >= 21 && string(data[12:16]) == "VP8X" && data[20]&0x02 != 0 {
		return Image{}, fmt.Errorf("animated WebP: %w", ErrUnsupported)
	}
	m, err := webp.Decode(bytes.NewReader(data))
	if err != nil {
		return Image{}, decodeError(TypeWebP, "data", err)
	}
	// Lossy VP8 decodes to YCbCr: a photo, kept lossy. Lossless VP8L and
	// anything with alpha decode to other types and stay lossless.
	if _, ok := m.(*image.YCbCr); ok {
		return finish(m, encodeJPEG, TypeJPEG, thumbMax)
	}
	return finish(m, png.Encode, TypePNG, thumbMax)
}

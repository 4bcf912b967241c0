package media

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
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
	// MaxDecodeBytes is the most memory an image's decoded pixels may
	// take (width × height × bytes per pixel of its color model, see
	// DecodeBytes); default 256 MiB. Pixel count alone lets a 16-bit RGBA
	// image take eight times what a paletted one of the same size does.
	MaxDecodeBytes int64
}

// Defaults for ImageLimits.
const (
	DefaultMaxPixels      = 50_000_000
	DefaultThumbMax       = 320
	DefaultMaxDecodeBytes = 256 << 20
)

func (l ImageLimits) withDefaults() ImageLimits {
	if l.MaxPixels <= 0 {
		l.MaxPixels = DefaultMaxPixels
	}
	if l.MaxDecodeBytes <= 0 {
		l.MaxDecodeBytes = DefaultMaxDecodeBytes
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
	mt, err := checkImage(bytes.NewReader(data), contentType, lim)
	if err != nil {
		return Image{}, fmt.Errorf("process image: %w", err)
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

// DecodeBytes reads an image's header from r and returns the memory its
// decoded pixels take (width × height × bytes per pixel), or the error
// ProcessImage would return for the header: ErrTooManyPixels or
// ErrTooMuchMemory past lim, ErrCorrupt, ErrUnsupported. It decodes no
// pixel.
func DecodeBytes(r io.Reader, contentType string, lim ImageLimits) (int64, error) {
	lim = lim.withDefaults()
	mt, _, _ := strings.Cut(contentType, ";")
	mt = strings.ToLower(strings.TrimSpace(mt))
	cfg, err := decodeConfig(r, mt)
	if err != nil {
		return 0, err
	}
	n := decodeBytes(cfg)
	if _, err := checkConfig(cfg, mt, lim); err != nil {
		return n, err
	}
	return n, nil
}

// checkImage reads the header and applies lim, returning the media type.
func checkImage(r io.Reader, contentType string, lim ImageLimits) (string, error) {
	mt, _, _ := strings.Cut(contentType, ";")
	mt = strings.ToLower(strings.TrimSpace(mt))
	cfg, err := decodeConfig(r, mt)
	if err != nil {
		return "", err
	}
	return checkConfig(cfg, mt, lim)
}

func decodeConfig(r io.Reader, mt string) (image.Config, error) {
	var dc func(io.Reader) (image.Config, error)
	switch mt {
	case TypeJPEG:
		dc = jpeg.DecodeConfig
	case TypePNG:
		dc = png.DecodeConfig
	case TypeGIF:
		dc = gif.DecodeConfig
	case TypeWebP:
		dc = webp.DecodeConfig
	default:
		return image.Config{}, fmt.Errorf("content type %q: %w", mt, ErrUnsupported)
	}
	cfg, err := dc(r)
	if err != nil {
		return image.Config{}, decodeError(mt, "header", err)
	}
	return cfg, nil
}

func checkConfig(cfg image.Config, mt string, lim ImageLimits) (string, error) {
	if cfg.Width <= 0 || cfg.Height <= 0 {
		return "", fmt.Errorf("%s of %d×%d: %w", mt, cfg.Width, cfg.Height, ErrCorrupt)
	}
	if px := int64(cfg.Width) * int64(cfg.Height); px > lim.MaxPixels {
		return "", fmt.Errorf("%s of %d×%d is %d pixels, more than %d: %w",
			mt, cfg.Width, cfg.Height, px, lim.MaxPixels, ErrTooManyPixels)
	}
	if n := decodeBytes(cfg); n > lim.MaxDecodeBytes {
		return "", fmt.Errorf("%s of %d×%d takes %d bytes decoded, more than %d: %w",
			mt, cfg.Width, cfg.Height, n, lim.MaxDecodeBytes, ErrTooMuchMemory)
	}
	return mt, nil
}

// decodeBytes is the memory of an image's decoded pixels.
func decodeBytes(cfg image.Config) int64 {
	return int64(cfg.Width) * int64(cfg.Height) * bytesPerPixel(cfg.ColorModel)
}

// bytesPerPixel is what Go's decoders allocate per pixel for a color
// model; YCbCr counts as 4:4:4, its largest subsampling. An unknown model
// counts as the largest, 16-bit RGBA.
func bytesPerPixel(m color.Model) int64 {
	if _, ok := m.(color.Palette); ok {
		return 1
	}
	switch m {
	case color.GrayModel, color.AlphaModel:
		return 1
	case color.Gray16Model, color.Alpha16Model:
		return 2
	case color.YCbCrModel:
		return 3
	case color.RGBAModel, color.NRGBAModel, color.CMYKModel, color.NYCbCrAModel:
		return 4
	}
	return 8
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

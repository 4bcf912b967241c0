package media

import (
	"bytes"
	"encoding/binary"
	"image"
	"image/draw"
	"image/gif"
)

// gifFrames walks the blocks of a GIF without decoding any pixels and
// returns the number of frames and the sum of their areas, so the cost of
// decoding every frame is known before paying it. It stops quietly at
// anything malformed: the decoder reports that.
func gifFrames(b []byte) (frames int, area int64) {
	if len(b) < 13 {
		return 0, 0
	}
	i := 13
	if b[10]&0x80 != 0 {
		i += 3 << (b[10]&7 + 1)
	}
	skipSubBlocks := func() {
		for i < len(b) {
			n := int(b[i])
			i++
			if n == 0 {
				return
			}
			i += n
		}
	}
	for i < len(b) {
		switch b[i] {
		case 0x21: // extension: label, then data sub-blocks
			i += 2
			skipSubBlocks()
		case 0x2C: // image descriptor
			if i+10 > len(b) {
				return frames, area
			}
			w, h := binary.LittleEndian.Uint16(b[i+5:]), binary.LittleEndian.Uint16(b[i+7:])
			flags := b[i+9]
			i += 10
			if flags&0x80 != 0 {
				i += 3 << (flags&7 + 1)
			}
			i++ // LZW minimum code size
			skipSubBlocks()
			frames++
			area += int64(w) * int64(h)
		default: // trailer, or something the decoder will refuse
			return frames, area
		}
	}
	return frames, area
}

// processGIF keeps an animation when its frames fit the pixel budget and
// the frame limit, and otherwise keeps only the first frame. Re-encoding
// writes only the frames, their delays and disposal, and the loop count:
// comment and application extensions (XMP among them) are dropped.
func processGIF(data []byte, lim ImageLimits) (Image, error) {
	var g *gif.GIF
	if frames, area := gifFrames(data); frames > 1 && frames <= maxGIFFrames && area <= lim.MaxPixels {
		var err error
		if g, err = gif.DecodeAll(bytes.NewReader(data)); err != nil {
			return Image{}, decodeError(TypeGIF, "frames", err)
		}
	} else {
		cfg, err := gif.DecodeConfig(bytes.NewReader(data))
		if err != nil {
			return Image{}, decodeError(TypeGIF, "header", err)
		}
		m, err := gif.Decode(bytes.NewReader(data))
		if err != nil {
			return Image{}, decodeError(TypeGIF, "data", err)
		}
		p, ok := m.(*image.Paletted)
		if !ok {
			return Image{}, decodeError(TypeGIF, "data", errNotPaletted)
		}
		g = &gif.GIF{Image: []*image.Paletted{p}, Delay: []int{0}, Config: cfg}
	}
	if len(g.Image) == 0 {
		return Image{}, decodeError(TypeGIF, "data", errNotPaletted)
	}
	var buf bytes.Buffer
	if err := gif.EncodeAll(&buf, g); err != nil {
		return Image{}, decodeError(TypeGIF, "re-encode", err)
	}
	// The first frame may cover only part of the logical screen: draw it
	// where it belongs for the thumbnail.
	w, h := g.Config.Width, g.Config.Height
	if w <= 0 || h <= 0 {
		w, h = g.Image[0].Rect.Max.X, g.Image[0].Rect.Max.Y
	}
	canvas := image.NewNRGBA(image.Rect(0, 0, w, h))
	draw.Draw(canvas, g.Image[0].Rect, g.Image[0], g.Image[0].Rect.Min, draw.Over)
	out := Image{Data: buf.Bytes(), ContentType: TypeGIF, Width: w, Height: h}
	if err := out.addThumb(canvas, lim.ThumbMax); err != nil {
		return Image{}, err
	}
	return out, nil
}

// errNotPaletted stands for a GIF decode that produced no usable frame.
var errNotPaletted = gifError("no paletted frame")

type gifError string

func (e gifError) Error() string { return "gif: " + string(e) }

package media

import (
	"bytes"
	"fmt"
	"image"
	stddraw "image/draw"
	"image/jpeg"
	"image/png"

	"golang.org/x/image/draw"
)

// orient returns m transformed as EXIF orientation o says, so the result is
// upright with no tag. Orientation 1 (or an unknown value) returns m as is.
// The pixels are first brought into a 4-bytes-per-pixel buffer: RGBA for
// opaque images (the standard library converts YCbCr to it fast), NRGBA
// when there is transparency, so alpha is not rounded by premultiplying.
func orient(m image.Image, o int) image.Image {
	if o <= orientNormal || o > orientRotate270 {
		return m
	}
	b := m.Bounds()
	w, h := b.Dx(), b.Dy()
	var src []byte
	var srcStride int
	newDst := func(r image.Rectangle) (image.Image, []byte, int) {
		d := image.NewRGBA(r)
		return d, d.Pix, d.Stride
	}
	if opaque(m) {
		s, ok := m.(*image.RGBA)
		if !ok || s.Rect.Min != (image.Point{}) {
			s = image.NewRGBA(image.Rect(0, 0, w, h))
			stddraw.Draw(s, s.Rect, m, b.Min, stddraw.Src)
		}
		src, srcStride = s.Pix, s.Stride
	} else {
		s, ok := m.(*image.NRGBA)
		if !ok || s.Rect.Min != (image.Point{}) {
			s = image.NewNRGBA(image.Rect(0, 0, w, h))
			stddraw.Draw(s, s.Rect, m, b.Min, stddraw.Src)
		}
		src, srcStride = s.Pix, s.Stride
		newDst = func(r image.Rectangle) (image.Image, []byte, int) {
			d := image.NewNRGBA(r)
			return d, d.Pix, d.Stride
		}
	}
	dw, dh := w, h
	if o >= orientTranspose {
		dw, dh = h, w
	}
	dst, pix, stride := newDst(image.Rect(0, 0, dw, dh))
	// Walk the source in order (the larger buffer, read sequentially) and
	// compute where each pixel lands.
	for y := range h {
		row := src[y*srcStride : y*srcStride+4*w]
		for x := range w {
			var dx, dy int
			switch o {
			case orientFlipH:
				dx, dy = w-1-x, y
			case orientRotate180:
				dx, dy = w-1-x, h-1-y
			case orientFlipV:
				dx, dy = x, h-1-y
			case orientTranspose:
				dx, dy = y, x
			case orientRotate90:
				dx, dy = h-1-y, x
			case orientTransverse:
				dx, dy = h-1-y, w-1-x
			case orientRotate270:
				dx, dy = y, w-1-x
			}
			i := dy*stride + 4*dx
			copy(pix[i:i+4], row[4*x:4*x+4])
		}
	}
	return dst
}

// opaque reports whether m has no transparent pixel. Image types without
// an Opaque method count as transparent, which only costs a PNG thumbnail
// where a JPEG would have done.
func opaque(m image.Image) bool {
	if o, ok := m.(interface{ Opaque() bool }); ok {
		return o.Opaque()
	}
	return false
}

// fit scales w×h down to fit a square of side limit, keeping the aspect
// ratio and at least one pixel per side; it never enlarges.
func fit(w, h, limit int) (int, int) {
	if w <= limit && h <= limit {
		return w, h
	}
	if w >= h {
		return limit, max(1, int((int64(h)*int64(limit)+int64(w)/2)/int64(w)))
	}
	return max(1, int((int64(w)*int64(limit)+int64(h)/2)/int64(h))), limit
}

// addThumb scales m with CatmullRom (sharp and without ringing worth
// noticing at thumbnail sizes) and encodes the result.
func (img *Image) addThumb(m image.Image, limit int) error {
	b := m.Bounds()
	tw, th := fit(b.Dx(), b.Dy(), limit)
	isOpaque := opaque(m)
	m = prescale(m, tw, th)
	b = m.Bounds()
	var t image.Image
	if isOpaque {
		d := image.NewRGBA(image.Rect(0, 0, tw, th))
		draw.CatmullRom.Scale(d, d.Rect, m, b, draw.Src, nil)
		t = d
	} else {
		d := image.NewNRGBA(image.Rect(0, 0, tw, th))
		draw.CatmullRom.Scale(d, d.Rect, m, b, draw.Src, nil)
		t = d
	}
	var buf bytes.Buffer
	if isOpaque {
		if err := jpeg.Encode(&buf, t, &jpeg.Options{Quality: thumbJPEGQuality}); err != nil {
			return fmt.Errorf("encode thumbnail: %w", err)
		}
		img.ThumbContentType = TypeJPEG
	} else {
		if err := png.Encode(&buf, t); err != nil {
			return fmt.Errorf("encode thumbnail: %w", err)
		}
		img.ThumbContentType = TypePNG
	}
	img.Thumb, img.ThumbWidth, img.ThumbHeight = buf.Bytes(), tw, th
	return nil
}

// prescale shrinks m by a whole factor with a box filter when it is at
// least twice the target size in both directions, leaving the final,
// sharper CatmullRom pass a small source. CatmullRom's cost grows with the
// scale factor (on a 12-megapixel photo it was about a third of all the
// processing); averaging whole blocks is cheap and is itself a proper
// low-pass filter, so nothing aliases. Up to factor-1 edge pixels are
// dropped, which a thumbnail cannot show. Averaging is done on
// premultiplied RGBA so transparent pixels do not bleed their colour.
func prescale(m image.Image, tw, th int) image.Image {
	b := m.Bounds()
	k := min(b.Dx()/(2*tw), b.Dy()/(2*th))
	if k < 2 {
		return m
	}
	src, ok := m.(*image.RGBA)
	if !ok || src.Rect.Min != (image.Point{}) {
		src = image.NewRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
		stddraw.Draw(src, src.Rect, m, b.Min, stddraw.Src)
	}
	dw, dh := src.Rect.Dx()/k, src.Rect.Dy()/k
	dst := image.NewRGBA(image.Rect(0, 0, dw, dh))
	acc := make([]uint32, 4*dw)
	area := uint32(k * k)
	for dy := range dh {
		clear(acc)
		for y := dy * k; y < dy*k+k; y++ {
			row := src.Pix[y*src.Stride : y*src.Stride+4*dw*k]
			for x := 0; x < dw*k; x++ {
				a := acc[4*(x/k) : 4*(x/k)+4]
				p := row[4*x : 4*x+4]
				a[0] += uint32(p[0])
				a[1] += uint32(p[1])
				a[2] += uint32(p[2])
				a[3] += uint32(p[3])
			}
		}
		out := dst.Pix[dy*dst.Stride : dy*dst.Stride+4*dw]
		for i, v := range acc {
			out[i] = uint8((v + area/2) / area)
		}
	}
	return dst
}

package media

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"image"
	"image/jpeg"
	"image/png"
	"io"

	"golang.org/x/image/draw"

	"github.com/plaza-im/plaza"
)

// Profile photo sizes: the photo, and its small version for lists.
const (
	AvatarSize      = 256
	AvatarSmallSize = 64
)

// SquareCrop returns the largest centred square of m, scaled to size×size
// with CatmullRom (smaller squares are enlarged, so every photo has one
// size). The result is RGBA when m is opaque, NRGBA otherwise.
func SquareCrop(m image.Image, size int) image.Image {
	b := m.Bounds()
	side := min(b.Dx(), b.Dy())
	x0 := b.Min.X + (b.Dx()-side)/2
	y0 := b.Min.Y + (b.Dy()-side)/2
	src := image.Rect(x0, y0, x0+side, y0+side)
	if opaque(m) {
		d := image.NewRGBA(image.Rect(0, 0, size, size))
		draw.CatmullRom.Scale(d, d.Rect, m, src, draw.Src, nil)
		return d
	}
	d := image.NewNRGBA(image.Rect(0, 0, size, size))
	draw.CatmullRom.Scale(d, d.Rect, m, src, draw.Src, nil)
	return d
}

// encodeSquare encodes a cropped photo: JPEG when opaque, PNG otherwise.
// Either way it is written from pixels, so it carries no metadata.
func encodeSquare(m image.Image) ([]byte, string, error) {
	var buf bytes.Buffer
	if opaque(m) {
		if err := jpeg.Encode(&buf, m, &jpeg.Options{Quality: jpegQuality}); err != nil {
			return nil, "", err
		}
		return buf.Bytes(), TypeJPEG, nil
	}
	if err := png.Encode(&buf, m); err != nil {
		return nil, "", err
	}
	return buf.Bytes(), TypePNG, nil
}

// MakeAvatar makes a profile photo from owner's image item src: a new
// image item of owner's, the centred square of src at AvatarSize pixels,
// with its AvatarSmallSize version as the thumbnail. src must be owner's
// own (otherwise not_found, whether it exists or not) and an image
// (otherwise invalid_request on media_id). The new item counts against
// owner's quota like any upload.
func (s *Service) MakeAvatar(ctx context.Context, owner, src plaza.ID) (_ Item, err error) {
	it, err := s.Get(ctx, src)
	if err != nil || it.OwnerID != owner {
		return Item{}, plaza.Errorf(plaza.ENotFound, "media not found")
	}
	if it.Kind != KindImage {
		return Item{}, plaza.Invalid("media_id", "must be an image you uploaded")
	}
	obj, err := s.Open(ctx, it, false)
	if err != nil {
		return Item{}, fmt.Errorf("make profile photo: %w", err)
	}
	data, err := io.ReadAll(io.LimitReader(obj, s.cfg.MaxImage+1))
	obj.Close()
	if err != nil {
		return Item{}, fmt.Errorf("make profile photo: %w", err)
	}
	// The stored image passed the limits once; the gate still bounds how
	// many are decoded at once.
	cost, err := DecodeBytes(bytes.NewReader(data), it.ContentType, s.cfg.Images)
	if err != nil {
		return Item{}, fmt.Errorf("make profile photo: %w", err)
	}
	release, err := s.gate.acquire(ctx, owner, cost)
	if err != nil {
		return Item{}, err
	}
	m, _, err := image.Decode(bytes.NewReader(data))
	if err != nil {
		release()
		return Item{}, fmt.Errorf("make profile photo: decode: %v: %w", err, ErrCorrupt)
	}
	big, small := SquareCrop(m, AvatarSize), SquareCrop(m, AvatarSmallSize)
	release()
	body, ctype, err := encodeSquare(big)
	if err != nil {
		return Item{}, fmt.Errorf("make profile photo: %w", err)
	}
	thumb, thumbType, err := encodeSquare(small)
	if err != nil {
		return Item{}, fmt.Errorf("make profile photo: %w", err)
	}

	res, err := s.Reserve(ctx, owner, int64(len(body)), false)
	if err != nil {
		return Item{}, err
	}
	defer func() {
		if err != nil {
			if rerr := s.Release(context.WithoutCancel(ctx), res.ID); rerr != nil {
				s.log.Warn("could not release media reservation", "err", rerr)
			}
		}
	}()
	sum := sha256.Sum256(body)
	out := Item{ID: plaza.NewID(), OwnerID: owner, Kind: KindImage, ContentType: ctype, Size: int64(len(body)),
		Width: AvatarSize, Height: AvatarSize, SHA256: hex.EncodeToString(sum[:]), CreatedAt: s.now()}
	out.key, out.thumbKey, out.thumbType = blobKey(out.ID, ""), blobKey(out.ID, "thumb"), thumbType
	if err := s.store.Put(ctx, out.thumbKey, bytes.NewReader(thumb), int64(len(thumb)), thumbType); err != nil {
		return Item{}, fmt.Errorf("make profile photo: store: %w", err)
	}
	if err := s.store.Put(ctx, out.key, bytes.NewReader(body), out.Size, ctype); err != nil {
		_ = s.store.Delete(ctx, out.thumbKey)
		return Item{}, fmt.Errorf("make profile photo: store: %w", err)
	}
	out.HasThumb = true
	if err := settle(ctx, s.db, out, res.ID); err != nil {
		_ = s.store.Delete(ctx, out.key)
		_ = s.store.Delete(ctx, out.thumbKey)
		return Item{}, fmt.Errorf("make profile photo: %w", err)
	}
	return out, nil
}

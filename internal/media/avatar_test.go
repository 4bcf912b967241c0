package media_test

import (
	"bytes"
	"context"
	"image"
	"image/color"
	"io"
	"testing"

	"github.com/plaza-im/plaza"
	"github.com/plaza-im/plaza/internal/media"
	"github.com/plaza-im/plaza/internal/plazatest"
	"github.com/plaza-im/plaza/internal/sqldb/sqldbtest"
)

// TestSquareCrop: the centred square is kept: on a wide image whose outer
// thirds are red and middle third blue, the square is all blue.
func TestSquareCrop(t *testing.T) {
	m := image.NewRGBA(image.Rect(0, 0, 300, 100))
	for y := range 100 {
		for x := range 300 {
			c := color.RGBA{255, 0, 0, 255}
			if x >= 100 && x < 200 {
				c = color.RGBA{0, 0, 255, 255}
			}
			m.SetRGBA(x, y, c)
		}
	}
	for _, size := range []int{64, 256} {
		sq := media.SquareCrop(m, size)
		if b := sq.Bounds(); b.Dx() != size || b.Dy() != size {
			t.Fatalf("size %d: got %v", size, b)
		}
		for _, p := range []image.Point{{2, 2}, {size / 2, size / 2}, {size - 3, size - 3}} {
			r, _, bl, _ := sq.At(p.X, p.Y).RGBA()
			if r>>8 > 40 || bl>>8 < 200 {
				t.Errorf("size %d: pixel %v = %v, want blue (the middle of the image)", size, p, sq.At(p.X, p.Y))
			}
		}
	}
}

// TestMakeAvatar: the owner's image becomes a new square item with a
// small thumbnail, re-encoded without the EXIF the upload had; someone
// else's item is not_found and a non-image invalid.
func TestMakeAvatar(t *testing.T) {
	t.Parallel()
	for _, e := range sqldbtest.Engines() {
		t.Run(string(e), func(t *testing.T) {
			ctx := context.Background()
			f := newFixture(t, e, media.DefaultConfig())
			photo := hostileJPEG(t, 640, 480)
			src, err := f.svc.Upload(ctx, f.owner, bytes.NewReader(photo), "image/jpeg")
			if err != nil {
				t.Fatal(err)
			}
			file, err := f.svc.Upload(ctx, f.owner, bytes.NewReader([]byte("just some text, not an image at all")), "text/plain")
			if err != nil {
				t.Fatal(err)
			}
			av, err := f.svc.MakeAvatar(ctx, f.owner, src.ID)
			if err != nil {
				t.Fatal(err)
			}
			if av.ID == src.ID || av.OwnerID != f.owner || av.Kind != media.KindImage || av.Width != 256 || av.Height != 256 || !av.HasThumb {
				t.Fatalf("avatar item = %+v, want a new 256×256 image of the owner's with a thumbnail", av)
			}
			for _, c := range []struct {
				thumb bool
				size  int
			}{{false, 256}, {true, 64}} {
				obj, err := f.svc.Open(ctx, av, c.thumb)
				if err != nil {
					t.Fatal(err)
				}
				data, _ := io.ReadAll(obj)
				obj.Close()
				cfg, format, err := image.DecodeConfig(bytes.NewReader(data))
				if err != nil || cfg.Width != c.size || cfg.Height != c.size {
					t.Fatalf("thumb %v: %s %d×%d, %v; want %d×%d", c.thumb, format, cfg.Width, cfg.Height, err, c.size, c.size)
				}
				if bytes.Contains(data, []byte("Exif")) || bytes.Contains(data, []byte("PlazaCam")) || bytes.Contains(data, []byte("Beijing")) {
					t.Errorf("thumb %v: metadata survived", c.thumb)
				}
			}
			_, err = f.svc.MakeAvatar(ctx, f.other, src.ID)
			plazatest.WantCode(t, err, plaza.ENotFound)
			_, err = f.svc.MakeAvatar(ctx, f.owner, src.ID+999)
			plazatest.WantCode(t, err, plaza.ENotFound)
			_, err = f.svc.MakeAvatar(ctx, f.owner, file.ID)
			plazatest.WantInvalid(t, err, "media_id")
		})
	}
}

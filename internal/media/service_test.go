package media_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"image"
	"image/color"
	"image/jpeg"
	"io"
	"log/slog"
	"math/rand/v2"
	"path/filepath"
	"testing"

	"github.com/plaza-im/plaza"
	"github.com/plaza-im/plaza/internal/account"
	"github.com/plaza-im/plaza/internal/blob"
	"github.com/plaza-im/plaza/internal/media"
	"github.com/plaza-im/plaza/internal/sqldb"
	"github.com/plaza-im/plaza/internal/sqldb/sqldbtest"
)

// newService returns a media service on SQLite and disk, with one account.
func newService(tb testing.TB, cfg media.Config) (*media.Service, plaza.ID) {
	tb.Helper()
	return newServiceOn(tb, sqldb.SQLite, cfg)
}

// newServiceOn is newService on engine e.
func newServiceOn(tb testing.TB, e sqldb.Engine, cfg media.Config) (*media.Service, plaza.ID) {
	tb.Helper()
	f := newFixture(tb, e, cfg)
	return f.svc, f.owner
}

// fixture is a media service with its database, its store and two
// accounts.
type fixture struct {
	svc          *media.Service
	db           *sqldb.DB
	store        blob.Store
	owner, other plaza.ID
}

// newFixture returns a media service on engine e and disk, with two
// accounts.
func newFixture(tb testing.TB, e sqldb.Engine, cfg media.Config) fixture {
	tb.Helper()
	db := sqldbtest.Open(tb, e)
	acfg := account.DefaultConfig()
	acfg.Password = account.PasswordParams{MemoryKiB: 64, Time: 1, Threads: 1}
	accounts := account.NewService(db, acfg)
	if err := accounts.SeedTerms(context.Background()); err != nil {
		tb.Fatal(err)
	}
	made, err := accounts.CreateBulk(context.Background(), "up", 2, "password123")
	if err != nil {
		tb.Fatal(err)
	}
	store, err := blob.NewDisk(filepath.Join(tb.TempDir(), "media"))
	if err != nil {
		tb.Fatal(err)
	}
	cfg.TempDir = tb.TempDir()
	svc := media.NewService(db, store, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	return fixture{svc: svc, db: db, store: store, owner: made[0].ID, other: made[1].ID}
}

// noiseJPEG returns a JPEG of about the given size: noise compresses
// badly, as photos of foliage do.
func noiseJPEG(tb testing.TB, w, h int) []byte {
	tb.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	r := rand.New(rand.NewPCG(1, 2))
	for i := range img.Pix {
		img.Pix[i] = uint8(r.IntN(256))
	}
	img.Set(0, 0, color.RGBA{255, 0, 0, 255})
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 92}); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

// mp4Of returns an MP4 with a header of one second and size bytes of
// media data, enough for the probe; its frames are not decodable.
func mp4Of(size int) []byte {
	box := func(typ string, payload ...[]byte) []byte {
		n := 8
		for _, p := range payload {
			n += len(p)
		}
		b := binary.BigEndian.AppendUint32(nil, uint32(n))
		b = append(b, typ...)
		for _, p := range payload {
			b = append(b, p...)
		}
		return b
	}
	mvhd := make([]byte, 100)
	binary.BigEndian.PutUint32(mvhd[12:], 1000) // timescale
	binary.BigEndian.PutUint32(mvhd[16:], 1000) // duration: 1 s
	out := box("ftyp", []byte("isom\x00\x00\x02\x00isomiso2mp41"))
	out = append(out, box("moov", box("mvhd", mvhd))...)
	hdr := binary.BigEndian.AppendUint32(nil, uint32(size+8))
	out = append(out, append(hdr, "mdat"...)...)
	return append(out, make([]byte, size)...)
}

func TestUploadKindsAndLimits(t *testing.T) {
	cfg := media.DefaultConfig()
	cfg.MaxImage = 1 << 20
	svc, owner := newService(t, cfg)
	ctx := context.Background()

	img, err := svc.Upload(ctx, owner, bytes.NewReader(noiseJPEG(t, 200, 100)), "image/jpeg")
	if err != nil || img.Kind != media.KindImage || img.Width != 200 || !img.HasThumb {
		t.Fatalf("image upload: got %+v, %v; want a 200 px wide image with a thumbnail", img, err)
	}
	big := noiseJPEG(t, 1200, 1200)
	if _, err := svc.Upload(ctx, owner, bytes.NewReader(big), "image/jpeg"); plaza.ErrorCode(err) != plaza.ETooLarge {
		t.Errorf("a %d-byte image over a 1 MiB limit: got %v, want payload_too_large", len(big), err)
	}
	vid, err := svc.Upload(ctx, owner, bytes.NewReader(mp4Of(4096)), "video/mp4")
	if err != nil || vid.Kind != media.KindVideo || vid.DurationMS != 1000 {
		t.Errorf("video upload: got %+v, %v; want a 1 s video", vid, err)
	}
	if _, err := svc.Upload(ctx, owner, bytes.NewReader(nil), ""); plaza.ErrorCode(err) != plaza.EInvalid {
		t.Errorf("empty upload: got %v, want invalid_request", err)
	}
	used, _ := svc.UsedBytes(ctx, owner)
	if used != img.Size+vid.Size {
		t.Errorf("used bytes = %d, want %d", used, img.Size+vid.Size)
	}
}

func TestUploadQuota(t *testing.T) {
	cfg := media.DefaultConfig()
	cfg.Quota = 10 << 10
	svc, owner := newService(t, cfg)
	data := make([]byte, 6<<10)
	if _, err := svc.Upload(context.Background(), owner, bytes.NewReader(data), ""); err != nil {
		t.Fatal(err)
	}
	_, err := svc.Upload(context.Background(), owner, bytes.NewReader(data), "")
	if plaza.ErrorCode(err) != plaza.EQuotaExceeded {
		t.Errorf("over quota: got %v, want quota_exceeded", err)
	}
}

// BenchmarkUploadImage10MiB measures a 10 MiB photo from upload to stored:
// sniffing, decoding, re-encoding without metadata, thumbnail, disk.
func BenchmarkUploadImage10MiB(b *testing.B) {
	data := noiseJPEG(b, 3300, 3300) // about 10 MiB at quality 92
	svc, owner := newService(b, media.DefaultConfig())
	b.SetBytes(int64(len(data)))
	b.ResetTimer()
	for b.Loop() {
		if _, err := svc.Upload(context.Background(), owner, bytes.NewReader(data), "image/jpeg"); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkUploadVideo100MiB measures a 100 MiB video from upload to
// stored: the copy to a temp file, the probe, the poster attempt (when
// ffmpeg is installed) and disk.
func BenchmarkUploadVideo100MiB(b *testing.B) {
	data := mp4Of(100 << 20)
	cfg := media.DefaultConfig()
	cfg.Quota = 1 << 40
	svc, owner := newService(b, cfg)
	b.SetBytes(int64(len(data)))
	b.ResetTimer()
	for b.Loop() {
		if _, err := svc.Upload(context.Background(), owner, bytes.NewReader(data), "video/mp4"); err != nil {
			b.Fatal(err)
		}
	}
}

func TestBenchmarkImageIsTenMiB(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a 10 MiB image")
	}
	if n := len(noiseJPEG(t, 3300, 3300)); n < 9<<20 || n > 12<<20 {
		t.Errorf("the benchmark image is %d bytes, want about 10 MiB", n)
	}
}

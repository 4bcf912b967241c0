package media_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"image"
	"image/png"
	"testing"
	"time"

	"github.com/plaza-im/plaza"
	"github.com/plaza-im/plaza/internal/media"
)

// png16Header declares w×h 16-bit RGBA pixels (8 bytes each) with no real
// pixel data: a decoder that started would find it corrupt, so a 413 means
// it was refused from the header alone.
func png16Header(w, h uint32) []byte {
	ihdr := binary.BigEndian.AppendUint32(nil, w)
	ihdr = binary.BigEndian.AppendUint32(ihdr, h)
	ihdr = append(ihdr, 16, 6, 0, 0, 0)
	b := append([]byte("\x89PNG\r\n\x1a\n"), pngChunk("IHDR", ihdr)...)
	b = append(b, pngChunk("IDAT", []byte{0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01})...)
	return append(b, pngChunk("IEND", nil)...)
}

func smallPNG(tb testing.TB) []byte {
	tb.Helper()
	var buf bytes.Buffer
	if err := png.Encode(&buf, image.NewNRGBA(image.Rect(0, 0, 16, 16))); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

// A 10000×5000 16-bit RGBA PNG is within the pixel limit but would take
// 400 MB decoded: it is refused with 413 from its header.
func TestHostileImageDecodeMemory(t *testing.T) {
	data := png16Header(10000, 5000)
	_, err := media.ProcessImage(bytes.NewReader(data), media.TypePNG, media.ImageLimits{})
	if !errors.Is(err, media.ErrTooMuchMemory) {
		t.Errorf("ProcessImage of a 400 MB 16-bit PNG: got %v, want ErrTooMuchMemory", err)
	}
	n, err := media.DecodeBytes(bytes.NewReader(data), media.TypePNG, media.ImageLimits{MaxDecodeBytes: 1 << 40})
	if err != nil || n != 10000*5000*8 {
		t.Errorf("DecodeBytes = %d, %v; want %d", n, err, 10000*5000*8)
	}
	svc, owner := newService(t, media.DefaultConfig())
	_, err = svc.Upload(context.Background(), owner, bytes.NewReader(data), "image/png")
	if plaza.ErrorCode(err) != plaza.ETooLarge {
		t.Errorf("upload: got %v, want payload_too_large", err)
	}
}

// While big decodes hold all of the shared decode memory, another
// account's small image still goes through its own lane; and one account
// holds at most one big slot at a time, while another still gets one.
func TestHostileSmallImageNotBehindBigOnes(t *testing.T) {
	cfg := media.DefaultConfig()
	cfg.DecodeMemory = 64 << 20
	svc, owner := newService(t, cfg)
	hog := plaza.NewID()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	release, err := media.HoldDecode(ctx, svc, hog, 64<<20)
	if err != nil {
		t.Fatal(err)
	}
	// With the shared budget gone, a small upload must still complete;
	// before the fast lane it waited for the budget (here: for ever).
	if _, err := svc.Upload(ctx, owner, bytes.NewReader(smallPNG(t)), "image/png"); err != nil {
		t.Fatalf("small upload while big decodes hold the memory: %v", err)
	}
	release()

	// The hog holds one big slot; its second waits for the first, even
	// though memory is free, while another account gets one at once.
	release, err = media.HoldDecode(ctx, svc, hog, 20<<20)
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	done, stop := context.WithCancel(ctx)
	stop()
	if r, err := media.HoldDecode(done, svc, hog, 20<<20); err == nil {
		r()
		t.Error("an account took a second big decode slot while holding one")
	}
	r, err := media.HoldDecode(ctx, svc, owner, 20<<20)
	if err != nil {
		t.Fatalf("another account's big decode: %v", err)
	}
	r()
}

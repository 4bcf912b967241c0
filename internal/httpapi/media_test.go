package httpapi

import (
	"bufio"
	"bytes"
	"compress/zlib"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"hash/crc32"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"io"
	"io/fs"
	"math/rand/v2"
	"mime/multipart"
	"net"
	"net/http"
	"net/textproto"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/plaza-im/plaza"
	"github.com/plaza-im/plaza/internal/media"
)

// sub returns a copy of e whose helpers report to tb, so a subtest's
// failures stop the subtest rather than its parent.
func (e *testEnv) sub(tb testing.TB) *testEnv {
	c := *e
	c.t = tb
	return &c
}

var quoteEscaper = strings.NewReplacer(`\`, `\\`, `"`, `\"`)

// upload posts data as the multipart field "file" with the given file
// name and part Content-Type ("" sends none).
func (e *testEnv) upload(u user, filename, contentType string, data []byte) resp {
	e.t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	h := textproto.MIMEHeader{}
	h.Set("Content-Disposition", fmt.Sprintf(`form-data; name="file"; filename="%s"`, quoteEscaper.Replace(filename)))
	if contentType != "" {
		h.Set("Content-Type", contentType)
	}
	pw, err := mw.CreatePart(h)
	if err != nil {
		e.t.Fatal(err)
	}
	if _, err := pw.Write(data); err != nil {
		e.t.Fatal(err)
	}
	if err := mw.Close(); err != nil {
		e.t.Fatal(err)
	}
	return e.post(u.token, "/api/v1/media", mw.FormDataContentType(), &body)
}

// post sends body with an explicit Content-Type.
func (e *testEnv) post(token, path, contentType string, body io.Reader) resp {
	e.t.Helper()
	req, err := http.NewRequest("POST", e.srv.URL+path, body)
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Content-Type", contentType)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	return e.roundTrip(req)
}

// fetch GETs path and keeps the body as bytes; byteRange, if set, is sent
// as the Range header.
func (e *testEnv) fetch(token, path, byteRange string) resp {
	e.t.Helper()
	req, err := http.NewRequest("GET", e.srv.URL+path, nil)
	if err != nil {
		e.t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if byteRange != "" {
		req.Header.Set("Range", byteRange)
	}
	return e.roundTrip(req)
}

// roundTrip sends req and decodes a JSON answer like do does.
func (e *testEnv) roundTrip(req *http.Request) resp {
	e.t.Helper()
	res, err := e.srv.Client().Do(req)
	if err != nil {
		e.t.Fatalf("%s %s: %v", req.Method, req.URL.Path, err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	r := resp{status: res.StatusCode, header: res.Header, raw: raw}
	if strings.HasPrefix(res.Header.Get("Content-Type"), "application/json") && len(raw) > 0 {
		if err := json.Unmarshal(raw, &r.body); err != nil {
			e.t.Fatalf("%s %s: response is not a JSON object: %v\n%s", req.Method, req.URL.Path, err, raw)
		}
	}
	return r
}

// sendMedia sends a message of kind carrying mediaID ("" sends none).
func (e *testEnv) sendMedia(u user, conv, clientID, kind, mediaID string) resp {
	e.t.Helper()
	body := map[string]any{"client_id": clientID, "kind": kind}
	if mediaID != "" {
		body["media_id"] = mediaID
	}
	return e.do("POST", "/api/v1/conversations/"+conv+"/messages", u.token, body)
}

// wantField fails unless r is an invalid_request naming field.
func wantField(tb testing.TB, r resp, field string) {
	tb.Helper()
	r.want(tb, http.StatusBadRequest, plaza.EInvalid)
	fields, _ := r.details()["fields"].([]any)
	for _, f := range fields {
		if m, _ := f.(map[string]any); m["field"] == field {
			return
		}
	}
	tb.Errorf("error names fields %v, want %q; body: %s", fields, field, r.raw)
}

func mediaPath(id string) string { return "/api/v1/media/" + id }

// idOf returns the id of a successful upload.
func idOf(tb testing.TB, r resp) string {
	tb.Helper()
	id, _ := r.body["id"].(string)
	if id == "" {
		tb.Fatalf("upload answered %d without an id: %s", r.status, r.raw)
	}
	return id
}

// Fixtures, built here so every hostile byte is visible in the test.

func gradient(w, h int) image.Image {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.Set(x, y, color.RGBA{uint8(x * 255 / w), uint8(y * 255 / h), 128, 255})
		}
	}
	return img
}

func jpegFixture(tb testing.TB, w, h int) []byte {
	tb.Helper()
	var b bytes.Buffer
	if err := jpeg.Encode(&b, gradient(w, h), &jpeg.Options{Quality: 90}); err != nil {
		tb.Fatal(err)
	}
	return b.Bytes()
}

func pngFixture(tb testing.TB, w, h int) []byte {
	tb.Helper()
	var b bytes.Buffer
	if err := png.Encode(&b, gradient(w, h)); err != nil {
		tb.Fatal(err)
	}
	return b.Bytes()
}

// withSegment inserts a JPEG marker segment right after SOI.
func withSegment(jpg []byte, marker byte, payload []byte) []byte {
	out := append([]byte{}, jpg[:2]...)
	out = append(out, 0xFF, marker)
	out = binary.BigEndian.AppendUint16(out, uint16(2+len(payload)))
	out = append(out, payload...)
	return append(out, jpg[2:]...)
}

// exifGPS is an APP1 Exif payload: a big-endian TIFF whose IFD0 holds
// Orientation=6 (rotate 90° clockwise) and a GPS IFD pointer, and whose
// GPS IFD holds GPSLatitudeRef, GPSLatitude and a GPSMapDatum reading
// GPSCANARY.
func exifGPS() []byte {
	be := binary.BigEndian
	const (
		ifd0     = 8
		gpsIFD   = ifd0 + 2 + 2*12 + 4 // 38
		latOff   = gpsIFD + 2 + 3*12 + 4
		datumOff = latOff + 3*8
	)
	datum := "GPSCANARY\x00"
	entry := func(t []byte, tag, typ uint16, count, value uint32) []byte {
		t = be.AppendUint16(t, tag)
		t = be.AppendUint16(t, typ)
		t = be.AppendUint32(t, count)
		return be.AppendUint32(t, value)
	}
	t := []byte("MM\x00*\x00\x00\x00\x08")
	t = be.AppendUint16(t, 2)
	t = entry(t, 0x0112, 3, 1, 6<<16) // SHORT 6, left-justified
	t = entry(t, 0x8825, 4, 1, gpsIFD)
	t = be.AppendUint32(t, 0)
	t = be.AppendUint16(t, 3)
	t = entry(t, 0x0001, 2, 2, uint32('N')<<24) // "N\0"
	t = entry(t, 0x0002, 5, 3, latOff)
	t = entry(t, 0x0012, 2, uint32(len(datum)), datumOff)
	t = be.AppendUint32(t, 0)
	for _, r := range [][2]uint32{{48, 1}, {51, 1}, {2400, 100}} { // 48°51'24"
		t = be.AppendUint32(t, r[0])
		t = be.AppendUint32(t, r[1])
	}
	t = append(t, datum...)
	return append([]byte("Exif\x00\x00"), t...)
}

func pngChunk(b []byte, typ string, data []byte) []byte {
	b = binary.BigEndian.AppendUint32(b, uint32(len(data)))
	start := len(b)
	b = append(b, typ...)
	b = append(b, data...)
	return binary.BigEndian.AppendUint32(b, crc32.ChecksumIEEE(b[start:]))
}

// pixelFloodPNG declares 100000×100000 RGB pixels (30 GB decoded) in a
// file of under 100 bytes.
func pixelFloodPNG(tb testing.TB) []byte {
	tb.Helper()
	ihdr := binary.BigEndian.AppendUint32(nil, 100000)
	ihdr = binary.BigEndian.AppendUint32(ihdr, 100000)
	ihdr = append(ihdr, 8, 2, 0, 0, 0) // 8-bit RGB, deflate, no filter, no interlace
	var idat bytes.Buffer
	zw := zlib.NewWriter(&idat)
	zw.Write(make([]byte, 16))
	if err := zw.Close(); err != nil {
		tb.Fatal(err)
	}
	b := []byte("\x89PNG\r\n\x1a\n")
	b = pngChunk(b, "IHDR", ihdr)
	b = pngChunk(b, "IDAT", idat.Bytes())
	return pngChunk(b, "IEND", nil)
}

// pngWithText is a PNG whose tEXt chunk, right after IHDR, holds a script.
func pngWithText(tb testing.TB) []byte {
	tb.Helper()
	p := pngFixture(tb, 16, 16)
	const ihdrEnd = 8 + 8 + 13 + 4
	out := pngChunk(append([]byte{}, p[:ihdrEnd]...), "tEXt", []byte("Comment\x00"+htmlTail))
	return append(out, p[ihdrEnd:]...)
}

func gifFixture(tb testing.TB) []byte {
	tb.Helper()
	var b bytes.Buffer
	if err := gif.Encode(&b, gradient(16, 16), nil); err != nil {
		tb.Fatal(err)
	}
	return b.Bytes()
}

// truncatedMP4 is an ftyp box and the start of a moov box that claims
// 1 MiB, of which 32 bytes arrive.
func truncatedMP4() []byte {
	b := binary.BigEndian.AppendUint32(nil, 24)
	b = append(b, "ftypisom\x00\x00\x02\x00isomiso2"...)
	b = binary.BigEndian.AppendUint32(b, 1<<20)
	b = append(b, "moov"...)
	return append(b, make([]byte, 32)...)
}

// wavFixture is 8 kHz 8-bit mono PCM: 8000 bytes a second.
func wavFixture(seconds int) []byte {
	le := binary.LittleEndian
	const rate = 8000
	n := rate * seconds
	b := []byte("RIFF")
	b = le.AppendUint32(b, uint32(36+n))
	b = append(b, "WAVEfmt "...)
	b = le.AppendUint32(b, 16)
	b = le.AppendUint16(b, 1) // PCM
	b = le.AppendUint16(b, 1) // mono
	b = le.AppendUint32(b, rate)
	b = le.AppendUint32(b, rate) // byte rate
	b = le.AppendUint16(b, 1)    // block align
	b = le.AppendUint16(b, 8)    // bits per sample
	b = append(b, "data"...)
	b = le.AppendUint32(b, uint32(n))
	return append(b, bytes.Repeat([]byte{0x80}, n)...)
}

// oversizeJPEG starts like a JPEG (SOI, then an APP1 segment that fills
// the whole sniffed head) and continues with n bytes of noise in all.
func oversizeJPEG(n int) []byte {
	b := make([]byte, n)
	r := rand.New(rand.NewChaCha8([32]byte{1}))
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	copy(b, []byte{0xFF, 0xD8, 0xFF, 0xE1, 0xFF, 0xFF})
	return b
}

const (
	svgScript = `<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><script>alert(document.cookie)</script><rect width="10" height="10"/></svg>`
	htmlPage  = `<!DOCTYPE html><html><body><script>alert(document.cookie)</script></body></html>`
	htmlTail  = `<html><script>alert(1)</script></html>`
)

func TestUploadContract(t *testing.T) {
	e := newEnv(t)
	alice := e.verified("alice")

	up := e.upload(alice, "photo.png", "image/png", pngFixture(t, 64, 48)).want(t, http.StatusCreated, "")
	id := idOf(t, up)
	if up.body["kind"] != "image" || up.body["content_type"] != "image/png" ||
		up.body["width"] != float64(64) || up.body["height"] != float64(48) {
		t.Errorf("upload answered %s, want an image/png image of 64×48", up.raw)
	}
	size, _ := up.body["size"].(float64)
	if size <= 0 {
		t.Errorf("size = %v, want > 0", up.body["size"])
	}
	if loc := up.header.Get("Location"); loc != mediaPath(id) {
		t.Errorf("Location = %q, want %q", loc, mediaPath(id))
	}

	got := e.fetch(alice.token, mediaPath(id), "").want(t, http.StatusOK, "")
	for name, want := range map[string]string{
		"Content-Type":           "image/png",
		"X-Content-Type-Options": "nosniff",
	} {
		if v := got.header.Get(name); v != want {
			t.Errorf("%s = %q, want %q", name, v, want)
		}
	}
	if v := got.header.Get("Content-Security-Policy"); !strings.Contains(v, "sandbox") {
		t.Errorf("Content-Security-Policy = %q, want a sandbox", v)
	}
	if v := got.header.Get("Cache-Control"); v != "no-store" {
		t.Errorf("Cache-Control = %q, want no-store", v)
	}
	if int64(len(got.raw)) != int64(size) {
		t.Errorf("served %d bytes, want the size %v the upload reported", len(got.raw), size)
	}
	if cfg, err := png.DecodeConfig(bytes.NewReader(got.raw)); err != nil || cfg.Width != 64 || cfg.Height != 48 {
		t.Errorf("served bytes decode as %v, %v; want a 64×48 PNG", cfg, err)
	}

	thumb := e.fetch(alice.token, mediaPath(id)+"/thumbnail", "").want(t, http.StatusOK, "")
	if ct := thumb.header.Get("Content-Type"); !strings.HasPrefix(ct, "image/") || len(thumb.raw) == 0 {
		t.Errorf("thumbnail: %d bytes of %q, want an image", len(thumb.raw), ct)
	}
	if _, _, err := image.DecodeConfig(bytes.NewReader(thumb.raw)); err != nil {
		t.Errorf("thumbnail does not decode: %v", err)
	}

	part := e.fetch(alice.token, mediaPath(id), "bytes=0-9").want(t, http.StatusPartialContent, "")
	if !bytes.Equal(part.raw, got.raw[:10]) {
		t.Errorf("range 0-9 gave %q, want %q", part.raw, got.raw[:10])
	}
	if cr, want := part.header.Get("Content-Range"), fmt.Sprintf("bytes 0-9/%d", len(got.raw)); cr != want {
		t.Errorf("Content-Range = %q, want %q", cr, want)
	}

	usage := e.do("GET", "/api/v1/me/media-usage", alice.token, nil).want(t, http.StatusOK, "")
	if used, _ := usage.body["used_bytes"].(float64); used < size {
		t.Errorf("used_bytes = %v, want at least %v", usage.body["used_bytes"], size)
	}
}

func TestHostileUploads(t *testing.T) {
	const maxImage = 1 << 20
	e := newEnv(t, func(c *envConfig) { c.media = func(m *media.Config) { m.MaxImage = maxImage } })
	envRoot := filepath.Dir(t.TempDir()) // holds every directory newEnv made
	alice := e.verified("alice")

	// stored checks an upload was accepted as kind and, when served,
	// carries none of the forbidden strings.
	stored := func(kind string, forbidden ...string) func(*testing.T, *testEnv, resp) {
		return func(t *testing.T, e *testEnv, r resp) {
			r.want(t, http.StatusCreated, "")
			if r.body["kind"] != kind {
				t.Fatalf("kind = %v, want %s; body: %s", r.body["kind"], kind, r.raw)
			}
			got := e.fetch(alice.token, mediaPath(idOf(t, r)), "").want(t, http.StatusOK, "")
			if nosniff := got.header.Get("X-Content-Type-Options"); nosniff != "nosniff" {
				t.Errorf("X-Content-Type-Options = %q, want nosniff", nosniff)
			}
			if kind == media.KindFile {
				if r.body["content_type"] != media.TypeFile {
					t.Errorf("content_type = %v, want %s", r.body["content_type"], media.TypeFile)
				}
				if ct := got.header.Get("Content-Type"); ct != media.TypeFile {
					t.Errorf("served as %q, want %s", ct, media.TypeFile)
				}
				if cd := got.header.Get("Content-Disposition"); !strings.HasPrefix(cd, "attachment") {
					t.Errorf("Content-Disposition = %q, want attachment", cd)
				}
				// A file has no thumbnail to smuggle anything through.
				e.fetch(alice.token, mediaPath(idOf(t, r))+"/thumbnail", "").want(t, http.StatusNotFound, plaza.ENotFound)
			}
			for _, s := range forbidden {
				if bytes.Contains(got.raw, []byte(s)) {
					t.Errorf("served bytes contain %q", s)
				}
			}
		}
	}
	refused := func(status int, code string) func(*testing.T, *testEnv, resp) {
		return func(t *testing.T, _ *testEnv, r resp) { r.want(t, status, code) }
	}

	polyglotTail := append(jpegFixture(t, 32, 32), htmlTail...)
	polyglotCOM := withSegment(jpegFixture(t, 32, 32), 0xFE, []byte(htmlTail))
	gpsJPEG := withSegment(jpegFixture(t, 40, 20), 0xE1, exifGPS())
	if !bytes.Contains(gpsJPEG, []byte("GPSCANARY")) {
		t.Fatal("the EXIF fixture lacks its canary")
	}

	tests := []struct {
		name, filename, ctype string
		data                  []byte
		check                 func(*testing.T, *testEnv, resp)
	}{
		{"svg with script is a file served as attachment", "x.svg", "image/svg+xml", []byte(svgScript), stored(media.KindFile)},
		{"html named x.jpg is a file served as attachment", "x.jpg", "image/jpeg", []byte(htmlPage), stored(media.KindFile)},
		{"html claiming text/html is a file served as attachment", "x.html", "text/html", []byte(htmlPage), stored(media.KindFile)},
		{"jpeg with html after EOI is re-encoded without it", "poly.jpg", "image/jpeg", polyglotTail, stored(media.KindImage, "<script", "<html")},
		{"jpeg with html in a COM segment is re-encoded without it", "poly.jpg", "image/jpeg", polyglotCOM, stored(media.KindImage, "<script", "<html")},
		{"jpeg with GPS EXIF is served without EXIF and upright", "gps.jpg", "image/jpeg", gpsJPEG, func(t *testing.T, e *testEnv, r resp) {
			stored(media.KindImage, "Exif", "GPSCANARY", "GPS")(t, e, r)
			// Orientation 6 turns the stored 40×20 a quarter: upright it is 20×40.
			if r.body["width"] != float64(20) || r.body["height"] != float64(40) {
				t.Errorf("dimensions %v×%v, want 20×40 after applying the orientation", r.body["width"], r.body["height"])
			}
		}},
		{"png with script in a tEXt chunk is re-encoded without it", "text.png", "image/png", pngWithText(t), stored(media.KindImage, "<script", "Comment")},
		{"gif with html after the trailer is re-encoded without it", "poly.gif", "image/gif", append(gifFixture(t), htmlTail...), stored(media.KindImage, "<script", "<html")},
		{"pixel-flood png is 413 before decoding", "flood.png", "image/png", pixelFloodPNG(t), refused(http.StatusRequestEntityTooLarge, plaza.ETooLarge)},
		{"truncated mp4 is 400 corrupt", "cut.mp4", "video/mp4", truncatedMP4(), refused(http.StatusBadRequest, plaza.EInvalid)},
		{"zip claiming image/png is a file", "x.png", "image/png", append([]byte("PK\x03\x04\x14\x00\x00\x00\x08\x00"), make([]byte, 600)...), stored(media.KindFile)},
		{"ELF claiming video/mp4 is a file", "x.mp4", "video/mp4", append([]byte("\x7fELF\x02\x01\x01\x00"), make([]byte, 600)...), stored(media.KindFile)},
		{"MZ executable claiming video/mp4 is a file", "x.mp4", "video/mp4", append([]byte("MZ\x90\x00\x03\x00\x00\x00\x04\x00"), make([]byte, 600)...), stored(media.KindFile)},
		{"png claiming text/html is a file", "x.html", "text/html", pngFixture(t, 8, 8), stored(media.KindFile)},
		{"oversize image is 413 with limit_bytes", "big.jpg", "image/jpeg", oversizeJPEG(2 << 20), func(t *testing.T, _ *testEnv, r resp) {
			r.want(t, http.StatusRequestEntityTooLarge, plaza.ETooLarge)
			if d := r.details(); d["limit_bytes"] != float64(maxImage) || d["kind"] != media.KindImage {
				t.Errorf("details = %v, want limit_bytes %d for kind image", d, maxImage)
			}
		}},
		{"path traversal file name is ignored", "../../etc/passwd.jpg", "image/jpeg", jpegFixture(t, 16, 16), func(t *testing.T, e *testEnv, r resp) {
			stored(media.KindImage)(t, e, r)
			if bytes.Contains(r.raw, []byte("passwd")) || strings.Contains(r.header.Get("Location"), "passwd") {
				t.Errorf("the response echoes the file name: %s", r.raw)
			}
			got := e.fetch(alice.token, mediaPath(idOf(t, r)), "")
			if strings.Contains(got.header.Get("Content-Disposition"), "passwd") {
				t.Errorf("served with Content-Disposition %q", got.header.Get("Content-Disposition"))
			}
			filepath.WalkDir(envRoot, func(path string, d fs.DirEntry, err error) error {
				if err == nil && strings.Contains(d.Name(), "passwd") {
					t.Errorf("upload wrote %s", path)
				}
				return nil
			})
			for _, p := range []string{"../../etc/passwd.jpg", filepath.Join(envRoot, "etc")} {
				if _, err := os.Stat(p); err == nil {
					t.Errorf("%s exists after the upload", p)
				}
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := e.sub(t)
			start := time.Now()
			r := e.upload(alice, tt.filename, tt.ctype, tt.data)
			if d := time.Since(start); d > 5*time.Second {
				t.Errorf("the upload took %v", d)
			}
			tt.check(t, e, r)
		})
	}

	t.Run("no upload leaves a temporary file behind", func(t *testing.T) {
		filepath.WalkDir(envRoot, func(path string, d fs.DirEntry, err error) error {
			if err == nil && strings.HasPrefix(d.Name(), "plaza-upload-") {
				t.Errorf("left behind: %s", path)
			}
			return nil
		})
	})

	t.Run("over the limit by Content-Length is 413 before the body is read", func(t *testing.T) {
		// The body is announced but never sent: a server that waited for
		// it would not answer before the deadline.
		const boundary = "plazaboundary"
		conn, err := net.Dial("tcp", e.srv.Listener.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		conn.SetDeadline(time.Now().Add(10 * time.Second))
		fmt.Fprintf(conn, "POST /api/v1/media HTTP/1.1\r\nHost: plaza\r\nAuthorization: Bearer %s\r\n"+
			"Content-Type: multipart/form-data; boundary=%s\r\nContent-Length: %d\r\n\r\n", alice.token, boundary, int64(1)<<40)
		fmt.Fprintf(conn, "--%s\r\nContent-Disposition: form-data; name=\"file\"; filename=\"big.jpg\"\r\nContent-Type: image/jpeg\r\n\r\n\xff\xd8", boundary)
		res, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			t.Fatalf("no answer without the body: %v", err)
		}
		defer res.Body.Close()
		var body struct {
			Error struct {
				Code    string         `json:"code"`
				Details map[string]any `json:"details"`
			} `json:"error"`
		}
		if err := json.NewDecoder(res.Body).Decode(&body); err != nil {
			t.Fatal(err)
		}
		want := float64(media.DefaultConfig().MaxUpload())
		if res.StatusCode != http.StatusRequestEntityTooLarge || body.Error.Code != plaza.ETooLarge || body.Error.Details["limit_bytes"] != want {
			t.Errorf("got %d %+v, want 413 payload_too_large with limit_bytes %v", res.StatusCode, body.Error, want)
		}
	})

	t.Run("no file field is 400", func(t *testing.T) {
		e := e.sub(t)
		var b bytes.Buffer
		mw := multipart.NewWriter(&b)
		mw.WriteField("caption", "no file here")
		mw.Close()
		wantField(t, e.post(alice.token, "/api/v1/media", mw.FormDataContentType(), &b), "file")
	})
	t.Run("empty file is 400", func(t *testing.T) {
		wantField(t, e.sub(t).upload(alice, "empty.jpg", "image/jpeg", nil), "file")
	})
	t.Run("a JSON body is 415", func(t *testing.T) {
		e.sub(t).do("POST", "/api/v1/media", alice.token, map[string]any{"file": "aGVsbG8="}).want(t, http.StatusUnsupportedMediaType, plaza.EUnsupportedMediaType)
	})
	t.Run("a raw image body is 415", func(t *testing.T) {
		e.sub(t).post(alice.token, "/api/v1/media", "image/jpeg", bytes.NewReader(jpegFixture(t, 8, 8))).want(t, http.StatusUnsupportedMediaType, plaza.EUnsupportedMediaType)
	})
	t.Run("anonymous upload is 401", func(t *testing.T) {
		e.sub(t).upload(user{}, "a.png", "image/png", pngFixture(t, 8, 8)).want(t, http.StatusUnauthorized, plaza.EUnauthenticated)
	})
}

func TestMediaAccess(t *testing.T) {
	e := newEnv(t)
	alice, bob, carol, dave := e.verified("alice"), e.verified("bob"), e.verified("carol"), e.verified("dave")
	e.befriend(alice, bob)
	e.befriend(alice, dave)
	conv := e.direct(alice, bob)

	// can checks who gets the bytes and the thumbnail of id.
	can := func(t *testing.T, id string, u user, status int) {
		t.Helper()
		code := map[int]string{http.StatusOK: "", http.StatusNotFound: plaza.ENotFound, http.StatusUnauthorized: plaza.EUnauthenticated}[status]
		for _, p := range []string{mediaPath(id), mediaPath(id) + "/thumbnail"} {
			r := e.fetch(u.token, p, "")
			if r.status != status || r.code() != code {
				t.Errorf("%s for %q: got %d %q, want %d %q", p, u.handle, r.status, r.code(), status, code)
			}
			if status == http.StatusOK && len(r.raw) == 0 {
				t.Errorf("%s for %q: empty body", p, u.handle)
			}
		}
	}
	anon := user{handle: "anonymous"}

	id := idOf(t, e.upload(alice, "a.jpg", "image/jpeg", jpegFixture(t, 32, 32)).want(t, http.StatusCreated, ""))
	can(t, id, alice, http.StatusOK)
	can(t, id, bob, http.StatusNotFound)
	can(t, id, carol, http.StatusNotFound)
	can(t, id, anon, http.StatusUnauthorized)

	msg := e.sendMedia(alice, conv, "m-1", "image", id).want(t, http.StatusCreated, "")
	if msg.body["media_id"] != id {
		t.Errorf("message media_id = %v, want %s", msg.body["media_id"], id)
	}
	can(t, id, bob, http.StatusOK)
	can(t, id, carol, http.StatusNotFound)
	can(t, id, anon, http.StatusUnauthorized)

	// A group member sees only what was sent after they joined.
	g := e.do("POST", "/api/v1/conversations", alice.token, map[string]any{"kind": "group", "title": "Team", "member_ids": []string{bob.id.String()}}).want(t, http.StatusCreated, "")
	gid := g.body["id"].(string)
	early := idOf(t, e.upload(alice, "b.jpg", "image/jpeg", jpegFixture(t, 24, 24)).want(t, http.StatusCreated, ""))
	e.sendMedia(alice, gid, "g-1", "image", early).want(t, http.StatusCreated, "")
	e.do("POST", "/api/v1/conversations/"+gid+"/members", alice.token, map[string]any{"account_ids": []string{dave.id.String()}}).want(t, http.StatusOK, "")
	can(t, early, bob, http.StatusOK)
	can(t, early, dave, http.StatusNotFound)
	late := idOf(t, e.upload(alice, "c.jpg", "image/jpeg", jpegFixture(t, 24, 24)).want(t, http.StatusCreated, ""))
	e.sendMedia(alice, gid, "g-2", "image", late).want(t, http.StatusCreated, "")
	can(t, late, dave, http.StatusOK)
	// Leaving the group takes access away.
	e.do("DELETE", "/api/v1/conversations/"+gid+"/members/"+bob.id.String(), alice.token, nil).want(t, http.StatusNoContent, "")
	can(t, early, bob, http.StatusNotFound)

	// Recalling the only message that carries it hides it again.
	e.do("POST", "/api/v1/conversations/"+conv+"/messages/"+msg.body["id"].(string)+"/recall", alice.token, nil).want(t, http.StatusOK, "")
	can(t, id, bob, http.StatusNotFound)
	can(t, id, alice, http.StatusOK)

	for _, p := range []string{plaza.NewID().String(), "not-an-id", "..%2f..%2fetc%2fpasswd"} {
		e.fetch(alice.token, mediaPath(p), "").want(t, http.StatusNotFound, plaza.ENotFound)
		e.fetch(alice.token, mediaPath(p)+"/thumbnail", "").want(t, http.StatusNotFound, plaza.ENotFound)
	}
}

func TestMediaMessages(t *testing.T) {
	e := newEnv(t)
	alice, bob := e.verified("alice"), e.verified("bob")
	e.befriend(alice, bob)
	conv := e.direct(alice, bob)
	bobStream := e.dial(bob, "")
	bobStream.until("ready")

	voice := e.upload(alice, "v.wav", "audio/wav", wavFixture(1)).want(t, http.StatusCreated, "")
	if voice.body["kind"] != "audio" || voice.body["content_type"] != media.TypeWAV || voice.body["duration_ms"] != float64(1000) {
		t.Errorf("1 s WAV answered %s, want audio/wav audio of 1000 ms", voice.raw)
	}
	long := e.upload(alice, "long.wav", "audio/wav", wavFixture(61)).want(t, http.StatusCreated, "")
	if long.body["duration_ms"] != float64(61000) {
		t.Errorf("61 s WAV has duration_ms %v, want 61000", long.body["duration_ms"])
	}
	img := idOf(t, e.upload(alice, "i.jpg", "image/jpeg", jpegFixture(t, 16, 16)).want(t, http.StatusCreated, ""))
	bobs := idOf(t, e.upload(bob, "b.jpg", "image/jpeg", jpegFixture(t, 16, 16)).want(t, http.StatusCreated, ""))
	voiceID, longID := idOf(t, voice), idOf(t, long)

	sent := e.sendMedia(alice, conv, "v-1", "voice", voiceID).want(t, http.StatusCreated, "")
	if sent.body["media_id"] != voiceID || sent.body["kind"] != "voice" {
		t.Errorf("voice message = %s, want kind voice with media_id %s", sent.raw, voiceID)
	}
	if f := bobStream.until("message.created"); f["data"].(map[string]any)["media_id"] != voiceID {
		t.Errorf("bob's message.created = %v, want media_id %s", f, voiceID)
	}

	tests := []struct {
		name, kind, mediaID string
		status              int
	}{
		{"image message with audio media", "image", voiceID, http.StatusBadRequest},
		{"video message with image media", "video", img, http.StatusBadRequest},
		{"voice message with image media", "voice", img, http.StatusBadRequest},
		{"voice message of 61 s", "voice", longID, http.StatusBadRequest},
		{"image message without media", "image", "", http.StatusBadRequest},
		{"image message with someone else's media", "image", bobs, http.StatusBadRequest},
		{"file message with someone else's media", "file", bobs, http.StatusBadRequest},
		{"image message with unknown media", "image", plaza.NewID().String(), http.StatusBadRequest},
		{"text message with media", "text", img, http.StatusBadRequest},
		{"image message with image media", "image", img, http.StatusCreated},
		{"file message with image media", "file", img, http.StatusCreated},
		{"file message with audio media", "file", longID, http.StatusCreated},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.sub(t).sendMedia(alice, conv, fmt.Sprintf("t-%d", i), tt.kind, tt.mediaID)
			if tt.status == http.StatusCreated {
				r.want(t, http.StatusCreated, "")
				if r.body["media_id"] != tt.mediaID {
					t.Errorf("media_id = %v, want %s", r.body["media_id"], tt.mediaID)
				}
				return
			}
			wantField(t, r, "media_id")
		})
	}
}

func TestUploadQuota(t *testing.T) {
	e := newEnv(t, func(c *envConfig) { c.media = func(m *media.Config) { m.Quota = 10000 } })
	alice, bob := e.verified("alice"), e.verified("bob")
	text := bytes.Repeat([]byte("plain text "), 600) // 6600 bytes, kind file
	e.upload(alice, "a.txt", "text/plain", text).want(t, http.StatusCreated, "")
	over := e.upload(alice, "b.txt", "text/plain", text).want(t, http.StatusTooManyRequests, plaza.EQuotaExceeded)
	if d := over.details(); d["used_bytes"] != float64(len(text)) || d["quota_bytes"] != float64(10000) {
		t.Errorf("details = %v, want used_bytes %d and quota_bytes 10000", d, len(text))
	}
	// The quota is per account.
	e.upload(bob, "b.txt", "text/plain", text).want(t, http.StatusCreated, "")
	usage := e.do("GET", "/api/v1/me/media-usage", alice.token, nil).want(t, http.StatusOK, "")
	if usage.body["used_bytes"] != float64(len(text)) || usage.body["quota_bytes"] != float64(10000) {
		t.Errorf("usage = %s, want %d of 10000 bytes used", usage.raw, len(text))
	}
}

func TestVideoUpload(t *testing.T) {
	ffmpeg, err := exec.LookPath("ffmpeg")
	if err != nil {
		t.Skip("ffmpeg is not on PATH; install it (apt-get install ffmpeg) to test video uploads and posters")
	}
	out := filepath.Join(t.TempDir(), "out.mp4")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, ffmpeg, "-nostdin", "-loglevel", "error", "-f", "lavfi",
		"-i", "testsrc=duration=1:size=160x120:rate=10", "-pix_fmt", "yuv420p", out)
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("ffmpeg: %v\n%s", err, msg)
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}

	e := newEnv(t)
	alice := e.verified("alice")
	up := e.upload(alice, "clip.mp4", "video/mp4", data).want(t, http.StatusCreated, "")
	if up.body["kind"] != "video" || up.body["width"] != float64(160) || up.body["height"] != float64(120) || up.body["has_thumbnail"] != true {
		t.Errorf("upload answered %s, want a 160×120 video with a thumbnail", up.raw)
	}
	if d, _ := up.body["duration_ms"].(float64); d < 900 || d > 1100 {
		t.Errorf("duration_ms = %v, want about 1000", up.body["duration_ms"])
	}
	id := idOf(t, up)
	got := e.fetch(alice.token, mediaPath(id), "").want(t, http.StatusOK, "")
	if !bytes.Equal(got.raw, data) {
		t.Errorf("served %d bytes, want the %d uploaded", len(got.raw), len(data))
	}
	thumb := e.fetch(alice.token, mediaPath(id)+"/thumbnail", "").want(t, http.StatusOK, "")
	if ct := thumb.header.Get("Content-Type"); ct != "image/jpeg" {
		t.Errorf("poster Content-Type = %q, want image/jpeg", ct)
	}
	if cfg, err := jpeg.DecodeConfig(bytes.NewReader(thumb.raw)); err != nil || cfg.Width != 160 || cfg.Height != 120 {
		t.Errorf("poster decodes as %+v, %v; want a 160×120 JPEG", cfg, err)
	}
}

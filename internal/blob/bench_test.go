package blob

import (
	"bytes"
	"io"
	"testing"
)

func BenchmarkDiskPut10MiB(b *testing.B) {
	benchmarkPut(b, newDiskHarness(b).store)
}

// BenchmarkS3Put10MiB measures the client and the in-memory fake over
// loopback HTTP: an upper bound on what the code can do, not a measure of
// any real S3.
func BenchmarkS3Put10MiB(b *testing.B) {
	benchmarkPut(b, newTestS3(b, newFakeS3(b).config()))
}

// benchmarkPut puts 10 MiB under one key, from a seekable reader (an upload
// spooled to a file) and from a stream of unknown size (a request body).
func benchmarkPut(b *testing.B, s Store) {
	data := randomBytes(b, 10<<20)
	for _, c := range []struct {
		name string
		r    func() io.Reader
		size int64
	}{
		{"seekable", func() io.Reader { return bytes.NewReader(data) }, int64(len(data))},
		{"stream", func() io.Reader { return onlyReader{bytes.NewReader(data)} }, -1},
	} {
		b.Run(c.name, func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				if err := s.Put(b.Context(), "bench/obj", c.r(), c.size, "application/octet-stream"); err != nil {
					b.Fatalf("Put: %v", err)
				}
			}
		})
	}
}

package media_test

import (
	"bytes"
	"context"
	"errors"
	"image/jpeg"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/plaza-im/plaza/internal/media"
)

// Real files made by ffmpeg check the parsers against an encoder that is
// not this package's own fixtures. Without ffmpeg these tests skip.

func requireFFmpeg(tb testing.TB) {
	tb.Helper()
	if _, err := exec.LookPath("ffmpeg"); err != nil {
		tb.Skip("ffmpeg is not on PATH; install it (apt-get install -y ffmpeg) to run this test")
	}
}

// ffmpegFile runs ffmpeg to write name in a temp dir and returns its path.
// An encoder missing from this ffmpeg build skips the test.
func ffmpegFile(tb testing.TB, name string, args ...string) string {
	tb.Helper()
	out := filepath.Join(tb.TempDir(), name)
	args = append(append([]string{"-nostdin", "-v", "error", "-y"}, args...), out)
	if msg, err := exec.Command("ffmpeg", args...).CombinedOutput(); err != nil {
		tb.Skipf("this ffmpeg cannot make %s: %v: %s", name, err, msg)
	}
	return out
}

var (
	sine2s    = []string{"-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000:duration=2"}
	testsrc2s = []string{"-f", "lavfi", "-i", "testsrc=duration=2:size=320x240:rate=10"}
)

func args(parts ...[]string) []string {
	var out []string
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

func TestFFmpegFiles(t *testing.T) {
	requireFFmpeg(t)
	tests := []struct {
		name         string
		file         string
		args         []string
		claimed      string
		wantKind     string
		wantType     string
		wantCodec    string
		wantW, wantH int
		wantMS       int64 // 0: the container cannot say
		toleranceMS  int64
	}{
		{"ogg opus", "a.ogg", args(sine2s, []string{"-c:a", "libopus"}), "audio/ogg", media.KindAudio, media.TypeOgg, "opus", 0, 0, 2000, 30},
		{"ogg vorbis", "a.ogg", args(sine2s, []string{"-c:a", "libvorbis"}), "", media.KindAudio, media.TypeOgg, "vorbis", 0, 0, 2000, 30},
		{"webm opus", "a.webm", args(sine2s, []string{"-c:a", "libopus"}), "audio/webm", media.KindAudio, media.TypeWebMAudio, "opus", 0, 0, 2000, 30},
		{"webm live opus (no Duration)", "a.webm", args(sine2s, []string{"-c:a", "libopus", "-f", "webm", "-live", "1"}), "audio/webm", media.KindAudio, media.TypeWebMAudio, "opus", 0, 0, 2000, 30},
		{"webm vp8 video", "v.webm", args(testsrc2s, []string{"-c:v", "libvpx", "-b:v", "200k"}), "video/webm", media.KindVideo, media.TypeWebMVideo, "vp8", 320, 240, 2000, 110},
		{"mp4 h264", "v.mp4", args(testsrc2s, sine2s, []string{"-c:v", "libx264", "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest"}), "video/mp4", media.KindVideo, media.TypeMP4, "h264", 320, 240, 2000, 110},
		{"mp4 faststart", "v.mp4", args(testsrc2s, []string{"-c:v", "libx264", "-pix_fmt", "yuv420p", "-movflags", "+faststart"}), "", media.KindVideo, media.TypeMP4, "h264", 320, 240, 2000, 110},
		{"mov h264", "v.mov", args(testsrc2s, []string{"-c:v", "libx264", "-pix_fmt", "yuv420p"}), "video/quicktime", media.KindVideo, media.TypeQuickTime, "h264", 320, 240, 2000, 110},
		{"m4a aac", "a.m4a", args(sine2s, []string{"-c:a", "aac"}), "audio/x-m4a", media.KindAudio, media.TypeM4A, "aac", 0, 0, 2000, 30},
		{"mp3 with Xing", "a.mp3", args(sine2s, []string{"-c:a", "libmp3lame", "-b:a", "64k"}), "audio/mpeg", media.KindAudio, media.TypeMP3, "mp3", 0, 0, 2000, 60},
		{"mp3 CBR without Xing", "a.mp3", args(sine2s, []string{"-c:a", "libmp3lame", "-b:a", "64k", "-write_xing", "0"}), "audio/mpeg", media.KindAudio, media.TypeMP3, "mp3", 0, 0, 2000, 60},
		{"aac adts", "a.aac", args(sine2s, []string{"-c:a", "aac", "-f", "adts"}), "audio/aac", media.KindAudio, media.TypeAAC, "aac", 0, 0, 2000, 60},
		{"wav", "a.wav", args(sine2s, []string{"-c:a", "pcm_s16le"}), "audio/wav", media.KindAudio, media.TypeWAV, "pcm", 0, 0, 2000, 5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := ffmpegFile(t, tt.file, tt.args...)
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			kind, ct := media.Sniff(head(data), tt.claimed)
			if kind != tt.wantKind || ct != tt.wantType {
				t.Fatalf("Sniff = %s, %s; want %s, %s", kind, ct, tt.wantKind, tt.wantType)
			}
			f, err := os.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			p, err := media.ProbeAV(f, int64(len(data)), ct)
			if err != nil {
				t.Fatal(err)
			}
			if p.Codec != tt.wantCodec || p.Width != tt.wantW || p.Height != tt.wantH {
				t.Errorf("got %s %d×%d, want %s %d×%d", p.Codec, p.Width, p.Height, tt.wantCodec, tt.wantW, tt.wantH)
			}
			if d := p.DurationMS - tt.wantMS; d < -tt.toleranceMS || d > tt.toleranceMS {
				t.Errorf("duration %d ms, want %d±%d", p.DurationMS, tt.wantMS, tt.toleranceMS)
			}
		})
	}
}

func TestPoster(t *testing.T) {
	requireFFmpeg(t)
	mp4 := ffmpegFile(t, "out.mp4", "-f", "lavfi", "-i", "testsrc=duration=1:size=320x240:rate=10", "-c:v", "libx264", "-pix_fmt", "yuv420p")
	webm := ffmpegFile(t, "out.webm", "-f", "lavfi", "-i", "testsrc=duration=1:size=240x320:rate=10", "-c:v", "libvpx")
	tests := []struct {
		name         string
		path         string
		maxSide      int
		wantW, wantH int
	}{
		{"mp4 scaled down", mp4, 160, 160, 120},
		{"mp4 default size is not enlarged", mp4, 0, 320, 240},
		{"webm portrait", webm, 100, 75, 100},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data, err := media.Poster(context.Background(), tt.path, tt.maxSide)
			if err != nil {
				t.Fatal(err)
			}
			m, err := jpeg.Decode(bytes.NewReader(data))
			if err != nil {
				t.Fatal(err)
			}
			if b := m.Bounds(); b.Dx() != tt.wantW || b.Dy() != tt.wantH {
				t.Errorf("poster %d×%d, want %d×%d", b.Dx(), b.Dy(), tt.wantW, tt.wantH)
			}
			// ffmpeg's encoder signs its JPEGs in a comment; the re-encode
			// drops it with every other segment.
			if bytes.Contains(data, []byte("Lavc")) {
				t.Error("poster contains ffmpeg's comment; want no metadata")
			}
		})
	}
}

func TestPosterRefusesWhatIsNotVideo(t *testing.T) {
	requireFFmpeg(t)
	dir := t.TempDir()
	tests := []struct {
		name string
		data []byte
		want error
	}{
		// An HLS playlist is the classic way to make ffmpeg read other
		// files; it must never reach ffmpeg.
		{"hls playlist", []byte("#EXTM3U\n#EXT-X-MEDIA-SEQUENCE:0\n#EXTINF:10.0,\nconcat:/etc/passwd|file:///etc/hostname\n#EXT-X-ENDLIST\n"), media.ErrUnsupported},
		{"wav", wavFile(8000, 1, 8, 800), media.ErrUnsupported},
		{"mp4 without frames", buildMP4(mp4Spec{timescale: 1000, duration: 1000, width: 64, height: 64, mdat: 10}), media.ErrCorrupt},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(dir, "upload")
			if err := os.WriteFile(path, tt.data, 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := media.Poster(context.Background(), path, 0)
			if !errors.Is(err, tt.want) {
				t.Fatalf("got %v, want %v", err, tt.want)
			}
			if bytes.Contains([]byte(err.Error()), []byte(path)) {
				t.Errorf("error %q names the file; want it kept out", err)
			}
		})
	}
}

func TestPosterWithoutFFmpeg(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	if _, err := media.Poster(context.Background(), "/nonexistent.mp4", 0); !errors.Is(err, media.ErrNoFFmpeg) {
		t.Errorf("got %v, want %v", err, media.ErrNoFFmpeg)
	}
}

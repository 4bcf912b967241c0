package media

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image/jpeg"
	"io"
	"os"
	"os/exec"
	"strings"
	"time"
)

// ErrNoFFmpeg reports that ffmpeg is not on PATH, so a video gets no
// poster. Callers treat it as "no poster", never as a failed upload.
var ErrNoFFmpeg = errors.New("media: ffmpeg is not installed")

// Bounds on one ffmpeg run. The output is a single small JPEG; anything
// bigger means something is wrong.
const (
	posterTimeout   = 30 * time.Second
	maxPosterOutput = 16 << 20
)

// Poster returns a JPEG of the first frame of the video at videoPath, its
// longest side at most maxSide pixels (320 when maxSide ≤ 0), made by
// ffmpeg when it is on PATH, and ErrNoFFmpeg otherwise.
//
// The file is sniffed first and must be MP4/MOV or WebM video; ffmpeg is
// then told the demuxer and the file protocol explicitly, so a hostile file
// cannot make it probe its way into a playlist format that opens other
// files or URLs. The run is bounded by ctx and by 30 seconds. ffmpeg's JPEG
// is decoded and re-encoded here, so the poster carries no metadata from
// ffmpeg or the video.
func Poster(ctx context.Context, videoPath string, maxSide int) ([]byte, error) {
	ffmpeg, err := exec.LookPath("ffmpeg")
	if err != nil {
		return nil, ErrNoFFmpeg
	}
	if maxSide <= 0 {
		maxSide = DefaultThumbMax
	}
	demuxer, err := posterDemuxer(videoPath)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, posterTimeout)
	defer cancel()
	scale := fmt.Sprintf("scale=w='min(iw,%d)':h='min(ih,%d)':force_original_aspect_ratio=decrease", maxSide, maxSide)
	cmd := exec.CommandContext(ctx, ffmpeg,
		"-nostdin", "-hide_banner", "-loglevel", "error",
		"-protocol_whitelist", "file",
		"-f", demuxer, "-i", "file:"+videoPath,
		"-map", "0:v:0", "-frames:v", "1", "-an", "-sn", "-dn",
		"-vf", scale,
		"-map_metadata", "-1", "-f", "image2pipe", "-c:v", "mjpeg", "-q:v", "3",
		"pipe:1")
	var stdout, stderr bytes.Buffer
	cmd.Stdout = &limitedBuffer{buf: &stdout, limit: maxPosterOutput}
	cmd.Stderr = &limitedBuffer{buf: &stderr, limit: 4 << 10, discard: true}
	cmd.WaitDelay = time.Second
	if err := cmd.Run(); err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("poster: ffmpeg: %w", ctx.Err())
		}
		// ffmpeg names its input in messages: keep the path out of the
		// error, which may travel further than the server's own logs.
		msg := strings.ReplaceAll(strings.TrimSpace(stderr.String()), videoPath, "<video>")
		return nil, fmt.Errorf("poster: ffmpeg: %v: %s: %w", err, lastLine(msg), ErrCorrupt)
	}
	m, err := jpeg.Decode(bytes.NewReader(stdout.Bytes()))
	if err != nil {
		return nil, fmt.Errorf("poster: decode ffmpeg output: %v: %w", err, ErrCorrupt)
	}
	var out bytes.Buffer
	if err := jpeg.Encode(&out, m, &jpeg.Options{Quality: jpegQuality}); err != nil {
		return nil, fmt.Errorf("poster: encode: %w", err)
	}
	return out.Bytes(), nil
}

// posterDemuxer sniffs the file and names the ffmpeg demuxer for it.
func posterDemuxer(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("poster: %w", err)
	}
	defer f.Close()
	head := make([]byte, maxSniff)
	n, err := io.ReadFull(f, head)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("poster: read: %w", err)
	}
	kind, ct := Sniff(head[:n], "")
	if kind != KindVideo {
		return "", fmt.Errorf("poster: not a video (%s): %w", ct, ErrUnsupported)
	}
	switch ct {
	case TypeMP4, TypeQuickTime:
		return "mov", nil // ffmpeg's demuxer for the whole ISO BMFF family
	case TypeWebMVideo:
		return "matroska", nil
	}
	return "", fmt.Errorf("poster: %s: %w", ct, ErrUnsupported)
}

// limitedBuffer keeps at most limit bytes. Past that it fails the write,
// which makes ffmpeg stop instead of filling memory, or with discard set
// (for diagnostics) drops the rest quietly.
type limitedBuffer struct {
	buf     *bytes.Buffer
	limit   int
	discard bool
}

func (l *limitedBuffer) Write(p []byte) (int, error) {
	if room := l.limit - l.buf.Len(); len(p) > room {
		if !l.discard {
			return 0, errors.New("output too large")
		}
		l.buf.Write(p[:max(room, 0)])
		return len(p), nil
	}
	return l.buf.Write(p)
}

// lastLine returns the last line of s, where ffmpeg puts the reason.
func lastLine(s string) string {
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		return s[i+1:]
	}
	return s
}

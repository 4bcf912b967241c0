package media_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"math"
	"runtime"
	"testing"

	"github.com/plaza-im/plaza"
	"github.com/plaza-im/plaza/internal/media"
)

func TestProbeAV(t *testing.T) {
	mp4v1 := buildMP4(mp4Spec{timescale: 90000, duration: 90000 * 3, width: 1280, height: 720})
	// Rewrite mvhd as version 1 by hand: 64-bit times and duration.
	mp4v1 = mvhdV1(t, mp4v1, 1000, 4321)

	tests := []struct {
		name        string
		data        []byte
		contentType string
		want        media.Probe
	}{
		{"mp4 video and audio", buildMP4(mp4Spec{timescale: 600, duration: 600*2 + 300, width: 1920, height: 1080, audio: true, mdat: 1000}), media.TypeMP4,
			media.Probe{DurationMS: 2500, Width: 1920, Height: 1080, Codec: "h264"}},
		{"mp4 moov after mdat", buildMP4(mp4Spec{timescale: 1000, duration: 1234, width: 640, height: 480, moovLast: true, mdat: 5000}), media.TypeMP4,
			media.Probe{DurationMS: 1234, Width: 640, Height: 480, Codec: "h264"}},
		{"mp4 portrait phone video (90° matrix)", buildMP4(mp4Spec{timescale: 1000, duration: 5000, width: 1920, height: 1080, rotate90: true}), media.TypeQuickTime,
			media.Probe{DurationMS: 5000, Width: 1080, Height: 1920, Codec: "h264"}},
		{"m4a voice message", buildMP4(mp4Spec{brand: "M4A ", timescale: 44100, duration: 44100 * 7, audio: true}), media.TypeM4A,
			media.Probe{DurationMS: 7000, Codec: "aac"}},
		{"mp4 mvhd version 1", mp4v1, media.TypeMP4, media.Probe{DurationMS: 4321, Width: 1280, Height: 720, Codec: "h264"}},
		{"webm with Duration", buildWebM(webmSpec{durationMS: 2500, width: 640, height: 360, blocks: 5}), media.TypeWebMVideo,
			media.Probe{DurationMS: 2500, Width: 640, Height: 360, Codec: "vp8"}},
		{"webm recorder output: no Duration, unknown sizes", buildWebM(webmSpec{blocks: 100, unknownSizes: true}), media.TypeWebMAudio,
			media.Probe{DurationMS: 1980, Codec: "opus"}},
		{"webm audio known sizes, no Duration", buildWebM(webmSpec{blocks: 51}), media.TypeWebMAudio,
			media.Probe{DurationMS: 1000, Codec: "opus"}},
		{"ogg opus", oggOpus(3000, 312), media.TypeOgg, media.Probe{DurationMS: 3000, Codec: "opus"}},
		{"ogg opus longer than a window", oggOpus(600_000, 312), media.TypeOgg, media.Probe{DurationMS: 600_000, Codec: "opus"}},
		{"wav 16 kHz mono", wavFile(16000, 1, 16, 16000*2*3/2), media.TypeWAV, media.Probe{DurationMS: 1500, Codec: "pcm"}},
		{"wav 44.1 kHz stereo odd", wavFile(44100, 2, 16, 44100*4+1), media.TypeWAV, media.Probe{DurationMS: 1000, Codec: "pcm"}},
		{"mp3 with Info frame count", mp3File(100, 1000, true), media.TypeMP3, media.Probe{DurationMS: 2612, Codec: "mp3"}},
		{"mp3 CBR estimate", mp3File(100, 0, false), media.TypeMP3, media.Probe{DurationMS: 2606, Codec: "mp3"}},
		{"aac adts", adtsFile(431), media.TypeAAC, media.Probe{DurationMS: 10007, Codec: "aac"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := media.ProbeAV(bytes.NewReader(tt.data), int64(len(tt.data)), tt.contentType)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

// mvhdV1 replaces the version 0 mvhd in an MP4 with a version 1 one and
// fixes the sizes of moov and the file around it.
func mvhdV1(t *testing.T, mp4 []byte, timescale uint32, duration uint64) []byte {
	t.Helper()
	i := bytes.Index(mp4, []byte("mvhd")) - 4
	old := int(binary.BigEndian.Uint32(mp4[i:]))
	v1 := mp4Box("mvhd", u32(1<<24), u64(0), u64(0), u32(timescale), u64(duration),
		u32(0x10000), u16(0x100), make([]byte, 10), matrix(false), make([]byte, 24), u32(3))
	out := append(append(append([]byte{}, mp4[:i]...), v1...), mp4[i+old:]...)
	m := bytes.Index(out, []byte("moov")) - 4
	binary.BigEndian.PutUint32(out[m:], binary.BigEndian.Uint32(out[m:])+uint32(len(v1)-old))
	return out
}

func TestProbeAVRejects(t *testing.T) {
	full := buildMP4(mp4Spec{timescale: 1000, duration: 1000, width: 64, height: 64, moovLast: true, mdat: 4000})
	moovAt := bytes.Index(full, []byte("moov")) - 4
	// A box that claims 4 GiB: sizes are only used to seek.
	huge := append(mp4Box("ftyp", []byte("isom"), u32(0)), 0xFF, 0xFF, 0xFF, 0xFF, 'm', 'o', 'o', 'v')
	huge = append(huge, make([]byte, 100)...)
	// A 64-bit size past int64.
	large := append(mp4Box("ftyp", []byte("isom"), u32(0)), u32(1)...)
	large = append(append(large, "moov"...), u64(math.MaxUint64)...)
	// Containers nested far deeper than any real file.
	deep := mp4Box("stbl")
	for range 40 {
		deep = mp4Box("minf", mp4Box("stbl", deep))
	}
	deep = append(mp4Box("ftyp", []byte("isom"), u32(0)), mp4Box("moov", mp4Box("trak", mp4Box("mdia", deep)))...)
	// An mdat first that runs past the end: a recording cut off.
	cutMdat := append(mp4Box("ftyp", []byte("isom"), u32(0)), u32(1<<20)...)
	cutMdat = append(append(cutMdat, "mdat"...), make([]byte, 500)...)

	webm := buildWebM(webmSpec{durationMS: 1000, width: 64, height: 64, blocks: 2})
	ogg := oggOpus(1000, 312)
	badCRC := append([]byte{}, ogg...)
	badCRC[30] ^= 0xFF
	wav := wavFile(8000, 1, 8, 800)
	noFmt := append([]byte("RIFF\x10\x00\x00\x00WAVE"), "data\x04\x00\x00\x00\x00\x00\x00\x00"...)
	zeroRate := wavFile(8000, 1, 8, 800)
	binary.LittleEndian.PutUint32(zeroRate[bytes.Index(zeroRate, []byte("fmt "))+16:], 0)

	tests := []struct {
		name        string
		data        []byte
		contentType string
		want        error
	}{
		{"truncated mp4: moov missing", full[:moovAt], media.TypeMP4, media.ErrCorrupt},
		{"truncated mp4: moov cut short", full[:moovAt+40], media.TypeMP4, media.ErrCorrupt},
		{"truncated mp4: mdat runs past the end", cutMdat, media.TypeMP4, media.ErrCorrupt},
		{"mp4 box claims 4 GiB", huge, media.TypeMP4, media.ErrCorrupt},
		{"mp4 box claims 2^64 bytes", large, media.TypeMP4, media.ErrCorrupt},
		{"mp4 nested too deep", deep, media.TypeMP4, media.ErrCorrupt},
		{"ELF as mp4", append([]byte("\x7fELF\x02\x01\x01"), make([]byte, 100)...), media.TypeMP4, media.ErrCorrupt},
		{"empty mp4", nil, media.TypeMP4, media.ErrCorrupt},
		{"webm cut short", webm[:100], media.TypeWebMVideo, media.ErrCorrupt},
		{"webm without EBML header", webm[4:], media.TypeWebMVideo, media.ErrCorrupt},
		{"ogg with bad CRC", badCRC, media.TypeOgg, media.ErrCorrupt},
		{"ogg theora", oggPage(0x02, 0, 1, 0, append([]byte("\x80theora"), make([]byte, 40)...)), media.TypeOgg, media.ErrUnsupported},
		{"wav cut in header", wav[:30], media.TypeWAV, media.ErrCorrupt},
		{"wav without fmt", noFmt, media.TypeWAV, media.ErrCorrupt},
		{"wav with zero byte rate", zeroRate, media.TypeWAV, media.ErrCorrupt},
		{"mp3 that is noise", bytes.Repeat([]byte{0xFF, 0x00}, 1000), media.TypeMP3, media.ErrCorrupt},
		{"aac that is noise", []byte("not an aac file at all"), media.TypeAAC, media.ErrCorrupt},
		{"image type", encodeJPEG(t, pattern(8, 8)), media.TypeJPEG, media.ErrUnsupported},
		{"unknown type", wav, "application/x-whatever", media.ErrUnsupported},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := media.ProbeAV(bytes.NewReader(tt.data), int64(len(tt.data)), tt.contentType)
			if !errors.Is(err, tt.want) {
				t.Fatalf("got %+v, %v; want %v", p, err, tt.want)
			}
			if plaza.ErrorCode(err) == plaza.EInternal {
				t.Errorf("error %v has no plaza code; want one a handler can map", err)
			}
		})
	}
}

// bigFile is an io.ReaderAt over a file of size bytes that holds head at
// its start, tail at its end and zeros between, without storing them: it
// stands for a huge upload on disk. It counts the bytes read.
type bigFile struct {
	head, tail []byte
	size       int64
	read       int64
}

func (f *bigFile) ReadAt(p []byte, off int64) (int, error) {
	if off >= f.size {
		return 0, io.EOF
	}
	n := int(min(int64(len(p)), f.size-off))
	tailAt := f.size - int64(len(f.tail))
	for i := range n {
		switch at := off + int64(i); {
		case at < int64(len(f.head)):
			p[i] = f.head[at]
		case at >= tailAt:
			p[i] = f.tail[at-tailAt]
		default:
			p[i] = 0
		}
	}
	f.read += int64(n)
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

// TestProbeAVReadsLittle probes a 4 GiB WAV and a 4 GiB MP4 whose moov
// sits at the end: ProbeAV must seek, not read or allocate the file.
func TestProbeAVReadsLittle(t *testing.T) {
	const size = 4 << 30
	wav := wavFile(48000, 2, 16, 0)
	binary.LittleEndian.PutUint32(wav[len(wav)-4:], 0xFFFFFFFF) // what streaming writers leave
	moov := mp4Box("moov", mp4Box("mvhd", u32(0), u32(0), u32(0), u32(1000), u32(3_600_000)))
	mp4Head := append(mp4Box("ftyp", []byte("isom"), u32(0)), u32(1)...)
	mp4Head = append(append(mp4Head, "mdat"...), u64(uint64(size-16-len(moov)))...)

	tests := []struct {
		name        string
		f           *bigFile
		contentType string
		want        int64
	}{
		{"wav", &bigFile{head: wav, size: size}, media.TypeWAV, (size - int64(len(wav))) * 1000 / (48000 * 4)},
		{"mp4", &bigFile{head: mp4Head, tail: moov, size: size}, media.TypeMP4, 3_600_000},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			p, err := media.ProbeAV(tt.f, tt.f.size, tt.contentType)
			runtime.ReadMemStats(&after)
			if err != nil {
				t.Fatal(err)
			}
			if p.DurationMS != tt.want {
				t.Errorf("duration %d ms, want %d", p.DurationMS, tt.want)
			}
			if tt.f.read > 1<<20 {
				t.Errorf("read %d bytes, want at most %d", tt.f.read, 1<<20)
			}
			if got := after.TotalAlloc - before.TotalAlloc; got > 1<<20 {
				t.Errorf("allocated %d bytes, want at most %d", got, 1<<20)
			}
		})
	}
}

func TestOggCRC(t *testing.T) {
	// CRC-32 with polynomial 0x04c11db7, no reflection, initial value 0
	// and no final XOR: the check value of "123456789" is CRC-32/POSIX's
	// 0x765e7680 without that standard's final inversion.
	if got, want := media.OggCRC([]byte("123456789")), uint32(0x765e7680^0xFFFFFFFF); got != want {
		t.Errorf("got %#08x, want %#08x", got, want)
	}
}

func TestMsFrom(t *testing.T) {
	tests := []struct {
		count, rate uint64
		want        int64
	}{
		{48000, 48000, 1000},
		{1, 3, 333},
		{math.MaxUint64, 1, math.MaxInt64},
		{math.MaxUint64, math.MaxUint64, 1000},
		{5, 0, 0},
	}
	for _, tt := range tests {
		if got := media.MsFrom(tt.count, tt.rate); got != tt.want {
			t.Errorf("msFrom(%d, %d) = %d, want %d", tt.count, tt.rate, got, tt.want)
		}
	}
}

// BenchmarkProbeWebMWithoutDuration probes a ten-minute voice message as
// browsers record it (no Duration, unknown sizes): the worst case, where
// every block's timestamp is read. It uses several clusters, since a
// block's offset from its cluster's timecode is 16 bits.
func BenchmarkProbeWebMWithoutDuration(b *testing.B) {
	one := buildWebM(webmSpec{blocks: 1500, unknownSizes: true})
	c := bytes.Index(one, []byte{0x1F, 0x43, 0xB6, 0x75})
	data := append([]byte{}, one...)
	for i := 1; i < 20; i++ { // 20 clusters of 30 s
		cluster := append([]byte{}, one[c:]...)
		copy(cluster[12:], ebmlUint(0xE7, uint64(i*30_000)))
		data = append(data, cluster...)
	}
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		p, err := media.ProbeAV(bytes.NewReader(data), int64(len(data)), media.TypeWebMAudio)
		if err != nil || p.DurationMS != 599_980 {
			b.Fatalf("got %+v, %v; want 599980 ms", p, err)
		}
	}
}

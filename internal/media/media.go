// Package media holds the pure processing behind uploads: it decides what a
// file is from its content (never from its name or claimed type), re-encodes
// images without any metadata after applying their orientation, makes
// thumbnails, reads duration and dimensions from audio and video containers,
// and extracts a video poster frame when ffmpeg is installed.
//
// Nothing here knows HTTP, databases or storage: callers hand in bytes or an
// io.ReaderAt and get values or one of the sentinel errors back. The errors
// are *plaza.Error values, so plaza.ErrorCode maps them to a status even
// when wrapped, and their messages never carry a client's file name.
package media

import (
	"github.com/plaza-im/plaza"
)

// Kinds of a media item. Only allowlisted formats get image, video or audio;
// everything else is a file, served as an attachment.
const (
	KindImage = "image"
	KindVideo = "video"
	KindAudio = "audio"
	KindFile  = "file"
)

// Content types this package produces. A file is always served as
// application/octet-stream, whatever the client claimed.
const (
	TypeJPEG      = "image/jpeg"
	TypePNG       = "image/png"
	TypeGIF       = "image/gif"
	TypeWebP      = "image/webp"
	TypeMP4       = "video/mp4"
	TypeQuickTime = "video/quicktime"
	TypeWebMVideo = "video/webm"
	TypeWebMAudio = "audio/webm"
	TypeOgg       = "audio/ogg"
	TypeM4A       = "audio/mp4"
	TypeAAC       = "audio/aac"
	TypeMP3       = "audio/mpeg"
	TypeWAV       = "audio/wav"
	TypeFile      = "application/octet-stream"
)

// Sentinel errors. Callers test them with errors.Is; the wrapping context
// (dimensions, box names, offsets) is for logs, and only the sentinel's
// message reaches a client.
var (
	// ErrTooManyPixels reports an image whose declared dimensions exceed
	// the pixel limit; it is returned before any pixel is decoded.
	ErrTooManyPixels = plaza.Errorf(plaza.ETooLarge, "the image has more pixels than this server accepts")
	// ErrTooMuchMemory reports an image whose decoded pixels would take
	// more memory than the limit (a 16-bit RGBA image takes 8 bytes a
	// pixel); it is returned before any pixel is decoded.
	ErrTooMuchMemory = plaza.Errorf(plaza.ETooLarge, "the image would take more memory to decode than this server allows: send it smaller or with 8-bit color")
	// ErrUnsupported reports a format, or a variant of one (animated WebP,
	// an unknown codec), that this package does not process.
	ErrUnsupported = plaza.Errorf(plaza.EUnsupportedMediaType, "this media format is not supported")
	// ErrCorrupt reports a damaged or truncated file, or one whose
	// structure contradicts its type.
	ErrCorrupt = plaza.Errorf(plaza.EInvalid, "the media file is damaged or truncated")
)

package media

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/plaza-im/plaza"
	"github.com/plaza-im/plaza/internal/blob"
	"github.com/plaza-im/plaza/internal/sqldb"
)

// Config holds the upload rules an operator may change.
type Config struct {
	// Per-kind size limits, enforced while the upload is read.
	MaxImage, MaxAudio, MaxVideo, MaxFile int64
	// Quota bounds the bytes one account may have stored.
	Quota int64
	// Images bounds image decoding.
	Images ImageLimits
	// TempDir holds uploads while they are checked; "" is the system's.
	TempDir string
	// MaxProcessing is the number of small images (at most
	// SmallDecodeBytes decoded) decoded at once in their own fast lane.
	MaxProcessing int
	// SmallDecodeBytes bounds the images of the fast lane; bigger ones
	// share DecodeMemory, one at a time per account.
	SmallDecodeBytes int64
	// DecodeMemory is the memory bigger images' decoded pixels may take
	// together; they wait for it in arrival order.
	DecodeMemory int64
	// MaxUnfinished bounds the resumable uploads one account may have in
	// progress: each holds disk space for up to a day.
	MaxUnfinished int
}

// DefaultConfig returns the defaults: images 20 MiB, voice 10 MiB, video
// 200 MiB, files 100 MiB, 2 GiB per account.
func DefaultConfig() Config {
	return Config{
		MaxImage: 20 << 20, MaxAudio: 10 << 20, MaxVideo: 200 << 20, MaxFile: 100 << 20,
		Quota:            2 << 30,
		Images:           ImageLimits{MaxPixels: DefaultMaxPixels, ThumbMax: DefaultThumbMax, MaxDecodeBytes: DefaultMaxDecodeBytes},
		MaxProcessing:    2,
		SmallDecodeBytes: DefaultSmallDecodeBytes,
		DecodeMemory:     DefaultDecodeMemory,
		MaxUnfinished:    5,
	}
}

// MaxUpload is the largest upload of any kind: the limit before the kind
// is known.
func (c Config) MaxUpload() int64 { return max(c.MaxImage, c.MaxAudio, c.MaxVideo, c.MaxFile) }

func (c Config) limit(kind string) int64 {
	switch kind {
	case KindImage:
		return c.MaxImage
	case KindAudio:
		return c.MaxAudio
	case KindVideo:
		return c.MaxVideo
	}
	return c.MaxFile
}

// Item is a stored media item.
type Item struct {
	ID          plaza.ID  `json:"id"`
	OwnerID     plaza.ID  `json:"owner_id"`
	Kind        string    `json:"kind"`
	ContentType string    `json:"content_type"`
	Size        int64     `json:"size"`
	Width       int       `json:"width"`
	Height      int       `json:"height"`
	DurationMS  int64     `json:"duration_ms"`
	HasThumb    bool      `json:"has_thumbnail"`
	SHA256      string    `json:"sha256"`
	CreatedAt   time.Time `json:"created_at"`
	// Released reports an item its uploader deleted that a sent message
	// still carries: only GetForServing returns one.
	Released bool `json:"-"`

	key, thumbKey, thumbType string
}

// ThumbType is the content type of the item's thumbnail or poster.
func (it Item) ThumbType() string { return it.thumbType }

// Service stores and serves media. Who may see an item is decided by its
// callers (the uploader, members of a conversation carrying it, anyone for
// a published post); Service only knows owners.
type Service struct {
	db    *sqldb.DB
	store blob.Store
	cfg   Config
	log   *slog.Logger
	gate  *decodeGate
	now   func() time.Time
}

// NewService returns a Service keeping bytes in store.
func NewService(db *sqldb.DB, store blob.Store, cfg Config, log *slog.Logger) *Service {
	if cfg.MaxProcessing <= 0 {
		cfg.MaxProcessing = 1
	}
	if cfg.MaxUnfinished <= 0 {
		cfg.MaxUnfinished = DefaultConfig().MaxUnfinished
	}
	if cfg.SmallDecodeBytes <= 0 {
		cfg.SmallDecodeBytes = DefaultSmallDecodeBytes
	}
	if cfg.DecodeMemory <= 0 {
		cfg.DecodeMemory = DefaultDecodeMemory
	}
	gate := newDecodeGate(cfg.MaxProcessing, cfg.SmallDecodeBytes, cfg.DecodeMemory)
	return &Service{db: db, store: store, cfg: cfg, log: log, gate: gate,
		now: func() time.Time { return time.Now().UTC().Truncate(time.Microsecond) }}
}

// Config returns the rules in force.
func (s *Service) Config() Config { return s.cfg }

// errTooLarge is returned while reading an upload that passed its limit.
func errTooLarge(kind string, limit int64) error {
	return plaza.Errorf(plaza.ETooLarge, "a %s may be at most %d MiB", kind, limit>>20).
		WithDetails(map[string]any{"limit_bytes": limit, "kind": kind})
}

// limitedReader fails as soon as more than limit bytes arrive, so an
// oversize upload is refused while it is read, not after.
type limitedReader struct {
	r     io.Reader
	n     int64
	limit int64
	kind  string
}

func (l *limitedReader) Read(p []byte) (int, error) {
	n, err := l.r.Read(p)
	l.n += int64(n)
	if l.n > l.limit {
		return n, errTooLarge(l.kind, l.limit)
	}
	return n, err
}

// Upload reads an upload from r, decides what it is from its content
// (claimed is only a hint that can make it a file, never the reverse),
// checks the per-kind limit and the owner's quota, re-encodes images
// without metadata, reads audio and video durations, makes a thumbnail or
// poster, and stores the result.
//
// The bytes are reserved against the quota once read, atomically with the
// check (see Reserve), so concurrent uploads cannot together pass it.
func (s *Service) Upload(ctx context.Context, owner plaza.ID, r io.Reader, claimed string) (Item, error) {
	return s.upload(ctx, Reservation{Owner: owner}, r, claimed)
}

// UploadReserved is Upload for bytes already reserved with Reserve (a
// declared Content-Length or Upload-Length): the reservation is settled
// into the stored item, or released if the upload fails. An upload larger
// than its reservation is refused.
func (s *Service) UploadReserved(ctx context.Context, res Reservation, r io.Reader, claimed string) (Item, error) {
	if res.ID == 0 {
		return Item{}, fmt.Errorf("upload: reservation without an ID")
	}
	return s.upload(ctx, res, r, claimed)
}

func (s *Service) upload(ctx context.Context, res Reservation, r io.Reader, claimed string) (_ Item, err error) {
	owner := res.Owner
	defer func() {
		if err != nil && res.ID != 0 {
			// The request may be gone; the quota must come back anyway.
			if rerr := s.Release(context.WithoutCancel(ctx), res.ID); rerr != nil {
				s.log.Warn("could not release media reservation", "err", rerr)
			}
		}
	}()
	tmp, err := os.CreateTemp(s.cfg.TempDir, "plaza-upload-*")
	if err != nil {
		return Item{}, fmt.Errorf("upload: %w", err)
	}
	defer os.Remove(tmp.Name())
	defer tmp.Close()

	lr := &limitedReader{r: r, limit: s.cfg.MaxUpload(), kind: "upload"}
	head := make([]byte, 64<<10)
	n, err := io.ReadFull(lr, head)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return Item{}, err
	}
	head = head[:n]
	if n == 0 {
		return Item{}, plaza.Invalid("file", "is empty")
	}
	kind, ctype := Sniff(head, claimed)
	lr.limit, lr.kind = s.cfg.limit(kind), kind
	if int64(n) > lr.limit {
		return Item{}, errTooLarge(kind, lr.limit)
	}
	h := sha256.New()
	w := io.MultiWriter(tmp, h)
	if _, err := w.Write(head); err != nil {
		return Item{}, fmt.Errorf("upload: %w", err)
	}
	size, err := io.Copy(w, lr)
	if err != nil {
		if plaza.AsError(err) != nil {
			return Item{}, err
		}
		return Item{}, fmt.Errorf("upload: read: %w", err)
	}
	size += int64(n)

	switch {
	case res.ID == 0:
		if res, err = s.Reserve(ctx, owner, size, false); err != nil {
			return Item{}, err
		}
	case size > res.Bytes:
		return Item{}, plaza.Invalid("file", fmt.Sprintf("is larger than the %d bytes declared for it", res.Bytes))
	}

	it := Item{ID: plaza.NewID(), OwnerID: owner, Kind: kind, ContentType: ctype, Size: size, CreatedAt: s.now()}
	it.key = blobKey(it.ID, "")
	var body io.Reader
	switch kind {
	case KindImage:
		img, err := s.processImage(ctx, owner, tmp, ctype)
		if err != nil {
			return Item{}, err
		}
		body = bytes.NewReader(img.Data)
		it.ContentType, it.Size, it.Width, it.Height = img.ContentType, int64(len(img.Data)), img.Width, img.Height
		sum := sha256.Sum256(img.Data)
		it.SHA256 = hex.EncodeToString(sum[:])
		if len(img.Thumb) > 0 {
			it.thumbKey, it.thumbType = blobKey(it.ID, "thumb"), img.ThumbContentType
			if err := s.store.Put(ctx, it.thumbKey, bytes.NewReader(img.Thumb), int64(len(img.Thumb)), img.ThumbContentType); err != nil {
				return Item{}, fmt.Errorf("upload: store thumbnail: %w", err)
			}
		}
	case KindAudio, KindVideo:
		p, err := ProbeAV(tmp, size, ctype)
		if err != nil {
			return Item{}, err
		}
		it.DurationMS, it.Width, it.Height = p.DurationMS, p.Width, p.Height
		if kind == KindVideo {
			poster, err := Poster(ctx, tmp.Name(), s.cfg.Images.ThumbMax)
			switch {
			case err == nil:
				it.thumbKey, it.thumbType = blobKey(it.ID, "thumb"), TypeJPEG
				if err := s.store.Put(ctx, it.thumbKey, bytes.NewReader(poster), int64(len(poster)), TypeJPEG); err != nil {
					return Item{}, fmt.Errorf("upload: store poster: %w", err)
				}
			case errors.Is(err, ErrNoFFmpeg):
				// No poster without ffmpeg; the video itself is fine.
			default:
				s.log.Warn("video poster failed", "media_id", it.ID.String(), "err", err)
			}
		}
		fallthrough
	default:
		if _, err := tmp.Seek(0, io.SeekStart); err != nil {
			return Item{}, fmt.Errorf("upload: %w", err)
		}
		body = tmp
		it.SHA256 = hex.EncodeToString(h.Sum(nil))
	}
	if err := s.store.Put(ctx, it.key, body, it.Size, it.ContentType); err != nil {
		return Item{}, fmt.Errorf("upload: store: %w", err)
	}
	it.HasThumb = it.thumbKey != ""
	if err := settle(ctx, s.db, it, res.ID); err != nil {
		_ = s.store.Delete(ctx, it.key)
		if it.thumbKey != "" {
			_ = s.store.Delete(ctx, it.thumbKey)
		}
		return Item{}, fmt.Errorf("upload: %w", err)
	}
	return it, nil
}

// processImage decodes and re-encodes an image once the decode gate has
// room for its pixels; an image whose pixels alone pass the per-image
// limit is refused from its header, before it waits or decodes.
func (s *Service) processImage(ctx context.Context, owner plaza.ID, f *os.File, ctype string) (Image, error) {
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return Image{}, err
	}
	cost, err := DecodeBytes(bufio.NewReader(f), ctype, s.cfg.Images)
	if err != nil {
		return Image{}, err
	}
	release, err := s.gate.acquire(ctx, owner, cost)
	if err != nil {
		return Image{}, err
	}
	defer release()
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return Image{}, err
	}
	return ProcessImage(f, ctype, s.cfg.Images)
}

// blobKey spreads items over directories by the low digits of their ID,
// which vary fastest.
func blobKey(id plaza.ID, suffix string) string {
	s := id.String()
	k := s[len(s)-2:] + "/" + s[len(s)-4:len(s)-2] + "/" + s
	if suffix != "" {
		k += "." + suffix
	}
	return k
}

// Get returns an item's record. An item its uploader deleted is
// not_found, so nothing new can carry it: this is the check that every
// attachment (messages, posts, channel posts) goes through.
func (s *Service) Get(ctx context.Context, id plaza.ID) (Item, error) {
	return getItem(ctx, s.db, id, false)
}

// GetForServing returns an item's record for serving its bytes, also when
// its uploader deleted it while a sent message still carries it
// (Item.Released): those bytes stay readable for the conversation, which
// the caller must check, and are no longer the uploader's as owner.
func (s *Service) GetForServing(ctx context.Context, id plaza.ID) (Item, error) {
	return getItem(ctx, s.db, id, true)
}

// Open opens an item's bytes, or its thumbnail.
func (s *Service) Open(ctx context.Context, it Item, thumb bool) (blob.Object, error) {
	key := it.key
	if thumb {
		if it.thumbKey == "" {
			return nil, plaza.Errorf(plaza.ENotFound, "this media has no thumbnail")
		}
		key = it.thumbKey
	}
	obj, err := s.store.Open(ctx, key)
	if errors.Is(err, blob.ErrNotFound) {
		return nil, fmt.Errorf("media %s: bytes missing from the store: %w", it.ID, err)
	}
	return obj, err
}

// UsedBytes returns the bytes an account has stored.
func (s *Service) UsedBytes(ctx context.Context, owner plaza.ID) (int64, error) {
	u, err := s.Usage(ctx, owner)
	return u.Used, err
}

package export

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/plaza-im/plaza"
	"github.com/plaza-im/plaza/internal/blob"
	"github.com/plaza-im/plaza/internal/media"
)

// mediaExt gives the file name extension of the content types Plaza
// stores; anything else is .bin.
var mediaExt = map[string]string{
	"image/jpeg": "jpg", "image/png": "png", "image/gif": "gif", "image/webp": "webp",
	"video/mp4": "mp4", "video/webm": "webm", "video/quicktime": "mov",
	"audio/mpeg": "mp3", "audio/mp4": "m4a", "audio/ogg": "ogg", "audio/webm": "weba", "audio/wav": "wav", "audio/x-wav": "wav", "audio/aac": "aac",
	"application/pdf": "pdf", "text/plain": "txt", "application/zip": "zip",
}

// mediaFile names the file of an item in the export.
func mediaFile(it media.Item) string {
	ext, ok := mediaExt[it.ContentType]
	if !ok {
		ext = "bin"
	}
	return fmt.Sprintf("media/%d.%s", it.ID, ext)
}

// mediaEntry is an item in media/index.json.
type mediaEntry struct {
	media.Item
	// File is the item's bytes in the export; empty when they were
	// missing from the store.
	File string `json:"file"`
}

// media copies the subject's own uploads into media/ (stored, not
// compressed again), then writes media/index.json and media.html. The
// bytes go first so that the index can say which were missing.
func (x *run) media(ctx context.Context) (string, error) {
	each := func(fn func(media.Item) error) error {
		return pages(ctx, x.p, func(after plaza.ID, limit int) ([]media.Item, error) {
			return x.s.d.Media.YourMedia(ctx, x.subject, after, limit)
		}, func(it media.Item) plaza.ID { return it.ID }, fn)
	}
	missing := map[plaza.ID]bool{}
	var items, bytes int64
	if err := each(func(it media.Item) error {
		n, err := x.copyMedia(ctx, it)
		if errors.Is(err, blob.ErrNotFound) {
			x.s.log.Warn("a media item's bytes are missing from the store; the export lists it without them", "media", it.ID, "export", x.e.ID)
			missing[it.ID] = true
			return nil
		}
		items++
		bytes += n
		return err
	}); err != nil {
		return "", err
	}
	if err := x.listFile("media/index.json", "media", func(add func(any) error) error {
		return each(func(it media.Item) error {
			e := mediaEntry{Item: it}
			if !missing[it.ID] && x.w.names[mediaFile(it)] {
				e.File = mediaFile(it)
			}
			return add(e)
		})
	}); err != nil {
		return "", err
	}

	pg, err := openPage(x.w, "media.html", "Media", "", x.exported)
	if err != nil {
		return "", err
	}
	pg.note("The photos, videos, voice messages and files you uploaded. Media others sent you is theirs and is not included.")
	pg.table("Uploaded", "Media", "Kind", "Type", "Size (bytes)")
	if err := each(func(it media.Item) error {
		c := cell{Text: "(missing)"}
		if !missing[it.ID] && x.w.names[mediaFile(it)] {
			name := mediaFile(it)
			c = link(name, name)
			switch it.Kind {
			case media.KindImage:
				c.Image = name
			case media.KindVideo:
				c.Video = name
			case media.KindAudio:
				c.Audio = name
			}
		}
		uploaded := toCell(it.CreatedAt)
		uploaded.Anchor = "m" + it.ID.String()
		return pg.row(uploaded, c, it.Kind, it.ContentType, it.Size)
	}); err != nil {
		return "", err
	}
	pg.endTable()
	return fmt.Sprintf("files: %d; bytes: %d", items, bytes), pg.close()
}

// copyMedia copies one item's bytes into the export and returns how many.
func (x *run) copyMedia(ctx context.Context, it media.Item) (int64, error) {
	obj, err := x.s.d.Media.Open(ctx, it, false)
	if err != nil {
		return 0, err
	}
	defer obj.Close()
	f, err := x.w.create(mediaFile(it), storeMethod)
	if err != nil {
		return 0, err
	}
	pw := &progressWriter{ctx: ctx, w: f, p: x.p}
	n, err := io.Copy(pw, obj)
	if err != nil {
		return n, fmt.Errorf("copy media %s: %w", it.ID, err)
	}
	return n, nil
}

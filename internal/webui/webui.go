//go:build !noui

package webui

import (
	"bytes"
	"embed"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strings"
	"time"
)

//go:embed all:dist
var dist embed.FS

// Enabled reports whether this binary carries the web client.
const Enabled = true

// Handler serves the embedded app. Files under /assets/ have content
// hashes in their names and are cached for a year; other files (the
// manifest, icons) are revalidated on every use. Any other path answers
// index.html, so the app's own routes survive a reload (the SPA fallback);
// a missing hashed asset is a plain 404, never HTML posing as a script.
// The caller decides which paths reach it (not the API's).
func Handler() http.Handler {
	sub, err := fs.Sub(dist, "dist")
	if err != nil {
		panic(err) // the embed pattern guarantees the directory
	}
	index, err := fs.ReadFile(sub, "index.html")
	if err != nil {
		panic("webui: dist/index.html is missing; run make web")
	}
	return &handler{files: sub, index: index}
}

type handler struct {
	files fs.FS
	index []byte
}

// modTime is fixed: the files change only with the binary, and a moving
// Last-Modified would defeat caching across restarts.
var modTime = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	hd := w.Header()
	hd.Set("Content-Security-Policy", ContentSecurityPolicy)
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		hd.Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	name := strings.TrimPrefix(path.Clean("/"+r.URL.Path), "/")
	if name != "" && name != "index.html" {
		if b, err := fs.ReadFile(h.files, name); err == nil {
			if strings.HasPrefix(name, "assets/") {
				hd.Set("Cache-Control", "public, max-age=31536000, immutable")
			} else {
				hd.Set("Cache-Control", "no-cache")
			}
			if ct := contentType(name); ct != "" {
				hd.Set("Content-Type", ct)
			}
			http.ServeContent(w, r, name, modTime, bytes.NewReader(b))
			return
		}
		if strings.HasPrefix(name, "assets/") {
			hd.Set("Cache-Control", "no-store")
			http.Error(w, "not found", http.StatusNotFound)
			return
		}
	}
	hd.Set("Cache-Control", "no-cache")
	hd.Set("Content-Type", "text/html; charset=utf-8")
	http.ServeContent(w, r, "index.html", modTime, bytes.NewReader(h.index))
}

func contentType(name string) string {
	if strings.HasSuffix(name, ".webmanifest") {
		return "application/manifest+json"
	}
	return mime.TypeByExtension(path.Ext(name))
}

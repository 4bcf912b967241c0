//go:build noui

package webui

import "net/http"

// Enabled reports whether this binary carries the web client.
const Enabled = false

// Handler answers 404 for every path: this binary was built with the noui
// tag and serves only the API.
func Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'")
		http.Error(w, "this Plaza server was built without the web client (build tag noui); use the API under /api/v1", http.StatusNotFound)
	})
}

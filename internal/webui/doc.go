// Package webui serves Plaza's web client: the single-page app built from
// web/ by Vite into dist/ and embedded in the binary, so serving it needs
// no Node and no files on disk.
//
// Built with the noui tag, the package embeds nothing and its handler
// answers 404: an API-only binary.
package webui

// ContentSecurityPolicy is the policy the app is served with. Scripts and
// styles come only from the server itself (the build inlines neither);
// the app talks to the API and its WebSocket stream on the same host only
// ('self' covers ws: and wss: to the own host under CSP Level 3), and
// shows media from the API and from local blobs (previews before upload).
const ContentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; " +
	"connect-src 'self'; img-src 'self' blob: data:; media-src 'self' blob:; " +
	"font-src 'self'; manifest-src 'self'; worker-src 'self'; object-src 'none'; " +
	"base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

package channel

import (
	"bytes"

	"github.com/microcosm-cc/bluemonday"
	"github.com/yuin/goldmark"
)

// Markdown is rendered by goldmark with raw HTML off (it is dropped, and
// dangerous link schemes are refused), then passed through bluemonday's
// policy for user content as a second line of defence: a post body can
// never carry script into a reader's page.
var (
	markdown  = goldmark.New()
	sanitizer = bluemonday.UGCPolicy()
)

// renderMarkdown returns the safe HTML of a post body.
func renderMarkdown(src string) string {
	var buf bytes.Buffer
	if err := markdown.Convert([]byte(src), &buf); err != nil {
		return sanitizer.Sanitize(src)
	}
	return sanitizer.SanitizeReader(&buf).String()
}

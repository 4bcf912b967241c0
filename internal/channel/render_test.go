package channel

import (
	"context"
	"strings"
	"testing"

	"github.com/plaza-im/plaza/internal/sqldb"
	"github.com/plaza-im/plaza/internal/sqldb/sqldbtest"
)

func TestRenderMarkdownHostile(t *testing.T) {
	// A javascript: URL is harmless as text; it must not be an attribute.
	jsURL := []string{`"javascript:`, `'javascript:`, "=javascript:", "&#106;avascript", "<script"}
	for _, tt := range []struct {
		name, src string
		banned    []string // case-insensitive substrings that must not survive
	}{
		{"script element", "<script>alert(1)</script>", []string{"<script", "alert(1)"}},
		{"script inside a paragraph", "Hello <script>alert(1)</script> world", []string{"<script"}},
		{"javascript link", "[x](javascript:alert(1))", jsURL},
		{"JavaScript link, mixed case", "[x](JaVaScRiPt:alert(1))", jsURL},
		{"javascript autolink", "<javascript:alert(1)>", jsURL},
		{"javascript reference link", "[x][r]\n\n[r]: javascript:alert(1)", jsURL},
		{"data link", "[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)", []string{`"data:`, "=data:"}},
		{"vbscript link", "[x](vbscript:msgbox(1))", []string{`"vbscript:`, "=vbscript:"}},
		{"img onerror", `<img src=x onerror="alert(1)">`, []string{"onerror", "<img src=x"}},
		{"markdown image with javascript", "![a](javascript:alert(1))", jsURL},
		{"iframe", `<iframe src="https://evil.example/"></iframe>`, []string{"<iframe"}},
		{"svg onload", `<svg onload=alert(1)>`, []string{"<svg", "onload"}},
		{"style element", `<style>body{display:none}</style>`, []string{"<style"}},
		{"link with onclick", `<a href="https://example.com" onclick="alert(1)">x</a>`, []string{"onclick"}},
		{"html comment hiding script", "<!-- --><script>alert(1)</script>", []string{"<script"}},
		{"entity-encoded javascript link", "[x](&#106;avascript:alert(1))", jsURL},
		{"tab inside javascript scheme", "[x](java\tscript:alert(1))", []string{`"java`, "=java"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got := renderMarkdown(tt.src)
			lower := strings.ToLower(got)
			for _, b := range tt.banned {
				if strings.Contains(lower, strings.ToLower(b)) {
					t.Errorf("renderMarkdown(%q) = %q, contains %q", tt.src, got, b)
				}
			}
		})
	}
}

func TestRenderMarkdown(t *testing.T) {
	for _, tt := range []struct {
		name, src string
		want      []string // substrings that must appear
	}{
		{"bold", "Some **bold** text", []string{"<strong>bold</strong>"}},
		{"emphasis", "Some *soft* text", []string{"<em>soft</em>"}},
		{"bullet list", "- one\n- two\n", []string{"<ul>", "<li>one</li>", "<li>two</li>"}},
		{"numbered list", "1. first\n2. second\n", []string{"<ol>", "<li>first</li>", "<li>second</li>"}},
		{"https link", "[Plaza](https://plaza.example/about)", []string{`href="https://plaza.example/about"`, ">Plaza</a>"}},
		{"heading", "# Title", []string{"<h1", "Title</h1>"}},
		{"code", "Use `go test`", []string{"<code>go test</code>"}},
		{"paragraphs", "one\n\ntwo", []string{"<p>one</p>", "<p>two</p>"}},
		{"escaped text", "1 < 2 & 3 > 2", []string{"1 &lt; 2 &amp; 3 &gt; 2"}},
		{"unicode", "你好，**世界**", []string{"你好，<strong>世界</strong>"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got := renderMarkdown(tt.src)
			for _, w := range tt.want {
				if !strings.Contains(got, w) {
					t.Errorf("renderMarkdown(%q) = %q, want it to contain %q", tt.src, got, w)
				}
			}
		})
	}
}

// TestPostBodyHTMLIsSafe checks the rendering where readers get it: the
// created post, the bus frame and the stored post read back.
func TestPostBodyHTMLIsSafe(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db, envOptions{users: 2, cfg: roomy})
		ctx := context.Background()
		owner := e.user(1)
		ch := e.newChannel(t, owner, "hostile", ServiceKind)
		e.category(t, "news", PolicyOpen)
		w := watch(t, e.bus, ch)
		body := "**hi** <script>alert(1)</script> [x](javascript:alert(1)) <img src=x onerror=alert(1)>"
		p, err := e.svc.CreatePost(ctx, owner, ch, PostInput{Title: "t", Body: body, Category: "news"})
		if err != nil {
			t.Fatalf("CreatePost: %v", err)
		}
		frames := w.take(t)
		stored, err := e.svc.Posts(ctx, e.user(0), ch, "", 0, 1)
		if err != nil || len(frames) != 1 || len(stored) != 1 {
			t.Fatalf("frames %d, stored %v, %v", len(frames), stored, err)
		}
		if stored[0].Body != body {
			t.Errorf("stored Markdown = %q, want it kept as written", stored[0].Body)
		}
		for name, html := range map[string]string{"created": p.BodyHTML, "frame": frames[0].Data.BodyHTML, "stored": stored[0].BodyHTML} {
			l := strings.ToLower(html)
			if strings.Contains(l, "<script") || strings.Contains(l, "javascript:") || strings.Contains(l, "onerror") {
				t.Errorf("%s BodyHTML = %q carries script", name, html)
			}
			if !strings.Contains(html, "<strong>hi</strong>") {
				t.Errorf("%s BodyHTML = %q lost the Markdown", name, html)
			}
		}
	})
}

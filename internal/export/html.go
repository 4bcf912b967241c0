package export

import (
	"fmt"
	"html/template"
	"io"
	"strconv"
	"time"

	"github.com/plaza-im/plaza"
)

// The export's HTML pages show its data offline: a browser opening
// index.html from the unzipped folder reads everything without a server
// or a script (a page opened from a file cannot fetch the JSON beside it,
// so the pages are written from the data, a second pass over it). Every
// value is escaped by html/template, and a Content-Security-Policy in
// each page forbids scripts and anything not in the folder, in case
// someone's message holds markup after all.

// pageCSP allows the page's own style and the media files beside it.
// 'self' does not cover file: URLs in every browser, so those are named.
const pageCSP = "default-src 'none'; img-src 'self' file:; media-src 'self' file:; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'"

var pageTemplates = template.Must(template.New("").Parse(`
{{define "head"}}<!DOCTYPE html>
<html lang="und">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{{.CSP}}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>{{.Title}} · Plaza</title>
<style>
body { font: 15px/1.5 system-ui, -apple-system, "Segoe UI", "PingFang SC", "Hiragino Sans GB", "Microsoft YaHei", "Noto Sans CJK SC", sans-serif; margin: 2rem auto; max-width: 60rem; padding: 0 1rem; color: #1b1b1b; background: #fff; }
nav { margin-bottom: 1rem; } h1 { font-size: 1.6rem; } h2 { font-size: 1.2rem; margin-top: 2rem; }
table { border-collapse: collapse; width: 100%; margin: .5rem 0 1rem; } th, td { border-bottom: 1px solid #ddd; padding: .35rem .5rem; text-align: left; vertical-align: top; }
td { white-space: pre-wrap; overflow-wrap: anywhere; } th { background: #f4f4f4; } dt { font-weight: 600; } dd { margin: 0 0 .5rem 1rem; white-space: pre-wrap; }
img, video { max-width: 16rem; max-height: 16rem; } .muted { color: #666; } footer { margin-top: 3rem; color: #666; font-size: .85rem; }
@media (prefers-color-scheme: dark) { body { color: #e8e8e8; background: #161616; } th { background: #262626; } th, td { border-color: #333; } a { color: #8ab4f8; } .muted, footer { color: #aaa; } }
</style>
</head>
<body>
<nav><a href="{{.Root}}index.html">Your Plaza data</a></nav>
<h1>{{.Title}}</h1>
{{end}}
{{define "foot"}}<footer>Exported from Plaza on {{.}} (UTC). The same data is in the JSON files beside this page; schema.json describes them.</footer>
</body>
</html>
{{end}}
{{define "h2"}}<h2 id="{{.ID}}">{{.Text}}</h2>
{{end}}
{{define "p"}}<p class="muted">{{.}}</p>
{{end}}
{{define "dl"}}<dl>{{range .}}<dt>{{.Label}}</dt><dd>{{template "cell" .Value}}</dd>{{end}}</dl>
{{end}}
{{define "table"}}<table><thead><tr>{{range .}}<th>{{.}}</th>{{end}}</tr></thead><tbody>
{{end}}
{{define "row"}}<tr>{{range .}}<td>{{template "cell" .}}</td>{{end}}</tr>
{{end}}
{{define "endtable"}}</tbody></table>
{{end}}
{{define "cell"}}{{if .Anchor}}<span id="{{.Anchor}}"></span>{{end}}{{if .Image}}<a href="{{.Href}}"><img src="{{.Image}}" alt="{{.Text}}" loading="lazy"></a>{{else if .Video}}<video src="{{.Video}}" controls preload="none"></video>{{else if .Audio}}<audio src="{{.Audio}}" controls preload="none"></audio>{{else if .Href}}<a href="{{.Href}}">{{.Text}}</a>{{else}}{{.Text}}{{end}}{{end}}
`))

// cell is one value on a page: text, a link, or a media file shown in
// place.
type cell struct {
	Text, Href          string
	Image, Video, Audio string
	// Anchor is an id other pages link to (media.html#m123).
	Anchor string
}

// link returns a cell linking to href.
func link(text, href string) cell { return cell{Text: text, Href: href} }

// toCell turns a value into a cell.
func toCell(v any) cell {
	switch v := v.(type) {
	case cell:
		return v
	case string:
		return cell{Text: v}
	case time.Time:
		if v.IsZero() {
			return cell{}
		}
		return cell{Text: v.UTC().Format("2006-01-02 15:04:05")}
	case *time.Time:
		if v == nil {
			return cell{}
		}
		return toCell(*v)
	case plaza.ID:
		if v == 0 {
			return cell{}
		}
		return cell{Text: v.String()}
	case *plaza.ID:
		if v == nil {
			return cell{}
		}
		return toCell(*v)
	case int:
		return cell{Text: strconv.Itoa(v)}
	case int64:
		return cell{Text: strconv.FormatInt(v, 10)}
	case bool:
		if v {
			return cell{Text: "yes"}
		}
		return cell{Text: "no"}
	case nil:
		return cell{}
	default:
		return cell{Text: fmt.Sprint(v)}
	}
}

// page writes one HTML page. Its methods write a part each; the first
// error sticks and is returned by close.
type page struct {
	w        io.Writer
	exported time.Time
	err      error
}

// openPage starts the page name with a title; root leads from the page's
// folder back to the export's top ("../" for a page in a subfolder).
func openPage(w *Writer, name, title, root string, exported time.Time) (*page, error) {
	f, err := w.Create(name)
	if err != nil {
		return nil, err
	}
	p := &page{w: f, exported: exported}
	p.exec("head", struct{ Title, Root, CSP string }{title, root, pageCSP})
	return p, p.err
}

func (p *page) exec(name string, data any) {
	if p.err == nil {
		p.err = pageTemplates.ExecuteTemplate(p.w, name, data)
	}
}

// heading writes a section heading with an anchor.
func (p *page) heading(id, text string) { p.exec("h2", struct{ ID, Text string }{id, text}) }

// note writes a paragraph of explanation.
func (p *page) note(text string) { p.exec("p", text) }

// pair is one label and value of a definition list.
type pair struct {
	Label string
	Value cell
}

// fields writes a definition list of label, value pairs.
func (p *page) fields(kv ...any) {
	list := make([]pair, 0, len(kv)/2)
	for i := 0; i+1 < len(kv); i += 2 {
		list = append(list, pair{Label: fmt.Sprint(kv[i]), Value: toCell(kv[i+1])})
	}
	p.exec("dl", list)
}

// table starts a table with the given column headers.
func (p *page) table(headers ...string) { p.exec("table", headers) }

// row writes one table row.
func (p *page) row(values ...any) error {
	cells := make([]cell, len(values))
	for i, v := range values {
		cells[i] = toCell(v)
	}
	p.exec("row", cells)
	return p.err
}

// endTable ends a table.
func (p *page) endTable() { p.exec("endtable", nil) }

// close ends the page.
func (p *page) close() error {
	p.exec("foot", p.exported.UTC().Format("2006-01-02 15:04"))
	return p.err
}

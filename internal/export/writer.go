package export

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"
)

// Writer writes the files of one export into its ZIP, one after another:
// a file is complete once the next is created. JSON files are compressed
// (Deflate); media files, already compressed, are stored as they are.
// Sections write through it; it records what each wrote for the index.
type Writer struct {
	zw       *zip.Writer
	modified time.Time
	names    map[string]bool
	// files are the names the current section wrote, for index.html.
	files []string
}

func newWriter(out io.Writer, modified time.Time) *Writer {
	return &Writer{zw: zip.NewWriter(out), modified: modified, names: map[string]bool{}}
}

// storeMethod writes a file as it is: media is compressed already.
const storeMethod = zip.Store

// maxNameLen bounds a file name inside the ZIP.
const maxNameLen = 200

// checkName accepts relative slash-separated names of [A-Za-z0-9._-] parts,
// none of them "." or "..": names that unzip to the same place on every
// system and can never climb out of the folder they unzip into.
func (w *Writer) checkName(name string) error {
	if name == "" || len(name) > maxNameLen {
		return fmt.Errorf("export file name %q: must be 1 to %d bytes", name, maxNameLen)
	}
	for part := range strings.SplitSeq(name, "/") {
		if part == "" || part == "." || part == ".." || strings.Trim(part, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") != "" {
			return fmt.Errorf("export file name %q: parts must be A-Z, a-z, 0-9, '.', '_' and '-'", name)
		}
	}
	if w.names[name] {
		return fmt.Errorf("export file name %q: written twice", name)
	}
	return nil
}

// create starts the file name, compressed or stored.
func (w *Writer) create(name string, method uint16) (io.Writer, error) {
	if err := w.checkName(name); err != nil {
		return nil, err
	}
	f, err := w.zw.CreateHeader(&zip.FileHeader{Name: name, Method: method, Modified: w.modified})
	if err != nil {
		return nil, fmt.Errorf("export file %s: %w", name, err)
	}
	w.names[name] = true
	w.files = append(w.files, name)
	return f, nil
}

// Create starts a compressed file; it is written until the next file is
// created.
func (w *Writer) Create(name string) (io.Writer, error) { return w.create(name, zip.Deflate) }

// JSON writes v as the JSON file name.
func (w *Writer) JSON(name string, v any) error {
	f, err := w.Create(name)
	if err != nil {
		return err
	}
	enc := json.NewEncoder(f)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", " ")
	return enc.Encode(v)
}

// close writes the ZIP's central directory.
func (w *Writer) close() error { return w.zw.Close() }

// jsonObject streams a JSON object whose fields may be long lists, element
// by element, so that no list is ever held whole. Each list element is on
// a line of its own.
type jsonObject struct {
	w      io.Writer
	buf    bytes.Buffer
	enc    *json.Encoder
	fields int
	err    error
}

func newJSONObject(w io.Writer) *jsonObject {
	o := &jsonObject{w: w}
	o.enc = json.NewEncoder(&o.buf)
	o.enc.SetEscapeHTML(false)
	o.write("{")
	return o
}

func (o *jsonObject) write(s string) {
	if o.err == nil {
		_, o.err = io.WriteString(o.w, s)
	}
}

// value writes v as JSON, without the encoder's newline.
func (o *jsonObject) value(v any) {
	if o.err != nil {
		return
	}
	o.buf.Reset()
	if o.err = o.enc.Encode(v); o.err != nil {
		return
	}
	_, o.err = o.w.Write(bytes.TrimSuffix(o.buf.Bytes(), []byte("\n")))
}

func (o *jsonObject) key(name string) {
	if o.fields > 0 {
		o.write(",")
	}
	o.fields++
	o.write("\n" + `"` + name + `": `)
}

// Field writes one field.
func (o *jsonObject) Field(name string, v any) error {
	o.key(name)
	o.value(v)
	return o.err
}

// List starts a list field; add its elements, then close it.
func (o *jsonObject) List(name string) *jsonList {
	o.key(name)
	o.write("[")
	return &jsonList{o: o}
}

// Close ends the object.
func (o *jsonObject) Close() error {
	o.write("\n}\n")
	return o.err
}

type jsonList struct {
	o *jsonObject
	n int
}

// Add writes one element.
func (l *jsonList) Add(v any) error {
	if l.n > 0 {
		l.o.write(",")
	}
	l.n++
	l.o.write("\n")
	l.o.value(v)
	return l.o.err
}

// Close ends the list.
func (l *jsonList) Close() error {
	if l.n > 0 {
		l.o.write("\n")
	}
	l.o.write("]")
	return l.o.err
}

package export

import (
	"context"
	_ "embed"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/plaza-im/plaza"
	"github.com/plaza-im/plaza/internal/chat"
	"github.com/plaza-im/plaza/internal/jobs"
)

// run is one export being written: what every section needs.
type run struct {
	s        *Service
	p        *progress
	w        *Writer
	e        Export
	subject  plaza.ID
	exported time.Time
}

// builtin is a section of every export: it writes its files and returns
// a line for the index.
type builtin struct {
	name, title, page string
	write             func(x *run, ctx context.Context) (string, error)
}

// builtins lists the sections in the order they are written.
func (s *Service) builtins() []builtin {
	return []builtin{
		{"account", "Account", "account.html", (*run).account},
		{"contacts", "Contacts and blocks", "contacts.html", (*run).contacts},
		{"conversations", "Conversations", "conversations.html", (*run).conversations},
		{"microblog", "Posts, likes and follows", "microblog.html", (*run).microblog},
		{"channels", "Channels", "channels.html", (*run).channels},
		{"moderation", "Reports and decisions", "moderation.html", (*run).moderation},
		{"media", "Media", "media.html", (*run).media},
	}
}

// indexEntry is one section on index.html.
type indexEntry struct {
	Title, Page, Summary string
	Files                []string
	More                 int
}

// maxIndexFiles bounds the files index.html names per section; the rest
// are counted.
const maxIndexFiles = 8

// writeZip writes the whole export into out.
func (s *Service) writeZip(ctx context.Context, r *jobs.Run, e Export, out io.Writer) error {
	msgs, err := s.d.Chat.YourMessageCount(ctx, e.AccountID)
	if err != nil {
		return err
	}
	_, mediaBytes, err := s.d.Media.YourMediaTotals(ctx, e.AccountID)
	if err != nil {
		return err
	}
	p := &progress{s: s, r: r, id: e.ID, total: 2*msgs + mediaBytes/mediaUnit + 1, lastSave: time.Now()}
	x := &run{s: s, p: p, w: newWriter(out, e.CreatedAt), e: e, subject: e.AccountID, exported: s.now()}
	var index []indexEntry
	add := func(title, page, summary string) {
		ie := indexEntry{Title: title, Page: page, Summary: summary}
		for _, f := range x.w.files {
			if f == page {
				continue
			}
			if len(ie.Files) < maxIndexFiles {
				ie.Files = append(ie.Files, f)
			} else {
				ie.More++
			}
		}
		index = append(index, ie)
		x.w.files = nil
	}
	for _, b := range s.builtins() {
		summary, err := b.write(x, ctx)
		if err != nil {
			return fmt.Errorf("export section %s: %w", b.name, err)
		}
		add(b.title, b.page, summary)
	}
	s.mu.Lock()
	extra := append([]namedSection(nil), s.sections...)
	s.mu.Unlock()
	for _, sec := range extra {
		if err := sec.fn(ctx, x.subject, x.w); err != nil {
			return fmt.Errorf("export section %s: %w", sec.name, err)
		}
		add(strings.ReplaceAll(sec.name, "_", " "), "", "")
	}
	for _, file := range []struct{ name, body string }{{"schema.json", schemaJSON}, {"README.txt", readme}} {
		f, err := x.w.Create(file.name)
		if err != nil {
			return err
		}
		if _, err := io.WriteString(f, file.body); err != nil {
			return err
		}
	}
	if err := x.index(ctx, index); err != nil {
		return err
	}
	if err := p.save(ctx); err != nil {
		return err
	}
	return x.w.close()
}

// readme and schemaJSON are written into every export as they are.
var (
	//go:embed README.txt
	readme string
	//go:embed schema.json
	schemaJSON string
)

// index writes index.html, the page to open first.
func (x *run) index(ctx context.Context, entries []indexEntry) error {
	a, err := x.s.d.Accounts.Get(ctx, x.subject)
	if err != nil {
		return err
	}
	pg, err := openPage(x.w, "index.html", "Your Plaza data", "", x.exported)
	if err != nil {
		return err
	}
	pg.fields("Account", "@"+a.Handle, "Name", a.DisplayName, "Account ID", a.ID, "Export", x.e.ID, "Asked for", x.e.CreatedAt, "Written", x.exported)
	pg.note("Each section below has a page to read here and JSON files for other programs; schema.json describes every file and field. Media other people sent you is named by its ID only: it is theirs.")
	pg.table("Section", "What it holds", "Files")
	for _, ie := range entries {
		files := strings.Join(ie.Files, "\n")
		if ie.More > 0 {
			files += fmt.Sprintf("\n… and %d more", ie.More)
		}
		title := cell{Text: ie.Title}
		if ie.Page != "" {
			title = link(ie.Title, ie.Page)
		}
		if err := pg.row(title, ie.Summary, files); err != nil {
			return err
		}
	}
	pg.endTable()
	return pg.close()
}

// account writes account.json: the account, its verification, sessions
// and consents.
func (x *run) account(ctx context.Context) (string, error) {
	a, err := x.s.d.Accounts.YourAccount(ctx, x.subject)
	if err != nil {
		return "", err
	}
	v, err := x.s.d.Identity.YourVerification(ctx, x.subject)
	if err != nil {
		return "", err
	}
	if err := x.w.JSON("account.json", struct {
		ExportID     plaza.ID  `json:"export_id"`
		ExportedAt   time.Time `json:"exported_at"`
		Account      any       `json:"account"`
		Verification any       `json:"verification"`
	}{x.e.ID, x.exported, a, v}); err != nil {
		return "", err
	}
	pg, err := openPage(x.w, "account.html", "Account", "", x.exported)
	if err != nil {
		return "", err
	}
	pg.fields("ID", a.ID, "Handle", "@"+a.Handle, "Name", a.DisplayName, "Birth date", a.BirthDate,
		"Roles", joinRoles(a.Roles), "Status", string(a.Status), "Status reason", a.StatusReason, "Until", a.StatusUntil,
		"Decision", a.StatusDecisionID, "Created", a.CreatedAt, "Language", string(a.Language),
		"Found by handle", a.Privacy.FindByHandle, "Found by phone number", a.Privacy.FindByPhone, "Profile photo", a.AvatarMediaID)
	pg.heading("verification", "Verification")
	phone, phoneAt := "none", time.Time{}
	if v.Phone != nil {
		phone, phoneAt = "ending in "+v.Phone.Ending, v.Phone.VerifiedAt
	}
	pg.fields("Phone", phone, "Phone verified", phoneAt, "Identity", v.Identity)
	pg.note("Your phone number, legal name and document number are not in this export: the number is shown nowhere by Plaza, and the name and document are kept encrypted and opened only by the compliance staff, each look recorded. The export shows what was checked and the outcome.")
	pg.table("Submitted", "Document", "Country", "Status", "Decided", "Reason")
	for _, s := range v.Submissions {
		if err := pg.row(s.SubmittedAt, s.DocumentType, s.DocumentCountry, s.Status, s.DecidedAt, s.Reason); err != nil {
			return "", err
		}
	}
	pg.endTable()
	pg.heading("sessions", "Signed-in devices")
	pg.table("Device", "Signed in", "Last used", "Expires")
	for _, se := range a.Sessions {
		if err := pg.row(se.UserAgent, se.CreatedAt, se.LastUsedAt, se.ExpiresAt); err != nil {
			return "", err
		}
	}
	pg.endTable()
	pg.heading("invites", "Invite links")
	pg.table("Starts with", "Made", "Expires")
	for _, inv := range a.Invites {
		if err := pg.row(inv.Prefix, inv.CreatedAt, inv.ExpiresAt); err != nil {
			return "", err
		}
	}
	pg.endTable()
	pg.heading("consents", "Terms accepted")
	pg.table("Version", "Accepted")
	for _, c := range a.Consents {
		if err := pg.row(c.Version, c.AcceptedAt); err != nil {
			return "", err
		}
	}
	pg.endTable()
	return fmt.Sprintf("@%s; sessions: %d; terms accepted: %d", a.Handle, len(a.Sessions), len(a.Consents)), pg.close()
}

func joinRoles[T ~string](roles []T) string {
	s := make([]string, len(roles))
	for i, r := range roles {
		s[i] = string(r)
	}
	return strings.Join(s, ", ")
}

// contacts writes contacts.json (contacts and contact requests both ways)
// and blocks.json, with one page for both.
func (x *run) contacts(ctx context.Context) (string, error) {
	chats := x.s.d.Chat
	counts := map[string]int{}
	listContacts := func(each func(chat.Contact) error) error {
		return pages(ctx, x.p, func(after plaza.ID, limit int) ([]chat.Contact, error) {
			return chats.YourContacts(ctx, x.subject, after, limit)
		}, func(c chat.Contact) plaza.ID { return c.AccountID }, each)
	}
	listRequests := func(outgoing bool, each func(chat.ContactRequest) error) error {
		return pages(ctx, x.p, func(after plaza.ID, limit int) ([]chat.ContactRequest, error) {
			return chats.YourContactRequests(ctx, x.subject, outgoing, after, limit)
		}, func(r chat.ContactRequest) plaza.ID { return r.ID }, each)
	}
	listBlocks := func(each func(chat.YourBlock) error) error {
		return pages(ctx, x.p, func(after plaza.ID, limit int) ([]chat.YourBlock, error) {
			return chats.YourBlocks(ctx, x.subject, after, limit)
		}, func(b chat.YourBlock) plaza.ID { return b.AccountID }, each)
	}

	f, err := x.w.Create("contacts.json")
	if err != nil {
		return "", err
	}
	o := newJSONObject(f)
	l := o.List("contacts")
	if err := listContacts(func(c chat.Contact) error { counts["contacts"]++; return l.Add(c) }); err != nil {
		return "", err
	}
	l.Close()
	for _, dir := range []struct {
		name     string
		outgoing bool
	}{{"requests_received", false}, {"requests_sent", true}} {
		l := o.List(dir.name)
		if err := listRequests(dir.outgoing, func(r chat.ContactRequest) error { return l.Add(r) }); err != nil {
			return "", err
		}
		l.Close()
	}
	if err := o.Close(); err != nil {
		return "", err
	}
	if f, err = x.w.Create("blocks.json"); err != nil {
		return "", err
	}
	o = newJSONObject(f)
	l = o.List("blocks")
	if err := listBlocks(func(b chat.YourBlock) error { counts["blocks"]++; return l.Add(b) }); err != nil {
		return "", err
	}
	l.Close()
	if err := o.Close(); err != nil {
		return "", err
	}

	pg, err := openPage(x.w, "contacts.html", "Contacts and blocks", "", x.exported)
	if err != nil {
		return "", err
	}
	pg.heading("contacts", "Contacts")
	pg.table("Account ID", "Handle", "Name", "Since")
	if err := listContacts(func(c chat.Contact) error { return pg.row(c.AccountID, "@"+c.Handle, c.DisplayName, c.Since) }); err != nil {
		return "", err
	}
	pg.endTable()
	for _, dir := range []struct {
		title    string
		outgoing bool
	}{{"Contact requests you received", false}, {"Contact requests you sent", true}} {
		pg.heading(map[bool]string{false: "received", true: "sent"}[dir.outgoing], dir.title)
		pg.table("From", "To", "Note", "Status", "Sent")
		if err := listRequests(dir.outgoing, func(r chat.ContactRequest) error {
			return pg.row(r.FromID, r.ToID, r.Note, r.Status, r.CreatedAt)
		}); err != nil {
			return "", err
		}
		pg.endTable()
	}
	pg.heading("blocks", "Accounts you blocked")
	pg.table("Account ID", "Since")
	if err := listBlocks(func(b chat.YourBlock) error { return pg.row(b.AccountID, b.Since) }); err != nil {
		return "", err
	}
	pg.endTable()
	return fmt.Sprintf("contacts: %d; blocked: %d", counts["contacts"], counts["blocks"]), pg.close()
}

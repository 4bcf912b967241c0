package httpapi

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/plaza-im/plaza"
	"github.com/plaza-im/plaza/internal/chat"
)

func (s *Server) requestContact(w http.ResponseWriter, r *http.Request) error {
	var req struct {
		AccountID plaza.ID `json:"account_id"`
		Note      string   `json:"note"`
		// InviteToken is the token of the invite link the request comes
		// from. Contact requests are open to anyone the person has not
		// blocked, so it grants nothing more: it is checked (a link that
		// does not work is not_found, one's own a conflict) and names
		// the person when account_id is left out.
		InviteToken *string `json:"invite_token"`
	}
	if err := s.decode(w, r, &req); err != nil {
		return err
	}
	if req.InviteToken != nil {
		_, p, err := s.resolveInvite(r, *req.InviteToken)
		if err != nil {
			return err
		}
		if req.AccountID == 0 {
			req.AccountID = p.ID
		} else if req.AccountID != p.ID {
			return plaza.Invalid("invite_token", "is an invite link of someone else than account_id")
		}
	}
	if req.AccountID == 0 {
		return plaza.Invalid("account_id", "is required")
	}
	cr, err := s.chat.RequestContact(r.Context(), authOf(r).Account.ID, req.AccountID, req.Note)
	if err != nil {
		return err
	}
	status := http.StatusCreated
	if cr.Status == chat.RequestAccepted {
		status = http.StatusOK // they had asked us: now contacts
	}
	return writeJSON(w, status, cr)
}

func (s *Server) listContactRequests(w http.ResponseWriter, r *http.Request) error {
	outgoing := false
	switch r.URL.Query().Get("direction") {
	case "", "incoming":
	case "outgoing":
		outgoing = true
	default:
		return plaza.Invalid("direction", "must be incoming or outgoing")
	}
	reqs, err := s.chat.Requests(r.Context(), authOf(r).Account.ID, outgoing)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, list[chat.ContactRequest]{Items: reqs})
}

func (s *Server) decideContact(w http.ResponseWriter, r *http.Request, accept bool) error {
	id, err := pathID(r, "id")
	if err != nil {
		return plaza.Errorf(plaza.ENotFound, "contact request not found")
	}
	var cr chat.ContactRequest
	if accept {
		cr, err = s.chat.AcceptContact(r.Context(), authOf(r).Account.ID, id)
	} else {
		cr, err = s.chat.DeclineContact(r.Context(), authOf(r).Account.ID, id)
	}
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, cr)
}

func (s *Server) acceptContact(w http.ResponseWriter, r *http.Request) error {
	return s.decideContact(w, r, true)
}

func (s *Server) declineContact(w http.ResponseWriter, r *http.Request) error {
	return s.decideContact(w, r, false)
}

// contactJSON is a contact with its profile photo's URL.
type contactJSON struct {
	chat.Contact
	AvatarURL *string `json:"avatar_url"`
}

func (s *Server) listContacts(w http.ResponseWriter, r *http.Request) error {
	cs, err := s.chat.Contacts(r.Context(), authOf(r).Account.ID)
	if err != nil {
		return err
	}
	out := list[contactJSON]{Items: make([]contactJSON, len(cs))}
	for i, c := range cs {
		out.Items[i] = contactJSON{Contact: c, AvatarURL: avatarURL(c.AccountID, c.AvatarVersion)}
	}
	return writeJSON(w, http.StatusOK, out)
}

func (s *Server) removeContact(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return plaza.Errorf(plaza.ENotFound, "not a contact")
	}
	if err := s.chat.RemoveContact(r.Context(), authOf(r).Account.ID, id); err != nil {
		return err
	}
	return noContent(w)
}

func (s *Server) block(w http.ResponseWriter, r *http.Request) error {
	var req struct {
		AccountID plaza.ID `json:"account_id"`
	}
	if err := s.decode(w, r, &req); err != nil {
		return err
	}
	if req.AccountID == 0 {
		return plaza.Invalid("account_id", "is required")
	}
	if err := s.chat.Block(r.Context(), authOf(r).Account.ID, req.AccountID); err != nil {
		return err
	}
	return noContent(w)
}

func (s *Server) unblock(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return plaza.Errorf(plaza.ENotFound, "not blocked")
	}
	if err := s.chat.Unblock(r.Context(), authOf(r).Account.ID, id); err != nil {
		return err
	}
	return noContent(w)
}

func (s *Server) listBlocks(w http.ResponseWriter, r *http.Request) error {
	ids, err := s.chat.Blocks(r.Context(), authOf(r).Account.ID)
	if err != nil {
		return err
	}
	type blockJSON struct {
		AccountID plaza.ID `json:"account_id"`
	}
	out := list[blockJSON]{Items: make([]blockJSON, len(ids))}
	for i, id := range ids {
		out.Items[i] = blockJSON{id}
	}
	return writeJSON(w, http.StatusOK, out)
}

func (s *Server) createConversation(w http.ResponseWriter, r *http.Request) error {
	var req struct {
		Kind      string     `json:"kind"`
		Title     string     `json:"title"`
		MemberIDs []plaza.ID `json:"member_ids"`
	}
	if err := s.decode(w, r, &req); err != nil {
		return err
	}
	me := authOf(r).Account.ID
	switch req.Kind {
	case chat.Direct:
		var others []plaza.ID
		for _, id := range req.MemberIDs {
			if id != me {
				others = append(others, id)
			}
		}
		if len(others) != 1 {
			return plaza.Invalid("member_ids", "a direct conversation needs exactly one other person")
		}
		c, created, err := s.chat.OpenDirect(r.Context(), me, others[0])
		if err != nil {
			return err
		}
		status := http.StatusOK
		if created {
			status = http.StatusCreated
		}
		return writeJSON(w, status, c)
	case chat.Group:
		c, err := s.chat.CreateGroup(r.Context(), me, req.Title, req.MemberIDs)
		if err != nil {
			return err
		}
		return writeJSON(w, http.StatusCreated, c)
	default:
		return plaza.Invalid("kind", "must be direct or group")
	}
}

func (s *Server) listConversations(w http.ResponseWriter, r *http.Request) error {
	limit, err := queryInt(r, "limit", 50, 1, 200)
	if err != nil {
		return err
	}
	at, id, err := timeIDCursor(r)
	if err != nil {
		return err
	}
	after := chat.ListCursor{UpdatedAt: at, ID: id}
	items, next, err := s.chat.List(r.Context(), authOf(r).Account.ID, after, int(limit))
	if err != nil {
		return err
	}
	out := list[chat.Summary]{Items: items}
	if out.Items == nil {
		out.Items = []chat.Summary{}
	}
	if next.UpdatedAt > 0 {
		out.NextCursor = formatTimeIDCursor(next.UpdatedAt, next.ID)
	}
	return writeJSON(w, http.StatusOK, out)
}

func (s *Server) getConversation(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return plaza.Errorf(plaza.ENotFound, "conversation not found")
	}
	c, err := s.chat.Get(r.Context(), authOf(r).Account.ID, id)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, c)
}

func (s *Server) renameConversation(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return plaza.Errorf(plaza.ENotFound, "conversation not found")
	}
	var req struct {
		Title string `json:"title"`
	}
	if err := s.decode(w, r, &req); err != nil {
		return err
	}
	c, err := s.chat.Rename(r.Context(), authOf(r).Account.ID, id, req.Title)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, c)
}

func (s *Server) addMembers(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return plaza.Errorf(plaza.ENotFound, "conversation not found")
	}
	var req struct {
		AccountIDs []plaza.ID `json:"account_ids"`
	}
	if err := s.decode(w, r, &req); err != nil {
		return err
	}
	if len(req.AccountIDs) == 0 {
		return plaza.Invalid("account_ids", "must name at least one account")
	}
	c, err := s.chat.AddMembers(r.Context(), authOf(r).Account.ID, id, req.AccountIDs)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, c)
}

func (s *Server) removeMember(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return plaza.Errorf(plaza.ENotFound, "conversation not found")
	}
	who, err := pathID(r, "account_id")
	if err != nil {
		return plaza.Errorf(plaza.ENotFound, "that account is not a member")
	}
	if _, err := s.chat.RemoveMember(r.Context(), authOf(r).Account.ID, id, who); err != nil {
		return err
	}
	return noContent(w)
}

func (s *Server) setMemberRole(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return plaza.Errorf(plaza.ENotFound, "conversation not found")
	}
	who, err := pathID(r, "account_id")
	if err != nil {
		return plaza.Errorf(plaza.ENotFound, "that account is not a member")
	}
	var req struct {
		Role string `json:"role"`
	}
	if err := s.decode(w, r, &req); err != nil {
		return err
	}
	c, err := s.chat.SetRole(r.Context(), authOf(r).Account.ID, id, who, req.Role)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, c)
}

func (s *Server) sendMessage(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return plaza.Errorf(plaza.ENotFound, "conversation not found")
	}
	var req struct {
		ClientID string     `json:"client_id"`
		Kind     string     `json:"kind"`
		Text     string     `json:"text"`
		MediaID  *plaza.ID  `json:"media_id"`
		ReplyTo  *plaza.ID  `json:"reply_to"`
		Mentions []plaza.ID `json:"mentions"`
	}
	if err := s.decode(w, r, &req); err != nil {
		return err
	}
	m, created, err := s.chat.Send(r.Context(), authOf(r).Account.ID, chat.SendInput{
		ConversationID: id, ClientID: req.ClientID, Kind: req.Kind, Text: req.Text,
		MediaID: req.MediaID, ReplyTo: req.ReplyTo, Mentions: req.Mentions,
	})
	if err != nil {
		return err
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	return writeJSON(w, status, m)
}

func (s *Server) listMessages(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return plaza.Errorf(plaza.ENotFound, "conversation not found")
	}
	limit, err := queryInt(r, "limit", 50, 1, 200)
	if err != nil {
		return err
	}
	after, err := queryInt(r, "after_seq", 0, 0, 1<<62)
	if err != nil {
		return err
	}
	before, err := queryInt(r, "before_seq", 0, 0, 1<<62)
	if err != nil {
		return err
	}
	if r.URL.Query().Get("after_seq") == "" && before == 0 {
		before = 1 << 62 // neither given: the newest page
	}
	msgs, err := s.chat.History(r.Context(), authOf(r).Account.ID, id, after, before, int(limit))
	if err != nil {
		return err
	}
	out := list[chat.Message]{Items: msgs}
	if len(msgs) == int(limit) {
		if before > 0 {
			out.NextCursor = strconv.FormatInt(msgs[0].Seq, 10) // pass as before_seq
		} else {
			out.NextCursor = strconv.FormatInt(msgs[len(msgs)-1].Seq, 10) // pass as after_seq
		}
	}
	return writeJSON(w, http.StatusOK, out)
}

func (s *Server) recallMessage(w http.ResponseWriter, r *http.Request) error {
	conv, err := pathID(r, "id")
	if err != nil {
		return plaza.Errorf(plaza.ENotFound, "conversation not found")
	}
	mid, err := pathID(r, "message_id")
	if err != nil {
		return plaza.Errorf(plaza.ENotFound, "message not found")
	}
	m, err := s.chat.Recall(r.Context(), authOf(r).Account.ID, conv, mid)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, m)
}

func (s *Server) markRead(w http.ResponseWriter, r *http.Request) error {
	conv, err := pathID(r, "id")
	if err != nil {
		return plaza.Errorf(plaza.ENotFound, "conversation not found")
	}
	var req struct {
		Seq *int64 `json:"seq"`
	}
	if err := s.decode(w, r, &req); err != nil {
		return err
	}
	if req.Seq == nil {
		return plaza.Invalid("seq", "is required")
	}
	if err := s.chat.Read(r.Context(), authOf(r).Account.ID, conv, *req.Seq); err != nil {
		return err
	}
	return noContent(w)
}

func (s *Server) typing(w http.ResponseWriter, r *http.Request) error {
	conv, err := pathID(r, "id")
	if err != nil {
		return plaza.Errorf(plaza.ENotFound, "conversation not found")
	}
	if err := s.chat.Typing(r.Context(), authOf(r).Account.ID, conv); err != nil {
		return err
	}
	return noContent(w)
}

// timeIDCursor reads a ?cursor= of lists ordered by (time, ID) descending:
// "MICROS.ID", opaque to clients. Absent, it is zero (the first page).
func timeIDCursor(r *http.Request) (int64, plaza.ID, error) {
	c := r.URL.Query().Get("cursor")
	if c == "" {
		return 0, 0, nil
	}
	at, id, ok := strings.Cut(c, ".")
	n, err1 := strconv.ParseInt(at, 10, 64)
	pid, err2 := strconv.ParseInt(id, 10, 64)
	if !ok || err1 != nil || err2 != nil || n <= 0 || pid <= 0 {
		return 0, 0, plaza.Invalid("cursor", "must be a next_cursor from a previous page")
	}
	return n, plaza.ID(pid), nil
}

func formatTimeIDCursor(at int64, id plaza.ID) string {
	return strconv.FormatInt(at, 10) + "." + id.String()
}

// parseCursor reads the since parameter: absent is -1 (start now).
func parseCursor(r *http.Request) (int64, error) {
	v := r.URL.Query().Get("since")
	if v == "" {
		return -1, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 {
		return 0, plaza.Invalid("since", "must be a cursor from a previous event, ready frame or sync")
	}
	return n, nil
}

func (s *Server) sync(w http.ResponseWriter, r *http.Request) error {
	since, err := parseCursor(r)
	if err != nil {
		return err
	}
	limit, err := queryInt(r, "limit", 100, 1, 1000)
	if err != nil {
		return err
	}
	me := authOf(r).Account.ID
	if since < 0 {
		head, err := s.chat.Head(r.Context(), me)
		if err != nil {
			return err
		}
		return writeJSON(w, http.StatusOK, map[string]any{"events": []any{}, "cursor": strconv.FormatInt(head, 10), "more": false})
	}
	page, err := s.chat.Sync(r.Context(), me, since, int(limit))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, map[string]any{"events": page.Events, "cursor": strconv.FormatInt(page.Cursor, 10), "more": page.More})
}

func (s *Server) stream(w http.ResponseWriter, r *http.Request) error {
	since, err := parseCursor(r)
	if err != nil {
		return err
	}
	a := authOf(r)
	return s.hub.Serve(w, r, a.Account.ID, a.SessionID, since)
}

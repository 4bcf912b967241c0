package httpapi

import (
	"net/http"

	"github.com/plaza-im/plaza"
	"github.com/plaza-im/plaza/internal/chat"
)

// searchPage is a page of message search results. Next and NextCursor
// carry the same value, the ID to pass as ?before= for the next page
// (empty on the last): next is what the search route documents, and
// next_cursor is the name every other list uses.
type searchPage struct {
	Items      []chat.SearchHit `json:"items"`
	Next       string           `json:"next"`
	NextCursor string           `json:"next_cursor"`
}

// searchMessages answers GET /api/v1/messages/search: the caller's own
// conversations' messages matching ?q=, newest first, as history shows
// them (see chat.Service.Search).
func (s *Server) searchMessages(w http.ResponseWriter, r *http.Request) error {
	if err := s.searchBudget.Take(r.Context(), authOf(r).Account.ID.String(), 1); err != nil {
		return err
	}
	q := r.URL.Query()
	limit, err := queryInt(r, "limit", 20, 1, chat.MaxSearchPage)
	if err != nil {
		return err
	}
	var conv, before plaza.ID
	if v := q.Get("conversation_id"); v != "" {
		if conv, err = plaza.ParseID("conversation_id", v); err != nil {
			return err
		}
	}
	if v := q.Get("before"); v != "" {
		if before, err = plaza.ParseID("before", v); err != nil {
			return err
		}
	}
	hits, err := s.chat.Search(r.Context(), authOf(r).Account.ID, q.Get("q"), conv, before, int(limit))
	if err != nil {
		return err
	}
	out := searchPage{Items: hits}
	if len(hits) == int(limit) {
		out.Next = hits[len(hits)-1].Message.ID.String()
		out.NextCursor = out.Next
	}
	return writeJSON(w, http.StatusOK, out)
}

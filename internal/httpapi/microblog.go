package httpapi

import (
	"context"
	"net/http"

	"github.com/plaza-im/plaza"
	"github.com/plaza-im/plaza/internal/microblog"
)

// viewerOf returns the caller of a route open to anonymous callers: the
// signed-in account, or 0.
func viewerOf(r *http.Request) plaza.ID {
	if a := authOf(r); a != nil {
		return a.Account.ID
	}
	return 0
}

func postID(r *http.Request) (plaza.ID, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return 0, plaza.Errorf(plaza.ENotFound, "post not found")
	}
	return id, nil
}

func accountID(r *http.Request) (plaza.ID, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return 0, plaza.Errorf(plaza.ENotFound, "account not found")
	}
	return id, nil
}

// postPage writes a page of posts: next_cursor is the ID to pass as
// ?cursor= for the next page, empty at the end.
func postPage(w http.ResponseWriter, p microblog.Page) error {
	out := list[microblog.Post]{Items: p.Posts}
	if p.Next != 0 {
		out.NextCursor = p.Next.String()
	}
	return writeJSON(w, http.StatusOK, out)
}

// pageParams reads ?cursor= (an ID) and ?limit= (1–100, default 20).
func pageParams(r *http.Request) (plaza.ID, int, error) {
	limit, err := queryInt(r, "limit", 20, 1, microblog.MaxPage)
	if err != nil {
		return 0, 0, err
	}
	cursor, err := afterCursor(r)
	return cursor, int(limit), err
}

func (s *Server) newPost(w http.ResponseWriter, r *http.Request) error {
	// IDs arrive as strings and are parsed here, so a bad one is named
	// by its field.
	var req struct {
		Text       string   `json:"text"`
		MediaIDs   []string `json:"media_ids"`
		Visibility string   `json:"visibility"`
		ReplyTo    *string  `json:"reply_to"`
		RepostOf   *string  `json:"repost_of"`
		Category   string   `json:"category"`
	}
	if err := s.decode(w, r, &req); err != nil {
		return err
	}
	in := microblog.PostInput{Text: req.Text, Visibility: req.Visibility, Category: req.Category}
	var p plaza.Problems
	for _, m := range req.MediaIDs {
		id, err := plaza.ParseID("media_ids", m)
		if err != nil {
			p.Add("media_ids", "must be an array of media IDs (decimal strings)")
			break
		}
		in.MediaIDs = append(in.MediaIDs, id)
	}
	for _, ref := range []struct {
		field string
		raw   *string
		dst   **plaza.ID
	}{{"reply_to", req.ReplyTo, &in.ReplyTo}, {"repost_of", req.RepostOf, &in.RepostOf}} {
		if ref.raw == nil {
			continue
		}
		id, err := plaza.ParseID(ref.field, *ref.raw)
		if err != nil {
			p.Add(ref.field, "must be a post ID (a decimal string)")
			continue
		}
		*ref.dst = &id
	}
	if err := p.Err(); err != nil {
		return err
	}
	post, err := s.microblog.Create(r.Context(), authOf(r).Account.ID, in)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, post)
}

func (s *Server) getPost(w http.ResponseWriter, r *http.Request) error {
	id, err := postID(r)
	if err != nil {
		return err
	}
	p, err := s.microblog.Get(r.Context(), viewerOf(r), id)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, p)
}

func (s *Server) deletePost(w http.ResponseWriter, r *http.Request) error {
	id, err := postID(r)
	if err != nil {
		return err
	}
	if err := s.microblog.Delete(r.Context(), authOf(r).Account.ID, id); err != nil {
		return err
	}
	return noContent(w)
}

func (s *Server) listReplies(w http.ResponseWriter, r *http.Request) error {
	id, err := postID(r)
	if err != nil {
		return err
	}
	cursor, limit, err := pageParams(r)
	if err != nil {
		return err
	}
	p, err := s.microblog.Replies(r.Context(), viewerOf(r), id, cursor, limit)
	if err != nil {
		return err
	}
	return postPage(w, p)
}

func (s *Server) likePost(w http.ResponseWriter, r *http.Request) error {
	id, err := postID(r)
	if err != nil {
		return err
	}
	if err := s.microblog.Like(r.Context(), authOf(r).Account.ID, id); err != nil {
		return err
	}
	return noContent(w)
}

func (s *Server) unlikePost(w http.ResponseWriter, r *http.Request) error {
	id, err := postID(r)
	if err != nil {
		return err
	}
	if err := s.microblog.Unlike(r.Context(), authOf(r).Account.ID, id); err != nil {
		return err
	}
	return noContent(w)
}

func (s *Server) followAccount(w http.ResponseWriter, r *http.Request) error {
	id, err := accountID(r)
	if err != nil {
		return err
	}
	if err := s.microblog.Follow(r.Context(), authOf(r).Account.ID, id); err != nil {
		return err
	}
	return noContent(w)
}

func (s *Server) unfollowAccount(w http.ResponseWriter, r *http.Request) error {
	id, err := accountID(r)
	if err != nil {
		return err
	}
	if err := s.microblog.Unfollow(r.Context(), authOf(r).Account.ID, id); err != nil {
		return err
	}
	return noContent(w)
}

func (s *Server) listFollowers(w http.ResponseWriter, r *http.Request) error {
	return s.followList(w, r, s.microblog.Followers)
}

func (s *Server) listFollowing(w http.ResponseWriter, r *http.Request) error {
	return s.followList(w, r, s.microblog.Following)
}

func (s *Server) followList(w http.ResponseWriter, r *http.Request, list func(ctx context.Context, viewer, account, before plaza.ID, limit int) ([]microblog.FollowEntry, error)) error {
	id, err := accountID(r)
	if err != nil {
		return err
	}
	cursor, limit, err := pageParams(r)
	if err != nil {
		return err
	}
	items, err := list(r.Context(), authOf(r).Account.ID, id, cursor, limit)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, idPage(items, int64(limit), func(e microblog.FollowEntry) plaza.ID { return e.Cursor }))
}

func (s *Server) accountPosts(w http.ResponseWriter, r *http.Request) error {
	id, err := accountID(r)
	if err != nil {
		return err
	}
	cursor, limit, err := pageParams(r)
	if err != nil {
		return err
	}
	p, err := s.microblog.AuthorPosts(r.Context(), viewerOf(r), id, cursor, limit)
	if err != nil {
		return err
	}
	return postPage(w, p)
}

func (s *Server) timeline(w http.ResponseWriter, r *http.Request) error {
	cursor, limit, err := pageParams(r)
	if err != nil {
		return err
	}
	p, err := s.microblog.Timeline(r.Context(), authOf(r).Account.ID, cursor, limit)
	if err != nil {
		return err
	}
	return postPage(w, p)
}

func (s *Server) hashtagPosts(w http.ResponseWriter, r *http.Request) error {
	cursor, limit, err := pageParams(r)
	if err != nil {
		return err
	}
	p, err := s.microblog.HashtagPosts(r.Context(), viewerOf(r), r.PathValue("tag"), cursor, limit)
	if err != nil {
		return err
	}
	return postPage(w, p)
}

func (s *Server) trending(w http.ResponseWriter, r *http.Request) error {
	window := r.URL.Query().Get("window")
	if window == "" {
		window = "24h"
	}
	items, err := s.microblog.Trending(r.Context(), window)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, map[string]any{"items": items})
}

func (s *Server) searchPosts(w http.ResponseWriter, r *http.Request) error {
	cursor, limit, err := pageParams(r)
	if err != nil {
		return err
	}
	p, err := s.microblog.Search(r.Context(), viewerOf(r), r.URL.Query().Get("q"), cursor, limit)
	if err != nil {
		return err
	}
	return postPage(w, p)
}

func (s *Server) listNotifications(w http.ResponseWriter, r *http.Request) error {
	cursor, limit, err := pageParams(r)
	if err != nil {
		return err
	}
	unread := false
	switch r.URL.Query().Get("unread") {
	case "", "false":
	case "true":
		unread = true
	default:
		return plaza.Invalid("unread", "must be true or false")
	}
	items, count, err := s.microblog.Notifications(r.Context(), authOf(r).Account.ID, cursor, limit, unread)
	if err != nil {
		return err
	}
	page := idPage(items, int64(limit), func(n microblog.Notification) plaza.ID { return n.ID })
	return writeJSON(w, http.StatusOK, struct {
		list[microblog.Notification]
		UnreadCount int `json:"unread_count"`
	}{page, count})
}

func (s *Server) readNotifications(w http.ResponseWriter, r *http.Request) error {
	var req struct {
		UpTo string `json:"up_to"`
	}
	if err := s.decode(w, r, &req); err != nil {
		return err
	}
	upTo, err := plaza.ParseID("up_to", req.UpTo)
	if err != nil {
		return plaza.Invalid("up_to", "must be the ID of a notification (a decimal string)")
	}
	if err := s.microblog.MarkRead(r.Context(), authOf(r).Account.ID, upTo); err != nil {
		return err
	}
	return noContent(w)
}

func (s *Server) listMicroblogReviews(w http.ResponseWriter, r *http.Request) error {
	cursor, limit, err := pageParams(r)
	if err != nil {
		return err
	}
	items, err := s.microblog.Reviews(r.Context(), r.URL.Query().Get("status"), cursor, limit)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, idPage(items, int64(limit), func(p microblog.Post) plaza.ID { return p.ID }))
}

func (s *Server) decideMicroblogPost(w http.ResponseWriter, r *http.Request) error {
	id, req, err := s.readDecision(w, r, "post")
	if err != nil {
		return err
	}
	p, err := s.microblog.Decide(r.Context(), actorOf(r), id, *req.Approve, req.Reason)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, p)
}

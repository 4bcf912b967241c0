package httpapi

import (
	"net/http"
	"strconv"

	"github.com/plaza-im/plaza"
	"github.com/plaza-im/plaza/internal/channel"
)

func (s *Server) applyChannel(w http.ResponseWriter, r *http.Request) error {
	var req struct {
		Handle      string `json:"handle"`
		Name        string `json:"name"`
		Description string `json:"description"`
		Kind        string `json:"kind"`
	}
	if err := s.decode(w, r, &req); err != nil {
		return err
	}
	a, err := s.channels.Apply(r.Context(), authOf(r).Account.ID, channel.ApplicationInput{Handle: req.Handle, Name: req.Name, Description: req.Description, Kind: req.Kind})
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, a)
}

func (s *Server) myApplications(w http.ResponseWriter, r *http.Request) error {
	items, err := s.channels.Applications(r.Context(), "", authOf(r).Account.ID, 0, 200)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, list[channel.Application]{Items: items})
}

// afterCursor reads an ID cursor for lists ordered by ascending ID.
func afterCursor(r *http.Request) (plaza.ID, error) {
	c := r.URL.Query().Get("cursor")
	if c == "" {
		return 0, nil
	}
	id, err := plaza.ParseID("cursor", c)
	if err != nil {
		return 0, plaza.Invalid("cursor", "must be a next_cursor from a previous page")
	}
	return id, nil
}

func (s *Server) listApplications(w http.ResponseWriter, r *http.Request) error {
	status := r.URL.Query().Get("status")
	if status == "" {
		status = channel.StatusPending
	}
	limit, err := queryInt(r, "limit", 50, 1, 200)
	if err != nil {
		return err
	}
	after, err := afterCursor(r)
	if err != nil {
		return err
	}
	items, err := s.channels.Applications(r.Context(), status, 0, after, int(limit))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, idPage(items, limit, func(x channel.Application) plaza.ID { return x.ID }))
}

func (s *Server) decideApplication(w http.ResponseWriter, r *http.Request) error {
	id, req, err := s.readDecision(w, r, "application")
	if err != nil {
		return err
	}
	a, err := s.channels.DecideApplication(r.Context(), actorOf(r), id, *req.Approve, req.Reason)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, a)
}

func channelID(r *http.Request) (plaza.ID, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return 0, plaza.Errorf(plaza.ENotFound, "channel not found")
	}
	return id, nil
}

func (s *Server) getChannel(w http.ResponseWriter, r *http.Request) error {
	id, err := channelID(r)
	if err != nil {
		return err
	}
	c, err := s.channels.Get(r.Context(), authOf(r).Account.ID, id)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, c)
}

func (s *Server) searchChannels(w http.ResponseWriter, r *http.Request) error {
	limit, err := queryInt(r, "limit", 20, 1, 100)
	if err != nil {
		return err
	}
	offset := int64(0)
	if c := r.URL.Query().Get("cursor"); c != "" {
		if offset, err = strconv.ParseInt(c, 10, 64); err != nil || offset < 0 || offset > 10000 {
			return plaza.Invalid("cursor", "must be a next_cursor from a previous page")
		}
	}
	items, err := s.channels.Search(r.Context(), r.URL.Query().Get("q"), int(offset), int(limit))
	if err != nil {
		return err
	}
	out := list[channel.Channel]{Items: items}
	if len(items) == int(limit) {
		out.NextCursor = strconv.FormatInt(offset+limit, 10)
	}
	return writeJSON(w, http.StatusOK, out)
}

func (s *Server) follow(w http.ResponseWriter, r *http.Request) error {
	id, err := channelID(r)
	if err != nil {
		return err
	}
	if err := s.channels.Follow(r.Context(), authOf(r).Account.ID, id); err != nil {
		return err
	}
	return noContent(w)
}

func (s *Server) unfollow(w http.ResponseWriter, r *http.Request) error {
	id, err := channelID(r)
	if err != nil {
		return err
	}
	if err := s.channels.Unfollow(r.Context(), authOf(r).Account.ID, id); err != nil {
		return err
	}
	return noContent(w)
}

func (s *Server) addEditor(w http.ResponseWriter, r *http.Request) error {
	id, err := channelID(r)
	if err != nil {
		return err
	}
	var req struct {
		AccountID plaza.ID `json:"account_id"`
	}
	if err := s.decode(w, r, &req); err != nil {
		return err
	}
	if req.AccountID == 0 {
		return plaza.Invalid("account_id", "is required")
	}
	c, err := s.channels.AddEditor(r.Context(), authOf(r).Account.ID, id, req.AccountID)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, c)
}

func (s *Server) removeEditor(w http.ResponseWriter, r *http.Request) error {
	id, err := channelID(r)
	if err != nil {
		return err
	}
	who, err := pathID(r, "account_id")
	if err != nil {
		return plaza.Errorf(plaza.ENotFound, "not an editor")
	}
	if err := s.channels.RemoveEditor(r.Context(), authOf(r).Account.ID, id, who); err != nil {
		return err
	}
	return noContent(w)
}

func (s *Server) createPost(w http.ResponseWriter, r *http.Request) error {
	id, err := channelID(r)
	if err != nil {
		return err
	}
	var req struct {
		Title    string     `json:"title"`
		Body     string     `json:"body"`
		Category string     `json:"category"`
		CoverID  *plaza.ID  `json:"cover_media_id"`
		MediaIDs []plaza.ID `json:"media_ids"`
	}
	if err := s.decode(w, r, &req); err != nil {
		return err
	}
	p, err := s.channels.CreatePost(r.Context(), authOf(r).Account.ID, id, channel.PostInput{
		Title: req.Title, Body: req.Body, Category: req.Category, CoverID: req.CoverID, MediaIDs: req.MediaIDs,
	})
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, p)
}

func (s *Server) listPosts(w http.ResponseWriter, r *http.Request) error {
	id, err := channelID(r)
	if err != nil {
		return err
	}
	limit, err := queryInt(r, "limit", 20, 1, 100)
	if err != nil {
		return err
	}
	var before plaza.ID
	if c := r.URL.Query().Get("cursor"); c != "" {
		if before, err = plaza.ParseID("cursor", c); err != nil {
			return plaza.Invalid("cursor", "must be a next_cursor from a previous page")
		}
	}
	items, err := s.channels.Posts(r.Context(), authOf(r).Account.ID, id, r.URL.Query().Get("status"), before, int(limit))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, idPage(items, limit, func(x channel.Post) plaza.ID { return x.ID }))
}

func (s *Server) readChannel(w http.ResponseWriter, r *http.Request) error {
	id, err := channelID(r)
	if err != nil {
		return err
	}
	if err := s.channels.MarkRead(r.Context(), authOf(r).Account.ID, id); err != nil {
		return err
	}
	return noContent(w)
}

func (s *Server) channelFeed(w http.ResponseWriter, r *http.Request) error {
	limit, err := queryInt(r, "limit", 20, 1, 100)
	if err != nil {
		return err
	}
	at, id, err := timeIDCursor(r)
	if err != nil {
		return err
	}
	after := channel.FeedCursor{PublishedAt: at, ID: id}
	posts, unread, err := s.channels.Feed(r.Context(), authOf(r).Account.ID, after, int(limit))
	if err != nil {
		return err
	}
	out := struct {
		Items      []channel.Post   `json:"items"`
		NextCursor string           `json:"next_cursor"`
		Unread     []channel.Unread `json:"unread"`
	}{Items: posts, Unread: unread}
	if last := len(posts) - 1; len(posts) == int(limit) && posts[last].PublishedAt != nil {
		out.NextCursor = formatTimeIDCursor(posts[last].PublishedAt.UnixMicro(), posts[last].ID)
	}
	return writeJSON(w, http.StatusOK, out)
}

func (s *Server) listCategories(w http.ResponseWriter, r *http.Request) error {
	cs, err := s.channels.Categories(r.Context())
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, list[channel.Category]{Items: cs})
}

func (s *Server) putCategory(w http.ResponseWriter, r *http.Request) error {
	var req struct {
		Policy      string `json:"policy"`
		Description string `json:"description"`
	}
	if err := s.decode(w, r, &req); err != nil {
		return err
	}
	c, err := s.channels.SetCategory(r.Context(), actorOf(r), r.PathValue("name"), req.Policy, req.Description)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, c)
}

func (s *Server) patchChannel(w http.ResponseWriter, r *http.Request) error {
	id, err := channelID(r)
	if err != nil {
		return err
	}
	var req struct {
		DailyPostLimit   *int `json:"daily_post_limit"`
		MonthlyPostLimit *int `json:"monthly_post_limit"`
	}
	if err := s.decode(w, r, &req); err != nil {
		return err
	}
	c, err := s.channels.SetLimits(r.Context(), actorOf(r), id, req.DailyPostLimit, req.MonthlyPostLimit)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, c)
}

func (s *Server) setChannelStatus(w http.ResponseWriter, r *http.Request) error {
	id, err := channelID(r)
	if err != nil {
		return err
	}
	var req struct {
		Status string `json:"status"`
		Reason string `json:"reason"`
	}
	if err := s.decode(w, r, &req); err != nil {
		return err
	}
	c, err := s.channels.SetStatus(r.Context(), actorOf(r), id, req.Status, req.Reason)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, c)
}

func (s *Server) listPostReviews(w http.ResponseWriter, r *http.Request) error {
	status := r.URL.Query().Get("status")
	switch status {
	case "", "pending":
		status = channel.PostPending
	case "published":
		status = channel.PostPublished
	}
	limit, err := queryInt(r, "limit", 50, 1, 100)
	if err != nil {
		return err
	}
	after, err := afterCursor(r)
	if err != nil {
		return err
	}
	items, err := s.channels.Reviews(r.Context(), status, after, int(limit))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, idPage(items, limit, func(x channel.Post) plaza.ID { return x.ID }))
}

func (s *Server) decidePost(w http.ResponseWriter, r *http.Request) error {
	id, req, err := s.readDecision(w, r, "post")
	if err != nil {
		return err
	}
	p, err := s.channels.DecidePost(r.Context(), actorOf(r), id, *req.Approve, req.Reason)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, p)
}

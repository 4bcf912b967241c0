package httpapi

import (
	"net/http"
	"time"

	"github.com/plaza-im/plaza"
	"github.com/plaza-im/plaza/internal/push"
)

// This file serves Web Push: the server's VAPID key, one's push
// subscriptions, and muting a conversation.

func (s *Server) pushService() (*push.Service, error) {
	if s.push == nil {
		return nil, plaza.Errorf(plaza.ENotFound, "push notifications are not available on this server")
	}
	return s.push, nil
}

func (s *Server) vapidKey(w http.ResponseWriter, r *http.Request) error {
	p, err := s.pushService()
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, map[string]string{"public_key": p.PublicKey()})
}

func (s *Server) subscribePush(w http.ResponseWriter, r *http.Request) error {
	p, err := s.pushService()
	if err != nil {
		return err
	}
	var req struct {
		Endpoint string `json:"endpoint"`
		Keys     struct {
			P256dh string `json:"p256dh"`
			Auth   string `json:"auth"`
		} `json:"keys"`
		// A browser's PushSubscription.toJSON() also has this; it is
		// accepted and not used.
		ExpirationTime *float64 `json:"expirationTime"`
	}
	if err := s.decode(w, r, &req); err != nil {
		return err
	}
	a := authOf(r)
	sub, created, err := p.Subscribe(r.Context(), a.Account.ID, a.SessionID, push.SubscriptionInput{Endpoint: req.Endpoint, P256dh: req.Keys.P256dh, Auth: req.Keys.Auth})
	if err != nil {
		return err
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	return writeJSON(w, status, sub)
}

func (s *Server) listPushSubscriptions(w http.ResponseWriter, r *http.Request) error {
	p, err := s.pushService()
	if err != nil {
		return err
	}
	subs, err := p.Subscriptions(r.Context(), authOf(r).Account.ID)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, map[string]any{"items": subs, "next_cursor": nil})
}

func (s *Server) deletePushSubscription(w http.ResponseWriter, r *http.Request) error {
	p, err := s.pushService()
	if err != nil {
		return err
	}
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if err := p.Unsubscribe(r.Context(), authOf(r).Account.ID, id); err != nil {
		return err
	}
	return noContent(w)
}

func (s *Server) muteConversation(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var req struct {
		Muted *bool   `json:"muted"`
		Until *string `json:"until"`
	}
	if err := s.decode(w, r, &req); err != nil {
		return err
	}
	var p plaza.Problems
	if req.Muted == nil {
		p.Add("muted", "is required: true or false")
	}
	var until *time.Time
	if req.Until != nil {
		t, err := time.Parse(time.RFC3339, *req.Until)
		if err != nil {
			p.Add("until", "must be an RFC 3339 time, e.g. 2026-01-02T15:04:05Z")
		} else {
			until = &t
		}
	}
	if err := p.Err(); err != nil {
		return err
	}
	m, err := s.chat.SetMute(r.Context(), authOf(r).Account.ID, id, *req.Muted, until)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, m)
}

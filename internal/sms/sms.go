// Package sms sends text messages (verification codes) through one of two
// senders: an outbox file for development and a webhook for a real SMS
// gateway.
package sms

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/plaza-im/plaza/internal/hmacsig"
)

// Message is one text message. Code is the verification code it carries,
// kept apart so the development outbox can show it plainly.
type Message struct {
	To   string // E.164
	Body string
	Code string
}

// Sender delivers messages.
type Sender interface {
	Send(ctx context.Context, m Message) error
}

// Outbox appends each message as one JSON line to a file, for development
// and tests: {"to", "body", "code", "sent_at"}.
type Outbox struct {
	path string
	mu   sync.Mutex
}

// NewOutbox returns an Outbox writing to path, creating its directory.
func NewOutbox(path string) (*Outbox, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return nil, fmt.Errorf("sms outbox: %w", err)
	}
	return &Outbox{path: path}, nil
}

// Path returns the outbox file.
func (o *Outbox) Path() string { return o.path }

// Send appends m to the outbox.
func (o *Outbox) Send(_ context.Context, m Message) error {
	line, err := json.Marshal(struct {
		To     string    `json:"to"`
		Body   string    `json:"body"`
		Code   string    `json:"code"`
		SentAt time.Time `json:"sent_at"`
	}{m.To, m.Body, m.Code, time.Now().UTC()})
	if err != nil {
		return err
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	f, err := os.OpenFile(o.path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600)
	if err != nil {
		return fmt.Errorf("sms outbox: %w", err)
	}
	if _, err := f.Write(append(line, '\n')); err != nil {
		f.Close()
		return fmt.Errorf("sms outbox: %w", err)
	}
	return f.Close()
}

// Webhook POSTs each message as JSON {"to", "body"} to an SMS gateway the
// operator runs or rents. With a secret, requests carry
// X-Plaza-Timestamp and X-Plaza-Signature (package hmacsig), so the
// gateway can tell them from forgeries.
type Webhook struct {
	url    string
	secret []byte
	client *http.Client
}

// NewWebhook returns a Webhook posting to url.
func NewWebhook(url string, secret []byte) *Webhook {
	return &Webhook{url: url, secret: secret, client: &http.Client{Timeout: 10 * time.Second}}
}

// Send posts m; any status but 2xx is an error.
func (w *Webhook) Send(ctx context.Context, m Message) error {
	body, err := json.Marshal(map[string]string{"to": m.To, "body": m.Body})
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.url, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("sms webhook: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	if len(w.secret) > 0 {
		ts, sig := hmacsig.Header(w.secret, time.Now(), body)
		req.Header.Set(hmacsig.TimestampHeader, ts)
		req.Header.Set(hmacsig.SignatureHeader, sig)
	}
	res, err := w.client.Do(req)
	if err != nil {
		// The error names the gateway, never the recipient.
		return fmt.Errorf("sms webhook: %w", err)
	}
	defer res.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(res.Body, 64<<10))
	if res.StatusCode/100 != 2 {
		return fmt.Errorf("sms webhook: gateway answered %s", res.Status)
	}
	return nil
}

// VerificationText is the body of a verification code's message in lang
// ("en" or "zh-CN"; anything else is English): service is the name the
// operator gives the service, ttl how long the code works.
func VerificationText(lang, service, code string, ttl time.Duration) string {
	minutes := int(ttl.Minutes())
	if lang == "zh-CN" {
		return fmt.Sprintf("您的 %s 验证码是 %s，%d 分钟内有效。请勿告诉他人。", service, code, minutes)
	}
	return fmt.Sprintf("Your %s verification code is %s. It expires in %d minutes. Do not share it.", service, code, minutes)
}

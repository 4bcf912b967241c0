package sms

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/plaza-im/plaza/internal/hmacsig"
)

func TestOutboxAppendsJSONLines(t *testing.T) {
	o, err := NewOutbox(filepath.Join(t.TempDir(), "outbox", "sms.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	for _, code := range []string{"111111", "222222"} {
		if err := o.Send(context.Background(), Message{To: "+8613800138000", Body: "code " + code, Code: code}); err != nil {
			t.Fatal(err)
		}
	}
	f, err := os.Open(o.Path())
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var codes []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var line struct {
			To, Body, Code string
			SentAt         string `json:"sent_at"`
		}
		if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
			t.Fatal(err)
		}
		if line.To != "+8613800138000" || line.SentAt == "" {
			t.Errorf("line = %s", sc.Bytes())
		}
		codes = append(codes, line.Code)
	}
	if strings.Join(codes, ",") != "111111,222222" {
		t.Errorf("codes = %v, want 111111,222222", codes)
	}
	if st, _ := os.Stat(o.Path()); st.Mode().Perm() != 0o600 {
		t.Errorf("outbox mode = %v, want 0600", st.Mode().Perm())
	}
}

func TestWebhookSignsAndReportsFailures(t *testing.T) {
	secret := []byte("gateway-secret")
	var got map[string]string
	status := http.StatusOK
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if hmacsig.Verify(secret, r.Header.Get(hmacsig.TimestampHeader), r.Header.Get(hmacsig.SignatureHeader), body, time.Now()) != nil {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		_ = json.Unmarshal(body, &got)
		w.WriteHeader(status)
	}))
	defer srv.Close()

	w := NewWebhook(srv.URL, secret)
	if err := w.Send(context.Background(), Message{To: "+447700900123", Body: "hello", Code: "123456"}); err != nil {
		t.Fatal(err)
	}
	if got["to"] != "+447700900123" || got["body"] != "hello" {
		t.Errorf("gateway got %v", got)
	}
	if err := NewWebhook(srv.URL, []byte("wrong")).Send(context.Background(), Message{To: "+1"}); err == nil {
		t.Error("a badly signed request succeeded, want the gateway's 401 as an error")
	}
	status = http.StatusBadGateway
	err := w.Send(context.Background(), Message{To: "+447700900123", Body: "x"})
	if err == nil || strings.Contains(err.Error(), "447700900123") {
		t.Errorf("got %v, want an error that does not name the recipient", err)
	}
}

func TestVerificationText(t *testing.T) {
	tests := []struct {
		lang, want string
	}{
		{"en", "Your Plaza verification code is 123456. It expires in 10 minutes. Do not share it."},
		{"zh-CN", "您的 Plaza 验证码是 123456，10 分钟内有效。请勿告诉他人。"},
		{"", "Your Plaza verification code is 123456. It expires in 10 minutes. Do not share it."},
		{"fr", "Your Plaza verification code is 123456. It expires in 10 minutes. Do not share it."},
	}
	for _, tt := range tests {
		if got := VerificationText(tt.lang, "Plaza", "123456", 10*time.Minute); got != tt.want {
			t.Errorf("VerificationText(%q) = %q, want %q", tt.lang, got, tt.want)
		}
	}
}

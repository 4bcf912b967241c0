package main

import (
	"context"
	"crypto/ecdh"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/plaza-im/plaza/internal/plazatest"
	"github.com/plaza-im/plaza/internal/sqldb"
)

// TestPushOnlyWhenConnectedNowhere checks "no device connected on any
// node": Bob's device is on node A while Alice's messages are committed
// on node B, which must push nothing; once the device has gone, B pushes.
func TestPushOnlyWhenConnectedNowhere(t *testing.T) {
	t.Parallel()
	c := startTwoNodes(t, "--push-allow-loopback")
	// Pushes are counted by Topic, which names their conversation.
	var mu sync.Mutex
	pushes := map[string]int{}
	count := func(topic string) int {
		mu.Lock()
		defer mu.Unlock()
		return pushes[topic]
	}
	ps := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Content-Encoding") == "aes128gcm" && strings.HasPrefix(r.Header.Get("Authorization"), "vapid ") {
			mu.Lock()
			pushes[r.Header.Get("Topic")]++
			mu.Unlock()
		}
		w.WriteHeader(http.StatusCreated)
	}))
	defer ps.Close()
	priv, err := ecdh.P256().GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	auth := make([]byte, 16)
	_, _ = rand.Read(auth)
	call(t, "POST", c.b.URL+"/api/v1/me/push-subscriptions", c.bob.Token, map[string]any{"endpoint": ps.URL + "/bob", "keys": map[string]any{
		"p256dh": base64.RawURLEncoding.EncodeToString(priv.PublicKey().Bytes()), "auth": base64.RawURLEncoding.EncodeToString(auth)}}).want(t, http.StatusCreated, nil)
	// Both nodes serve the same VAPID key.
	var keyA, keyB struct {
		PublicKey string `json:"public_key"`
	}
	call(t, "GET", c.a.URL+"/api/v1/push/vapid-key", c.bob.Token, nil).want(t, http.StatusOK, &keyA)
	call(t, "GET", c.b.URL+"/api/v1/push/vapid-key", c.bob.Token, nil).want(t, http.StatusOK, &keyB)
	if keyA.PublicKey == "" || keyA != keyB {
		t.Fatalf("VAPID keys: node A %q, node B %q; want one key", keyA.PublicKey, keyB.PublicKey)
	}

	db, err := sqldb.Open(context.Background(), c.db, sqldb.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	present := func(want bool) {
		t.Helper()
		plazatest.Eventually(t, 10*time.Second, func() error {
			var n int
			if err := db.Read().QueryRowContext(context.Background(), `SELECT COUNT(*) FROM push_presence WHERE account_id = $1`, c.bob.ID).Scan(&n); err != nil {
				return err
			}
			if (n > 0) != want {
				return fmt.Errorf("bob has %d presence rows, want present %v", n, want)
			}
			return nil
		})
	}

	device := dialStream(t, c.a.URL, c.bob.Token, "")
	device.untilReady()
	present(true)
	m1 := sendText(t, c.b.URL, c.alice, c.conv, "p-1", "while bob is on node A", http.StatusCreated)
	device.waitCreated(m1.ID)
	_ = device.ws.CloseNow()
	present(false)
	// Once bob is gone, a message in another conversation pushes; one
	// for p-1 would have been queued on node B well before it.
	var group struct{ ID string }
	call(t, "POST", c.b.URL+"/api/v1/conversations", c.alice.Token, map[string]any{"kind": "group", "title": "Later", "member_ids": []string{c.bob.ID}}).want(t, http.StatusCreated, &group)
	sendText(t, c.b.URL, c.alice, group.ID, "p-2", "bob is gone", http.StatusCreated)
	plazatest.Eventually(t, 20*time.Second, func() error {
		if n := count("c" + group.ID); n != 1 {
			return fmt.Errorf("got %d pushes for the group, want 1", n)
		}
		return nil
	})
	if n := count("c" + c.conv); n != 0 {
		t.Errorf("got %d pushes for the message sent while bob was connected to the other node, want none", n)
	}
}

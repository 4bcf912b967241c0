package bench

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// TestWSConn talks to a real WebSocket server (coder/websocket, as the
// server uses): messages of every length encoding both ways, a ping
// answered while reading, a refused handshake, and the server's close.
func TestWSConn(t *testing.T) {
	big := bytes.Repeat([]byte("x"), 70_000)
	pings := make(chan error, 2)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer good" {
			http.Error(w, `{"error":{"code":"unauthenticated"}}`, http.StatusUnauthorized)
			return
		}
		ws, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		ws.SetReadLimit(1 << 20)
		ctx, cancel := context.WithTimeout(r.Context(), 10*time.Second)
		defer cancel()
		// Echo three messages, ping in between, then close.
		for i := 0; i < 3; i++ {
			typ, msg, err := ws.Read(ctx)
			if err != nil {
				return
			}
			if i < 2 {
				// Answered by the client while it reads the echo.
				go func() { pings <- ws.Ping(ctx) }()
			}
			if err := ws.Write(ctx, typ, append([]byte("echo "), msg...)); err != nil {
				return
			}
		}
		ws.Close(websocket.StatusNormalClosure, "bye")
	}))
	defer srv.Close()

	ctx := context.Background()
	if _, err := dialWS(ctx, srv.URL, "bad", ""); err == nil || !strings.Contains(err.Error(), "401") {
		t.Fatalf("dial with a bad token: got %v, want the server's 401", err)
	}
	ws, err := dialWS(ctx, srv.URL, "good", "5")
	if err != nil {
		t.Fatal(err)
	}
	defer ws.close()
	for _, msg := range [][]byte{[]byte("hi"), bytes.Repeat([]byte("y"), 300), big} {
		if err := ws.send(msg); err != nil {
			t.Fatal(err)
		}
		got, err := ws.next()
		if err != nil {
			t.Fatalf("read the echo of %d bytes: %v", len(msg), err)
		}
		if want := append([]byte("echo "), msg...); !bytes.Equal(got, want) {
			t.Fatalf("got %d bytes %.20q…, want %d bytes %.20q…", len(got), got, len(want), want)
		}
	}
	if _, err := ws.next(); err == nil {
		t.Fatal("after the server's close: got a message, want io.EOF")
	}
	for range 2 {
		if err := <-pings; err != nil {
			t.Errorf("the server's ping: %v, want a pong", err)
		}
	}
}

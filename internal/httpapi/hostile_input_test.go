package httpapi

import (
	"net/http"
	"testing"
)

// wantField fails unless r is a 400 invalid_request naming field.
func (r resp) wantField(tb testing.TB, field string) {
	tb.Helper()
	r.want(tb, http.StatusBadRequest, "invalid_request")
	fields, _ := r.details()["fields"].([]any)
	for _, f := range fields {
		if m, _ := f.(map[string]any); m["field"] == field {
			return
		}
	}
	tb.Fatalf("got fields %v, want one naming %q; body: %s", fields, field, r.raw)
}

func TestHostileNulInFields(t *testing.T) {
	eachEngine(t, func(t *testing.T, e *testEnv) {
		a, b := e.verified("nul_a"), e.verified("nul_b")
		e.befriend(a, b)
		conv := e.direct(a, b)

		e.send(a, conv, "c1", "a\x00b").wantField(t, "text")
		e.send(a, conv, "c\x002", "text").wantField(t, "client_id")
		e.do("POST", "/api/v1/conversations", a.token, map[string]any{
			"kind": "group", "title": "t\x00", "member_ids": []string{b.id.String()},
		}).wantField(t, "title")
		e.do("POST", "/api/v1/conversations", a.token, map[string]any{
			"kind": "group", "title": "t", "member_ids": []string{b.id.String(), "1\x00"},
		}).wantField(t, "member_ids[1]")
		e.do("POST", "/api/v1/sessions", "", map[string]any{"handle": "nul_a\x00", "password": "password-nul_a"}).wantField(t, "handle")
		e.do("GET", "/api/v1/channels?q=a%00b", a.token, nil).wantField(t, "q")
		e.do("GET", "/api/v1/channels?q=a%ffb", a.token, nil).wantField(t, "q")
		e.do("GET", "/api/v1/conversations/"+conv+"%00", a.token, nil).wantField(t, "id")

		// Nothing was stored, and a clean send still works.
		got := e.do("GET", "/api/v1/conversations/"+conv+"/messages?after_seq=0", a.token, nil).want(t, 200, "")
		if items := got.body["items"].([]any); len(items) != 0 {
			t.Fatalf("got %d messages after refused sends, want 0", len(items))
		}
		e.send(a, conv, "c3", "fine").want(t, http.StatusCreated, "")
	})
}

func TestHostileInvalidUTF8Body(t *testing.T) {
	e := newEnv(t)
	a, b := e.verified("utf_a"), e.verified("utf_b")
	e.befriend(a, b)
	conv := e.direct(a, b)
	path := "/api/v1/conversations/" + conv + "/messages"
	e.do("POST", path, a.token, "{\"client_id\":\"c1\",\"kind\":\"text\",\"text\":\"a\xffb\"}").wantField(t, "text")
	e.do("POST", path, a.token, `{"client_id":"c1","kind":"text","text":"\ud800"}`).wantField(t, "text")
	e.do("POST", path, a.token, "{\"client_id\":\"c1\",\"kind\":\"text\",\"te\xffxt\":\"a\"}").want(t, http.StatusBadRequest, "invalid_request")
}

func TestHostileStrictJSONKeys(t *testing.T) {
	e := newEnv(t)
	a, b := e.verified("key_a"), e.verified("key_b")
	e.befriend(a, b)
	conv := e.direct(a, b)
	path := "/api/v1/conversations/" + conv + "/messages"
	e.do("POST", path, a.token, `{"client_id":"c1","kind":"text","text":"one","text":"two"}`).wantField(t, "text")
	e.do("POST", path, a.token, `{"client_id":"c1","kind":"text","Text":"one"}`).wantField(t, "Text")
	e.do("POST", path, a.token, `{"CLIENT_ID":"c1","kind":"text","text":"one"}`).wantField(t, "CLIENT_ID")
	e.do("POST", "/api/v1/sessions", "", `{"handle":"key_a","password":"x","handle":"key_b"}`).wantField(t, "handle")
	got := e.do("GET", "/api/v1/conversations/"+conv+"/messages?after_seq=0", a.token, nil).want(t, 200, "")
	if items := got.body["items"].([]any); len(items) != 0 {
		t.Fatalf("got %d messages after refused sends, want 0", len(items))
	}
	e.do("POST", path, a.token, `{"client_id":"c1","kind":"text","text":"one"}`).want(t, http.StatusCreated, "")
}

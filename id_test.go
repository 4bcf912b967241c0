package plaza

import (
	"encoding/json"
	"testing"
	"time"
)

func TestIDsIncreaseAndCarryTime(t *testing.T) {
	g := newIDGen()
	prev := g.next()
	for i := 0; i < 100_000; i++ {
		id := g.next()
		if id <= prev {
			t.Fatalf("ID %d after %d: not increasing", id, prev)
		}
		prev = id
	}
	if d := time.Since(IDTime(prev)); d < -time.Second || d > time.Minute {
		t.Errorf("IDTime = %v, want about now", IDTime(prev))
	}
	if prev <= 0 {
		t.Errorf("ID %d is not positive", prev)
	}
}

func TestIDJSON(t *testing.T) {
	var v struct {
		ID ID `json:"id"`
	}
	if err := json.Unmarshal([]byte(`{"id":"384509780243079168"}`), &v); err != nil || v.ID != 384509780243079168 {
		t.Fatalf("got %d, %v; want 384509780243079168", v.ID, err)
	}
	b, _ := json.Marshal(v)
	if string(b) != `{"id":"384509780243079168"}` {
		t.Errorf("got %s, want the ID as a string", b)
	}
	for _, bad := range []string{`{"id":12}`, `{"id":"-1"}`, `{"id":"x"}`, `{"id":"0"}`} {
		if err := json.Unmarshal([]byte(bad), &v); err == nil {
			t.Errorf("%s: accepted, want an error", bad)
		}
	}
}

func TestProblems(t *testing.T) {
	var p Problems
	if p.Err() != nil {
		t.Fatal("empty Problems returned an error")
	}
	p.Add("a", "must be x")
	p.Add("b", "must be y")
	err := p.Err()
	if ErrorCode(err) != EInvalid || err.Error() != "invalid_request: a: must be x; b: must be y" {
		t.Errorf("got %v", err)
	}
	if ErrorCode(nil) != "" || ErrorCode(errPlain{}) != EInternal {
		t.Error("ErrorCode of nil or a plain error is wrong")
	}
}

type errPlain struct{}

func (errPlain) Error() string { return "plain" }

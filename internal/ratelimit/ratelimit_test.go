package ratelimit

import (
	"fmt"
	"testing"
	"time"
)

func TestParseRate(t *testing.T) {
	tests := []struct {
		in      string
		want    Rate
		wantErr bool
	}{
		{"10/1m", Rate{10, time.Minute}, false},
		{"5/30s", Rate{5, 30 * time.Second}, false},
		{"0/1m", Rate{}, true},
		{"x/1m", Rate{}, true},
		{"10", Rate{}, true},
		{"10/-1s", Rate{}, true},
	}
	for _, tt := range tests {
		got, err := ParseRate(tt.in)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("ParseRate(%q) = %v, %v; want %v, error %v", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
}

func TestLimiterPerKey(t *testing.T) {
	l := New(Rate{N: 3, Per: time.Hour}, 100)
	for i := 0; i < 3; i++ {
		if ok, _ := l.Allow("a"); !ok {
			t.Fatalf("event %d for a refused, want allowed (burst 3)", i+1)
		}
	}
	ok, retry := l.Allow("a")
	if ok || retry <= 0 || retry > time.Hour {
		t.Errorf("4th event: got ok=%v retry=%v, want refused with 0 < retry <= 1h", ok, retry)
	}
	if ok, _ := l.Allow("b"); !ok {
		t.Error("first event for b refused, want allowed: keys are independent")
	}
}

func TestLimiterBoundedKeys(t *testing.T) {
	l := New(Rate{N: 1, Per: time.Hour}, 10)
	for i := 0; i < 1000; i++ {
		l.Allow(fmt.Sprint(i))
	}
	if n := len(l.keys); n != 10 {
		t.Errorf("remembered %d keys, want 10", n)
	}
}

func TestNilLimiterAllows(t *testing.T) {
	var l *Limiter
	if ok, _ := l.Allow("x"); !ok {
		t.Error("nil limiter refused, want allowed")
	}
}

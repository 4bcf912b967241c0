//go:build noui

package webui

import (
	"net/http/httptest"
	"testing"
)

func TestNoUIHandler(t *testing.T) {
	rec := httptest.NewRecorder()
	Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	if rec.Code != 404 {
		t.Errorf("status = %d, want 404", rec.Code)
	}
	if Enabled {
		t.Error("Enabled = true in a noui build")
	}
}

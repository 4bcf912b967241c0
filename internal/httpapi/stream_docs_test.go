package httpapi

import (
	"net/http"
	"testing"

	"github.com/plaza-im/plaza/internal/events"
)

// TestOpenAPIListsEveryFrameType: the stream's operation in the OpenAPI
// document lists every frame type of events.Types, with its direction.
func TestOpenAPIListsEveryFrameType(t *testing.T) {
	e := newEnv(t)
	res := e.do("GET", "/api/v1/openapi.json", "", nil).want(t, http.StatusOK, "")
	paths, _ := res.body["paths"].(map[string]any)
	stream, _ := paths["/api/v1/stream"].(map[string]any)
	get, _ := stream["get"].(map[string]any)
	frames, _ := get["x-plaza-frames"].([]any)
	have := map[string]bool{}
	for _, f := range frames {
		m, _ := f.(map[string]any)
		have[m["type"].(string)+" "+m["direction"].(string)] = true
		if m["description"] == "" {
			t.Errorf("frame %v has no description", m)
		}
	}
	for _, ft := range events.Types {
		if !have[ft.Name+" "+string(ft.Direction)] {
			t.Errorf("x-plaza-frames of GET /api/v1/stream lacks %s (%s)", ft.Name, ft.Direction)
		}
	}
	if len(frames) != len(events.Types) {
		t.Errorf("x-plaza-frames has %d entries, want %d", len(frames), len(events.Types))
	}
}

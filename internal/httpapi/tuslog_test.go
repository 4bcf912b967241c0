package httpapi

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
)

// tusd's log lines go to the server's logger, without its per-request
// INFO lines.
func TestTusLogsToServerLogger(t *testing.T) {
	var buf bytes.Buffer
	l := tusLogger(slog.New(slog.NewJSONHandler(&buf, nil)))
	l.Info("ResponseOutgoing", "status", 204)
	l.With("id", "u1").Warn("UploadTooLarge", "size", 10)
	got := buf.String()
	if strings.Contains(got, "ResponseOutgoing") {
		t.Errorf("tusd's INFO line was logged: %s", got)
	}
	if !strings.Contains(got, `"msg":"tusd: UploadTooLarge"`) || !strings.Contains(got, `"id":"u1"`) || !strings.Contains(got, `"size":10`) {
		t.Errorf("tusd's warning = %q, want it with its attributes in the server's log", got)
	}
}

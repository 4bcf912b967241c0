package httpapi

import (
	"context"
	"log/slog"

	expslog "golang.org/x/exp/slog"
)

// tusLogger returns a logger for tusd (which logs through
// golang.org/x/exp/slog) that writes to log, keeping warnings and errors
// only: tusd logs every request at INFO, which would drown the server's
// own log.
func tusLogger(log *slog.Logger) *expslog.Logger {
	return expslog.New(tusHandler{h: log.Handler()})
}

// tusHandler is an x/exp/slog handler that hands records to a log/slog
// handler.
type tusHandler struct{ h slog.Handler }

func (t tusHandler) Enabled(ctx context.Context, l expslog.Level) bool {
	return l >= expslog.LevelWarn && t.h.Enabled(ctx, slog.Level(l))
}

func (t tusHandler) Handle(ctx context.Context, r expslog.Record) error {
	out := slog.NewRecord(r.Time, slog.Level(r.Level), "tusd: "+r.Message, r.PC)
	r.Attrs(func(a expslog.Attr) bool {
		out.AddAttrs(convertAttr(a))
		return true
	})
	return t.h.Handle(ctx, out)
}

func (t tusHandler) WithAttrs(as []expslog.Attr) expslog.Handler {
	out := make([]slog.Attr, len(as))
	for i, a := range as {
		out[i] = convertAttr(a)
	}
	return tusHandler{h: t.h.WithAttrs(out)}
}

func (t tusHandler) WithGroup(name string) expslog.Handler {
	return tusHandler{h: t.h.WithGroup(name)}
}

func convertAttr(a expslog.Attr) slog.Attr {
	v := a.Value.Resolve()
	if v.Kind() == expslog.KindGroup {
		g := v.Group()
		args := make([]any, len(g))
		for i, x := range g {
			args[i] = convertAttr(x)
		}
		return slog.Group(a.Key, args...)
	}
	return slog.Any(a.Key, v.Any())
}

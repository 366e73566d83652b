package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/idicbot/idicbot/crm"
)

// newLogger returns the logger of every command: it masks phone numbers and
// email addresses in every string it writes (crm.MaskText says which
// numbers are phones; IP addresses, amounts and ids are left as they are),
// writes durations in seconds, and adds the request id of the context (see
// accessLog). format is "json", "text", or "" for text on a terminal and
// JSON lines otherwise (a journal, a container log, a file).
func newLogger(w io.Writer, level, format string) *slog.Logger {
	var lv slog.Level
	_ = lv.UnmarshalText([]byte(level))
	opts := &slog.HandlerOptions{Level: lv, ReplaceAttr: maskAttr}
	if format == "" {
		format = "json"
		if isTerminal(w) {
			format = "text"
		}
	}
	var h slog.Handler = slog.NewJSONHandler(w, opts)
	if format == "text" {
		h = slog.NewTextHandler(w, opts)
	}
	return slog.New(requestIDHandler{h})
}

// isTerminal reports whether w is a terminal (a character device), where a
// person reads it.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

func maskAttr(_ []string, a slog.Attr) slog.Attr {
	switch a.Value.Kind() {
	case slog.KindString:
		a.Value = slog.StringValue(crm.MaskText(a.Value.String()))
	case slog.KindDuration:
		// Seconds, as Prometheus and people read them; JSON would write
		// nanoseconds.
		a.Value = slog.Float64Value(a.Value.Duration().Seconds())
	case slog.KindAny:
		switch v := a.Value.Any().(type) {
		case error:
			a.Value = slog.StringValue(crm.MaskText(v.Error()))
		case fmt.Stringer:
			a.Value = slog.StringValue(crm.MaskText(v.String()))
		}
	}
	return a
}

// requestIDHandler adds the request id of the record's context to every
// line logged with it (log.InfoContext(r.Context(), …)).
type requestIDHandler struct{ slog.Handler }

func (h requestIDHandler) Handle(ctx context.Context, r slog.Record) error {
	if id := requestIDFrom(ctx); id != "" {
		r.AddAttrs(slog.String("request_id", id))
	}
	return h.Handler.Handle(ctx, r)
}

func (h requestIDHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return requestIDHandler{h.Handler.WithAttrs(as)}
}

func (h requestIDHandler) WithGroup(name string) slog.Handler {
	return requestIDHandler{h.Handler.WithGroup(name)}
}

// seconds is a duration as a log value in seconds, rounded to the
// microsecond.
func seconds(d time.Duration) float64 { return d.Round(time.Microsecond).Seconds() }

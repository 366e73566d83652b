package main

import (
	"io"
	"log/slog"

	"github.com/idicbot/idicbot/crm"
)

// newLogger returns a JSON logger that masks phone numbers and email
// addresses in every string it writes.
func newLogger(w io.Writer, level string) *slog.Logger {
	var lv slog.Level
	_ = lv.UnmarshalText([]byte(level))
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: lv, ReplaceAttr: maskAttr}))
}

func maskAttr(_ []string, a slog.Attr) slog.Attr {
	switch a.Value.Kind() {
	case slog.KindString:
		a.Value = slog.StringValue(crm.MaskText(a.Value.String()))
	case slog.KindAny:
		if err, ok := a.Value.Any().(error); ok {
			a.Value = slog.StringValue(crm.MaskText(err.Error()))
		}
	}
	return a
}

package main

import (
	"fmt"
	"io"
	"log/slog"

	"github.com/idicbot/idicbot/crm"
)

// newLogger returns a JSON logger that masks phone numbers and email
// addresses in every string it writes (crm.MaskText says which numbers are
// phones; IP addresses, amounts and ids are left as they are).
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
		switch v := a.Value.Any().(type) {
		case error:
			a.Value = slog.StringValue(crm.MaskText(v.Error()))
		case fmt.Stringer:
			a.Value = slog.StringValue(crm.MaskText(v.String()))
		}
	}
	return a
}

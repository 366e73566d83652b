package bot_test

import (
	"testing"

	"github.com/idicbot/idicbot/bot"
)

func TestParseRepNotice(t *testing.T) {
	for _, tt := range []struct {
		text, reason string
		urgent, ok   bool
	}{
		{"handoff", "", false, true},
		{"handoff:order", "order", false, true},
		{"handoff!:complaint", "complaint", true, true},
		{"handoffx", "", false, false},
		{"greeting", "", false, false},
	} {
		reason, urgent, ok := bot.ParseRepNotice(tt.text)
		if reason != tt.reason || urgent != tt.urgent || ok != tt.ok {
			t.Errorf("ParseRepNotice(%q) = %q %v %v, want %q %v %v", tt.text, reason, urgent, ok, tt.reason, tt.urgent, tt.ok)
		}
	}
}

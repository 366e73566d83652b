package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The shop's time zone (timezone:) is Hồ Chí Minh City by default, any IANA
// name otherwise; a wrong one stops start-up saying what is expected.
func TestTimezoneConfig(t *testing.T) {
	noEnv := func(string) string { return "" }
	c, err := LoadConfig("", noEnv)
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Location().String(); got != "Asia/Ho_Chi_Minh" {
		t.Fatalf("default time zone %s, want Asia/Ho_Chi_Minh", got)
	}
	dir := t.TempDir()
	for _, tt := range []struct{ value, want, err string }{
		{"Asia/Bangkok", "Asia/Bangkok", ""},
		{"UTC", "UTC", ""},
		{"Mars/Olympus_Mons", "", "is not a time zone"},
		{`""`, "", "is not a time zone"},
	} {
		p := filepath.Join(dir, "tz.yaml")
		if err := os.WriteFile(p, []byte("timezone: "+tt.value+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		c, err := LoadConfig(p, noEnv)
		switch {
		case tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)):
			t.Errorf("timezone %s: %v, want an error with %q", tt.value, err, tt.err)
		case tt.err == "" && err != nil:
			t.Errorf("timezone %s: %v", tt.value, err)
		case tt.err == "" && c.Location().String() != tt.want:
			t.Errorf("timezone %s: %s", tt.value, c.Location())
		}
	}
}

package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/idicbot/idicbot/crm"
)

// TestConfigMessages: what an owner reads for each mistake in idicbot.yaml
// names the file, the line and the fix, in their terms, never Go's.
func TestConfigMessages(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		env  map[string]string
		want string // the whole message after "config: "
	}{
		{"typo", "shop: Hoa\ndata: /tmp/x\nadr: 0.0.0.0:80\n",
			nil, `idicbot.yaml line 3: unknown key "adr" (did you mean "addr"?)`},
		{"typo in a section", "http:\n  read_timout: 5s\n",
			nil, `idicbot.yaml line 2: unknown key "read_timout" in http (did you mean "read_timeout"?)`},
		{"words of a key", "webchat:\n  messages_minute: 5\n",
			nil, `idicbot.yaml line 2: unknown key "messages_minute" in webchat (did you mean "messages_per_minute"?)`},
		{"no near key", "colour: red\n",
			nil, `idicbot.yaml line 1: unknown key "colour"`},
		{"duration as a number", "shutdown_timeout: 5\n",
			nil, `idicbot.yaml line 1: shutdown_timeout: write a duration like 10s, 500ms or 2h, not "5"`},
		{"nested duration", "outbox:\n  lanes: 4\n  backoff: soon\n",
			nil, `idicbot.yaml line 3: outbox.backoff: write a duration like 10s, 500ms or 2h, not "soon"`},
		{"number as text", "retention_days: thirty\n",
			nil, `idicbot.yaml line 1: retention_days: write a whole number, not "thirty"`},
		{"list as a value", "http:\n  trusted_proxies: 10.0.0.1\n",
			nil, `idicbot.yaml line 2: http.trusted_proxies: write a list (lines starting with "- ", or [a, b])`},
		{"section as a value", "outbox: 4\n",
			nil, `idicbot.yaml line 1: outbox: write a section of keys (key: value on the lines below, indented)`},
		{"two mistakes at once", "adr: x\nsweep_interval: often\n",
			nil, "idicbot.yaml line 1: unknown key \"adr\" (did you mean \"addr\"?)\nidicbot.yaml line 2: sweep_interval: write a duration like 10s, 500ms or 2h, not \"often\""},
		{"syntax", "shop: Hoa\n  data: x\n",
			nil, `idicbot.yaml line 2: mapping values are not allowed in this context`},
		{"zero shutdown", "shutdown_timeout: 0s\n",
			nil, `shutdown_timeout: write a duration like 10s (more than 0)`},
		{"bad level from the environment", "",
			map[string]string{"IDICBOT_LOG_LEVEL": "loud"}, `log_level (or IDICBOT_LOG_LEVEL) must be debug, info, warn or error, not "loud"`},
		{"outbox lease too short", "outbox:\n  lease: 1s\n",
			nil, `outbox.lease must be between 5s and 10m0s, not 1s`},
		{"bad log format", "log_format: xml\n",
			nil, `log_format (or IDICBOT_LOG_FORMAT) must be text or json, not "xml"`},
	}
	dir := t.TempDir()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(dir, "idicbot.yaml")
			if err := os.WriteFile(path, []byte(tt.yaml), 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := LoadConfig(path, func(k string) string { return tt.env[k] })
			if err == nil {
				t.Fatal("no error")
			}
			if got, want := err.Error(), "config: "+tt.want; got != want {
				t.Fatalf("error\n%s\nwant\n%s", got, want)
			}
			if crm.ErrorCode(err) != crm.EINVALID {
				t.Errorf("code %q, want EINVALID", crm.ErrorCode(err))
			}
		})
	}
}

func TestConfigFromEnvironment(t *testing.T) {
	env := map[string]string{"IDICBOT_LOG_LEVEL": "DEBUG", "IDICBOT_LOG_FORMAT": "text", "IDICBOT_TRUSTED_PROXIES": "172.16.0.0/12, 10.0.0.1"}
	c, err := LoadConfig("", func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	if c.LogLevel != "debug" || c.LogFormat != "text" {
		t.Fatalf("level %q format %q", c.LogLevel, c.LogFormat)
	}
	if got := fmt.Sprint(c.HTTP.Trusted()); got != "[172.16.0.0/12 10.0.0.1/32]" {
		t.Fatalf("trusted proxies %s", got)
	}
	env["IDICBOT_TRUSTED_PROXIES"] = "caddy"
	if _, err := LoadConfig("", func(k string) string { return env[k] }); err == nil || !strings.Contains(err.Error(), `"caddy" is neither an address nor a CIDR range`) {
		t.Fatalf("err = %v", err)
	}
}

// TestSecretsFromFiles: every secret can come from NAME_FILE or a systemd
// credential; the environment variable itself still works; both at once
// is refused; errors never show the value.
func TestSecretsFromFiles(t *testing.T) {
	dir := t.TempDir()
	write := func(name, v string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(v), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	tgFile := write("tg", "123456:ABC-from-file\n")
	empty := write("empty", "\n")
	creds := filepath.Join(dir, "creds")
	if err := os.Mkdir(creds, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(creds, "SLACK_BOT_TOKEN"), []byte("xoxb-from-credential"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		env     map[string]string
		key     string
		want    string
		wantErr string
	}{
		{"plain variable", map[string]string{"TELEGRAM_BOT_TOKEN": "123:plain"}, "TELEGRAM_BOT_TOKEN", "123:plain", ""},
		{"_FILE, newline trimmed", map[string]string{"TELEGRAM_BOT_TOKEN_FILE": tgFile}, "TELEGRAM_BOT_TOKEN", "123456:ABC-from-file", ""},
		{"systemd credential", map[string]string{"CREDENTIALS_DIRECTORY": creds}, "SLACK_BOT_TOKEN", "xoxb-from-credential", ""},
		{"no credential for it", map[string]string{"CREDENTIALS_DIRECTORY": creds}, "TELEGRAM_BOT_TOKEN", "", ""},
		{"_FILE wins over a credential", map[string]string{"CREDENTIALS_DIRECTORY": creds, "SLACK_BOT_TOKEN_FILE": tgFile}, "SLACK_BOT_TOKEN", "123456:ABC-from-file", ""},
		{"not a secret", map[string]string{"IDICBOT_ADDR": "1.2.3.4:80"}, "IDICBOT_ADDR", "1.2.3.4:80", ""},
		{"both set", map[string]string{"OPENAI_API_KEY": "sk-a", "OPENAI_API_KEY_FILE": tgFile}, "", "", "OPENAI_API_KEY and OPENAI_API_KEY_FILE are both set: keep one"},
		{"missing file", map[string]string{"ZALO_APP_SECRET_FILE": filepath.Join(dir, "nope")}, "", "", "ZALO_APP_SECRET_FILE: open " + filepath.Join(dir, "nope")},
		{"empty file", map[string]string{"IDICBOT_ADMIN_TOKEN_FILE": empty}, "", "", "IDICBOT_ADMIN_TOKEN_FILE: " + empty + " is empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			getenv, err := secretsFromFiles(func(k string) string { return tt.env[k] })
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				if strings.Contains(err.Error(), "ABC-from-file") {
					t.Fatalf("the error shows the secret: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := getenv(tt.key); got != tt.want {
				t.Fatalf("%s = %q, want %q", tt.key, got, tt.want)
			}
		})
	}
}

// TestOutboxLease: a minute unless the file says, within its bounds.
func TestOutboxLease(t *testing.T) {
	c, err := LoadConfig("", func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	if got, want := c.Outbox.Lease, time.Minute; got != want {
		t.Fatalf("default outbox.lease = %s, want %s", got, want)
	}
	for _, tt := range []struct {
		yaml string
		want time.Duration
		ok   bool
	}{
		{"outbox:\n  lease: 20s\n", 20 * time.Second, true},
		{"outbox:\n  lease: 10m\n", 10 * time.Minute, true},
		{"outbox:\n  lease: 4s\n", 0, false},
		{"outbox:\n  lease: 11m\n", 0, false},
	} {
		path := filepath.Join(t.TempDir(), "idicbot.yaml")
		if err := os.WriteFile(path, []byte(tt.yaml), 0o600); err != nil {
			t.Fatal(err)
		}
		c, err := LoadConfig(path, func(string) string { return "" })
		if !tt.ok {
			if err == nil || !strings.Contains(err.Error(), "outbox.lease must be between 5s and 10m0s") {
				t.Errorf("%q: err = %v, want the bounds", tt.yaml, err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%q: %v", tt.yaml, err)
		}
		if c.Outbox.Lease != tt.want {
			t.Errorf("%q: lease %s, want %s", tt.yaml, c.Outbox.Lease, tt.want)
		}
	}
}

package main

import (
	"net"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// TestComposeAndCaddyAgree checks deploy/compose.yaml and deploy/Caddyfile
// against each other and against idicbot, since CI cannot run them: Caddy
// proxies to the port idicbot listens on, every NAME_FILE is a secret
// idicbot reads from a file compose mounts, and the data is in a volume.
func TestComposeAndCaddyAgree(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "..", "deploy", "compose.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var c struct {
		Services map[string]struct {
			Build       string            `yaml:"build"`
			Environment map[string]string `yaml:"environment"`
			Secrets     []string          `yaml:"secrets"`
			Volumes     []string          `yaml:"volumes"`
			Expose      []string          `yaml:"expose"`
			Ports       []string          `yaml:"ports"`
		} `yaml:"services"`
		Secrets map[string]struct {
			File string `yaml:"file"`
		} `yaml:"secrets"`
	}
	if err := yaml.Unmarshal(data, &c); err != nil {
		t.Fatal(err)
	}
	bot, ok := c.Services["idicbot"]
	if !ok {
		t.Fatal("no idicbot service")
	}
	_, port, err := net.SplitHostPort(bot.Environment["IDICBOT_ADDR"])
	if err != nil {
		t.Fatalf("IDICBOT_ADDR %q: %v", bot.Environment["IDICBOT_ADDR"], err)
	}
	if !slices.Contains(bot.Expose, port) || len(bot.Ports) != 0 {
		t.Errorf("idicbot exposes %v and publishes %v; want %s to Caddy alone", bot.Expose, bot.Ports, port)
	}
	if !slices.ContainsFunc(bot.Volumes, func(v string) bool { return strings.HasSuffix(v, ":/data") }) {
		t.Errorf("no volume on /data (the image's IDICBOT_DATA): %v", bot.Volumes)
	}
	for k, v := range bot.Environment {
		name, isFile := strings.CutSuffix(k, "_FILE")
		if !isFile {
			continue
		}
		if !slices.Contains(secretEnv, name) {
			t.Errorf("%s: idicbot reads no secret %s", k, name)
		}
		secret, ok := strings.CutPrefix(v, "/run/secrets/")
		if !ok || !slices.Contains(bot.Secrets, secret) || c.Secrets[secret].File == "" {
			t.Errorf("%s=%s is not a secret compose mounts", k, v)
		}
	}
	// The environment is a valid configuration that trusts Caddy.
	cfg, err := LoadConfig("", func(k string) string { return bot.Environment[k] })
	if err != nil {
		t.Fatalf("compose's environment: %v", err)
	}
	if len(cfg.HTTP.Trusted()) == 0 {
		t.Error("compose trusts no proxy: every visitor would share Caddy's web chat limits")
	}
	if caddy := c.Services["caddy"]; !slices.Contains(caddy.Ports, "443:443") {
		t.Errorf("caddy does not publish 443: %v", caddy.Ports)
	}

	caddyfile, err := os.ReadFile(filepath.Join("..", "..", "deploy", "Caddyfile"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`reverse_proxy \{\$IDICBOT_UPSTREAM:idicbot:(\d+)\}`).FindSubmatch(caddyfile)
	if m == nil || string(m[1]) != port {
		t.Errorf("the Caddyfile does not proxy to idicbot:%s", port)
	}
	if !strings.Contains(string(caddyfile), "X-Request-Id") {
		t.Error("the Caddyfile does not pass a request id")
	}
}

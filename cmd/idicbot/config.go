package main

import (
	"fmt"
	"io/fs"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"time"
	_ "time/tzdata" // the shop's time zone on a system without a zone database

	"github.com/idicbot/idicbot/adapters/webchat"
	"github.com/idicbot/idicbot/configs"
)

// Config is idicbot.yaml. Secrets never live here: see Env.
type Config struct {
	Addr          string `yaml:"addr"`
	MetricsAddr   string `yaml:"metrics_addr"`
	Data          string `yaml:"data"`
	DatabaseURL   string `yaml:"database_url"` // postgres://…: the shared store instead of Data (docs/postgres.md)
	SegmentsFile  string `yaml:"segments_file"`
	OffersFile    string `yaml:"offers_file"`
	CatalogFile   string `yaml:"catalog_file"`
	MessagesFile  string `yaml:"messages_file"`
	IntentsFile   string `yaml:"intents_file"`
	KnowledgeFile string `yaml:"knowledge_file"`
	// Sources label acquisition sources (deep-link codes) for customers,
	// per language: sources: {ad_tet2027: {vi: "chương trình Tết", en: "our Tết sale"}}.
	Sources         map[string]map[string]string `yaml:"sources"`
	Shop            string                       `yaml:"shop"`
	DefaultLanguage string                       `yaml:"default_language"`
	SweepInterval   time.Duration                `yaml:"sweep_interval"`
	ShutdownTimeout time.Duration                `yaml:"shutdown_timeout"`
	LogLevel        string                       `yaml:"log_level"`
	LogFormat       string                       `yaml:"log_format"`     // text, json, or "": text on a terminal
	RetentionDays   int                          `yaml:"retention_days"` // 0 or less: keep forever
	// Timezone is the shop's time zone: days, quiet hours and journey
	// times are read in it.
	Timezone     string         `yaml:"timezone"`
	JourneysFile string         `yaml:"journeys_file"`
	Outreach     OutreachConfig `yaml:"outreach"`
	Outbox       struct {
		Lanes       int           `yaml:"lanes"`
		MaxAttempts int           `yaml:"max_attempts"`
		Backoff     time.Duration `yaml:"backoff"`
		MaxBackoff  time.Duration `yaml:"max_backoff"`
		Owner       string        `yaml:"owner"`
		// Lease is how long a claim holds an item (minOutboxLease to
		// maxOutboxLease): a replica that dies leaves its items to the
		// others after it.
		Lease time.Duration `yaml:"lease"`
	} `yaml:"outbox"`
	Telegram struct {
		PerChatInterval time.Duration `yaml:"per_chat_interval"`
		GlobalPerSecond int           `yaml:"global_per_second"`
		PollTimeout     time.Duration `yaml:"poll_timeout"`
	} `yaml:"telegram"`
	Zalo struct {
		MaxEventAge time.Duration `yaml:"max_event_age"`
	} `yaml:"zalo"`
	Messenger struct {
		MaxEventAge time.Duration `yaml:"max_event_age"`
	} `yaml:"messenger"`
	HTTP    HTTPConfig    `yaml:"http"`
	Webchat WebchatConfig `yaml:"webchat"`
	Admin   struct {
		BrakeFailures  int           `yaml:"brake_failures"`
		BrakeWindow    time.Duration `yaml:"brake_window"`
		BrakeAddresses int           `yaml:"brake_addresses"`
	} `yaml:"admin"`

	// dir is where relative file names are resolved ("" for built-in files).
	dir string
}

// OutreachConfig is the outreach: section: what keeps messages the shop
// sends first from annoying anyone (docs/outreach.md).
type OutreachConfig struct {
	Cap        int           `yaml:"cap"`        // promotional messages per customer…
	CapWindow  time.Duration `yaml:"cap_window"` // …in this window
	QuietFrom  string        `yaml:"quiet_from"` // HH:MM local; equal to quiet_until: none
	QuietUntil string        `yaml:"quiet_until"`
	// MessengerWindow and ZaloWindow: how long after a customer's last
	// message the channel lets the shop write first.
	MessengerWindow time.Duration `yaml:"messenger_window"`
	ZaloWindow      time.Duration `yaml:"zalo_window"`
	Every           time.Duration `yaml:"every"`

	loc                   *time.Location
	quietFrom, quietUntil int
}

// HTTPConfig is the http: section: the HTTP server's timeouts, header size
// limit and the reverse proxies in front of it.
type HTTPConfig struct {
	ReadHeaderTimeout time.Duration `yaml:"read_header_timeout"`
	ReadTimeout       time.Duration `yaml:"read_timeout"`
	WriteTimeout      time.Duration `yaml:"write_timeout"`
	IdleTimeout       time.Duration `yaml:"idle_timeout"`
	MaxHeaderBytes    int           `yaml:"max_header_bytes"`
	TrustedProxies    []string      `yaml:"trusted_proxies"`

	trusted []netip.Prefix // TrustedProxies parsed by validate
}

// Trusted returns the trusted proxies as parsed.
func (h *HTTPConfig) Trusted() []netip.Prefix { return h.trusted }

// WebchatConfig is the webchat: section: the web chat's limits (see
// webchat.Limits).
type WebchatConfig struct {
	SessionsPerIPPerHour int           `yaml:"sessions_per_ip_per_hour"`
	MessagesPerMinute    int           `yaml:"messages_per_minute"`
	MessageBurst         int           `yaml:"message_burst"`
	SessionQuotaBytes    int64         `yaml:"session_quota_bytes"`
	ReadsPerMinute       int           `yaml:"reads_per_minute"`
	StreamsPerIP         int           `yaml:"streams_per_ip"`
	MaxStreams           int           `yaml:"max_streams"`
	MaxWait              time.Duration `yaml:"max_wait"`
	StreamLifetime       time.Duration `yaml:"stream_lifetime"`
	MaxTrackedIPs        int           `yaml:"max_tracked_ips"`
	MaxTrackedSessions   int           `yaml:"max_tracked_sessions"`
	// AllowedOrigins are the sites that may show the chat with the widget
	// (see webchat.ParseOrigins).
	AllowedOrigins []string `yaml:"allowed_origins"`
	LogoURL        string   `yaml:"logo_url"`
	Color          string   `yaml:"color"`
}

// Branding is the chat's look for the shop named shop.
func (w *WebchatConfig) Branding(shop string) webchat.Branding {
	return webchat.Branding{Shop: shop, LogoURL: w.LogoURL, Color: w.Color}
}

// Bounds of outbox.lease: a lease is renewed every third of it, so a short
// one costs a transaction every few seconds per replica; a long one leaves
// a dead replica's replies waiting that long.
const (
	minOutboxLease = 5 * time.Second
	maxOutboxLease = 10 * time.Minute
)

// LoadConfig reads the built-in defaults, then the file at path (if any),
// then the environment overrides. Unknown keys and bad values are errors.
func LoadConfig(path string, getenv func(string) string) (*Config, error) {
	def, err := configs.Files.ReadFile("idicbot.yaml")
	if err != nil {
		return nil, err
	}
	var c Config
	if err := decodeConfig("built-in idicbot.yaml", def, &c); err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	if path == "" {
		path = getenv("IDICBOT_CONFIG")
	}
	if path != "" {
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("config: %w", err)
		}
		if err := decodeConfig(filepath.Base(path), data, &c); err != nil {
			return nil, fmt.Errorf("config: %w", err)
		}
		c.dir = filepath.Dir(path)
	}
	if v := getenv("IDICBOT_ADDR"); v != "" {
		c.Addr = v
	}
	if v := getenv("IDICBOT_METRICS_ADDR"); v != "" {
		c.MetricsAddr = v
	}
	if v := getenv("IDICBOT_DATA"); v != "" {
		c.Data = v
	}
	if v := getenv("IDICBOT_DATABASE_URL"); v != "" {
		c.DatabaseURL = v
	}
	if v := getenv("IDICBOT_OUTBOX_OWNER"); v != "" {
		c.Outbox.Owner = v
	}
	if v := getenv("IDICBOT_TRUSTED_PROXIES"); v != "" {
		c.HTTP.TrustedProxies = nil
		for _, p := range strings.Split(v, ",") {
			if p = strings.TrimSpace(p); p != "" {
				c.HTTP.TrustedProxies = append(c.HTTP.TrustedProxies, p)
			}
		}
	}
	if v := getenv("IDICBOT_LOG_LEVEL"); v != "" {
		c.LogLevel = strings.ToLower(strings.TrimSpace(v))
	}
	if v := getenv("IDICBOT_LOG_FORMAT"); v != "" {
		c.LogFormat = strings.ToLower(strings.TrimSpace(v))
	}
	if err := c.validate(); err != nil {
		return nil, fmt.Errorf("config: %w", &configError{err.Error()})
	}
	return &c, nil
}

func (c *Config) validate() error {
	switch {
	case c.Addr == "":
		return fmt.Errorf("addr is empty")
	case c.Data == "":
		return fmt.Errorf("data is empty")
	case c.DatabaseURL != "" && !isPostgresURL(c.DatabaseURL):
		return fmt.Errorf("database_url must start with postgres:// or postgresql://")
	case c.DefaultLanguage != "vi" && c.DefaultLanguage != "en":
		return fmt.Errorf("default_language must be vi or en, not %q", c.DefaultLanguage)
	case c.Outbox.Lanes < 1 || c.Outbox.MaxAttempts < 1:
		return fmt.Errorf("outbox.lanes and outbox.max_attempts must be at least 1")
	case c.Outbox.Lease < minOutboxLease || c.Outbox.Lease > maxOutboxLease:
		return fmt.Errorf("outbox.lease must be between %s and %s, not %s", minOutboxLease, maxOutboxLease, c.Outbox.Lease)
	case c.SweepInterval < 0:
		return fmt.Errorf("sweep_interval must not be negative")
	case c.ShutdownTimeout <= 0:
		return fmt.Errorf("shutdown_timeout: write a duration like 10s (more than 0)")
	case c.Telegram.GlobalPerSecond < 0 || c.Telegram.PerChatInterval < 0:
		return fmt.Errorf("telegram limits must not be negative")
	case c.Admin.BrakeFailures < 1 || c.Admin.BrakeWindow <= 0 || c.Admin.BrakeAddresses < 1:
		return fmt.Errorf("admin.brake_failures, admin.brake_window and admin.brake_addresses must be positive")
	case c.Zalo.MaxEventAge <= 0 || c.Messenger.MaxEventAge <= 0:
		return fmt.Errorf("zalo.max_event_age and messenger.max_event_age must be positive")
	}
	loc, err := time.LoadLocation(c.Timezone)
	if err != nil || c.Timezone == "" {
		return fmt.Errorf("timezone %q is not a time zone (for example Asia/Ho_Chi_Minh)", c.Timezone)
	}
	c.Outreach.loc = loc
	if err := c.Outreach.validate(); err != nil {
		return fmt.Errorf("outreach: %w", err)
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		return fmt.Errorf("log_level (or IDICBOT_LOG_LEVEL) must be debug, info, warn or error, not %q", c.LogLevel)
	}
	switch c.LogFormat {
	case "", "text", "json":
	default:
		return fmt.Errorf("log_format (or IDICBOT_LOG_FORMAT) must be text or json, not %q", c.LogFormat)
	}
	if err := c.HTTP.validate(); err != nil {
		return fmt.Errorf("http: %w", err)
	}
	if err := c.Webchat.validate(); err != nil {
		return fmt.Errorf("webchat: %w", err)
	}
	return nil
}

func (o *OutreachConfig) validate() error {
	if o.Cap < 1 || o.CapWindow <= 0 || o.MessengerWindow <= 0 || o.ZaloWindow <= 0 || o.Every <= 0 {
		return fmt.Errorf("cap, cap_window, messenger_window, zalo_window and every must be positive")
	}
	for _, v := range []struct {
		name string
		s    string
		m    *int
	}{{"quiet_from", o.QuietFrom, &o.quietFrom}, {"quiet_until", o.QuietUntil, &o.quietUntil}} {
		t, err := time.Parse("15:04", v.s)
		if err != nil {
			return fmt.Errorf("%s %q is not HH:MM", v.name, v.s)
		}
		*v.m = t.Hour()*60 + t.Minute()
	}
	return nil
}

// Location is the shop's time zone.
func (c *Config) Location() *time.Location { return c.Outreach.loc }

func (h *HTTPConfig) validate() error {
	for _, d := range []struct {
		name string
		v    time.Duration
	}{
		{"read_header_timeout", h.ReadHeaderTimeout}, {"read_timeout", h.ReadTimeout},
		{"write_timeout", h.WriteTimeout}, {"idle_timeout", h.IdleTimeout},
	} {
		if d.v <= 0 {
			return fmt.Errorf("%s must be positive, not %s", d.name, d.v)
		}
	}
	if h.MaxHeaderBytes < 1024 {
		return fmt.Errorf("max_header_bytes must be at least 1024, not %d", h.MaxHeaderBytes)
	}
	h.trusted = h.trusted[:0]
	for _, v := range h.TrustedProxies {
		p, err := netip.ParsePrefix(v)
		if err != nil {
			a, aerr := netip.ParseAddr(v)
			if aerr != nil {
				return fmt.Errorf("trusted_proxies: %q is neither an address nor a CIDR range", v)
			}
			p = netip.PrefixFrom(a, a.BitLen())
		}
		h.trusted = append(h.trusted, p.Masked())
	}
	return nil
}

func (w *WebchatConfig) validate() error {
	for _, n := range []struct {
		name string
		v    int64
	}{
		{"sessions_per_ip_per_hour", int64(w.SessionsPerIPPerHour)}, {"messages_per_minute", int64(w.MessagesPerMinute)},
		{"message_burst", int64(w.MessageBurst)}, {"session_quota_bytes", w.SessionQuotaBytes},
		{"streams_per_ip", int64(w.StreamsPerIP)}, {"max_streams", int64(w.MaxStreams)}, {"reads_per_minute", int64(w.ReadsPerMinute)},
		{"max_tracked_ips", int64(w.MaxTrackedIPs)}, {"max_tracked_sessions", int64(w.MaxTrackedSessions)},
		{"max_wait", int64(w.MaxWait)}, {"stream_lifetime", int64(w.StreamLifetime)},
	} {
		if n.v <= 0 {
			return fmt.Errorf("%s must be positive", n.name)
		}
	}
	origins, err := webchat.ParseOrigins(w.AllowedOrigins)
	if err != nil {
		return fmt.Errorf("allowed_origins: %w", err)
	}
	w.AllowedOrigins = origins
	if err := w.Branding("").Validate(); err != nil {
		return err
	}
	return nil
}

// Limits are the web chat's limits as configured, with the HTTP server's
// trusted proxies.
func (w *WebchatConfig) Limits(trusted []netip.Prefix) webchat.Limits {
	return webchat.Limits{
		SessionsPerHour:   w.SessionsPerIPPerHour,
		MessagesPerMinute: w.MessagesPerMinute,
		MessageBurst:      w.MessageBurst,
		SessionQuotaBytes: w.SessionQuotaBytes,
		StreamsPerClient:  w.StreamsPerIP,
		ReadsPerMinute:    w.ReadsPerMinute,
		StreamLifetime:    w.StreamLifetime,
		TrustedProxies:    trusted,
		MaxClients:        w.MaxTrackedIPs,
		MaxSessions:       w.MaxTrackedSessions,
	}
}

// ReadFile reads a configured file (relative to the config file) or, when
// name is empty, the built-in file def. It returns the name used in errors.
func (c *Config) ReadFile(name, def string) ([]byte, string, error) {
	if name == "" {
		data, err := fs.ReadFile(configs.Files, def)
		return data, "built-in configs/" + def, err
	}
	if !filepath.IsAbs(name) && c.dir != "" {
		name = filepath.Join(c.dir, name)
	}
	data, err := os.ReadFile(name)
	return data, name, err
}

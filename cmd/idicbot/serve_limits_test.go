package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/idicbot/idicbot/adapters/webchat"
)

// shortHTTP is an http: section with timeouts far shorter than the tests'
// patience (patience below), so a connection the server would hold forever
// shows as a test failure, not as a slow test.
var shortHTTP = HTTPConfig{
	ReadHeaderTimeout: 200 * time.Millisecond,
	ReadTimeout:       300 * time.Millisecond,
	WriteTimeout:      300 * time.Millisecond,
	IdleTimeout:       300 * time.Millisecond,
	MaxHeaderBytes:    4096,
}

const patience = 30 * time.Second

// serveHTTP runs newHTTPServer(c, h) on a free port and returns its address
// and a channel that receives each connection the server closes.
func serveHTTP(t *testing.T, c HTTPConfig, h http.Handler) (string, <-chan net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := make(chan net.Conn, 16)
	srv := newHTTPServer(c, h)
	srv.ConnState = func(conn net.Conn, st http.ConnState) {
		if st == http.StateClosed {
			closed <- conn
		}
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = srv.Serve(ln)
	}()
	t.Cleanup(func() {
		srv.Close()
		<-done
	})
	return ln.Addr().String(), closed
}

// waitClosed waits until the server closes a connection.
func waitClosed(t *testing.T, closed <-chan net.Conn, what string) {
	t.Helper()
	select {
	case <-closed:
	case <-time.After(patience):
		t.Fatalf("%s: the server still holds the connection", what)
	}
}

// readToEnd reads c until the server closes it, and fails if the test runs
// out of patience first.
func readToEnd(t *testing.T, c net.Conn) {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(patience))
	_, err := io.Copy(io.Discard, c)
	if errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatal("the server did not close the connection")
	}
}

func TestServeHTTPTimeouts(t *testing.T) {
	t.Run("slow body", func(t *testing.T) {
		addr, closed := serveHTTP(t, shortHTTP, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.ReadAll(r.Body)
		}))
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		fmt.Fprintf(c, "POST /webchat/messages HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n")
		stop := make(chan struct{})
		defer close(stop)
		go func() { // one byte now and then, for ever
			tick := time.NewTicker(20 * time.Millisecond)
			defer tick.Stop()
			for {
				select {
				case <-stop:
					return
				case <-tick.C:
					if _, err := c.Write([]byte("{")); err != nil {
						return
					}
				}
			}
		}()
		waitClosed(t, closed, "a body sent slowly")
		readToEnd(t, c)
	})

	t.Run("idle keep-alive", func(t *testing.T) {
		addr, closed := serveHTTP(t, shortHTTP, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprint(w, "ok")
		}))
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		fmt.Fprintf(c, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
		br := bufio.NewReader(c)
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.Close || resp.StatusCode != 200 {
			t.Fatalf("first answer: %d, close %v; want 200 and keep-alive", resp.StatusCode, resp.Close)
		}
		// Then nothing: the server must close the idle connection.
		waitClosed(t, closed, "an idle keep-alive connection")
		readToEnd(t, c)
	})

	t.Run("client that never reads", func(t *testing.T) {
		addr, closed := serveHTTP(t, shortHTTP, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			chunk := make([]byte, 32<<10)
			for range 2048 { // 64 MiB, far more than socket buffers hold
				if _, err := w.Write(chunk); err != nil {
					return
				}
			}
		}))
		d := net.Dialer{Control: func(_, _ string, rc syscall.RawConn) error {
			var serr error
			err := rc.Control(func(fd uintptr) {
				serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096)
			})
			return errors.Join(err, serr)
		}}
		c, err := d.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		fmt.Fprintf(c, "GET /big HTTP/1.1\r\nHost: x\r\n\r\n")
		waitClosed(t, closed, "a client that never reads")
	})

	t.Run("header too large", func(t *testing.T) {
		addr, _ := serveHTTP(t, shortHTTP, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
		req, _ := http.NewRequest("GET", "http://"+addr+"/", nil)
		req.Header.Set("X-Big", strings.Repeat("a", 16<<10))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if got, want := resp.StatusCode, http.StatusRequestHeaderFieldsTooLarge; got != want {
			t.Fatalf("status = %d, want %d", got, want)
		}
	})
}

// TestServeAppliesLimits runs idicbot serve with http: and webchat:
// settings of its own and sees them used.
func TestServeAppliesLimits(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "idicbot.yaml")
	conf := "http:\n  read_timeout: 7s\n  write_timeout: 8s\n  idle_timeout: 9s\n  max_header_bytes: 8192\n" +
		"webchat:\n  messages_per_minute: 1\n  message_burst: 2\n"
	if err := os.WriteFile(path, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	m, base := startServe(t, filepath.Join(dir, "data"), map[string]string{"IDICBOT_CONFIG": path})
	if h := m.HTTP; h.ReadTimeout != 7*time.Second || h.WriteTimeout != 8*time.Second || h.IdleTimeout != 9*time.Second ||
		h.MaxHeaderBytes != 8192 || h.ReadHeaderTimeout != 10*time.Second {
		t.Fatalf("server timeouts: read %s, write %s, idle %s, header %s, %d header bytes",
			h.ReadTimeout, h.WriteTimeout, h.IdleTimeout, h.ReadHeaderTimeout, h.MaxHeaderBytes)
	}
	var codes []int
	for i := range 3 {
		code, _ := postJSON(t, base+"/webchat/messages", fmt.Sprintf(`{"session":"lim","id":"%d","text":"xin chào"}`, i))
		codes = append(codes, code)
	}
	if fmt.Sprint(codes) != "[200 200 429]" {
		t.Fatalf("three posts at once with a burst of 2: %v, want [200 200 429]", codes)
	}
}

func TestConfigLimits(t *testing.T) {
	c, err := LoadConfig("", func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	// The documented defaults are the webchat package's own.
	want := webchat.Limits{
		SessionsPerHour: webchat.DefaultSessionsPerHour, MessagesPerMinute: webchat.DefaultMessagesPerMinute,
		MessageBurst: webchat.DefaultMessageBurst, SessionQuotaBytes: webchat.DefaultSessionQuotaBytes, ReadsPerMinute: webchat.DefaultReadsPerMinute,
		StreamsPerClient: webchat.DefaultStreamsPerClient, StreamLifetime: webchat.DefaultStreamLifetime,
		MaxClients: webchat.DefaultMaxClients, MaxSessions: webchat.DefaultMaxSessions,
	}
	if got := c.Webchat.Limits(c.HTTP.Trusted()); fmt.Sprintf("%+v", got) != fmt.Sprintf("%+v", want) {
		t.Fatalf("default limits %+v\nwant %+v", got, want)
	}
	if h := c.HTTP; h.ReadHeaderTimeout != 10*time.Second || h.ReadTimeout != 30*time.Second || h.WriteTimeout != 30*time.Second ||
		h.IdleTimeout != 2*time.Minute || h.MaxHeaderBytes != 32<<10 {
		t.Fatalf("default http: %+v", h)
	}

	dir := t.TempDir()
	load := func(t *testing.T, yaml string) (*Config, error) {
		t.Helper()
		path := filepath.Join(dir, strings.ReplaceAll(t.Name(), "/", "_")+".yaml")
		if err := os.WriteFile(path, []byte(yaml), 0o644); err != nil {
			t.Fatal(err)
		}
		return LoadConfig(path, func(string) string { return "" })
	}
	t.Run("trusted proxies", func(t *testing.T) {
		c, err := load(t, "http:\n  trusted_proxies: [10.0.0.0/8, 127.0.0.1, \"::1\", 192.168.1.7/24]\n")
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, p := range c.Webchat.Limits(c.HTTP.Trusted()).TrustedProxies {
			got = append(got, p.String())
		}
		if want := "10.0.0.0/8 127.0.0.1/32 ::1/128 192.168.1.0/24"; strings.Join(got, " ") != want {
			t.Fatalf("trusted proxies %v, want %s", got, want)
		}
		if !c.Webchat.Limits(c.HTTP.Trusted()).TrustedProxies[0].Contains(netip.MustParseAddr("10.1.2.3")) {
			t.Fatal("10.1.2.3 not in the trusted range")
		}
	})
	for _, tt := range []struct{ name, yaml, want string }{
		{"bad proxy", "http:\n  trusted_proxies: [proxy.local]\n", `trusted_proxies: "proxy.local" is neither`},
		{"zero burst", "webchat:\n  message_burst: 0\n", "webchat: message_burst must be positive"},
		{"negative quota", "webchat:\n  session_quota_bytes: -1\n", "webchat: session_quota_bytes must be positive"},
		{"zero lifetime", "webchat:\n  stream_lifetime: 0s\n", "webchat: stream_lifetime must be positive"},
		{"zero read timeout", "http:\n  read_timeout: 0s\n", "http: read_timeout must be positive"},
		{"tiny header limit", "http:\n  max_header_bytes: 10\n", "http: max_header_bytes must be at least 1024"},
		{"unknown key", "webchat:\n  sessions_per_hour: 5\n", `line 2: unknown key "sessions_per_hour" in webchat (did you mean "sessions_per_ip_per_hour"?)`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := load(t, tt.yaml); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error = %v, want it to mention %q", err, tt.want)
			}
		})
	}
}

// The outbox owner comes from the file or the environment; with neither it
// is the dispatcher's default.
func TestConfigOutboxOwner(t *testing.T) {
	c, err := LoadConfig("", func(string) string { return "" })
	if err != nil || c.Outbox.Owner != "" {
		t.Fatalf("default owner %q, %v", c.Outbox.Owner, err)
	}
	c, err = LoadConfig("", func(k string) string {
		if k == "IDICBOT_OUTBOX_OWNER" {
			return "replica-b"
		}
		return ""
	})
	if err != nil || c.Outbox.Owner != "replica-b" {
		t.Fatalf("owner from the environment %q, %v", c.Outbox.Owner, err)
	}
}

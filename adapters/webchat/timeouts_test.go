package webchat_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/idicbot/idicbot/adapters/webchat"
	"github.com/idicbot/idicbot/crm"
)

// serverTimeout is the read and write timeout of the HTTP server in these
// tests: far shorter than a long poll or an event stream.
const serverTimeout = 300 * time.Millisecond

// mustServeTimeouts is mustServe on an HTTP server with short read and write
// timeouts, as cmd/idicbot configures them.
func mustServeTimeouts(tb testing.TB, core webchat.Core, opts webchat.Options) (*webchat.Server, *httptest.Server) {
	tb.Helper()
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	srv := webchat.New(core, opts)
	mux := http.NewServeMux()
	srv.Routes(mux)
	ts := httptest.NewUnstartedServer(mux)
	ts.Config.ReadTimeout = serverTimeout
	ts.Config.WriteTimeout = serverTimeout
	ts.Start()
	tb.Cleanup(func() {
		_ = srv.Close()
		ts.Close()
	})
	return srv, ts
}

// TestLongPollOutlivesServerTimeouts: a long poll waits past the server's
// read and write timeouts and still answers with what arrives.
func TestLongPollOutlivesServerTimeouts(t *testing.T) {
	core := newFakeCore()
	_, ts := mustServeTimeouts(t, core, webchat.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	read := waitReads(core, 1)
	type result struct {
		status int
		conv   messages
		err    error
	}
	done := make(chan result, 1)
	go func() {
		status, conv, err := fetch(ctx, ts, "session=slow&wait=25")
		done <- result{status, conv, err}
	}()
	<-read
	time.Sleep(3 * serverTimeout) // past both timeouts
	post(t, ts, `{"session":"slow","id":"1","text":"alo"}`)
	select {
	case r := <-done:
		if r.err != nil || r.status != 200 || len(r.conv.Messages) == 0 || r.conv.Messages[0].Text != "alo" {
			t.Fatalf("long poll = %d %+v %v, want the message that came after the server timeouts", r.status, r.conv, r.err)
		}
	case <-ctx.Done():
		t.Fatal("long poll did not answer")
	}
}

// TestStreamOutlivesServerTimeouts: an event stream keeps working past the
// server's read and write timeouts.
func TestStreamOutlivesServerTimeouts(t *testing.T) {
	core := newFakeCore()
	srv, ts := mustServeTimeouts(t, core, webchat.Options{Heartbeat: 50 * time.Millisecond, WriteTimeout: serverTimeout,
		Limits: webchat.Limits{StreamLifetime: 3 * time.Second}})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	st := openStream(t, ctx, ts, "session=live", "")
	// Heartbeats for well past both timeouts.
	for range 4 * int(serverTimeout/(50*time.Millisecond)) {
		select {
		case <-st.comments:
		case <-ctx.Done():
			t.Fatal("heartbeats stopped")
		}
	}
	id := core.reply("live", "Vẫn ở đây.")
	if err := srv.Send(ctx, &crm.OutboxItem{Channel: crm.ChannelWeb, ChatID: "live"}); err != nil {
		t.Fatal(err)
	}
	if _, m := st.next(t); m.ID != id {
		t.Fatalf("event = %+v, want %d", m, id)
	}
	// Then the stream ends at its own lifetime.
	for range st.events {
	}
	if ctx.Err() != nil {
		t.Fatal("the stream outlived its lifetime")
	}
}

// TestStreamDropsClientThatStopsReading: the stream lifts the server's
// write timeout, but each of its writes still has one, so a client that
// stops reading loses its connection long before the stream's lifetime.
func TestStreamDropsClientThatStopsReading(t *testing.T) {
	core := newFakeCore()
	core.noReply = true
	// A backlog far larger than socket buffers: 400 messages of 4000 '<',
	// each 24 KB as JSON (\u003c).
	for range 400 {
		core.reply("hoard", strings.Repeat("<", webchat.MaxTextLength))
	}
	srv := webchat.New(core, webchat.Options{WriteTimeout: serverTimeout,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Limits: webchat.Limits{StreamLifetime: time.Hour}})
	mux := http.NewServeMux()
	srv.Routes(mux)
	ts := httptest.NewUnstartedServer(mux)
	ts.Config.WriteTimeout = serverTimeout
	closed := make(chan struct{}, 1)
	ts.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateClosed {
			select {
			case closed <- struct{}{}:
			default:
			}
		}
	}
	ts.Start()
	t.Cleanup(func() {
		_ = srv.Close()
		ts.Close()
	})

	d := net.Dialer{Control: func(_, _ string, rc syscall.RawConn) error {
		var serr error
		err := rc.Control(func(fd uintptr) {
			serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096)
		})
		return errors.Join(err, serr)
	}}
	c, err := d.Dial("tcp", ts.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	fmt.Fprintf(c, "GET /webchat/messages?session=hoard HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n\r\n")
	select { // and never read
	case <-closed:
	case <-time.After(30 * time.Second):
		t.Fatal("the server still holds the stream of a client that does not read")
	}
}

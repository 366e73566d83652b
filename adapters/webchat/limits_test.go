package webchat_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/idicbot/idicbot/adapters/webchat"
	"github.com/idicbot/idicbot/bot"
	"github.com/idicbot/idicbot/bot/bottest"
)

// newClock is a settable time for the limits, which count on the server's Now.
func newClock() *bottest.Clock { return bottest.NewClock(time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)) }

// mustBoltCore is the real conversation core on a bbolt file in dir, with
// the shipped segments, catalog and offers, and no dispatcher.
func mustBoltCore(tb testing.TB, dir string, now func() time.Time) *bot.Core {
	tb.Helper()
	return bottest.NewCore(tb, bottest.InDir(dir), bottest.WithNow(now), bottest.NoDispatcher()).Core
}

// clientFrom returns an HTTP client whose connections come from the
// loopback address ip (any of 127.0.0.0/8 on Linux), so one test can play
// several clients.
func clientFrom(ip string) *http.Client {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}}
	return &http.Client{Transport: &http.Transport{DialContext: d.DialContext}}
}

// refusal is an answer as a client sees it: the status, the Retry-After
// header and the error body.
type refusal struct {
	Status     int
	RetryAfter string
	Code, Msg  string
}

func postAs(tb testing.TB, c *http.Client, ts *httptest.Server, body string, header ...string) refusal {
	tb.Helper()
	req, err := http.NewRequest("POST", ts.URL+"/webchat/messages", strings.NewReader(body))
	if err != nil {
		tb.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := c.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	var v struct {
		Error struct{ Code, Message string } `json:"error"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&v); err != nil {
		tb.Fatalf("decode response (status %d): %v", resp.StatusCode, err)
	}
	return refusal{resp.StatusCode, resp.Header.Get("Retry-After"), v.Error.Code, v.Error.Message}
}

// checkTooMany fails unless r is a 429 with a positive Retry-After and a
// JSON reason of the given code.
func checkTooMany(tb testing.TB, r refusal, code string) {
	tb.Helper()
	secs, err := strconv.Atoi(r.RetryAfter)
	if r.Status != http.StatusTooManyRequests || err != nil || secs < 1 || r.Code != code || r.Msg == "" {
		tb.Fatalf("answer = %+v, want 429 with Retry-After seconds and error code %q", r, code)
	}
}

func TestNewSessionsPerClient(t *testing.T) {
	for _, tt := range []struct {
		name   string
		header func(i int) []string
	}{
		{"plain", func(int) []string { return nil }},
		// Headers from a client that is not a trusted proxy are its own words.
		{"spoofed X-Forwarded-For", func(i int) []string { return []string{"X-Forwarded-For", fmt.Sprintf("203.0.113.%d", i)} }},
		{"spoofed X-Real-IP", func(i int) []string { return []string{"X-Real-IP", fmt.Sprintf("198.51.100.%d", i)} }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			core := newFakeCore()
			clk := newClock()
			_, ts := mustServe(t, core, webchat.Options{Now: clk.Now})
			attacker := clientFrom("127.0.0.1")
			var accepted int
			var last refusal
			for i := range 100 {
				r := postAs(t, attacker, ts, fmt.Sprintf(`{"session":"flood-%d","id":"1","text":"hi"}`, i), tt.header(i)...)
				if r.Status == 200 {
					accepted++
				} else {
					last = r
				}
			}
			if got, want := accepted, 20; got != want {
				t.Fatalf("one client opened %d sessions at once, want %d (the default per hour)", got, want)
			}
			checkTooMany(t, last, "rate_limited")
			if got, want := len(core.inbound()), 20; got != want {
				t.Fatalf("core got %d events, want %d: refused posts must not reach it", got, want)
			}
			// A session already open keeps talking.
			if r := postAs(t, attacker, ts, `{"session":"flood-0","id":"2","text":"còn đó không"}`); r.Status != 200 {
				t.Fatalf("known session refused: %+v", r)
			}
			// Another client is not affected.
			if r := postAs(t, clientFrom("127.0.0.2"), ts, `{"session":"neighbour","id":"1","text":"hi"}`); r.Status != 200 {
				t.Fatalf("second client refused: %+v", r)
			}
			// The limit refills with time: an hour on, the client may start new sessions again.
			clk.Add(time.Hour)
			if r := postAs(t, attacker, ts, `{"session":"later","id":"1","text":"hi"}`); r.Status != 200 {
				t.Fatalf("an hour later: %+v", r)
			}
		})
	}
}

func TestMessagesPerSession(t *testing.T) {
	core := newFakeCore()
	core.noReply = true
	clk := newClock()
	_, ts := mustServe(t, core, webchat.Options{Now: clk.Now})
	c := ts.Client()
	var accepted int
	var last refusal
	for i := range 100 {
		r := postAs(t, c, ts, fmt.Sprintf(`{"session":"chatty","id":"%d","text":"tin %d"}`, i, i))
		if r.Status == 200 {
			accepted++
		} else {
			last = r
		}
	}
	if got, want := accepted, 5; got != want {
		t.Fatalf("one session sent %d messages at once, want %d (the default burst)", got, want)
	}
	checkTooMany(t, last, "rate_limited")
	if n := len(core.inbound()); n != accepted {
		t.Fatalf("core got %d events, want %d", n, accepted)
	}
	// Other sessions of the same client are counted on their own.
	if r := postAs(t, c, ts, `{"session":"quiet","id":"1","text":"hi"}`); r.Status != 200 {
		t.Fatalf("another session refused: %+v", r)
	}
	// The pace: 20 a minute is one every 3 seconds.
	clk.Add(3 * time.Second)
	if r := postAs(t, c, ts, `{"session":"chatty","id":"x","text":"lại đây"}`); r.Status != 200 {
		t.Fatalf("3s later: %+v", r)
	}
	if r := postAs(t, c, ts, `{"session":"chatty","id":"y","text":"nữa"}`); r.Status != 429 {
		t.Fatalf("right after: %+v, want 429", r)
	}
}

// TestSessionQuota fills one session's quota through the real core and
// store, then restarts the web chat: the tally is read back from the store,
// so the session stays full.
func TestSessionQuota(t *testing.T) {
	clk := newClock()
	dir := t.TempDir()
	core := mustBoltCore(t, dir, clk.Now)
	_, ts := mustServe(t, core, webchat.Options{Now: clk.Now})
	c := ts.Client()
	text := strings.Repeat("a", webchat.MaxTextLength)
	var accepted int
	var last refusal
	for i := range 200 {
		clk.Add(time.Minute) // well within the message pace
		last = postAs(t, c, ts, fmt.Sprintf(`{"session":"big","id":"%d","text":%q}`, i, text))
		if last.Status != 200 {
			break
		}
		accepted++
	}
	checkTooMany(t, last, "quota_exceeded")
	if stored := accepted * len(text); stored > 200<<10 || accepted < 10 {
		t.Fatalf("session stored %d messages (%d bytes of text) before the quota, want some and at most 200 KiB", accepted, stored)
	}
	// The conversation can still be read.
	if status, conv := get(t, context.Background(), ts, "session=big"); status != 200 || len(conv.Messages) == 0 {
		t.Fatalf("read after quota: %d, %d messages", status, len(conv.Messages))
	}
	// A new web chat over the same store (a restart) knows the session is full.
	_, ts2 := mustServe(t, core, webchat.Options{Now: clk.Now})
	clk.Add(time.Hour)
	checkTooMany(t, postAs(t, ts2.Client(), ts2, fmt.Sprintf(`{"session":"big","id":"again","text":%q}`, text)), "quota_exceeded")
	// Other sessions are not affected.
	if r := postAs(t, ts2.Client(), ts2, `{"session":"small","id":"1","text":"hi"}`); r.Status != 200 {
		t.Fatalf("another session: %+v", r)
	}
}

// streamAs opens an event stream as client c and returns the status. A
// stream that opened stays open until the test ends.
func streamAs(tb testing.TB, ctx context.Context, c *http.Client, ts *httptest.Server, session string) refusal {
	tb.Helper()
	req, err := http.NewRequestWithContext(ctx, "GET", ts.URL+"/webchat/messages?session="+session, nil)
	if err != nil {
		tb.Fatal(err)
	}
	req.Header.Set("Accept", "text/event-stream")
	resp, err := c.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { resp.Body.Close() })
	r := refusal{Status: resp.StatusCode, RetryAfter: resp.Header.Get("Retry-After")}
	if resp.StatusCode != 200 {
		var v struct {
			Error struct{ Code, Message string } `json:"error"`
		}
		_ = json.NewDecoder(resp.Body).Decode(&v)
		r.Code, r.Msg = v.Error.Code, v.Error.Message
	}
	return r
}

func TestStreamsPerClient(t *testing.T) {
	const maxWaiters = 10
	core := newFakeCore()
	_, ts := mustServe(t, core, webchat.Options{MaxWaiters: maxWaiters})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	// One client tries to take every slot.
	hog := clientFrom("127.0.0.1")
	var open int
	var last refusal
	for i := range maxWaiters {
		r := streamAs(t, ctx, hog, ts, fmt.Sprintf("hog-%d", i))
		if r.Status == 200 {
			open++
		} else {
			last = r
		}
	}
	if got, want := open, 8; got != want {
		t.Fatalf("one client holds %d streams, want %d (the default per client)", got, want)
	}
	checkTooMany(t, last, "rate_limited")
	// Its long polls are refused too, not answered at once (which would
	// make its page spin).
	req, _ := http.NewRequestWithContext(ctx, "GET", ts.URL+"/webchat/messages?session=hog-0&wait=25", nil)
	resp, err := hog.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 429 || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("long poll over the client's share: %d, want 429 with Retry-After", resp.StatusCode)
	}
	// A plain read still answers.
	if status, _ := get(t, ctx, ts, "session=hog-0"); status != 200 {
		t.Fatalf("plain read: %d", status)
	}

	// Another visitor still gets a stream, and it works.
	visitor := clientFrom("127.0.0.2")
	if r := streamAs(t, ctx, visitor, ts, "visitor"); r.Status != 200 {
		t.Fatalf("second client's stream: %+v, want 200", r)
	}
}

func TestTrustedProxies(t *testing.T) {
	proxy := netip.MustParsePrefix("127.0.0.1/32")
	for _, tt := range []struct {
		name   string
		from   string // the connection's address
		header func(i int) []string
		want   int // sessions accepted out of 30
	}{
		{"each forwarded client counts alone", "127.0.0.1",
			func(i int) []string { return []string{"X-Forwarded-For", fmt.Sprintf("203.0.113.%d", i)} }, 30},
		{"X-Real-IP from the proxy", "127.0.0.1",
			func(i int) []string { return []string{"X-Real-IP", fmt.Sprintf("203.0.113.%d", i)} }, 30},
		// The proxy appends the address it saw; what the client wrote
		// before it is ignored.
		{"spoofed left of the proxy's hop", "127.0.0.1",
			func(i int) []string { return []string{"X-Forwarded-For", fmt.Sprintf("10.9.8.%d, 198.51.100.7", i)} }, 20},
		{"chain of trusted proxies", "127.0.0.1",
			func(i int) []string {
				return []string{"X-Forwarded-For", fmt.Sprintf("10.9.8.%d, 198.51.100.7, 127.0.0.1", i)}
			}, 20},
		{"garbage hop", "127.0.0.1",
			func(i int) []string { return []string{"X-Forwarded-For", fmt.Sprintf("203.0.113.%d, not-an-ip", i)} }, 20},
		{"not from the proxy", "127.0.0.2",
			func(i int) []string { return []string{"X-Forwarded-For", fmt.Sprintf("203.0.113.%d", i)} }, 20},
	} {
		t.Run(tt.name, func(t *testing.T) {
			clk := newClock()
			_, ts := mustServe(t, newFakeCore(), webchat.Options{Now: clk.Now,
				Limits: webchat.Limits{TrustedProxies: []netip.Prefix{proxy}}})
			c := clientFrom(tt.from)
			var accepted int
			for i := range 30 {
				if r := postAs(t, c, ts, fmt.Sprintf(`{"session":"p-%d","id":"1","text":"hi"}`, i), tt.header(i)...); r.Status == 200 {
					accepted++
				}
			}
			if accepted != tt.want {
				t.Fatalf("%d of 30 sessions accepted, want %d", accepted, tt.want)
			}
		})
	}
}

// TestForgottenSessionKeepsItsQuota: the tracked sessions are bounded; a
// session forgotten to make room is counted again from the store.
func TestForgottenSessionKeepsItsQuota(t *testing.T) {
	clk := newClock()
	core := newFakeCore()
	core.noReply = true
	quota := int64(3 * (100 + webchat.StoredOverhead))
	_, ts := mustServe(t, core, webchat.Options{Now: clk.Now,
		Limits: webchat.Limits{SessionQuotaBytes: quota, MaxSessions: 2, SessionsPerHour: 100}})
	c := ts.Client()
	text := strings.Repeat("x", 100)
	for i := range 3 {
		if r := postAs(t, c, ts, fmt.Sprintf(`{"session":"full","id":"%d","text":%q}`, i, text)); r.Status != 200 {
			t.Fatalf("post %d: %+v", i, r)
		}
	}
	checkTooMany(t, postAs(t, c, ts, `{"session":"full","id":"x","text":"a"}`), "quota_exceeded")
	for i := range 5 { // push "full" out of the tracked sessions
		if r := postAs(t, c, ts, fmt.Sprintf(`{"session":"other-%d","id":"1","text":"hi"}`, i)); r.Status != 200 {
			t.Fatalf("other session %d: %+v", i, r)
		}
	}
	checkTooMany(t, postAs(t, c, ts, `{"session":"full","id":"y","text":"a"}`), "quota_exceeded")
}

// TestStreamLifetime: an event stream ends after its lifetime, and the
// client's reconnect with Last-Event-ID misses nothing.
func TestStreamLifetime(t *testing.T) {
	core := newFakeCore()
	_, ts := mustServe(t, core, webchat.Options{Heartbeat: 20 * time.Millisecond,
		Limits: webchat.Limits{StreamLifetime: 500 * time.Millisecond}})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	post(t, ts, `{"session":"life","id":"1","text":"một"}`)
	st := openStream(t, ctx, ts, "session=life", "")
	_, m1 := st.next(t)
	_, m2 := st.next(t)
	// The stream ends by itself.
	for range st.events {
	}
	if ctx.Err() != nil {
		t.Fatal("the stream did not end")
	}
	post(t, ts, `{"session":"life","id":"2","text":"hai"}`)
	again := openStream(t, ctx, ts, "session=life", strconv.FormatUint(uint64(m2.ID), 10))
	if _, m := again.next(t); m.Text != "hai" || m.ID <= m2.ID || m1.ID >= m2.ID {
		t.Fatalf("after reconnecting: %+v, want the next message", m)
	}
}

// TestReadsPerClient: plain reads of a conversation (each loads it from the
// store) are paced per client; another client still reads.
func TestReadsPerClient(t *testing.T) {
	core := newFakeCore()
	clk := newClock()
	_, ts := mustServe(t, core, webchat.Options{Now: clk.Now, Limits: webchat.Limits{ReadsPerMinute: 60}})
	get := func(remote string) refusal {
		t.Helper()
		req := httptest.NewRequest("GET", "/webchat/messages?session=reader&after=0", nil)
		req.RemoteAddr = remote + ":5000"
		w := httptest.NewRecorder()
		ts.Config.Handler.ServeHTTP(w, req)
		var body struct {
			Error struct{ Code, Message string } `json:"error"`
		}
		_ = json.Unmarshal(w.Body.Bytes(), &body)
		return refusal{Status: w.Code, RetryAfter: w.Header().Get("Retry-After"), Code: body.Error.Code, Msg: body.Error.Message}
	}
	ok := 0
	var last refusal
	for range 50 {
		if r := get("192.0.2.10"); r.Status == 200 {
			ok++
		} else {
			last = r
		}
	}
	if ok != 6 { // a burst of a tenth of 60
		t.Fatalf("%d reads at once, want 6", ok)
	}
	checkTooMany(t, last, "rate_limited")
	if r := get("192.0.2.11"); r.Status != 200 {
		t.Fatalf("another client: %+v", r)
	}
	clk.Add(time.Second)
	if r := get("192.0.2.10"); r.Status != 200 {
		t.Fatalf("a second later: %+v", r)
	}
}

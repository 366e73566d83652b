package admin_test

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/idicbot/idicbot/adapters/admin"
)

// serveFrom serves one request as if it came from the client at ip.
func (e *env) serveFrom(ip string, r *http.Request) *httptest.ResponseRecorder {
	e.t.Helper()
	r.RemoteAddr = ip + ":40000"
	w := httptest.NewRecorder()
	e.srv.Config.Handler.ServeHTTP(w, r)
	return w
}

// loginFrom posts the login form with tok from ip.
func (e *env) loginFrom(ip, tok string) *httptest.ResponseRecorder {
	r := httptest.NewRequest("POST", "/admin/login", strings.NewReader(url.Values{"token": {tok}, "name": {"Lan"}}.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return e.serveFrom(ip, r)
}

// apiFrom calls GET /api/admin/offers with a bearer token from ip.
func (e *env) apiFrom(ip, tok string) *httptest.ResponseRecorder {
	r := httptest.NewRequest("GET", "/api/admin/offers", nil)
	r.Header.Set("Authorization", "Bearer "+tok)
	return e.serveFrom(ip, r)
}

// braked checks that w is a 429 with a Retry-After of whole seconds.
func braked(t *testing.T, what string, w *httptest.ResponseRecorder) {
	t.Helper()
	if w.Code != http.StatusTooManyRequests {
		t.Fatalf("%s: %d, want 429\n%s", what, w.Code, w.Body)
	}
	if s, err := strconv.Atoi(w.Header().Get("Retry-After")); err != nil || s < 1 {
		t.Fatalf("%s: Retry-After %q", what, w.Header().Get("Retry-After"))
	}
}

const (
	attacker = "203.0.113.7"
	owner    = "198.51.100.20"
)

// An attacker guessing the token, on the login form or the API, brakes
// only their own address: the owner logs in and calls the API as usual.
func TestBrakePerAddress(t *testing.T) {
	tests := []struct {
		name  string
		guess func(e *env, ip, tok string) *httptest.ResponseRecorder
		wrong int // the status of a wrong guess before the brake
	}{
		{"login form", (*env).loginFrom, http.StatusUnauthorized},
		{"bearer API", (*env).apiFrom, http.StatusUnauthorized},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			if w := tt.guess(e, attacker, "guess-0"); w.Code != tt.wrong {
				t.Fatalf("first wrong guess: %d, want %d", w.Code, tt.wrong)
			}
			var last *httptest.ResponseRecorder
			for i := 1; i < 1000; i++ {
				last = tt.guess(e, attacker, "guess-"+strconv.Itoa(i))
			}
			// The owner, from another address, logs in and calls the API.
			if w := e.loginFrom(owner, token); w.Code != http.StatusSeeOther || !strings.Contains(w.Header().Get("Set-Cookie"), "idicbot_admin=") {
				t.Fatalf("the owner's login: %d %q\n%s", w.Code, w.Header().Get("Set-Cookie"), w.Body)
			}
			if w := e.apiFrom(owner, token); w.Code != http.StatusOK {
				t.Fatalf("the owner's API call: %d\n%s", w.Code, w.Body)
			}
			// The attacker is braked everywhere, even with the right token.
			braked(t, "the attacker's 1000th guess", last)
			braked(t, "the attacker's API call with the token", e.apiFrom(attacker, token))
			braked(t, "the attacker's login with the token", e.loginFrom(attacker, token))
			// An IPv6 client is braked by its /64, not by each address in it.
			for i := range 1000 {
				tt.guess(e, "[2001:db8:1:2::"+strconv.FormatInt(int64(i+1), 16)+"]", "guess")
			}
			braked(t, "another address of the braked /64", e.apiFrom("[2001:db8:1:2:ffff::1]", token))
			if w := e.apiFrom("[2001:db8:1:3::1]", token); w.Code != http.StatusOK {
				t.Fatalf("the next /64: %d", w.Code)
			}
		})
	}
}

// The brake remembers a bounded number of addresses: an attacker with many
// addresses fills it, and still cannot lock the owner out.
func TestBrakeManyAddresses(t *testing.T) {
	e := newEnv(t)
	for i := range 20_000 {
		ip := "10." + strconv.Itoa(i>>16&255) + "." + strconv.Itoa(i>>8&255) + "." + strconv.Itoa(i&255)
		if w := e.apiFrom(ip, "guess"); w.Code != http.StatusUnauthorized {
			t.Fatalf("%s: %d", ip, w.Code)
		}
	}
	if w := e.apiFrom(owner, token); w.Code != http.StatusOK {
		t.Fatalf("the owner's API call: %d", w.Code)
	}
}

// RequireToken (what guards /metrics on the main address) takes the admin
// token as a bearer token behind the same brake as the API.
func TestRequireToken(t *testing.T) {
	srv := admin.New(nil, admin.Options{Token: token, Logger: slog.New(slog.DiscardHandler)})
	h := srv.RequireToken(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "metrics") }))
	get := func(ip, auth string) *httptest.ResponseRecorder {
		r := httptest.NewRequest("GET", "/metrics", nil)
		r.RemoteAddr = ip + ":40000"
		if auth != "" {
			r.Header.Set("Authorization", auth)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w
	}
	if w := get(owner, ""); w.Code != http.StatusUnauthorized || w.Header().Get("WWW-Authenticate") == "" {
		t.Fatalf("no token: %d %q", w.Code, w.Header())
	}
	if w := get(owner, "Bearer "+token); w.Code != http.StatusOK || w.Body.String() != "metrics" {
		t.Fatalf("the token: %d %q", w.Code, w.Body)
	}
	for i := range 50 {
		if w := get(attacker, "Bearer guess"); w.Code == http.StatusOK {
			t.Fatalf("guess %d: %d", i, w.Code)
		}
	}
	braked(t, "the attacker with the token", get(attacker, "Bearer "+token))
	if w := get(owner, "Bearer "+token); w.Code != http.StatusOK {
		t.Fatalf("the owner after the attack: %d", w.Code)
	}
}

// Behind a trusted reverse proxy each client has its own brake: an attacker
// guessing through the proxy does not lock out the owner coming through it
// too; a client that writes X-Forwarded-For itself, not through a trusted
// proxy, gains nothing.
func TestBrakeBehindTrustedProxy(t *testing.T) {
	e := newEnv(t)
	mux := http.NewServeMux()
	admin.New(e.core, admin.Options{Token: token, Logger: slog.New(slog.DiscardHandler),
		TrustedProxies: []netip.Prefix{netip.MustParsePrefix("10.0.0.1/32")}}).Routes(mux)
	call := func(remote, forwarded, tok string) int {
		r := httptest.NewRequest("GET", "/api/admin/offers", nil)
		r.Header.Set("Authorization", "Bearer "+tok)
		r.RemoteAddr = remote + ":40000"
		if forwarded != "" {
			r.Header.Set("X-Forwarded-For", forwarded)
		}
		w := httptest.NewRecorder()
		mux.ServeHTTP(w, r)
		return w.Code
	}
	for i := range 50 {
		call("10.0.0.1", "203.0.113.9", "guess-"+strconv.Itoa(i))
	}
	if got := call("10.0.0.1", "203.0.113.9", token); got != http.StatusTooManyRequests {
		t.Fatalf("the attacker through the proxy: %d, want 429", got)
	}
	if got := call("10.0.0.1", "198.51.100.7", token); got != http.StatusOK {
		t.Fatalf("the owner through the proxy: %d, want 200", got)
	}
	// Not through the proxy: the header is the client's own words.
	for i := range 50 {
		call("192.0.2.5", "198.51.100."+strconv.Itoa(i), "guess")
	}
	if got := call("192.0.2.5", "198.51.100.99", token); got != http.StatusTooManyRequests {
		t.Fatalf("a client naming itself in X-Forwarded-For escaped the brake: %d", got)
	}
}

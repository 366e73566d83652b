package main

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestAccessLogRequestID: each request gets an id, returned in
// X-Request-Id and carried by every line logged with its context, the
// access line included; a proxy's id is kept, a forged one replaced.
func TestAccessLogRequestID(t *testing.T) {
	var mu sync.Mutex // buf is written by the server's goroutines
	var buf bytes.Buffer
	log := newLogger(&lockedWriter{mu: &mu, w: &buf}, "info", "json")
	h := accessLog(log, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		log.InfoContext(r.Context(), "handling", "phone", "0912 345 678")
		if r.URL.Path == "/fail" {
			http.Error(w, "no", http.StatusBadGateway)
			return
		}
		_, _ = w.Write([]byte("hello"))
	}))
	srv := httptest.NewServer(h)
	defer srv.Close()
	get := func(path, id string) string {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, srv.URL+path, nil)
		if id != "" {
			req.Header.Set("X-Request-Id", id)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.Header.Get("X-Request-Id")
	}
	lines := func() []map[string]any {
		mu.Lock()
		defer mu.Unlock()
		var out []map[string]any
		for _, l := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
			var m map[string]any
			if err := json.Unmarshal([]byte(l), &m); err != nil {
				t.Fatalf("%q: %v", l, err)
			}
			out = append(out, m)
		}
		buf.Reset()
		return out
	}

	id := get("/hello?phone=0912345678", "")
	if len(id) != 16 {
		t.Fatalf("X-Request-Id = %q", id)
	}
	ls := lines()
	if len(ls) != 2 {
		t.Fatalf("%d lines: %v", len(ls), ls)
	}
	for _, l := range ls {
		if l["request_id"] != id {
			t.Errorf("line without the request id %s: %v", id, l)
		}
	}
	acc := ls[1]
	if acc["msg"] != "http request" || acc["path"] != "/hello" || acc["status"] != float64(200) || acc["bytes"] != float64(5) || acc["method"] != "GET" {
		t.Errorf("access line %v", acc)
	}
	if s, ok := acc["seconds"].(float64); !ok || s < 0 || s > 60 {
		t.Errorf("seconds = %v, want seconds as a number", acc["seconds"])
	}
	if strings.Contains(ls[0]["phone"].(string), "345 678") {
		t.Errorf("phone not masked: %v", ls[0])
	}

	if got := get("/fail", "caddy-7f3a9c"); got != "caddy-7f3a9c" {
		t.Errorf("the proxy's id became %q", got)
	}
	ls = lines()
	if ls[1]["request_id"] != "caddy-7f3a9c" || ls[1]["level"] != "WARN" || ls[1]["status"] != float64(502) {
		t.Errorf("access line %v", ls[1])
	}

	if got := get("/hello", "x\" forged=1"); got == "x\" forged=1" || len(got) != 16 {
		t.Errorf("a forged id was kept: %q", got)
	}
	lines()
	// Another request, another id.
	if a, b := get("/hello", ""), get("/hello", ""); a == b {
		t.Errorf("two requests share the id %s", a)
	}
}

// TestLogDurationsInSeconds: a duration attribute is written as seconds.
func TestLogDurationsInSeconds(t *testing.T) {
	var buf2 bytes.Buffer
	newLogger(&buf2, "info", "json").Info("flushed", "took", durationOf(1500))
	if !strings.Contains(buf2.String(), `"took":1.5`) {
		t.Fatalf("%s", buf2.String())
	}
}

func durationOf(ms int) any { return time.Duration(ms) * time.Millisecond }

type lockedWriter struct {
	mu *sync.Mutex
	w  *bytes.Buffer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

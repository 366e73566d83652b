package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/idicbot/idicbot/crm"
)

type requestIDKey struct{}

// requestIDFrom returns the request id accessLog put in ctx, or "".
func requestIDFrom(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}

// withRequestID returns ctx carrying id.
func withRequestID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, requestIDKey{}, id)
}

// requestID is the X-Request-Id a proxy sent, when it looks like one, or
// a new random one.
func requestID(r *http.Request) string {
	if id := r.Header.Get("X-Request-Id"); validRequestID(id) {
		return id
	}
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// validRequestID accepts what proxies send (UUIDs, hex, Caddy's and nginx's
// ids) and nothing that could forge a log line.
func validRequestID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for _, c := range id {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}

// quietPaths are polled by machines; their lines are at debug level.
var quietPaths = map[string]bool{"/healthz": true, "/readyz": true, "/metrics": true}

// accessLog gives each request an id (returned in X-Request-Id and in the
// context, so every line logged with it carries it) and logs one line when
// it ends: method, path (the query is left out: it may hold tokens),
// status, bytes, seconds and the client address.
func accessLog(log *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := requestID(r)
		w.Header().Set("X-Request-Id", id)
		ctx := withRequestID(r.Context(), id)
		rec := &statusRecorder{ResponseWriter: w}
		start := time.Now() // a duration, not the shop's clock (m.Now)
		next.ServeHTTP(rec, r.WithContext(ctx))
		if rec.status == 0 {
			rec.status = http.StatusOK
		}
		level := slog.LevelInfo
		switch {
		case rec.status >= 500:
			level = slog.LevelWarn
		case quietPaths[r.URL.Path]:
			level = slog.LevelDebug
		}
		log.LogAttrs(ctx, level, "http request",
			slog.String("method", r.Method), slog.String("path", crm.MaskText(strings.ToValidUTF8(r.URL.Path, "?"))),
			slog.Int("status", rec.status), slog.Int64("bytes", rec.bytes),
			slog.Float64("seconds", seconds(time.Since(start))), slog.String("remote", r.RemoteAddr))
	})
}

// statusRecorder remembers the status and counts the body. Unwrap lets
// http.ResponseController reach the connection (the web chat's streams
// flush and lift their write deadline through it).
type statusRecorder struct {
	http.ResponseWriter
	status int
	bytes  int64
}

func (s *statusRecorder) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	n, err := s.ResponseWriter.Write(b)
	s.bytes += int64(n)
	return n, err
}

// Flush keeps streaming responses streaming for code that asserts
// http.Flusher.
func (s *statusRecorder) Flush() {
	_ = http.NewResponseController(s.ResponseWriter).Flush()
}

func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }

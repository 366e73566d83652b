package admin

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"time"
)

// SessionStore keeps the page's logins where every process serving the
// admin finds them (several idicbot replicas on one database behind a load
// balancer: bot/pgreplicas.Sessions). Keys are a hash of the cookie, never
// the cookie itself; values are opaque to the store. Without one, logins
// live in this process's memory.
type SessionStore interface {
	// PutSession stores value under key until expires (and may drop
	// sessions expired by then).
	PutSession(ctx context.Context, key string, value []byte, expires time.Time) error
	// Session returns the value stored under key, nil when none or expired.
	Session(ctx context.Context, key string) ([]byte, error)
	DeleteSession(ctx context.Context, key string) error
}

// storedSession is a session as a SessionStore keeps it.
type storedSession struct {
	CSRF    string    `json:"csrf"`
	Who     string    `json:"who"`
	Created time.Time `json:"created"`
	Expires time.Time `json:"expires"`
}

// sessionKey is what a SessionStore keys a cookie's session by: a leak of
// the store gives no cookie that logs in.
func sessionKey(cookie string) string {
	sum := sha256.Sum256([]byte(cookie))
	return hex.EncodeToString(sum[:])
}

// sharedSession reads the session of cookie from the shared store, nil
// when none (or the store fails: the user logs in again).
func (s *Server) sharedSession(ctx context.Context, cookie string) *session {
	v, err := s.opts.Sessions.Session(ctx, sessionKey(cookie))
	if err != nil {
		s.log.Error("admin session not read", "err", err)
		return nil
	}
	if v == nil {
		return nil
	}
	var st storedSession
	if err := json.Unmarshal(v, &st); err != nil {
		s.log.Error("admin session not read", "err", err)
		return nil
	}
	if s.now().After(st.Expires) {
		return nil
	}
	return &session{csrf: st.CSRF, who: st.Who, created: st.Created, expires: st.Expires}
}

// shareSession stores a new session in the shared store.
func (s *Server) shareSession(ctx context.Context, cookie string, sess *session) error {
	v, err := json.Marshal(storedSession{CSRF: sess.csrf, Who: sess.who, Created: sess.created, Expires: sess.expires})
	if err != nil {
		return err
	}
	return s.opts.Sessions.PutSession(ctx, sessionKey(cookie), v, sess.expires)
}

package zalo

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/idicbot/idicbot/crm"
)

// Tokens is the OA's OAuth state. The refresh token is single-use: each
// refresh returns a new one and kills the old one, so it is saved before
// the new access token is used. Seed fingerprints the environment tokens
// these descend from, so a new ZALO_REFRESH_TOKEN (after re-authorising the
// OA) replaces stored ones.
type Tokens = crm.ChannelToken

// TokenStore keeps Tokens durably across restarts.
type TokenStore interface {
	Load(ctx context.Context) (Tokens, error)
	Save(ctx context.Context, t Tokens) error
}

// DefaultTokenName is the name StoreTokens keeps the tokens under.
const DefaultTokenName = "zalo"

// StoreTokens is a TokenStore in the CRM store's channel tokens.
type StoreTokens struct {
	Store crm.Store
	Name  string // DefaultTokenName when empty
}

var _ TokenStore = StoreTokens{}

func (s StoreTokens) name() string {
	if s.Name == "" {
		return DefaultTokenName
	}
	return s.Name
}

// Load returns the stored tokens, zero Tokens when none are stored.
func (s StoreTokens) Load(ctx context.Context) (Tokens, error) {
	var t Tokens
	err := s.Store.View(ctx, func(tx crm.Tx) error {
		stored, err := tx.ChannelToken(s.name())
		if err != nil || stored == nil {
			return err
		}
		t = *stored
		return nil
	})
	if err != nil {
		return Tokens{}, fmt.Errorf("zalo: load tokens: %w", err)
	}
	return t, nil
}

// Save stores the tokens in one committed transaction.
func (s StoreTokens) Save(ctx context.Context, t Tokens) error {
	if err := s.Store.Update(ctx, func(tx crm.Tx) error { return tx.PutChannelToken(s.name(), &t) }); err != nil {
		return fmt.Errorf("zalo: save tokens: %w", err)
	}
	return nil
}

// ErrReauthorize is wrapped by token errors that need an admin: the OA must
// be authorised again and a new ZALO_REFRESH_TOKEN set.
var ErrReauthorize = errors.New("zalo OA needs re-authorisation")

// tokenSource hands out the access token and refreshes it: before it
// expires, and when the API says it is invalid. One refresh runs at a time;
// callers that waited for it use its result instead of refreshing again.
type tokenSource struct {
	oauthURL  string
	appID     string
	appSecret string
	client    *http.Client
	store     TokenStore
	now       func() time.Time
	log       *slog.Logger
	before    time.Duration // refresh when less than this remains
	retry     time.Duration // first wait after a transient failure
	maxRetry  time.Duration
	timeout   time.Duration

	sem chan struct{} // one refresh at a time

	mu        sync.Mutex
	tok       Tokens
	reauth    error // set: no refresh is tried until restart
	lastErr   error // last refresh failure (cleared by a success)
	failures  int
	nextTry   time.Time
	unsaved   bool // tok holds a rotated refresh token not yet stored
	refreshes int
}

// oauthResponse is the access_token endpoint's answer (spec §5).
type oauthResponse struct {
	AccessToken  string     `json:"access_token"`
	RefreshToken string     `json:"refresh_token"`
	ExpiresIn    FlexString `json:"expires_in"`
	Error        FlexString `json:"error"`
	ErrorName    string     `json:"error_name"`
	ErrorReason  string     `json:"error_reason"`
	ErrorDesc    string     `json:"error_description"`
	Message      string     `json:"message"`
}

// defaultAccessTTL is the access token lifetime when the answer omits it.
const defaultAccessTTL = 25 * time.Hour

func seedOf(refresh, access string) string {
	if refresh == "" && access == "" {
		return ""
	}
	h := sha256.Sum256([]byte(refresh + "\x00" + access))
	return hex.EncodeToString(h[:8])
}

// load picks the tokens to start with: stored ones descending from the
// current environment tokens, else the environment's (saved at once), else
// stored ones when the environment has none.
func (s *tokenSource) load(ctx context.Context, envRefresh, envAccess string) error {
	stored, err := s.store.Load(ctx)
	if err != nil {
		return err
	}
	seed := seedOf(envRefresh, envAccess)
	var tok Tokens
	switch {
	case seed != "" && stored.Seed == seed && (stored.AccessToken != "" || stored.RefreshToken != ""):
		tok = stored
	case seed != "":
		tok = Tokens{AccessToken: envAccess, RefreshToken: envRefresh, Seed: seed}
		if stored.Seed != "" {
			s.log.Info("zalo tokens from the environment replace the stored ones (new ZALO_REFRESH_TOKEN or ZALO_ACCESS_TOKEN)")
		}
		if err := s.store.Save(ctx, tok); err != nil {
			return err
		}
	default:
		tok = stored
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tok = tok
	s.reauth, s.lastErr = nil, nil
	if tok.AccessToken == "" && tok.RefreshToken == "" {
		s.reauth = fmt.Errorf("%w: no token (set ZALO_REFRESH_TOKEN or ZALO_ACCESS_TOKEN)", ErrReauthorize)
	}
	return nil
}

// due reports whether t should be refreshed now.
func (s *tokenSource) due(t Tokens) bool {
	if t.RefreshToken == "" {
		return false // nothing to refresh with: use the token until it fails
	}
	if t.AccessToken == "" || t.ExpiresAt.IsZero() {
		return true
	}
	return t.ExpiresAt.Sub(s.now()) < s.before
}

func (s *tokenSource) snapshot() Tokens {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.tok
}

// Token returns an access token, refreshing first when it is due. A failed
// refresh falls back to the current token while it has not expired.
func (s *tokenSource) Token(ctx context.Context) (string, error) {
	t := s.snapshot()
	if t.AccessToken != "" && !s.due(t) {
		return t.AccessToken, nil
	}
	at, err := s.refresh(ctx, t.AccessToken)
	if err == nil {
		return at, nil
	}
	t = s.snapshot()
	if t.AccessToken != "" && (t.ExpiresAt.IsZero() || s.now().Before(t.ExpiresAt)) {
		return t.AccessToken, nil
	}
	return "", err
}

// refresh gets a new access token unless another caller already replaced
// stale with a token that is not due. It returns the token to use.
func (s *tokenSource) refresh(ctx context.Context, stale string) (string, error) {
	select {
	case s.sem <- struct{}{}:
	case <-ctx.Done():
		return "", ctx.Err()
	}
	defer func() { <-s.sem }()

	s.mu.Lock()
	cur, reauth, lastErr, nextTry := s.tok, s.reauth, s.lastErr, s.nextTry
	s.mu.Unlock()
	if cur.AccessToken != "" && cur.AccessToken != stale && !s.due(cur) {
		return cur.AccessToken, nil // refreshed while we waited
	}
	if reauth != nil {
		return "", reauth
	}
	if cur.RefreshToken == "" {
		err := fmt.Errorf("%w: the access token was refused and there is no refresh token (set ZALO_REFRESH_TOKEN)", ErrReauthorize)
		s.fail(err, true)
		return "", err
	}
	if lastErr != nil && s.now().Before(nextTry) {
		return "", lastErr
	}

	// The call and the save must not be cut short by the caller: once Zalo
	// has answered, the old refresh token is dead and the new one exists
	// only in this answer.
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.timeout)
	defer cancel()
	next, err := s.call(rctx, cur)
	if err != nil {
		s.fail(err, errors.Is(err, ErrReauthorize))
		return "", err
	}
	serr := s.store.Save(rctx, next)
	s.mu.Lock()
	s.tok = next
	s.lastErr, s.failures, s.nextTry = nil, 0, time.Time{}
	s.unsaved = serr != nil
	s.refreshes++
	s.mu.Unlock()
	if serr != nil {
		s.log.Error("ZALO NEW REFRESH TOKEN NOT SAVED: it lives in memory only; a restart now needs a re-authorised OA", "err", serr)
	} else {
		s.log.Info("zalo access token refreshed", "expires_at", next.ExpiresAt)
	}
	return next.AccessToken, nil
}

// fail records a failed refresh: permanent ones stop further attempts,
// transient ones back off.
func (s *tokenSource) fail(err error, permanent bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.lastErr = err
	if permanent {
		s.reauth = err
		s.log.Error("ZALO TOKEN REFRESH FAILED: the OA must be authorised again; set a new ZALO_REFRESH_TOKEN and restart. Nothing is sent on Zalo until then.", "err", err)
		return
	}
	s.failures++
	wait := s.retry << min(s.failures-1, 16)
	if wait > s.maxRetry || wait <= 0 {
		wait = s.maxRetry
	}
	s.nextTry = s.now().Add(wait)
	s.log.Error("zalo token refresh failed; will try again", "err", err, "attempt", s.failures, "retry_in", wait)
}

// call performs one refresh at the OAuth endpoint.
func (s *tokenSource) call(ctx context.Context, cur Tokens) (Tokens, error) {
	form := url.Values{"refresh_token": {cur.RefreshToken}, "app_id": {s.appID}, "grant_type": {"refresh_token"}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.oauthURL+"/v4/oa/access_token", strings.NewReader(form.Encode()))
	if err != nil {
		return Tokens{}, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("secret_key", s.appSecret)
	resp, err := s.client.Do(req)
	if err != nil {
		return Tokens{}, fmt.Errorf("zalo oauth: %w", redact(err))
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return Tokens{}, fmt.Errorf("zalo oauth: read answer: %w", err)
	}
	if resp.StatusCode >= 500 {
		return Tokens{}, fmt.Errorf("zalo oauth: HTTP %d", resp.StatusCode)
	}
	body = bytes.TrimSpace(body)
	if len(body) == 0 {
		if resp.StatusCode != http.StatusOK {
			return Tokens{}, fmt.Errorf("zalo oauth: HTTP %d with an empty body", resp.StatusCode)
		}
		// Reported for a refresh token already used.
		return Tokens{}, fmt.Errorf("%w: the refresh endpoint answered an empty body (refresh token already used?)", ErrReauthorize)
	}
	var r oauthResponse
	if body[0] != '{' || json.Unmarshal(body, &r) != nil {
		return Tokens{}, fmt.Errorf("zalo oauth: HTTP %d, answer is not JSON (%.60q)", resp.StatusCode, body)
	}
	if code, _ := r.Error.Int(); code != 0 || r.ErrorName != "" {
		return Tokens{}, fmt.Errorf("%w: refresh refused: error %s %s %s", ErrReauthorize, r.Error, r.ErrorName, firstNonEmpty(r.ErrorDesc, r.ErrorReason, r.Message))
	}
	if r.AccessToken == "" {
		return Tokens{}, fmt.Errorf("%w: the refresh answer has no access_token", ErrReauthorize)
	}
	next := Tokens{AccessToken: r.AccessToken, RefreshToken: r.RefreshToken, Seed: cur.Seed}
	if next.RefreshToken == "" {
		s.log.Warn("zalo refresh answer has no refresh_token; keeping the current one")
		next.RefreshToken = cur.RefreshToken
	}
	ttl := defaultAccessTTL
	if secs, ok := r.ExpiresIn.Int(); ok && secs > 0 {
		ttl = time.Duration(secs) * time.Second
	} else if r.ExpiresIn != "" {
		s.log.Warn("zalo refresh answer has an unreadable expires_in; assuming 25h", "expires_in", string(r.ExpiresIn))
	}
	next.ExpiresAt = s.now().Add(ttl)
	return next, nil
}

// maintain is the background check: save tokens a failed save left in
// memory, and refresh when due.
func (s *tokenSource) maintain(ctx context.Context) {
	s.mu.Lock()
	unsaved, tok, reauth := s.unsaved, s.tok, s.reauth
	s.mu.Unlock()
	if unsaved {
		if err := s.store.Save(ctx, tok); err != nil {
			s.log.Error("ZALO NEW REFRESH TOKEN STILL NOT SAVED", "err", err)
		} else {
			s.mu.Lock()
			if s.tok == tok {
				s.unsaved = false
			}
			s.mu.Unlock()
			s.log.Info("zalo tokens saved")
		}
	}
	if reauth == nil && s.due(tok) {
		_, _ = s.refresh(ctx, tok.AccessToken) // failures are logged and kept for Health
	}
}

// health reports what needs an admin about the tokens.
func (s *tokenSource) health() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.reauth != nil:
		return s.reauth
	case s.unsaved:
		return errors.New("zalo: the rotated refresh token is not saved (store error); a restart would need a re-authorised OA")
	case s.lastErr != nil:
		return fmt.Errorf("zalo: last token refresh failed: %w", s.lastErr)
	}
	return nil
}

func (s *tokenSource) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.refreshes
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}

// redact drops the URL from a transport error: URLs can carry tokens.
func redact(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return fmt.Errorf("%s: %w", ue.Op, ue.Err)
	}
	return err
}

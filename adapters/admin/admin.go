// Package admin is the admin web page (/admin) and the admin HTTP API
// (/api/admin/) through which admins manage offers and segment rules at
// run time: list, edit with a live preview, pause and activate, history,
// diff and rollback, segment rule preview and save, and a hot backup.
//
// The API takes the admin token as a bearer token, compared in constant
// time. The page logs in with the same token and then works with a session
// cookie (HttpOnly, SameSite=Strict, a random id kept in memory); every
// state-changing request of a session carries the session's CSRF token in
// the X-CSRF-Token header (or a hidden csrf form field) and must come from
// the page's own origin.
//
// Without a token the admin is off: Off mounts answers that say so.
package admin

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"embed"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io"
	"log/slog"
	"net/http"
	"net/netip"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/idicbot/idicbot/adapters/internal/clientip"
	"github.com/idicbot/idicbot/bot"
	"github.com/idicbot/idicbot/crm"
)

// Core is the conversation core, from which the admin takes the use cases
// Options leaves out (bot.Core.Reps, OfferAdmin, SegmentAdmin): the admin
// needs nothing of the conversation itself. It may be nil when Options
// names them all.
type Core any

// Reps is the reps' customer search, one syntax everywhere, behind the
// customer picker of the offer preview. *bot.Reps implements it.
type Reps interface {
	FindCustomers(ctx context.Context, query string) ([]*crm.Customer, error)
}

// OfferAdmin creates, edits, previews and versions offer templates.
type OfferAdmin interface {
	ListOffers(ctx context.Context) ([]*bot.OfferView, error)
	GetOffer(ctx context.Context, id string) (*bot.OfferView, error)
	OfferHistory(ctx context.Context, id string) ([]*bot.OfferVersion, error)
	SaveOffer(ctx context.Context, o *crm.Offer, expectedVersion int, who, origin string) (*crm.Offer, error)
	SetOfferStatus(ctx context.Context, id, status, who, origin string) (*crm.Offer, error)
	Rollback(ctx context.Context, id string, version int, who, origin string) (*crm.Offer, error)
	DiffOffer(ctx context.Context, id string, from, to int) (*bot.OfferDiff, error)
	PreviewOffer(ctx context.Context, o *crm.Offer, customerID crm.ID, segment string) (*bot.OfferPreview, error)
	ExportOffers(ctx context.Context) ([]byte, error)
	ImportOffers(ctx context.Context, name string, data []byte, dryRun bool, who string) (*bot.OfferImportReport, error)
}

// SegmentRules lists, previews and saves the segment rules.
type SegmentRules interface {
	SegmentList(ctx context.Context) ([]*bot.SegmentInfo, error)
	SegmentHistory(ctx context.Context) ([]bot.SegmentRuleChange, error)
	PreviewSegmentRule(ctx context.Context, name, rule string) (*bot.SegmentPreview, error)
	SaveSegmentRule(ctx context.Context, name, rule, expectedRule, who, origin string) (*bot.SegmentSave, error)
}

var (
	_ Reps         = (*bot.Reps)(nil)
	_ OfferAdmin   = (*bot.OfferAdmin)(nil)
	_ SegmentRules = (*bot.SegmentAdmin)(nil)
)

// TokenEnv is the environment variable holding the admin token.
const TokenEnv = "IDICBOT_ADMIN_TOKEN"

// CookieName is the session cookie of the admin page.
const CookieName = "idicbot_admin"

// CSRFHeader carries a session's CSRF token on API requests from the page.
const CSRFHeader = "X-CSRF-Token"

// UserHeader optionally names the person behind a bearer-token API call,
// for the change history ("api" when absent).
const UserHeader = "X-Admin-User"

// MaxBodyBytes bounds a JSON or YAML request body.
const MaxBodyBytes = 1 << 20

// Options configure a Server.
type Options struct {
	// Token is the admin token (required: an empty token refuses everyone).
	Token string
	// Reps is the reps' customer search (GET /api/admin/customers); nil:
	// the core's own (bot.Core.Reps), else that API is not served.
	Reps Reps
	// Offers is the offer administration; nil: the core's own, when it has
	// one (bot.Core.OfferAdmin), else the offer API is not served.
	Offers OfferAdmin
	// Segments is the segment-rule editing; nil: the core's own, when it
	// has one (bot.Core.SegmentAdmin), else the segment API is not served.
	Segments SegmentRules
	// Campaigns are the campaigns and journeys (/api/admin/campaigns); nil:
	// that API is not served.
	Campaigns Campaigns
	// TrustedProxies are the reverse proxies whose X-Forwarded-For names the
	// client for the brake; without them, behind a proxy, every client
	// would be the proxy and share one brake.
	TrustedProxies []netip.Prefix
	// Backup writes a consistent copy of the database (GET /api/admin/backup);
	// nil answers 503.
	Backup func(io.Writer) (int64, error)
	// Privacy exports and erases one customer's data (GET
	// /api/admin/customers/{id}/export, POST .../erase); nil answers 503.
	Privacy *bot.Privacy
	// Reports are the owner's reports (the dashboard at /admin/dashboard,
	// GET /api/admin/reports…); nil: not served.
	Reports Reports
	// Messages edits the bot's phrases (GET/PUT /api/admin/messages…);
	// nil: that API is not served.
	Messages Messages
	// Knowledge edits the shop's FAQ (/api/admin/knowledge…, knowledge.go);
	// nil: that API is not served.
	Knowledge Knowledge
	Logger    *slog.Logger
	Now       func() time.Time
	// SessionTTL is how long a page login lasts; 12h when 0.
	SessionTTL time.Duration
	// MaxSessions bounds the logins kept at once; the oldest goes first.
	// 100 when 0. (In this process's memory only: see Sessions.)
	MaxSessions int
	// Sessions keeps the logins where every process finds them; nil keeps
	// them in this process (one idicbot).
	Sessions SessionStore
	// BrakeFailures is how many wrong tokens (login form or bearer API) one
	// client address may present at once before it is braked: then its
	// requests get 429 with Retry-After, even with the right token, and it
	// may try once more every BrakeWindow/BrakeFailures. Other addresses are
	// not affected. DefaultBrakeFailures and DefaultBrakeWindow when 0.
	BrakeFailures int
	BrakeWindow   time.Duration
	// BrakeClients bounds the addresses the brake remembers;
	// DefaultBrakeClients when 0.
	BrakeClients int
}

// Server serves the admin page and API for a core.
type Server struct {
	reps     Reps
	offers   OfferAdmin
	segments SegmentRules
	opts     Options
	log      *slog.Logger
	now      func() time.Time
	token    [sha256.Size]byte
	hasTok   bool

	brake *brake

	mu       sync.Mutex
	sessions map[string]*session
}

type session struct {
	csrf    string
	who     string
	created time.Time
	expires time.Time
}

//go:embed page.html admin.js admin.css campaigns.js campaigns.css
var assets embed.FS

var pages = template.Must(template.ParseFS(assets, "page.html"))

// New returns a Server. It starts nothing.
func New(core Core, opts Options) *Server {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.SessionTTL <= 0 {
		opts.SessionTTL = 12 * time.Hour
	}
	if opts.MaxSessions <= 0 {
		opts.MaxSessions = 100
	}
	if opts.BrakeFailures <= 0 {
		opts.BrakeFailures = DefaultBrakeFailures
	}
	if opts.BrakeWindow <= 0 {
		opts.BrakeWindow = DefaultBrakeWindow
	}
	if opts.BrakeClients <= 0 {
		opts.BrakeClients = DefaultBrakeClients
	}
	if p, ok := core.(interface{ Reps() *bot.Reps }); ok && opts.Reps == nil {
		opts.Reps = p.Reps()
	}
	if p, ok := core.(interface{ OfferAdmin() *bot.OfferAdmin }); ok && opts.Offers == nil {
		opts.Offers = p.OfferAdmin()
	}
	if p, ok := core.(interface{ SegmentAdmin() *bot.SegmentAdmin }); ok && opts.Segments == nil {
		opts.Segments = p.SegmentAdmin()
	}
	s := &Server{reps: opts.Reps, offers: opts.Offers, segments: opts.Segments, opts: opts, log: opts.Logger, now: opts.Now, sessions: map[string]*session{},
		brake: newBrake(opts.BrakeFailures, opts.BrakeWindow, opts.BrakeClients)}
	if opts.Token != "" {
		s.token = sha256.Sum256([]byte(opts.Token))
		s.hasTok = true
	}
	return s
}

// Routes registers the page under /admin and the API under /api/admin/.
func (s *Server) Routes(mux *http.ServeMux) {
	mux.HandleFunc("GET /admin", s.handlePage)
	mux.HandleFunc("GET /admin/{$}", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/admin", http.StatusSeeOther)
	})
	mux.HandleFunc("POST /admin/login", s.handleLogin)
	mux.HandleFunc("POST /admin/logout", s.handleLogout)
	mux.HandleFunc("GET /admin/assets/{file}", handleAsset)
	mux.HandleFunc("GET /admin/lang", handleLang)

	var routes []string
	api := func(pattern string, h apiHandler) {
		routes = append(routes, pattern)
		mux.Handle(pattern, s.api(h))
	}
	if s.offers != nil {
		api("GET /api/admin/offers", s.listOffers)
		api("POST /api/admin/offers", s.createOffer)
		api("POST /api/admin/offers/preview", s.previewOffer)
		api("GET /api/admin/offers/{id}", s.getOffer)
		api("PUT /api/admin/offers/{id}", s.putOffer)
		api("POST /api/admin/offers/{id}/pause", s.setStatus(crm.OfferPaused))
		api("POST /api/admin/offers/{id}/activate", s.setStatus(crm.OfferActive))
		api("GET /api/admin/offers/{id}/versions", s.versions)
		api("GET /api/admin/offers/{id}/diff", s.diff)
		api("POST /api/admin/offers/{id}/rollback", s.rollback)
		api("GET /api/admin/export", s.export)
		api("POST /api/admin/import", s.importOffers)
	}
	if s.reps != nil {
		api("GET /api/admin/customers", s.customers)
	}
	if s.opts.Messages != nil {
		api("GET /api/admin/messages", s.getMessages)
		api("POST /api/admin/messages/preview", s.previewMessages)
		api("PUT /api/admin/messages", s.putMessages)
		api("POST /api/admin/messages/rollback", s.rollbackMessages)
	}
	s.knowledgeRoutes(api)
	if s.segments != nil {
		api("GET /api/admin/segments", s.listSegments)
		api("POST /api/admin/segments/{name}/preview", s.previewSegment)
		api("PUT /api/admin/segments/{name}", s.putSegment)
	}
	if s.opts.Campaigns != nil {
		s.campaignRoutes(api)
	}
	api("GET /api/admin/backup", s.backup)
	api("GET /api/admin/customers/{id}/export", s.exportCustomer)
	api("POST /api/admin/customers/{id}/erase", s.eraseCustomer)
	s.reportRoutes(mux, api)
	mux.Handle("/api/admin/", s.api(func(w http.ResponseWriter, r *http.Request, _ caller) error {
		if allow := allowedMethods(routes, r.URL.Path); len(allow) > 0 {
			w.Header().Set("Allow", strings.Join(allow, ", "))
			return &methodNotAllowed{method: r.Method, path: r.URL.Path, allow: allow}
		}
		return crm.Errorf(crm.ENOTFOUND, "No admin API at %s %s.", r.Method, r.URL.Path)
	}))
}

// allowedMethods returns the methods of the routes ("GET /api/admin/offers/{id}")
// whose path matches path, a {name} matching any one segment.
func allowedMethods(routes []string, path string) []string {
	segs := strings.Split(strings.Trim(path, "/"), "/")
	var out []string
	for _, rt := range routes {
		method, pattern, _ := strings.Cut(rt, " ")
		ps := strings.Split(strings.Trim(pattern, "/"), "/")
		if len(ps) != len(segs) {
			continue
		}
		match := true
		for i, p := range ps {
			if !(strings.HasPrefix(p, "{") && segs[i] != "") && p != segs[i] {
				match = false
				break
			}
		}
		if match && !slices.Contains(out, method) {
			out = append(out, method)
		}
	}
	return out
}

// offMessage tells how to turn the admin on (the API's words, English).
const offMessage = "The admin is off: no admin token is configured. Set " + TokenEnv +
	" to a long random secret (for example `openssl rand -hex 32`) in idicbot's environment and restart; then log in at /admin with that token."

// Off mounts the answers of a disabled admin: 503 with a page at /admin and
// a JSON error under /api/admin/, both saying how to turn it on. The
// page's stylesheet and script and the language switch are still served,
// so the page that says so is styled and readable.
func Off(mux *http.ServeMux) {
	mux.HandleFunc("/admin", handleOff)
	mux.HandleFunc("/admin/", handleOff)
	mux.HandleFunc("GET /admin/assets/{file}", handleAsset)
	mux.HandleFunc("GET /admin/lang", handleLang)
	mux.HandleFunc("/api/admin/", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusServiceUnavailable, errorBody{Error: errorDetail{Code: "admin_off", Message: offMessage}})
	})
}

func handleOff(w http.ResponseWriter, r *http.Request) {
	securityHeaders(w)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(http.StatusServiceUnavailable)
	_ = pages.ExecuteTemplate(w, "off", pageData(r, map[string]any{
		"Message": pageCatalog.Printer(langOf(r)).T("off.message", TokenEnv), "Env": TokenEnv}))
}

// checkToken compares a presented token with the admin token in constant
// time (hashes first, so the length does not leak either).
func (s *Server) checkToken(presented string) bool {
	if !s.hasTok || presented == "" {
		return false
	}
	h := sha256.Sum256([]byte(presented))
	return subtle.ConstantTimeCompare(h[:], s.token[:]) == 1
}

// caller is who makes an API request and from where.
type caller struct {
	who    string
	origin string // bot.OriginAPI (bearer token) or bot.OriginWeb (page session)
}

type apiHandler func(w http.ResponseWriter, r *http.Request, c caller) error

// api authenticates a request (bearer token, or a page session plus its
// CSRF token and same origin for state changes) and writes handler errors.
func (s *Server) api(h apiHandler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		var c caller
		if auth := r.Header.Get("Authorization"); auth != "" {
			if !s.bearer(w, r, auth) {
				return
			}
			c = caller{who: cleanName(r.Header.Get(UserHeader), "api"), origin: bot.OriginAPI}
		} else if sess := s.session(r); sess != nil {
			if !safeMethod(r.Method) {
				if err := checkCSRF(r, sess, r.Header.Get(CSRFHeader)); err != nil {
					s.writeError(w, r, err)
					return
				}
			}
			c = caller{who: sess.who, origin: bot.OriginWeb}
		} else {
			s.unauthorized(w, "Send the admin token as \"Authorization: Bearer <token>\".")
			return
		}
		if err := h(w, r, c); err != nil {
			s.writeError(w, r, err)
		}
	})
}

// bearer checks the bearer token of auth (an Authorization header) behind
// the brake, and otherwise answers 429 or 401 and returns false.
func (s *Server) bearer(w http.ResponseWriter, r *http.Request, auth string) bool {
	client := clientip.Key(r, s.opts.TrustedProxies)
	if wait := s.brake.wait(client, s.now()); wait > 0 {
		w.Header().Set("Retry-After", retryAfter(wait))
		writeJSON(w, http.StatusTooManyRequests, errorBody{Error: errorDetail{Code: "rate_limited", Message: brakedMessage(wait)}})
		return false
	}
	scheme, tok, _ := strings.Cut(auth, " ")
	if !strings.EqualFold(scheme, "Bearer") || !s.checkToken(strings.TrimSpace(tok)) {
		s.brake.fail(client, s.now())
		s.log.WarnContext(r.Context(), "admin: wrong token", "remote", client, "path", r.URL.Path)
		s.unauthorized(w, "The admin token is wrong.")
		return false
	}
	return true
}

// RequireToken serves h only to requests with the admin token as a bearer
// token, behind the same brake as the API (idicbot guards /metrics with
// it when the metrics share the main address).
func (s *Server) RequireToken(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		auth := r.Header.Get("Authorization")
		if auth == "" {
			s.unauthorized(w, "Send the admin token as \"Authorization: Bearer <token>\".")
			return
		}
		if s.bearer(w, r, auth) {
			h.ServeHTTP(w, r)
		}
	})
}

func (s *Server) unauthorized(w http.ResponseWriter, msg string) {
	w.Header().Set("WWW-Authenticate", `Bearer realm="idicbot admin"`)
	writeJSON(w, http.StatusUnauthorized, errorBody{Error: errorDetail{Code: "unauthorized", Message: msg}})
}

func safeMethod(m string) bool {
	return m == http.MethodGet || m == http.MethodHead || m == http.MethodOptions
}

// checkCSRF refuses a state-changing request of a page session unless it
// carries the session's CSRF token and comes from the page's own origin.
func checkCSRF(r *http.Request, sess *session, token string) error {
	if !sameOrigin(r) {
		return crm.Errorf(crm.EFORBIDDEN, "Cross-site request refused: it does not come from this admin page.")
	}
	if token == "" || subtle.ConstantTimeCompare([]byte(token), []byte(sess.csrf)) != 1 {
		return crm.Errorf(crm.EFORBIDDEN, "Missing or wrong CSRF token: reload the admin page.")
	}
	return nil
}

// sameOrigin reports whether a browser request comes from this host. A
// request without Origin and Sec-Fetch-Site headers (not a modern browser)
// passes; the CSRF token still has to match.
func sameOrigin(r *http.Request) bool {
	site := r.Header.Get("Sec-Fetch-Site")
	if o := r.Header.Get("Origin"); o != "" && o != "null" {
		u, err := url.Parse(o)
		return err == nil && u.Host != "" && strings.EqualFold(u.Host, r.Host) && (site == "" || site == "same-origin")
	} else if o == "null" {
		// An opaque origin (privacy settings): only the fetch metadata can tell.
		return site == "same-origin"
	}
	switch site {
	case "", "same-origin", "none":
		return true
	}
	return false
}

// cleanName keeps a display name safe for the history: printable, short.
func cleanName(v, def string) string {
	v = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return -1
		}
		return r
	}, strings.TrimSpace(v))
	if r := []rune(v); len(r) > 64 {
		v = string(r[:64])
	}
	if v == "" {
		return def
	}
	return v
}

func randomToken() string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand never fails on supported systems
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// session returns the valid session of the request's cookie, or nil.
func (s *Server) session(r *http.Request) *session {
	ck, err := r.Cookie(CookieName)
	if err != nil || ck.Value == "" {
		return nil
	}
	if s.opts.Sessions != nil {
		return s.sharedSession(r.Context(), ck.Value)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	sess := s.sessions[ck.Value]
	if sess == nil {
		return nil
	}
	if s.now().After(sess.expires) {
		delete(s.sessions, ck.Value)
		return nil
	}
	return sess
}

// newSession stores a login and returns its id, dropping expired sessions
// and, over the limit, the oldest.
func (s *Server) newSession(who string) (string, *session) {
	now := s.now()
	id := randomToken()
	sess := &session{csrf: randomToken(), who: who, created: now, expires: now.Add(s.opts.SessionTTL)}
	if s.opts.Sessions != nil {
		return id, sess // the caller stores it there
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for k, v := range s.sessions {
		if now.After(v.expires) {
			delete(s.sessions, k)
		}
	}
	for len(s.sessions) >= s.opts.MaxSessions {
		oldest := ""
		for k, v := range s.sessions {
			if oldest == "" || v.created.Before(s.sessions[oldest].created) {
				oldest = k
			}
		}
		delete(s.sessions, oldest)
	}
	s.sessions[id] = sess
	return id, sess
}

func securityHeaders(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; form-action 'self'; base-uri 'none'; frame-ancestors 'none'")
	h.Set("X-Frame-Options", "DENY")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "same-origin")
	h.Set("Cache-Control", "no-store")
}

func (s *Server) handlePage(w http.ResponseWriter, r *http.Request) {
	securityHeaders(w)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	if sess := s.session(r); sess != nil {
		_ = pages.ExecuteTemplate(w, "app", pageData(r, map[string]any{"CSRF": sess.csrf, "Who": sess.who,
			"Campaigns": s.opts.Campaigns != nil, "Reports": s.opts.Reports != nil}))
		return
	}
	_ = pages.ExecuteTemplate(w, "login", pageData(r, nil))
}

// loginPage answers with the login form and an error: a message id of
// pageMessages with its arguments.
func (s *Server) loginPage(w http.ResponseWriter, r *http.Request, status int, id string, args ...any) {
	securityHeaders(w)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	msg := id
	if pageCatalog.Has(id) {
		msg = pageCatalog.Printer(langOf(r)).T(id, args...)
	}
	_ = pages.ExecuteTemplate(w, "login", pageData(r, map[string]any{"Error": msg}))
}

func (s *Server) handleLogin(w http.ResponseWriter, r *http.Request) {
	if !sameOrigin(r) {
		s.loginPage(w, r, http.StatusForbidden, "login.crossSite")
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	if err := r.ParseForm(); err != nil {
		s.loginPage(w, r, http.StatusBadRequest, "login.badForm")
		return
	}
	client := clientip.Key(r, s.opts.TrustedProxies)
	if wait := s.brake.wait(client, s.now()); wait > 0 {
		w.Header().Set("Retry-After", retryAfter(wait))
		s.loginPage(w, r, http.StatusTooManyRequests, "login.braked", retryAfter(wait))
		return
	}
	if !s.checkToken(r.PostForm.Get("token")) {
		s.brake.fail(client, s.now())
		s.log.WarnContext(r.Context(), "admin login failed", "remote", client)
		s.loginPage(w, r, http.StatusUnauthorized, "login.wrong")
		return
	}
	id, sess := s.newSession(cleanName(r.PostForm.Get("name"), "admin"))
	if s.opts.Sessions != nil {
		if err := s.shareSession(r.Context(), id, sess); err != nil {
			s.log.Error("admin session not stored", "err", err)
			s.loginPage(w, r, http.StatusServiceUnavailable, "login.notStored")
			return
		}
	}
	http.SetCookie(w, &http.Cookie{
		Name: CookieName, Value: id, Path: "/", HttpOnly: true, SameSite: http.SameSiteStrictMode,
		Secure: r.TLS != nil || r.Header.Get("X-Forwarded-Proto") == "https", MaxAge: int(s.opts.SessionTTL / time.Second),
	})
	http.Redirect(w, r, "/admin", http.StatusSeeOther)
}

func (s *Server) handleLogout(w http.ResponseWriter, r *http.Request) {
	sess := s.session(r)
	if sess != nil {
		r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
		_ = r.ParseForm()
		tok := r.PostForm.Get("csrf")
		if tok == "" {
			tok = r.Header.Get(CSRFHeader)
		}
		if err := checkCSRF(r, sess, tok); err != nil {
			s.loginPage(w, r, http.StatusForbidden, crm.ErrorMessage(err))
			return
		}
		ck, _ := r.Cookie(CookieName)
		if s.opts.Sessions != nil {
			if err := s.opts.Sessions.DeleteSession(r.Context(), sessionKey(ck.Value)); err != nil {
				s.log.Error("admin session not deleted", "err", err)
			}
		}
		s.mu.Lock()
		delete(s.sessions, ck.Value)
		s.mu.Unlock()
	}
	http.SetCookie(w, &http.Cookie{Name: CookieName, Value: "", Path: "/", HttpOnly: true, SameSite: http.SameSiteStrictMode, MaxAge: -1})
	http.Redirect(w, r, "/admin", http.StatusSeeOther)
}

func handleAsset(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("file")
	var ctype string
	switch name {
	case "admin.js", "campaigns.js":
		ctype = "text/javascript; charset=utf-8"
	case "admin.css", "campaigns.css":
		ctype = "text/css; charset=utf-8"
	default:
		http.NotFound(w, r)
		return
	}
	data, err := assets.ReadFile(name)
	if err != nil {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", ctype)
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Cache-Control", "no-cache")
	_, _ = w.Write(data)
}

// errorBody is the JSON shape of every API error.
type errorBody struct {
	Error errorDetail `json:"error"`
}

type errorDetail struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	// Problems lists every reason an offer (or each offer of a file) was
	// refused, by field, with its line and column.
	Problems []crm.Problem `json:"problems,omitempty"`
}

// methodNotAllowed is a known path asked with a method it does not take: 405.
type methodNotAllowed struct {
	method, path string
	allow        []string
}

func (e *methodNotAllowed) Error() string {
	return fmt.Sprintf("%s %s is not an admin API call; %s takes %s.", e.method, e.path, e.path, strings.Join(e.allow, " or "))
}

// badRequest is a request the API cannot read (malformed JSON, a bad
// parameter): 400, where a readable but invalid offer is 422.
type badRequest struct{ msg string }

func (e *badRequest) Error() string { return e.msg }

func badRequestf(msg string) error { return &badRequest{msg: msg} }

// statusOf maps domain error codes to HTTP statuses.
func statusOf(code string) int {
	switch code {
	case crm.EINVALID:
		return http.StatusUnprocessableEntity
	case crm.ENOTFOUND:
		return http.StatusNotFound
	case crm.ECONFLICT:
		return http.StatusConflict
	case crm.EFORBIDDEN:
		return http.StatusForbidden
	case crm.EUNAVAILABLE:
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}

func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	var mna *methodNotAllowed
	if errors.As(err, &mna) {
		writeJSON(w, http.StatusMethodNotAllowed, errorBody{Error: errorDetail{Code: "method_not_allowed", Message: mna.Error()}})
		return
	}
	var br *badRequest
	if errors.As(err, &br) {
		writeJSON(w, http.StatusBadRequest, errorBody{Error: errorDetail{Code: crm.EINVALID, Message: br.msg}})
		return
	}
	code := crm.ErrorCode(err)
	if code == crm.EINTERNAL {
		s.log.ErrorContext(r.Context(), "admin api", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	d := errorDetail{Code: code, Message: s.errorText(r, err)}
	var inv *crm.InvalidOfferError
	if errors.As(err, &inv) {
		d.Problems = inv.Problems
	}
	writeJSON(w, statusOf(code), errorBody{Error: d})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(true)
	_ = enc.Encode(v)
}

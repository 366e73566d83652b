// Package zalotest is a fake Zalo OA Open API and OAuth v4 server for
// tests. It speaks the wire format of ../shared/channels/zalo-oa.md: the
// consultation endpoint POST /v3.0/oa/message/cs with the access token in
// an "access_token" header and {"error":0,"message":"Success","data":{…}}
// answers (HTTP 200 even for errors); the token endpoint POST
// /v4/oa/access_token with a form body and a "secret_key" header, answering
// {"access_token","refresh_token","expires_in":"90000"} and rotating the
// single-use refresh token. Tests inject token expiry, error codes, 5xx and
// non-JSON answers, and can have echo events (oa_send_text) posted to a
// webhook after each send, as Zalo does.
package zalotest

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Defaults of a fresh Server.
const (
	DefaultAppID       = "4318025916204758371"
	DefaultAppSecret   = "app-secret-for-the-fake"
	DefaultOAID        = "2951173305648265532"
	DefaultOASecretKey = "oa-secret-key-for-the-fake"
	DefaultExpiresIn   = "90000"
	maxText            = 2000
)

// Fault is an answer injected for one call. Zero fields take Zalo's usual
// values: an Error code answers HTTP 200 with {"error":code,"message":…};
// Status >= 500 (or Body) answers that status and body as is.
type Fault struct {
	Error   int    // Zalo error code (-216, -230, -32, -14014 …)
	Message string // default: a text for Error
	Status  int    // HTTP status; 200 when zero
	Body    string // raw body written instead of JSON (HTML, "")
	// Empty answers 200 with an empty body (reported for a reused refresh token).
	Empty bool
}

// Sent is a message the OA sent through the cs endpoint.
type Sent struct {
	MessageID string
	UserID    string
	Text      string
	// Template is the attachment's template_type ("request_user_info"), if any.
	Template string
	Payload  json.RawMessage // the attachment payload as sent
	Token    string          // access token used
}

// OAuthCall is one request to the token endpoint.
type OAuthCall struct {
	GrantType    string
	RefreshToken string
	AppID        string
	SecretKey    string
	ContentType  string
}

// Server is the fake. Create it with New.
type Server struct {
	AppID     string
	AppSecret string
	OAID      string
	// ExpiresIn is the expires_in the token endpoint answers (a string, as
	// documented).
	ExpiresIn string

	srv *httptest.Server

	mu        sync.Mutex
	access    map[string]bool // valid access tokens
	refresh   string          // the one valid refresh token
	seq       int
	faults    map[string][]Fault // "cs", "oauth"
	users     map[string]int     // user → error code for every send to them
	sent      []Sent
	oauth     []OAuthCall
	csCalls   int
	echo      *echoTarget
	echoWG    sync.WaitGroup
	oauthGate chan struct{} // when set, the token endpoint waits for it
}

type echoTarget struct {
	url, secret string
	client      *http.Client
	errs        []error
}

// New starts a fake with one valid access token and refresh token (see
// AccessToken and RefreshToken). It is closed when the test ends.
func New(tb testing.TB) *Server {
	tb.Helper()
	s := &Server{AppID: DefaultAppID, AppSecret: DefaultAppSecret, OAID: DefaultOAID, ExpiresIn: DefaultExpiresIn,
		access: map[string]bool{}, faults: map[string][]Fault{}, users: map[string]int{}}
	s.refresh = "RT-0-" + randHex(6)
	s.access["AT-0-"+randHex(6)] = true
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v3.0/oa/message/cs", s.serveCS)
	mux.HandleFunc("POST /v4/oa/access_token", s.serveToken)
	s.srv = httptest.NewServer(mux)
	tb.Cleanup(s.Close)
	return s
}

// Close waits for pending echoes and stops the server.
func (s *Server) Close() {
	s.echoWG.Wait()
	s.srv.Close()
}

// URL is the base for both ZALO_API_URL and ZALO_OAUTH_URL.
func (s *Server) URL() string { return s.srv.URL }

// AccessToken returns a currently valid access token ("" if none).
func (s *Server) AccessToken() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	for t, ok := range s.access {
		if ok {
			return t
		}
	}
	return ""
}

// RefreshToken returns the refresh token the server accepts now.
func (s *Server) RefreshToken() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.refresh
}

// ExpireAccess makes every issued access token invalid: the next send gets
// error -216 and a refresh is needed.
func (s *Server) ExpireAccess() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for t := range s.access {
		s.access[t] = false
	}
}

// Fail queues faults for the next calls of an endpoint ("cs" or "oauth");
// a zero Fault lets its call through.
func (s *Server) Fail(endpoint string, faults ...Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults[endpoint] = append(s.faults[endpoint], faults...)
}

// SetUser makes every send to user fail with a Zalo error code (-230 no
// interaction in 7 days, -213 not a follower, -222 blocked …); 0 clears it.
func (s *Server) SetUser(user string, code int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if code == 0 {
		delete(s.users, user)
	} else {
		s.users[user] = code
	}
}

// GateOAuth makes the token endpoint wait until the returned func is
// called, so a test can pile up concurrent refreshes.
func (s *Server) GateOAuth() (release func()) {
	ch := make(chan struct{})
	s.mu.Lock()
	s.oauthGate = ch
	s.mu.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			s.mu.Lock()
			s.oauthGate = nil
			s.mu.Unlock()
			close(ch)
		})
	}
}

// EchoTo makes the server post an oa_send_text (or oa_send_template) echo
// event, signed with oaSecretKey, to webhookURL after each successful send,
// in the background as Zalo does. WaitEchoes waits for them.
func (s *Server) EchoTo(webhookURL, oaSecretKey string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.echo = &echoTarget{url: webhookURL, secret: oaSecretKey, client: &http.Client{Timeout: 10 * time.Second}}
}

// WaitEchoes waits until every echo posted so far was answered, and returns
// the errors (non-200 answers) seen.
func (s *Server) WaitEchoes() []error {
	s.echoWG.Wait()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.echo == nil {
		return nil
	}
	return append([]error(nil), s.echo.errs...)
}

// Sent returns the messages sent so far.
func (s *Server) Sent() []Sent {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Sent(nil), s.sent...)
}

// SentTo returns the messages sent to one user.
func (s *Server) SentTo(user string) []Sent {
	var out []Sent
	for _, m := range s.Sent() {
		if m.UserID == user {
			out = append(out, m)
		}
	}
	return out
}

// OAuthCalls returns the requests made to the token endpoint.
func (s *Server) OAuthCalls() []OAuthCall {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]OAuthCall(nil), s.oauth...)
}

// CSCalls returns how many requests the cs endpoint got.
func (s *Server) CSCalls() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.csCalls
}

func (s *Server) nextFault(endpoint string) (Fault, bool) {
	q := s.faults[endpoint]
	if len(q) == 0 {
		return Fault{}, false
	}
	f := q[0]
	s.faults[endpoint] = q[1:]
	return f, f != (Fault{})
}

// writeFault answers an injected fault.
func writeFault(w http.ResponseWriter, f Fault) {
	status := f.Status
	if status == 0 {
		status = http.StatusOK
	}
	switch {
	case f.Empty:
		w.WriteHeader(http.StatusOK)
	case f.Body != "" || f.Error == 0:
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(status)
		io.WriteString(w, f.Body)
	default:
		msg := f.Message
		if msg == "" {
			msg = ErrorText(f.Error)
		}
		writeJSON(w, status, map[string]any{"error": f.Error, "message": msg})
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// ErrorText is a message for a Zalo error code, as the API words them.
func ErrorText(code int) string {
	switch code {
	case -32:
		return "Exceeded rate limit"
	case -124, -216:
		return "Access token is invalid"
	case -220:
		return "Access token has expired or has been removed"
	case -201:
		return "Parameter is invalid"
	case -210:
		return "Parameter exceeds allowable range"
	case -211:
		return "Out of quota"
	case -213:
		return "User has not followed OA"
	case -204:
		return "OA has been disabled"
	case -222:
		return "User has blocked OA"
	case -230:
		return "User has not interacted with the OA in the past 7 days"
	case -232:
		return "User has not interacted or interaction expired"
	case -14014:
		return "Invalid refresh token"
	}
	return "Error " + strconv.Itoa(code)
}

type csRequest struct {
	Recipient struct {
		UserID string `json:"user_id"`
	} `json:"recipient"`
	Message struct {
		Text           string `json:"text"`
		QuoteMessageID string `json:"quote_message_id"`
		Attachment     *struct {
			Type    string          `json:"type"`
			Payload json.RawMessage `json:"payload"`
		} `json:"attachment"`
	} `json:"message"`
}

func (s *Server) serveCS(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	token := r.Header.Get("access_token")
	s.mu.Lock()
	s.csCalls++
	if f, ok := s.nextFault("cs"); ok {
		s.mu.Unlock()
		writeFault(w, f)
		return
	}
	valid := s.access[token]
	s.mu.Unlock()
	if token == "" || !valid {
		writeJSON(w, http.StatusOK, map[string]any{"error": -216, "message": ErrorText(-216)})
		return
	}
	var req csRequest
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") || dec.Decode(&req) != nil {
		writeJSON(w, http.StatusOK, map[string]any{"error": -201, "message": "Body is invalid"})
		return
	}
	if req.Recipient.UserID == "" {
		writeJSON(w, http.StatusOK, map[string]any{"error": -201, "message": "user_id is invalid"})
		return
	}
	m := Sent{UserID: req.Recipient.UserID, Text: req.Message.Text, Token: token}
	if a := req.Message.Attachment; a != nil {
		var p struct {
			TemplateType string `json:"template_type"`
			Elements     []struct {
				Title    string `json:"title"`
				Subtitle string `json:"subtitle"`
				ImageURL string `json:"image_url"`
			} `json:"elements"`
		}
		if a.Type != "template" || json.Unmarshal(a.Payload, &p) != nil || p.TemplateType == "" {
			writeJSON(w, http.StatusOK, map[string]any{"error": -233, "message": "Message type is invalid"})
			return
		}
		if p.TemplateType == "request_user_info" && (len(p.Elements) != 1 || p.Elements[0].Title == "") {
			writeJSON(w, http.StatusOK, map[string]any{"error": -201, "message": "elements is invalid"})
			return
		}
		m.Template, m.Payload = p.TemplateType, a.Payload
	} else if strings.TrimSpace(req.Message.Text) == "" {
		writeJSON(w, http.StatusOK, map[string]any{"error": -201, "message": "text is invalid"})
		return
	}
	if n := len([]rune(req.Message.Text)); n > maxText {
		writeJSON(w, http.StatusOK, map[string]any{"error": -210, "message": ErrorText(-210)})
		return
	}
	s.mu.Lock()
	if code := s.users[m.UserID]; code != 0 {
		s.mu.Unlock()
		writeJSON(w, http.StatusOK, map[string]any{"error": code, "message": ErrorText(code)})
		return
	}
	m.MessageID = randHex(10)
	s.sent = append(s.sent, m)
	echo := s.echo
	if echo != nil {
		s.echoWG.Add(1)
	}
	s.mu.Unlock()
	if echo != nil {
		go s.postEcho(echo, m)
	}
	writeJSON(w, http.StatusOK, map[string]any{"error": 0, "message": "Success", "data": map[string]any{
		"message_id": m.MessageID, "user_id": m.UserID, "sent_time": strconv.FormatInt(time.Now().UnixMilli(), 10),
		"quota": map[string]any{"quota_type": "reply", "remain": "7", "total": "8"},
	}})
}

func (s *Server) postEcho(t *echoTarget, m Sent) {
	defer s.echoWG.Done()
	ev := Events{AppID: s.AppID, OAID: s.OAID}
	var body []byte
	if m.Template != "" {
		body = ev.OASend("oa_send_template", m.UserID, m.MessageID, "", time.Now().UnixMilli())
	} else {
		body = ev.OASend("oa_send_text", m.UserID, m.MessageID, m.Text, time.Now().UnixMilli())
	}
	resp, err := Post(t.client, t.url, body, t.secret)
	if err == nil {
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			err = fmt.Errorf("echo of %s answered %d", m.MessageID, resp.StatusCode)
		}
	}
	if err != nil {
		s.mu.Lock()
		t.errs = append(t.errs, err)
		s.mu.Unlock()
	}
}

func (s *Server) serveToken(w http.ResponseWriter, r *http.Request) {
	call := OAuthCall{SecretKey: r.Header.Get("secret_key"), ContentType: r.Header.Get("Content-Type")}
	if err := r.ParseForm(); err == nil {
		call.GrantType, call.RefreshToken, call.AppID = r.PostForm.Get("grant_type"), r.PostForm.Get("refresh_token"), r.PostForm.Get("app_id")
	}
	s.mu.Lock()
	s.oauth = append(s.oauth, call)
	gate := s.oauthGate
	s.mu.Unlock()
	if gate != nil {
		select {
		case <-gate:
		case <-r.Context().Done():
			return
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if f, ok := s.nextFault("oauth"); ok {
		writeFault(w, f)
		return
	}
	switch {
	case !strings.HasPrefix(call.ContentType, "application/x-www-form-urlencoded"):
		writeJSON(w, http.StatusOK, map[string]any{"error": -14001, "error_name": "Invalid parameter", "error_description": "form body expected"})
	case call.SecretKey != s.AppSecret:
		writeJSON(w, http.StatusOK, map[string]any{"error": -14003, "error_name": "Invalid secret key", "error_description": "secret_key is invalid"})
	case call.AppID != s.AppID:
		writeJSON(w, http.StatusOK, map[string]any{"error": -14002, "error_name": "Invalid app id", "error_description": "app_id is invalid"})
	case call.GrantType != "refresh_token":
		writeJSON(w, http.StatusOK, map[string]any{"error": -14001, "error_name": "Invalid parameter", "error_description": "grant_type is invalid"})
	case call.RefreshToken == "" || call.RefreshToken != s.refresh:
		writeJSON(w, http.StatusOK, map[string]any{"error": -14014, "error_name": "Invalid refresh token", "error_description": "Refresh token is invalid"})
	default:
		s.seq++
		at := fmt.Sprintf("AT-%d-%s", s.seq, randHex(6))
		s.refresh = fmt.Sprintf("RT-%d-%s", s.seq, randHex(6))
		s.access[at] = true
		writeJSON(w, http.StatusOK, map[string]any{"access_token": at, "refresh_token": s.refresh, "expires_in": s.ExpiresIn})
	}
}

func randHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

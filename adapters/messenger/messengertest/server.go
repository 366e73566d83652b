// Package messengertest is a fake Graph API Send endpoint and a builder of
// Messenger webhook events for tests. The fake checks requests as Meta
// does (access_token and appsecret_proof in the query, the JSON body's
// recipient, messaging_type, tag and quick replies and their limits) and
// answers {"recipient_id","message_id"} or {"error":{message,type,code,
// error_subcode,fbtrace_id}} with Meta's HTTP statuses.
package messengertest

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
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
)

// Defaults of a fresh Server.
const (
	DefaultPageToken   = "EAAGfakePageToken"
	DefaultAppSecret   = "app_secret_demo"
	DefaultVerifyToken = "verify-me"
	DefaultPageID      = "110000000000001"
	Version            = "v21.0"
)

// Fault is an error answer for one call. A zero Fault lets its call through.
type Fault struct {
	Status    int // HTTP status (400 when zero and Code set)
	Code      int
	Subcode   int
	Message   string
	Transient bool
	Body      string // raw body instead of a Graph error (HTML from a proxy)
}

// Sent is one message the page sent.
type Sent struct {
	Recipient     string
	MessagingType string
	Tag           string
	Text          string
	QuickReplies  []QuickReply
}

// QuickReply as sent.
type QuickReply struct {
	ContentType string `json:"content_type"`
	Title       string `json:"title"`
	Payload     string `json:"payload"`
}

// Server is the fake Graph API.
type Server struct {
	PageToken string
	AppSecret string
	PageID    string

	srv    *httptest.Server
	mu     sync.Mutex
	faults []Fault
	users  map[string]Fault
	sent   []Sent
	calls  int
	seq    int
	// NoPhoneQuickReply makes user_phone_number quick replies a bad parameter.
	noPhone bool
}

// New starts the fake; it stops when the test ends.
func New(tb testing.TB) *Server {
	s := &Server{PageToken: DefaultPageToken, AppSecret: DefaultAppSecret, PageID: DefaultPageID, users: map[string]Fault{}}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /"+Version+"/{page}/messages", s.serveSend)
	s.srv = httptest.NewServer(mux)
	tb.Cleanup(s.srv.Close)
	return s
}

// URL is the Graph API base with version (MESSENGER_API_URL).
func (s *Server) URL() string { return s.srv.URL + "/" + Version }

// Fail queues faults for the next calls.
func (s *Server) Fail(f ...Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append(s.faults, f...)
}

// SetUser makes every send to psid fail with f (551 user unavailable, 10/2018278
// outside the window …); a zero Fault clears it.
func (s *Server) SetUser(psid string, f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if f == (Fault{}) {
		delete(s.users, psid)
	} else {
		s.users[psid] = f
	}
}

// RefusePhoneQuickReply makes the user_phone_number quick reply a bad parameter.
func (s *Server) RefusePhoneQuickReply() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.noPhone = true
}

// Sent returns the messages sent so far.
func (s *Server) Sent() []Sent {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Sent(nil), s.sent...)
}

// Calls returns how many send requests arrived.
func (s *Server) Calls() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls
}

func graphError(w http.ResponseWriter, f Fault) {
	if f.Body != "" {
		status := f.Status
		if status == 0 {
			status = http.StatusBadGateway
		}
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(status)
		io.WriteString(w, f.Body)
		return
	}
	status := f.Status
	if status == 0 {
		status = http.StatusBadRequest
		if f.Code == 190 {
			status = http.StatusUnauthorized
		}
	}
	msg := f.Message
	if msg == "" {
		msg = "(#" + strconv.Itoa(f.Code) + ") error"
	}
	e := map[string]any{"message": msg, "type": "OAuthException", "code": f.Code, "fbtrace_id": "AbCdEf"}
	if f.Subcode != 0 {
		e["error_subcode"] = f.Subcode
	}
	if f.Transient {
		e["is_transient"] = true
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]any{"error": e})
}

func (s *Server) serveSend(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.calls++
	var fault Fault
	if len(s.faults) > 0 {
		fault, s.faults = s.faults[0], s.faults[1:]
	}
	s.mu.Unlock()
	if fault != (Fault{}) {
		graphError(w, fault)
		return
	}
	q := r.URL.Query()
	if page := r.PathValue("page"); page != "me" && page != s.PageID {
		graphError(w, Fault{Code: 100, Message: "(#100) Unknown page"})
		return
	}
	if q.Get("access_token") != s.PageToken {
		graphError(w, Fault{Code: 190, Message: "Invalid OAuth access token - Cannot parse access token"})
		return
	}
	if p := q.Get("appsecret_proof"); p != "" {
		m := hmac.New(sha256.New, []byte(s.AppSecret))
		m.Write([]byte(s.PageToken))
		if p != hex.EncodeToString(m.Sum(nil)) {
			graphError(w, Fault{Code: 100, Message: "Invalid appsecret_proof provided in the API argument"})
			return
		}
	}
	var req struct {
		Recipient struct {
			ID string `json:"id"`
		} `json:"recipient"`
		MessagingType string `json:"messaging_type"`
		Tag           string `json:"tag"`
		Message       struct {
			Text         string       `json:"text"`
			QuickReplies []QuickReply `json:"quick_replies"`
		} `json:"message"`
	}
	body, _ := io.ReadAll(r.Body)
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") || dec.Decode(&req) != nil {
		graphError(w, Fault{Code: 100, Message: "(#100) Invalid JSON"})
		return
	}
	bad := func(msg string) { graphError(w, Fault{Code: 100, Message: "(#100) " + msg}) }
	switch {
	case req.Recipient.ID == "":
		bad("The parameter recipient is required")
		return
	case req.MessagingType != "RESPONSE" && req.MessagingType != "UPDATE" && req.MessagingType != "MESSAGE_TAG":
		bad("messaging_type is invalid")
		return
	case req.MessagingType == "MESSAGE_TAG" && req.Tag == "":
		bad("tag is required with MESSAGE_TAG")
		return
	case strings.TrimSpace(req.Message.Text) == "":
		bad("message text is required")
		return
	case len([]rune(req.Message.Text)) > 2000:
		bad("param message[text] must be UTF-8 encoded with at most 2000 characters")
		return
	case len(req.Message.QuickReplies) > 13:
		bad("param message[quick_replies] has too many elements")
		return
	}
	for _, qr := range req.Message.QuickReplies {
		switch qr.ContentType {
		case "text":
			if qr.Title == "" || len([]rune(qr.Title)) > 20 || qr.Payload == "" || len(qr.Payload) > 1000 {
				bad("quick reply title (1-20) and payload (1-1000) are required")
				return
			}
		case "user_phone_number", "user_email":
			s.mu.Lock()
			no := s.noPhone
			s.mu.Unlock()
			if no && qr.ContentType == "user_phone_number" {
				bad("Invalid content_type user_phone_number")
				return
			}
		default:
			bad("quick reply content_type is invalid")
			return
		}
	}
	s.mu.Lock()
	if f, ok := s.users[req.Recipient.ID]; ok {
		s.mu.Unlock()
		graphError(w, f)
		return
	}
	s.seq++
	mid := fmt.Sprintf("m_fake%06d", s.seq)
	s.sent = append(s.sent, Sent{Recipient: req.Recipient.ID, MessagingType: req.MessagingType, Tag: req.Tag, Text: req.Message.Text, QuickReplies: req.Message.QuickReplies})
	s.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]string{"recipient_id": req.Recipient.ID, "message_id": mid})
}

// Signature is the X-Hub-Signature-256 value of body.
func Signature(body []byte, appSecret string) string {
	m := hmac.New(sha256.New, []byte(appSecret))
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// Post delivers a signed body to a webhook URL.
func Post(c *http.Client, url string, body []byte, appSecret string) (*http.Response, error) {
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Hub-Signature-256", Signature(body, appSecret))
	return c.Do(req)
}

// Events builds webhook bodies as Meta sends them.
type Events struct{ PageID string }

func q(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

func (e Events) item(psid string, ms int64, rest string) string {
	return `{"sender":{"id":` + q(psid) + `},"recipient":{"id":` + q(e.PageID) + `},"timestamp":` + strconv.FormatInt(ms, 10) + `,` + rest + `}`
}

// Batch wraps messaging items into one page entry.
func (e Events) Batch(ms int64, items ...string) []byte {
	return []byte(`{"object":"page","entry":[{"id":` + q(e.PageID) + `,"time":` + strconv.FormatInt(ms, 10) + `,"messaging":[` + strings.Join(items, ",") + `]}]}`)
}

// Text is a text message item.
func (e Events) Text(psid, mid, text string, ms int64) string {
	return e.item(psid, ms, `"message":{"mid":`+q(mid)+`,"text":`+q(text)+`}`)
}

// QuickReply is a tap on a quick reply.
func (e Events) QuickReply(psid, mid, text, payload string, ms int64) string {
	return e.item(psid, ms, `"message":{"mid":`+q(mid)+`,"text":`+q(text)+`,"quick_reply":{"payload":`+q(payload)+`}}`)
}

// Postback is a tap on a button (postback.mid as sent since 2020).
func (e Events) Postback(psid, mid, title, payload string, ms int64) string {
	return e.item(psid, ms, `"postback":{"title":`+q(title)+`,"payload":`+q(payload)+`,"mid":`+q(mid)+`}`)
}

// Attachment is a message with one attachment (image, audio, video, file, location…).
func (e Events) Attachment(psid, mid, typ, url string, ms int64) string {
	return e.item(psid, ms, `"message":{"mid":`+q(mid)+`,"attachments":[{"type":`+q(typ)+`,"payload":{"url":`+q(url)+`}}]}`)
}

// Sticker is an image attachment with a sticker_id.
func (e Events) Sticker(psid, mid string, ms int64) string {
	return e.item(psid, ms, `"message":{"mid":`+q(mid)+`,"attachments":[{"type":"image","payload":{"url":"https://scontent.xx/sticker.png","sticker_id":369239263222822}}],"sticker_id":369239263222822}`)
}

// Echo is a message the page sent, echoed back (sender is the page).
func (e Events) Echo(psid, mid, text string, ms int64) string {
	return `{"sender":{"id":` + q(e.PageID) + `},"recipient":{"id":` + q(psid) + `},"timestamp":` + strconv.FormatInt(ms, 10) +
		`,"message":{"is_echo":true,"app_id":1517776481860111,"mid":` + q(mid) + `,"text":` + q(text) + `}}`
}

// Read is a read receipt.
func (e Events) Read(psid string, ms int64) string {
	return e.item(psid, ms, `"read":{"watermark":`+strconv.FormatInt(ms, 10)+`}`)
}

// Delivery is a delivery receipt.
func (e Events) Delivery(psid string, mids []string, ms int64) string {
	b, _ := json.Marshal(mids)
	return e.item(psid, ms, `"delivery":{"mids":`+string(b)+`,"watermark":`+strconv.FormatInt(ms, 10)+`}`)
}

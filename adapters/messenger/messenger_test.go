package messenger_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/idicbot/idicbot/adapters/messenger"
	"github.com/idicbot/idicbot/adapters/messenger/messengertest"
	"github.com/idicbot/idicbot/bot"
	"github.com/idicbot/idicbot/bot/bottest"
	"github.com/idicbot/idicbot/crm"
	"github.com/idicbot/idicbot/crm/boltstore"
)

type env struct {
	t     *testing.T
	db    *boltstore.DB
	core  *bot.Core
	disp  *bot.Dispatcher
	fake  *messengertest.Server
	a     *messenger.Adapter
	web   *httptest.Server
	clock *bottest.Clock
	ev    messengertest.Events
	seq   int
}

func newEnv(t *testing.T, change func(*messenger.Options)) *env {
	t.Helper()
	kit := bottest.NewCore(t, bottest.StartAt(time.Date(2026, 11, 10, 10, 0, 0, 0, time.UTC)), bottest.OnChannels(), bottest.Unopened(),
		bottest.DispatcherOptions(func(o *bot.DispatcherOptions) { o.MaxBackoff, o.MaxAttempts = 2*time.Millisecond, 3 }))
	e := &env{t: t, db: kit.DB, core: kit.Core, disp: kit.Disp, clock: kit.Clock}
	db, ctx := kit.DB, context.Background()
	var err error
	e.fake = messengertest.New(t)
	e.ev = messengertest.Events{PageID: e.fake.PageID}
	opts := messenger.Options{PageToken: e.fake.PageToken, AppSecret: e.fake.AppSecret, VerifyToken: messengertest.DefaultVerifyToken,
		APIURL: e.fake.URL(), Now: e.clock.Now, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	if change != nil {
		change(&opts)
	}
	e.a, err = messenger.New(e.core, db, opts)
	if err != nil {
		t.Fatal(err)
	}
	e.disp.Register(messenger.Channel, e.a)
	mux := http.NewServeMux()
	e.a.Routes(mux)
	e.web = httptest.NewServer(mux)
	if err := e.disp.Open(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { // before the kit closes the dispatcher and checks the store
		e.web.Close()
		e.a.Close()
	})
	return e
}

func (e *env) url() string { return e.web.URL + messenger.WebhookPath }
func (e *env) ms() int64   { return e.clock.Now().UnixMilli() }
func (e *env) mid() string {
	e.seq++
	return fmt.Sprintf("m_AG5Hz2Uq7tuwNEhXfYYKj8mJEM_QPpz5jdCK48PnKAjSdjfipqxqMvK8ma6AC8fplwlqLP_%d", e.seq)
}

func (e *env) post(body []byte) int {
	e.t.Helper()
	resp, err := messengertest.Post(http.DefaultClient, e.url(), body, e.fake.AppSecret)
	if err != nil {
		e.t.Fatal(err)
	}
	resp.Body.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := e.disp.Flush(ctx); err != nil {
		e.t.Fatal(err)
	}
	return resp.StatusCode
}

func (e *env) postOK(items ...string) {
	e.t.Helper()
	if got := e.post(e.ev.Batch(e.ms(), items...)); got != http.StatusOK {
		e.t.Fatalf("webhook answered %d", got)
	}
}

func (e *env) customer(psid string) *crm.Customer {
	e.t.Helper()
	var c *crm.Customer
	if err := e.db.View(context.Background(), func(tx crm.Tx) error {
		var err error
		c, err = tx.FindCustomerByIdentity(messenger.Channel, psid)
		return err
	}); err != nil {
		e.t.Fatal(err)
	}
	return c
}

func (e *env) sentTo(psid string) []messengertest.Sent {
	var out []messengertest.Sent
	for _, s := range e.fake.Sent() {
		if s.Recipient == psid {
			out = append(out, s)
		}
	}
	return out
}

// The spec's worked example (§8).
func TestSignatureWorkedExample(t *testing.T) {
	body := []byte(`{"object":"page","entry":[{"id":"PAGE_ID","time":1700000000000,"messaging":[{"sender":{"id":"PSID"},"recipient":{"id":"PAGE_ID"},"timestamp":1700000000000,"message":{"mid":"m_1","text":"hi"}}]}]}`)
	const want = "sha256=d7d9dd3cde8a2fc63bdd09f7244c0de126aca807bfab738cb67d38c7d070cb15"
	if len(body) != 195 {
		t.Fatalf("body is %d bytes, the spec says 195", len(body))
	}
	if got := messengertest.Signature(body, "app_secret_demo"); got != want {
		t.Fatalf("signature %s, want %s", got, want)
	}
	for _, tc := range []struct {
		header string
		ok     bool
	}{
		{want, true},
		{strings.ToUpper(want[:7]) + want[7:], false}, // prefix is case-sensitive
		{"sha256=" + strings.ToUpper(want[7:]), true},
		{want[7:], false},
		{"", false},
		{"sha1=" + want[7:], false},
		{"sha256=d7d9dd3cde8a2fc63bdd09f7244c0de126aca807bfab738cb67d38c7d070cb16", false},
	} {
		if got := messenger.Verify("app_secret_demo", body, tc.header); got != tc.ok {
			t.Errorf("Verify(%q) = %v, want %v", tc.header, got, tc.ok)
		}
	}
	if messenger.Verify("other_secret", body, want) {
		t.Error("another secret verified")
	}
}

func TestVerificationHandshake(t *testing.T) {
	e := newEnv(t, nil)
	for _, tc := range []struct {
		mode, token string
		status      int
	}{
		{"subscribe", messengertest.DefaultVerifyToken, http.StatusOK},
		{"subscribe", "wrong", http.StatusForbidden},
		{"unsubscribe", messengertest.DefaultVerifyToken, http.StatusForbidden},
		{"", "", http.StatusForbidden},
	} {
		q := url.Values{"hub.mode": {tc.mode}, "hub.verify_token": {tc.token}, "hub.challenge": {"1158201444"}}
		resp, err := http.Get(e.url() + "?" + q.Encode())
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tc.status {
			t.Fatalf("%s/%s: status %d, want %d", tc.mode, tc.token, resp.StatusCode, tc.status)
		}
		if tc.status == http.StatusOK && string(body) != "1158201444" {
			t.Fatalf("challenge echoed as %q", body)
		}
	}
}

func TestWebhookRefusesBadSignature(t *testing.T) {
	e := newEnv(t, nil)
	body := e.ev.Batch(e.ms(), e.ev.Text("2100000000000001", e.mid(), "xin chào", e.ms()))
	for _, sig := range []string{"", "sha256=00", messengertest.Signature(body, "wrong-secret")} {
		req, _ := http.NewRequest(http.MethodPost, e.url(), strings.NewReader(string(body)))
		if sig != "" {
			req.Header.Set(messenger.SignatureHeader, sig)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("signature %q: status %d, want 401", sig, resp.StatusCode)
		}
	}
	if c := e.customer("2100000000000001"); c != nil {
		t.Fatal("a refused call stored a customer")
	}
	if got := e.post(body); got != http.StatusOK {
		t.Fatalf("signed call: %d", got)
	}
	if e.customer("2100000000000001") == nil {
		t.Fatal("the signed call stored nothing")
	}
}

func TestInboundEvents(t *testing.T) {
	e := newEnv(t, nil)
	tests := []struct {
		name    string
		item    func(psid string) string
		kind    string // "" no customer
		replies int
	}{
		{"text", func(p string) string { return e.ev.Text(p, e.mid(), "xin chào", e.ms()) }, crm.KindText, 2},
		{"image", func(p string) string {
			return e.ev.Attachment(p, e.mid(), "image", "https://scontent.xx/a.jpg", e.ms())
		}, crm.KindPhoto, 1},
		{"sticker", func(p string) string { return e.ev.Sticker(p, e.mid(), e.ms()) }, crm.KindSticker, 1},
		{"audio", func(p string) string {
			return e.ev.Attachment(p, e.mid(), "audio", "https://cdn.fbsbx.com/v.mp4", e.ms())
		}, crm.KindVoice, 1},
		{"file", func(p string) string {
			return e.ev.Attachment(p, e.mid(), "file", "https://cdn.fbsbx.com/f.pdf", e.ms())
		}, crm.KindFile, 1},
		{"location", func(p string) string { return e.ev.Attachment(p, e.mid(), "location", "", e.ms()) }, crm.KindOther, 1},
		{"postback", func(p string) string { return e.ev.Postback(p, e.mid(), "Bắt đầu", "GET_STARTED", e.ms()) }, crm.KindButton, 1},
		{"echo", func(p string) string { return e.ev.Echo(p, e.mid(), "Dạ shop chào bạn", e.ms()) }, "", 0},
		{"read", func(p string) string { return e.ev.Read(p, e.ms()) }, "", 0},
		{"delivery", func(p string) string { return e.ev.Delivery(p, []string{"m_1"}, e.ms()) }, "", 0},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			psid := fmt.Sprintf("24000000000000%02d", i)
			e.postOK(tt.item(psid))
			c := e.customer(psid)
			if tt.kind == "" {
				if c != nil {
					t.Fatalf("%s created a customer", tt.name)
				}
				if n := len(e.sentTo(psid)); n != 0 {
					t.Fatalf("%s was answered", tt.name)
				}
				return
			}
			if c == nil {
				t.Fatal("no customer")
			}
			var its []*crm.Interaction
			if err := e.db.View(context.Background(), func(tx crm.Tx) error { its, _ = tx.Interactions(c.ID, 0, 0); return nil }); err != nil {
				t.Fatal(err)
			}
			if its[0].Kind != tt.kind {
				t.Fatalf("logged as %s, want %s", its[0].Kind, tt.kind)
			}
			if got := len(e.sentTo(psid)); got != tt.replies {
				t.Fatalf("%d replies, want %d: %+v", got, tt.replies, e.sentTo(psid))
			}
		})
	}
	t.Run("batch in order, redelivered", func(t *testing.T) {
		psid := "2499999999999999"
		m1, m2 := e.mid(), e.mid()
		body := e.ev.Batch(e.ms(), e.ev.Text(psid, m1, "xin chào", e.ms()), e.ev.Text(psid, m2, "cảm ơn", e.ms()+1))
		if got := e.post(body); got != http.StatusOK {
			t.Fatal(got)
		}
		n := len(e.sentTo(psid))
		if got := e.post(body); got != http.StatusOK {
			t.Fatal(got)
		}
		if got := len(e.sentTo(psid)); got != n {
			t.Fatalf("redelivery sent %d more", got-n)
		}
		var its []*crm.Interaction
		if err := e.db.View(context.Background(), func(tx crm.Tx) error { its, _ = tx.Interactions(e.customer(psid).ID, 0, 0); return nil }); err != nil {
			t.Fatal(err)
		}
		var in []string
		for _, it := range its {
			if it.Direction == crm.Inbound {
				in = append(in, it.MessageID)
			}
		}
		if len(in) != 2 || in[0] != m1 || in[1] != m2 {
			t.Fatalf("inbound = %v, want [%s %s]", in, m1, m2)
		}
	})
}

// Offer buttons go out as quick replies; tapping one is the button; the
// phone request is a user_phone_number quick reply whose tap links the phone.
func TestQuickReplies(t *testing.T) {
	e := newEnv(t, nil)
	psid := "2500000000000001"
	e.postOK(e.ev.Text(psid, e.mid(), "xin chào", e.ms()))
	sent := e.sentTo(psid)
	offer := sent[len(sent)-1]
	if len(offer.QuickReplies) != 3 {
		t.Fatalf("offer quick replies = %+v", offer.QuickReplies)
	}
	for _, qr := range offer.QuickReplies {
		if qr.ContentType != "text" || !strings.HasPrefix(qr.Payload, "offer:welcome-new:") || len([]rune(qr.Title)) > 20 {
			t.Fatalf("quick reply %+v", qr)
		}
	}
	accept := offer.QuickReplies[0]
	e.postOK(e.ev.QuickReply(psid, e.mid(), accept.Title, accept.Payload, e.ms()))
	sent = e.sentTo(psid)
	last := sent[len(sent)-1]
	if !strings.Contains(last.Text, "Tuyệt vời") {
		t.Fatalf("answer to accept = %q", last.Text)
	}
	if n := len(last.QuickReplies); n != 1 || last.QuickReplies[0].ContentType != "user_phone_number" {
		t.Fatalf("phone request quick replies = %+v", last.QuickReplies)
	}
	e.postOK(e.ev.QuickReply(psid, e.mid(), "+84 90 123 45 67", "+84901234567", e.ms()))
	if c := e.customer(psid); c.Phone != "+84901234567" {
		t.Fatalf("phone = %q", c.Phone)
	}
	if c := e.customer(psid); c.Offers["welcome-new"].Accepted != 1 {
		t.Fatalf("offer stats = %+v", c.Offers["welcome-new"])
	}
}

func TestPhoneQuickReplyFallback(t *testing.T) {
	e := newEnv(t, nil)
	e.fake.RefusePhoneQuickReply()
	it := &crm.OutboxItem{ID: 1, UserID: "p1", Text: "Bạn để lại số điện thoại nhé", RequestPhone: true}
	if err := e.a.Send(context.Background(), it); err != nil {
		t.Fatal(err)
	}
	if s := e.sentTo("p1"); len(s) != 1 || len(s[0].QuickReplies) != 0 {
		t.Fatalf("sent = %+v", s)
	}
}

// Outside 24 hours nothing promotional leaves; agents' messages use the
// HUMAN_AGENT tag when allowed, up to 7 days.
func TestWindow(t *testing.T) {
	psid := "2600000000000001"
	ctx := context.Background()
	for _, human := range []bool{false, true} {
		t.Run(fmt.Sprintf("human agent tag %v", human), func(t *testing.T) {
			e := newEnv(t, func(o *messenger.Options) { o.HumanAgent = human })
			e.postOK(e.ev.Text(psid, e.mid(), "xin chào", e.ms()))
			c := e.customer(psid)
			e.clock.Add(23 * time.Hour)
			promo := &crm.OutboxItem{ID: 900, UserID: psid, Text: "PROMO-X", OfferID: "welcome-new"}
			if err := e.a.Send(ctx, promo); err != nil {
				t.Fatalf("offer inside 24h: %v", err)
			}
			e.clock.Add(2 * time.Hour)
			promo.ID = 901
			err := e.a.Send(ctx, promo)
			if !bot.IsPermanent(err) || !strings.Contains(err.Error(), "promotional") {
				t.Fatalf("offer after 25h: %v, want refused", err)
			}
			if err := e.a.Send(ctx, &crm.OutboxItem{ID: 902, UserID: psid, Text: "bot reply"}); !bot.IsPermanent(err) {
				t.Fatalf("bot reply after 25h: %v, want refused", err)
			}
			ob, err := e.core.SendAsAgent(ctx, c.ID, "lan", "Chị ơi, áo về rồi")
			if err != nil {
				t.Fatal(err)
			}
			fctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			defer cancel()
			e.disp.Flush(fctx)
			var got *crm.OutboxItem
			if err := e.db.View(ctx, func(tx crm.Tx) error { got, _ = tx.OutboxItem(ob.ID); return nil }); err != nil {
				t.Fatal(err)
			}
			sent := e.sentTo(psid)
			if human {
				if got.Status != crm.OutboxSent || sent[len(sent)-1].Tag != "HUMAN_AGENT" || sent[len(sent)-1].MessagingType != "MESSAGE_TAG" {
					t.Fatalf("agent message: %s %q, sent %+v", got.Status, got.LastError, sent[len(sent)-1])
				}
				e.clock.Add(7 * 24 * time.Hour)
				if err := e.a.Send(ctx, &crm.OutboxItem{ID: 903, UserID: psid, Text: "late", InteractionID: ob.InteractionID}); !bot.IsPermanent(err) {
					t.Fatalf("agent message after 8 days: %v, want refused", err)
				}
			} else if got.Status != crm.OutboxFailed || !strings.Contains(got.LastError, "not sent") {
				t.Fatalf("agent message without the tag: %s %q, want refused with the reason", got.Status, got.LastError)
			}
			for _, s := range sent {
				if s.Text == "PROMO-X" && s.MessagingType != "RESPONSE" {
					t.Fatalf("promotion sent as %s", s.MessagingType)
				}
			}
			if n := strings.Count(fmt.Sprint(sent), "PROMO-X"); n != 1 {
				t.Fatalf("offer sent %d times, want once (inside the window)", n)
			}
		})
	}
}

func TestSendErrorMapping(t *testing.T) {
	type class int
	const (
		temporary class = iota
		retryAfter
		permanent
		unreachable
	)
	classOf := func(err error) class {
		var ra *bot.RetryAfterError
		switch {
		case errors.Is(err, bot.ErrUnreachable):
			return unreachable
		case bot.IsPermanent(err):
			return permanent
		case errors.As(err, &ra):
			return retryAfter
		}
		return temporary
	}
	tests := []struct {
		name   string
		fault  messengertest.Fault
		want   class
		health bool
	}{
		{"613 rate limit", messengertest.Fault{Code: 613, Message: "(#613) Calls to this api have exceeded the rate limit."}, retryAfter, false},
		{"4 app rate limit", messengertest.Fault{Code: 4}, retryAfter, false},
		{"32 page rate limit", messengertest.Fault{Code: 32}, retryAfter, false},
		{"551 user unavailable", messengertest.Fault{Code: 551, Subcode: 1545041, Message: "(#551) This person isn't available right now."}, unreachable, false},
		{"10/2018278 outside window", messengertest.Fault{Code: 10, Subcode: 2018278, Status: 403}, permanent, false},
		{"190 token", messengertest.Fault{Code: 190}, permanent, true},
		{"100 bad parameter", messengertest.Fault{Code: 100}, permanent, false},
		{"500", messengertest.Fault{Status: 500, Code: 2, Message: "An unexpected error has occurred."}, temporary, false},
		{"transient", messengertest.Fault{Code: 1200, Transient: true}, temporary, false},
		{"502 HTML", messengertest.Fault{Status: 502, Body: "<html>Bad Gateway</html>"}, temporary, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, nil)
			e.fake.Fail(tt.fault)
			err := e.a.Send(context.Background(), &crm.OutboxItem{ID: 1, UserID: "p1", Text: "xin chào"})
			if got := classOf(err); got != tt.want {
				t.Fatalf("send = %v (class %d), want %d", err, got, tt.want)
			}
			if got := e.a.Health() != nil; got != tt.health {
				t.Fatalf("health = %v", e.a.Health())
			}
			if tt.health {
				if err := e.a.Send(context.Background(), &crm.OutboxItem{ID: 2, UserID: "p1", Text: "lại"}); err != nil {
					t.Fatal(err)
				}
				if e.a.Health() != nil {
					t.Fatal("health not cleared by a successful send")
				}
			}
		})
	}
	t.Run("unreachable through the dispatcher marks the identity", func(t *testing.T) {
		e := newEnv(t, nil)
		psid := "2700000000000001"
		e.fake.SetUser(psid, messengertest.Fault{Code: 551, Message: "(#551) This person isn't available right now."})
		e.postOK(e.ev.Text(psid, e.mid(), "xin chào", e.ms()))
		if id := e.customer(psid).Identity(messenger.Channel, psid); !id.Unreachable {
			t.Fatalf("identity = %+v, want unreachable", id)
		}
	})
}

func TestFromEnv(t *testing.T) {
	get := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	if _, ok, err := messenger.FromEnv(get(nil)); ok || err != nil {
		t.Fatalf("ok=%v err=%v", ok, err)
	}
	o, ok, err := messenger.FromEnv(get(map[string]string{"MESSENGER_PAGE_TOKEN": "t", "MESSENGER_APP_SECRET": "s", "MESSENGER_VERIFY_TOKEN": "v",
		"MESSENGER_HUMAN_AGENT": "true", "MESSENGER_WINDOW": "off"}))
	if !ok || err != nil || !o.HumanAgent || o.Window >= 0 || o.PageToken != "t" {
		t.Fatalf("options = %+v ok=%v err=%v", o, ok, err)
	}
	o, _, _ = messenger.FromEnv(get(map[string]string{"MESSENGER_PAGE_TOKEN": "t"}))
	if _, err := messenger.New(nopHandler{}, nopStore{}, o); err == nil || !strings.Contains(err.Error(), "MESSENGER_APP_SECRET") {
		t.Fatalf("New without the app secret: %v", err)
	}
}

type nopHandler struct{}

func (nopHandler) Handle(context.Context, bot.Inbound) (bot.Result, error) { return bot.Result{}, nil }

type nopStore struct{}

func (nopStore) Update(context.Context, func(crm.Tx) error) error { return nil }
func (nopStore) View(context.Context, func(crm.Tx) error) error   { return nil }

// The spec's worked example body, posted to the webhook, is accepted: ids
// arrive as strings ("PAGE_ID") or numbers, and numeric ids keep every
// digit.
func TestWebhookIDsAsStringsOrNumbers(t *testing.T) {
	// The example is from 2023: the age check is off here (TestStaleEventsRefused
	// has it on).
	e := newEnv(t, func(o *messenger.Options) { o.MaxEventAge = -1 })
	example := []byte(`{"object":"page","entry":[{"id":"PAGE_ID","time":1700000000000,"messaging":[{"sender":{"id":"PSID"},"recipient":{"id":"PAGE_ID"},"timestamp":1700000000000,"message":{"mid":"m_1","text":"hi"}}]}]}`)
	now := strconv.FormatInt(e.ms(), 10)
	numeric := []byte(`{"object":"page","entry":[{"id":110000000000001,"time":` + now + `,"messaging":[{"sender":{"id":24000000000000123},"recipient":{"id":110000000000001},"timestamp":"` + now + `","message":{"mid":"m_2","text":"xin chào"}}]}]}`)
	for _, tc := range []struct {
		name, psid string
		body       []byte
		at         time.Time
		answered   bool // the example is from 2023: outside the window now
	}{
		{"worked example", "PSID", example, time.UnixMilli(1700000000000), false},
		{"numeric ids", "24000000000000123", numeric, e.clock.Now(), true}, // 17 digits: float64 would make it …120
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := e.post(tc.body); got != http.StatusOK {
				t.Fatalf("webhook answered %d", got)
			}
			c := e.customer(tc.psid)
			if c == nil {
				t.Fatalf("no customer for %s", tc.psid)
			}
			if got := len(e.sentTo(tc.psid)) > 0; got != tc.answered {
				t.Fatalf("%s answered: %v, want %v", tc.psid, got, tc.answered)
			}
			var its []*crm.Interaction
			if err := e.db.View(context.Background(), func(tx crm.Tx) error { its, _ = tx.Interactions(c.ID, 0, 0); return nil }); err != nil {
				t.Fatal(err)
			}
			if !its[0].Time.Equal(tc.at) {
				t.Fatalf("logged at %v, want the event's timestamp %v", its[0].Time, tc.at)
			}
		})
	}
}

// flaky is a bot.Handler that fails its first calls as a store would.
type flaky struct {
	bot.Handler
	mu    sync.Mutex
	fails int
}

func (f *flaky) Handle(ctx context.Context, in bot.Inbound) (bot.Result, error) {
	f.mu.Lock()
	fail := f.fails > 0
	if fail {
		f.fails--
	}
	f.mu.Unlock()
	if fail {
		return bot.Result{}, crm.Errorf(crm.EINTERNAL, "store unavailable")
	}
	return f.Handler.Handle(ctx, in)
}

// A batch is acknowledged only after it is committed: a failure answers
// 500 and stores nothing, so Meta delivers again; the redelivery is handled
// once and answered once.
func TestAckOnlyAfterCommit(t *testing.T) {
	e := newEnv(t, nil)
	h := &flaky{Handler: e.core, fails: 1}
	a, err := messenger.New(h, e.db, messenger.Options{PageToken: e.fake.PageToken, AppSecret: e.fake.AppSecret,
		VerifyToken: messengertest.DefaultVerifyToken, APIURL: e.fake.URL(), Now: e.clock.Now, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	a.Routes(mux)
	web := httptest.NewServer(mux)
	defer web.Close()
	psid := "2800000000000001"
	body := e.ev.Batch(e.ms(), e.ev.Text(psid, e.mid(), "xin chào", e.ms()))
	post := func() int {
		resp, err := messengertest.Post(http.DefaultClient, web.URL+messenger.WebhookPath, body, e.fake.AppSecret)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if err := e.disp.Flush(context.Background()); err != nil {
			t.Fatal(err)
		}
		return resp.StatusCode
	}
	if got := post(); got != http.StatusInternalServerError {
		t.Fatalf("failed commit answered %d, want 500", got)
	}
	if c := e.customer(psid); c != nil {
		t.Fatal("a failed commit stored a customer")
	}
	if got := post(); got != http.StatusOK {
		t.Fatalf("redelivery answered %d", got)
	}
	n := len(e.sentTo(psid))
	if n == 0 {
		t.Fatal("the redelivery was not answered")
	}
	if got := post(); got != http.StatusOK || len(e.sentTo(psid)) != n {
		t.Fatalf("second redelivery: %d, %d more messages", got, len(e.sentTo(psid))-n)
	}
}

package telegram

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/idicbot/idicbot/adapters/telegram/telegramtest"
	"github.com/idicbot/idicbot/bot"
)

const testSecret = "s3cr3t_Token-123"

// webhookSetup runs the adapter in webhook mode behind an HTTP server, as
// cmd would mount it, and registers it with the fake Bot API.
func webhookSetup(t *testing.T, h bot.Handler) (*telegramtest.Server, *Adapter, string) {
	t.Helper()
	srv := telegramtest.New(t)
	mux := http.NewServeMux()
	web := httptest.NewServer(mux)
	t.Cleanup(web.Close)
	opts := testOptions(srv)
	opts.WebhookURL = web.URL + WebhookPath
	opts.WebhookSecret = testSecret
	a, err := New(h, opts)
	if err != nil {
		t.Fatal(err)
	}
	a.Routes(mux)
	if err := a.Open(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = a.Close() })
	return srv, a, web.URL + WebhookPath
}

func post(t *testing.T, url, secret, body string) int {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if secret != "" {
		req.Header.Set("X-Telegram-Bot-Api-Secret-Token", secret)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func TestWebhookRegistersWithSecret(t *testing.T) {
	h := newFakeHandler()
	srv, _, url := webhookSetup(t, h)
	gotURL, gotSecret := srv.Webhook()
	if gotURL != url || gotSecret != testSecret {
		t.Fatalf("webhook %q secret %q, want %q secret %q", gotURL, gotSecret, url, testSecret)
	}
	if n := len(srv.Calls("deleteWebhook")); n != 0 {
		t.Fatalf("webhook mode called deleteWebhook %d times", n)
	}
	if n := len(srv.Calls("getUpdates")); n != 0 {
		t.Fatalf("webhook mode called getUpdates %d times", n)
	}
}

func TestWebhookRefusesWrongSecret(t *testing.T) {
	h := newFakeHandler()
	_, _, url := webhookSetup(t, h)
	for _, secret := range []string{"", "wrong", testSecret + "x", strings.ToUpper(testSecret)} {
		if code := post(t, url, secret, updPrivateText); code != http.StatusUnauthorized {
			t.Errorf("secret %q: status %d, want 401", secret, code)
		}
	}
	if n := h.Calls(); n != 0 {
		t.Fatalf("handler called %d times for refused requests", n)
	}
}

func TestWebhookRefusesNonUpdates(t *testing.T) {
	h := newFakeHandler()
	_, _, url := webhookSetup(t, h)
	// The last two are updates whose text is not valid text: encoding/json
	// would store U+FFFD in place of what was sent.
	for _, body := range []string{"", "hello", "[]", `{"foo":1}`, `{"update_id":"x"}`, `{"update_id":0}`, `{"update_id":12,`,
		`{"update_id":13,"message":{"message_id":1,"date":1767225700,"chat":{"id":5,"type":"private"},"from":{"id":5,"is_bot":false,"first_name":"A"},"text":"x\ud800"}}`,
		"{\"update_id\":14,\"message\":{\"message_id\":1,\"date\":1767225700,\"chat\":{\"id\":5,\"type\":\"private\"},\"from\":{\"id\":5,\"is_bot\":false,\"first_name\":\"A\"},\"text\":\"x\xff\"}}"} {
		if code := post(t, url, testSecret, body); code != http.StatusBadRequest {
			t.Errorf("body %q: status %d, want 400", body, code)
		}
	}
	if n := h.Calls(); n != 0 {
		t.Fatalf("handler called %d times for bad bodies", n)
	}
}

func TestWebhookAnswers200OnlyAfterCommit(t *testing.T) {
	h := newFakeHandler()
	var fail atomic.Bool
	fail.Store(true)
	h.decide = func(bot.Inbound, int) error {
		if fail.Load() {
			return errStore
		}
		return nil
	}
	srv, _, _ := webhookSetup(t, h)
	lan := telegramtest.User{ID: 1111111, FirstName: "Lan", LanguageCode: "vi"}
	srv.UserText(lan, "/start zalo_ads")
	press := srv.PressButton(lan, "offer:o1:more")

	// Telegram keeps an update until the webhook answers 200.
	n, err := srv.DeliverWebhook(context.Background())
	if err == nil || n != 0 || !strings.Contains(err.Error(), "500") {
		t.Fatalf("delivered %d, err %v; want a 500 on the first update", n, err)
	}
	if srv.Pending() != 2 || len(h.Committed()) != 0 {
		t.Fatalf("pending %d, committed %d after a failed handling", srv.Pending(), len(h.Committed()))
	}
	fail.Store(false)
	if n, err := srv.DeliverWebhook(context.Background()); err != nil || n != 2 {
		t.Fatalf("delivered %d, err %v", n, err)
	}
	c := h.Committed()
	if len(c) != 2 || c[0].Source != "zalo_ads" || c[1].Payload != "offer:o1:more" {
		t.Fatalf("committed %+v", c)
	}
	if a := srv.Answered(); len(a) != 1 || a[0] != press.QueryID {
		t.Fatalf("answered %v, want [%s]", a, press.QueryID)
	}
}

func TestWebhookRedeliveryIsHarmless(t *testing.T) {
	h := newFakeHandler()
	_, _, url := webhookSetup(t, h)
	for range 2 {
		if code := post(t, url, testSecret, updPrivateText); code != http.StatusOK {
			t.Fatalf("status %d", code)
		}
	}
	if h.Calls() != 2 || len(h.Committed()) != 1 {
		t.Fatalf("calls %d, committed %d; want the same MessageID twice, committed once", h.Calls(), len(h.Committed()))
	}
}

func TestPollingModeHasNoWebhookRoute(t *testing.T) {
	srv := telegramtest.New(t)
	a, err := New(newFakeHandler(), testOptions(srv))
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	a.Routes(mux)
	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, WebhookPath, strings.NewReader(updPrivateText)))
	if rec.Code != http.StatusNotFound {
		t.Fatalf("status %d, want 404", rec.Code)
	}
}

func TestNewGeneratesWebhookSecret(t *testing.T) {
	a, err := New(newFakeHandler(), Options{Token: "1:x", WebhookURL: "https://shop.example/telegram/webhook"})
	if err != nil {
		t.Fatal(err)
	}
	if !validSecret(a.opts.WebhookSecret) || len(a.opts.WebhookSecret) < 32 {
		t.Fatalf("generated secret %q", a.opts.WebhookSecret)
	}
	for _, bad := range []Options{{}, {Token: "nocolon"}, {Token: "1:x", WebhookSecret: "has space"}, {Token: "1:x", WebhookURL: "ftp://x"}} {
		if _, err := New(newFakeHandler(), bad); err == nil {
			t.Errorf("New(%+v) accepted", bad)
		}
	}
}

func TestOpenFailsOnWrongToken(t *testing.T) {
	srv := telegramtest.New(t)
	opts := testOptions(srv)
	opts.Token = "1:wrong"
	a, err := New(newFakeHandler(), opts)
	if err != nil {
		t.Fatal(err)
	}
	err = a.Open(t.Context())
	if err == nil || !strings.Contains(err.Error(), "getMe") {
		t.Fatalf("Open: %v, want a getMe error", err)
	}
	if strings.Contains(err.Error(), "1:wrong") {
		t.Fatalf("error shows the token: %v", err)
	}
	_ = a.Close()
}

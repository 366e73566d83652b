package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/idicbot/idicbot/adapters/messenger"
	"github.com/idicbot/idicbot/adapters/messenger/messengertest"
	"github.com/idicbot/idicbot/adapters/zalo"
	"github.com/idicbot/idicbot/adapters/zalo/zalotest"
	"github.com/idicbot/idicbot/crm"
)

// channelsUntil polls cond; nothing is timed, the deadline only stops a
// hung test.
func channelsUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// healthzOf returns /healthz's status and the problems it lists per channel.
func healthzOf(t *testing.T, base string) (string, map[string]string) {
	t.Helper()
	resp, err := http.Get(base + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var h struct {
		Status   string            `json:"status"`
		Channels map[string]string `json:"channels"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&h); err != nil {
		t.Fatal(err)
	}
	return h.Status, h.Channels
}

func zaloEnv(fake *zalotest.Server) map[string]string {
	return map[string]string{
		"ZALO_APP_ID": fake.AppID, "ZALO_APP_SECRET": fake.AppSecret, "ZALO_OA_SECRET_KEY": zalotest.DefaultOASecretKey,
		"ZALO_OA_ID": fake.OAID, "ZALO_REFRESH_TOKEN": fake.RefreshToken(), "ZALO_API_URL": fake.URL(), "ZALO_OAUTH_URL": fake.URL(),
	}
}

// `idicbot serve` with the ZALO_ variables set: a signed event on
// /zalo/webhook is answered through the OA API (after refreshing the first
// token), an unsigned one is refused, and /healthz is fine.
func TestZaloServe(t *testing.T) {
	fake := zalotest.New(t)
	_, base := startServe(t, t.TempDir(), zaloEnv(fake))
	ev := zalotest.Events{AppID: fake.AppID, OAID: fake.OAID}
	user := "7813306842916204155"
	body := ev.Text(user, "a7c2e91d04b35f6e0001", "xin chào", time.Now().UnixMilli())

	req, _ := http.NewRequest(http.MethodPost, base+zalo.WebhookPath, strings.NewReader(string(body)))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("unsigned event answered %d, want 401", resp.StatusCode)
	}
	resp, err = zalotest.Post(http.DefaultClient, base+zalo.WebhookPath, body, zalotest.DefaultOASecretKey)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("signed event answered %d", resp.StatusCode)
	}
	channelsUntil(t, "the greeting on Zalo", func() bool { return len(fake.SentTo(user)) >= 2 })
	if got := fake.SentTo(user)[0].Text; !strings.Contains(got, "Xin chào") {
		t.Fatalf("first reply = %q, want the greeting", got)
	}
	if calls := fake.OAuthCalls(); len(calls) == 0 || calls[0].GrantType != "refresh_token" {
		t.Fatalf("OAuth calls = %+v, want a refresh with ZALO_REFRESH_TOKEN", calls)
	}
	if status, problems := healthzOf(t, base); status != "ok" || len(problems) != 0 {
		t.Fatalf("healthz = %s %v", status, problems)
	}
	if code := statusOf(t, base+"/readyz"); code != http.StatusOK {
		t.Fatalf("readyz = %d, want 200", code)
	}
}

func statusOf(t *testing.T, url string) int {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// A refresh Zalo refuses (the refresh token was already used) shows in
// /healthz under "zalo", and nothing is sent.
func TestZaloServeHealthzShowsFailedRefresh(t *testing.T) {
	fake := zalotest.New(t)
	fake.Fail("oauth", zalotest.Fault{Error: -14014})
	_, base := startServe(t, t.TempDir(), zaloEnv(fake))
	var problems map[string]string
	var status string
	channelsUntil(t, "/healthz to report the refused refresh", func() bool {
		status, problems = healthzOf(t, base)
		return problems["zalo"] != ""
	})
	if status != "degraded" || !strings.Contains(problems["zalo"], "re-authorisation") {
		t.Fatalf("healthz = %s %v, want degraded with the Zalo re-authorisation", status, problems)
	}
	// Alive (a restart would not renew the token) but not ready.
	if live, ready := statusOf(t, base+"/healthz"), statusOf(t, base+"/readyz"); live != http.StatusOK || ready != http.StatusServiceUnavailable {
		t.Fatalf("healthz %d readyz %d, want 200 and 503", live, ready)
	}
}

// `idicbot serve` with the MESSENGER_ variables set: Meta's verification is
// answered with the challenge, a signed message is answered through the
// Send API, an unsigned one is refused.
func TestMessengerServe(t *testing.T) {
	fake := messengertest.New(t)
	_, base := startServe(t, t.TempDir(), map[string]string{
		"MESSENGER_PAGE_TOKEN": fake.PageToken, "MESSENGER_APP_SECRET": fake.AppSecret,
		"MESSENGER_VERIFY_TOKEN": messengertest.DefaultVerifyToken, "MESSENGER_API_URL": fake.URL(),
	})
	q := url.Values{"hub.mode": {"subscribe"}, "hub.verify_token": {messengertest.DefaultVerifyToken}, "hub.challenge": {"1158201444"}}
	resp, err := http.Get(base + messenger.WebhookPath + "?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	challenge, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || string(challenge) != "1158201444" {
		t.Fatalf("verification: %d %q", resp.StatusCode, challenge)
	}
	ev := messengertest.Events{PageID: fake.PageID}
	psid := "2400000000000001"
	now := time.Now().UnixMilli()
	body := ev.Batch(now, ev.Text(psid, "m_1", "xin chào", now))
	resp, err = http.Post(base+messenger.WebhookPath, "application/json", strings.NewReader(string(body)))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("unsigned batch answered %d, want 401", resp.StatusCode)
	}
	resp, err = messengertest.Post(http.DefaultClient, base+messenger.WebhookPath, body, fake.AppSecret)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("signed batch answered %d", resp.StatusCode)
	}
	channelsUntil(t, "the greeting on Messenger", func() bool {
		for _, s := range fake.Sent() {
			if s.Recipient == psid && strings.Contains(s.Text, "Xin chào") {
				return true
			}
		}
		return false
	})
}

// `idicbot serve` refuses signed Zalo and Messenger events older than
// zalo.max_event_age and messenger.max_event_age from the config file (48h
// here, against the 24h default): a 47-hour-old event is answered, a
// 49-hour-old one is acknowledged and not handled.
func TestServeChannelEventAge(t *testing.T) {
	zfake, mfake := zalotest.New(t), messengertest.New(t)
	dir := t.TempDir()
	cfg := filepath.Join(dir, "idicbot.yaml")
	if err := os.WriteFile(cfg, []byte("zalo:\n  max_event_age: 48h\nmessenger:\n  max_event_age: 48h\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := zaloEnv(zfake)
	env["IDICBOT_CONFIG"] = cfg
	env["MESSENGER_PAGE_TOKEN"], env["MESSENGER_APP_SECRET"] = mfake.PageToken, mfake.AppSecret
	env["MESSENGER_VERIFY_TOKEN"], env["MESSENGER_API_URL"] = messengertest.DefaultVerifyToken, mfake.URL()
	m, base := startServe(t, filepath.Join(dir, "data"), env)
	zev, mev := zalotest.Events{AppID: zfake.AppID, OAID: zfake.OAID}, messengertest.Events{PageID: mfake.PageID}
	post := func(resp *http.Response, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("webhook answered %d, want 200", resp.StatusCode)
		}
	}
	const zStale, zFresh, mStale, mFresh = "7813306842916200001", "7813306842916200002", "2400000000000101", "2400000000000102"
	stale, fresh := time.Now().Add(-49*time.Hour).UnixMilli(), time.Now().Add(-47*time.Hour).UnixMilli()
	post(zalotest.Post(http.DefaultClient, base+zalo.WebhookPath, zev.Text(zStale, "a7c2e91d04b35f6e0101", "xin chào", stale), zalotest.DefaultOASecretKey))
	post(zalotest.Post(http.DefaultClient, base+zalo.WebhookPath, zev.Text(zFresh, "a7c2e91d04b35f6e0102", "xin chào", fresh), zalotest.DefaultOASecretKey))
	post(messengertest.Post(http.DefaultClient, base+messenger.WebhookPath, mev.Batch(stale, mev.Text(mStale, "m_101", "xin chào", stale)), mfake.AppSecret))
	post(messengertest.Post(http.DefaultClient, base+messenger.WebhookPath, mev.Batch(fresh, mev.Text(mFresh, "m_102", "xin chào", fresh)), mfake.AppSecret))
	// Each webhook answers after its commit: what was stored is there now.
	for _, c := range []struct {
		ch     crm.Channel
		user   string
		stored bool
	}{{crm.ChannelZalo, zStale, false}, {crm.ChannelZalo, zFresh, true}, {messenger.Channel, mStale, false}, {messenger.Channel, mFresh, true}} {
		var cu *crm.Customer
		if err := m.DB.View(context.Background(), func(tx crm.Tx) error {
			var err error
			cu, err = tx.FindCustomerByIdentity(c.ch, c.user)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		if got := cu != nil; got != c.stored {
			t.Errorf("%s event of %s stored: %v, want %v", c.ch, c.user, got, c.stored)
		}
	}
	if got := zfake.SentTo(zStale); len(got) != 0 {
		t.Fatalf("a Zalo event older than zalo.max_event_age was answered: %+v", got)
	}
}

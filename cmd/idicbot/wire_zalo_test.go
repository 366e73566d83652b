package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/idicbot/idicbot/adapters/messenger"
	"github.com/idicbot/idicbot/adapters/messenger/messengertest"
	"github.com/idicbot/idicbot/adapters/zalo"
	"github.com/idicbot/idicbot/adapters/zalo/zalotest"
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

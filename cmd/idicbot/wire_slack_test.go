package main

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/idicbot/idicbot/adapters/slack/slacktest"
)

const serveSlackSecret = "8f742231b10e8888abcd99yyyzzz85a5"

// slackCommand posts a /crm command to serve's /slack/commands, signed with
// secret now (unsigned when secret is empty).
func slackCommand(t *testing.T, base, secret, user, text string) (int, string) {
	t.Helper()
	body := url.Values{"command": {"/crm"}, "text": {text}, "user_id": {user}, "team_id": {slacktest.TeamID},
		"channel_id": {"C0REPS"}, "response_url": {base + "/nowhere"}, "trigger_id": {"1.2.3"}}.Encode()
	req, err := http.NewRequest(http.MethodPost, base+"/slack/commands", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if secret != "" {
		ts := strconv.FormatInt(time.Now().Unix(), 10)
		m := hmac.New(sha256.New, []byte(secret))
		fmt.Fprintf(m, "v0:%s:%s", ts, body)
		req.Header.Set("X-Slack-Request-Timestamp", ts)
		req.Header.Set("X-Slack-Signature", "v0="+hex.EncodeToString(m.Sum(nil)))
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestSlackServe: with the SLACK_ variables set, serve answers signed /crm
// commands for reps, refuses unsigned ones, and posts a handoff card to the
// handoff channel of the Slack Web API it was pointed at.
func TestSlackServe(t *testing.T) {
	fake := slacktest.New(t)
	_, base := startServe(t, t.TempDir(), map[string]string{
		"SLACK_BOT_TOKEN":       slacktest.BotToken,
		"SLACK_SIGNING_SECRET":  serveSlackSecret,
		"SLACK_API_URL":         fake.APIURL(),
		"SLACK_HANDOFF_CHANNEL": "C0HANDOFF",
		"SLACK_REP_IDS":         "U0REP",
	})

	if code, body := slackCommand(t, base, serveSlackSecret, "U0REP", "help"); code != http.StatusOK || !strings.Contains(body, "/crm find") {
		t.Fatalf("signed /crm help: %d %s", code, body)
	}
	if code, _ := slackCommand(t, base, "", "U0REP", "help"); code != http.StatusUnauthorized {
		t.Fatalf("unsigned /crm help: %d, want 401", code)
	}
	if code, _ := slackCommand(t, base, "wrong-secret", "U0REP", "help"); code != http.StatusUnauthorized {
		t.Fatalf("/crm help signed with another secret: %d, want 401", code)
	}
	if code, body := slackCommand(t, base, serveSlackSecret, "U0STRANGER", "find 0912 345 678"); code != http.StatusOK || !strings.Contains(body, "chỉ dành cho nhân viên bán hàng") {
		t.Fatalf("a user who is not a rep: %d %s", code, body)
	}

	if code, body := postJSON(t, base+"/webchat/messages", `{"session":"s-slack","id":"1","text":"gặp nhân viên"}`); code != http.StatusAccepted && code != http.StatusOK {
		t.Fatalf("web chat: %d %s", code, body)
	}
	cards := fake.Wait("chat.postMessage", 1, 10*time.Second)
	if len(cards) == 0 {
		t.Fatal("no handoff card posted to Slack")
	}
	if got := cards[0].Form.Get("channel"); got != "C0HANDOFF" {
		t.Fatalf("handoff card posted to %q, want C0HANDOFF", got)
	}
	if !strings.Contains(string(cards[0].Body), "gặp nhân viên") && !strings.Contains(cards[0].Form.Get("blocks"), "gặp nhân viên") {
		t.Fatalf("handoff card does not show the customer's message: %s", cards[0].Body)
	}
}

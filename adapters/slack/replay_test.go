package slack_test

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/idicbot/idicbot/adapters/slack"
	"github.com/idicbot/idicbot/adapters/slack/slacktest"
	"github.com/idicbot/idicbot/crm"
)

// signedNow returns the headers of body signed now: posting them again is a
// replay of the same request.
func signedNow(body []byte) map[string]string {
	ts := strconv.FormatInt(time.Now().Unix(), 10)
	return map[string]string{"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": sign(docSecret, ts, body)}
}

// writes are the /crm subcommands that change a customer, with what each
// changes; id is the customer's id as typed.
func writes(id string) []struct {
	name, text string
	count      func(cu *crm.Customer) int
} {
	return []struct {
		name, text string
		count      func(cu *crm.Customer) int
	}{
		{"order", "order " + id + " 250k replayed", func(cu *crm.Customer) int { return cu.Stats.Orders }},
		{"note", "note " + id + " replayed note", func(cu *crm.Customer) int { return len(cu.Notes) }},
		{"tag", "tag " + id + " replayed", func(cu *crm.Customer) int { return len(cu.Tags) }},
	}
}

// TestSlackCommandReplay: a signed /crm command sent three times within
// the signature window (a captured request replayed) is run once; the
// replays are answered and logged, and change nothing.
func TestSlackCommandReplay(t *testing.T) {
	e := newEnv(t, false)
	id := e.ids["anh"]
	for _, w := range writes(e.id("anh")) {
		t.Run(w.name, func(t *testing.T) {
			before := w.count(e.customer(id))
			body := commandBody(slacktest.TeamID, repUser, w.text)
			headers := signedNow(body)
			var answers []string
			for range 3 {
				status, out := e.post(slack.CommandsPath, formType, body, headers)
				if status != http.StatusOK {
					t.Fatalf("status %d: %s", status, out)
				}
				answers = append(answers, string(out))
			}
			if got := w.count(e.customer(id)) - before; got != 1 {
				t.Fatalf("three deliveries of one signed /crm %s changed %d things, want 1", w.name, got)
			}
			for _, a := range answers[1:] {
				contains(t, "replay answer", a, "đã được xử lý")
			}
			contains(t, "log", e.logs.String(), "refused a replayed request", "kind=command user="+repUser)
		})
	}
	if cu := e.customer(id); len(cu.Notes) != 1 || cu.Stats.Orders != 1 {
		t.Fatalf("after the replays: %d notes, %d orders; want 1 and 1", len(cu.Notes), cu.Stats.Orders)
	}

	// After a restart the replay memory is empty; the order's Ref, stored
	// with it, still keeps a replayed order single.
	t.Run("order after restart", func(t *testing.T) {
		body := commandBody(slacktest.TeamID, repUser, "order "+e.id("anh")+" 300k")
		headers := signedNow(body)
		if status, out := e.post(slack.CommandsPath, formType, body, headers); status != http.StatusOK {
			t.Fatalf("status %d: %s", status, out)
		}
		orders := e.customer(id).Stats.Orders
		again, err := slack.New(e.core, slack.Options{BotToken: slacktest.BotToken, APIURL: e.fake.APIURL(), SigningSecret: docSecret,
			TeamIDs: []string{slacktest.TeamID}, RepIDs: []string{repUser}, Logger: slog.New(slog.DiscardHandler)})
		if err != nil {
			t.Fatal(err)
		}
		mux := http.NewServeMux()
		again.Routes(mux)
		srv := httptest.NewServer(mux)
		defer srv.Close()
		defer again.Close()
		req, _ := http.NewRequest(http.MethodPost, srv.URL+slack.CommandsPath, strings.NewReader(string(body)))
		req.Header.Set("Content-Type", formType)
		for k, v := range headers {
			req.Header.Set(k, v)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var a answer
		err = json.NewDecoder(resp.Body).Decode(&a)
		resp.Body.Close()
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("replay after restart: %d %v", resp.StatusCode, err)
		}
		if got := e.customer(id).Stats.Orders; got != orders {
			t.Fatalf("a replay after a restart recorded an order: %d -> %d", orders, got)
		}
		contains(t, "answer after restart", a.Text, "đã được ghi bởi chính yêu cầu này")
	})
}

// TestSlackInteractionReplay: a captured "Take it" click replayed after the
// customer was handed back does not take the conversation again.
func TestSlackInteractionReplay(t *testing.T) {
	e := newEnv(t, false)
	res, _ := e.say(crm.ChannelWeb, "w-replay", "gặp nhân viên")
	id := res.CustomerID
	card := e.handoffCard(id)
	click := clickBody(slacktest.TeamID, repUser, handoffChan, card.TS, slack.ActionTake, e.idOf(id))
	headers := signedNow(click)
	if status, _ := e.post(slack.InteractionsPath, formType, click, headers); status != http.StatusOK {
		t.Fatalf("take: status %d", status)
	}
	eventually(t, "taken", func() bool { return e.customer(id).Handoff.Agent == "slack:"+repUser })
	e.crm(repUser, "release "+e.idOf(id))
	if h := e.customer(id).Handoff; h.Active {
		t.Fatalf("not released: %+v", h)
	}
	for range 2 {
		if status, _ := e.post(slack.InteractionsPath, formType, click, headers); status != http.StatusOK {
			t.Fatalf("replayed take: status %d", status)
		}
	}
	if h := e.customer(id).Handoff; h.Active || h.Agent != "" {
		t.Fatalf("a replayed click took the conversation again: %+v", h)
	}
	contains(t, "log", e.logs.String(), "refused a replayed request", "kind=interaction")
}

// TestSlackSocketReplay: over Socket Mode, the same envelope delivered three
// times runs its command once and is acknowledged each time.
func TestSlackSocketReplay(t *testing.T) {
	e := newEnv(t, true)
	e.fake.WaitConnected(5 * time.Second)
	id := e.ids["anh"]
	for i, w := range writes(e.id("anh")) {
		t.Run(w.name, func(t *testing.T) {
			before := w.count(e.customer(id))
			cmd := map[string]any{"token": "legacy", "team_id": slacktest.TeamID, "team_domain": "idic-test", "channel_id": "C0SALES01",
				"channel_name": "sales", "user_id": repUser, "user_name": "u", "command": "/crm", "text": w.text,
				"api_app_id": "A0IDIC001", "is_enterprise_install": "false", "response_url": e.fake.ResponseURL("sock"), "trigger_id": nextTrigger()}
			env := "env-replay-" + strconv.Itoa(i)
			for range 3 {
				e.fake.SendEnvelope(env, "slash_commands", cmd)
			}
			acks := e.fake.WaitAcks(env, 3, 5*time.Second)
			if got := w.count(e.customer(id)) - before; got != 1 {
				t.Fatalf("one envelope delivered three times changed %d things, want 1", got)
			}
			replays := 0
			var payloads []string
			for _, a := range acks {
				payloads = append(payloads, string(a.Payload))
				if strings.Contains(string(a.Payload), "đã được xử lý") {
					replays++
				}
			}
			if replays != 2 {
				t.Fatalf("%d of 3 acks say the request was already handled, want 2:\n%s", replays, strings.Join(payloads, "\n"))
			}
		})
	}
}

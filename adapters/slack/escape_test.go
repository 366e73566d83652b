package slack_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/idicbot/idicbot/adapters/slack"
	"github.com/idicbot/idicbot/adapters/slack/slacktest"
	"github.com/idicbot/idicbot/bot"
	"github.com/idicbot/idicbot/crm"
)

// What a hostile customer puts in their Telegram name and messages: a
// channel-wide ping, a user mention, a link in disguise and mrkdwn.
const (
	evilName = "<!channel> <@U123> *x*"
	evilText = "<!here> _hi_ <http://evil|click>"
)

// markup is what Slack would act on if it reached it unescaped.
var markup = []string{"<!", "<@U123", "<http", "<mailto"}

// jsonStrings returns every string value in a JSON document, decoded (Go's
// encoder writes '<' as \u003c, so the raw bytes would hide it).
func jsonStrings(t *testing.T, raw string) []string {
	t.Helper()
	if raw == "" {
		return nil
	}
	var v any
	if err := json.Unmarshal([]byte(raw), &v); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, raw)
	}
	var out []string
	var walk func(any)
	walk = func(v any) {
		switch x := v.(type) {
		case string:
			out = append(out, x)
		case map[string]any:
			for _, val := range x {
				walk(val)
			}
		case []any:
			for _, val := range x {
				walk(val)
			}
		}
	}
	walk(v)
	return out
}

// noMarkup fails when a string Slack renders carries live markup.
func noMarkup(t *testing.T, what string, texts ...string) {
	t.Helper()
	for _, s := range texts {
		for _, m := range markup {
			if strings.Contains(s, m) {
				t.Fatalf("%s: unescaped %q in %q", what, m, s)
			}
		}
	}
}

// checkCall checks every field Slack renders of a Web API call: the
// top-level text (the fallback and notification), blocks and attachments.
func checkCall(t *testing.T, c slacktest.Call) {
	t.Helper()
	what := c.Method
	noMarkup(t, what, c.Form.Get("text"))
	noMarkup(t, what, jsonStrings(t, c.Form.Get("blocks"))...)
	noMarkup(t, what, jsonStrings(t, c.Form.Get("attachments"))...)
}

// TestSlackEscapesCustomerText: a Telegram customer named "<!channel>
// <@U123> *x*" who writes "<!here> _hi_ <http://evil|click>" pings nobody
// and links nowhere, in the handoff card, its updates, the thread relay and
// every /crm answer (fallback text and blocks), and what they wrote is shown
// to the rep as written, not as mrkdwn.
func TestSlackEscapesCustomerText(t *testing.T) {
	e := newEnv(t, false)
	ctx := context.Background()
	const tg = "90001"
	hello := bot.Inbound{Channel: crm.ChannelTelegram, UserID: tg, ChatID: tg, MessageID: "evil-1", Text: evilText,
		Name: evilName, Username: "evil_user"}
	res, err := e.core.Handle(ctx, hello)
	if err != nil {
		t.Fatal(err)
	}
	e.flush()
	id := res.CustomerID
	idStr := e.idOf(id)
	if got := e.customer(id).Name; got != evilName {
		t.Fatalf("customer name %q, want %q (the test needs the hostile name stored)", got, evilName)
	}
	err = e.db.Update(ctx, func(tx crm.Tx) error {
		cu, err := tx.Customer(id)
		if err != nil {
			return err
		}
		cu.Company, cu.IsBusiness, cu.Address = "<!everyone> Co", true, "<@U123> street"
		cu.Email, cu.Source = "a<b@example.com", "<http://src|src>"
		return tx.PutCustomer(cu)
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.core.Reps().AddNote(ctx, id, "slack:"+repUser, "<!subteam^S1> call "+evilText); err != nil {
		t.Fatal(err)
	}
	// An author that is not a Slack user id (the admin API, an import) is
	// text too.
	if _, err := e.core.Reps().AddNote(ctx, id, "slack:U1> <!channel", "by a forged author"); err != nil {
		t.Fatal(err)
	}

	// The handoff card.
	if _, err := e.core.Handle(ctx, bot.Inbound{Channel: crm.ChannelTelegram, UserID: tg, ChatID: tg, MessageID: "evil-2",
		Text: "cho mình gặp nhân viên", Name: evilName}); err != nil {
		t.Fatal(err)
	}
	e.flush()
	card := e.handoffCard(id)
	checkCall(t, card)
	contains(t, "card", callText(card), "&lt;!channel&gt; &lt;@U123&gt;", "&lt;!here&gt; _hi_ &lt;http://evil|click&gt;")

	// What the customer writes next goes to the thread, verbatim.
	if _, err := e.core.Handle(ctx, bot.Inbound{Channel: crm.ChannelTelegram, UserID: tg, ChatID: tg, MessageID: "evil-3",
		Text: evilText, Name: evilName}); err != nil {
		t.Fatal(err)
	}
	e.flush()
	var relay slacktest.Call
	eventually(t, "customer text relayed to the thread", func() bool {
		for _, c := range e.fake.Calls("chat.postMessage") {
			if c.Form.Get("thread_ts") == card.TS && strings.Contains(callText(c), "_hi_") {
				relay = c
				return true
			}
		}
		return false
	})
	checkCall(t, relay)
	if got := relay.Form.Get("mrkdwn"); got != "false" {
		t.Fatalf("relay mrkdwn = %q, want false (the customer's *x* and _hi_ shown as typed): %s", got, relay.Body)
	}
	var blocks []struct {
		Type string `json:"type"`
		Text struct {
			Type string `json:"type"`
			Text string `json:"text"`
		} `json:"text"`
	}
	if err := json.Unmarshal([]byte(relay.Form.Get("blocks")), &blocks); err != nil {
		t.Fatalf("relay blocks: %v: %s", err, relay.Form.Get("blocks"))
	}
	wantRelay := "&lt;!channel&gt; &lt;@U123&gt; *x* (telegram): &lt;!here&gt; _hi_ &lt;http://evil|click&gt;"
	if len(blocks) != 1 || blocks[0].Type != "section" || blocks[0].Text.Type != "plain_text" || blocks[0].Text.Text != wantRelay {
		t.Fatalf("relay blocks = %s\nwant one plain_text section %q", relay.Form.Get("blocks"), wantRelay)
	}

	// A rep takes it (card redrawn with chat.update, a line in the thread).
	status, _ := e.post(slack.InteractionsPath, formType, clickBody(slacktest.TeamID, repUser, handoffChan, card.TS, slack.ActionTake, idStr), nil)
	if status != http.StatusOK {
		t.Fatalf("take: status %d", status)
	}
	eventually(t, "card redrawn", func() bool { return len(e.fake.Calls("chat.update")) > 0 })

	// Every answer of /crm about them.
	for _, cmd := range []string{"customer " + idStr, "find @evil_user", "order " + idStr + " 100k", "note " + idStr + " hi",
		"tag " + idStr + " vip-x", "segment " + e.customer(id).Segment.Name} {
		a := e.crm(repUser, cmd)
		noMarkup(t, "/crm "+cmd, jsonStrings(t, a.raw)...)
		if !strings.Contains(a.all(), "&lt;!channel&gt;") {
			t.Fatalf("/crm %s does not show the name (escaped): %s", cmd, a.raw)
		}
	}
	// Released, with a line in the thread and the card redrawn again.
	e.crm(repUser, "release "+idStr)
	eventually(t, "hand-back note", func() bool {
		for _, c := range e.fake.Calls("chat.postMessage") {
			if c.Form.Get("thread_ts") == card.TS && strings.Contains(c.Form.Get("text"), "đã trả cuộc trò chuyện lại cho bot") {
				return true
			}
		}
		return false
	})
	for _, c := range e.fake.Calls("") {
		checkCall(t, c)
	}
}

// idOf is a customer id as a rep types it.
func (e *env) idOf(id crm.ID) string { return strconv.FormatUint(uint64(id), 10) }

// clickBody is the form Slack posts for a button click.
func clickBody(team, user, channel, ts, actionID, value string) []byte {
	return []byte(url.Values{"payload": {string(interaction(team, user, channel, ts, actionID, value))}}.Encode())
}

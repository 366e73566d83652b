package slack_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	slackapi "github.com/slack-go/slack"

	"github.com/idicbot/idicbot/adapters/slack"
	"github.com/idicbot/idicbot/adapters/slack/slacktest"
	"github.com/idicbot/idicbot/crm"
)

// TestRepSigningExample checks the HMAC on Slack's own worked example. The
// library's verifier refuses it as stale (2018), which is why the example is
// checked on the HMAC itself and the HTTP test re-signs it.
func TestRepSigningExample(t *testing.T) {
	m := hmac.New(sha256.New, []byte(docSecret))
	m.Write([]byte("v0:" + docTS + ":" + docBody))
	if got := "v0=" + hex.EncodeToString(m.Sum(nil)); got != docSig {
		t.Fatalf("HMAC of Slack's example = %s, want %s", got, docSig)
	}
	if got := sign(docSecret, docTS, []byte(docBody)); got != docSig {
		t.Fatalf("sign() = %s, want %s", got, docSig)
	}
	h := http.Header{}
	h.Set("X-Slack-Request-Timestamp", docTS)
	h.Set("X-Slack-Signature", docSig)
	if _, err := slackapi.NewSecretsVerifier(h, docSecret); !errors.Is(err, slackapi.ErrExpiredTimestamp) {
		t.Fatalf("library verifier on the 2018 example: err = %v, want ErrExpiredTimestamp", err)
	}
}

// TestRepSlack runs every HTTP-side behavior against one core and one fake
// Slack: signatures, each subcommand, role refusals, the handoff round
// trip, event dedupe.
func TestRepSlack(t *testing.T) {
	e := newEnv(t, false)
	const form = "application/x-www-form-urlencoded"

	t.Run("signature", func(t *testing.T) {
		e.fake.Reset()
		fresh := strconv.FormatInt(time.Now().Unix(), 10)
		stale := strconv.FormatInt(time.Now().Add(-6*time.Minute).Unix(), 10)
		// The doc example re-signed now is accepted (and answered: help).
		status, body := e.post(slack.CommandsPath, form, []byte(docBody),
			map[string]string{"X-Slack-Request-Timestamp": fresh, "X-Slack-Signature": sign(docSecret, fresh, []byte(docBody))})
		if status != http.StatusOK || !strings.Contains(string(body), "/crm find") {
			t.Fatalf("re-signed example: %d %s", status, body)
		}
		// A change that would record an order, refused in every bad form.
		order := commandBody(slacktest.TeamID, repUser, "order "+e.id("anh")+" 9tr")
		tampered := commandBody(slacktest.TeamID, repUser, "order "+e.id("anh")+" 99tr")
		cases := []struct {
			name    string
			body    []byte
			headers map[string]string
		}{
			{"2018 original", []byte(docBody), map[string]string{"X-Slack-Request-Timestamp": docTS, "X-Slack-Signature": docSig}},
			{"stale", order, map[string]string{"X-Slack-Request-Timestamp": stale, "X-Slack-Signature": sign(docSecret, stale, order)}},
			{"tampered", tampered, map[string]string{"X-Slack-Request-Timestamp": fresh, "X-Slack-Signature": sign(docSecret, fresh, order)}},
			{"wrong secret", order, map[string]string{"X-Slack-Request-Timestamp": fresh, "X-Slack-Signature": sign("other", fresh, order)}},
			{"timestamp swapped", order, map[string]string{"X-Slack-Request-Timestamp": strconv.FormatInt(time.Now().Unix()-1, 10), "X-Slack-Signature": sign(docSecret, fresh, order)}},
			{"unsigned", order, map[string]string{}},
		}
		for _, c := range cases {
			for _, path := range []string{slack.CommandsPath, slack.InteractionsPath, slack.EventsPath} {
				if status, body := e.post(path, form, c.body, c.headers); status != http.StatusUnauthorized {
					t.Fatalf("%s on %s: status %d (%s), want 401", c.name, path, status, body)
				}
			}
		}
		if cu := e.customer(e.ids["anh"]); cu.Stats.Orders != 0 {
			t.Fatalf("a refused request recorded %d orders", cu.Stats.Orders)
		}
		if calls := e.fake.Calls(""); len(calls) != 0 {
			t.Fatalf("refused requests made Slack calls: %+v", calls)
		}
		// The Events API URL check needs a valid signature too.
		ch := []byte(`{"token":"legacy","challenge":"3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P","type":"url_verification"}`)
		if status, body := e.post(slack.EventsPath, "application/json", ch, nil); status != 200 || !strings.Contains(string(body), "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P") {
			t.Fatalf("url_verification: %d %s", status, body)
		}
	})

	t.Run("help", func(t *testing.T) {
		for _, text := range []string{"", "help"} {
			a := e.crm(strangerUser, text)
			if a.ResponseType != "ephemeral" {
				t.Fatalf("help response_type = %q", a.ResponseType)
			}
			contains(t, "help", a.all(), "/crm find", "/crm customer", "/crm segment", "/crm stats", "/crm order", "/crm note",
				"/crm tag", "/crm untag", "/crm release", "/crm offers", "/crm offer <mã>", "public")
		}
		contains(t, "unknown", e.crm(repUser, "frobnicate").Text, "không biết lệnh", "/crm help")
	})

	t.Run("find", func(t *testing.T) {
		for _, q := range []string{"0912 345 678", "+84912345678", "84912345678", "0912345678", "lan@example.com", "@lan_shop", "nguyen thi lan", "NGUYỄN THỊ LAN", e.id("lan")} {
			a := e.crm(repUser, "find "+q)
			if a.ResponseType != "ephemeral" || len(a.Blocks) == 0 {
				t.Fatalf("find %q: %s", q, a.raw)
			}
			// One match: the full card, phone and email shown to the rep.
			contains(t, "find "+q, a.all(), "Nguyễn Thị Lan", "0912 345 678", "lan@example.com", "Khách thân thiết", "4.000.000")
		}
		a := e.crm(repUser, "find nguyen")
		contains(t, "several", a.all(), "2 khách khớp “nguyen”", "Nguyễn Thị Lan", "Nguyễn Văn A", "/crm customer")
		contains(t, "none", e.crm(repUser, "find 0999 999 999").Text, "Không có khách nào khớp")
		contains(t, "usage", e.crm(repUser, "find").Text, "Cách dùng: /crm find")
		contains(t, "bad email", e.crm(repUser, "find bad@").Text, "⚠️")
	})

	t.Run("customer", func(t *testing.T) {
		e.say(crm.ChannelWeb, "w-vana", "giá áo thun bao nhiêu?")
		a := e.crm(repUser, "customer "+e.id("vana"))
		contains(t, "card", a.all(), "Nguyễn Văn A", "#"+e.id("vana"), "Khách VIP", "quy tắc:", "total_spent", "0903 111 222", "vana@example.vn",
			"webchat (w-vana)", "seed", "nhận ưu đãi", "bot đang trả lời", "25.000.000", "Giá trị 12 tháng tới", "Đơn gần nhất",
			"giá áo thun bao nhiêu?", "Ưu đãi", "Nhãn", "Ghi chú")
		contains(t, "ambiguous", e.crm(repUser, "customer nguyen").Text, "2 khách khớp “nguyen”", "hãy dùng mã khách")
		contains(t, "unknown", e.crm(repUser, "customer 9999").Text, "Không có khách nào khớp “9999”")
	})

	t.Run("segment", func(t *testing.T) {
		a := e.crm(repUser, "segment new")
		contains(t, "segment", a.all(), "Nhóm Khách mới — 2 khách", "Lê Đức Dũng", "Trần Văn Ánh", "Trang 1/1")
		if i, j := strings.Index(a.Text, "Lê Đức Dũng"), strings.Index(a.Text, "Trần Văn Ánh"); i < 0 || j < i {
			t.Fatalf("segment not sorted by value:\n%s", a.Text)
		}
		contains(t, "page 2", e.crm(repUser, "segment new 2").Text, "Trang này không có khách nào")
		contains(t, "unknown", e.crm(repUser, "segment gold").Text, "Không có nhóm “gold”", "vip")
		contains(t, "bad page", e.crm(repUser, "segment vip x").Text, "Trang là một số")
	})

	t.Run("stats", func(t *testing.T) {
		for _, arg := range []string{"", "today", "7d", "30d"} {
			a := e.crm(repUser, strings.TrimSpace("stats "+arg))
			contains(t, "stats "+arg, a.all(), "Khách hàng", "Khách VIP 1", "Khách thân thiết 1", "Khách mới", "Tin nhắn", "webchat",
				"Đơn hàng", "29.300.000", "Chuyển nhóm", "Ưu đãi")
		}
		contains(t, "7d", e.crm(repUser, "stats 7d").Text, "7 ngày qua")
		contains(t, "bad", e.crm(repUser, "stats forever").Text, "Cách dùng: /crm stats")
		if a := e.crm(repUser, "stats 7d public"); a.ResponseType != "in_channel" {
			t.Fatalf("public stats response_type = %q", a.ResponseType)
		}
	})

	t.Run("order", func(t *testing.T) {
		a := e.crm(repUser, "order "+e.id("anh")+" 1,5tr áo dài lụa")
		contains(t, "order", a.all(), "đã ghi đơn 1.500.000 ₫", "Trần Văn Ánh", "Nhóm không đổi: *Khách mới*")
		cu := e.customer(e.ids["anh"])
		if cu.Stats.Orders != 1 || cu.Stats.TotalSpent != 1_500_000 {
			t.Fatalf("after order: %+v", cu.Stats)
		}
		a = e.crm(repUser, "order 0987654321 500 nghìn thêm khăn")
		contains(t, "second order", a.all(), "đã ghi đơn 500.000 ₫", "Đổi nhóm: *Khách mới* → *Khách thân thiết*")
		if cu := e.customer(e.ids["anh"]); cu.Segment.Name != crm.SegmentLoyal || cu.Stats.TotalSpent != 2_000_000 {
			t.Fatalf("after 2 orders: segment %q spent %d", cu.Segment.Name, cu.Stats.TotalSpent)
		}
		contains(t, "vip", e.crm(repUser, "order "+e.id("anh")+" 18.000.000").Text, "Khách thân thiết* → *Khách VIP*")
		contains(t, "bad amount", e.crm(repUser, "order "+e.id("anh")+" lots").Text, "“lots” không phải số tiền")
		contains(t, "usage", e.crm(repUser, "order "+e.id("anh")).Text, "Cách dùng: /crm order")
	})

	t.Run("note tag untag", func(t *testing.T) {
		contains(t, "note", e.crm(repUser, "note "+e.id("dung")+" khách sỉ, gọi sau 18h").Text, "Đã thêm ghi chú cho Lê Đức Dũng")
		cu := e.customer(e.ids["dung"])
		if len(cu.Notes) != 1 || cu.Notes[0].Text != "khách sỉ, gọi sau 18h" || cu.Notes[0].Author != "slack:"+repUser {
			t.Fatalf("notes = %+v", cu.Notes)
		}
		contains(t, "tag", e.crm(repUser, "tag "+e.id("dung")+" B2B").Text, "Đã gắn nhãn `b2b` cho Lê Đức Dũng", "→ *Khách doanh nghiệp*")
		contains(t, "card shows note and tag", e.crm(repUser, "customer "+e.id("dung")).all(), "khách sỉ, gọi sau 18h", "b2b")
		contains(t, "untag", e.crm(repUser, "untag "+e.id("dung")+" b2b").Text, "Đã gỡ nhãn")
		contains(t, "untag missing", e.crm(repUser, "untag "+e.id("dung")+" b2b").Text, "không có nhãn “b2b”")
		contains(t, "note usage", e.crm(repUser, "note "+e.id("dung")).Text, "Cách dùng: /crm note")
	})

	t.Run("roles", func(t *testing.T) {
		before := len(e.customer(e.ids["lan"]).Notes)
		for _, text := range []string{"find 0912345678", "customer " + e.id("lan"), "segment vip", "stats", "order " + e.id("lan") + " 1tr",
			"note " + e.id("lan") + " hi", "tag " + e.id("lan") + " x", "untag " + e.id("lan") + " x", "release " + e.id("lan"), "offer list"} {
			a := e.crm(strangerUser, text)
			if a.ResponseType != "ephemeral" {
				t.Fatalf("refusal of %q is not ephemeral", text)
			}
			contains(t, "refused "+text, a.Text, "🚫")
			lacks(t, "refused "+text, a.all(), "+84912345678", "0912 345 678", "Nguyễn Thị Lan")
		}
		if cu := e.customer(e.ids["lan"]); len(cu.Notes) != before || cu.Stats.Orders != 2 {
			t.Fatalf("refused commands changed the customer: %d notes, %d orders", len(cu.Notes), cu.Stats.Orders)
		}
		// Admin-only subcommands: reps refused, admins allowed.
		contains(t, "rep on admin", e.crm(repUser, "offer list").Text, "chỉ dành cho quản trị viên")
		contains(t, "admin", e.crm(adminUser, "offer list").Text, "Ưu đãi (")
		// Admins and user group members are reps.
		contains(t, "admin as rep", e.crm(adminUser, "find 0912345678").all(), "Nguyễn Thị Lan")
		contains(t, "group member", e.crm(groupUser, "find 0912345678").all(), "Nguyễn Thị Lan")
		// Another workspace is not served at all.
		status, body := e.post(slack.CommandsPath, form, commandBody("T0OTHER01", adminUser, "find 0912345678"), nil)
		if status != http.StatusOK || !strings.Contains(string(body), "chưa được kết nối") || strings.Contains(string(body), "Lan") {
			t.Fatalf("other workspace: %d %s", status, body)
		}
	})

	t.Run("slow command answers through response_url", func(t *testing.T) {
		release := make(chan struct{})
		slow, err := slack.New(e.core, slack.Options{BotToken: slacktest.BotToken, SigningSecret: docSecret, APIURL: e.fake.APIURL(),
			TeamIDs: []string{slacktest.TeamID}, RepIDs: []string{repUser}, InlineWait: time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		defer slow.Close()
		// Runs before Close, so a failing check cannot leave the
		// command (and Close, which waits for it) blocked.
		var once sync.Once
		unblock := func() { once.Do(func() { close(release) }) }
		defer unblock()
		if err := slow.Register(slack.Subcommand{Name: "report", Help: "slow", Run: func(ctx context.Context, req slack.Request) (*slack.Reply, error) {
			<-release
			return &slack.Reply{Text: "report ready for " + strings.Join(req.Args, " ")}, nil
		}}); err != nil {
			t.Fatal(err)
		}
		mux := http.NewServeMux()
		slow.Routes(mux)
		body := []byte(url.Values{"team_id": {slacktest.TeamID}, "user_id": {repUser}, "command": {"/crm"},
			"text": {"report q3 public"}, "response_url": {e.fake.ResponseURL("slow-1")}}.Encode())
		ts := strconv.FormatInt(time.Now().Unix(), 10)
		req, _ := http.NewRequest(http.MethodPost, slack.CommandsPath, strings.NewReader(string(body)))
		req.Header.Set("Content-Type", form)
		req.Header.Set("X-Slack-Request-Timestamp", ts)
		req.Header.Set("X-Slack-Signature", sign(docSecret, ts, body))
		rr := newRecorder()
		mux.ServeHTTP(rr, req)
		if rr.code != 200 || !strings.Contains(rr.body.String(), "Đang xử lý") {
			t.Fatalf("slow command immediate answer: %d %s", rr.code, rr.body.String())
		}
		unblock()
		got := e.fake.Wait("response_url", 1, 5*time.Second)
		var msg struct {
			Text         string `json:"text"`
			ResponseType string `json:"response_type"`
		}
		if err := json.Unmarshal(got[len(got)-1].Body, &msg); err != nil {
			t.Fatal(err)
		}
		if msg.Text != "report ready for q3" || msg.ResponseType != "in_channel" {
			t.Fatalf("response_url got %+v", msg)
		}
	})

	t.Run("handoff round trip", func(t *testing.T) { testHandoffRoundTrip(t, e) })
	t.Run("handoff on telegram, released by command", func(t *testing.T) { testHandoffTelegramRelease(t, e) })
}

// testHandoffRoundTrip: customer on web chat asks for a human → card in
// Slack → Take it → rep answers in the thread → customer gets it → customer
// answers → it shows in the thread → Hand back → the bot answers again.
func testHandoffRoundTrip(t *testing.T, e *env) {
	e.fake.Reset()
	res, out := e.say(crm.ChannelWeb, "w-khach", "cho mình gặp nhân viên")
	if len(out) != 1 || !strings.Contains(out[0].Text, "nhân viên") {
		t.Fatalf("bot's handoff answer = %+v", out)
	}
	id := res.CustomerID
	idStr := strconv.FormatUint(uint64(id), 10)
	card := e.handoffCard(id)
	if card.Form.Get("channel") != handoffChan {
		t.Fatalf("card posted to %q, want %q", card.Form.Get("channel"), handoffChan)
	}
	contains(t, "card", callText(card), "muốn nói chuyện với người", "cho mình gặp nhân viên", "Nhận khách", slack.ActionTake, idStr)

	// A stranger's click is refused (ephemeral), nothing taken.
	e.post(slack.InteractionsPath, "application/x-www-form-urlencoded",
		[]byte(url.Values{"payload": {string(interaction(slacktest.TeamID, strangerUser, handoffChan, card.TS, slack.ActionTake, idStr))}}.Encode()), nil)
	eph := e.fake.Wait("chat.postEphemeral", 1, 5*time.Second)
	contains(t, "stranger", eph[0].Form.Get("text"), "Chỉ nhân viên bán hàng")
	if e.customer(id).Handoff.Agent != "" {
		t.Fatal("a stranger took the conversation")
	}

	// The rep takes it.
	status, _ := e.post(slack.InteractionsPath, "application/x-www-form-urlencoded",
		[]byte(url.Values{"payload": {string(interaction(slacktest.TeamID, repUser, handoffChan, card.TS, slack.ActionTake, idStr))}}.Encode()), nil)
	if status != 200 {
		t.Fatalf("take: status %d", status)
	}
	if h := e.customer(id).Handoff; h.Agent != "slack:"+repUser {
		t.Fatalf("after Take it: %+v", h)
	}
	upd := e.fake.Wait("chat.update", 1, 5*time.Second)[0]
	if upd.Form.Get("ts") != card.TS || upd.Form.Get("channel") != handoffChan {
		t.Fatalf("update of %s:%s, want the card %s", upd.Form.Get("channel"), upd.Form.Get("ts"), card.TS)
	}
	contains(t, "taken card", callText(upd), "<@"+repUser+"> đã nhận", "Trả lại cho bot", slack.ActionRelease)
	lacks(t, "taken card", callText(upd), slack.ActionTake)
	// A second rep cannot take it.
	e.post(slack.InteractionsPath, "application/x-www-form-urlencoded",
		[]byte(url.Values{"payload": {string(interaction(slacktest.TeamID, rep2User, handoffChan, card.TS, slack.ActionTake, idStr))}}.Encode()), nil)
	eph = e.fake.Wait("chat.postEphemeral", 2, 5*time.Second)
	contains(t, "second rep", eph[1].Form.Get("text"), "đang trò chuyện với")

	// The rep writes in the thread: the customer receives it on web chat.
	ev := messageEvent("Ev0001", slacktest.TeamID, handoffChan, repUser, card.TS, "1767225700.000100", "Chào chị, em là Hoa &amp; em hỗ trợ chị nhé <https://shop.example/sale|ưu đãi>", nil)
	if status, body := e.post(slack.EventsPath, "application/json", ev, nil); status != 200 {
		t.Fatalf("thread reply event: %d %s", status, body)
	}
	sent := e.flush()
	if len(sent) != 1 || sent[0].Channel != crm.ChannelWeb || sent[0].UserID != "w-khach" ||
		sent[0].Text != "Chào chị, em là Hoa & em hỗ trợ chị nhé ưu đãi" {
		t.Fatalf("customer received %+v", sent)
	}
	// Slack retries the same event: nothing is sent twice.
	if status, _ := e.post(slack.EventsPath, "application/json", ev, nil); status != 200 {
		t.Fatalf("retry: status %d", status)
	}
	if again := e.flush(); len(again) != 0 {
		t.Fatalf("a retried event was sent again: %+v", again)
	}
	// The same thread message under another event id (what reaches a
	// restarted idicbot, whose event-id memory is gone): the store knows the
	// message, nothing is sent.
	evAgain := messageEvent("Ev0001-after-restart", slacktest.TeamID, handoffChan, repUser, card.TS, "1767225700.000100", "Chào chị, em là Hoa &amp; em hỗ trợ chị nhé <https://shop.example/sale|ưu đãi>", nil)
	if status, _ := e.post(slack.EventsPath, "application/json", evAgain, nil); status != 200 {
		t.Fatalf("redelivery: status %d", status)
	}
	if again := e.flush(); len(again) != 0 {
		t.Fatalf("a thread message delivered again was sent again: %+v", again)
	}
	// Bot posts, edits and a stranger's reply are not sent.
	for i, extra := range []map[string]any{{"bot_id": slacktest.BotID}, {"subtype": "message_changed"}} {
		e.post(slack.EventsPath, "application/json", messageEvent("Ev01"+strconv.Itoa(i), slacktest.TeamID, handoffChan, repUser, card.TS, "1767225701.00000"+strconv.Itoa(i), "noise", extra), nil)
	}
	e.post(slack.EventsPath, "application/json", messageEvent("Ev0020", slacktest.TeamID, handoffChan, strangerUser, card.TS, "1767225702.000100", "psst", nil), nil)
	if noise := e.flush(); len(noise) != 0 {
		t.Fatalf("ignored messages reached the customer: %+v", noise)
	}

	// The customer answers: the bot stays quiet, the thread shows it.
	if _, out := e.say(crm.ChannelWeb, "w-khach", "dạ em muốn đổi size áo"); len(out) != 0 {
		t.Fatalf("bot answered during the handoff: %+v", out)
	}
	var inThread slacktest.Call
	eventually(t, "customer message in the thread", func() bool {
		for _, c := range e.fake.Calls("chat.postMessage") {
			if c.Form.Get("thread_ts") == card.TS && strings.Contains(c.Form.Get("text"), "dạ em muốn đổi size áo") {
				inThread = c
				return true
			}
		}
		return false
	})
	if inThread.Form.Get("channel") != handoffChan {
		t.Fatalf("customer message posted to %q", inThread.Form.Get("channel"))
	}

	// Hand back: the card says so and the bot answers again.
	e.fake.Reset()
	e.post(slack.InteractionsPath, "application/x-www-form-urlencoded",
		[]byte(url.Values{"payload": {string(interaction(slacktest.TeamID, repUser, handoffChan, card.TS, slack.ActionRelease, idStr))}}.Encode()), nil)
	if h := e.customer(id).Handoff; h.Active {
		t.Fatalf("after Hand back: %+v", h)
	}
	upd = e.fake.Wait("chat.update", 1, 5*time.Second)[0]
	contains(t, "released card", callText(upd), "<@"+repUser+"> đã trả lại cho bot")
	lacks(t, "released card", callText(upd), slack.ActionRelease, slack.ActionTake)
	if _, out := e.say(crm.ChannelWeb, "w-khach", "xin chào"); len(out) == 0 {
		t.Fatal("the bot is still silent after Hand back")
	}
	// A late reply in the old thread goes nowhere.
	e.post(slack.EventsPath, "application/json", messageEvent("Ev0030", slacktest.TeamID, handoffChan, repUser, card.TS, "1767225800.000100", "còn đó không?", nil), nil)
	if late := e.flush(); len(late) != 0 {
		t.Fatalf("reply after hand back was sent: %+v", late)
	}
}

// testHandoffTelegramRelease: a Telegram customer, answered from the
// thread, handed back with /crm release.
func testHandoffTelegramRelease(t *testing.T, e *env) {
	e.fake.Reset()
	res, _ := e.say(crm.ChannelTelegram, "55501", "I want to talk to a human")
	id := res.CustomerID
	card := e.handoffCard(id)
	// Answering without clicking Take it takes it.
	ev := messageEvent("Ev0100", slacktest.TeamID, handoffChan, rep2User, card.TS, "1767225900.000100", "Hi! Hoa here, how can I help?", nil)
	if status, _ := e.post(slack.EventsPath, "application/json", ev, nil); status != 200 {
		t.Fatalf("event status %d", status)
	}
	sent := e.flush()
	if len(sent) != 1 || sent[0].Channel != crm.ChannelTelegram || sent[0].UserID != "55501" || sent[0].Text != "Hi! Hoa here, how can I help?" {
		t.Fatalf("telegram customer received %+v", sent)
	}
	if h := e.customer(id).Handoff; h.Agent != "slack:"+rep2User {
		t.Fatalf("answering did not take the conversation: %+v", h)
	}
	// Another rep's release is refused; the taker's works.
	contains(t, "other rep", e.crm(repUser, "release "+strconv.FormatUint(uint64(id), 10)).Text, "chỉ người đó")
	contains(t, "release", e.crm(rep2User, "release "+strconv.FormatUint(uint64(id), 10)).Text, "đã được trả lại cho bot")
	contains(t, "release twice", e.crm(rep2User, "release "+strconv.FormatUint(uint64(id), 10)).Text, "đang do bot trả lời rồi")
	var released bool
	eventually(t, "card updated", func() bool {
		for _, c := range e.fake.Calls("chat.update") {
			released = released || strings.Contains(callText(c), "đã trả lại cho bot")
		}
		return released
	})
	if _, out := e.say(crm.ChannelTelegram, "55501", "hello"); len(out) == 0 {
		t.Fatal("bot silent after /crm release")
	}
}

// TestRepSocketMode drives the same router through Socket Mode envelopes.
func TestRepSocketMode(t *testing.T) {
	e := newEnv(t, true)
	e.fake.WaitConnected(5 * time.Second)
	if calls := e.fake.Calls("apps.connections.open"); len(calls) == 0 || calls[0].Token != slacktest.AppToken {
		t.Fatalf("apps.connections.open calls = %+v", calls)
	}
	cmd := func(user, text string) map[string]any {
		return map[string]any{"token": "legacy", "team_id": slacktest.TeamID, "team_domain": "idic-test", "channel_id": "C0SALES01",
			"channel_name": "sales", "user_id": user, "user_name": "u", "command": "/crm", "text": text,
			"api_app_id": "A0IDIC001", "is_enterprise_install": "false", "response_url": e.fake.ResponseURL("sock"), "trigger_id": "1.2.3"}
	}
	env := e.fake.Send("slash_commands", cmd(repUser, "find 0912 345 678"))
	ack := e.fake.WaitAck(env, 5*time.Second)
	var a answer
	if err := json.Unmarshal(ack.Payload, &a); err != nil {
		t.Fatalf("ack payload %s: %v", ack.Payload, err)
	}
	if a.ResponseType != "ephemeral" {
		t.Fatalf("ack response_type %q", a.ResponseType)
	}
	contains(t, "socket find", a.all(), "Nguyễn Thị Lan", "0912 345 678")
	// Refusal over Socket Mode too.
	ack = e.fake.WaitAck(e.fake.Send("slash_commands", cmd(strangerUser, "find 0912 345 678")), 5*time.Second)
	contains(t, "socket refusal", string(ack.Payload), "chỉ dành cho nhân viên bán hàng")

	// Handoff: card, Take it (interactive envelope), thread reply (events_api envelope), dedupe.
	res, _ := e.say(crm.ChannelWeb, "w-sock", "gặp nhân viên")
	id := res.CustomerID
	card := e.handoffCard(id)
	var click map[string]any
	if err := json.Unmarshal(interaction(slacktest.TeamID, repUser, handoffChan, card.TS, slack.ActionTake, strconv.FormatUint(uint64(id), 10)), &click); err != nil {
		t.Fatal(err)
	}
	e.fake.WaitAck(e.fake.Send("interactive", click), 5*time.Second)
	eventually(t, "taken", func() bool { return e.customer(id).Handoff.Agent == "slack:"+repUser })

	var ev map[string]any
	if err := json.Unmarshal(messageEvent("EvS001", slacktest.TeamID, handoffChan, repUser, card.TS, "1767226000.000100", "Em chào chị ạ", nil), &ev); err != nil {
		t.Fatal(err)
	}
	e.fake.WaitAck(e.fake.Send("events_api", ev), 5*time.Second)
	sent := e.flush()
	if len(sent) != 1 || sent[0].Text != "Em chào chị ạ" || sent[0].UserID != "w-sock" {
		t.Fatalf("customer received %+v", sent)
	}
	// The same event in a new envelope (Slack's retry) is acked, not resent.
	e.fake.WaitAck(e.fake.Send("events_api", ev), 5*time.Second)
	if again := e.flush(); len(again) != 0 {
		t.Fatalf("duplicate event sent again: %+v", again)
	}
}

// httpRecorder is a minimal http.ResponseWriter for calling a mux directly.
type httpRecorder struct {
	code int
	h    http.Header
	body strings.Builder
}

func newRecorder() *httpRecorder            { return &httpRecorder{code: 200, h: http.Header{}} }
func (r *httpRecorder) Header() http.Header { return r.h }
func (r *httpRecorder) WriteHeader(c int)   { r.code = c }
func (r *httpRecorder) Write(b []byte) (int, error) {
	return r.body.Write(b)
}

// A signed event that is not valid text is refused with 400, not relayed
// with U+FFFD in place of what was sent.
func TestEventsRefuseInvalidText(t *testing.T) {
	e := newEnv(t, false)
	for _, text := range []string{"ch\xffo", `\ud800`} {
		body := messageEvent("Ev-bad-"+strconv.Itoa(len(text)), slacktest.TeamID, "C1", "U1", "", "1767225700.000100", "PLACEHOLDER", nil)
		body = bytes.Replace(body, []byte("PLACEHOLDER"), []byte(text), 1)
		if st, out := e.post(slack.EventsPath, "application/json", body, nil); st != http.StatusBadRequest {
			t.Fatalf("%q: status %d (%s), want 400", text, st, out)
		}
	}
}

package slack_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/idicbot/idicbot/adapters/slack"
	"github.com/idicbot/idicbot/adapters/slack/slacktest"
	"github.com/idicbot/idicbot/bot"
	"github.com/idicbot/idicbot/configs"
	"github.com/idicbot/idicbot/crm"
)

// formType is how Slack posts commands and interactions.
const formType = "application/x-www-form-urlencoded"

// withOffers stores and loads the shipped offers, as a fresh idicbot does.
func withOffers(t *testing.T, e *env) {
	t.Helper()
	ctx := context.Background()
	if _, err := bot.SeedOffers(ctx, e.db, e.kit.Defaults.Offers, time.Now()); err != nil {
		t.Fatal(err)
	}
	if err := e.core.LoadOffers(ctx); err != nil {
		t.Fatal(err)
	}
}

// press is a customer pressing an offer button on web chat.
func (e *env) press(user, payload string) {
	e.t.Helper()
	e.seq++
	if _, err := e.core.Handle(context.Background(), bot.Inbound{Channel: crm.ChannelWeb, UserID: user,
		MessageID: user + "-btn-" + strconv.Itoa(e.seq), Kind: crm.KindButton, Payload: payload}); err != nil {
		e.t.Fatal(err)
	}
	e.flush()
}

// section returns the text of the first block of an answer that starts
// with prefix.
func (a answer) section(prefix string) string {
	for _, b := range a.Blocks {
		var s struct {
			Text struct {
				Text string `json:"text"`
			} `json:"text"`
		}
		if json.Unmarshal(b, &s) == nil && strings.HasPrefix(s.Text.Text, prefix) {
			return s.Text.Text
		}
	}
	return ""
}

// addCounter adds n to a daily counter daysAgo days back, as the core
// keeps them (d:YYYYMMDD:name, UTC days).
func (e *env) addCounter(daysAgo int, name string, n int64) {
	e.t.Helper()
	key := "d:" + time.Now().UTC().AddDate(0, 0, -daysAgo).Format("20060102") + ":" + name
	if err := e.db.Update(context.Background(), func(tx crm.Tx) error { return tx.AddCounter(key, n) }); err != nil {
		e.t.Fatal(err)
	}
}

// TestRepCustomerCardFields checks every part of the card the issue lists,
// on customers whose history went through the core.
func TestRepCustomerCardFields(t *testing.T) {
	e := newEnv(t, false)
	withOffers(t, e)
	today := time.Now().Format("2006-01-02")

	// Ánh gets the welcome offer and accepts it.
	if got := e.greetText(crm.ChannelWeb, "w-anh"); !strings.Contains(got, "WELCOME10") {
		t.Fatalf("Ánh was not shown the welcome offer: %q", got)
	}
	e.press("w-anh", "offer:welcome-new:accept")
	a := e.crm(repUser, "customer "+e.id("anh"))
	contains(t, "offers", a.all(), "*Ưu đãi*: đã hiện 1 lần, 1 lần nhận", "Quà chào mừng khách mới: hiện 1, nhận 1, từ chối 0",
		"[ưu đãi welcome-new]", "[bấm “accept” của ưu đãi welcome-new]")

	// Lan writes 12 times on Telegram: the card shows the last 10
	// interactions only, and both her channels.
	for i := 1; i <= 12; i++ {
		e.say(crm.ChannelTelegram, "7000", "tin-"+strconv.Itoa(100+i))
	}
	a = e.crm(repUser, "customer "+e.id("lan"))
	recent := a.section("*10 lượt")
	if !strings.HasPrefix(recent, "*10 lượt trao đổi gần nhất*") {
		t.Fatalf("recent section:\n%s", recent)
	}
	if n := strings.Count(recent, "\n"); n != 10 {
		t.Fatalf("card shows %d interactions, want 10:\n%s", n, recent)
	}
	contains(t, "recent", recent, "tin-112", "(telegram)")
	lacks(t, "recent", recent, "tin-101")
	contains(t, "lan card", a.all(), "Nguyễn Thị Lan (#"+e.id("lan")+")", "webchat (w-lan)", "telegram @Lan_Shop (7000)",
		"0912 345 678", "lan@example.com", "Khách thân thiết từ "+today, "quy tắc: `order_count &gt;= 2`",
		"2 đơn · tổng chi 4.000.000 ₫ · trung bình mỗi đơn 2.000.000 ₫", "Đơn gần nhất: 2.500.000 ₫ ngày "+today,
		"Giá trị 12 tháng tới ≈", "*Nguồn*\nseed", "*Đồng ý nhận tin*\nnhận ưu đãi", "*Chuyển cho người*\nbot đang trả lời", "*Nhãn*: không có", "*Ghi chú*: chưa có")

	// Dũng says STOP; Văn A asks for a person.
	e.say(crm.ChannelWeb, "w-dung", "STOP")
	contains(t, "opted out", e.crm(repUser, "customer "+e.id("dung")).all(), "từ chối nhận ưu đãi từ "+today)
	e.say(crm.ChannelWeb, "w-vana", "cho mình gặp nhân viên")
	contains(t, "waiting", e.crm(repUser, "customer "+e.id("vana")).all(), "chờ nhân viên")
	if _, err := e.core.TakeHandoff(context.Background(), e.ids["vana"], "slack:"+repUser); err != nil {
		t.Fatal(err)
	}
	contains(t, "taken", e.crm(repUser, "customer "+e.id("vana")).all(), "🙋 <@"+repUser+"> đang trả lời")
}

// greetText is a customer saying hello; it returns what the bot sent.
func (e *env) greetText(ch crm.Channel, user string) string {
	e.t.Helper()
	_, sent := e.say(ch, user, "xin chào")
	var out []string
	for _, it := range sent {
		out = append(out, it.Text)
	}
	return strings.Join(out, "\n")
}

// TestRepStatsFigures checks every figure of /crm stats and the periods.
func TestRepStatsFigures(t *testing.T) {
	e := newEnv(t, false)
	withOffers(t, e)
	// Today: Ánh accepts the welcome offer, a new customer declines it, Lan
	// writes on Telegram.
	e.greetText(crm.ChannelWeb, "w-anh")
	e.press("w-anh", "offer:welcome-new:accept")
	e.greetText(crm.ChannelWeb, "w-new1")
	e.press("w-new1", "offer:welcome-new:decline")
	e.greetText(crm.ChannelTelegram, "7000")
	// What the core counts on other paths: LLM answers, the sweep moving
	// customers to at_risk, new customers of earlier days.
	e.addCounter(0, "answers:llm", 3)
	e.addCounter(0, "segment_moves:at_risk", 2)
	e.addCounter(3, "new_customers", 5)
	e.addCounter(10, "new_customers", 4)
	e.addCounter(0, "sentiment:negative", 2)
	e.addCounter(3, "sentiment:positive", 1)

	welcome := "Quà chào mừng khách mới: hiện 2 · nhận 1 (50%) · từ chối 1"
	for _, tt := range []struct {
		arg, period, newCustomers, mood string
	}{
		{"", "hôm nay", "*Khách mới*: 1", "trong 2 tin nhắn): 0 tích cực · 0 trung lập · 2 tiêu cực"},
		{"today", "hôm nay", "*Khách mới*: 1", "trong 2 tin nhắn): 0 tích cực · 0 trung lập · 2 tiêu cực"},
		{"7d", "7 ngày qua", "*Khách mới*: 6", "trong 3 tin nhắn): 1 tích cực · 0 trung lập · 2 tiêu cực"},
		{"30d", "30 ngày qua", "*Khách mới*: 10", "trong 3 tin nhắn): 1 tích cực · 0 trung lập · 2 tiêu cực"},
	} {
		t.Run("stats "+tt.arg, func(t *testing.T) {
			a := e.crm(repUser, strings.TrimSpace("stats "+tt.arg))
			all := a.all()
			contains(t, "stats", all, "Thống kê: "+tt.period, tt.newCustomers,
				"*Khách hàng*: 5 — Khách doanh nghiệp 0 · Khách VIP 1 · Có nguy cơ rời bỏ 0 · Khách thân thiết 1 · Khách tiềm năng 0 · Khách mới 3",
				"webchat 4 đến / ", "telegram 1 đến / ",
				welcome, "Điểm thành viên cho khách thân thiết: hiện 1 · nhận 0 (0%)",
				"*Đơn hàng*: 4 · doanh thu 29.300.000 ₫", "Có nguy cơ rời bỏ 2", "Khách thân thiết 1", "Khách VIP 1",
				"theo quy tắc · 3 do LLM soạn", "*Tâm trạng* (LLM đọc "+tt.mood)
			if a.Text == "" || len(a.Blocks) == 0 || a.ResponseType != "ephemeral" {
				t.Fatalf("stats answer: text %q, %d blocks, %s", a.Text, len(a.Blocks), a.ResponseType)
			}
		})
	}
}

// TestRepSegmentPaging lists a segment over two pages.
func TestRepSegmentPaging(t *testing.T) {
	e := newEnv(t, false)
	now := time.Now()
	if err := e.db.Update(context.Background(), func(tx crm.Tx) error {
		for i := range 12 {
			c := &crm.Customer{Name: "Khách " + strconv.Itoa(i+1), CreatedAt: now}
			c.AddIdentity(crm.Identity{Channel: crm.ChannelWeb, UserID: "page-" + strconv.Itoa(i), FirstSeen: now})
			e.core.Segments().Apply(c, now, "import")
			if err := tx.PutCustomer(c); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	// new: Dũng (300.000 ₫), then Ánh and the 12 without orders, by id.
	p1 := e.crm(repUser, "segment new")
	contains(t, "page 1", p1.all(), "Nhóm Khách mới — 14 khách", "Trang 1/2", "Trang sau: `/crm segment new 2`")
	lines := strings.Split(p1.section("1. "), "\n")
	if len(lines) != slack.SegmentPageSize || !strings.Contains(lines[0], "Lê Đức Dũng") || !strings.Contains(lines[1], "Trần Văn Ánh") ||
		!strings.HasPrefix(lines[9], "10. ") {
		t.Fatalf("page 1 lines:\n%s", strings.Join(lines, "\n"))
	}
	p2 := e.crm(repUser, "segment NEW 2")
	contains(t, "page 2", p2.all(), "Nhóm Khách mới — 14 khách", "Trang 2/2", "11. ", "14. ", "Khách 12")
	lacks(t, "page 2", p2.all(), "Trang sau:", "15. ", "Lê Đức Dũng")
	contains(t, "page 3", e.crm(repUser, "segment new 3").Text, "Trang này không có khách nào")
}

// TestRepOrderAmounts records a sale in each way the issue lists.
func TestRepOrderAmounts(t *testing.T) {
	e := newEnv(t, false)
	for i, amount := range []string{"1500000", "1.500.000", "1,5tr", "1.5m"} {
		a := e.crm(repUser, "order "+e.id("anh")+" "+amount+" đơn "+strconv.Itoa(i))
		contains(t, amount, a.all(), "đã ghi đơn 1.500.000 ₫ cho Trần Văn Ánh", "Nhóm")
		if got, want := e.customer(e.ids["anh"]).Stats.TotalSpent, int64(1_500_000*(i+1)); got != want {
			t.Fatalf("after %s: total spent %d, want %d", amount, got, want)
		}
	}
	// The last order's note is on the card.
	contains(t, "note", e.crm(repUser, "customer "+e.id("anh")).all(), "Đơn gần nhất: 1.500.000 ₫", "— đơn 3")
}

// TestRepOrderAmountWords: an amount may take the words after it ("500
// nghìn", "2 triệu đồng"); the rest is the note.
func TestRepOrderAmountWords(t *testing.T) {
	e := newEnv(t, false)
	var total int64
	for _, tt := range []struct {
		args   string
		amount int64
		note   string
	}{
		{"500 nghìn áo dài", 500_000, "— áo dài"},
		{"5 củ áo dài", 5_000_000, "— áo dài"}, // "củ" was left in the note, and 5 ₫ recorded
		{"2 triệu đồng giao sáng", 2_000_000, "— giao sáng"},
		{"1tr5 2 cái", 1_500_000, "— 2 cái"},
		{"150000 2 cái", 150_000, "— 2 cái"},
	} {
		a := e.crm(repUser, "order "+e.id("anh")+" "+tt.args)
		contains(t, tt.args, a.all(), "đã ghi đơn "+crm.VND(tt.amount)+" cho Trần Văn Ánh")
		total += tt.amount
		if got := e.customer(e.ids["anh"]).Stats.TotalSpent; got != total {
			t.Fatalf("after %s: total spent %d, want %d", tt.args, got, total)
		}
		contains(t, tt.args+" note", e.crm(repUser, "customer "+e.id("anh")).all(), tt.note)
	}
}

// TestRepCommandText reads the text as the rep typed it, though Slack
// encodes &, < and > and may wrap emails and links in its markup.
func TestRepCommandText(t *testing.T) {
	e := newEnv(t, false)
	contains(t, "mailto", e.crm(repUser, "find <mailto:lan@example.com|lan@example.com>").all(), "Nguyễn Thị Lan", "0912 345 678")
	e.crm(repUser, "note "+e.id("anh")+" giao hàng &amp; thu tiền &lt;18h&gt;")
	if n := e.customer(e.ids["anh"]).Notes; len(n) != 1 || n[0].Text != "giao hàng & thu tiền <18h>" {
		t.Fatalf("notes = %+v", n)
	}
	// Shown back escaped, so a note cannot smuggle Slack markup.
	contains(t, "card", e.crm(repUser, "customer "+e.id("anh")).all(), "giao hàng &amp; thu tiền &lt;18h&gt;")
}

// TestRepHandoffOwnChannel: a customer known on web chat and Telegram asks
// for a person on Telegram; the rep's answer goes to Telegram, and her next
// message shows in the thread.
func TestRepHandoffOwnChannel(t *testing.T) {
	e := newEnv(t, false)
	e.say(crm.ChannelWeb, "w-lan", "xin chào")
	e.say(crm.ChannelTelegram, "7000", "cho mình gặp nhân viên")
	card := e.fake.Wait("chat.postMessage", 1, 5*time.Second)[0]
	contains(t, "card", callText(card), "Nguyễn Thị Lan", "cho mình gặp nhân viên", "Nhận khách")
	eventually(t, "thread stored", func() bool { return e.customer(e.ids["lan"]).Handoff.Thread != "" })
	ev := messageEvent("EvOwn1", slacktest.TeamID, handoffChan, repUser, card.TS, "1767226100.000100", "Dạ em Hoa đây ạ", nil)
	if status, _ := e.post(slack.EventsPath, "application/json", ev, nil); status != http.StatusOK {
		t.Fatalf("event status %d", status)
	}
	sent := e.flush()
	if len(sent) != 1 || sent[0].Channel != crm.ChannelTelegram || sent[0].UserID != "7000" || sent[0].Text != "Dạ em Hoa đây ạ" {
		t.Fatalf("customer received %+v", sent)
	}
	if _, out := e.say(crm.ChannelTelegram, "7000", "em cần đổi địa chỉ giao"); len(out) != 0 {
		t.Fatalf("the bot answered a handed-off customer: %+v", out)
	}
	eventually(t, "customer message in the thread", func() bool {
		for _, c := range e.fake.Calls("chat.postMessage") {
			if c.Form.Get("thread_ts") == card.TS && strings.Contains(c.Form.Get("text"), "em cần đổi địa chỉ giao") &&
				strings.Contains(c.Form.Get("text"), "telegram") {
				return true
			}
		}
		return false
	})
}

// TestRepOtherWorkspace: clicks and thread replies from a workspace that is
// not served change nothing and reach nobody.
func TestRepOtherWorkspace(t *testing.T) {
	e := newEnv(t, false)
	res, _ := e.say(crm.ChannelWeb, "w-ws", "gặp nhân viên")
	id := res.CustomerID
	idStr := strconv.FormatUint(uint64(id), 10)
	card := e.handoffCard(id)
	e.fake.Reset()
	const other = "T0OTHER01"
	if status, _ := e.post(slack.InteractionsPath, formType,
		[]byte(url.Values{"payload": {string(interaction(other, repUser, handoffChan, card.TS, slack.ActionTake, idStr))}}.Encode()), nil); status != 200 {
		t.Fatalf("interaction status %d", status)
	}
	if status, _ := e.post(slack.EventsPath, "application/json",
		messageEvent("EvWs1", other, handoffChan, repUser, card.TS, "1767226200.000100", "hello from elsewhere", nil), nil); status != 200 {
		t.Fatalf("event status %d", status)
	}
	if h := e.customer(id).Handoff; h.Agent != "" {
		t.Fatalf("another workspace took the conversation: %+v", h)
	}
	if sent := e.flush(); len(sent) != 0 {
		t.Fatalf("another workspace's reply reached the customer: %+v", sent)
	}
	// The same click from the served workspace works (the test can fail).
	e.post(slack.InteractionsPath, formType,
		[]byte(url.Values{"payload": {string(interaction(slacktest.TeamID, repUser, handoffChan, card.TS, slack.ActionTake, idStr))}}.Encode()), nil)
	if h := e.customer(id).Handoff; h.Agent != "slack:"+repUser {
		t.Fatalf("served workspace could not take it: %+v", h)
	}
	for _, want := range []string{"refused an interaction from a workspace that is not served", "refused an event from a workspace that is not served", "team=" + other} {
		if !strings.Contains(e.logs.String(), want) {
			t.Fatalf("log lacks %q:\n%s", want, e.logs.String())
		}
	}
}

// TestRepRefusalsLogged: every refusal is logged with who tried what,
// and without the customer data they did not get.
func TestRepRefusalsLogged(t *testing.T) {
	e := newEnv(t, false)
	e.crm(strangerUser, "find 0912345678")
	e.crm(repUser, "offer list")
	e.post(slack.CommandsPath, formType, commandBody("T0OTHER01", repUser, "find 0912345678"), nil)
	res, _ := e.say(crm.ChannelWeb, "w-log", "gặp nhân viên")
	idStr := strconv.FormatUint(uint64(res.CustomerID), 10)
	card := e.handoffCard(res.CustomerID)
	e.post(slack.InteractionsPath, formType,
		[]byte(url.Values{"payload": {string(interaction(slacktest.TeamID, strangerUser, handoffChan, card.TS, slack.ActionTake, idStr))}}.Encode()), nil)
	e.post(slack.EventsPath, "application/json",
		messageEvent("EvLog1", slacktest.TeamID, handoffChan, strangerUser, card.TS, "1767226300.000100", "psst", nil), nil)
	logs := e.logs.String()
	for _, want := range []string{
		`msg="slack: refused a subcommand" part=slack subcommand=find user=` + strangerUser,
		`subcommand=offer user=` + repUser + ` team=` + slacktest.TeamID + ` needs=admin`,
		`refused a command from a workspace that is not served" part=slack team=T0OTHER01 user=` + repUser,
		`refused a handoff action" part=slack action=` + slack.ActionTake + ` user=` + strangerUser,
		`refused a thread reply from a non-rep" part=slack user=` + strangerUser,
	} {
		if !strings.Contains(logs, want) {
			t.Fatalf("log lacks %q:\n%s", want, logs)
		}
	}
	lacks(t, "logs", logs, "0912345678", "+84912345678")
}

// TestRepOptionsFromEnv reads the SLACK_* variables.
func TestRepOptionsFromEnv(t *testing.T) {
	full := map[string]string{
		"SLACK_BOT_TOKEN": " xoxb-1 ", "SLACK_SIGNING_SECRET": "sec", "SLACK_APP_TOKEN": "xapp-1", "SLACK_HANDOFF_CHANNEL": "C0HAND",
		"SLACK_API_URL": "http://fake/api/", "SLACK_TEAM_IDS": "T1, T2", "SLACK_REP_IDS": "U1,U2,", "SLACK_REP_GROUP": "S1", "SLACK_ADMIN_IDS": "U9",
	}
	tests := []struct {
		name    string
		env     map[string]string
		ok      bool
		wantErr bool
	}{
		{"nothing set: Slack off", map[string]string{}, false, false},
		{"everything", full, true, false},
		{"HTTP only", map[string]string{"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "s"}, true, false},
		{"Socket Mode only", map[string]string{"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_APP_TOKEN": "xapp-1"}, true, false},
		{"no way in", map[string]string{"SLACK_BOT_TOKEN": "xoxb-1"}, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, ok, err := slack.OptionsFromEnv(func(k string) string { return tt.env[k] })
			if ok != tt.ok || (err != nil) != tt.wantErr {
				t.Fatalf("ok %v err %v, want ok %v err %v", ok, err, tt.ok, tt.wantErr)
			}
		})
	}
	opts, _, _ := slack.OptionsFromEnv(func(k string) string { return full[k] })
	if opts.BotToken != "xoxb-1" || opts.SigningSecret != "sec" || opts.AppToken != "xapp-1" || opts.HandoffChannel != "C0HAND" ||
		opts.APIURL != "http://fake/api/" || strings.Join(opts.TeamIDs, "|") != "T1|T2" || strings.Join(opts.RepIDs, "|") != "U1|U2" ||
		opts.RepGroup != "S1" || strings.Join(opts.AdminIDs, "|") != "U9" {
		t.Fatalf("options = %+v", opts)
	}
}

// TestRepAPIURL: SLACK_API_URL (without its trailing slash) points the
// adapter at another Web API, here the fake; a wrong token fails Open with
// a message naming SLACK_BOT_TOKEN.
func TestRepAPIURL(t *testing.T) {
	e := newEnv(t, false)
	fake := slacktest.New(t)
	for _, tt := range []struct {
		token, wantErr string
	}{
		{slacktest.BotToken, ""},
		{"xoxb-wrong", "SLACK_BOT_TOKEN"},
	} {
		env := map[string]string{"SLACK_BOT_TOKEN": tt.token, "SLACK_SIGNING_SECRET": "s", "SLACK_API_URL": strings.TrimSuffix(fake.APIURL(), "/")}
		opts, ok, err := slack.OptionsFromEnv(func(k string) string { return env[k] })
		if !ok || err != nil {
			t.Fatal(ok, err)
		}
		a, err := slack.New(e.core, opts)
		if err != nil {
			t.Fatal(err)
		}
		err = a.Open(context.Background())
		a.Close()
		if tt.wantErr == "" && err != nil || tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
			t.Fatalf("Open with %s: %v", tt.token, err)
		}
	}
	if got := len(fake.Calls("auth.test")); got != 2 {
		t.Fatalf("the fake got %d auth.test calls, want 2", got)
	}
}

// TestRepManifest checks that the app manifest a user pastes matches what
// the adapter serves and needs.
func TestRepManifest(t *testing.T) {
	raw, err := configs.Files.ReadFile("slack-app-manifest.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var m struct {
		Features struct {
			BotUser struct {
				DisplayName string `yaml:"display_name"`
			} `yaml:"bot_user"`
			SlashCommands []struct {
				Command, URL string
			} `yaml:"slash_commands"`
		}
		OAuth struct {
			Scopes struct{ Bot []string } `yaml:"scopes"`
		} `yaml:"oauth_config"`
		Settings struct {
			Events struct {
				RequestURL string   `yaml:"request_url"`
				BotEvents  []string `yaml:"bot_events"`
			} `yaml:"event_subscriptions"`
			Interactivity struct {
				IsEnabled  bool   `yaml:"is_enabled"`
				RequestURL string `yaml:"request_url"`
			}
			SocketMode bool `yaml:"socket_mode_enabled"`
		}
	}
	if err := yaml.Unmarshal(raw, &m); err != nil {
		t.Fatalf("manifest: %v", err)
	}
	path := func(u string) string {
		p, err := url.Parse(u)
		if err != nil {
			t.Fatalf("manifest URL %q: %v", u, err)
		}
		return p.Path
	}
	if len(m.Features.SlashCommands) != 1 || m.Features.SlashCommands[0].Command != "/crm" || path(m.Features.SlashCommands[0].URL) != slack.CommandsPath {
		t.Fatalf("slash commands = %+v", m.Features.SlashCommands)
	}
	if !m.Settings.Interactivity.IsEnabled || path(m.Settings.Interactivity.RequestURL) != slack.InteractionsPath {
		t.Fatalf("interactivity = %+v", m.Settings.Interactivity)
	}
	if path(m.Settings.Events.RequestURL) != slack.EventsPath {
		t.Fatalf("events URL = %q", m.Settings.Events.RequestURL)
	}
	if !m.Settings.SocketMode || m.Features.BotUser.DisplayName == "" {
		t.Fatalf("socket mode %v, bot user %q", m.Settings.SocketMode, m.Features.BotUser.DisplayName)
	}
	has := func(list []string, want ...string) {
		t.Helper()
		for _, w := range want {
			found := false
			for _, s := range list {
				found = found || s == w
			}
			if !found {
				t.Fatalf("manifest lacks %q in %v", w, list)
			}
		}
	}
	// commands: /crm; chat:write: cards, threads, ephemeral notices;
	// usergroups:read: SLACK_REP_GROUP; *:history: thread replies.
	has(m.OAuth.Scopes.Bot, "commands", "chat:write", "usergroups:read", "channels:history", "groups:history")
	has(m.Settings.Events.BotEvents, "message.channels", "message.groups")
}

// TestRepHandoffCardRetried: the handoff card still reaches the channel when
// Slack answers 503 and 500 first; an error Slack means (a wrong channel) is
// not retried, and is logged.
func TestRepHandoffCardRetried(t *testing.T) {
	e := newEnv(t, false)
	e.fake.Fail("chat.postMessage", http.StatusServiceUnavailable, http.StatusInternalServerError)
	res, _ := e.say(crm.ChannelWeb, "w-retry", "gặp nhân viên")
	card := e.fake.Wait("chat.postMessage", 1, 10*time.Second)[0]
	if got := len(e.fake.Calls("failed:chat.postMessage")); got != 2 {
		t.Fatalf("%d failed attempts, want 2", got)
	}
	eventually(t, "thread stored", func() bool {
		return e.customer(res.CustomerID).Handoff.Thread == handoffChan+":"+card.TS
	})

	// A second adapter configured with a channel Slack does not know: one
	// attempt (Slack's {"ok":false} is an answer, not trouble), logged.
	bad, err := slack.New(e.core, slack.Options{BotToken: slacktest.BotToken, SigningSecret: docSecret, APIURL: e.fake.APIURL(),
		HandoffChannel: "#", Logger: slog.New(slog.NewTextHandler(e.logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	if err := bad.Open(context.Background()); err != nil {
		t.Fatal(err)
	}
	// Ánh is waiting for a person (a rep stepped in), no card yet.
	if _, err := e.core.TakeHandoff(context.Background(), e.ids["anh"], "slack:"+repUser); err != nil {
		t.Fatal(err)
	}
	bad.CoreEvent(context.Background(), bot.Event{Kind: bot.EventHandoffRequested, CustomerID: e.ids["anh"]})
	// Close lets the queued card go out (it used to run on the cancelled
	// context and fail without reaching Slack).
	bad.Close()
	var tries int
	for _, c := range append(e.fake.Calls("chat.postMessage"), e.fake.Calls("failed:chat.postMessage")...) {
		if c.Form.Get("channel") == "#" {
			tries++
		}
	}
	if tries != 1 {
		t.Fatalf("%d attempts to post to an unknown channel, want 1", tries)
	}
	if !strings.Contains(e.logs.String(), `slack: post handoff card" part=slack customer=`) || !strings.Contains(e.logs.String(), "channel_not_found") {
		t.Fatalf("the failed card was not logged:\n%s", e.logs.String())
	}
}

// TestRepCloseFinishesSlackCalls: a handoff card being posted when Close
// starts still goes out and its thread is remembered.
func TestRepCloseFinishesSlackCalls(t *testing.T) {
	e := newEnv(t, false)
	second, err := slack.New(e.core, slack.Options{BotToken: slacktest.BotToken, SigningSecret: docSecret, APIURL: e.fake.APIURL(),
		HandoffChannel: handoffChan, Logger: slog.New(slog.NewTextHandler(e.logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	if err := second.Open(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := e.core.TakeHandoff(context.Background(), e.ids["anh"], "slack:"+repUser); err != nil {
		t.Fatal(err)
	}
	release := e.fake.Hold("chat.postMessage")
	second.CoreEvent(context.Background(), bot.Event{Kind: bot.EventHandoffRequested, CustomerID: e.ids["anh"]})
	e.fake.Wait("held:chat.postMessage", 1, 5*time.Second)
	closed := make(chan struct{})
	go func() { second.Close(); close(closed) }()
	time.Sleep(50 * time.Millisecond) // let Close begin while the call is held
	release()
	<-closed
	if h := e.customer(e.ids["anh"]).Handoff; !strings.HasPrefix(h.Thread, handoffChan+":") {
		t.Fatalf("after Close the card's thread is %q; the call was cut short", h.Thread)
	}
}

// A customer's typed number shows as unverified on the card; a rep confirms
// it, or merges two records of one person.
func TestRepVerifyAndMerge(t *testing.T) {
	e := newEnv(t, false)
	_, _ = e.say(crm.ChannelWeb, "w-visitor", "mình muốn mua, sđt 0938 777 666")
	_, _ = e.say(crm.ChannelWeb, "w-visitor2", "xin chào")
	var visitor, visitor2 *crm.Customer
	if err := e.db.View(context.Background(), func(tx crm.Tx) error {
		var err error
		if visitor, err = tx.FindCustomerByIdentity(crm.ChannelWeb, "w-visitor"); err != nil {
			return err
		}
		visitor2, err = tx.FindCustomerByIdentity(crm.ChannelWeb, "w-visitor2")
		return err
	}); err != nil {
		t.Fatal(err)
	}
	id := strconv.FormatUint(uint64(visitor.ID), 10)
	contains(t, "card", e.crm(repUser, "customer "+id).all(), "0938 777 666 _(khách tự gõ, chưa xác minh)_")
	contains(t, "find by the typed number", e.crm(repUser, "find 0938777666").all(), "#"+id)

	contains(t, "verify", e.crm(repUser, "verify "+id).all(), "<@"+repUser+"> đã xác nhận số điện thoại 0938 777 666")
	lacks(t, "card after verify", e.crm(repUser, "customer "+id).all(), "chưa xác minh")
	contains(t, "verify again", e.crm(repUser, "verify "+id).all(), "không có số điện thoại hay email nào chưa xác minh")
	contains(t, "verify usage", e.crm(repUser, "verify lan").all(), "không phải mã khách")

	id2 := strconv.FormatUint(uint64(visitor2.ID), 10)
	contains(t, "merge", e.crm(repUser, "merge "+id+" "+id2).all(), "#"+id2+" đã được gộp vào", "2 tài khoản kênh")
	if got := e.customer(visitor2.ID); got.ID != visitor.ID {
		t.Fatalf("#%s resolves to #%d after the merge", id2, got.ID)
	}
	contains(t, "merge again", e.crm(repUser, "merge "+id+" "+id2).all(), "đã là cùng một khách")
}

// TestRepHandoffComplaintIsUrgent: a complaint posts the handoff card and
// flags it in its thread; a complaint from a customer already waiting flags
// the card they have.
func TestRepHandoffComplaintIsUrgent(t *testing.T) {
	e := newEnv(t, false)
	e.say(crm.ChannelWeb, "w-c1", "sp em mua bị lỗi, màn hình bị sọc")
	card := e.fake.Wait("chat.postMessage", 1, 5*time.Second)[0]
	contains(t, "card", callText(card), "sp em mua bị lỗi")
	urgentIn := func(ts string) func() bool {
		return func() bool {
			for _, c := range e.fake.Calls("chat.postMessage") {
				if c.Form.Get("thread_ts") == ts && strings.Contains(c.Form.Get("text"), "🚨 complaint") {
					return true
				}
			}
			return false
		}
	}
	eventually(t, "urgent line in the card's thread", urgentIn(card.TS))

	res, _ := e.say(crm.ChannelWeb, "w-c2", "gặp nhân viên")
	calls := e.fake.Wait("chat.postMessage", 3, 5*time.Second)
	second := calls[len(calls)-1]
	if urgentIn(second.TS)() {
		t.Fatalf("a plain request for a person was flagged urgent")
	}
	eventually(t, "thread stored", func() bool { return e.customer(res.CustomerID).Handoff.Thread != "" })
	e.say(crm.ChannelWeb, "w-c2", "giao sai màu rồi, thất vọng quá")
	eventually(t, "urgent line on the card already posted", urgentIn(second.TS))
}

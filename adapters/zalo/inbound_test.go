package zalo_test

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/idicbot/idicbot/adapters/zalo"
	"github.com/idicbot/idicbot/adapters/zalo/zalotest"
	"github.com/idicbot/idicbot/bot"
	"github.com/idicbot/idicbot/crm"
)

const mediaReply = "Cảm ơn bạn đã gửi!"

// Every event type the spec lists, shaped as it shows them: what is logged
// and what the customer gets back.
func TestEventTypes(t *testing.T) {
	e := newEnv(t, nil)
	type want struct {
		kind    string // kind of the logged inbound interaction ("" none)
		text    string // substring of its text
		replies int
		reply   string // substring of the first reply
	}
	tests := []struct {
		name string
		body func(user, id string) []byte
		want want
	}{
		{"user_send_text", func(u, id string) []byte { return e.ev.Text(u, id, "xin chào", e.ms()) },
			want{crm.KindText, "xin chào", 2, "Xin chào"}},
		{"user_send_image", func(u, id string) []byte { return e.ev.Image(u, id, "Mẫu này còn màu đỏ không?", e.ms()) },
			want{crm.KindPhoto, "[image] https://photo-talk.zadn.vn/f.jpg", 1, mediaReply}},
		{"user_send_gif", func(u, id string) []byte { return e.ev.GIF(u, id, e.ms()) },
			want{crm.KindPhoto, "[gif]", 1, mediaReply}},
		{"user_send_sticker", func(u, id string) []byte { return e.ev.Sticker(u, id, e.ms()) },
			want{crm.KindSticker, "[sticker]", 1, mediaReply}},
		{"user_send_location", func(u, id string) []byte { return e.ev.Location(u, id, e.ms()) },
			want{crm.KindOther, "[location] 10.7769,106.7009", 1, mediaReply}},
		{"user_send_link", func(u, id string) []byte { return e.ev.Link(u, id, e.ms()) },
			want{crm.KindOther, "[link] Áo dài lụa https://shop.example/ao-dai", 1, mediaReply}},
		{"user_send_audio", func(u, id string) []byte { return e.ev.Audio(u, id, e.ms()) },
			want{crm.KindVoice, "[audio]", 1, mediaReply}},
		{"user_send_video", func(u, id string) []byte { return e.ev.Video(u, id, e.ms()) },
			want{crm.KindFile, "[video]", 1, mediaReply}},
		{"user_send_file", func(u, id string) []byte { return e.ev.File(u, id, e.ms()) },
			want{crm.KindFile, "[file] don-hang.pdf", 1, mediaReply}},
		{"user_send_business_card", func(u, id string) []byte { return e.ev.BusinessCard(u, id, e.ms()) },
			want{crm.KindOther, "Chị Lan", 1, mediaReply}},
		{"user_click_chatnow", func(u, id string) []byte { return e.ev.Other("user_click_chatnow", u, e.ms()) },
			want{crm.KindSystem, "opened the chat", 0, ""}},
		{"user_seen_message", func(u, id string) []byte { return e.ev.Seen(u, []string{"m1", "m2"}, e.ms()) },
			want{"", "", 0, ""}},
		{"user_received_message", func(u, id string) []byte { return e.ev.Received(u, "m1", e.ms()) },
			want{"", "", 0, ""}},
		{"user_reacted_message", func(u, id string) []byte { return e.ev.Other("user_reacted_message", u, e.ms()) },
			want{"", "", 0, ""}},
		{"add_user_to_tag", func(u, id string) []byte { return e.ev.Other("add_user_to_tag", u, e.ms()) },
			want{"", "", 0, ""}},
		{"anonymous_send_text", func(u, id string) []byte { return e.ev.Other("anonymous_send_text", u, e.ms()) },
			want{"", "", 0, ""}},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			user := "78133068429162041" + strconv.Itoa(10+i) // 19 digits: beyond float64
			e.postOK(tt.body(user, e.msgID()))
			c := e.customer(crm.ChannelZalo, user)
			if tt.want.kind == "" {
				if c != nil {
					t.Fatalf("event created a customer: %+v", c)
				}
				return
			}
			if c == nil {
				t.Fatal("no customer")
			}
			its := e.interactions(c)
			if len(its) == 0 || its[0].Direction != crm.Inbound || its[0].Kind != tt.want.kind || !strings.Contains(its[0].Text, tt.want.text) {
				t.Fatalf("first interaction = %+v, want inbound %s containing %q", its[0], tt.want.kind, tt.want.text)
			}
			sent := e.fake.SentTo(user)
			if len(sent) != tt.want.replies {
				t.Fatalf("replies = %q, want %d", texts(sent), tt.want.replies)
			}
			if tt.want.replies > 0 && !strings.Contains(sent[0].Text, tt.want.reply) {
				t.Fatalf("reply = %q, want it to contain %q", sent[0].Text, tt.want.reply)
			}
		})
	}
}

// Ids arrive as JSON strings or numbers; 19-digit ids keep every digit.
func TestIDsAsNumbers(t *testing.T) {
	e := newEnv(t, nil)
	body := []byte(`{"app_id":"` + e.fake.AppID + `","sender":{"id":7813306842916204155},"recipient":{"id":` + e.fake.OAID +
		`},"event_name":"user_send_text","message":{"text":"xin chào","msg_id":"n1"},"timestamp":` + strconv.Itoa(int(e.ms())) + `}`)
	e.postOK(body)
	if c := e.customer(crm.ChannelZalo, "7813306842916204155"); c == nil {
		t.Fatal("the numeric id did not survive as 7813306842916204155")
	}
}

// A message of a shape the spec did not foresee is still logged and
// answered, not refused.
func TestTolerantParsing(t *testing.T) {
	e := newEnv(t, nil)
	user := "5000000000000000001"
	body := []byte(`{"app_id":"` + e.fake.AppID + `","sender":{"id":"` + user + `"},"recipient":{"id":"` + e.fake.OAID +
		`"},"event_name":"user_send_image","message":{"attachments":{"type":"image","payload":{"url":"https://x/y.jpg","size":{"w":1}}},"msg_id":"t1"},"timestamp":"` + strconv.Itoa(int(e.ms())) + `"}`)
	e.postOK(body)
	c := e.customer(crm.ChannelZalo, user)
	if c == nil {
		t.Fatal("no customer")
	}
	if its := e.interactions(c); its[0].Kind != crm.KindPhoto {
		t.Fatalf("logged as %s, want photo", its[0].Kind)
	}
	if got := len(e.fake.SentTo(user)); got != 1 {
		t.Fatalf("%d replies, want the polite one", got)
	}
}

// A redelivered event changes nothing: one interaction, one reply.
func TestRedeliveryDedupe(t *testing.T) {
	e := newEnv(t, nil)
	user := "7813306842916204155"
	id := e.msgID()
	body := e.ev.Text(user, id, "giá áo thun bao nhiêu", e.ms())
	e.postOK(body)
	before := len(e.fake.SentTo(user))
	e.postOK(body)
	e.postOK(body)
	if got := len(e.fake.SentTo(user)); got != before {
		t.Fatalf("redelivery sent %d more messages", got-before)
	}
	in := 0
	for _, it := range e.interactions(e.customer(crm.ChannelZalo, user)) {
		if it.Direction == crm.Inbound {
			in++
		}
	}
	if in != 1 {
		t.Fatalf("%d inbound interactions, want 1", in)
	}
	// Follow redelivered: one system interaction.
	f := e.ev.Follow("follow", "111", e.ms())
	e.postOK(f)
	e.postOK(f)
	if got := len(e.interactions(e.customer(crm.ChannelZalo, "111"))); got != 1 {
		t.Fatalf("%d interactions after a follow delivered twice, want 1", got)
	}
}

func TestFollowUnfollow(t *testing.T) {
	e := newEnv(t, nil)
	user := "7813306842916204155"
	e.postOK(e.ev.Follow("follow", user, e.ms()))
	c := e.customer(crm.ChannelZalo, user)
	if c == nil {
		t.Fatal("follow created no customer")
	}
	if n := len(e.fake.SentTo(user)); n != 0 {
		t.Fatalf("follow without ZALO_WELCOME sent %d messages", n)
	}
	e.clock.Add(time.Minute)
	e.postOK(e.ev.Follow("unfollow", user, e.ms()))
	if id := e.customer(crm.ChannelZalo, user).Identity(crm.ChannelZalo, user); !id.Unreachable || id.UnreachableWhy == "" {
		t.Fatalf("after unfollow identity = %+v, want unreachable", id)
	}
	// An agent's message to them is not sent.
	if _, err := e.core.SendAsAgent(context.Background(), c.ID, "lan", "Chào chị"); crm.ErrorCode(err) != crm.EUNAVAILABLE {
		t.Fatalf("SendAsAgent to an unfollowed customer: %v, want unavailable", err)
	}
	e.clock.Add(time.Minute)
	e.postOK(e.ev.Follow("follow", user, e.ms()))
	if id := e.customer(crm.ChannelZalo, user).Identity(crm.ChannelZalo, user); id.Unreachable {
		t.Fatalf("follow again left the identity unreachable: %+v", id)
	}
	if got := e.customer(crm.ChannelZalo, user).ID; got != c.ID {
		t.Fatalf("follow again made customer %d, want %d", got, c.ID)
	}
}

// A customer who only followed the OA is segmented like one who wrote:
// the segment listing (/crm segment new) shows them and the stats count
// them as new.
func TestFollowCreatesSegmentedCustomer(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	user := "7813306842916204155"
	f := e.ev.Follow("follow", user, e.ms())
	e.postOK(f)
	c := e.customer(crm.ChannelZalo, user)
	if c == nil {
		t.Fatal("follow created no customer")
	}
	if c.Segment.Name != crm.SegmentNew || c.Language != "vi" {
		t.Fatalf("segment %q, language %q; want %q, vi", c.Segment.Name, c.Language, crm.SegmentNew)
	}
	e.postOK(f) // redelivered
	page, err := e.core.Reps().SegmentPage(ctx, crm.SegmentNew, 1, 10)
	if err != nil {
		t.Fatal(err)
	}
	if page.Count != 1 || len(page.Customers) != 1 || page.Customers[0].ID != c.ID {
		t.Fatalf("segment %q lists %d of %d customers, want the follower only", crm.SegmentNew, len(page.Customers), page.Count)
	}
	st, err := e.core.Reps().Stats(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	if st.NewCustomers != 1 {
		t.Fatalf("new customers = %d, want 1", st.NewCustomers)
	}
}

func TestFollowWelcome(t *testing.T) {
	e := newEnv(t, func(o *zalo.Options) { o.Welcome = true })
	user := "7813306842916204155"
	e.postOK(e.ev.Follow("follow", user, e.ms()))
	sent := e.fake.SentTo(user)
	if len(sent) == 0 || !strings.Contains(sent[0].Text, "Xin chào") {
		t.Fatalf("welcome = %q, want the greeting", texts(sent))
	}
}

// The form of the request-user-info template links the phone and merges
// the Zalo customer with the Telegram customer who shared the same number.
func TestSubmitInfoMergesWithTelegram(t *testing.T) {
	for _, asNumber := range []bool{false, true} {
		name := "phone as string"
		if asNumber {
			name = "phone as number"
		}
		t.Run(name, func(t *testing.T) {
			e := newEnv(t, nil)
			ctx := context.Background()
			res, err := e.core.Handle(ctx, bot.Inbound{Channel: crm.ChannelTelegram, UserID: "42", MessageID: "m:42:1", Kind: crm.KindText, Text: "chào shop", Name: "Lan"})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := e.core.Handle(ctx, bot.Inbound{Channel: crm.ChannelTelegram, UserID: "42", MessageID: "m:42:2", Kind: crm.KindContact,
				Contact: &bot.Contact{Phone: "+84901234567", FirstName: "Lan", Self: true}}); err != nil {
				t.Fatal(err)
			}
			tgID := res.CustomerID
			user := "7813306842916204155"
			e.postOK(e.ev.Text(user, e.msgID(), "chào shop", e.ms()))
			if c := e.customer(crm.ChannelZalo, user); c == nil || c.ID == tgID {
				t.Fatalf("Zalo customer before the form = %+v, want a separate one", c)
			}
			e.postOK(e.ev.SubmitInfo(user, zalotest.Info{Name: "Nguyễn Thị Lan", Phone: "84901234567", Address: "12 Lê Lợi",
				Ward: "Bến Nghé", District: "Quận 1", City: "Hồ Chí Minh", PhoneNumber: asNumber}, e.ms()))
			c := e.customer(crm.ChannelZalo, user)
			if c == nil {
				t.Fatal("no customer after the form")
			}
			if c.ID != tgID {
				t.Fatalf("Zalo customer %d, want merged into Telegram customer %d", c.ID, tgID)
			}
			if got := e.customer(crm.ChannelTelegram, "42"); got == nil || got.ID != c.ID {
				t.Fatalf("Telegram identity now on %+v", got)
			}
			if c.Phone != "+84901234567" {
				t.Fatalf("phone = %q", c.Phone)
			}
			if c.Address != "12 Lê Lợi, Bến Nghé, Quận 1, Hồ Chí Minh" {
				t.Fatalf("address = %q", c.Address)
			}
			if !c.HasIdentity(crm.ChannelZalo, user) || !c.HasIdentity(crm.ChannelTelegram, "42") {
				t.Fatalf("identities = %+v", c.Identities)
			}
			// The form is acknowledged on Zalo.
			sent := e.fake.SentTo(user)
			if len(sent) == 0 || !strings.Contains(sent[len(sent)-1].Text, "0901") && !strings.Contains(sent[len(sent)-1].Text, "84901234567") {
				t.Fatalf("answer to the form = %q", texts(sent))
			}
		})
	}
}

// Echoes of our own messages change nothing; a message typed in the OA
// console is logged as an agent's and silences the bot for that customer.
func TestEchoOwnAndConsole(t *testing.T) {
	e := newEnv(t, func(o *zalo.Options) { o.ConsolePause = 6 * time.Hour })
	e.fake.EchoTo(e.url(), zalotest.DefaultOASecretKey)
	user := "7813306842916204155"
	e.postOK(e.ev.Text(user, e.msgID(), "xin chào", e.ms()))
	if errs := e.fake.WaitEchoes(); len(errs) > 0 {
		t.Fatalf("echo errors: %v", errs)
	}
	c := e.customer(crm.ChannelZalo, user)
	if c.Handoff.Active {
		t.Fatalf("our own echoes paused the bot: %+v", c.Handoff)
	}
	for _, it := range e.interactions(c) {
		if it.Kind == crm.KindAgent {
			t.Fatalf("our own echo was logged as an agent message: %+v", it)
		}
	}
	replies := len(e.fake.SentTo(user))

	// The shop owner types in the OA console.
	e.clock.Add(time.Minute)
	e.postOK(e.ev.OASend("oa_send_text", user, "console-1", "Dạ shop còn size M ạ", e.ms()))
	e.postOK(e.ev.OASend("oa_send_text", user, "console-1", "Dạ shop còn size M ạ", e.ms())) // redelivered
	c = e.customer(crm.ChannelZalo, user)
	if !c.Handoff.Active || c.Handoff.Agent != zalo.ConsoleAgent {
		t.Fatalf("handoff = %+v, want active with %s", c.Handoff, zalo.ConsoleAgent)
	}
	agent := 0
	for _, it := range e.interactions(c) {
		if it.Kind == crm.KindAgent && it.Author == zalo.ConsoleAgent && it.Text == "Dạ shop còn size M ạ" && it.Direction == crm.Outbound {
			agent++
		}
	}
	if agent != 1 {
		t.Fatalf("%d console messages logged, want 1", agent)
	}
	e.clock.Add(time.Minute)
	e.postOK(e.ev.Text(user, e.msgID(), "vậy lấy size M nhé", e.ms()))
	if got := len(e.fake.SentTo(user)); got != replies {
		t.Fatalf("the bot answered during the console handoff: %q", texts(e.fake.SentTo(user))[replies:])
	}
	// After ConsolePause without the console writing, the bot is back.
	e.clock.Add(7 * time.Hour)
	e.postOK(e.ev.Text(user, e.msgID(), "xin chào", e.ms()))
	if got := len(e.fake.SentTo(user)); got == replies {
		t.Fatal("the bot stayed silent after ZALO_CONSOLE_PAUSE")
	}
	if errs := e.fake.WaitEchoes(); len(errs) > 0 {
		t.Fatalf("echo errors: %v", errs)
	}
	if c := e.customer(crm.ChannelZalo, user); c.Handoff.Active {
		t.Fatalf("our echoes paused the bot again: %+v", c.Handoff)
	}
}

// Replies "1", "2" … (or the label) to our numbered options are the buttons.
func TestNumberedOptionsAreButtons(t *testing.T) {
	e := newEnv(t, nil)
	user := "7813306842916204155"
	e.postOK(e.ev.Text(user, e.msgID(), "xin chào", e.ms()))
	sent := e.fake.SentTo(user)
	last := sent[len(sent)-1].Text
	if !strings.Contains(last, "1. ✅ Nhận ưu đãi") || !strings.Contains(last, "WELCOME10") {
		t.Fatalf("offer = %q, want numbered options", last)
	}
	before := len(sent)
	e.postOK(e.ev.Text(user, e.msgID(), "1", e.ms()))
	sent = e.fake.SentTo(user)[before:]
	if len(sent) == 0 || !strings.Contains(sent[0].Text, "Tuyệt vời") {
		t.Fatalf("answer to 1 = %q, want the offer accepted", texts(sent))
	}
	c := e.customer(crm.ChannelZalo, user)
	if c.Offers["welcome-new"] == nil || c.Offers["welcome-new"].Accepted != 1 {
		t.Fatalf("offer stats = %+v, want accepted once", c.Offers["welcome-new"])
	}
	// The accept asks for the phone: the request-user-info template follows.
	if got := sent[len(sent)-1]; got.Template != "request_user_info" {
		t.Fatalf("last message = %+v, want the request_user_info template", got)
	}
}

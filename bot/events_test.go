package bot_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/idicbot/idicbot/bot"
	"github.com/idicbot/idicbot/crm"
)

// interactions returns a customer's logged interactions, oldest first.
func (e *env) interactions(id crm.ID) []*crm.Interaction {
	e.t.Helper()
	var out []*crm.Interaction
	if err := e.db.View(context.Background(), func(tx crm.Tx) error {
		var err error
		out, err = tx.Interactions(id, 0, 0)
		return err
	}); err != nil {
		e.t.Fatal(err)
	}
	return out
}

// stats returns today's business numbers, as /crm stats shows them.
func (e *env) stats() *bot.Stats {
	e.t.Helper()
	st, err := e.core.Reps().Stats(context.Background(), 1)
	if err != nil {
		e.t.Fatal(err)
	}
	return st
}

// inSegment reports whether the segment listing (/crm segment NAME) shows
// the customer, and how many customers it counts.
func (e *env) inSegment(name string, id crm.ID) (bool, int64) {
	e.t.Helper()
	p, err := e.core.Reps().SegmentPage(context.Background(), name, 1, 100)
	if err != nil {
		e.t.Fatal(err)
	}
	for _, c := range p.Customers {
		if c.ID == id {
			return true, p.Count
		}
	}
	return false, p.Count
}

// sent flushes the outbox and returns what left since the last call.
func (e *env) sent() []*crm.OutboxItem {
	e.t.Helper()
	if err := e.disp.Flush(context.Background()); err != nil {
		e.t.Fatal(err)
	}
	return e.rec.Take()
}

// A customer first heard of through an event that is not their message is
// created as a message would create them: segmented, listed in their
// segment, counted as new, with the channel's language; nothing is sent and
// a replay of the event changes nothing.
func TestEventCreatesSegmentedCustomer(t *testing.T) {
	tests := []struct {
		name string
		do   func(e *env, user string) (bot.Result, error)
		kind string
		dir  crm.Direction
	}{
		{"follow", func(e *env, user string) (bot.Result, error) {
			return e.core.Touch(context.Background(), bot.Inbound{Channel: crm.ChannelZalo, UserID: user, MessageID: "follow:" + user,
				Text: "followed the Zalo OA", Locale: "vi"})
		}, crm.KindSystem, crm.Inbound},
		{"console message", func(e *env, user string) (bot.Result, error) {
			return e.core.RecordAgentMessage(context.Background(), bot.AgentMessage{Channel: crm.ChannelZalo, UserID: user,
				MessageID: "sent:" + user, Author: "zalo-oa-console", Text: "Dạ shop chào chị", Locale: "vi"})
		}, crm.KindAgent, crm.Outbound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, "")
			user := "7813306842916204155"
			res, err := tt.do(e, user)
			if err != nil {
				t.Fatal(err)
			}
			c := e.customer(crm.ChannelZalo, user)
			if c == nil || res.Duplicate || res.CustomerID != c.ID {
				t.Fatalf("result %+v, customer %+v: want a new customer", res, c)
			}
			if got, want := c.Segment.Name, crm.SegmentNew; got != want {
				t.Fatalf("segment = %q, want %q", got, want)
			}
			listed, count := e.inSegment(crm.SegmentNew, c.ID)
			if !listed || count != 1 {
				t.Fatalf("segment %q lists the customer: %v, counts %d; want listed, 1", crm.SegmentNew, listed, count)
			}
			if got, want := c.Language, "vi"; got != want {
				t.Fatalf("language = %q, want %q", got, want)
			}
			st := e.stats()
			if st.NewCustomers != 1 || st.Customers != 1 || st.SegmentMoves[crm.SegmentNew] != 1 {
				t.Fatalf("stats: new %d, customers %d, moves to new %d; want 1, 1, 1", st.NewCustomers, st.Customers, st.SegmentMoves[crm.SegmentNew])
			}
			its := e.interactions(c.ID)
			if len(its) != 1 || its[0].Kind != tt.kind || its[0].Direction != tt.dir || res.InteractionID != its[0].ID {
				t.Fatalf("interactions = %+v, want one %s %s", its, tt.dir, tt.kind)
			}
			if out := e.sent(); len(out) != 0 {
				t.Fatalf("the event sent %q", out[0].Text)
			}

			res, err = tt.do(e, user)
			if err != nil {
				t.Fatal(err)
			}
			if !res.Duplicate {
				t.Fatalf("replay: %+v, want a duplicate", res)
			}
			if got := len(e.interactions(c.ID)); got != 1 {
				t.Fatalf("replay: %d interactions, want 1", got)
			}
			if st := e.stats(); st.NewCustomers != 1 || st.Customers != 1 {
				t.Fatalf("replay: new customers %d, customers %d; want 1, 1", st.NewCustomers, st.Customers)
			}
			if _, count := e.inSegment(crm.SegmentNew, c.ID); count != 1 {
				t.Fatalf("replay: segment counts %d, want 1", count)
			}
		})
	}
}

// An unfollow marks the identity unreachable (an agent's message is then
// refused); a follow, or a message, makes it reachable again; a late replay
// of the unfollow does not mark it again.
func TestUnreachableAndTouch(t *testing.T) {
	e := newEnv(t, "")
	ctx := context.Background()
	user := "7813306842916204155"
	res, _ := e.say(bot.Inbound{Channel: crm.ChannelZalo, UserID: user, Text: "xin chào"})
	id := res.CustomerID
	identity := func() crm.Identity {
		t.Helper()
		return *e.customer(crm.ChannelZalo, user).Identity(crm.ChannelZalo, user)
	}

	e.clock.Add(time.Minute)
	got, err := e.core.MarkUnreachable(ctx, crm.ChannelZalo, user, "unfollow:1", "unfollowed the Zalo OA")
	if err != nil || got.Duplicate || got.CustomerID != id {
		t.Fatalf("MarkUnreachable = %+v, %v; want customer %d", got, err, id)
	}
	if i := identity(); !i.Unreachable || i.UnreachableWhy != "unfollowed the Zalo OA" || !i.UnreachableSince.Equal(e.clock.Now()) {
		t.Fatalf("identity after unfollow = %+v", i)
	}
	if _, err := e.core.SendAsAgent(ctx, id, "slack:U1", "Chào chị"); crm.ErrorCode(err) != crm.EUNAVAILABLE {
		t.Fatalf("SendAsAgent to an unreachable customer: %v, want EUNAVAILABLE", err)
	}

	e.clock.Add(time.Minute)
	if _, err := e.core.Touch(ctx, bot.Inbound{Channel: crm.ChannelZalo, UserID: user, MessageID: "follow:2", Text: "followed the Zalo OA"}); err != nil {
		t.Fatal(err)
	}
	if i := identity(); i.Unreachable || i.UnreachableWhy != "" || !i.UnreachableSince.IsZero() {
		t.Fatalf("identity after follow = %+v, want reachable", i)
	}
	if c := e.customer(crm.ChannelZalo, user); c.ID != id {
		t.Fatalf("follow made customer %d, want %d", c.ID, id)
	}
	got, err = e.core.MarkUnreachable(ctx, crm.ChannelZalo, user, "unfollow:1", "unfollowed the Zalo OA")
	if err != nil || !got.Duplicate {
		t.Fatalf("replayed unfollow = %+v, %v; want a duplicate", got, err)
	}
	if i := identity(); i.Unreachable {
		t.Fatalf("a replayed unfollow marked the identity again: %+v", i)
	}
	if out := e.sent(); len(out) != 0 {
		t.Fatalf("follow or unfollow sent %q", out[0].Text)
	}

	// Unfollow, then a message: reachable again too.
	if _, err := e.core.MarkUnreachable(ctx, crm.ChannelZalo, user, "unfollow:3", "unfollowed the Zalo OA"); err != nil {
		t.Fatal(err)
	}
	if _, out := e.say(bot.Inbound{Channel: crm.ChannelZalo, UserID: user, Text: "xin chào"}); len(out) == 0 {
		t.Fatal("no answer after the customer wrote again")
	}
	if i := identity(); i.Unreachable || !i.UnreachableSince.IsZero() {
		t.Fatalf("identity after a message = %+v, want reachable", i)
	}

	// An unknown user is not created, and the event is remembered.
	got, err = e.core.MarkUnreachable(ctx, crm.ChannelZalo, "404", "unfollow:4", "unfollowed the Zalo OA")
	if err != nil || got.CustomerID != 0 {
		t.Fatalf("unknown user: %+v, %v", got, err)
	}
	if c := e.customer(crm.ChannelZalo, "404"); c != nil {
		t.Fatalf("unfollow created a customer: %+v", c)
	}
	if got, _ := e.core.MarkUnreachable(ctx, crm.ChannelZalo, "404", "unfollow:4", "unfollowed the Zalo OA"); !got.Duplicate {
		t.Fatal("replay for an unknown user not seen as a duplicate")
	}
}

// A message typed in the channel's console is logged as the agent's and
// pauses the bot for that customer; a replay (or our own send's echo)
// changes nothing.
func TestRecordAgentMessagePausesBot(t *testing.T) {
	e := newEnv(t, "")
	ctx := context.Background()
	user := "7813306842916204155"
	res, out := e.say(bot.Inbound{Channel: crm.ChannelZalo, UserID: user, Text: "xin chào"})
	if len(out) == 0 {
		t.Fatal("no greeting")
	}
	id := res.CustomerID
	before := e.customer(crm.ChannelZalo, user)
	outBefore := e.stats().MessagesOut[string(crm.ChannelZalo)]
	msg := bot.AgentMessage{Channel: crm.ChannelZalo, UserID: user, MessageID: "sent:console-1", Author: "zalo-oa-console",
		Text: "Dạ shop còn size M ạ", Time: e.clock.Now()}

	e.clock.Add(time.Minute)
	got, err := e.core.RecordAgentMessage(ctx, msg)
	if err != nil || got.Duplicate || got.CustomerID != id {
		t.Fatalf("RecordAgentMessage = %+v, %v", got, err)
	}
	c := e.customer(crm.ChannelZalo, user)
	if h := c.Handoff; !h.Active || h.Agent != "zalo-oa-console" || !h.TakenAt.Equal(e.clock.Now()) {
		t.Fatalf("handoff = %+v, want taken by the console now", h)
	}
	if got, want := c.Stats.MessagesOut, before.Stats.MessagesOut+1; got != want {
		t.Fatalf("messages out = %d, want %d", got, want)
	}
	if got, want := e.stats().MessagesOut[string(crm.ChannelZalo)], outBefore+1; got != want {
		t.Fatalf("stats messages out = %d, want %d", got, want)
	}
	its := e.interactions(id)
	last := its[len(its)-1]
	if last.Kind != crm.KindAgent || last.Direction != crm.Outbound || last.Author != "zalo-oa-console" || last.Text != msg.Text {
		t.Fatalf("logged %+v, want the agent's outbound message", last)
	}
	if out := e.sent(); len(out) != 0 {
		t.Fatalf("recording the console message sent %q", out[0].Text)
	}

	// The bot is silent while the console has the conversation.
	if _, out := e.say(bot.Inbound{Channel: crm.ChannelZalo, UserID: user, Text: "khuyến mãi gì không?"}); len(out) != 0 {
		t.Fatalf("the bot answered during the console's pause: %q", out[0].Text)
	}

	// A replay changes nothing.
	n := len(e.interactions(id))
	got, err = e.core.RecordAgentMessage(ctx, msg)
	if err != nil || !got.Duplicate {
		t.Fatalf("replay = %+v, %v; want a duplicate", got, err)
	}
	if got := len(e.interactions(id)); got != n {
		t.Fatalf("replay logged %d interactions", got-n)
	}
	if got, want := e.customer(crm.ChannelZalo, user).Stats.MessagesOut, before.Stats.MessagesOut+1; got != want {
		t.Fatalf("replay: messages out = %d, want %d", got, want)
	}
}

// A console message while another agent has the conversation is logged but
// leaves the handoff theirs.
func TestRecordAgentMessageKeepsOtherAgentsHandoff(t *testing.T) {
	e := newEnv(t, "")
	ctx := context.Background()
	user := "7813306842916204155"
	res, _ := e.say(bot.Inbound{Channel: crm.ChannelZalo, UserID: user, Text: "cho mình gặp nhân viên"})
	if _, err := e.core.TakeHandoff(ctx, res.CustomerID, "slack:U1"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.core.RecordAgentMessage(ctx, bot.AgentMessage{Channel: crm.ChannelZalo, UserID: user, MessageID: "sent:c2",
		Author: "zalo-oa-console", Text: "Dạ"}); err != nil {
		t.Fatal(err)
	}
	if h := e.customer(crm.ChannelZalo, user).Handoff; !h.Active || h.Agent != "slack:U1" {
		t.Fatalf("handoff = %+v, want still slack:U1's", h)
	}
}

// ResumeAfter gives the conversation back to the bot only when the agent's
// pause is older than the given duration, and only the agent's own pause.
func TestResumeAfter(t *testing.T) {
	const console = "zalo-oa-console"
	tests := []struct {
		name    string
		holder  string        // who has the conversation
		thread  string        // the handoff's Slack thread, if any
		elapsed time.Duration // since the holder's last message
		user    string        // the user ResumeAfter is called for
		want    bool
	}{
		{"pause running", console, "", 5 * time.Hour, "u1", false},
		{"pause over", console, "", 7 * time.Hour, "u1", true},
		{"pause over, with a thread", console, "C1:1.2", 7 * time.Hour, "u1", true},
		{"another agent's handoff", "slack:U1", "", 7 * time.Hour, "u1", false},
		{"unknown user", console, "", 7 * time.Hour, "nobody", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, "")
			ctx := context.Background()
			res, _ := e.say(bot.Inbound{Channel: crm.ChannelZalo, UserID: "u1", Text: "cho mình gặp nhân viên"})
			id := res.CustomerID
			if tt.thread != "" {
				if _, err := e.core.SetHandoffThread(ctx, id, tt.thread); err != nil {
					t.Fatal(err)
				}
			}
			if tt.holder == console {
				if _, err := e.core.RecordAgentMessage(ctx, bot.AgentMessage{Channel: crm.ChannelZalo, UserID: "u1", MessageID: "sent:c1",
					Author: console, Text: "Dạ shop nghe ạ"}); err != nil {
					t.Fatal(err)
				}
			} else if _, err := e.core.TakeHandoff(ctx, id, tt.holder); err != nil {
				t.Fatal(err)
			}
			if tt.thread != "" {
				if h := e.customer(crm.ChannelZalo, "u1").Handoff; h.Thread != tt.thread {
					t.Fatalf("the console message dropped the handoff's thread: %+v", h)
				}
			}
			e.clock.Add(tt.elapsed)
			got, err := e.core.ResumeAfter(ctx, crm.ChannelZalo, tt.user, console, 6*time.Hour)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Fatalf("resumed = %v, want %v", got, tt.want)
			}
			h := e.customer(crm.ChannelZalo, "u1").Handoff
			if h.Active == tt.want {
				t.Fatalf("handoff after ResumeAfter = %+v", h)
			}
			if tt.thread != "" {
				if cu, _ := e.core.CustomerByHandoffThread(ctx, tt.thread); (cu == nil) != tt.want {
					t.Fatalf("thread still maps to %v after resume=%v", cu, tt.want)
				}
			}
			_, out := e.say(bot.Inbound{Channel: crm.ChannelZalo, UserID: "u1", Text: "xin chào"})
			if answered := len(out) > 0; answered != tt.want {
				t.Fatalf("bot answered: %v, want %v", answered, tt.want)
			}
		})
	}
}

// eventLog is an EventSink that keeps what it heard.
type eventLog struct {
	mu     sync.Mutex
	events []bot.Event
}

func (l *eventLog) CoreEvent(_ context.Context, ev bot.Event) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.events = append(l.events, ev)
}

func (l *eventLog) take() []bot.Event {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := l.events
	l.events = nil
	return out
}

// During a handoff, the customer opening the chat reaches the agent like
// their messages do; the agent's own console message does not come back.
func TestTouchDuringHandoffIsAnEvent(t *testing.T) {
	sink := &eventLog{}
	e := buildEnv(t, "", func(o *bot.Options) { o.Events = sink })
	ctx := context.Background()
	user := "7813306842916204155"
	e.say(bot.Inbound{Channel: crm.ChannelZalo, UserID: user, Text: "cho mình gặp nhân viên"})
	sink.take()
	if _, err := e.core.RecordAgentMessage(ctx, bot.AgentMessage{Channel: crm.ChannelZalo, UserID: user, MessageID: "sent:c1",
		Author: "zalo-oa-console", Text: "Dạ"}); err != nil {
		t.Fatal(err)
	}
	if got := sink.take(); len(got) != 0 {
		t.Fatalf("the console message raised %+v", got)
	}
	if _, err := e.core.Touch(ctx, bot.Inbound{Channel: crm.ChannelZalo, UserID: user, MessageID: "chat:1", Text: "opened the chat"}); err != nil {
		t.Fatal(err)
	}
	got := sink.take()
	if len(got) != 1 || got[0].Kind != bot.EventHandoffMessage || got[0].Interaction == nil || got[0].Interaction.Text != "opened the chat" {
		t.Fatalf("events = %+v, want one handoff message with the touch", got)
	}
}

func TestEventsRefuseBadInput(t *testing.T) {
	e := newEnv(t, "")
	ctx := context.Background()
	agent := func(m bot.AgentMessage) error { _, err := e.core.RecordAgentMessage(ctx, m); return err }
	ok := bot.AgentMessage{Channel: crm.ChannelZalo, UserID: "u", MessageID: "m", Author: "a", Text: "hi"}
	with := func(f func(*bot.AgentMessage)) bot.AgentMessage { m := ok; f(&m); return m }
	tests := []struct {
		name string
		call func() error
	}{
		{"touch without user", func() error {
			_, err := e.core.Touch(ctx, bot.Inbound{Channel: crm.ChannelZalo, MessageID: "m", Text: "followed"})
			return err
		}},
		{"touch without event id", func() error {
			_, err := e.core.Touch(ctx, bot.Inbound{Channel: crm.ChannelZalo, UserID: "u", Text: "followed"})
			return err
		}},
		{"touch without text", func() error {
			_, err := e.core.Touch(ctx, bot.Inbound{Channel: crm.ChannelZalo, UserID: "u", MessageID: "m"})
			return err
		}},
		{"unreachable without event id", func() error {
			_, err := e.core.MarkUnreachable(ctx, crm.ChannelZalo, "u", "", "blocked")
			return err
		}},
		{"agent message without author", func() error { return agent(with(func(m *bot.AgentMessage) { m.Author = "" })) }},
		{"agent message without text", func() error { return agent(with(func(m *bot.AgentMessage) { m.Text = " " })) }},
		{"agent message without id", func() error { return agent(with(func(m *bot.AgentMessage) { m.MessageID = "" })) }},
		{"agent message invalid utf-8", func() error { return agent(with(func(m *bot.AgentMessage) { m.Text = "\xff" })) }},
		{"resume without agent", func() error {
			_, err := e.core.ResumeAfter(ctx, crm.ChannelZalo, "u", "", time.Hour)
			return err
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.call(); crm.ErrorCode(err) != crm.EINVALID {
				t.Fatalf("err = %v, want EINVALID", err)
			}
		})
	}
	if c := e.customer(crm.ChannelZalo, "u"); c != nil {
		t.Fatal("bad input created a customer")
	}
}

// A form the customer filled in links the phone and merges with the
// customer known by it on another channel, as a shared contact does; its
// name and address replace the stored ones (a shared contact only fills
// empty fields); a replay changes nothing; empty form fields keep what is
// stored.
func TestSubmitInfo(t *testing.T) {
	e := newEnv(t, "")
	ctx := context.Background()
	tg, _ := e.say(bot.Inbound{Channel: crm.ChannelTelegram, UserID: "42", Text: "chào shop", Name: "Lan"})
	e.say(bot.Inbound{Channel: crm.ChannelTelegram, UserID: "42", Kind: crm.KindContact,
		Contact: &bot.Contact{Phone: "+84901234567", FirstName: "Lan", Address: "1 Nguyễn Huệ, Quận 1", Self: true}})
	user := "7813306842916204155"
	e.say(bot.Inbound{Channel: crm.ChannelZalo, UserID: user, Text: "xin chào"})

	form := bot.Inbound{Channel: crm.ChannelZalo, UserID: user, MessageID: "user_submit_info|" + user + "|1",
		Contact: &bot.Contact{Phone: "84901234567", FirstName: "Nguyễn Thị Lan", Address: "12 Lê Lợi, Bến Nghé, Quận 1, Hồ Chí Minh"}}
	res, err := e.core.SubmitInfo(ctx, form)
	if err != nil {
		t.Fatal(err)
	}
	c := e.customer(crm.ChannelZalo, user)
	if res.Duplicate || c.ID != tg.CustomerID || res.CustomerID != c.ID {
		t.Fatalf("result %+v, Zalo customer %d; want merged into Telegram customer %d", res, c.ID, tg.CustomerID)
	}
	if got, want := c.Phone, "+84901234567"; got != want {
		t.Fatalf("phone = %q, want %q", got, want)
	}
	if got, want := c.Name, "Nguyễn Thị Lan"; got != want {
		t.Fatalf("name = %q, want the form's %q", got, want)
	}
	if got, want := c.Address, "12 Lê Lợi, Bến Nghé, Quận 1, Hồ Chí Minh"; got != want {
		t.Fatalf("address = %q, want the form's %q", got, want)
	}
	if !c.HasIdentity(crm.ChannelTelegram, "42") || !c.HasIdentity(crm.ChannelZalo, user) {
		t.Fatalf("identities = %+v", c.Identities)
	}
	out := e.sent()
	if len(out) == 0 || len(res.Outbox) != len(out) {
		t.Fatalf("form answered with %d messages, result lists %d", len(out), len(res.Outbox))
	}
	n := len(e.interactions(c.ID))

	// Replayed: nothing changes.
	res, err = e.core.SubmitInfo(ctx, form)
	if err != nil || !res.Duplicate {
		t.Fatalf("replay = %+v, %v; want a duplicate", res, err)
	}
	if got := len(e.interactions(c.ID)); got != n {
		t.Fatalf("replay logged %d interactions", got-n)
	}
	if out := e.sent(); len(out) != 0 {
		t.Fatalf("replay answered %q", out[0].Text)
	}

	// A later form with a new address and no name: the address changes,
	// the name stays.
	e.clock.Add(time.Hour)
	if _, err := e.core.SubmitInfo(ctx, bot.Inbound{Channel: crm.ChannelZalo, UserID: user, MessageID: "user_submit_info|" + user + "|2",
		Contact: &bot.Contact{Phone: "84901234567", Address: "5 Hai Bà Trưng, Hà Nội"}}); err != nil {
		t.Fatal(err)
	}
	c = e.customer(crm.ChannelZalo, user)
	if c.Name != "Nguyễn Thị Lan" || c.Address != "5 Hai Bà Trưng, Hà Nội" {
		t.Fatalf("after the second form: name %q, address %q", c.Name, c.Address)
	}

	if _, err := e.core.SubmitInfo(ctx, bot.Inbound{Channel: crm.ChannelZalo, UserID: user, MessageID: "x"}); crm.ErrorCode(err) != crm.EINVALID {
		t.Fatalf("form without contact: %v, want EINVALID", err)
	}
}

// A complaint asks a person to take over first thing: the handoff event
// says why and that it is urgent, and a complaint from a customer already
// waiting tells the reps again. An order question asks too, not urgently.
func TestComplaintHandoffIsUrgent(t *testing.T) {
	sink := &eventLog{}
	e := buildEnv(t, "", func(o *bot.Options) { o.Events = sink })
	e.say(bot.Inbound{UserID: "c1", Text: "đơn của mình tới đâu rồi"})
	e.say(bot.Inbound{UserID: "c1", Text: "hàng giao tới bị móp hộp, thất vọng quá"})
	var got []string
	for _, ev := range sink.take() {
		if ev.Kind == bot.EventHandoffRequested {
			got = append(got, fmt.Sprintf("%s urgent=%v", ev.Reason, ev.Urgent))
		}
	}
	if want := []string{"order_status urgent=false", "complaint urgent=true"}; !slices.Equal(got, want) {
		t.Fatalf("handoff events %q, want %q", got, want)
	}
	c := e.customer(crm.ChannelWeb, "c1")
	if !c.Handoff.Active || c.Sentiment != "negative" {
		t.Fatalf("handoff %+v, sentiment %q: want active and negative", c.Handoff, c.Sentiment)
	}
}

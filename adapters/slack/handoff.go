package slack

import (
	"context"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	slackapi "github.com/slack-go/slack"
	"github.com/slack-go/slack/slackevents"

	"github.com/idicbot/idicbot/bot"
	"github.com/idicbot/idicbot/crm"
	"github.com/idicbot/idicbot/i18n"
)

// CoreEvent implements bot.EventSink. It never blocks the core: the Slack
// work is queued for the adapter's workers (dropped with an error log when
// the queue is full).
func (a *Adapter) CoreEvent(_ context.Context, e bot.Event) {
	switch e.Kind {
	case bot.EventHandoffRequested:
		if a.notices.Load() {
			return // the card comes through the outbox (RepNotices)
		}
		a.enqueue(e.CustomerID, func(ctx context.Context) { a.postHandoffCard(ctx, e) })
	case bot.EventHandoffMessage:
		if e.Interaction == nil {
			return
		}
		it := *e.Interaction
		a.enqueue(e.CustomerID, func(ctx context.Context) { a.postCustomerMessage(ctx, e.CustomerID, &it) })
	}
}

// thread is a Slack message reference stored in crm.Handoff.Thread.
func threadRef(channel, ts string) string { return channel + ":" + ts }

func splitThread(ref string) (channel, ts string, ok bool) {
	channel, ts, ok = strings.Cut(ref, ":")
	return channel, ts, ok && channel != "" && ts != ""
}

// urgentLine is what the card's thread says when the bot asked for a
// person for a reason that cannot wait (a complaint).
func urgentLine(reason string) string {
	if reason == "" {
		reason = "urgent"
	}
	return "🚨 " + reason + ": the bot apologised and promised a quick answer — please take this one first."
}

// postHandoffCard posts the "wants a person" card and remembers its thread.
func (a *Adapter) postHandoffCard(ctx context.Context, e bot.Event) {
	if err := a.handoffCard(ctx, e); err != nil {
		a.log.Error("slack: post handoff card", "customer", e.CustomerID, "channel", a.opts.HandoffChannel, "err", err)
	}
}

// handoffCard posts the "wants a person" card and remembers its thread,
// unless the customer was handed back; an urgent request (a complaint) is
// flagged in the thread, also on a card already posted.
func (a *Adapter) handoffCard(ctx context.Context, e bot.Event) error {
	id := e.CustomerID
	if a.opts.HandoffChannel == "" {
		return nil
	}
	cu, recent, err := a.core.HandoffConversation(ctx, id, bot.RecentWindow)
	if err != nil {
		return fmt.Errorf("read handoff conversation: %w", err)
	}
	if !cu.Handoff.Active {
		return nil // handed back already
	}
	if cu.Handoff.Thread != "" {
		if ch, ts, ok := splitThread(cu.Handoff.Thread); ok && e.Urgent {
			a.say(ctx, ch, ts, urgentLine(e.Reason))
		}
		return nil // already posted
	}
	text, blocks := a.view(a.channelPrinter(ctx)).renderHandoff(cu, recent, "")
	ch, ts, err := a.api.PostMessageContext(ctx, a.opts.HandoffChannel, slackapi.MsgOptionText(text, false), slackapi.MsgOptionBlocks(blocks...))
	if err != nil {
		return fmt.Errorf("post to %s: %w", a.opts.HandoffChannel, err)
	}
	if _, err := a.core.SetHandoffThread(ctx, id, threadRef(ch, ts)); err != nil {
		if crm.ErrorCode(err) == crm.ECONFLICT {
			// Handed back between the read and now: say so on the card.
			a.updateCard(ctx, id, ch, ts, "")
			return nil
		}
		// Posted: sending the notice again would post a second card.
		a.log.Error("slack: remember handoff thread", "customer", id, "err", err)
	}
	if e.Urgent {
		a.say(ctx, ch, ts, urgentLine(e.Reason))
	}
	return nil
}

// repNotices is the outbox sender of the reps' notices (bot.ChannelReps).
type repNotices struct{ a *Adapter }

var _ bot.Sender = repNotices{}

// Send posts the notice's card. A Slack failure is returned, so the
// dispatcher tries again with backoff: the notice stays in the outbox
// until the card is posted.
func (r repNotices) Send(ctx context.Context, it *crm.OutboxItem) error {
	reason, urgent, ok := bot.ParseRepNotice(it.Text)
	if !ok {
		return bot.Permanent(fmt.Errorf("unknown reps' notice %q", it.Text))
	}
	return r.a.handoffCard(ctx, bot.Event{Kind: bot.EventHandoffRequested, CustomerID: it.CustomerID, Reason: reason, Urgent: urgent})
}

// RepNotices returns the sender of the reps' notices, to register with the
// dispatcher for bot.ChannelReps; from then on handoff cards come through
// the outbox, not from the core's events.
func (a *Adapter) RepNotices() bot.Sender {
	a.notices.Store(true)
	return repNotices{a}
}

// postCustomerMessage copies what the customer wrote into the thread.
func (a *Adapter) postCustomerMessage(ctx context.Context, id crm.ID, it *crm.Interaction) {
	cu, _, err := a.core.HandoffConversation(ctx, id, 1)
	if err != nil {
		a.log.Error("slack: read handed-off customer", "customer", id, "err", err)
		return
	}
	ch, ts, ok := splitThread(cu.Handoff.Thread)
	if !ok {
		return
	}
	text := it.Text
	if text == "" {
		text = "[" + it.Kind + "]"
	}
	// Shown as the customer wrote it: a plain_text block and no mrkdwn in
	// the fallback, so their *stars* and _underscores_ stay characters and
	// nothing they typed becomes a link or a mention.
	line := fmt.Sprintf("%s (%s): %s", a.view(a.channelPrinter(ctx)).name(cu), it.Channel, text)
	if _, _, err := a.api.PostMessageContext(ctx, ch, slackapi.MsgOptionText(escapeTrunc(line, maxSectionText), false),
		slackapi.MsgOptionBlocks(verbatim(line)), slackapi.MsgOptionDisableMarkdown(), slackapi.MsgOptionTS(ts)); err != nil {
		a.log.Error("slack: post customer message to thread", "customer", id, "err", err)
	}
}

// updateCard redraws a handoff card from the store. releasedBy is set when
// the customer was just handed back.
func (a *Adapter) updateCard(ctx context.Context, id crm.ID, channel, ts, releasedBy string) {
	cu, recent, err := a.core.HandoffConversation(ctx, id, bot.RecentWindow)
	if err != nil {
		a.log.Error("slack: read handoff conversation", "customer", id, "err", err)
		return
	}
	text, blocks := a.view(a.channelPrinter(ctx)).renderHandoff(cu, recent, releasedBy)
	if _, _, _, err := a.api.UpdateMessageContext(ctx, channel, ts, slackapi.MsgOptionText(text, false), slackapi.MsgOptionBlocks(blocks...)); err != nil {
		a.log.Error("slack: update handoff card", "customer", id, "err", err)
	}
}

// say posts a short line in a handoff thread.
func (a *Adapter) say(ctx context.Context, channel, ts, text string) {
	if _, _, err := a.api.PostMessageContext(ctx, channel, slackapi.MsgOptionText(text, false), slackapi.MsgOptionTS(ts)); err != nil {
		a.log.Error("slack: post in handoff thread", "err", err)
	}
}

// whisper tells one user something only they see.
func (a *Adapter) whisper(customer crm.ID, channel, user, text string) {
	if channel == "" || user == "" {
		return
	}
	a.enqueue(customer, func(ctx context.Context) {
		if _, err := a.api.PostEphemeralContext(ctx, channel, user, slackapi.MsgOptionText(text, false)); err != nil {
			a.log.Warn("slack: post ephemeral", "err", err)
		}
	})
}

// take gives the conversation to a Slack user and redraws the card.
func (a *Adapter) take(ctx context.Context, id crm.ID, user string, fallbackChannel, fallbackTS string) error {
	cu, err := a.core.TakeHandoff(ctx, id, agentOf(user))
	if err != nil {
		return err
	}
	a.log.Info("slack: handoff taken", "customer", id, "user", user)
	ch, ts, ok := splitThread(cu.Handoff.Thread)
	if !ok {
		ch, ts = fallbackChannel, fallbackTS
	}
	if ch != "" && ts != "" {
		a.enqueue(id, func(ctx context.Context) {
			a.updateCard(ctx, id, ch, ts, "")
			t := a.channelPrinter(ctx)
			a.say(ctx, ch, ts, t.T("handoff.took", user, escape(a.view(t).who(cu))))
		})
	}
	return nil
}

// release returns the customer to the bot (admins may release anyone's
// conversation) and redraws the card.
func (a *Adapter) release(ctx context.Context, id crm.ID, user string) error {
	agent := agentOf(user)
	if a.roleOf(ctx, user) == roleAdmin {
		agent = ""
	}
	before, err := a.core.ReleaseHandoff(ctx, id, agent)
	if err != nil {
		return err
	}
	a.log.Info("slack: handoff released", "customer", id, "user", user)
	if ch, ts, ok := splitThread(before.Thread); ok {
		a.enqueue(id, func(ctx context.Context) {
			a.updateCard(ctx, id, ch, ts, "<@"+user+">")
			a.say(ctx, ch, ts, a.channelPrinter(ctx).T("handoff.released", user))
		})
	}
	return nil
}

// interaction handles a button click (handoff cards, offer cards) or a
// modal submission (the offer editor). A non-nil answer is the body of the
// HTTP response, or the Socket Mode ack payload, of a view_submission.
func (a *Adapter) interaction(ctx context.Context, cb slackapi.InteractionCallback) *slackapi.ViewSubmissionResponse {
	if !a.teamAllowed(cb.Team.ID) {
		a.log.Warn("slack: refused an interaction from a workspace that is not served", "team", cb.Team.ID, "user", cb.User.ID)
		return nil
	}
	if cb.Type == slackapi.InteractionTypeViewSubmission && cb.View.CallbackID == OfferEditCallback && a.offersOn() {
		return a.offerSubmit(ctx, cb)
	}
	if cb.Type != slackapi.InteractionTypeBlockActions {
		return nil
	}
	channel := cb.Channel.ID
	if channel == "" {
		channel = cb.Container.ChannelID
	}
	msgTS := cb.Container.MessageTs
	if msgTS == "" {
		msgTS = cb.Message.Timestamp
	}
	for _, act := range cb.ActionCallback.BlockActions {
		if act != nil && strings.HasPrefix(act.ActionID, offerActionPrefix) && a.offersOn() {
			a.offerAction(cb, channel, *act)
			continue
		}
		if act == nil || (act.ActionID != ActionTake && act.ActionID != ActionRelease) {
			continue
		}
		n, err := strconv.ParseUint(act.Value, 10, 64)
		if err != nil || n == 0 {
			continue
		}
		id := crm.ID(n)
		t := a.printerFor(ctx, cb.Team.ID, cb.User.ID)
		if a.roleOf(ctx, cb.User.ID) < roleRep {
			a.log.Warn("slack: refused a handoff action", "action", act.ActionID, "user", cb.User.ID, "team", cb.Team.ID)
			a.whisper(id, channel, cb.User.ID, t.T("handoff.repsOnly"))
			continue
		}
		if act.ActionID == ActionTake {
			err = a.take(ctx, id, cb.User.ID, channel, msgTS)
		} else {
			err = a.release(ctx, id, cb.User.ID)
		}
		if err != nil {
			a.whisper(id, channel, cb.User.ID, a.errorText(t, err))
		}
	}
	return nil
}

func (a *Adapter) errorText(t *i18n.Printer, err error) string {
	if crm.ErrorCode(err) == crm.EINTERNAL {
		a.log.Error("slack: action failed", "err", crm.MaskText(err.Error()))
		return t.T("cmd.failed")
	}
	return "⚠️ " + escape(errText(t, err))
}

// event handles one Events API event, at most once per event_id. A failure
// returns an error (and forgets the id) so that Slack's retry is handled.
func (a *Adapter) event(ctx context.Context, ev slackevents.EventsAPIEvent) error {
	cbe, ok := ev.Data.(*slackevents.EventsAPICallbackEvent)
	if !ok || ev.Type != slackevents.CallbackEvent {
		return nil
	}
	if !a.teamAllowed(ev.TeamID) {
		a.log.Warn("slack: refused an event from a workspace that is not served", "team", ev.TeamID)
		return nil
	}
	if cbe.EventID != "" && !a.seen.begin(cbe.EventID, time.Now()) {
		return nil
	}
	err := a.handleInner(ctx, ev)
	if err != nil && cbe.EventID != "" {
		a.seen.forget(cbe.EventID)
	}
	return err
}

func (a *Adapter) handleInner(ctx context.Context, ev slackevents.EventsAPIEvent) error {
	m, ok := ev.InnerEvent.Data.(*slackevents.MessageEvent)
	if !ok {
		return nil
	}
	a.mu.Lock()
	self := a.botUserID
	a.mu.Unlock()
	// Only people's new replies in a thread: no edits, joins, bot posts.
	if m.SubType != "" || m.BotID != "" || m.User == "" || m.User == self || m.ThreadTimeStamp == "" || m.ThreadTimeStamp == m.TimeStamp {
		return nil
	}
	cu, err := a.core.CustomerByHandoffThread(ctx, threadRef(m.Channel, m.ThreadTimeStamp))
	if err != nil {
		a.log.Error("slack: find handoff thread", "err", err)
		return err
	}
	if cu == nil {
		return nil // not a handoff thread, or handed back
	}
	t := a.printerFor(ctx, ev.TeamID, m.User)
	if a.roleOf(ctx, m.User) < roleRep {
		a.log.Warn("slack: refused a thread reply from a non-rep", "user", m.User, "customer", cu.ID)
		a.whisper(cu.ID, m.Channel, m.User, t.T("handoff.notSentRep"))
		return nil
	}
	switch h := cu.Handoff; {
	case h.Agent == "":
		// Answering is taking.
		if err := a.take(ctx, cu.ID, m.User, m.Channel, m.ThreadTimeStamp); err != nil {
			a.whisper(cu.ID, m.Channel, m.User, a.errorText(t, err)+t.T("handoff.notSent"))
			return nil
		}
	case h.Agent != agentOf(m.User):
		a.whisper(cu.ID, m.Channel, m.User, t.T("handoff.other", agentName(h.Agent)))
		return nil
	}
	text := plainText(m.Text)
	if strings.TrimSpace(text) == "" {
		return nil
	}
	// Keyed by the Slack message itself: a retried event, or one Slack
	// delivers again after our restart, sends nothing twice.
	if _, err := a.core.SendAsAgentOnce(ctx, cu.ID, agentOf(m.User), text, "slack:"+m.Channel+":"+m.TimeStamp); err != nil {
		if crm.ErrorCode(err) == crm.EINTERNAL {
			a.log.Error("slack: send rep reply", "customer", cu.ID, "err", err)
			return err
		}
		a.whisper(cu.ID, m.Channel, m.User, a.errorText(t, err))
	}
	return nil
}

var slackLink = regexp.MustCompile(`<([^<>|]+)(?:\|([^<>]*))?>`)

// plainText turns Slack message markup into what a customer should read:
// links and mentions to their labels, entities decoded.
func plainText(s string) string {
	s = slackLink.ReplaceAllStringFunc(s, func(m string) string {
		sub := slackLink.FindStringSubmatch(m)
		target, label := sub[1], sub[2]
		switch {
		case label != "":
			return label
		case strings.HasPrefix(target, "mailto:"):
			return strings.TrimPrefix(target, "mailto:")
		case strings.HasPrefix(target, "@") || strings.HasPrefix(target, "#") || strings.HasPrefix(target, "!"):
			return ""
		}
		return target
	})
	return strings.NewReplacer("&lt;", "<", "&gt;", ">", "&amp;", "&").Replace(strings.TrimSpace(s))
}

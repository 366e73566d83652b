package zalo

import (
	"context"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/idicbot/idicbot/bot"
	"github.com/idicbot/idicbot/crm"
)

// Texts of the system interactions the adapter logs.
const (
	followText    = "followed the Zalo OA"
	clickChatText = "opened the chat with the Zalo OA"
	unfollowWhy   = "unfollowed the Zalo OA"
)

// handleEvent acts on one verified event for user, under user's lock.
func (a *Adapter) handleEvent(ctx context.Context, ev *Event, user string) error {
	name := ev.EventName
	switch {
	case strings.HasPrefix(name, "user_send_"):
		return a.userMessage(ctx, ev, user)
	case name == EventFollow:
		return a.follow(ctx, ev, user)
	case name == EventUnfollow:
		return a.unfollow(ctx, ev, user)
	case name == EventUserSubmitInfo:
		return a.submitInfo(ctx, ev, user)
	case strings.HasPrefix(name, "oa_send_"):
		return a.echo(ctx, ev, user)
	case name == EventUserClickChatNow:
		return a.touch(ctx, ev, user, clickChatText)
	case name == EventUserSeenMessage || name == EventUserReceivedMessage:
		a.log.Debug("zalo delivery receipt", "event", name, "msg_id", string(ev.Message.MsgID), "msg_ids", len(ev.Message.MsgIDs))
		return nil
	}
	a.log.Info("zalo event not handled; acknowledged", "event", name)
	return nil
}

// kindOf maps a message event to the core's interaction kind.
func kindOf(event string) string {
	switch event {
	case EventUserSendText:
		return crm.KindText
	case EventUserSendImage, EventUserSendGIF:
		return crm.KindPhoto
	case EventUserSendSticker:
		return crm.KindSticker
	case EventUserSendAudio:
		return crm.KindVoice
	case EventUserSendVideo, EventUserSendFile:
		return crm.KindFile
	}
	// location, link, business card and kinds not known yet
	return crm.KindOther
}

// truncate keeps at most n characters.
func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n])
}

func (a *Adapter) inbound(ev *Event, user string) bot.Inbound {
	t := ev.Time()
	if t.IsZero() {
		t = a.now()
	}
	return bot.Inbound{Channel: crm.ChannelZalo, UserID: user, ChatID: user, MessageID: ev.DedupeKey(), Time: t, Locale: "vi"}
}

// userMessage hands a customer's message to the core: text as text (a
// number or a label answering our numbered options as that button), other
// kinds with their caption and a line per attachment.
func (a *Adapter) userMessage(ctx context.Context, ev *Event, user string) error {
	in := a.inbound(ev, user)
	in.Kind = kindOf(ev.EventName)
	text := strings.TrimSpace(string(ev.Message.Text))
	if in.Kind == crm.KindText {
		if text == "" && ev.Unreadable != "" {
			in.Kind, text = crm.KindOther, "[unreadable message]"
		}
		in.Text = text
		if b, ok := a.chosenButton(ctx, user, text); ok {
			in.Kind, in.Payload, in.Text = crm.KindButton, b.Payload, b.Label
		}
	} else {
		lines := []string{}
		if text != "" {
			lines = append(lines, text)
		}
		lines = append(lines, ev.Message.Describe()...)
		if len(lines) == 0 {
			lines = append(lines, "["+strings.TrimPrefix(ev.EventName, "user_send_")+"]")
		}
		in.Text = strings.Join(lines, "\n")
		a.log.Info("zalo customer sent a non-text message", "kind", in.Kind, "event", ev.EventName, "msg_id", string(ev.Message.MsgID))
	}
	in.Text = truncate(in.Text, bot.MaxTextLen)
	if err := a.resumeAfterConsole(ctx, user); err != nil {
		return err
	}
	_, err := a.h.Handle(ctx, in)
	return err
}

// chosenButton maps an answer to our numbered options ("2", "2.") or a
// label typed out to the button of the last message we sent the user, when
// that message had buttons.
func (a *Adapter) chosenButton(ctx context.Context, user, text string) (crm.Button, bool) {
	t := strings.TrimRight(strings.TrimSpace(text), ".)")
	if t == "" || utf8.RuneCountInString(t) > 40 {
		return crm.Button{}, false
	}
	n, numErr := strconv.Atoi(t)
	if numErr == nil && (n < 1 || n > 9) {
		return crm.Button{}, false
	}
	var buttons []crm.Button
	_ = a.store.View(ctx, func(tx crm.Tx) error {
		c, err := tx.FindCustomerByIdentity(crm.ChannelZalo, user)
		if err != nil || c == nil {
			return err
		}
		recent, err := tx.RecentInteractions(c.ID, 20)
		if err != nil {
			return err
		}
		for i := len(recent) - 1; i >= 0; i-- {
			it := recent[i]
			if it.Direction == crm.Outbound && it.Channel == crm.ChannelZalo && (it.ChatID == user || it.ChatID == "") {
				buttons = it.Buttons
				return nil
			}
		}
		return nil
	})
	if numErr == nil {
		if n <= len(buttons) {
			return buttons[n-1], true
		}
		return crm.Button{}, false
	}
	f := crm.Fold(t)
	for _, b := range buttons {
		if crm.Fold(b.Label) == f {
			return b, true
		}
	}
	return crm.Button{}, false
}

// follow creates or reactivates the customer; with Welcome, through the
// core as a /start so the greeting (and an offer) goes out.
func (a *Adapter) follow(ctx context.Context, ev *Event, user string) error {
	if a.opts.Welcome {
		in := a.inbound(ev, user)
		in.Kind, in.Command = crm.KindText, "start"
		_, err := a.h.Handle(ctx, in)
		return err
	}
	return a.touch(ctx, ev, user, followText)
}

// submitInfo hands the customer's form to the core: the phone is
// normalised and linked, merging with a customer already known by it on
// another channel; the name and address they typed replace the stored ones.
func (a *Adapter) submitInfo(ctx context.Context, ev *Event, user string) error {
	in := a.inbound(ev, user)
	in.Kind = crm.KindContact
	info := ev.Info
	var addr []string
	for _, p := range []FlexString{info.Address, info.Ward, info.District, info.City} {
		if s := strings.TrimSpace(string(p)); s != "" {
			addr = append(addr, s)
		}
	}
	in.Contact = &bot.Contact{
		Phone:     strings.TrimSpace(string(info.Phone)),
		FirstName: strings.TrimSpace(string(info.Name)),
		Address:   strings.Join(addr, ", "),
		Self:      true,
	}
	in.Name = in.Contact.FirstName
	if in.Contact.Phone == "" {
		a.log.Warn("zalo user_submit_info without a phone", "user", user)
	}
	_, err := a.h.SubmitInfo(ctx, in)
	return err
}

// touch records an inbound event that is not a message (follow, opening the
// chat) through the core: the customer is created if new, made reachable
// again, and the event logged, which also opens the interaction window.
// Nothing is sent.
func (a *Adapter) touch(ctx context.Context, ev *Event, user, text string) error {
	in := a.inbound(ev, user)
	in.Text = text
	_, err := a.h.Touch(ctx, in)
	return err
}

// unfollow marks the customer's Zalo identity unreachable: nothing more is
// sent to it until they write again.
func (a *Adapter) unfollow(ctx context.Context, ev *Event, user string) error {
	_, err := a.h.MarkUnreachable(ctx, crm.ChannelZalo, user, ev.DedupeKey(), unfollowWhy)
	return err
}

// echo records a message the OA sent. Our own sends are recorded already;
// anything else was typed by a human in the OA console: it is logged as an
// agent message and the bot goes quiet for that customer, as in a handoff.
func (a *Adapter) echo(ctx context.Context, ev *Event, user string) error {
	msgID := string(ev.Message.MsgID)
	if msgID == "" {
		a.log.Warn("zalo echo without msg_id; ignored", "event", ev.EventName)
		return nil
	}
	if a.sent.ours(ctx, user, msgID, a.opts.EchoWait) {
		return nil
	}
	text := strings.TrimSpace(string(ev.Message.Text))
	if d := ev.Message.Describe(); len(d) > 0 {
		text = strings.TrimSpace(text + "\n" + strings.Join(d, "\n"))
	}
	if text == "" {
		text = "[" + strings.TrimPrefix(ev.EventName, "oa_send_") + "]"
	}
	in := a.inbound(ev, user)
	// The dedupe key is the one our sends are recorded under (recordSent):
	// the core takes an echo of our own message as already seen.
	res, err := a.h.RecordAgentMessage(ctx, bot.AgentMessage{Channel: crm.ChannelZalo, UserID: user, ChatID: user,
		MessageID: sentKey(msgID), Time: in.Time, Author: ConsoleAgent, Text: truncate(text, bot.MaxTextLen), Locale: in.Locale})
	if err == nil && !res.Duplicate {
		a.log.Info("zalo message typed in the OA console recorded; the bot is paused for this customer", "user", user, "msg_id", msgID)
	}
	return err
}

// resumeAfterConsole hands the conversation back to the bot when the OA
// console's last message is older than ConsolePause.
func (a *Adapter) resumeAfterConsole(ctx context.Context, user string) error {
	pause := a.opts.ConsolePause
	if pause <= 0 {
		return nil // paused until released
	}
	_, err := a.h.ResumeAfter(ctx, crm.ChannelZalo, user, ConsoleAgent, pause)
	return err
}

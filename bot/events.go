package bot

import (
	"context"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/idicbot/idicbot/crm"
)

// Channel events that are not a customer's message — a follow, an unfollow,
// a message a human typed in the channel's own console — go through the
// same turn as Handle: one store transaction, deduplicated on the event's
// id, Identify and Differentiate as for a message, then the same work after
// the commit. None of them replies or shows an offer.

// AgentMessage is a message a human sent a customer from the channel's own
// tools (the Zalo OA console), which the channel reports back to us.
type AgentMessage struct {
	Channel crm.Channel
	UserID  string // the customer's id on the channel
	ChatID  string // the chat it went to (UserID when empty)
	// MessageID is the dedupe key: the key our own sends are recorded
	// under, so that the echo of a message we sent is not taken for a
	// human's.
	MessageID string
	Time      time.Time
	// Author is the agent; the bot is paused for the customer in their name.
	Author string
	Text   string
	// Locale is the channel's language hint, used when this message is the
	// first we hear of the customer.
	Locale string
}

// Touch records an inbound event that is not a message, such as a follow or
// the customer opening the chat: the customer is identified (created and
// segmented if new, their identity made reachable again), in.Text is logged
// as a system interaction, which opens the channel's interaction window, and
// nothing is sent. A replayed event (same in.MessageID) changes nothing.
func (c *Core) Touch(ctx context.Context, in Inbound) (Result, error) {
	in.Kind = crm.KindSystem
	if err := validate(&in); err != nil {
		return Result{}, err
	}
	if strings.TrimSpace(in.Text) == "" {
		return Result{}, crm.Errorf(crm.EINVALID, "text is empty")
	}
	t, err := c.event(ctx, in, false, (*turn).touch)
	if err != nil {
		return Result{}, fmt.Errorf("touch %s event %s: %w", in.Channel, in.MessageID, err)
	}
	return t.res, nil
}

func (t *turn) touch() error {
	if dup, err := t.seen(); err != nil || dup {
		return err
	}
	if err := t.identify(); err != nil {
		return err
	}
	c, in := t.cust, t.in
	it := &crm.Interaction{CustomerID: c.ID, Time: in.Time, Direction: crm.Inbound, Channel: in.Channel, ChatID: in.ChatID,
		MessageID: in.MessageID, Kind: crm.KindSystem, Text: in.Text}
	if err := t.record(it); err != nil {
		return err
	}
	if c.Handoff.Active {
		t.events = append(t.events, Event{Kind: EventHandoffMessage, CustomerID: c.ID, Interaction: it})
	}
	t.differentiate("event")
	return t.save()
}

// SubmitInfo handles a form the customer filled in on the channel (Zalo's
// request-user-info form): in.Contact holds what they typed, about
// themselves. It is Handle for a shared contact — the phone normalised,
// linked and merged with a customer already known by it on another channel,
// the same reply — except that the form's name and address replace the
// stored ones: the customer has just written them (a delivery address that
// changed, a full name instead of a display name), where a shared contact
// only fills what is empty. A replayed form (same in.MessageID) changes
// nothing.
func (c *Core) SubmitInfo(ctx context.Context, in Inbound) (Result, error) {
	if in.Contact == nil {
		return Result{}, crm.Errorf(crm.EINVALID, "the form is empty")
	}
	form := *in.Contact
	form.Self = true
	in.Contact, in.Kind = &form, crm.KindContact
	if err := validate(&in); err != nil {
		return Result{}, err
	}
	if in.Time.IsZero() {
		in.Time = c.now()
	}
	// Outside the transaction, as in Handle. A contact needs no assistant.
	u := Understand(in, c.catalog)
	t, err := c.event(ctx, in, false, func(t *turn) error {
		// The form's name and address replace the stored ones in
		// identify, so the reply already uses them.
		t.u, t.formReplaces = u, true
		if err := t.run(); err != nil || t.res.Duplicate {
			return err
		}
		for _, it := range t.items {
			t.res.Outbox = append(t.res.Outbox, it.ID)
		}
		return nil
	})
	if err != nil {
		return Result{}, fmt.Errorf("handle %s form %s: %w", in.Channel, in.MessageID, err)
	}
	return t.res, nil
}

// MarkUnreachable records that the channel will not let us write to userID
// any more (the user unfollowed or blocked us), for the reason why: nothing
// more is sent to that identity until the customer writes or touches again.
// eventID is the channel's id of the event, the dedupe key, so that a
// replay arriving after the customer came back does not mark them again. An
// unknown user is not created.
func (c *Core) MarkUnreachable(ctx context.Context, ch crm.Channel, userID, eventID, why string) (Result, error) {
	switch {
	case ch == "":
		return Result{}, crm.Errorf(crm.EINVALID, "channel is required")
	case userID == "":
		return Result{}, crm.Errorf(crm.EINVALID, "user id is required")
	case eventID == "":
		return Result{}, crm.Errorf(crm.EINVALID, "event id is required")
	}
	in := Inbound{Channel: ch, UserID: userID, ChatID: userID, MessageID: eventID, Kind: crm.KindSystem, Text: why}
	t, err := c.event(ctx, in, false, (*turn).unreachable)
	if err != nil {
		return Result{}, fmt.Errorf("mark %s user %s unreachable: %w", ch, userID, err)
	}
	return t.res, nil
}

func (t *turn) unreachable() error {
	if dup, err := t.seen(); err != nil || dup {
		return err
	}
	in := t.in
	if err := t.tx.MarkMessage(in.Channel, in.MessageID, 0); err != nil {
		return err
	}
	c, err := t.tx.FindCustomerByIdentity(in.Channel, in.UserID)
	if err != nil || c == nil {
		return err
	}
	t.cust = c
	t.res.CustomerID = c.ID
	id := c.Identity(in.Channel, in.UserID)
	if id == nil || id.Unreachable {
		return nil
	}
	id.Unreachable, id.UnreachableSince, id.UnreachableWhy = true, t.now, in.Text
	return t.save()
}

// RecordAgentMessage logs a message a human sent the customer from the
// channel's own tools as the agent's, and pauses the bot for that customer
// as in a handoff taken by m.Author (unless another agent has the
// conversation). A customer not known yet is created. A message already
// recorded under m.MessageID — one of our own sends, or a replay — changes
// nothing: Result.Duplicate is then true.
func (c *Core) RecordAgentMessage(ctx context.Context, m AgentMessage) (Result, error) {
	switch {
	case m.Channel == "":
		return Result{}, crm.Errorf(crm.EINVALID, "channel is required")
	case m.UserID == "":
		return Result{}, crm.Errorf(crm.EINVALID, "user id is required")
	case m.MessageID == "":
		return Result{}, crm.Errorf(crm.EINVALID, "message id is required")
	case m.Author == "":
		return Result{}, crm.Errorf(crm.EINVALID, "author is required")
	case strings.TrimSpace(m.Text) == "":
		return Result{}, crm.Errorf(crm.EINVALID, "text is empty")
	case !utf8.ValidString(m.Text):
		return Result{}, crm.Errorf(crm.EINVALID, "text is not valid UTF-8")
	case utf8.RuneCountInString(m.Text) > MaxTextLen:
		return Result{}, crm.Errorf(crm.EINVALID, "text is longer than %d characters", MaxTextLen)
	}
	if m.ChatID == "" {
		m.ChatID = m.UserID
	}
	in := Inbound{Channel: m.Channel, UserID: m.UserID, ChatID: m.ChatID, MessageID: m.MessageID, Time: m.Time,
		Kind: crm.KindAgent, Text: m.Text, Locale: m.Locale}
	t, err := c.event(ctx, in, true, func(t *turn) error { return t.agentMessage(m.Author) })
	if err != nil {
		return Result{}, fmt.Errorf("record %s agent message %s: %w", m.Channel, m.MessageID, err)
	}
	return t.res, nil
}

func (t *turn) agentMessage(author string) error {
	if dup, err := t.seen(); err != nil || dup {
		return err
	}
	// Not identify: a human writing to the customer does not make the
	// customer reachable again.
	if _, err := t.customer(); err != nil {
		return err
	}
	c, in := t.cust, t.in
	it := &crm.Interaction{CustomerID: c.ID, Time: in.Time, Direction: crm.Outbound, Channel: in.Channel, ChatID: in.ChatID,
		MessageID: in.MessageID, Kind: crm.KindAgent, Text: in.Text, Author: author}
	if err := t.record(it); err != nil {
		return err
	}
	c.Stats.MessagesOut++
	if err := t.count("msg_out:"+string(in.Channel), 1); err != nil {
		return err
	}
	h := &c.Handoff
	switch {
	case !h.Active:
		*h = crm.Handoff{Active: true, RequestedAt: t.now, Agent: author, TakenAt: t.now}
		if err := t.event(crm.EventHandoff, "agent"); err != nil {
			return err
		}
	case h.Agent == "" || h.Agent == author:
		// Waiting for a human, or this agent's already: the pause starts
		// again now.
		h.Agent, h.TakenAt = author, t.now
	}
	// Otherwise another agent has the conversation; it stays theirs.
	t.differentiate("event")
	return t.save()
}

// ResumeAfter hands the conversation with the customer known on ch as
// userID back to the bot when agent has it and took it (or last wrote)
// longer than pause ago. It reports whether the bot has it back; a pause
// that is still running, or another agent's handoff, is left alone.
func (c *Core) ResumeAfter(ctx context.Context, ch crm.Channel, userID, agent string, pause time.Duration) (bool, error) {
	if agent == "" {
		return false, crm.Errorf(crm.EINVALID, "agent is required")
	}
	now := c.now()
	stale := func(cu *crm.Customer) bool {
		return cu != nil && cu.Handoff.Active && cu.Handoff.Agent == agent && now.Sub(cu.Handoff.TakenAt) > pause
	}
	// Most calls find nothing to do: look before taking a write transaction.
	var need bool
	if err := c.store.View(ctx, func(tx crm.Tx) error {
		cu, err := tx.FindCustomerByIdentity(ch, userID)
		need = err == nil && stale(cu)
		return err
	}); err != nil {
		return false, fmt.Errorf("resume %s user %s: %w", ch, userID, err)
	}
	if !need {
		return false, nil
	}
	resumed := false
	err := c.store.Update(ctx, func(tx crm.Tx) error {
		resumed = false
		cu, err := tx.FindCustomerByIdentity(ch, userID)
		if err != nil || !stale(cu) {
			return err
		}
		if err := endHandoff(tx, cu, now); err != nil {
			return err
		}
		cu.UpdatedAt = now
		resumed = true
		return tx.PutCustomer(cu)
	})
	if err != nil {
		return false, fmt.Errorf("resume %s user %s: %w", ch, userID, err)
	}
	if resumed {
		c.log.Info("agent pause over; the bot has the conversation again", "channel", ch, "agent", agent)
	}
	return resumed, nil
}

// endHandoff returns the customer to the bot and forgets where the handoff
// was discussed.
func endHandoff(tx crm.Tx, cu *crm.Customer, now time.Time) error {
	if th := cu.Handoff.Thread; th != "" {
		if err := tx.PutHandoffThread(th, 0); err != nil {
			return err
		}
	}
	if cu.Handoff.Active {
		if err := tx.AppendEvent(&crm.Event{CustomerID: cu.ID, Time: now, Kind: crm.EventHandoffEnd, Cause: "pause_over"}); err != nil {
			return err
		}
	}
	cu.Handoff = crm.Handoff{}
	return nil
}

// event runs step as one turn of in, in one store transaction, then does
// what Handle does after the commit (metrics, EventSink, outbox).
func (c *Core) event(ctx context.Context, in Inbound, outbound bool, step func(*turn) error) (*turn, error) {
	start := time.Now()
	if in.Time.IsZero() {
		in.Time = c.now()
	}
	var t *turn
	err := c.store.Update(ctx, func(tx crm.Tx) error {
		t = &turn{core: c, tx: tx, in: in, now: c.now(), outbound: outbound}
		return step(t)
	})
	if err != nil {
		return nil, err
	}
	c.committed(ctx, t, start)
	return t, nil
}

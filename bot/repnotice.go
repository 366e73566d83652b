package bot

import (
	"strconv"
	"strings"

	"github.com/idicbot/idicbot/crm"
)

// ChannelReps is the outbox channel of notices to the shop's reps (a
// Slack handoff card): queued in the transaction that asks for a person,
// so a crash or a full queue cannot lose "a customer wants a person".
const ChannelReps crm.Channel = "reps"

// RepNoticeHandoff is the Text of a reps' notice that a customer asked for
// a person; a notice the bot raised for a reason reads
// "handoff:<reason>", and "handoff!:<reason>" when it is urgent.
const RepNoticeHandoff = "handoff"

// repNotice is the Text of a handoff notice for reason, urgent or not.
func repNotice(reason string, urgent bool) string {
	switch {
	case urgent:
		return RepNoticeHandoff + "!:" + reason
	case reason != "":
		return RepNoticeHandoff + ":" + reason
	}
	return RepNoticeHandoff
}

// ParseRepNotice reads a handoff notice's Text back.
func ParseRepNotice(text string) (reason string, urgent, ok bool) {
	rest, found := strings.CutPrefix(text, RepNoticeHandoff)
	switch {
	case !found:
		return "", false, false
	case rest == "":
		return "", false, true
	case strings.HasPrefix(rest, "!:"):
		return rest[2:], true, true
	case strings.HasPrefix(rest, ":"):
		return rest[1:], false, true
	}
	return "", false, false
}

// Has reports whether a sender is registered for ch.
func (d *Dispatcher) Has(ch crm.Channel) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.senders[ch] != nil
}

// noticeReps queues a notice for the reps, when a sender for them is
// registered (Slack is on): leased to this dispatcher like a reply, ahead
// of anything proactive.
func (t *turn) noticeReps(kind string) error {
	d := t.core.disp
	if d == nil || !d.Has(ChannelReps) {
		return nil
	}
	id := strconv.FormatUint(uint64(t.cust.ID), 10)
	it := &crm.OutboxItem{CustomerID: t.cust.ID, Channel: ChannelReps, ChatID: id, UserID: id, Text: kind,
		Status: crm.OutboxPending, CreatedAt: t.now, Priority: crm.PriorityReply}
	d.lease(it)
	if err := t.tx.EnqueueOutbox(it); err != nil {
		return err
	}
	t.notices = append(t.notices, it)
	return nil
}

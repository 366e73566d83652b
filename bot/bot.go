// Package bot is the conversation core: it turns an inbound event from any
// channel into one store transaction (Identify, Interact, Differentiate,
// Customize) and replies that leave through the outbox.
package bot

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/idicbot/idicbot/crm"
)

// Inbound is one event from a customer, already parsed from a channel's wire
// format by an adapter.
type Inbound struct {
	Channel crm.Channel
	UserID  string // the customer's id on the channel
	ChatID  string // where replies go (may equal UserID)
	// MessageID is the channel's id for this event, unique per channel; it is
	// the dedupe key, so a replayed event changes nothing.
	MessageID string
	Time      time.Time
	Kind      string // crm.KindText, crm.KindButton, crm.KindContact, crm.KindPhoto …
	Text      string
	Payload   string   // button payload when Kind is crm.KindButton
	Contact   *Contact // when the customer shared a contact card
	// Locale is the channel's language hint ("vi", "en", "en-US"), used until
	// the customer writes in a language.
	Locale   string
	Name     string // display name the channel gives
	Username string
	// Source is an acquisition source (a deep-link code), kept on first contact.
	Source string
	// EditOf is set when this event edits an earlier message: the logged text
	// is updated (the original kept) and no reply is sent.
	EditOf string
	// Command is a bot command without its slash ("start"), when the channel
	// detected one; Text then holds its argument.
	Command string
}

// Contact is a phone number (and name) shared through a channel's contact
// button or form.
type Contact struct {
	Phone     string
	FirstName string
	LastName  string
	// Self reports that the contact is the sender's own (Telegram: contact
	// user id equals sender id). Only own contacts are linked.
	Self    bool
	Email   string
	Address string
}

// Result says what the core did with an inbound event.
type Result struct {
	Duplicate     bool
	CustomerID    crm.ID
	InteractionID crm.ID
	Intent        string
	Outbox        []crm.ID
}

// Handler is what adapters call for every inbound event. Handle returns
// only after the event is committed; an adapter acknowledges the channel
// after Handle returns nil.
type Handler interface {
	Handle(ctx context.Context, in Inbound) (Result, error)
}

// Sender delivers an outbox item through one channel. Errors classify as
// temporary (retried with backoff), RetryAfter (retried after exactly that
// delay) or permanent (recorded, not retried).
type Sender interface {
	Send(ctx context.Context, it *crm.OutboxItem) error
}

// ErrUnreachable marks a permanent refusal of the recipient (the user blocked
// the bot, unfollowed): the identity is marked unreachable and nothing more
// is sent to it.
var ErrUnreachable = errors.New("recipient unreachable")

// PermanentError is a send failure that retrying cannot fix.
type PermanentError struct{ Err error }

func (e *PermanentError) Error() string { return "permanent: " + e.Err.Error() }
func (e *PermanentError) Unwrap() error { return e.Err }

// Permanent wraps err so that the dispatcher does not retry it.
func Permanent(err error) error { return &PermanentError{Err: err} }

// RetryAfterError is a rate-limit refusal carrying the delay the channel asked for.
type RetryAfterError struct {
	After time.Duration
	Err   error
}

func (e *RetryAfterError) Error() string {
	return fmt.Sprintf("rate limited, retry after %s: %v", e.After, e.Err)
}
func (e *RetryAfterError) Unwrap() error { return e.Err }

// IsPermanent reports whether a send error must not be retried.
func IsPermanent(err error) bool {
	var p *PermanentError
	return errors.As(err, &p) || errors.Is(err, ErrUnreachable)
}

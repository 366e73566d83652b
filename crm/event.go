package crm

import "time"

// EventKind names what happened in one Event.
type EventKind string

// Event kinds. The log is typed: each kind says which of Event's fields it
// fills.
const (
	// EventMessageIn and EventMessageOut: a message logged in the
	// conversation (InteractionID; Channel). The text stays in the
	// conversation log, not here.
	EventMessageIn  EventKind = "message_in"
	EventMessageOut EventKind = "message_out"
	// Offer events (OfferID, Channel).
	EventOfferShown    EventKind = "offer_shown"
	EventOfferAccepted EventKind = "offer_accepted"
	EventOfferDeclined EventKind = "offer_declined"
	EventOfferMore     EventKind = "offer_more"
	// EventOrder: an order was recorded (OrderID, Amount, OfferID when
	// attributed). Time is the order's own time.
	EventOrder EventKind = "order"
	// EventSegmentChange: the customer moved (From, To, Rule, Cause).
	EventSegmentChange EventKind = "segment_change"
	// EventHandoff and EventHandoffEnd: a person was asked to take the
	// conversation over (Cause: the reason), and handed it back.
	EventHandoff    EventKind = "handoff"
	EventHandoffEnd EventKind = "handoff_end"
	// EventOptOut and EventOptIn: the customer switched promotional
	// messages off or on (Channel: where they said so).
	EventOptOut EventKind = "opt_out"
	EventOptIn  EventKind = "opt_in"
	// EventConsent: a channel recorded the customer's consent to messages
	// they did not ask for (Channel; Cause names the consent, for example
	// "messenger_marketing").
	EventConsent EventKind = "consent"
)

// EventKinds lists every kind, in the order of the constants above.
var EventKinds = []EventKind{
	EventMessageIn, EventMessageOut, EventOfferShown, EventOfferAccepted,
	EventOfferDeclined, EventOfferMore, EventOrder, EventSegmentChange,
	EventHandoff, EventHandoffEnd, EventOptOut, EventOptIn, EventConsent,
}

// Valid reports whether k is one of EventKinds.
func (k EventKind) Valid() bool {
	for _, x := range EventKinds {
		if x == k {
			return true
		}
	}
	return false
}

// Event is one entry of the typed event log: what happened to a customer
// and when. Reports read the log by time (EventsBetween); exports and
// erasures read one customer's (CustomerEvents). An event holds ids,
// amounts and names of segments and offers, never a text the customer
// wrote, so erasing a customer keeps their events and reports still add up.
type Event struct {
	// Seq is assigned by the store; it orders events of the same Time.
	Seq        ID        `json:"seq"`
	CustomerID ID        `json:"customer_id"`
	Time       time.Time `json:"time"`
	Kind       EventKind `json:"kind"`
	Channel    Channel   `json:"channel,omitempty"`
	// InteractionID is the logged message (message events).
	InteractionID ID `json:"interaction_id,omitempty"`
	// OfferID is the offer (offer events; an order's attributed offer).
	OfferID string `json:"offer_id,omitempty"`
	// OrderID and Amount (VND) describe an order.
	OrderID ID    `json:"order_id,omitempty"`
	Amount  int64 `json:"amount,omitempty"`
	// From, To and Rule describe a segment change.
	From string `json:"from,omitempty"`
	To   string `json:"to,omitempty"`
	Rule string `json:"rule,omitempty"`
	// Cause is why: a segment change's cause (message, order, sweep,
	// import, merge), a handoff's reason, a consent's name.
	Cause string `json:"cause,omitempty"`
	// Campaign names the campaign or journey an outbound message or an
	// offer belongs to, for attribution.
	Campaign string `json:"campaign,omitempty"`
}

// Bounds on an event's strings, so that no field grows a record without
// limit.
const maxEventString = 200

// CheckEvent returns an EINVALID error when e cannot be stored: no
// customer, an unknown kind, or a string longer than 200 bytes.
func CheckEvent(e *Event) error {
	if e == nil || e.CustomerID == 0 {
		return Errorf(EINVALID, "Event without customer.")
	}
	if !e.Kind.Valid() {
		return Errorf(EINVALID, "Unknown event kind %q.", e.Kind)
	}
	for _, s := range []string{string(e.Channel), e.OfferID, e.From, e.To, e.Rule, e.Cause, e.Campaign} {
		if len(s) > maxEventString {
			return Errorf(EINVALID, "Event field longer than %d bytes.", maxEventString)
		}
	}
	return nil
}

// SegmentChangeEvent is the event of a segment move.
func SegmentChangeEvent(mv *SegmentChange) *Event {
	return &Event{CustomerID: mv.CustomerID, Time: mv.Time, Kind: EventSegmentChange,
		From: mv.From, To: mv.To, Rule: mv.Rule, Cause: mv.Cause}
}

// SegmentChange returns the move a segment-change event records.
func (e *Event) SegmentChange() *SegmentChange {
	return &SegmentChange{CustomerID: e.CustomerID, Time: e.Time, From: e.From, To: e.To, Rule: e.Rule, Cause: e.Cause}
}

// OfferEventKind maps an offer answer (OfferShown, OfferAccepted…) to its
// event kind.
func OfferEventKind(kind string) EventKind {
	switch kind {
	case OfferAccepted:
		return EventOfferAccepted
	case OfferDeclined:
		return EventOfferDeclined
	case OfferMore:
		return EventOfferMore
	}
	return EventOfferShown
}

package crm

import "time"

// Direction of an interaction.
type Direction string

const (
	Inbound  Direction = "in"
	Outbound Direction = "out"
)

// Kinds of interaction content.
const (
	KindText    = "text"
	KindButton  = "button"
	KindContact = "contact"
	KindPhoto   = "photo"
	KindSticker = "sticker"
	KindVoice   = "voice"
	KindFile    = "file"
	KindOther   = "other"
	KindOffer   = "offer"   // an outbound offer
	KindAgent   = "agent"   // written by a human agent
	KindSystem  = "system"  // a note the core wrote (handoff, opt-out…)
	KindCommand = "command" // /start and the like
)

// Interaction is one logged exchange: an inbound event or an outbound reply.
// Interactions are keyed by (customer id, id) so a customer's history is a
// prefix scan.
type Interaction struct {
	ID         ID        `json:"id"`
	CustomerID ID        `json:"customer_id"`
	Time       time.Time `json:"time"`
	Direction  Direction `json:"dir"`
	Channel    Channel   `json:"channel"`
	ChatID     string    `json:"chat_id,omitempty"`
	MessageID  string    `json:"message_id,omitempty"` // channel's message id (inbound)
	Kind       string    `json:"kind"`
	Text       string    `json:"text,omitempty"`
	// Original keeps the first text of an edited message.
	Original string `json:"original,omitempty"`
	Edited   bool   `json:"edited,omitempty"`
	Intent   string `json:"intent,omitempty"`
	// Sentiment is the LLM's reading of an inbound message: "positive",
	// "neutral" or "negative"; empty when no LLM judged it.
	Sentiment string   `json:"sentiment,omitempty"`
	OfferID   string   `json:"offer_id,omitempty"`
	Buttons   []Button `json:"buttons,omitempty"`
	Payload   string   `json:"payload,omitempty"` // button payload (inbound)
	Author    string   `json:"author,omitempty"`  // agent who wrote an outbound message
	OutboxID  ID       `json:"outbox_id,omitempty"`
}

// Button is a reply button. Payload comes back as an inbound event when pressed.
type Button struct {
	Label   string `json:"label"`
	Payload string `json:"payload"`
}

// Order is a sale attributed to a customer.
type Order struct {
	ID         ID        `json:"id"`
	CustomerID ID        `json:"customer_id"`
	Ref        string    `json:"ref,omitempty"` // external order reference, unique when set
	Amount     int64     `json:"amount"`        // VND
	Time       time.Time `json:"time"`
	Note       string    `json:"note,omitempty"`
	OfferID    string    `json:"offer_id,omitempty"` // attributed offer
	Source     string    `json:"source,omitempty"`   // import, slack:U123 …
	// Items are the order's lines, when known (a rep's order may give only
	// an amount).
	Items []OrderItem `json:"items,omitempty"`
}

// OrderItem is one line of an order: which product, how many, at what
// unit price (VND).
type OrderItem struct {
	// Product is the catalog id when the product is in the catalog, else
	// the name as written.
	Product  string `json:"product"`
	Quantity int    `json:"quantity"`
	Price    int64  `json:"price"`
}

// Bounds of an order's lines.
const (
	MaxOrderItems    = 200
	maxOrderQuantity = 1_000_000
	maxOrderProduct  = 200
)

// CheckOrder returns an EINVALID error naming the first bad line of o's
// items (no product, quantity below 1, negative price, too many lines),
// or when the lines add up to more than an int64 holds. With lines and no
// Amount, Amount becomes their total.
func CheckOrder(o *Order) error {
	if len(o.Items) > MaxOrderItems {
		return Errorf(EINVALID, "An order has at most %d lines (this one has %d).", MaxOrderItems, len(o.Items))
	}
	var total int64
	for i, it := range o.Items {
		switch {
		case it.Product == "" || len(it.Product) > maxOrderProduct:
			return Errorf(EINVALID, "Order line %d: a product (at most %d bytes) is required.", i+1, maxOrderProduct)
		case it.Quantity < 1 || it.Quantity > maxOrderQuantity:
			return Errorf(EINVALID, "Order line %d: quantity must be between 1 and %d.", i+1, maxOrderQuantity)
		case it.Price < 0 || it.Price > MaxAmount:
			return Errorf(EINVALID, "Order line %d: the price must be between 0 and %d.", i+1, MaxAmount)
		}
		line := it.Price * int64(it.Quantity)
		if line/int64(it.Quantity) != it.Price || total+line < total {
			return Errorf(EINVALID, "Order line %d: the total is too large.", i+1)
		}
		total += line
	}
	if o.Amount == 0 && len(o.Items) > 0 {
		o.Amount = total
	}
	return nil
}

// Outbox statuses.
const (
	OutboxPending   = "pending"
	OutboxSent      = "sent"
	OutboxFailed    = "failed"
	OutboxCancelled = "cancelled"
)

// Outbox priorities: a store hands out items with a lower priority first,
// so a live reply never waits behind anything sent on the shop's own
// initiative. A store keeps priorities from 0 to 255.
const (
	PriorityReply     = 0
	PriorityProactive = 10
)

// OutboxItem is a reply waiting to leave through a channel. Replies leave only
// through the outbox, so a crash after the commit never loses one.
//
// The outbox is also a scheduler: an item is not handed out before Due (zero:
// at once), lower Priority first, and a sender claims it with a lease
// (LeaseOwner until LeaseUntil) so that no other process sends it meanwhile;
// an expired lease lets another sender take it. Saving the item with a
// status other than pending clears the lease.
type OutboxItem struct {
	ID            ID        `json:"id"`
	CustomerID    ID        `json:"customer_id"`
	InteractionID ID        `json:"interaction_id"`
	Channel       Channel   `json:"channel"`
	ChatID        string    `json:"chat_id"`
	UserID        string    `json:"user_id"`
	Text          string    `json:"text"`
	Buttons       []Button  `json:"buttons,omitempty"`
	RequestPhone  bool      `json:"request_phone,omitempty"`
	OfferID       string    `json:"offer_id,omitempty"`
	Status        string    `json:"status"`
	Attempts      int       `json:"attempts,omitzero"`
	NextAttempt   time.Time `json:"next_attempt,omitzero"`
	LastError     string    `json:"last_error,omitempty"`
	CreatedAt     time.Time `json:"created_at"`
	SentAt        time.Time `json:"sent_at,omitzero"`
	Priority      int       `json:"priority,omitzero"`
	Due           time.Time `json:"due,omitzero"`
	LeaseOwner    string    `json:"lease_owner,omitempty"`
	LeaseUntil    time.Time `json:"lease_until,omitzero"`
}

// SegmentChange records a customer moving between segments.
type SegmentChange struct {
	CustomerID ID        `json:"customer_id"`
	Time       time.Time `json:"time"`
	From       string    `json:"from"`
	To         string    `json:"to"`
	Rule       string    `json:"rule"`
	Cause      string    `json:"cause"` // message, order, sweep, import
}

// Offer answers, as counted per offer (and, as events, EventOfferShown…).
const (
	OfferShown    = "shown"
	OfferAccepted = "accepted"
	OfferDeclined = "declined"
	OfferMore     = "more"
)

package crm

import (
	"slices"
	"sort"
	"time"
)

// ID identifies a stored record. IDs are sequential and stored as 8-byte
// big-endian keys so that they sort.
type ID uint64

// Channel names a conversation channel.
type Channel string

// Channels known to the core. New channels only need a new constant if the
// core treats them specially; adapters may use any name.
const (
	ChannelWeb      Channel = "webchat"
	ChannelConsole  Channel = "console"
	ChannelTelegram Channel = "telegram"
	ChannelZalo     Channel = "zalo"
	ChannelImport   Channel = "import"
)

// Identity is one way a customer is known on a channel.
type Identity struct {
	Channel  Channel `json:"channel"`
	UserID   string  `json:"user_id"`
	ChatID   string  `json:"chat_id,omitempty"`
	Username string  `json:"username,omitempty"`
	// Unreachable is set when the channel told us we may not write to this
	// identity any more (blocked the bot, unfollowed).
	Unreachable      bool      `json:"unreachable,omitempty"`
	UnreachableSince time.Time `json:"unreachable_since,omitzero"`
	UnreachableWhy   string    `json:"unreachable_why,omitempty"`
	FirstSeen        time.Time `json:"first_seen"`
}

// Key returns the identity index key "channel:user".
func (i Identity) Key() string { return IdentityKey(i.Channel, i.UserID) }

// IdentityKey returns the identity index key for a channel user id.
func IdentityKey(ch Channel, userID string) string { return string(ch) + ":" + userID }

// SegmentAssignment is a customer's segment, with the rule that made it and
// since when.
type SegmentAssignment struct {
	Name  string    `json:"name"`
	Rule  string    `json:"rule"`
	Since time.Time `json:"since"`
}

// Handoff is the state of a customer's request to talk to a human.
type Handoff struct {
	Active      bool      `json:"active,omitzero"`
	RequestedAt time.Time `json:"requested_at,omitzero"`
	// Agent is who took the conversation (empty until someone takes it).
	Agent   string    `json:"agent,omitempty"`
	TakenAt time.Time `json:"taken_at,omitzero"`
	// Thread is an adapter reference (for example a Slack channel+ts).
	Thread string `json:"thread,omitempty"`
}

// Consent records whether the customer accepts promotional offers, since
// when, and on which channel they said so.
type Consent struct {
	OptedOut bool      `json:"opted_out,omitzero"`
	Since    time.Time `json:"since,omitzero"`
	Channel  Channel   `json:"channel,omitempty"`
}

// Note is a free text a rep left on a customer.
type Note struct {
	Time   time.Time `json:"time"`
	Author string    `json:"author"`
	Text   string    `json:"text"`
}

// OfferStat counts what happened to one offer with one customer.
type OfferStat struct {
	Shown     int       `json:"shown"`
	LastShown time.Time `json:"last_shown,omitzero"`
	Accepted  int       `json:"accepted,omitempty"`
	Declined  int       `json:"declined,omitempty"`
}

// Customer is one person or business, across all channels.
type Customer struct {
	ID         ID         `json:"id"`
	Name       string     `json:"name,omitempty"`
	Phone      string     `json:"phone,omitempty"` // E.164
	Email      string     `json:"email,omitempty"` // lower-cased
	Address    string     `json:"address,omitempty"`
	Language   string     `json:"language,omitempty"` // "vi" or "en"
	Birthday   *time.Time `json:"birthday,omitzero"`
	IsBusiness bool       `json:"is_business,omitempty"`
	Company    string     `json:"company,omitempty"`
	Source     string     `json:"source,omitempty"` // acquisition source (deep link code, import…)
	ExternalID string     `json:"external_id,omitempty"`

	Identities []Identity `json:"identities,omitempty"`
	Tags       []string   `json:"tags,omitempty"`
	Notes      []Note     `json:"notes,omitempty"`
	Interests  []string   `json:"interests,omitempty"` // product ids
	// Bought are the products the customer's orders had on their lines
	// (catalog ids, or names as written), sorted, at most MaxBought: for
	// offers that target "bought X, not yet Y" and next-stage suggestions.
	Bought []string `json:"bought,omitempty"`

	Segment SegmentAssignment `json:"segment"`
	Consent Consent           `json:"consent,omitzero"`
	Handoff Handoff           `json:"handoff,omitzero"`

	Stats  Aggregates            `json:"stats"`
	Offers map[string]*OfferStat `json:"offers,omitempty"`

	// Sentiment is the latest sentiment the LLM read in their messages
	// ("positive", "neutral", "negative"; empty when none was judged).
	Sentiment string `json:"sentiment,omitempty"`

	// Dialog holds small conversational state (for example "waiting for phone").
	Dialog string `json:"dialog,omitempty"`

	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`

	// Claims are a phone number and an email address the customer typed in
	// a message. A typed value is a claim, not proof: it is kept to call
	// them back and shown to reps, but it never finds, merges or reveals
	// another customer. Phone and Email above hold only proven values (a
	// channel's own contact or consent flow, a one-time code, a rep, the
	// shop's import).
	Claims ContactClaims `json:"claims,omitzero"`
	// Verify is a one-time code this customer was offered to prove that a
	// phone or email known on another customer's verified channel is
	// theirs; nil when none is pending.
	Verify *Verification `json:"verify,omitempty"`
	// CodeSentAt is when a one-time code was last sent to this customer on
	// behalf of someone claiming their phone or email: it bounds how often
	// a stranger can make the shop write to them.
	CodeSentAt time.Time `json:"code_sent_at,omitzero"`
}

// ContactClaims are contact details the customer typed, unverified.
type ContactClaims struct {
	Phone   string    `json:"phone,omitempty"` // E.164
	Email   string    `json:"email,omitempty"` // lower-cased
	Channel Channel   `json:"channel,omitempty"`
	At      time.Time `json:"at,omitzero"`
}

// Verification is a pending one-time code: typed back on the channel it was
// asked from, it proves that this customer is Target, who holds Phone or
// Email on a verified channel, and the two are merged.
type Verification struct {
	Target ID     `json:"target"`
	Phone  string `json:"phone,omitempty"`
	Email  string `json:"email,omitempty"`
	// Via is the channel of Target's the code was sent over.
	Via Channel `json:"via"`
	// CodeHash is the hex SHA-256 of the customer id and the code; the code
	// itself is never stored on the asking customer.
	CodeHash string    `json:"code_hash"`
	Expires  time.Time `json:"expires"`
	Attempts int       `json:"attempts,omitempty"`
}

// CallbackPhone is the number to call the customer back on: the proven
// phone, else the one they typed.
func (c *Customer) CallbackPhone() string {
	if c.Phone != "" {
		return c.Phone
	}
	return c.Claims.Phone
}

// Aggregates are running totals kept up to date on every event, so segment
// rules never need to scan history.
type Aggregates struct {
	FirstSeen   time.Time `json:"first_seen"`
	LastSeen    time.Time `json:"last_seen"`
	MessagesIn  int       `json:"messages_in"`
	MessagesOut int       `json:"messages_out,omitzero"`
	Orders      int       `json:"orders,omitzero"`
	TotalSpent  int64     `json:"total_spent,omitzero"` // VND
	FirstOrder  time.Time `json:"first_order,omitzero"`
	LastOrder   time.Time `json:"last_order,omitzero"`
	OffersShown int       `json:"offers_shown,omitempty"`
	OffersTaken int       `json:"offers_accepted,omitempty"`
	// Daily holds inbound message counts per day (YYYYMMDD) for the last 30
	// days, pruned as it is updated.
	Daily map[string]int `json:"daily,omitempty"`
}

// HasIdentity reports whether the customer has the channel identity.
func (c *Customer) HasIdentity(ch Channel, userID string) bool {
	return c.Identity(ch, userID) != nil
}

// Identity returns the customer's identity on a channel user id, or nil.
func (c *Customer) Identity(ch Channel, userID string) *Identity {
	for i := range c.Identities {
		if c.Identities[i].Channel == ch && c.Identities[i].UserID == userID {
			return &c.Identities[i]
		}
	}
	return nil
}

// AddIdentity links an identity unless it is already linked.
func (c *Customer) AddIdentity(id Identity) {
	if cur := c.Identity(id.Channel, id.UserID); cur != nil {
		if id.ChatID != "" {
			cur.ChatID = id.ChatID
		}
		if id.Username != "" {
			cur.Username = id.Username
		}
		return
	}
	c.Identities = append(c.Identities, id)
}

// HasTag reports whether the customer carries the tag.
func (c *Customer) HasTag(tag string) bool {
	for _, t := range c.Tags {
		if t == tag {
			return true
		}
	}
	return false
}

// AddTag adds a tag once.
func (c *Customer) AddTag(tag string) {
	if !c.HasTag(tag) {
		c.Tags = append(c.Tags, tag)
		sort.Strings(c.Tags)
	}
}

// MaxBought bounds Customer.Bought: a customer who bought more kinds of
// product than this keeps the first ones (in sorted order).
const MaxBought = 200

// RecordBought adds the products of an order's lines to Bought.
func (c *Customer) RecordBought(items []OrderItem) {
	for _, it := range items {
		i, found := slices.BinarySearch(c.Bought, it.Product)
		if found || it.Product == "" || len(c.Bought) >= MaxBought {
			continue
		}
		c.Bought = slices.Insert(c.Bought, i, it.Product)
	}
}

// HasBought reports whether the customer's orders had product on a line.
func (c *Customer) HasBought(product string) bool {
	_, found := slices.BinarySearch(c.Bought, product)
	return found
}

// RemoveTag removes a tag if present.
func (c *Customer) RemoveTag(tag string) {
	out := c.Tags[:0]
	for _, t := range c.Tags {
		if t != tag {
			out = append(out, t)
		}
	}
	c.Tags = out
}

// AddInterest records interest in a product once, most recent last.
func (c *Customer) AddInterest(productID string) bool {
	for _, p := range c.Interests {
		if p == productID {
			return false
		}
	}
	c.Interests = append(c.Interests, productID)
	return true
}

// DisplayName returns the name, or a stand-in built from the id.
func (c *Customer) DisplayName() string {
	if c.Name != "" {
		return c.Name
	}
	return "Customer #" + itoa(uint64(c.ID))
}

// RecordMessageIn updates the aggregates for an inbound message at t.
func (a *Aggregates) RecordMessageIn(t time.Time) {
	a.MessagesIn++
	a.touch(t)
	if a.Daily == nil {
		a.Daily = map[string]int{}
	}
	var buf [8]byte
	a.Daily[string(t.UTC().AppendFormat(buf[:0], "20060102"))]++
	var cutBuf [8]byte
	cut := t.UTC().AddDate(0, 0, -30).AppendFormat(cutBuf[:0], "20060102")
	for d := range a.Daily {
		if d <= string(cut) {
			delete(a.Daily, d)
		}
	}
}

func (a *Aggregates) touch(t time.Time) {
	if a.FirstSeen.IsZero() || t.Before(a.FirstSeen) {
		a.FirstSeen = t
	}
	if t.After(a.LastSeen) {
		a.LastSeen = t
	}
}

// RecordOrder updates the aggregates for an order.
func (a *Aggregates) RecordOrder(amount int64, t time.Time) {
	a.Orders++
	a.TotalSpent += amount
	if a.FirstOrder.IsZero() || t.Before(a.FirstOrder) {
		a.FirstOrder = t
	}
	if t.After(a.LastOrder) {
		a.LastOrder = t
	}
	a.touch(t)
}

// Messages30d returns inbound messages in the 30 days up to now.
func (a *Aggregates) Messages30d(now time.Time) int {
	var buf [8]byte
	cut := now.UTC().AddDate(0, 0, -30).AppendFormat(buf[:0], "20060102")
	n := 0
	for d, c := range a.Daily {
		if d > string(cut) {
			n += c
		}
	}
	return n
}

// AvgOrderValue is total spent divided by orders, 0 without orders.
func (a *Aggregates) AvgOrderValue() int64 {
	if a.Orders == 0 {
		return 0
	}
	return a.TotalSpent / int64(a.Orders)
}

// AvgOrderIntervalDays is the mean number of days between orders (0 with
// fewer than two orders).
func (a *Aggregates) AvgOrderIntervalDays() float64 {
	if a.Orders < 2 {
		return 0
	}
	return a.LastOrder.Sub(a.FirstOrder).Hours() / 24 / float64(a.Orders-1)
}

// MergeFrom folds another customer (the same person seen on another channel)
// into c: identities, contact data, aggregates, tags, interests, notes.
func (c *Customer) MergeFrom(o *Customer) {
	for _, id := range o.Identities {
		c.AddIdentity(id)
	}
	if c.Name == "" {
		c.Name = o.Name
	}
	if c.Email == "" {
		c.Email = o.Email
	}
	if c.Phone == "" {
		c.Phone = o.Phone
	}
	if c.Claims == (ContactClaims{}) {
		c.Claims = o.Claims
	}
	if c.Address == "" {
		c.Address = o.Address
	}
	if c.Birthday == nil {
		c.Birthday = o.Birthday
	}
	if c.Source == "" {
		c.Source = o.Source
	}
	c.IsBusiness = c.IsBusiness || o.IsBusiness
	for _, t := range o.Tags {
		c.AddTag(t)
	}
	for _, p := range o.Interests {
		c.AddInterest(p)
	}
	c.Notes = append(c.Notes, o.Notes...)
	if o.Consent.OptedOut {
		c.Consent = o.Consent
	}
	if o.Handoff.Active && !c.Handoff.Active {
		c.Handoff = o.Handoff
	}
	a, b := &c.Stats, &o.Stats
	if !b.FirstSeen.IsZero() {
		a.touch(b.FirstSeen)
	}
	if !b.LastSeen.IsZero() {
		a.touch(b.LastSeen)
	}
	a.MessagesIn += b.MessagesIn
	a.MessagesOut += b.MessagesOut
	a.Orders += b.Orders
	a.TotalSpent += b.TotalSpent
	if !b.FirstOrder.IsZero() && (a.FirstOrder.IsZero() || b.FirstOrder.Before(a.FirstOrder)) {
		a.FirstOrder = b.FirstOrder
	}
	if b.LastOrder.After(a.LastOrder) {
		a.LastOrder = b.LastOrder
	}
	a.OffersShown += b.OffersShown
	a.OffersTaken += b.OffersTaken
	for d, n := range b.Daily {
		if a.Daily == nil {
			a.Daily = map[string]int{}
		}
		a.Daily[d] += n
	}
	for id, s := range o.Offers {
		if c.Offers == nil {
			c.Offers = map[string]*OfferStat{}
		}
		cur := c.Offers[id]
		if cur == nil {
			cp := *s
			c.Offers[id] = &cp
			continue
		}
		cur.Shown += s.Shown
		cur.Accepted += s.Accepted
		cur.Declined += s.Declined
		if s.LastShown.After(cur.LastShown) {
			cur.LastShown = s.LastShown
		}
	}
}

func itoa(n uint64) string {
	if n == 0 {
		return "0"
	}
	var b [20]byte
	i := len(b)
	for n > 0 {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
	}
	return string(b[i:])
}

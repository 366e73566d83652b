package crm

import (
	"context"
	"time"
)

// Store is the storage the core consumes. Update runs fn in one write
// transaction that may be group-committed with others and may run fn more
// than once: fn must not have side effects outside the transaction. No
// network call may happen inside fn.
type Store interface {
	Update(ctx context.Context, fn func(Tx) error) error
	View(ctx context.Context, fn func(Tx) error) error
}

// Tx is one store transaction: every repository below, so that one
// transaction can span them (a message, its reply, the customer's new
// totals and their events commit together). Records returned are copies
// the caller owns. Lookups that "find" return (nil, nil) when there is no
// match; lookups by id return an ENOTFOUND error. Code that needs one
// repository takes that interface, not Tx.
type Tx interface {
	Dedupe
	Customers
	ConversationLog
	Orders
	Offers
	Events
	Settings
	Outbox
	Counters
	Campaigns
}

// Dedupe remembers which channel messages were handled, so that a replayed
// update changes nothing.
type Dedupe interface {
	// SeenMessage reports whether (channel, message id) was already handled,
	// and the interaction it produced.
	SeenMessage(ch Channel, msgID string) (ID, bool, error)
	// MarkMessage remembers (channel, message id) as handled.
	MarkMessage(ch Channel, msgID string, interaction ID) error
}

// SeenMarkers lists the dedupe markers, for a copy of the shop to another
// store (idicbot migrate-store). A store's Tx implements it.
type SeenMarkers interface {
	// ForEachSeen calls fn for every marker in (channel, message id)
	// order: the interaction it logged, 0 for an event that logged
	// nothing. fn must not write through the transaction.
	ForEachSeen(fn func(ch Channel, msgID string, interaction ID) error) error
}

// Customers is the customer repository: records, the indexes that find
// them, the per-segment counts, and one customer's export and erasure.
type Customers interface {
	// Customer returns a customer by id, following merge redirects.
	Customer(id ID) (*Customer, error)
	FindCustomerByIdentity(ch Channel, userID string) (*Customer, error)
	FindCustomerByPhone(e164 string) (*Customer, error)
	FindCustomerByEmail(email string) (*Customer, error)
	FindCustomerByExternalID(ext string) (*Customer, error)
	// FindCustomersByUsername returns the customers with an identity on ch
	// whose Username is username, case-insensitively and without the
	// leading @, from an index (no scan of the customers).
	FindCustomersByUsername(ch Channel, username string) ([]*Customer, error)
	// FindCustomersByClaim returns the customers who typed value (an E.164
	// phone or an email) as their own: unverified, for reps' searches only,
	// never to identify who is writing.
	FindCustomersByClaim(value string) ([]*Customer, error)
	// FindCustomersByName returns customers whose folded name contains every
	// folded word of query, at most limit of them.
	FindCustomersByName(query string, limit int) ([]*Customer, error)
	// PutCustomer creates (ID 0: an id is assigned) or replaces a customer and
	// keeps every index (identity, phone, email, external id, name, segment)
	// and the per-segment counts in step.
	PutCustomer(c *Customer) error
	// DeleteCustomer removes a customer merged into another and leaves a
	// redirect so that its old id still resolves.
	DeleteCustomer(id ID, mergedInto ID) error
	ForEachCustomer(fn func(*Customer) error) error
	// SegmentCustomers calls fn for the ids of a segment's customers, most
	// valuable first (total spent, then id), so a page is a prefix.
	SegmentCustomers(segment string, fn func(ID) error) error
	SegmentCount(segment string) (int64, error)
	CustomerCount() (int64, error)

	// CustomerRecords returns everything stored about a customer (redirects
	// followed), with the records of the customers merged into it: for
	// data access requests (Export), not for the hot path.
	CustomerRecords(id ID) (*CustomerExport, error)
	// EraseCustomer removes a customer's personal data from every record and
	// index, irreversibly, and records the erasure (by, at; nothing erased).
	// The record keeps its id, segment, aggregates, offer statistics and
	// consent, its orders their amounts and line items' products, and its
	// events (which hold no text), so reports still add up. An erased
	// customer gives an ECONFLICT error and changes nothing; an unknown id
	// gives ENOTFOUND. The old bytes may remain in the store's file until
	// the store reclaims them (see the store's documentation).
	EraseCustomer(id ID, by string, at time.Time) (*Erasure, error)
}

// ConversationLog is every message in and out, per customer.
type ConversationLog interface {
	// AppendInteraction assigns an id and stores the interaction.
	AppendInteraction(i *Interaction) error
	// PutInteraction replaces a stored interaction (edits, status).
	PutInteraction(i *Interaction) error
	Interaction(customer, id ID) (*Interaction, error)
	// Interactions returns a customer's interactions with id > after, oldest
	// first, at most limit (0: all).
	Interactions(customer ID, after ID, limit int) ([]*Interaction, error)
	// RecentInteractions returns the customer's last n interactions, oldest first.
	RecentInteractions(customer ID, n int) ([]*Interaction, error)
	// MoveInteractions re-keys every interaction, order and event of from
	// under to (merge).
	MoveInteractions(from, to ID) error
}

// Orders are the customers' purchases with their line items.
type Orders interface {
	// AddOrder stores an order; it returns false and stores nothing if an
	// order with the same non-empty Ref exists. Line items are checked
	// (CheckOrder); an order with items and no Amount gets their total.
	AddOrder(o *Order) (bool, error)
	// Orders returns a customer's orders, oldest first.
	Orders(customer ID) ([]*Order, error)
}

// Offers are the offer templates and every saved version of each.
type Offers interface {
	Offers() ([]*Offer, error)
	Offer(id string) (*Offer, error)
	// PutOffer stores o as the current version and appends it to its history.
	PutOffer(o *Offer) error
	OfferVersions(id string) ([]*Offer, error)
}

// Events is the typed event log, keyed by customer and time.
type Events interface {
	// AppendEvent checks e (CheckEvent), sets a zero Time to now, assigns
	// its Seq and stores it.
	AppendEvent(e *Event) error
	// CustomerEvents calls fn for the events of a customer (redirects
	// followed) with from <= Time < to (a zero to: no end), oldest first,
	// without reading other customers' events. Message events are left
	// out: a customer's messages are its conversation log (Interactions);
	// EventsBetween has them for reports.
	CustomerEvents(customer ID, from, to time.Time, fn func(*Event) error) error
	// EventsBetween calls fn for every event with from <= Time < to (a zero
	// to: no end), oldest first (Time, then Seq), with one seek to from.
	EventsBetween(from, to time.Time, fn func(*Event) error) error
}

// Settings are the shop's stored settings, each typed (no catch-all).
type Settings interface {
	// SegmentRules returns the segment rule set an admin saved (YAML), nil
	// when none was saved and the configuration's rules apply.
	SegmentRules() ([]byte, error)
	PutSegmentRules(yaml []byte) error
	// SegmentRuleChanges returns the recorded rule edits, oldest first.
	SegmentRuleChanges() ([]SegmentRuleChange, error)
	// PutSegmentRuleChanges replaces the recorded edits; a store keeps the
	// last MaxSegmentRuleChanges.
	PutSegmentRuleChanges(changes []SegmentRuleChange) error
	// HandoffThread returns the customer a rep thread (a Slack thread)
	// is about, 0 when none.
	HandoffThread(thread string) (ID, error)
	// PutHandoffThread links thread to customer; customer 0 unlinks it.
	PutHandoffThread(thread string, customer ID) error
	// ChannelToken returns the OAuth state stored under name (for example
	// "zalo"), nil when none.
	ChannelToken(name string) (*ChannelToken, error)
	PutChannelToken(name string, t *ChannelToken) error
	// OffersSeeded returns when the default offers were first stored, the
	// zero time when never.
	OffersSeeded() (time.Time, error)
	MarkOffersSeeded(at time.Time) error
}

// Outbox is the replies and messages waiting to leave, and the scheduler
// that hands them to senders.
type Outbox interface {
	// EnqueueOutbox assigns an id and stores a pending item. An item with a
	// LeaseOwner is stored leased to it until LeaseUntil: the process that
	// will send it claims it in the transaction that creates it. A Priority
	// outside 0–255 is EINVALID.
	EnqueueOutbox(it *OutboxItem) error
	// PutOutbox saves an item's delivery state. A pending item keeps the
	// Priority, Due and lease it is saved with; any other status takes the
	// item out of the pending set and clears its lease.
	PutOutbox(it *OutboxItem) error
	OutboxItem(id ID) (*OutboxItem, error)
	// PendingOutbox calls fn for pending items in id order, leased or not.
	PendingOutbox(fn func(*OutboxItem) error) error
	OutboxDepth() (int64, error)
	// ClaimOutbox leases to owner, until now+lease, at most max pending
	// items that are due at now (Due zero or not after now) and not leased
	// (or whose lease ended by now, whoever held it), and returns them:
	// lower Priority first, then earlier Due (zero first), then lower id.
	// An item owner holds on a lease that has not ended is not returned
	// again. Two owners never get the same item from leases that overlap.
	ClaimOutbox(owner string, now time.Time, lease time.Duration, max int) ([]*OutboxItem, error)
	// RenewOutbox extends to until owner's leases on ids and returns the ids
	// it still holds; an item no longer pending, or leased by another owner
	// since owner's lease ended, is left out.
	RenewOutbox(owner string, ids []ID, until time.Time) ([]ID, error)
	// ReleaseOutbox ends owner's leases on ids: they stay pending, free for
	// any sender. Items owner does not hold are left as they are.
	ReleaseOutbox(owner string, ids []ID) error
	// NextOutboxDue returns the earliest Due after now among pending items,
	// or the zero time when none is due later.
	NextOutboxDue(now time.Time) (time.Time, error)
}

// Counters are O(1) running totals for quick statistics (messages a day,
// offers shown…): a cache of what the event log holds, kept in the same
// transaction. Reports that need periods, segments or time zones read the
// event log.
type Counters interface {
	// AddCounter adds delta to a named counter.
	AddCounter(name string, delta int64) error
	Counter(name string) (int64, error)
	// Counters returns every counter whose name starts with prefix.
	Counters(prefix string) (map[string]int64, error)
}

// TurnReader is what a store whose every read is a round trip to a server
// (PostgreSQL) implements beside Tx: the core's turn tells it what it will
// read first, and the store fetches it in one round trip. A store without
// it (bbolt, whose reads are in memory) is read call by call. The core
// reaches it with a type assertion on the Tx (tx.(crm.TurnReader)).
type TurnReader interface {
	// ReadTurn fetches the dedupe marker of (ch, msgID) and the customer
	// holding the identity (ch, userID), locked as FindCustomerByIdentity
	// locks it, so that the SeenMessage and FindCustomerByIdentity calls
	// that follow with the same arguments answer from what it read. It
	// changes nothing a caller can see, and an error is the store's.
	ReadTurn(ch Channel, msgID, userID string) error
}

// OutboxReader is what a server's store implements beside Tx to read many
// outbox items in one round trip: the dispatcher records a batch of
// deliveries in one transaction. The dispatcher reaches it with a type
// assertion on the Tx.
type OutboxReader interface {
	// ReadOutbox fetches the items of ids, locked as OutboxItem locks
	// them, so that the OutboxItem calls that follow answer from what it
	// read, each once. It changes nothing a caller can see.
	ReadOutbox(ids []ID) error
}

// TurnKey is what a message's turn reads first: its dedupe marker and the
// customer holding its sender's identity (TurnReader.ReadTurn's
// arguments).
type TurnKey struct {
	Channel Channel
	MsgID   string
	UserID  string
	// Phone (E.164) and Email are what the message claims, if anything:
	// the turn looks up their owners (FindCustomerByPhone,
	// FindCustomerByEmail), and a store may read them ahead.
	Phone, Email string
}

// TurnUpdater is what a server's store (PostgreSQL) implements beside
// Store to commit many turns together: UpdateTurn runs fn as Update does,
// in a transaction it may share with other turns whose keys it was given,
// so their reads go to the server in one round trip and their writes in a
// few statements with one commit. fn must call ReadTurn with key first, as
// the core's turn does, and, as with Update, may run more than once. The
// core reaches it with a type assertion on the Store.
type TurnUpdater interface {
	UpdateTurn(ctx context.Context, key TurnKey, fn func(Tx) error) error
}

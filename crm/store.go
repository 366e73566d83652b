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

// Tx is one store transaction. Records returned are copies the caller owns.
// Lookups that "find" return (nil, nil) when there is no match; lookups by
// id return an ENOTFOUND error.
type Tx interface {
	// SeenMessage reports whether (channel, message id) was already handled,
	// and the interaction it produced.
	SeenMessage(ch Channel, msgID string) (ID, bool, error)
	// MarkMessage remembers (channel, message id) as handled.
	MarkMessage(ch Channel, msgID string, interaction ID) error

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
	// MoveInteractions re-keys every interaction of from under to (merge).
	MoveInteractions(from, to ID) error

	// AddOrder stores an order; it returns false and stores nothing if an
	// order with the same non-empty Ref exists.
	AddOrder(o *Order) (bool, error)
	Orders(customer ID) ([]*Order, error)

	Offers() ([]*Offer, error)
	Offer(id string) (*Offer, error)
	// PutOffer stores o as the current version and appends it to its history.
	PutOffer(o *Offer) error
	OfferVersions(id string) ([]*Offer, error)

	AppendOfferEvent(e *OfferEvent) error
	AppendSegmentChange(e *SegmentChange) error
	// SegmentChanges calls fn for changes at or after since, oldest first.
	SegmentChanges(since time.Time, fn func(*SegmentChange) error) error

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

	// AddCounter adds delta to a named counter (for O(1) stats).
	AddCounter(name string, delta int64) error
	Counter(name string) (int64, error)
	// Counters returns every counter whose name starts with prefix.
	Counters(prefix string) (map[string]int64, error)

	Meta(key string) ([]byte, error)
	PutMeta(key string, value []byte) error

	// CustomerRecords returns everything stored about a customer (redirects
	// followed), with the records of the customers merged into it. It scans
	// the logs keyed by time or sequence: for data access requests, not for
	// the hot path.
	CustomerRecords(id ID) (*CustomerExport, error)
	// EraseCustomer removes a customer's personal data from every record and
	// index, irreversibly, and records the erasure (by, at; nothing erased).
	// The record keeps its id, segment, aggregates, offer statistics and
	// consent, and its orders their amounts, so reports still add up. An
	// erased customer gives an ECONFLICT error and changes nothing; an
	// unknown id gives ENOTFOUND. The old bytes may remain in the store's
	// file until the store reclaims them (see the store's documentation).
	EraseCustomer(id ID, by string, at time.Time) (*Erasure, error)
}

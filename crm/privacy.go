package crm

import "time"

// ErasedText replaces every text an erase removes (messages, outbox texts,
// order notes), so a reader sees that something was there and was erased.
const ErasedText = "[erased]"

// CustomerExport is everything the store holds about one customer: what the
// customer may ask to receive (a data access request), and what an erase
// goes through. Records of customers merged into this one are included:
// their history was moved here at the merge; MergedIDs names them.
type CustomerExport struct {
	Customer *Customer `json:"customer"`
	// MergedIDs are the ids of customers merged into this one (their old
	// ids still resolve here).
	MergedIDs []ID `json:"merged_ids,omitempty"`
	// Interactions is the whole conversation history, oldest first.
	Interactions []*Interaction `json:"interactions"`
	Orders       []*Order       `json:"orders"`
	// Events is the customer's event log, oldest first: offers shown and
	// answered, orders, segment moves, handoffs, consent (messages are in
	// Interactions).
	Events []*Event `json:"events"`
	// Outbox holds the replies queued for the customer that are still kept
	// (sent ones are pruned after a while).
	Outbox []*OutboxItem `json:"outbox"`
	// Erasure is set when the customer's personal data was erased.
	Erasure *Erasure `json:"erasure,omitempty"`
}

// Erasure records that a customer's personal data was erased: who asked and
// when, and nothing of what was erased. The consent the customer gave or
// withdrew (offers opt-in/out) is kept with its time and the channel it was
// given on, as proof of consent outlives the data.
type Erasure struct {
	CustomerID ID        `json:"customer_id"`
	MergedIDs  []ID      `json:"merged_ids,omitempty"`
	At         time.Time `json:"at"`
	By         string    `json:"by"`
	// Consent is the customer's at the erase. A consent recorded before
	// it kept its channel gets the channel of the last inbound message at
	// or before its time.
	Consent Consent `json:"consent,omitzero"`
}

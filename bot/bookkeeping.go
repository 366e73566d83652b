package bot

import (
	"time"

	"github.com/idicbot/idicbot/crm"
)

// The bookkeeping every use case shares — a customer moving between
// segments, an order added to a customer — each in one home, so that a
// message, a sweep, a rep's order or tag, a merge and an import count alike.

// moveSegment applies segs to cust at now. A move is recorded in tx (the
// change log and the "segment_moves:" counters of now's day) and returned,
// for the caller to count in the metrics once committed (countMoves). cust
// must have its id already, so that the change names it.
func moveSegment(tx crm.Tx, segs *crm.Segments, cust *crm.Customer, now time.Time, cause string) (*crm.SegmentChange, error) {
	if segs == nil {
		return nil, nil
	}
	return recordMove(tx, now, cust.ID, segs.Apply(cust, now, cause))
}

// recordMove records in tx a move that crm.Segments.Apply returned (nil:
// none) for customer id: for a customer stored only after it was
// classified (a new one gets its id when first put).
func recordMove(tx crm.Tx, now time.Time, id crm.ID, mv *crm.SegmentChange) (*crm.SegmentChange, error) {
	if mv == nil {
		return nil, nil
	}
	mv.CustomerID = id
	if err := tx.AppendEvent(crm.SegmentChangeEvent(mv)); err != nil {
		return nil, err
	}
	if err := addCounterOf(tx, now, 1, "segment_moves:", mv.To); err != nil {
		return nil, err
	}
	return mv, nil
}

// countMoves counts committed segment moves in the metrics.
func (c *Core) countMoves(moves ...*crm.SegmentChange) {
	if c.metrics == nil {
		return
	}
	for _, mv := range moves {
		if mv != nil {
			c.metrics.SegmentChanges.WithLabelValues(mv.From, mv.To).Inc()
		}
	}
}

// addOrder stores ord (Time set) for cust — attributed, when it names no
// offer, to the offer the customer accepted last in the AttributionWindow
// before it — and, unless its Ref was stored before (added false: nothing
// changes), adds it to the customer's totals,
// to the event log, and to the "orders", "revenue" and offer-attribution counters of the
// order's own day: a sale counts on the day it was made, whether a rep
// records it that day or a file brings it later.
func addOrder(tx crm.Tx, cust *crm.Customer, ord *crm.Order) (added bool, err error) {
	ord.CustomerID = cust.ID
	if ord.OfferID == "" && cust.Stats.OffersTaken > 0 {
		if ord.OfferID, err = acceptedBefore(tx, cust.ID, ord.Time); err != nil {
			return false, err
		}
	}
	ok, err := tx.AddOrder(ord)
	if err != nil || !ok {
		return false, err
	}
	cust.Stats.RecordOrder(ord.Amount, ord.Time)
	cust.RecordBought(ord.Items)
	if err := tx.AppendEvent(&crm.Event{CustomerID: cust.ID, Time: ord.Time, Kind: crm.EventOrder,
		OrderID: ord.ID, Amount: ord.Amount, OfferID: ord.OfferID}); err != nil {
		return false, err
	}
	if err := addCounter(tx, ord.Time, "orders", 1); err != nil {
		return false, err
	}
	if err := addCounter(tx, ord.Time, "revenue", ord.Amount); err != nil {
		return false, err
	}
	if ord.OfferID != "" {
		if err := addCounter(tx, ord.Time, "offer:"+ord.OfferID+":ordered", 1); err != nil {
			return false, err
		}
	}
	return true, nil
}

// AttributionWindow is how long after a customer accepts an offer an order
// of theirs recorded without one is attributed to it.
const AttributionWindow = 14 * 24 * time.Hour

// acceptedBefore returns the offer the customer last accepted in the
// AttributionWindow before t, "" when none: an order recorded without an
// offer (a rep's, an import's row without offer_id) is attributed to it,
// so the funnel counts what the offer brought.
func acceptedBefore(tx crm.Tx, customer crm.ID, t time.Time) (string, error) {
	offer := ""
	err := tx.CustomerEvents(customer, t.Add(-AttributionWindow), t.Add(time.Nanosecond), func(e *crm.Event) error {
		if e.Kind == crm.EventOfferAccepted {
			offer = e.OfferID
		}
		return nil
	})
	return offer, err
}

// logInteraction appends it to the conversation log and its message event
// to the event log: every message counts in the reports as it is logged.
func logInteraction(tx crm.Tx, it *crm.Interaction) error {
	if err := tx.AppendInteraction(it); err != nil {
		return err
	}
	kind := crm.EventMessageIn
	if it.Direction == crm.Outbound {
		kind = crm.EventMessageOut
	}
	return tx.AppendEvent(&crm.Event{CustomerID: it.CustomerID, Time: it.Time, Kind: kind, Channel: it.Channel, InteractionID: it.ID})
}

// event appends an event of the turn's customer, on the turn's channel.
func (t *turn) event(kind crm.EventKind, cause string) error {
	return t.tx.AppendEvent(&crm.Event{CustomerID: t.cust.ID, Time: t.now, Kind: kind, Channel: t.in.Channel, Cause: cause})
}

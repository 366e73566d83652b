package bot_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/idicbot/idicbot/bot"
	"github.com/idicbot/idicbot/crm"
)

// TestEventLog: what a conversation, an order and a handoff write to the
// typed event log — the log reports read — each in the transaction of what
// it records.
func TestEventLog(t *testing.T) {
	e := newEnv(t, t.TempDir())
	ctx := context.Background()
	start := e.clock.Now()
	e.say(bot.Inbound{UserID: "lan", Text: "hello"})
	cu := e.customer(crm.ChannelWeb, "lan")
	if _, _, _, err := e.core.Reps().RecordOrder(ctx, crm.Order{CustomerID: cu.ID, Amount: 2_000_000,
		Items: []crm.OrderItem{{Product: "airpods-pro-2", Quantity: 1, Price: 2_000_000}}}, "order"); err != nil {
		t.Fatal(err)
	}
	e.say(bot.Inbound{UserID: "lan", Text: "stop"})
	e.say(bot.Inbound{UserID: "lan", Text: "tôi muốn gặp nhân viên"})
	if _, err := e.core.ReleaseHandoff(ctx, cu.ID, ""); err != nil {
		t.Fatal(err)
	}

	var kinds []crm.EventKind
	var order *crm.Event
	if err := e.db.View(ctx, func(tx crm.Tx) error {
		return tx.EventsBetween(start, time.Time{}, func(ev *crm.Event) error {
			if ev.CustomerID != cu.ID {
				t.Errorf("event %+v of another customer", ev)
			}
			kinds = append(kinds, ev.Kind)
			if ev.Kind == crm.EventOrder {
				order = ev
			}
			return nil
		})
	}); err != nil {
		t.Fatal(err)
	}
	for _, want := range []crm.EventKind{crm.EventMessageIn, crm.EventMessageOut, crm.EventOfferShown, crm.EventOrder,
		crm.EventSegmentChange, crm.EventOptOut, crm.EventHandoff, crm.EventHandoffEnd} {
		if !slices.Contains(kinds, want) {
			t.Errorf("no %s event; the log has %v", want, kinds)
		}
	}
	if order == nil || order.Amount != 2_000_000 || order.OrderID == 0 {
		t.Errorf("order event = %+v, want the order's id and amount", order)
	}
	in, out := 0, 0
	for _, k := range kinds {
		switch k {
		case crm.EventMessageIn:
			in++
		case crm.EventMessageOut:
			out++
		}
	}
	if got := len(e.interactions(cu.ID)); in+out != got || in != 3 {
		t.Errorf("message events in %d + out %d, want one per logged message (%d) and 3 in", in, out, got)
	}
	var orders []*crm.Order
	if err := e.db.View(ctx, func(tx crm.Tx) (err error) { orders, err = tx.Orders(cu.ID); return err }); err != nil {
		t.Fatal(err)
	}
	if len(orders) != 1 || len(orders[0].Items) != 1 || orders[0].Items[0].Product != "airpods-pro-2" {
		t.Errorf("stored orders = %+v, want the line item kept", orders)
	}
}

// TestOrderAttributedToAcceptedOffer: an order recorded without an offer
// counts for the offer the customer accepted in the two weeks before it,
// not for one accepted earlier.
func TestOrderAttributedToAcceptedOffer(t *testing.T) {
	e := newEnv(t, t.TempDir())
	ctx := context.Background()
	_, out := e.say(bot.Inbound{UserID: "lan", Text: "xin chào"})
	accept := ""
	for _, it := range out {
		for _, b := range it.Buttons {
			if strings.HasSuffix(b.Payload, ":accept") {
				accept = b.Payload
			}
		}
	}
	if accept == "" {
		t.Fatalf("no offer with an accept button in %+v", out)
	}
	e.say(bot.Inbound{UserID: "lan", Kind: crm.KindButton, Payload: accept})
	offer := strings.TrimSuffix(strings.TrimPrefix(accept, "offer:"), ":accept")
	cu := e.customer(crm.ChannelWeb, "lan")
	record := func(ref string) *crm.Order {
		t.Helper()
		if _, _, _, err := e.core.Reps().RecordOrder(ctx, crm.Order{CustomerID: cu.ID, Amount: 1_000_000, Ref: ref}, "order"); err != nil {
			t.Fatal(err)
		}
		var orders []*crm.Order
		if err := e.db.View(ctx, func(tx crm.Tx) (err error) { orders, err = tx.Orders(cu.ID); return err }); err != nil {
			t.Fatal(err)
		}
		for _, o := range orders {
			if o.Ref == ref {
				return o
			}
		}
		t.Fatalf("order %s not stored", ref)
		return nil
	}
	e.clock.Add(3 * 24 * time.Hour)
	if o := record("A"); o.OfferID != offer {
		t.Errorf("an order 3 days after accepting %s is attributed to %q", offer, o.OfferID)
	}
	e.clock.Add(15 * 24 * time.Hour)
	if o := record("B"); o.OfferID != "" {
		t.Errorf("an order 18 days after accepting is attributed to %q, want none", o.OfferID)
	}
}

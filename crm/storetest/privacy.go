package storetest

import (
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/idicbot/idicbot/crm"
)

var privacyTests = []test{
	{name: "CustomerRecordsIncludeMerged", run: testCustomerRecords},
	{name: "EraseCustomer", run: testEraseCustomer},
	{name: "EraseTwiceOrUnknown", run: testEraseTwiceOrUnknown},
}

// privacyFixture: Lan, with a web chat visitor merged into her, history
// on both, and an unrelated customer an erase must leave alone.
type privacyFixture struct {
	lan, dup, other crm.ID
	// interactions of lan and dup, oldest first; other's.
	interactions []crm.ID
	otherMsg     crm.ID
}

const (
	lanTelegram = "555123777"
	lanSession  = "sess-9f3a7c21"
	lanMsgID    = "m:555123777:7"
	dupMsgID    = "sess-9f3a7c21:1"
	otherMsgID  = "m:42:9"
)

func newPrivacyFixture(t *testing.T, s crm.Store) privacyFixture {
	t.Helper()
	lan := &crm.Customer{Name: "Trịnh Khánh Quỳnh", Phone: "+84987650123", Email: "quynh@example.vn", Address: "12 Lý Thường Kiệt",
		Company: "Quỳnh Shop", ExternalID: "KH-77",
		Identities: []crm.Identity{{Channel: crm.ChannelTelegram, UserID: lanTelegram, ChatID: lanTelegram, Username: "quynhtk", FirstSeen: base}},
		Notes:      []crm.Note{{Time: base, Author: "rep", Text: "khách quen"}},
		Segment:    crm.SegmentAssignment{Name: "loyal", Rule: "orders>=1", Since: base},
		Consent:    crm.Consent{OptedOut: true, Since: at(30 * time.Minute)},
		Handoff:    crm.Handoff{Active: true, RequestedAt: base, Thread: "C1:1700000000.000100"},
		Stats:      crm.Aggregates{MessagesIn: 3, Orders: 2, TotalSpent: 1_700_000},
		Offers:     map[string]*crm.OfferStat{"welcome": {Shown: 1, LastShown: base}},
		CreatedAt:  base}
	dup := &crm.Customer{Email: "quynh.other@example.vn", CreatedAt: base,
		Identities: []crm.Identity{{Channel: crm.ChannelWeb, UserID: lanSession, ChatID: lanSession}},
		Claims:     crm.ContactClaims{Phone: "+84911220033", Channel: crm.ChannelWeb, At: base}}
	other := &crm.Customer{Name: "Lê Văn Tám", Phone: "+84912000111", Segment: crm.SegmentAssignment{Name: "loyal"},
		Identities: []crm.Identity{{Channel: crm.ChannelTelegram, UserID: "42", Username: "tam"}}}
	create(t, s, lan, dup, other)
	f := privacyFixture{lan: lan.ID, dup: dup.ID, other: other.ID}
	update(t, s, func(tx crm.Tx) error {
		f.interactions = nil
		for _, i := range []*crm.Interaction{
			{CustomerID: dup.ID, Time: base, Direction: crm.Inbound, Channel: crm.ChannelWeb, ChatID: lanSession, MessageID: dupMsgID, Kind: crm.KindText, Text: "mình muốn xem iphone màu hồng"},
			{CustomerID: lan.ID, Time: at(time.Minute), Direction: crm.Inbound, Channel: crm.ChannelTelegram, ChatID: lanTelegram, MessageID: lanMsgID, Kind: crm.KindText, Text: "giao tới 12 Lý Thường Kiệt nhé"},
			{CustomerID: lan.ID, Time: at(2 * time.Minute), Direction: crm.Outbound, Channel: crm.ChannelTelegram, ChatID: lanTelegram, Kind: crm.KindText, Text: "Chào chị Quỳnh"},
			{CustomerID: other.ID, Time: base, Direction: crm.Inbound, Channel: crm.ChannelTelegram, ChatID: "42", MessageID: otherMsgID, Kind: crm.KindText, Text: "còn hàng không"},
		} {
			if err := tx.AppendInteraction(i); err != nil {
				return err
			}
			if i.MessageID != "" {
				if err := tx.MarkMessage(i.Channel, i.MessageID, i.ID); err != nil {
					return err
				}
			}
			if i.CustomerID == other.ID {
				f.otherMsg = i.ID
			} else {
				f.interactions = append(f.interactions, i.ID)
			}
		}
		for _, o := range []*crm.Order{
			{CustomerID: lan.ID, Ref: "SO-1001", Amount: 1_500_000, Time: base, Note: "gọi trước cho chị Quỳnh", Source: "import"},
			{CustomerID: dup.ID, Ref: "SO-1002", Amount: 200_000, Time: at(time.Hour), Note: "giao buổi tối"},
			{CustomerID: other.ID, Ref: "SO-1003", Amount: 1, Time: base, Note: "other"},
		} {
			if _, err := tx.AddOrder(o); err != nil {
				return err
			}
		}
		for _, it := range []*crm.OutboxItem{
			{CustomerID: lan.ID, Channel: crm.ChannelTelegram, ChatID: lanTelegram, UserID: lanTelegram, Text: "Chào chị Quỳnh", CreatedAt: base},
			{CustomerID: dup.ID, Channel: crm.ChannelWeb, ChatID: lanSession, UserID: lanSession, Text: "Dạ có ạ", CreatedAt: base},
			{CustomerID: other.ID, Channel: crm.ChannelTelegram, ChatID: "42", UserID: "42", Text: "Dạ còn", CreatedAt: base},
		} {
			if err := tx.EnqueueOutbox(it); err != nil {
				return err
			}
		}
		for _, e := range []*crm.Event{
			{CustomerID: dup.ID, OfferID: "welcome", Time: base, Kind: crm.EventOfferShown, Channel: crm.ChannelWeb},
			{CustomerID: other.ID, OfferID: "welcome", Time: base, Kind: crm.EventOfferShown, Channel: crm.ChannelTelegram},
			{CustomerID: lan.ID, Time: at(time.Hour), Kind: crm.EventSegmentChange, From: "new", To: "loyal", Rule: "orders>=1", Cause: "order"},
			{CustomerID: dup.ID, Time: base, Kind: crm.EventSegmentChange, From: "", To: "new", Rule: "default", Cause: "message"},
			{CustomerID: other.ID, Time: base, Kind: crm.EventSegmentChange, From: "", To: "loyal", Cause: "import"},
		} {
			if err := tx.AppendEvent(e); err != nil {
				return err
			}
		}
		return nil
	})
	// The web chat visitor proved to be Quỳnh: merged, as the core merges.
	update(t, s, func(tx crm.Tx) error {
		keep, err := tx.Customer(lan.ID)
		if err != nil {
			return err
		}
		gone, err := tx.Customer(dup.ID)
		if err != nil {
			return err
		}
		keep.MergeFrom(gone)
		if err := tx.MoveInteractions(gone.ID, keep.ID); err != nil {
			return err
		}
		if err := tx.DeleteCustomer(gone.ID, keep.ID); err != nil {
			return err
		}
		return tx.PutCustomer(keep)
	})
	return f
}

func testCustomerRecords(t *testing.T, o Opener) {
	s := o.Open(t)
	f := newPrivacyFixture(t, s)
	for _, id := range []crm.ID{f.lan, f.dup} {
		var x *crm.CustomerExport
		view(t, s, func(tx crm.Tx) (err error) {
			x, err = tx.CustomerRecords(id)
			return err
		})
		if x.Customer == nil || x.Customer.ID != f.lan || x.Customer.Name != "Trịnh Khánh Quỳnh" {
			t.Fatalf("CustomerRecords(%d).Customer = %+v, want Lan (%d)", id, x.Customer, f.lan)
		}
		if got, want := x.MergedIDs, []crm.ID{f.dup}; !slices.Equal(got, want) {
			t.Errorf("CustomerRecords(%d).MergedIDs = %v, want %v", id, got, want)
		}
		if got, want := interactionIDs(x.Interactions), f.interactions; !slices.Equal(got, want) {
			t.Errorf("CustomerRecords(%d).Interactions = %v, want %v (the merged visitor's too, oldest first)", id, got, want)
		}
		var refs []string
		for _, o := range x.Orders {
			refs = append(refs, o.Ref)
		}
		slices.Sort(refs)
		if want := []string{"SO-1001", "SO-1002"}; !slices.Equal(refs, want) {
			t.Errorf("CustomerRecords(%d).Orders = %v, want %v", id, refs, want)
		}
		var offers, moves []string
		for _, e := range x.Events {
			if e.CustomerID != f.lan {
				t.Errorf("CustomerRecords(%d) has an event of customer %d, want every one under the survivor %d", id, e.CustomerID, f.lan)
			}
			switch e.Kind {
			case crm.EventOfferShown:
				offers = append(offers, e.OfferID)
			case crm.EventSegmentChange:
				moves = append(moves, e.From+">"+e.To)
			}
		}
		if want := []string{"welcome"}; !slices.Equal(offers, want) {
			t.Errorf("CustomerRecords(%d) offers shown = %v, want the merged visitor's %v", id, offers, want)
		}
		if want := []string{">new", "new>loyal"}; !slices.Equal(moves, want) {
			t.Errorf("CustomerRecords(%d) segment changes = %v, want %v (oldest first)", id, moves, want)
		}
		var texts []string
		for _, it := range x.Outbox {
			texts = append(texts, it.Text)
		}
		slices.Sort(texts)
		if want := []string{"Chào chị Quỳnh", "Dạ có ạ"}; !slices.Equal(texts, want) {
			t.Errorf("CustomerRecords(%d).Outbox = %v, want %v", id, texts, want)
		}
		if x.Erasure != nil {
			t.Errorf("CustomerRecords(%d).Erasure = %+v before any erase", id, x.Erasure)
		}
	}
	var other *crm.CustomerExport
	view(t, s, func(tx crm.Tx) (err error) {
		other, err = tx.CustomerRecords(f.other)
		return err
	})
	if len(other.MergedIDs) != 0 || len(other.Interactions) != 1 || len(other.Orders) != 1 || len(other.Events) != 2 ||
		len(other.Outbox) != 1 {
		t.Errorf("the other customer's records = %s, want one of each", asJSON(t, other))
	}
	err := s.View(t.Context(), func(tx crm.Tx) error {
		_, err := tx.CustomerRecords(f.other + 100)
		return err
	})
	wantCode(t, "CustomerRecords(unknown)", err, crm.ENOTFOUND)
}

func testEraseCustomer(t *testing.T, o Opener) {
	s := o.Open(t)
	f := newPrivacyFixture(t, s)
	eraseAt := at(48 * time.Hour)
	var e *crm.Erasure
	update(t, s, func(tx crm.Tx) (err error) {
		e, err = tx.EraseCustomer(f.dup, "admin:owner", eraseAt) // by the merged id: redirects followed
		return err
	})
	if e == nil || e.CustomerID != f.lan || !slices.Equal(e.MergedIDs, []crm.ID{f.dup}) || e.By != "admin:owner" || !e.At.Equal(eraseAt) {
		t.Fatalf("EraseCustomer = %+v, want Lan (%d), merged [%d], by admin:owner at %v", e, f.lan, f.dup, eraseAt)
	}
	// The consent kept as proof, with the channel of the last inbound
	// message at or before it (the record's consent has none).
	if !e.Consent.OptedOut || !e.Consent.Since.Equal(at(30*time.Minute)) || e.Consent.Channel != crm.ChannelTelegram {
		t.Errorf("Erasure.Consent = %+v, want opted out since %v on telegram", e.Consent, at(30*time.Minute))
	}

	view(t, s, func(tx crm.Tx) error {
		// Nothing of hers finds her any more.
		finds := []struct {
			name string
			find func() ([]*crm.Customer, error)
		}{
			{"telegram identity", func() ([]*crm.Customer, error) {
				return one(tx.FindCustomerByIdentity(crm.ChannelTelegram, lanTelegram))
			}},
			{"web identity", func() ([]*crm.Customer, error) { return one(tx.FindCustomerByIdentity(crm.ChannelWeb, lanSession)) }},
			{"phone", func() ([]*crm.Customer, error) { return one(tx.FindCustomerByPhone("+84987650123")) }},
			{"email", func() ([]*crm.Customer, error) { return one(tx.FindCustomerByEmail("quynh@example.vn")) }},
			{"merged email", func() ([]*crm.Customer, error) { return one(tx.FindCustomerByEmail("quynh.other@example.vn")) }},
			{"name", func() ([]*crm.Customer, error) { return tx.FindCustomersByName("quynh", 10) }},
			{"username", func() ([]*crm.Customer, error) { return tx.FindCustomersByUsername(crm.ChannelTelegram, "quynhtk") }},
			{"claim", func() ([]*crm.Customer, error) { return tx.FindCustomersByClaim("+84911220033") }},
		}
		for _, fd := range finds {
			if got, err := fd.find(); err != nil || len(got) != 0 {
				t.Errorf("%s after the erase finds %v, %v", fd.name, idsOf(got), err)
			}
		}

		c, err := tx.Customer(f.dup)
		if err != nil {
			return err
		}
		if c.ID != f.lan || c.Name != "" || c.Phone != "" || c.Email != "" || c.Address != "" || c.Company != "" ||
			len(c.Identities) != 0 || len(c.Notes) != 0 || c.Claims != (crm.ContactClaims{}) || c.Handoff.Thread != "" {
			t.Errorf("the erased record keeps personal data: %s", asJSON(t, c))
		}
		if c.Segment.Name != "loyal" || c.Stats.TotalSpent != 1_700_000 || c.Stats.Orders != 2 || !c.Consent.OptedOut ||
			c.Offers["welcome"] == nil || c.Offers["welcome"].Shown != 1 {
			t.Errorf("the erased record lost what reports need: %s", asJSON(t, c))
		}
		if n, err := tx.CustomerCount(); err != nil || n != 2 {
			t.Errorf("CustomerCount = %d, %v; want 2", n, err)
		}
		if n, err := tx.SegmentCount("loyal"); err != nil || n != 2 {
			t.Errorf("SegmentCount(loyal) = %d, %v; want 2", n, err)
		}

		is, err := tx.Interactions(f.lan, 0, 0)
		if err != nil {
			return err
		}
		if got := interactionIDs(is); !slices.Equal(got, f.interactions) {
			t.Errorf("history after the erase = %v, want %v (kept, texts erased)", got, f.interactions)
		}
		for _, i := range is {
			if i.Text != crm.ErasedText || i.ChatID != "" || i.MessageID != "" {
				t.Errorf("interaction after the erase: %s", asJSON(t, i))
			}
			if i.Time.IsZero() || i.Direction == "" || i.Channel == "" {
				t.Errorf("interaction after the erase lost its time, direction or channel: %s", asJSON(t, i))
			}
		}
		for _, m := range []struct {
			ch crm.Channel
			id string
		}{{crm.ChannelTelegram, lanMsgID}, {crm.ChannelWeb, dupMsgID}} {
			if _, seen, err := tx.SeenMessage(m.ch, m.id); err != nil || seen {
				t.Errorf("the seen marker %s %q is kept (%v), %v", m.ch, m.id, seen, err)
			}
		}

		orders, err := tx.Orders(f.lan)
		if err != nil {
			return err
		}
		var total int64
		for _, o := range orders {
			total += o.Amount
			if o.Note != crm.ErasedText {
				t.Errorf("order %s note after the erase = %q, want %q", o.Ref, o.Note, crm.ErasedText)
			}
		}
		if len(orders) != 2 || total != 1_700_000 {
			t.Errorf("orders after the erase: %d adding to %d, want 2 adding to 1700000", len(orders), total)
		}

		x, err := tx.CustomerRecords(f.lan)
		if err != nil {
			return err
		}
		for _, it := range x.Outbox {
			if it.Text != crm.ErasedText || it.ChatID != "" || it.UserID != "" {
				t.Errorf("outbox item after the erase: %s", asJSON(t, it))
			}
			if it.Status == crm.OutboxPending {
				t.Errorf("outbox item %d of the erased customer is still pending", it.ID)
			}
		}
		var pendingFor []crm.ID
		if err := tx.PendingOutbox(func(it *crm.OutboxItem) error {
			pendingFor = append(pendingFor, it.CustomerID)
			return nil
		}); err != nil {
			return err
		}
		if !slices.Equal(pendingFor, []crm.ID{f.other}) {
			t.Errorf("pending items are for customers %v, want only the other's (%d)", pendingFor, f.other)
		}
		if x.Erasure == nil || x.Erasure.By != "admin:owner" || !x.Erasure.At.Equal(eraseAt) || x.Erasure.CustomerID != f.lan {
			t.Errorf("CustomerRecords after the erase: Erasure = %+v", x.Erasure)
		}

		// The other customer is untouched.
		oc, err := tx.Customer(f.other)
		if err != nil {
			return err
		}
		if oc.Name != "Lê Văn Tám" || oc.Phone != "+84912000111" {
			t.Errorf("the other customer changed: %s", asJSON(t, oc))
		}
		if found, err := tx.FindCustomerByPhone("+84912000111"); err != nil || idOf(found) != f.other {
			t.Errorf("the other customer's phone finds %d, %v", idOf(found), err)
		}
		if oi, err := tx.Interaction(f.other, f.otherMsg); err != nil || oi.Text != "còn hàng không" {
			t.Errorf("the other customer's message = %+v, %v", oi, err)
		}
		if id, seen, err := tx.SeenMessage(crm.ChannelTelegram, otherMsgID); err != nil || !seen || id != f.otherMsg {
			t.Errorf("the other customer's seen marker = %d, %v, %v", id, seen, err)
		}
		return nil
	})

	// The same person writing again is a new customer.
	again := &crm.Customer{Identities: []crm.Identity{{Channel: crm.ChannelTelegram, UserID: lanTelegram}}}
	create(t, s, again)
	view(t, s, func(tx crm.Tx) error {
		if c, err := tx.FindCustomerByIdentity(crm.ChannelTelegram, lanTelegram); err != nil || idOf(c) != again.ID {
			t.Errorf("the identity of an erased customer, used again, finds %d, %v; want the new customer %d", idOf(c), err, again.ID)
		}
		return nil
	})
}

// one adapts a single-result find to the many-result form.
func one(c *crm.Customer, err error) ([]*crm.Customer, error) {
	if c == nil {
		return nil, err
	}
	return []*crm.Customer{c}, err
}

func testEraseTwiceOrUnknown(t *testing.T, o Opener) {
	s := o.Open(t)
	f := newPrivacyFixture(t, s)
	update(t, s, func(tx crm.Tx) error {
		_, err := tx.EraseCustomer(f.lan, "admin", base)
		return err
	})
	before := customer(t, s, f.lan)
	for _, tt := range []struct {
		name string
		id   crm.ID
		code string
	}{{"again", f.lan, crm.ECONFLICT}, {"again by the merged id", f.dup, crm.ECONFLICT}, {"unknown", f.other + 100, crm.ENOTFOUND}} {
		err := s.Update(t.Context(), func(tx crm.Tx) error {
			_, err := tx.EraseCustomer(tt.id, "someone else", at(time.Hour))
			return err
		})
		wantCode(t, "EraseCustomer "+tt.name, err, tt.code)
	}
	if after := customer(t, s, f.lan); !reflect.DeepEqual(after, before) {
		t.Errorf("a refused erase changed the record:\n got %s\nwant %s", asJSON(t, after), asJSON(t, before))
	}
	var e *crm.Erasure
	view(t, s, func(tx crm.Tx) error {
		x, err := tx.CustomerRecords(f.lan)
		if err == nil {
			e = x.Erasure
		}
		return err
	})
	if e == nil || e.By != "admin" || !e.At.Equal(base) {
		t.Errorf("the first erasure record was replaced: %+v", e)
	}
}

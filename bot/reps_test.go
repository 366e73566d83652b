package bot_test

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/idicbot/idicbot/bot"
	"github.com/idicbot/idicbot/crm"
)

// repPerson is a customer seeded for the rep tests.
type repPerson struct {
	key, name, phone, email, tgUser string
	orders                          []int64
}

var repPeople = []repPerson{
	{"lan", "Nguyễn Thị Lan", "+84912345678", "lan@example.com", "Lan_Shop", []int64{1_500_000, 2_500_000}},
	{"anh", "Trần Văn Ánh", "+84987654321", "", "", nil},
	{"vana", "Nguyễn Văn A", "+84903111222", "vana@example.vn", "", []int64{25_000_000}},
	{"dung", "Lê Đức Dũng", "", "dung@example.com", "dungle", []int64{300_000}},
}

// seedReps stores repPeople (web chat and Telegram identities, orders
// through the core) and returns their ids by key.
func seedReps(t *testing.T, e *env) map[string]crm.ID {
	t.Helper()
	ctx := context.Background()
	ids := map[string]crm.ID{}
	now := e.clock.Now()
	err := e.db.Update(ctx, func(tx crm.Tx) error {
		for i, p := range repPeople {
			c := &crm.Customer{Name: p.name, Phone: p.phone, Email: p.email, CreatedAt: now, Source: "seed"}
			c.AddIdentity(crm.Identity{Channel: crm.ChannelWeb, UserID: "w-" + p.key, FirstSeen: now})
			if p.tgUser != "" {
				c.AddIdentity(crm.Identity{Channel: crm.ChannelTelegram, UserID: "10" + string(rune('0'+i)), Username: p.tgUser, FirstSeen: now})
			}
			e.core.Segments().Apply(c, now, "import")
			if err := tx.PutCustomer(c); err != nil {
				return err
			}
			ids[p.key] = c.ID
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range repPeople {
		for i, amt := range p.orders {
			e.clock.Add(time.Duration(i+1) * time.Hour)
			if _, _, _, err := e.core.Reps().RecordOrder(ctx, crm.Order{CustomerID: ids[p.key], Amount: amt, Note: "seed"}, "order"); err != nil {
				t.Fatal(err)
			}
		}
	}
	return ids
}

func names(list []*crm.Customer) string {
	var out []string
	for _, c := range list {
		out = append(out, c.Name)
	}
	return strings.Join(out, "|")
}

func TestRepFindCustomers(t *testing.T) {
	e := newEnv(t, "")
	ids := seedReps(t, e)
	ctx := context.Background()
	tests := []struct {
		query string
		want  string
	}{
		{"0912 345 678", "Nguyễn Thị Lan"},
		{"0912345678", "Nguyễn Thị Lan"},
		{"+84912345678", "Nguyễn Thị Lan"},
		{"84912345678", "Nguyễn Thị Lan"},
		{"0912.345.678", "Nguyễn Thị Lan"},
		{"LAN@example.com", "Nguyễn Thị Lan"},
		{"@lan_shop", "Nguyễn Thị Lan"},
		{"@DUNGLE", "Lê Đức Dũng"},
		{"nguyen van a", "Nguyễn Văn A"},
		{"NGUYỄN văn a", "Nguyễn Văn A"},
		{"tran van anh", "Trần Văn Ánh"},
		{"le duc dung", "Lê Đức Dũng"},
		{"nguyen", "Nguyễn Thị Lan|Nguyễn Văn A"},
		{"#" + itoa(ids["anh"]), "Trần Văn Ánh"},
		{itoa(ids["dung"]), "Lê Đức Dũng"},
		{"webchat:w-vana", "Nguyễn Văn A"},
		{"0999 999 999", ""},
		{"nobody here", ""},
		{"@nobody", ""},
		{"99999", ""},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			got, err := e.core.Reps().FindCustomers(ctx, tt.query)
			if err != nil {
				t.Fatal(err)
			}
			if g := names(got); g != tt.want {
				t.Fatalf("FindCustomers(%q) = %q, want %q", tt.query, g, tt.want)
			}
		})
	}
	if _, err := e.core.Reps().FindCustomers(ctx, "  "); crm.ErrorCode(err) != crm.EINVALID {
		t.Fatalf("empty query: err = %v, want EINVALID", err)
	}
	if _, err := e.core.Reps().ResolveCustomer(ctx, "nguyen"); crm.ErrorCode(err) != crm.EINVALID || !strings.Contains(crm.ErrorMessage(err), "2 customers match") {
		t.Fatalf("ambiguous ResolveCustomer: err = %v", err)
	}
	if _, err := e.core.Reps().ResolveCustomer(ctx, "nobody"); crm.ErrorCode(err) != crm.ENOTFOUND {
		t.Fatalf("ResolveCustomer(nobody): err = %v, want ENOTFOUND", err)
	}
}

func itoa(id crm.ID) string { return strconv.FormatUint(uint64(id), 10) }

func TestRepCustomerCard(t *testing.T) {
	e := newEnv(t, "")
	ids := seedReps(t, e)
	ctx := context.Background()
	// Two interactions through the core, so the card has history.
	e.say(bot.Inbound{UserID: "w-lan", Text: "xin chào"})
	e.say(bot.Inbound{UserID: "w-lan", Text: "giá áo thun bao nhiêu?"})
	card, err := e.core.Reps().CustomerCard(ctx, ids["lan"])
	if err != nil {
		t.Fatal(err)
	}
	o := card.Orders
	if o.Count != 2 || o.Total != 4_000_000 || o.Average != 2_000_000 {
		t.Fatalf("orders = %+v, want 2 orders, 4.000.000 total, 2.000.000 average", o)
	}
	if o.Last == nil || o.Last.Amount != 2_500_000 {
		t.Fatalf("last order = %+v, want the 2.500.000 one", o.Last)
	}
	// Two orders hours ago: λ ≈ 2/90 a day, still buying (P ≈ 1), so
	// 2/90 · 730 · (1 − e^−0.5) ≈ 6.38 orders of 2.000.000 ₫ in a year.
	if got, want := o.LifetimeValue, int64(12_764_770); got < want*98/100 || got > want*102/100 {
		t.Fatalf("lifetime value = %d, want about %d", got, want)
	}
	if o.Value.Alive < 0.99 {
		t.Fatalf("P(alive) = %v for a customer who ordered hours ago, want ≈ 1", o.Value.Alive)
	}
	if len(card.Recent) == 0 || card.Recent[len(card.Recent)-1].Direction != crm.Outbound {
		t.Fatalf("recent = %d interactions, want the conversation ending with the bot's answer", len(card.Recent))
	}
	if card.Customer.Segment.Name != crm.SegmentLoyal {
		t.Fatalf("segment = %q, want loyal", card.Customer.Segment.Name)
	}
	if _, err := e.core.Reps().CustomerCard(ctx, 9999); crm.ErrorCode(err) != crm.ENOTFOUND {
		t.Fatalf("unknown id: err = %v, want ENOTFOUND", err)
	}
}

func TestRepOrdersPerYear(t *testing.T) {
	d := func(n int) time.Time { return time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, n) }
	tests := []struct {
		name string
		a    crm.Aggregates
		want float64
	}{
		{"no orders", crm.Aggregates{}, 0},
		{"one order", crm.Aggregates{Orders: 1, FirstOrder: d(0), LastOrder: d(0)}, 1},
		{"monthly", crm.Aggregates{Orders: 3, FirstOrder: d(0), LastOrder: d(73)}, 10},
		{"daily is capped weekly", crm.Aggregates{Orders: 3, FirstOrder: d(0), LastOrder: d(2)}, 52},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := bot.OrdersPerYear(&tt.a); got != tt.want {
				t.Fatalf("OrdersPerYear = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestRepSegmentPage(t *testing.T) {
	e := newEnv(t, "")
	ids := seedReps(t, e)
	ctx := context.Background()
	// new: Ánh (0) and Dũng (300k); loyal: Lan; vip: Văn A.
	p, err := e.core.Reps().SegmentPage(ctx, "new", 1, 1)
	if err != nil {
		t.Fatal(err)
	}
	if p.Count != 2 || p.Pages != 2 || len(p.Customers) != 1 || p.Customers[0].ID != ids["dung"] {
		t.Fatalf("page 1 = count %d pages %d %q, want Dũng (most valuable) of 2", p.Count, p.Pages, names(p.Customers))
	}
	p, err = e.core.Reps().SegmentPage(ctx, "NEW", 2, 1)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Customers) != 1 || p.Customers[0].ID != ids["anh"] {
		t.Fatalf("page 2 = %q, want Ánh", names(p.Customers))
	}
	p, err = e.core.Reps().SegmentPage(ctx, "vip", 1, 10)
	if err != nil || names(p.Customers) != "Nguyễn Văn A" {
		t.Fatalf("vip = %v %v", p, err)
	}
	if _, err := e.core.Reps().SegmentPage(ctx, "gold", 1, 10); crm.ErrorCode(err) != crm.ENOTFOUND || !strings.Contains(crm.ErrorMessage(err), "vip") {
		t.Fatalf("unknown segment: err = %v, want ENOTFOUND listing segments", err)
	}
}

func TestRepStats(t *testing.T) {
	e := newEnv(t, "")
	seedReps(t, e)
	ctx := context.Background()
	e.say(bot.Inbound{UserID: "w-new", Text: "xin chào"})
	e.say(bot.Inbound{UserID: "w-new", Text: "gặp nhân viên"})
	st, err := e.core.Reps().Stats(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	if st.Orders != 4 || st.Revenue != 29_300_000 {
		t.Fatalf("orders %d revenue %d, want 4 and 29.300.000", st.Orders, st.Revenue)
	}
	if st.Customers != 5 || st.NewCustomers != 1 {
		t.Fatalf("customers %d new %d, want 5 and 1", st.Customers, st.NewCustomers)
	}
	if st.MessagesIn["webchat"] != 2 || st.MessagesOut["webchat"] < 2 {
		t.Fatalf("messages in %v out %v", st.MessagesIn, st.MessagesOut)
	}
	if st.Handoffs != 1 {
		t.Fatalf("handoffs = %d, want 1", st.Handoffs)
	}
	if st.SegmentMoves["vip"] != 1 || st.SegmentMoves["loyal"] != 1 {
		t.Fatalf("segment moves = %v, want vip 1 and loyal 1", st.SegmentMoves)
	}
	var seg int64
	for _, s := range st.Segments {
		seg += s.Count
	}
	if seg != 5 {
		t.Fatalf("segments %v add up to %d, want 5", st.Segments, seg)
	}
	// Tomorrow, "today" is empty but 7 days still hold the orders.
	e.clock.Add(24 * time.Hour)
	if st, _ = e.core.Reps().Stats(ctx, 1); st.Orders != 0 {
		t.Fatalf("tomorrow's orders = %d, want 0", st.Orders)
	}
	if st, _ = e.core.Reps().Stats(ctx, 7); st.Orders != 4 || st.Days != 7 {
		t.Fatalf("7-day orders = %d, want 4", st.Orders)
	}
}

func TestRepNotesAndTags(t *testing.T) {
	e := newEnv(t, "")
	ids := seedReps(t, e)
	ctx := context.Background()
	cu, err := e.core.Reps().AddNote(ctx, ids["anh"], "slack:U1", "  gọi lại sau 6 giờ  ")
	if err != nil {
		t.Fatal(err)
	}
	if len(cu.Notes) != 1 || cu.Notes[0].Text != "gọi lại sau 6 giờ" || cu.Notes[0].Author != "slack:U1" {
		t.Fatalf("notes = %+v", cu.Notes)
	}
	if _, err := e.core.Reps().AddNote(ctx, ids["anh"], "slack:U1", " "); crm.ErrorCode(err) != crm.EINVALID {
		t.Fatalf("empty note: err = %v", err)
	}
	// The same note again within minutes (a replayed command, even after a
	// restart) is not a second note; later, or by someone else, it is.
	cu, _ = e.core.Reps().AddNote(ctx, ids["anh"], "slack:U1", "gọi lại sau 6 giờ")
	if len(cu.Notes) != 1 {
		t.Fatalf("a replayed note was added: %+v", cu.Notes)
	}
	if _, err := e.core.Reps().AddNote(ctx, ids["anh"], "slack:U2", "gọi lại sau 6 giờ"); err != nil {
		t.Fatal(err)
	}
	e.clock.Add(20 * time.Minute)
	cu, _ = e.core.Reps().AddNote(ctx, ids["anh"], "slack:U1", "gọi lại sau 6 giờ")
	if len(cu.Notes) != 3 {
		t.Fatalf("notes = %+v, want 3", cu.Notes)
	}
	// b2b is a fact the segment rules see: tagging moves the customer.
	cu, mv, err := e.core.Reps().Tag(ctx, ids["anh"], "B2B")
	if err != nil {
		t.Fatal(err)
	}
	if !cu.HasTag("b2b") || mv == nil || mv.To != crm.SegmentBusiness || cu.Segment.Name != crm.SegmentBusiness {
		t.Fatalf("after tag: tags %v segment %q move %+v", cu.Tags, cu.Segment.Name, mv)
	}
	cu, mv, err = e.core.Reps().Untag(ctx, ids["anh"], "b2b")
	if err != nil {
		t.Fatal(err)
	}
	if cu.HasTag("b2b") || mv == nil || cu.Segment.Name != crm.SegmentNew {
		t.Fatalf("after untag: tags %v segment %q", cu.Tags, cu.Segment.Name)
	}
	if _, _, err := e.core.Reps().Untag(ctx, ids["anh"], "b2b"); crm.ErrorCode(err) != crm.ENOTFOUND {
		t.Fatalf("untag missing: err = %v", err)
	}
	if _, _, err := e.core.Reps().Tag(ctx, ids["anh"], "two words"); crm.ErrorCode(err) != crm.EINVALID {
		t.Fatalf("bad tag: err = %v", err)
	}
}

func TestRepHandoffTakeRelease(t *testing.T) {
	e := newEnv(t, "")
	ctx := context.Background()
	res, out := e.say(bot.Inbound{UserID: "h1", Text: "cho mình gặp nhân viên"})
	if len(out) == 0 {
		t.Fatal("no answer to the handoff request")
	}
	id := res.CustomerID
	if _, err := e.core.SetHandoffThread(ctx, id, "C1:111.222"); err != nil {
		t.Fatal(err)
	}
	if cu, _ := e.core.CustomerByHandoffThread(ctx, "C1:111.222"); cu == nil || cu.ID != id {
		t.Fatalf("thread lookup = %v, want customer %d", cu, id)
	}
	if cu, _ := e.core.CustomerByHandoffThread(ctx, "C1:999"); cu != nil {
		t.Fatalf("unknown thread found %d", cu.ID)
	}
	cu, err := e.core.TakeHandoff(ctx, id, "slack:U1")
	if err != nil || cu.Handoff.Agent != "slack:U1" || cu.Handoff.TakenAt.IsZero() || cu.Handoff.Thread != "C1:111.222" {
		t.Fatalf("take: %+v %v", cu.Handoff, err)
	}
	if _, err := e.core.TakeHandoff(ctx, id, "slack:U1"); err != nil {
		t.Fatalf("taking again: %v", err)
	}
	if _, err := e.core.TakeHandoff(ctx, id, "slack:U2"); crm.ErrorCode(err) != crm.ECONFLICT {
		t.Fatalf("another agent: err = %v, want ECONFLICT", err)
	}
	// Taken: the bot is silent; the agent's message goes out.
	if _, out := e.say(bot.Inbound{UserID: "h1", Text: "khuyến mãi gì không?"}); len(out) != 0 {
		t.Fatalf("bot answered a handed-off customer: %q", out[0].Text)
	}
	if _, err := e.core.SendAsAgent(ctx, id, "slack:U1", "Chào chị, em là Hoa"); err != nil {
		t.Fatal(err)
	}
	if err := e.disp.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if sent := e.rec.Take(); len(sent) != 1 || sent[0].Text != "Chào chị, em là Hoa" || sent[0].UserID != "h1" {
		t.Fatalf("agent message sent = %+v", sent)
	}
	if _, err := e.core.ReleaseHandoff(ctx, id, "slack:U2"); crm.ErrorCode(err) != crm.ECONFLICT {
		t.Fatalf("release by another rep: err = %v, want ECONFLICT", err)
	}
	before, err := e.core.ReleaseHandoff(ctx, id, "slack:U1")
	if err != nil || before.Thread != "C1:111.222" {
		t.Fatalf("release: %+v %v", before, err)
	}
	if cu, _ := e.core.CustomerByHandoffThread(ctx, "C1:111.222"); cu != nil {
		t.Fatal("thread still maps to the customer after release")
	}
	if _, err := e.core.ReleaseHandoff(ctx, id, ""); crm.ErrorCode(err) != crm.ECONFLICT {
		t.Fatalf("release twice: err = %v, want ECONFLICT", err)
	}
	if _, out := e.say(bot.Inbound{UserID: "h1", Text: "xin chào"}); len(out) == 0 {
		t.Fatal("bot silent after release")
	}
}

// benchCustomers is how many customers the rep benchmarks store (the issue's
// 1,000,000-customer figures come from `make bench`; this keeps `go test
// -bench` quick).
const benchCustomers = 20000

// newRepBench stores benchCustomers customers with Vietnamese names and
// phones, and returns the env.
func newRepBench(b *testing.B) *env {
	b.Helper()
	e := newEnv(b, "")
	family := []string{"Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng"}
	middle := []string{"Văn", "Thị", "Đức", "Ngọc", "Minh", "Thu", "Quốc", "Hữu"}
	given := []string{"An", "Bình", "Chi", "Dũng", "Giang", "Hà", "Khánh", "Lan", "Mai", "Nam", "Oanh", "Phúc", "Quân", "Sơn", "Trang", "Vy"}
	now := e.clock.Now()
	ctx := context.Background()
	for start := 0; start < benchCustomers; start += 5000 {
		err := e.db.Update(ctx, func(tx crm.Tx) error {
			for i := start; i < min(start+5000, benchCustomers); i++ {
				c := &crm.Customer{Name: family[i%len(family)] + " " + middle[(i/10)%len(middle)] + " " + given[(i/80)%len(given)] + " " + strconv.Itoa(i),
					Phone: "+8490" + strconv.Itoa(1000000+i), CreatedAt: now}
				c.AddIdentity(crm.Identity{Channel: crm.ChannelWeb, UserID: "b" + strconv.Itoa(i), FirstSeen: now})
				e.core.Segments().Apply(c, now, "import")
				if err := tx.PutCustomer(c); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	return e
}

func BenchmarkRepFind(b *testing.B) {
	reps := newRepBench(b).core.Reps()
	ctx := context.Background()
	b.Run("phone", func(b *testing.B) {
		for i := 0; b.Loop(); i++ {
			if got, err := reps.FindCustomers(ctx, "090 "+strconv.Itoa(1000000+i%benchCustomers)); err != nil || len(got) != 1 {
				b.Fatalf("%d %v", len(got), err)
			}
		}
	})
	b.Run("name", func(b *testing.B) {
		for b.Loop() {
			if got, err := reps.FindCustomers(ctx, "nguyen van lan"); err != nil || len(got) == 0 {
				b.Fatalf("%d %v", len(got), err)
			}
		}
	})
	b.Run("stats30d", func(b *testing.B) {
		for b.Loop() {
			if _, err := reps.Stats(ctx, 30); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// An order counts on the day it was made, whether a rep records it or a
// file brings it: the two used to disagree (the recording day for reps).
func TestOrderCountsOnItsOwnDay(t *testing.T) {
	e := newEnv(t, "")
	ctx := context.Background()
	e.say(bot.Inbound{UserID: "buyer", Text: "xin chào"})
	c := e.customer(crm.ChannelWeb, "buyer")
	day := e.clock.Now().AddDate(0, 0, -3)
	if _, _, _, err := e.core.Reps().RecordOrder(ctx, crm.Order{CustomerID: c.ID, Amount: 500_000, Time: day}, "order"); err != nil {
		t.Fatal(err)
	}
	if err := e.db.View(ctx, func(tx crm.Tx) error {
		for key, want := range map[string]int64{
			"d:" + day.UTC().Format("20060102") + ":orders":           1,
			"d:" + day.UTC().Format("20060102") + ":revenue":          500_000,
			"d:" + e.clock.Now().UTC().Format("20060102") + ":orders": 0,
		} {
			if got, err := tx.Counter(key); err != nil || got != want {
				t.Errorf("%s = %d (%v), want %d", key, got, err, want)
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}

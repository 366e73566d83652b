package bot_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/idicbot/idicbot/bot"
	"github.com/idicbot/idicbot/bot/bottest"
	"github.com/idicbot/idicbot/crm"
	"github.com/idicbot/idicbot/crm/boltstore"
	"golang.org/x/text/unicode/norm"
)

// importNow is the clock of the import tests: the order dates of
// testdata/import are a few weeks before it.
var importNow = time.Date(2026, 11, 10, 10, 0, 0, 0, time.FixedZone("ICT", 7*3600))

// openImportCore returns a core on a fresh bbolt file with the shipped
// segment rules and offers (no catalog, no dispatcher), its clock at
// importNow.
func openImportCore(tb testing.TB) (*bot.Core, *boltstore.DB) {
	tb.Helper()
	kit := bottest.NewCore(tb, bottest.StartAt(importNow), bottest.NoDispatcher(),
		bottest.CoreOptions(func(o *bot.Options) { o.Catalog = nil }))
	return kit.Core, kit.DB
}

// importTestFile imports a file of testdata/import, or inline CSV text when
// name holds a newline.
func importTestFile(tb testing.TB, core *bot.Core, kind, name string) (bot.ImportSummary, error) {
	tb.Helper()
	r := strings.NewReader(name)
	if !strings.Contains(name, "\n") {
		data, err := os.ReadFile(filepath.Join("testdata", "import", name))
		if err != nil {
			tb.Fatal(err)
		}
		r = strings.NewReader(string(data))
	} else {
		name = "inline.csv"
	}
	switch kind {
	case "customers":
		return core.Importer().ImportCustomers(context.Background(), r, name)
	case "orders":
		return core.Importer().ImportOrders(context.Background(), r, name)
	}
	tb.Fatalf("unknown import kind %q", kind)
	return bot.ImportSummary{}, nil
}

func mustImportFile(tb testing.TB, core *bot.Core, kind, name string) bot.ImportSummary {
	tb.Helper()
	rep, err := importTestFile(tb, core, kind, name)
	if err != nil {
		tb.Fatalf("import %s %s: %v (%s)", kind, name, err, crm.ErrorMessage(err))
	}
	return rep
}

// importedByExternalID reads the customer imported as ext (nil if none).
func importedByExternalID(tb testing.TB, db *boltstore.DB, ext string) *crm.Customer {
	tb.Helper()
	var c *crm.Customer
	if err := db.View(context.Background(), func(tx crm.Tx) error {
		var err error
		c, err = tx.FindCustomerByExternalID(ext)
		return err
	}); err != nil {
		tb.Fatal(err)
	}
	return c
}

func seedImportCustomer(tb testing.TB, db *boltstore.DB, c *crm.Customer) crm.ID {
	tb.Helper()
	if err := db.Update(context.Background(), func(tx crm.Tx) error {
		cp := *c
		if err := tx.PutCustomer(&cp); err != nil {
			return err
		}
		c.ID = cp.ID
		return nil
	}); err != nil {
		tb.Fatal(err)
	}
	return c.ID
}

func importStoreCounts(tb testing.TB, db *boltstore.DB) (customers, orders int64) {
	tb.Helper()
	if err := db.View(context.Background(), func(tx crm.Tx) error {
		var err error
		if customers, err = tx.CustomerCount(); err != nil {
			return err
		}
		orders, err = tx.Counter("orders")
		return err
	}); err != nil {
		tb.Fatal(err)
	}
	return customers, orders
}

// wantImported is what an imported customer must look like; empty fields
// are not checked.
type wantImported struct {
	id         *crm.ID // the customer stored before the import
	name       string
	phone      string
	email      string
	birthday   string
	business   bool
	company    string
	tags       []string
	source     string
	language   string
	segment    string
	orders     int
	spent      int64
	lastOrder  string
	identities int
}

func checkImportedCustomer(t *testing.T, db *boltstore.DB, ext string, w wantImported) {
	t.Helper()
	c := importedByExternalID(t, db, ext)
	if c == nil {
		t.Errorf("%s: no customer with this external id", ext)
		return
	}
	str := func(field, got, want string) {
		if want != "" && got != want {
			t.Errorf("%s: %s = %q, want %q", ext, field, got, want)
		}
	}
	if w.id != nil && c.ID != *w.id {
		t.Errorf("%s: id = %d, want the existing customer %d", ext, c.ID, *w.id)
	}
	str("name", c.Name, w.name)
	str("phone", c.Phone, w.phone)
	str("email", c.Email, w.email)
	str("company", c.Company, w.company)
	str("source", c.Source, w.source)
	str("language", c.Language, w.language)
	str("segment", c.Segment.Name, w.segment)
	if w.birthday != "" {
		if c.Birthday == nil || c.Birthday.Format("2006-01-02") != w.birthday {
			t.Errorf("%s: birthday = %v, want %s", ext, c.Birthday, w.birthday)
		}
	}
	if got, want := c.IsBusiness, w.business; got != want {
		t.Errorf("%s: is_business = %v, want %v", ext, got, want)
	}
	if w.tags != nil && !slices.Equal(c.Tags, w.tags) {
		t.Errorf("%s: tags = %q, want %q", ext, c.Tags, w.tags)
	}
	if got, want := c.Stats.Orders, w.orders; got != want {
		t.Errorf("%s: orders = %d, want %d", ext, got, want)
	}
	if got, want := c.Stats.TotalSpent, w.spent; got != want {
		t.Errorf("%s: total spent = %d, want %d", ext, got, want)
	}
	if w.lastOrder != "" {
		if got := c.Stats.LastOrder.In(importNow.Location()).Format(time.RFC3339); got != w.lastOrder {
			t.Errorf("%s: last order = %s, want %s", ext, got, w.lastOrder)
		}
	}
	if !c.HasIdentity(crm.ChannelImport, ext) {
		t.Errorf("%s: identities %+v lack import:%s", ext, c.Identities, ext)
	}
	if w.identities != 0 && len(c.Identities) != w.identities {
		t.Errorf("%s: %d identities, want %d", ext, len(c.Identities), w.identities)
	}
}

func TestImportCustomers(t *testing.T) {
	seedPhone := &crm.Customer{Name: "Châu", Phone: "+84933222111", CreatedAt: importNow.AddDate(0, -1, 0),
		Identities: []crm.Identity{{Channel: crm.ChannelWeb, UserID: "s-1"}}, Segment: crm.SegmentAssignment{Name: crm.SegmentNew}}
	seedEmail := &crm.Customer{Name: "Chau Shop", Email: "chau.shop@example.com", CreatedAt: importNow.AddDate(0, -1, 0),
		Identities: []crm.Identity{{Channel: crm.ChannelTelegram, UserID: "42"}}, Segment: crm.SegmentAssignment{Name: crm.SegmentNew}}

	asFile := map[string]wantImported{
		"C001": {name: "Nguyễn Thị Ánh", phone: "+84912345678", email: "anh@example.com", birthday: "1990-03-15",
			tags: []string{"vip-club", "zalo"}, source: "facebook", language: "vi", segment: crm.SegmentNew, identities: 1},
		"C002": {name: "Trần Văn Bình", phone: "+84987654321", email: "binh@example.vn", birthday: "1985-03-15",
			source: "import", language: "vi", segment: crm.SegmentNew},
		"C003": {name: "Công ty TNHH Hoa Sen", phone: "+842838221234", email: "sales@hoasen.vn", business: true,
			company: "Hoa Sen", tags: []string{"b2b"}, segment: crm.SegmentBusiness},
		"C004": {name: "John Smith", phone: "+84903123456", email: "john@example.com", language: "en", segment: crm.SegmentNew},
	}
	tests := []struct {
		name    string
		seed    []*crm.Customer
		files   []string
		reports []bot.ImportSummary
		want    map[string]wantImported
		count   int64
	}{
		{
			name:    "new customers",
			files:   []string{"customers.csv"},
			reports: []bot.ImportSummary{{Rows: 4, Created: 4}},
			want:    asFile,
			count:   4,
		},
		{
			name:    "same file twice",
			files:   []string{"customers.csv", "customers.csv"},
			reports: []bot.ImportSummary{{Rows: 4, Created: 4}, {Rows: 4, Updated: 4}},
			want:    asFile,
			count:   4,
		},
		{
			name:    "update by external id, phone and email",
			seed:    []*crm.Customer{seedPhone, seedEmail},
			files:   []string{"customers.csv", "customers_update.csv"},
			reports: []bot.ImportSummary{{Rows: 4, Created: 4}, {Rows: 3, Updated: 3, SegmentChanged: 1}},
			want: map[string]wantImported{
				// Empty cells keep what is stored; tags are added.
				"C001": {name: "Nguyễn Thị Ánh Hồng", phone: "+84912345678", email: "anh@example.com", birthday: "1990-03-15",
					tags: []string{"khách quen", "vip-club", "zalo"}, source: "facebook", segment: crm.SegmentNew},
				"W1": {id: &seedPhone.ID, name: "Lê Minh Châu", phone: "+84933222111", identities: 2, segment: crm.SegmentNew},
				"W2": {id: &seedEmail.ID, name: "Chau Shop", email: "chau.shop@example.com", business: true,
					company: "Cửa hàng Châu", identities: 2, segment: crm.SegmentBusiness},
			},
			count: 6,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			core, db := openImportCore(t)
			for _, c := range tt.seed {
				c.ID = 0
				seedImportCustomer(t, db, c)
			}
			for i, f := range tt.files {
				if got, want := mustImportFile(t, core, "customers", f), tt.reports[i]; got != want {
					t.Fatalf("import #%d %s: report %+v, want %+v", i+1, f, got, want)
				}
			}
			for ext, w := range tt.want {
				checkImportedCustomer(t, db, ext, w)
			}
			if got, _ := importStoreCounts(t, db); got != tt.count {
				t.Errorf("%d customers stored, want %d", got, tt.count)
			}
		})
	}
}

func TestImportCustomers_NamesKeepDiacritics(t *testing.T) {
	core, db := openImportCore(t)
	decomposed := norm.NFD.String("Huỳnh Đức Lộc") // as some Macs save it
	mustImportFile(t, core, "customers", "external_id,name\nX1,"+decomposed+"\nX2,  Ngô   Bảo  Châu \n")
	for ext, want := range map[string]string{"X1": "Huỳnh Đức Lộc", "X2": "Ngô Bảo Châu"} {
		c := importedByExternalID(t, db, ext)
		if c == nil {
			t.Fatalf("%s not imported", ext)
		}
		if c.Name != want {
			t.Errorf("%s: name = %q (% x), want %q", ext, c.Name, c.Name, want)
		}
	}
	// The name index finds the customer with or without diacritics.
	for _, q := range []string{"Lộc", "loc", "huynh duc"} {
		var found []*crm.Customer
		if err := db.View(context.Background(), func(tx crm.Tx) error {
			var err error
			found, err = tx.FindCustomersByName(q, 10)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		if len(found) != 1 || found[0].ExternalID != "X1" {
			t.Errorf("FindCustomersByName(%q) = %d customers, want X1", q, len(found))
		}
	}
}

func TestImportOrders(t *testing.T) {
	core, db := openImportCore(t)
	mustImportFile(t, core, "customers", "customers.csv")

	// Daily counters count on the order's day, in UTC like every daily
	// counter: A-1001 (1 October, 00:00 ICT) and A-1005 (3 November).
	day := func(y int, m time.Month, d int) string {
		return time.Date(y, m, d, 0, 0, 0, 0, importNow.Location()).UTC().Format("20060102")
	}
	oct1Revenue, nov3Orders := "d:"+day(2026, 10, 1)+":revenue", "d:"+day(2026, 11, 3)+":orders"
	tests := []struct {
		file string
		want bot.ImportSummary
	}{
		{"orders.csv", bot.ImportSummary{Rows: 6, New: 6, SegmentChanged: 2}},
		// The same file again: every order_ref is known, nothing doubles.
		{"orders.csv", bot.ImportSummary{Rows: 6, AlreadyImported: 6}},
	}
	for i, tt := range tests {
		t.Run(fmt.Sprintf("import %d", i+1), func(t *testing.T) {
			if got := mustImportFile(t, core, "orders", tt.file); got != tt.want {
				t.Fatalf("report %+v, want %+v", got, tt.want)
			}
			for ext, w := range map[string]wantImported{
				// 2 orders → loyal.
				"C001": {segment: crm.SegmentLoyal, orders: 2, spent: 2_500_000, lastOrder: "2026-10-05T00:00:00+07:00"},
				// 20.000.000 + 5.000.000 ₫ → vip (before loyal in the rules).
				"C002": {segment: crm.SegmentVIP, orders: 2, spent: 25_000_000, lastOrder: "2026-11-02T00:00:00+07:00"},
				"C003": {segment: crm.SegmentBusiness, business: true, orders: 1, spent: 12_000_000},
				"C004": {segment: crm.SegmentNew, orders: 1, spent: 300_000},
			} {
				checkImportedCustomer(t, db, ext, w)
			}
			counters := map[string]int64{}
			var moves []string
			var c1Orders []*crm.Order
			if err := db.View(context.Background(), func(tx crm.Tx) error {
				for _, name := range []string{"orders", "revenue", oct1Revenue, nov3Orders,
					"offer:welcome-new:ordered", "offer:business-volume:ordered", "segment_moves:vip", "segment_moves:loyal"} {
					n, err := tx.Counter(name)
					if err != nil {
						return err
					}
					counters[name] = n
				}
				if err := tx.EventsBetween(time.Time{}, time.Time{}, func(ev *crm.Event) error {
					if ev.Kind == crm.EventSegmentChange && ev.Cause == "import" && ev.From == crm.SegmentNew {
						moves = append(moves, ev.To)
					}
					return nil
				}); err != nil {
					return err
				}
				c1, err := tx.FindCustomerByExternalID("C001")
				if err != nil {
					return err
				}
				c1Orders, err = tx.Orders(c1.ID)
				return err
			}); err != nil {
				t.Fatal(err)
			}
			for name, want := range map[string]int64{"orders": 6, "revenue": 39_800_000, oct1Revenue: 1_500_000, nov3Orders: 1, "offer:welcome-new:ordered": 1, "offer:business-volume:ordered": 1,
				"segment_moves:vip": 1, "segment_moves:loyal": 1} {
				if got := counters[name]; got != want {
					t.Errorf("counter %s = %d, want %d", name, got, want)
				}
			}
			slices.Sort(moves)
			if want := []string{crm.SegmentLoyal, crm.SegmentVIP}; !slices.Equal(moves, want) {
				t.Errorf("segment changes new → %q, want %q", moves, want)
			}
			if len(c1Orders) != 2 {
				t.Fatalf("C001 has %d orders, want 2", len(c1Orders))
			}
			if o := c1Orders[1]; o.Ref != "A-1002" || o.Amount != 1_000_000 || o.Note != "áo dài lụa, giao\nbuổi sáng" ||
				o.OfferID != "welcome-new" || o.Source != "import" {
				t.Errorf("order A-1002 stored as %+v", o)
			}
		})
	}
}

func TestImportOrders_Formats(t *testing.T) {
	core, db := openImportCore(t)
	mustImportFile(t, core, "customers", "customers.csv")
	tests := []struct {
		amount, date string
		wantAmount   int64  // 0: the row is rejected
		wantTime     string // RFC 3339 in ICT
		badColumn    string
	}{
		{"1500000", "2026-10-01", 1_500_000, "2026-10-01T00:00:00+07:00", ""},
		{"1.500.000", "01/10/2026", 1_500_000, "2026-10-01T00:00:00+07:00", ""},
		{`"1,500,000"`, "1/2/2026", 1_500_000, "2026-02-01T00:00:00+07:00", ""},
		{"1.500.000 ₫", "2026-10-01T08:15:00Z", 1_500_000, "2026-10-01T15:15:00+07:00", ""},
		{"750000đ", "2026-11-10", 750_000, "2026-11-10T00:00:00+07:00", ""},
		{"1.5", "2026-10-01", 0, "", "amount"},
		{`"1,50,000"`, "2026-10-01", 0, "", "amount"},
		{`"1.500,000"`, "2026-10-01", 0, "", "amount"},
		{"abc", "2026-10-01", 0, "", "amount"},
		{"0", "2026-10-01", 0, "", "amount"},
		{"-5000", "2026-10-01", 0, "", "amount"},
		{"99999999999999999999", "2026-10-01", 0, "", "amount"},
		{"100000", "2026-11-11", 0, "", "date"},
		{"100000", "31/02/2026", 0, "", "date"},
		{"100000", "10-01-2026", 0, "", "date"},
		{"100000", "2026-13-01", 0, "", "date"},
	}
	var all strings.Builder
	all.WriteString("order_ref,customer,amount,date\n")
	var wantBad []string
	for i, tt := range tests {
		fmt.Fprintf(&all, "F-%d,C004,%s,%s\n", i, tt.amount, tt.date)
		if tt.badColumn != "" {
			wantBad = append(wantBad, fmt.Sprintf("line %d: %s", i+2, tt.badColumn))
		}
	}
	// All rows together: exactly the bad ones are reported.
	_, err := importTestFile(t, core, "orders", all.String())
	if got := importProblemKeys(t, err); !slices.Equal(got, wantBad) {
		t.Errorf("problems:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(wantBad, "\n"))
	}
	// Each good row alone is stored as written.
	for i, tt := range tests {
		if tt.badColumn != "" {
			continue
		}
		t.Run(tt.amount+" "+tt.date, func(t *testing.T) {
			ref := fmt.Sprintf("G-%d", i)
			mustImportFile(t, core, "orders", fmt.Sprintf("order_ref,customer,amount,date\n%s,C004,%s,%s\n", ref, tt.amount, tt.date))
			var got *crm.Order
			if err := db.View(context.Background(), func(tx crm.Tx) error {
				c, err := tx.FindCustomerByExternalID("C004")
				if err != nil {
					return err
				}
				orders, err := tx.Orders(c.ID)
				for _, o := range orders {
					if o.Ref == ref {
						got = o
					}
				}
				return err
			}); err != nil {
				t.Fatal(err)
			}
			if got == nil {
				t.Fatalf("order %s not stored", ref)
			}
			if got.Amount != tt.wantAmount {
				t.Errorf("amount = %d, want %d", got.Amount, tt.wantAmount)
			}
			if s := got.Time.In(importNow.Location()).Format(time.RFC3339); s != tt.wantTime {
				t.Errorf("time = %s, want %s", s, tt.wantTime)
			}
		})
	}
}

// importProblemKeys returns "line N: column" of each problem of an import error,
// and fails unless err is an EINVALID *bot.ImportError whose message lists
// every problem.
func importProblemKeys(t *testing.T, err error) []string {
	t.Helper()
	var ie *bot.ImportError
	if !errors.As(err, &ie) {
		t.Fatalf("err = %v, want a *bot.ImportError", err)
	}
	if got := crm.ErrorCode(err); got != crm.EINVALID {
		t.Errorf("error code = %q, want %q", got, crm.EINVALID)
	}
	msg := crm.ErrorMessage(err)
	var keys []string
	for _, p := range ie.Problems {
		if !strings.Contains(msg, "\n"+p.String()) {
			t.Errorf("error message does not list %q:\n%s", p, msg)
		}
		keys = append(keys, fmt.Sprintf("line %d: %s", p.Line, p.Column))
	}
	return keys
}

func TestImport_BadFilesImportNothing(t *testing.T) {
	tests := []struct {
		name string
		kind string
		file string // testdata/import file, or inline CSV
		want []string
		// reason holds substrings expected in the reason of some problems.
		reason map[string]string
	}{
		{
			name: "customers", kind: "customers", file: "bad_customers.csv",
			want: []string{
				"line 1: colour",
				"line 2: phone",
				"line 3: email", "line 3: birthday", "line 3: is_business",
				"line 4: external_id",
				"line 5: external_id",
				"line 6: phone",
			},
			reason: map[string]string{
				"line 1: colour":      "unknown column",
				"line 4: external_id": "is required",
				"line 5: external_id": "same as on line 2",
				"line 6: phone":       `external_id "C001"`,
			},
		},
		{
			name: "orders", kind: "orders", file: "bad_orders.csv",
			want: []string{
				"line 1: channel",
				"line 2: amount",
				"line 5: order_ref",
				"line 6: order_ref",
				"line 7: customer",
				"line 8: amount",
				"line 9: amount", "line 9: date",
			},
			reason: map[string]string{
				"line 5: order_ref": "is required",
				"line 6: order_ref": `"B-1" is also on line 2`,
				"line 7: customer":  `"C999"`,
				"line 8: amount":    "must be positive",
				"line 9: date":      "after today",
			},
		},
		{
			name: "empty file", kind: "orders", file: "\n",
			want: []string{"line 1: header"},
		},
		{
			name: "required column missing", kind: "orders", file: "order_ref,amount,date\nR1,100000,2026-10-01\n",
			want:   []string{"line 1: customer"},
			reason: map[string]string{"line 1: customer": "required column is missing"},
		},
		{
			name: "column twice, unknown offer, wrong cell count", kind: "orders",
			file: "ORDER_REF,customer,Amount,date,amount,offer_id\n" +
				"R1,C001,100000,2026-10-01,100000,no-such-offer\n" +
				"R2,C001,100000,2026-10-01\n",
			want: []string{"line 1: amount", "line 2: offer_id", "line 3: row"},
		},
		{
			name: "phone and email of another customer", kind: "customers",
			file: "external_id,phone,email\nC002,0912345678,\nC003,,john@example.com\n",
			want: []string{"line 2: phone", "line 3: email"},
			reason: map[string]string{
				"line 2: phone": "belongs to another customer (Nguyễn Thị Ánh)",
				"line 3: email": "belongs to another customer (John Smith)",
			},
		},
		{
			name: "two rows for one customer", kind: "customers",
			file: "external_id,phone,email\nN1,0912000111,x@example.com\nN2,0912000111,\nN3,,X@example.com\n",
			want: []string{"line 3: phone", "line 4: email"},
		},
		{
			name: "not UTF-8", kind: "customers", file: "external_id,name\nL1,Nguy\xe1n\n",
			want: []string{"line 2: name"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			core, db := openImportCore(t)
			mustImportFile(t, core, "customers", "customers.csv")
			before := importedByExternalID(t, db, "C001")
			customers, orders := importStoreCounts(t, db)

			rep, err := importTestFile(t, core, tt.kind, tt.file)
			if rep != (bot.ImportSummary{}) {
				t.Errorf("report = %+v, want nothing", rep)
			}
			got := importProblemKeys(t, err)
			if !slices.Equal(got, tt.want) {
				t.Errorf("problems:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
			var ie *bot.ImportError
			errors.As(err, &ie)
			for key, sub := range tt.reason {
				found := false
				for _, p := range ie.Problems {
					if fmt.Sprintf("line %d: %s", p.Line, p.Column) == key && strings.Contains(p.Reason, sub) {
						found = true
					}
				}
				if !found {
					t.Errorf("no problem %q with a reason containing %q in %v", key, sub, ie.Problems)
				}
			}
			// Nothing was written, not even the good rows.
			if c, o := importStoreCounts(t, db); c != customers || o != orders {
				t.Errorf("after a rejected file: %d customers, %d orders; want %d, %d", c, o, customers, orders)
			}
			if after := importedByExternalID(t, db, "C001"); after.Stats.Orders != before.Stats.Orders || after.Phone != before.Phone {
				t.Errorf("C001 changed by a rejected file: %+v", after)
			}
		})
	}
}

func TestImportOrders_ManyRows(t *testing.T) {
	core, db := openImportCore(t)
	var cust, ord strings.Builder
	cust.WriteString("external_id,name\n")
	ord.WriteString("order_ref,customer,amount,date\n")
	const customers, perCustomer = 700, 3
	for i := range customers {
		fmt.Fprintf(&cust, "K%04d,Khách %d\n", i, i)
		for j := range perCustomer {
			fmt.Fprintf(&ord, "M-%d-%d,K%04d,1.000.000,2026-10-%02d\n", i, j, i, j+1)
		}
	}
	if got, want := mustImportFile(t, core, "customers", cust.String()), (bot.ImportSummary{Rows: customers, Created: customers}); got != want {
		t.Fatalf("customers: %+v, want %+v", got, want)
	}
	want := bot.ImportSummary{Rows: customers * perCustomer, New: customers * perCustomer, SegmentChanged: customers}
	if got := mustImportFile(t, core, "orders", ord.String()); got != want {
		t.Fatalf("orders: %+v, want %+v", got, want)
	}
	var loyal int64
	if err := db.View(context.Background(), func(tx crm.Tx) error {
		var err error
		loyal, err = tx.SegmentCount(crm.SegmentLoyal)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if loyal != customers {
		t.Errorf("%d loyal customers, want %d", loyal, customers)
	}
	if c := importedByExternalID(t, db, "K0699"); c.Stats.Orders != perCustomer || c.Stats.TotalSpent != perCustomer*1_000_000 {
		t.Errorf("K0699: %d orders, %d spent", c.Stats.Orders, c.Stats.TotalSpent)
	}
}

// TestImportOrders_Items: an orders file's items become the order's lines,
// the customer's products bought, and a fact offers can target.
func TestImportOrders_Items(t *testing.T) {
	core, db := openImportCore(t)
	mustImportFile(t, core, "customers", "customers.csv")
	mustImportFile(t, core, "orders", "order_ref,customer,amount,date,items\n"+
		"I-1,C004,,2026-10-01,iphone-15:1:19.990.000; op-lung-ip15:2:150000\n"+
		"I-2,C004,500000,2026-10-02,airpods-pro-2\n")
	var orders []*crm.Order
	var cust *crm.Customer
	if err := db.View(context.Background(), func(tx crm.Tx) (err error) {
		if cust, err = tx.FindCustomerByExternalID("C004"); err != nil {
			return err
		}
		orders, err = tx.Orders(cust.ID)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	var first *crm.Order
	for _, o := range orders {
		if o.Ref == "I-1" {
			first = o
		}
	}
	want := []crm.OrderItem{{Product: "iphone-15", Quantity: 1, Price: 19_990_000}, {Product: "op-lung-ip15", Quantity: 2, Price: 150_000}}
	if first == nil || !slices.Equal(first.Items, want) || first.Amount != 20_290_000 {
		t.Fatalf("order I-1 = %+v, want the lines %v and their total as amount", first, want)
	}
	if got, want := cust.Bought, []string{"airpods-pro-2", "iphone-15", "op-lung-ip15"}; !slices.Equal(got, want) {
		t.Errorf("products bought = %v, want %v", got, want)
	}
	rule, err := crm.CompileRule(`"iphone-15" in bought && !("sac-du-phong" in bought)`)
	if err != nil {
		t.Fatal(err)
	}
	if ok, err := crm.EvalRule(rule, crm.FactsOf(cust, importNow)); err != nil || !ok {
		t.Errorf("bought iphone-15, not yet sac-du-phong = %v, %v; want true", ok, err)
	}
	// Bad lines are refused with the column named, nothing imported.
	_, err = importTestFile(t, core, "orders", "order_ref,customer,amount,date,items\n"+
		"I-3,C004,,2026-10-03,iphone-15:0\n"+
		"I-4,C004,,2026-10-03,iphone-15\n"+
		"I-5,C004,100,2026-10-03,a:1:2:3\n")
	if got, want := importProblemKeys(t, err), []string{"line 2: items", "line 3: amount", "line 4: items"}; !slices.Equal(got, want) {
		t.Errorf("problems %v, want %v", got, want)
	}
}

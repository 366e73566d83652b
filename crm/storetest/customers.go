package storetest

import (
	"errors"
	"reflect"
	"slices"
	"testing"

	"github.com/idicbot/idicbot/crm"
)

var customerTests = []test{
	{name: "CreateAssignsIncreasingIDs", run: testCreateAssignsIDs},
	{name: "CustomerByID", run: testCustomerByID},
	{name: "RoundTripKeepsEveryField", run: testCustomerRoundTrip},
	{name: "FindByUniqueKeys", run: testFindByUniqueKeys},
	{name: "FindByUsername", run: testFindByUsername},
	{name: "FindByClaim", run: testFindByClaim},
	{name: "FindByName", run: testFindByName},
	{name: "PutKeepsIndexesInStep", run: testPutKeepsIndexesInStep},
	{name: "TakenOverKeySurvivesTheLoser", run: testTakenOverKey},
	{name: "DeleteWithMergeRedirects", run: testDeleteWithMerge},
	{name: "DeleteWithoutMerge", run: testDeleteWithoutMerge},
	{name: "MergeRedirectLeadsToACustomer", run: testMergeRedirectLeadsToACustomer},
	{name: "ForEachCustomer", run: testForEachCustomer},
	{name: "SegmentCustomersMostValuableFirst", run: testSegmentCustomers},
}

func testCreateAssignsIDs(t *testing.T, o Opener) {
	s := o.Open(t)
	ids := create(t, s, &crm.Customer{Name: "An"}, &crm.Customer{Name: "Bình"}, &crm.Customer{Name: "Chi"})
	more := create(t, s, &crm.Customer{Name: "Dũng"})
	all := append(ids, more...)
	for i := 1; i < len(all); i++ {
		if all[i] <= all[i-1] {
			t.Fatalf("ids %v do not increase", all)
		}
	}
	view(t, s, func(tx crm.Tx) error {
		n, err := tx.CustomerCount()
		if err != nil {
			return err
		}
		if got, want := n, int64(4); got != want {
			t.Errorf("CustomerCount = %d, want %d", got, want)
		}
		return nil
	})
}

func testCustomerByID(t *testing.T, o Opener) {
	s := o.Open(t)
	ids := create(t, s, &crm.Customer{Name: "Lan"})
	view(t, s, func(tx crm.Tx) error {
		c, err := tx.Customer(ids[0])
		if err != nil {
			t.Fatalf("Customer(%d): %v", ids[0], err)
		}
		if got, want := c.Name, "Lan"; got != want {
			t.Errorf("name = %q, want %q", got, want)
		}
		if got, want := c.ID, ids[0]; got != want {
			t.Errorf("id = %d, want %d", got, want)
		}
		_, err = tx.Customer(ids[0] + 100)
		wantCode(t, "Customer(unknown)", err, crm.ENOTFOUND)
		_, err = tx.Customer(0)
		wantCode(t, "Customer(0)", err, crm.ENOTFOUND)
		return nil
	})
}

func testCustomerRoundTrip(t *testing.T, o Opener) {
	s := o.Open(t)
	var want crm.Customer
	fill(t, &want)
	want.ID = 0
	create(t, s, &want)
	got := customer(t, s, want.ID)
	if !reflect.DeepEqual(got, &want) {
		t.Fatalf("the customer read back differs from the one stored:\n got %s\nwant %s", asJSON(t, got), asJSON(t, &want))
	}
}

func testFindByUniqueKeys(t *testing.T, o Opener) {
	s := o.Open(t)
	lan := &crm.Customer{Name: "Lan", Phone: "+84901234567", Email: "lan@shop.vn", ExternalID: "KH-1",
		Identities: []crm.Identity{{Channel: crm.ChannelTelegram, UserID: "111"}, {Channel: crm.ChannelZalo, UserID: "z-9"}}}
	bare := &crm.Customer{Name: "No contact data"}
	create(t, s, lan, bare)
	view(t, s, func(tx crm.Tx) error {
		tests := []struct {
			name string
			find func() (*crm.Customer, error)
			want crm.ID
		}{
			{"identity", func() (*crm.Customer, error) { return tx.FindCustomerByIdentity(crm.ChannelTelegram, "111") }, lan.ID},
			{"second identity", func() (*crm.Customer, error) { return tx.FindCustomerByIdentity(crm.ChannelZalo, "z-9") }, lan.ID},
			{"user id on another channel", func() (*crm.Customer, error) { return tx.FindCustomerByIdentity(crm.ChannelZalo, "111") }, 0},
			{"unknown identity", func() (*crm.Customer, error) { return tx.FindCustomerByIdentity(crm.ChannelTelegram, "222") }, 0},
			{"empty user id", func() (*crm.Customer, error) { return tx.FindCustomerByIdentity(crm.ChannelTelegram, "") }, 0},
			{"phone", func() (*crm.Customer, error) { return tx.FindCustomerByPhone("+84901234567") }, lan.ID},
			{"unknown phone", func() (*crm.Customer, error) { return tx.FindCustomerByPhone("+84901234568") }, 0},
			{"empty phone", func() (*crm.Customer, error) { return tx.FindCustomerByPhone("") }, 0},
			{"email", func() (*crm.Customer, error) { return tx.FindCustomerByEmail("lan@shop.vn") }, lan.ID},
			{"email in capitals", func() (*crm.Customer, error) { return tx.FindCustomerByEmail("Lan@Shop.VN") }, lan.ID},
			{"unknown email", func() (*crm.Customer, error) { return tx.FindCustomerByEmail("an@shop.vn") }, 0},
			{"empty email", func() (*crm.Customer, error) { return tx.FindCustomerByEmail("") }, 0},
			{"external id", func() (*crm.Customer, error) { return tx.FindCustomerByExternalID("KH-1") }, lan.ID},
			{"unknown external id", func() (*crm.Customer, error) { return tx.FindCustomerByExternalID("KH-2") }, 0},
			{"empty external id", func() (*crm.Customer, error) { return tx.FindCustomerByExternalID("") }, 0},
		}
		for _, tt := range tests {
			c, err := tt.find()
			if err != nil {
				t.Errorf("%s: %v", tt.name, err)
				continue
			}
			if got, want := idOf(c), tt.want; got != want {
				t.Errorf("%s: found customer %d, want %d", tt.name, got, want)
			}
			if c != nil && c.Name != "Lan" {
				t.Errorf("%s: found a record named %q, want the whole record of Lan", tt.name, c.Name)
			}
		}
		return nil
	})
}

func testFindByUsername(t *testing.T, o Opener) {
	s := o.Open(t)
	a := &crm.Customer{Identities: []crm.Identity{{Channel: crm.ChannelTelegram, UserID: "1", Username: "Lan_Shop"}}}
	b := &crm.Customer{Identities: []crm.Identity{{Channel: crm.ChannelTelegram, UserID: "2", Username: "lan_shop"},
		{Channel: crm.ChannelZalo, UserID: "z2", Username: "minh"}}}
	c := &crm.Customer{Identities: []crm.Identity{{Channel: crm.ChannelTelegram, UserID: "3"}}}
	create(t, s, a, b, c)
	view(t, s, func(tx crm.Tx) error {
		tests := []struct {
			ch    crm.Channel
			query string
			want  []crm.ID
		}{
			{crm.ChannelTelegram, "lan_shop", sorted(a.ID, b.ID)},
			{crm.ChannelTelegram, "LAN_SHOP", sorted(a.ID, b.ID)},
			{crm.ChannelTelegram, "@Lan_Shop", sorted(a.ID, b.ID)},
			{crm.ChannelZalo, "Minh", sorted(b.ID)},
			{crm.ChannelTelegram, "minh", sorted()}, // another channel's username
			{crm.ChannelTelegram, "lan", sorted()},  // a prefix is not the username
			{crm.ChannelTelegram, "", sorted()},
			{crm.ChannelTelegram, "@", sorted()},
		}
		for _, tt := range tests {
			found, err := tx.FindCustomersByUsername(tt.ch, tt.query)
			if err != nil {
				t.Errorf("%s %q: %v", tt.ch, tt.query, err)
				continue
			}
			if got := idsOf(found); !slices.Equal(got, tt.want) {
				t.Errorf("FindCustomersByUsername(%s, %q) = %v, want %v", tt.ch, tt.query, got, tt.want)
			}
		}
		return nil
	})
}

func testFindByClaim(t *testing.T, o Opener) {
	s := o.Open(t)
	claimer := &crm.Customer{Name: "typed", Claims: crm.ContactClaims{Phone: "+84911000001", Email: "lan@shop.vn", Channel: crm.ChannelWeb, At: base}}
	other := &crm.Customer{Name: "typed too", Claims: crm.ContactClaims{Phone: "+84911000001"}}
	holder := &crm.Customer{Name: "proven", Phone: "+84911000001", Email: "lan@shop.vn"}
	create(t, s, claimer, other, holder)
	view(t, s, func(tx crm.Tx) error {
		tests := []struct {
			value string
			want  []crm.ID
		}{
			{"+84911000001", sorted(claimer.ID, other.ID)},
			{"lan@shop.vn", sorted(claimer.ID)},
			{"LAN@Shop.vn", sorted(claimer.ID)},
			{"+84911000002", sorted()},
			{"", sorted()},
		}
		for _, tt := range tests {
			found, err := tx.FindCustomersByClaim(tt.value)
			if err != nil {
				t.Errorf("%q: %v", tt.value, err)
				continue
			}
			if got := idsOf(found); !slices.Equal(got, tt.want) {
				t.Errorf("FindCustomersByClaim(%q) = %v, want %v (the proven holder is no claimer)", tt.value, got, tt.want)
			}
		}
		// A claim never identifies: the proven lookups find the holder only.
		if c, err := tx.FindCustomerByPhone("+84911000001"); err != nil || idOf(c) != holder.ID {
			t.Errorf("FindCustomerByPhone of a claimed phone = %d, %v; want the holder %d", idOf(c), err, holder.ID)
		}
		if c, err := tx.FindCustomerByEmail("lan@shop.vn"); err != nil || idOf(c) != holder.ID {
			t.Errorf("FindCustomerByEmail of a claimed email = %d, %v; want the holder %d", idOf(c), err, holder.ID)
		}
		return nil
	})
}

func testFindByName(t *testing.T, o Opener) {
	s := o.Open(t)
	names := []string{"Nguyễn Văn Ánh", "Nguyễn Thị Lan", "Trần Văn An", "Đặng Ngọc Anh", "John Nguyen", "Phạm Minh"}
	cs := make([]*crm.Customer, len(names))
	for i, n := range names {
		cs[i] = &crm.Customer{Name: n}
	}
	create(t, s, append(cs, &crm.Customer{})...) // the last has no name
	id := map[string]crm.ID{}
	for _, c := range cs {
		id[c.Name] = c.ID
	}
	tests := []struct {
		query string
		want  []string
	}{
		{"Nguyễn Văn Ánh", []string{"Nguyễn Văn Ánh"}},
		{"nguyen van anh", []string{"Nguyễn Văn Ánh"}},
		{"NGUYEN", []string{"Nguyễn Văn Ánh", "Nguyễn Thị Lan", "John Nguyen"}},
		{"dang anh", []string{"Đặng Ngọc Anh"}},
		{"anh ngoc", []string{"Đặng Ngọc Anh"}}, // any order
		{"van", []string{"Nguyễn Văn Ánh", "Trần Văn An"}},
		{"nguy", []string{"Nguyễn Văn Ánh", "Nguyễn Thị Lan", "John Nguyen"}}, // a word's beginning
		{"ng an", []string{"Nguyễn Văn Ánh", "Đặng Ngọc Anh"}},                // every word a beginning
		{"v a", []string{"Nguyễn Văn Ánh", "Trần Văn An"}},
		{"john ng", []string{"John Nguyen"}},
		{"minh, phạm!", []string{"Phạm Minh"}},
		{"lan tran", nil}, // every word must match
		{"xyz", nil},
		{"  ", nil},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			var found []*crm.Customer
			view(t, s, func(tx crm.Tx) (err error) {
				found, err = tx.FindCustomersByName(tt.query, 10)
				return err
			})
			want := []crm.ID{}
			for _, n := range tt.want {
				want = append(want, id[n])
			}
			slices.Sort(want)
			if got := idsOf(found); !slices.Equal(got, want) {
				t.Errorf("FindCustomersByName(%q) = %v, want %v", tt.query, got, want)
			}
		})
	}
	t.Run("limit", func(t *testing.T) {
		var found []*crm.Customer
		view(t, s, func(tx crm.Tx) (err error) {
			found, err = tx.FindCustomersByName("nguyen", 2)
			return err
		})
		if got, want := len(found), 2; got != want {
			t.Fatalf("FindCustomersByName(nguyen, 2) returned %d, want %d", got, want)
		}
		for _, c := range found {
			if !slices.Contains([]string{"Nguyễn Văn Ánh", "Nguyễn Thị Lan", "John Nguyen"}, c.Name) {
				t.Errorf("limited search returned %q", c.Name)
			}
		}
	})
	// A customer two of whose words begin with the query word is one
	// match: the limit counts customers, not index entries.
	t.Run("limit counts customers", func(t *testing.T) {
		s := o.Open(t)
		create(t, s, &crm.Customer{Name: "An Anh"}, &crm.Customer{Name: "Anh Thư"}, &crm.Customer{Name: "Bảo An"}, &crm.Customer{Name: "Anna Lê"})
		for _, tt := range []struct {
			query string
			limit int
			want  int
		}{{"an", 3, 3}, {"an", 10, 4}, {"an thu", 10, 1}, {"an le", 10, 1}, {"anh", 10, 2}} {
			var found []*crm.Customer
			view(t, s, func(tx crm.Tx) (err error) {
				found, err = tx.FindCustomersByName(tt.query, tt.limit)
				return err
			})
			ids := idsOf(found)
			if got := len(slices.Compact(ids)); got != tt.want || len(ids) != tt.want {
				t.Errorf("FindCustomersByName(%q, %d) = %v, want %d different customers", tt.query, tt.limit, ids, tt.want)
			}
		}
	})
}

// lookups reports which customer each of the customer's indexed values
// finds, for testPutKeepsIndexesInStep.
type lookups struct {
	identity, phone, email, external crm.ID
	name, username, claim, segment   []crm.ID
}

func lookup(t *testing.T, s crm.Store, identity, phone, email, external, name, username, claim, segment string) lookups {
	t.Helper()
	var l lookups
	view(t, s, func(tx crm.Tx) error {
		one := func(c *crm.Customer, err error) crm.ID {
			if err != nil {
				t.Fatal(err)
			}
			return idOf(c)
		}
		many := func(cs []*crm.Customer, err error) []crm.ID {
			if err != nil {
				t.Fatal(err)
			}
			return idsOf(cs)
		}
		l.identity = one(tx.FindCustomerByIdentity(crm.ChannelTelegram, identity))
		l.phone = one(tx.FindCustomerByPhone(phone))
		l.email = one(tx.FindCustomerByEmail(email))
		l.external = one(tx.FindCustomerByExternalID(external))
		l.name = many(tx.FindCustomersByName(name, 10))
		l.username = many(tx.FindCustomersByUsername(crm.ChannelTelegram, username))
		l.claim = many(tx.FindCustomersByClaim(claim))
		l.segment = []crm.ID{}
		if err := tx.SegmentCustomers(segment, func(id crm.ID) error { l.segment = append(l.segment, id); return nil }); err != nil {
			t.Fatal(err)
		}
		return nil
	})
	return l
}

func testPutKeepsIndexesInStep(t *testing.T, o Opener) {
	s := o.Open(t)
	c := &crm.Customer{Name: "Nguyễn Văn Ánh", Phone: "+84901234567", Email: "anh@example.com", ExternalID: "ext-1",
		Identities: []crm.Identity{{Channel: crm.ChannelTelegram, UserID: "111", Username: "anh_old"}},
		Claims:     crm.ContactClaims{Phone: "+84900000001", Email: "old@claim.vn"},
		Segment:    crm.SegmentAssignment{Name: "new"}}
	create(t, s, c)
	before := lookups{identity: c.ID, phone: c.ID, email: c.ID, external: c.ID,
		name: []crm.ID{c.ID}, username: []crm.ID{c.ID}, claim: []crm.ID{c.ID}, segment: []crm.ID{c.ID}}
	nobody := lookups{name: []crm.ID{}, username: []crm.ID{}, claim: []crm.ID{}, segment: []crm.ID{}}
	if got := lookup(t, s, "111", "+84901234567", "anh@example.com", "ext-1", "anh", "anh_old", "+84900000001", "new"); !reflect.DeepEqual(got, before) {
		t.Fatalf("before the change: %+v, want %+v", got, before)
	}

	change(t, s, c.ID, func(c *crm.Customer) {
		c.Name = "Trần Thị Bích"
		c.Phone = "+84909999999"
		c.Email = "bich@example.com"
		c.ExternalID = "ext-2"
		c.Identities = []crm.Identity{{Channel: crm.ChannelTelegram, UserID: "222", Username: "bich_new"}}
		c.Claims = crm.ContactClaims{Phone: "+84900000002", Email: "new@claim.vn"}
		c.Segment.Name = "loyal"
	})
	if got := lookup(t, s, "111", "+84901234567", "anh@example.com", "ext-1", "anh", "anh_old", "+84900000001", "new"); !reflect.DeepEqual(got, nobody) {
		t.Errorf("the old values still find: %+v", got)
	}
	if got := lookup(t, s, "222", "+84909999999", "bich@example.com", "ext-2", "bich", "bich_new", "+84900000002", "loyal"); !reflect.DeepEqual(got, before) {
		t.Errorf("the new values find %+v, want %+v", got, before)
	}
	if got := lookup(t, s, "", "", "", "", "", "", "new@claim.vn", ""); !slices.Equal(got.claim, []crm.ID{c.ID}) {
		t.Errorf("the new claimed email finds %v, want [%d]", got.claim, c.ID)
	}

	// Clearing the values clears the indexes.
	change(t, s, c.ID, func(c *crm.Customer) {
		c.Name, c.Phone, c.Email, c.ExternalID = "", "", "", ""
		c.Identities, c.Claims, c.Segment = nil, crm.ContactClaims{}, crm.SegmentAssignment{}
	})
	if got := lookup(t, s, "222", "+84909999999", "bich@example.com", "ext-2", "bich", "bich_new", "+84900000002", "loyal"); !reflect.DeepEqual(got, nobody) {
		t.Errorf("cleared values still find: %+v", got)
	}
	view(t, s, func(tx crm.Tx) error {
		for _, seg := range []string{"new", "loyal"} {
			if n, err := tx.SegmentCount(seg); err != nil || n != 0 {
				t.Errorf("SegmentCount(%s) = %d, %v; want 0", seg, n, err)
			}
		}
		if n, err := tx.CustomerCount(); err != nil || n != 1 {
			t.Errorf("CustomerCount = %d, %v; want 1 (a replace is not a new customer)", n, err)
		}
		return nil
	})
}

// An identity or phone saved on a second customer moves to it (the domain
// merges before it saves); deleting the first must not take the second's
// entries with it.
func testTakenOverKey(t *testing.T, o Opener) {
	s := o.Open(t)
	tg := []crm.Identity{{Channel: crm.ChannelTelegram, UserID: "1"}}
	a := &crm.Customer{Name: "A", Phone: "+84900000001", Identities: tg}
	create(t, s, a)
	b := &crm.Customer{Name: "B", Phone: "+84900000001", Identities: tg}
	create(t, s, b)
	update(t, s, func(tx crm.Tx) error { return tx.DeleteCustomer(a.ID, b.ID) })
	view(t, s, func(tx crm.Tx) error {
		byPhone, err := tx.FindCustomerByPhone("+84900000001")
		if err != nil {
			return err
		}
		byIdentity, err := tx.FindCustomerByIdentity(crm.ChannelTelegram, "1")
		if err != nil {
			return err
		}
		if idOf(byPhone) != b.ID || idOf(byIdentity) != b.ID {
			t.Errorf("after A left: phone finds %d, identity finds %d; want B (%d)", idOf(byPhone), idOf(byIdentity), b.ID)
		}
		return nil
	})
}

func testDeleteWithMerge(t *testing.T, o Opener) {
	s := o.Open(t)
	a := &crm.Customer{Name: "Lê Văn An", Phone: "+84911111111", Segment: crm.SegmentAssignment{Name: "new"},
		Identities: []crm.Identity{{Channel: crm.ChannelZalo, UserID: "za", Username: "an_le"}}}
	b := &crm.Customer{Name: "An Le", Segment: crm.SegmentAssignment{Name: "new"}}
	c := &crm.Customer{Name: "An Lê", Segment: crm.SegmentAssignment{Name: "vip"}}
	create(t, s, a, b, c)
	var iid crm.ID
	update(t, s, func(tx crm.Tx) error {
		i := &crm.Interaction{CustomerID: a.ID, Time: base, Direction: crm.Inbound, Kind: crm.KindText, Text: "hi from A"}
		if err := tx.AppendInteraction(i); err != nil {
			return err
		}
		iid = i.ID
		_, err := tx.AddOrder(&crm.Order{CustomerID: a.ID, Ref: "R-1", Amount: 100, Time: base})
		return err
	})
	// A into B, then B into C, as the core merges: history first.
	for _, m := range [][2]crm.ID{{a.ID, b.ID}, {b.ID, c.ID}} {
		update(t, s, func(tx crm.Tx) error {
			if err := tx.MoveInteractions(m[0], m[1]); err != nil {
				return err
			}
			return tx.DeleteCustomer(m[0], m[1])
		})
	}
	view(t, s, func(tx crm.Tx) error {
		for _, id := range []crm.ID{a.ID, b.ID, c.ID} {
			got, err := tx.Customer(id)
			if err != nil || got.ID != c.ID || got.Name != "An Lê" {
				t.Errorf("Customer(%d) = %+v, %v; want customer %d", id, got, err, c.ID)
			}
		}
		if got, _ := tx.FindCustomerByPhone("+84911111111"); got != nil {
			t.Errorf("the merged customer's phone still finds %d", got.ID)
		}
		if got, _ := tx.FindCustomerByIdentity(crm.ChannelZalo, "za"); got != nil {
			t.Errorf("the merged customer's identity still finds %d", got.ID)
		}
		if got, _ := tx.FindCustomersByUsername(crm.ChannelZalo, "an_le"); len(got) != 0 {
			t.Errorf("the merged customer's username still finds %v", idsOf(got))
		}
		if got, _ := tx.FindCustomersByName("an", 10); !slices.Equal(idsOf(got), []crm.ID{c.ID}) {
			t.Errorf("name search = %v, want only %d", idsOf(got), c.ID)
		}
		n, _ := tx.CustomerCount()
		nNew, _ := tx.SegmentCount("new")
		nVip, _ := tx.SegmentCount("vip")
		if n != 1 || nNew != 0 || nVip != 1 {
			t.Errorf("counts: customers %d, new %d, vip %d; want 1, 0, 1", n, nNew, nVip)
		}
		var inNew []crm.ID
		_ = tx.SegmentCustomers("new", func(id crm.ID) error { inNew = append(inNew, id); return nil })
		if len(inNew) != 0 {
			t.Errorf("segment new still lists %v", inNew)
		}
		for _, id := range []crm.ID{a.ID, c.ID} {
			is, err := tx.Interactions(id, 0, 0)
			if err != nil || len(is) != 1 || is[0].CustomerID != c.ID || is[0].Text != "hi from A" {
				t.Errorf("Interactions(%d) after the merges = %+v, %v; want A's message, now C's", id, is, err)
			}
			orders, err := tx.Orders(id)
			if err != nil || len(orders) != 1 || orders[0].CustomerID != c.ID || orders[0].Amount != 100 {
				t.Errorf("Orders(%d) after the merges = %+v, %v; want A's order, now C's", id, orders, err)
			}
		}
		if got, err := tx.Interaction(a.ID, iid); err != nil || got.CustomerID != c.ID {
			t.Errorf("Interaction by the merged id = %+v, %v", got, err)
		}
		return nil
	})

	// Saving a merged-away id would bring the duplicate back and break the
	// redirect: it fails, and the old id still leads to C.
	err := s.Update(t.Context(), func(tx crm.Tx) error { return tx.PutCustomer(&crm.Customer{ID: a.ID, Name: "zombie"}) })
	if err == nil {
		t.Error("PutCustomer of a merged-away id succeeded")
	}
	if got := customer(t, s, a.ID); got.ID != c.ID {
		t.Errorf("after saving a merged-away id, Customer(%d) = %d, want %d", a.ID, got.ID, c.ID)
	}
	// The moved order's ref still dedupes.
	var added bool
	update(t, s, func(tx crm.Tx) (err error) {
		added, err = tx.AddOrder(&crm.Order{CustomerID: c.ID, Ref: "R-1", Amount: 100, Time: base})
		return err
	})
	if added {
		t.Error("order R-1 stored twice after the merge")
	}
}

func testDeleteWithoutMerge(t *testing.T, o Opener) {
	s := o.Open(t)
	gone := &crm.Customer{Name: "Gone Away", Phone: "+84922222222", Email: "gone@x.vn", Segment: crm.SegmentAssignment{Name: "new"},
		Identities: []crm.Identity{{Channel: crm.ChannelTelegram, UserID: "77", Username: "gone"}}}
	stays := &crm.Customer{Name: "Stays", Segment: crm.SegmentAssignment{Name: "new"}}
	create(t, s, gone, stays)
	update(t, s, func(tx crm.Tx) error { return tx.DeleteCustomer(gone.ID, 0) })
	view(t, s, func(tx crm.Tx) error {
		_, err := tx.Customer(gone.ID)
		wantCode(t, "Customer(deleted)", err, crm.ENOTFOUND)
		for name, find := range map[string]func() (*crm.Customer, error){
			"phone":    func() (*crm.Customer, error) { return tx.FindCustomerByPhone("+84922222222") },
			"email":    func() (*crm.Customer, error) { return tx.FindCustomerByEmail("gone@x.vn") },
			"identity": func() (*crm.Customer, error) { return tx.FindCustomerByIdentity(crm.ChannelTelegram, "77") },
		} {
			if c, err := find(); err != nil || c != nil {
				t.Errorf("%s of a deleted customer finds %d, %v", name, idOf(c), err)
			}
		}
		if got, _ := tx.FindCustomersByName("gone", 10); len(got) != 0 {
			t.Errorf("name of a deleted customer finds %v", idsOf(got))
		}
		if got, _ := tx.FindCustomersByUsername(crm.ChannelTelegram, "gone"); len(got) != 0 {
			t.Errorf("username of a deleted customer finds %v", idsOf(got))
		}
		n, _ := tx.CustomerCount()
		nNew, _ := tx.SegmentCount("new")
		if n != 1 || nNew != 1 {
			t.Errorf("counts: customers %d, new %d; want 1, 1", n, nNew)
		}
		return nil
	})
	err := s.Update(t.Context(), func(tx crm.Tx) error { return tx.DeleteCustomer(gone.ID, 0) })
	wantCode(t, "DeleteCustomer(deleted)", err, crm.ENOTFOUND)
	err = s.Update(t.Context(), func(tx crm.Tx) error { return tx.DeleteCustomer(stays.ID, stays.ID) })
	if err == nil {
		t.Error("merging a customer into itself succeeded")
	}
	if got := customer(t, s, stays.ID); got.Name != "Stays" {
		t.Errorf("after a refused self-merge the customer is %+v", got)
	}
}

// A merge redirect must lead to a customer: merging into an unknown id,
// or into a customer that was merged into this one (a cycle), fails and
// changes nothing; merging into a merged-away id leads to where that id
// leads.
func testMergeRedirectLeadsToACustomer(t *testing.T, o Opener) {
	s := o.Open(t)
	a := &crm.Customer{Name: "Alpha", Phone: "+84930000001"}
	b := &crm.Customer{Name: "Beta"}
	c := &crm.Customer{Name: "Gamma"}
	x := &crm.Customer{Name: "Xi"}
	create(t, s, a, b, c, x)
	update(t, s, func(tx crm.Tx) error { return tx.DeleteCustomer(b.ID, c.ID) })
	for _, tt := range []struct {
		name     string
		id, into crm.ID
	}{
		{"into an unknown id", a.ID, x.ID + 100},
		{"into a customer merged into it", c.ID, b.ID},
	} {
		err := s.Update(t.Context(), func(tx crm.Tx) error { return tx.DeleteCustomer(tt.id, tt.into) })
		if err == nil {
			t.Errorf("DeleteCustomer %s succeeded", tt.name)
		}
	}
	view(t, s, func(tx crm.Tx) error {
		for _, want := range []*crm.Customer{a, c} {
			if got, err := tx.Customer(want.ID); err != nil || got.ID != want.ID || got.Name != want.Name {
				t.Errorf("after the refused merges, Customer(%d) = %+v, %v; want %s", want.ID, got, err, want.Name)
			}
		}
		if got, err := tx.Customer(b.ID); err != nil || got.ID != c.ID {
			t.Errorf("Customer(%d) = %+v, %v; want %d (merged before)", b.ID, got, err, c.ID)
		}
		if got, err := tx.FindCustomerByPhone("+84930000001"); err != nil || idOf(got) != a.ID {
			t.Errorf("Alpha's phone finds %d, %v; want %d", idOf(got), err, a.ID)
		}
		if n, err := tx.CustomerCount(); err != nil || n != 3 {
			t.Errorf("CustomerCount = %d, %v; want 3", n, err)
		}
		return nil
	})
	if err := s.Update(t.Context(), func(tx crm.Tx) error { return tx.DeleteCustomer(x.ID, b.ID) }); err == nil {
		if got := customer(t, s, x.ID); got.ID != c.ID {
			t.Errorf("merged into a merged-away id, Customer(%d) = %d, want %d", x.ID, got.ID, c.ID)
		}
	}
}

func testForEachCustomer(t *testing.T, o Opener) {
	s := o.Open(t)
	ids := create(t, s, &crm.Customer{Name: "a"}, &crm.Customer{Name: "b"}, &crm.Customer{Name: "c"}, &crm.Customer{Name: "d"})
	update(t, s, func(tx crm.Tx) error {
		// History must not show up as customers.
		for range 3 {
			if err := tx.AppendInteraction(&crm.Interaction{CustomerID: ids[0], Time: base, Text: "x"}); err != nil {
				return err
			}
		}
		return tx.DeleteCustomer(ids[3], 0)
	})
	var seen []crm.ID
	view(t, s, func(tx crm.Tx) error {
		return tx.ForEachCustomer(func(c *crm.Customer) error {
			seen = append(seen, c.ID)
			return nil
		})
	})
	slices.Sort(seen)
	if want := ids[:3]; !slices.Equal(seen, want) {
		t.Errorf("ForEachCustomer visited %v, want %v once each", seen, want)
	}
	errStop := errors.New("stop")
	calls := 0
	err := s.View(t.Context(), func(tx crm.Tx) error {
		calls = 0
		return tx.ForEachCustomer(func(*crm.Customer) error { calls++; return errStop })
	})
	if !errors.Is(err, errStop) || calls != 1 {
		t.Errorf("ForEachCustomer with fn failing: %v after %d calls, want the error after 1", err, calls)
	}
}

func testSegmentCustomers(t *testing.T, o Opener) {
	s := o.Open(t)
	seg := func(spent int64) *crm.Customer {
		return &crm.Customer{Segment: crm.SegmentAssignment{Name: "loyal"}, Stats: crm.Aggregates{TotalSpent: spent, Orders: 1}}
	}
	cs := []*crm.Customer{seg(100), seg(500), seg(0), seg(500), {Name: "no segment"},
		{Segment: crm.SegmentAssignment{Name: "new"}}, {Segment: crm.SegmentAssignment{Name: "loyalty"}}}
	ids := create(t, s, cs...)
	members := func(segment string) []crm.ID {
		t.Helper()
		out := []crm.ID{}
		view(t, s, func(tx crm.Tx) error {
			out = out[:0]
			return tx.SegmentCustomers(segment, func(id crm.ID) error { out = append(out, id); return nil })
		})
		return out
	}
	counts := func() map[string]int64 {
		t.Helper()
		out := map[string]int64{}
		view(t, s, func(tx crm.Tx) error {
			for _, seg := range []string{"loyal", "new", "loyalty", "vip", ""} {
				n, err := tx.SegmentCount(seg)
				if err != nil {
					return err
				}
				if n != 0 {
					out[seg] = n
				}
			}
			n, err := tx.CustomerCount()
			out["customers"] = n
			return err
		})
		return out
	}
	// Total spent descending, then id ascending.
	if got, want := members("loyal"), []crm.ID{ids[1], ids[3], ids[0], ids[2]}; !slices.Equal(got, want) {
		t.Errorf("loyal = %v, want %v", got, want)
	}
	if got, want := members("new"), []crm.ID{ids[5]}; !slices.Equal(got, want) {
		t.Errorf("new = %v, want %v", got, want)
	}
	if got, want := counts(), map[string]int64{"loyal": 4, "new": 1, "loyalty": 1, "customers": 7}; !reflect.DeepEqual(got, want) {
		t.Errorf("counts = %v, want %v", got, want)
	}

	// An order moves a customer up; a segment change moves one out.
	change(t, s, ids[2], func(c *crm.Customer) { c.Stats.TotalSpent = 1000 })
	change(t, s, ids[1], func(c *crm.Customer) { c.Segment.Name = "vip" })
	if got, want := members("loyal"), []crm.ID{ids[2], ids[3], ids[0]}; !slices.Equal(got, want) {
		t.Errorf("loyal after the changes = %v, want %v", got, want)
	}
	if got, want := members("vip"), []crm.ID{ids[1]}; !slices.Equal(got, want) {
		t.Errorf("vip = %v, want %v", got, want)
	}
	if got, want := counts(), map[string]int64{"loyal": 3, "vip": 1, "new": 1, "loyalty": 1, "customers": 7}; !reflect.DeepEqual(got, want) {
		t.Errorf("counts after the changes = %v, want %v", got, want)
	}

	errStop := errors.New("stop")
	calls := 0
	err := s.View(t.Context(), func(tx crm.Tx) error {
		calls = 0
		return tx.SegmentCustomers("loyal", func(crm.ID) error { calls++; return errStop })
	})
	if !errors.Is(err, errStop) || calls != 1 {
		t.Errorf("SegmentCustomers with fn failing: %v after %d calls, want the error after 1", err, calls)
	}
}

package boltstore

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/idicbot/idicbot/crm"
)

// eraseFixture is a customer with a merged-away duplicate, history, an
// order, an outbox item, offer and segment events and a Slack thread, and
// an unrelated customer that an erase must leave alone.
type eraseFixture struct {
	lan, dup, other crm.ID
	// secrets must not be found in the file's bytes after the erase.
	secrets []string
}

const (
	lanName     = "Trịnh Khánh Quỳnh"
	lanPhone    = "+84987650123"
	lanEmail    = "quynh.trinh@example.vn"
	lanTelegram = "555123777"
	lanSession  = "sess-9f3a7c21"
	lanClaim    = "+84911220033"
	lanText     = "giao giúp mình tới 12 Lý Thường Kiệt nhé"
	lanAddress  = "12 Lý Thường Kiệt, Hoàn Kiếm"
	dupText     = "mình muốn xem iphone màu hồng phấn"
	lanNote     = "giao buổi tối, gọi trước cho chị Quỳnh"
	botText     = "Chào chị Quỳnh, mã quà tặng của chị"
)

func newEraseFixture(t *testing.T, db *DB) eraseFixture {
	t.Helper()
	var f eraseFixture
	f.secrets = []string{lanName, lanPhone, lanEmail, lanTelegram, lanSession, lanClaim, lanText, lanAddress, dupText, lanNote, botText,
		"trinh khanh quynh", "quynhtk"}
	at := testNow.Add(-48 * time.Hour)
	update(t, db, func(tx crm.Tx) error {
		lan := &crm.Customer{Name: lanName, Phone: lanPhone, Email: lanEmail, Address: lanAddress,
			Identities: []crm.Identity{{Channel: crm.ChannelTelegram, UserID: lanTelegram, ChatID: lanTelegram, Username: "quynhtk"}},
			Notes:      []crm.Note{{Time: at, Author: "rep", Text: "khách quen"}},
			Segment:    crm.SegmentAssignment{Name: "loyal", Rule: "orders>=1", Since: at},
			Consent:    crm.Consent{OptedOut: true, Since: at.Add(time.Hour)},
			Handoff:    crm.Handoff{Active: true, RequestedAt: at, Thread: "C1:1700000000.000100"},
			Stats:      crm.Aggregates{MessagesIn: 3, Orders: 1, TotalSpent: 1_500_000},
			CreatedAt:  at}
		if err := tx.PutCustomer(lan); err != nil {
			return err
		}
		dup := &crm.Customer{Email: "quynh.other@example.vn", Identities: []crm.Identity{{Channel: crm.ChannelWeb, UserID: lanSession}}, CreatedAt: at,
			Claims: crm.ContactClaims{Phone: lanClaim, Channel: crm.ChannelWeb, At: at}}
		if err := tx.PutCustomer(dup); err != nil {
			return err
		}
		other := &crm.Customer{Name: "Lê Văn Tám", Phone: "+84912000111", Identities: []crm.Identity{{Channel: crm.ChannelTelegram, UserID: "42"}},
			Segment: crm.SegmentAssignment{Name: "loyal"}}
		if err := tx.PutCustomer(other); err != nil {
			return err
		}
		f.lan, f.dup, f.other = lan.ID, dup.ID, other.ID
		for _, i := range []*crm.Interaction{
			{CustomerID: dup.ID, Time: at, Direction: crm.Inbound, Channel: crm.ChannelWeb, ChatID: lanSession, MessageID: lanSession + ":1", Kind: crm.KindText, Text: dupText},
			{CustomerID: lan.ID, Time: at.Add(time.Minute), Direction: crm.Inbound, Channel: crm.ChannelTelegram, ChatID: lanTelegram, MessageID: "e:" + lanTelegram + ":7:0", Kind: crm.KindText, Text: lanText},
			{CustomerID: lan.ID, Time: at.Add(2 * time.Minute), Direction: crm.Outbound, Channel: crm.ChannelTelegram, ChatID: lanTelegram, Kind: crm.KindText, Text: botText},
			{CustomerID: other.ID, Time: at, Direction: crm.Inbound, Channel: crm.ChannelTelegram, ChatID: "42", MessageID: "9", Kind: crm.KindText, Text: "còn hàng không"},
		} {
			if err := tx.AppendInteraction(i); err != nil {
				return err
			}
			if i.MessageID != "" {
				if err := tx.MarkMessage(i.Channel, i.MessageID, i.ID); err != nil {
					return err
				}
			}
		}
		if err := tx.MarkMessage(crm.ChannelTelegram, "unfollow|"+lanTelegram+"|1700000000", 0); err != nil {
			return err
		}
		if _, err := tx.AddOrder(&crm.Order{CustomerID: lan.ID, Ref: "SO-1001", Amount: 1_500_000, Time: at, Note: lanNote, Source: "import"}); err != nil {
			return err
		}
		if err := tx.EnqueueOutbox(&crm.OutboxItem{CustomerID: lan.ID, Channel: crm.ChannelTelegram, ChatID: lanTelegram, UserID: lanTelegram, Text: botText}); err != nil {
			return err
		}
		if err := tx.AppendEvent(&crm.Event{CustomerID: dup.ID, OfferID: "welcome", Time: at, Kind: crm.EventOfferShown, Channel: crm.ChannelWeb}); err != nil {
			return err
		}
		if err := tx.AppendEvent(&crm.Event{CustomerID: lan.ID, Time: at, Kind: crm.EventSegmentChange, From: "new", To: "loyal", Rule: "orders>=1", Cause: "order"}); err != nil {
			return err
		}
		if err := tx.PutHandoffThread("C1:1700000000.000100", lan.ID); err != nil {
			return err
		}
		// The web chat visitor proved to be Quỳnh: merged.
		lan.MergeFrom(dup)
		if err := tx.DeleteCustomer(dup.ID, lan.ID); err != nil {
			return err
		}
		return tx.PutCustomer(lan)
	})
	return f
}

// fileHolds returns the secrets found in the store file's bytes.
func fileHolds(t *testing.T, db *DB, secrets []string) []string {
	t.Helper()
	data, err := os.ReadFile(db.Path())
	if err != nil {
		t.Fatal(err)
	}
	var found []string
	for _, s := range secrets {
		if bytes.Contains(data, []byte(s)) {
			found = append(found, s)
		}
	}
	return found
}

func erase(t *testing.T, db *DB, id crm.ID) *crm.Erasure {
	t.Helper()
	var e *crm.Erasure
	if err := db.Update(context.Background(), func(tx crm.Tx) (err error) {
		e, err = tx.EraseCustomer(id, "admin:owner", testNow)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	return e
}

func TestCustomerRecords_IncludesMergedCustomer(t *testing.T) {
	db := MustOpen(t)
	f := newEraseFixture(t, db)
	var x *crm.CustomerExport
	view(t, db, func(tx crm.Tx) (err error) {
		x, err = tx.CustomerRecords(f.dup) // the merged-away id resolves
		return err
	})
	if got, want := x.Customer.ID, f.lan; got != want {
		t.Fatalf("customer %d, want %d", got, want)
	}
	if got, want := fmt.Sprint(x.MergedIDs), fmt.Sprint([]crm.ID{f.dup}); got != want {
		t.Fatalf("merged ids %s, want %s", got, want)
	}
	var texts []string
	for _, i := range x.Interactions {
		texts = append(texts, i.Text)
	}
	if got, want := strings.Join(texts, "|"), dupText+"|"+lanText+"|"+botText; got != want {
		t.Fatalf("interactions %q, want %q", got, want)
	}
	if len(x.Orders) != 1 || x.Orders[0].Note != lanNote {
		t.Fatalf("orders %+v", x.Orders)
	}
	if len(x.Events) != 2 || x.Events[0].OfferID != "welcome" || x.Events[1].Kind != crm.EventSegmentChange {
		t.Fatalf("events %+v: want the merged customer's offer shown, then the segment change", x.Events)
	}
	if len(x.Outbox) != 1 || x.Outbox[0].Text != botText {
		t.Fatalf("outbox %+v", x.Outbox)
	}
	if x.Erasure != nil {
		t.Fatalf("erasure %+v before any erase", x.Erasure)
	}
}

// TestEraseCustomer_BytesGoneFromFile is issue 14's proof: after an erase,
// the customer's phone, name, email, channel ids and message texts are no
// longer anywhere in the data file's bytes.
func TestEraseCustomer_BytesGoneFromFile(t *testing.T) {
	db := MustOpen(t)
	f := newEraseFixture(t, db)
	if got := fileHolds(t, db, f.secrets); len(got) != len(f.secrets) {
		t.Fatalf("before the erase the file holds only %q of the secrets: the scan cannot fail", got)
	}
	e := erase(t, db, f.lan)
	if e.CustomerID != f.lan || e.By != "admin:owner" || !e.At.Equal(testNow) {
		t.Fatalf("erasure %+v", e)
	}
	// The commit alone leaves the old pages in the file: the reason for
	// the compaction.
	if got := fileHolds(t, db, []string{lanText}); len(got) == 0 {
		t.Fatalf("the erase commit left no old page behind: this test no longer shows that Compact is needed")
	}
	if err := db.Compact(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := fileHolds(t, db, f.secrets); len(got) > 0 {
		t.Fatalf("the file still holds %q after the erase", got)
	}
	checkErased(t, db, f)

	// The store keeps working on the compacted file, and after a reopen.
	update(t, db, func(tx crm.Tx) error {
		return tx.PutCustomer(&crm.Customer{Name: "Khách mới", Identities: []crm.Identity{{Channel: crm.ChannelTelegram, UserID: lanTelegram}}})
	})
	path := db.Path()
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db = mustOpenPath(t, path)
	view(t, db, func(tx crm.Tx) error {
		c, err := tx.FindCustomerByIdentity(crm.ChannelTelegram, lanTelegram)
		if err != nil {
			return err
		}
		if c == nil || c.ID == f.lan || c.Name != "Khách mới" {
			t.Fatalf("the same Telegram user writing again: %+v, want a new customer", c)
		}
		return nil
	})
}

// checkErased checks what an erase keeps and what it removes, through the
// store's API.
func checkErased(t *testing.T, db *DB, f eraseFixture) {
	t.Helper()
	if problems, err := db.Check(context.Background()); err != nil || len(problems) > 0 {
		t.Fatalf("the store is inconsistent after the erase: %v %q", err, problems)
	}
	view(t, db, func(tx crm.Tx) error {
		for _, c := range []func() (*crm.Customer, error){
			func() (*crm.Customer, error) { return tx.FindCustomerByIdentity(crm.ChannelTelegram, lanTelegram) },
			func() (*crm.Customer, error) { return tx.FindCustomerByIdentity(crm.ChannelWeb, lanSession) },
			func() (*crm.Customer, error) { return tx.FindCustomerByPhone(lanPhone) },
			func() (*crm.Customer, error) { return tx.FindCustomerByEmail(lanEmail) },
		} {
			if got, err := c(); err != nil || got != nil {
				t.Fatalf("lookup after erase: %+v, %v", got, err)
			}
		}
		if got, _ := tx.FindCustomersByName("quynh", 0); len(got) != 0 {
			t.Fatalf("name search after erase: %+v", got)
		}
		c, err := tx.Customer(f.dup)
		if err != nil {
			return err
		}
		if c.ID != f.lan || c.Name != "" || c.Phone != "" || len(c.Identities) != 0 || len(c.Notes) != 0 || c.Handoff.Thread != "" {
			t.Fatalf("erased record %+v", c)
		}
		if c.Segment.Name != "loyal" || c.Stats.TotalSpent != 1_500_000 || c.Stats.Orders != 1 || !c.Consent.OptedOut {
			t.Fatalf("erased record lost what reports need: %+v", c)
		}
		if n, _ := tx.SegmentCount("loyal"); n != 2 {
			t.Fatalf("loyal count %d, want 2", n)
		}
		if n, _ := tx.CustomerCount(); n != 2 {
			t.Fatalf("customer count %d, want 2", n)
		}
		orders, err := tx.Orders(f.lan)
		if err != nil {
			return err
		}
		if len(orders) != 1 || orders[0].Amount != 1_500_000 || orders[0].Note != crm.ErasedText {
			t.Fatalf("orders after erase %+v", orders)
		}
		is, err := tx.Interactions(f.lan, 0, 0)
		if err != nil {
			return err
		}
		for _, i := range is {
			if i.Text != crm.ErasedText || i.ChatID != "" || i.MessageID != "" {
				t.Fatalf("interaction after erase %+v", i)
			}
		}
		if _, seen, _ := tx.SeenMessage(crm.ChannelTelegram, "e:"+lanTelegram+":7:0"); seen {
			t.Fatal("a seen marker of the erased customer is left")
		}
		if _, seen, _ := tx.SeenMessage(crm.ChannelTelegram, "9"); !seen {
			t.Fatal("the other customer's seen marker was removed")
		}
		n := 0
		if err := tx.PendingOutbox(func(*crm.OutboxItem) error { n++; return nil }); err != nil {
			return err
		}
		if n != 0 {
			t.Fatalf("%d outbox items still pending for the erased customer", n)
		}
		if v, _ := tx.HandoffThread("C1:1700000000.000100"); v != 0 {
			t.Fatal("the Slack thread lookup was kept")
		}
		o, err := tx.Customer(f.other)
		if err != nil {
			return err
		}
		if o.Name != "Lê Văn Tám" {
			t.Fatalf("the other customer changed: %+v", o)
		}
		x, err := tx.CustomerRecords(f.lan)
		if err != nil {
			return err
		}
		if x.Erasure == nil || x.Erasure.By != "admin:owner" || !x.Erasure.Consent.OptedOut || x.Erasure.Consent.Channel != crm.ChannelTelegram {
			t.Fatalf("erasure record %+v", x.Erasure)
		}
		return nil
	})
}

func TestEraseCustomer_TwiceAndUnknown(t *testing.T) {
	db := MustOpen(t)
	f := newEraseFixture(t, db)
	erase(t, db, f.lan)
	for _, c := range []struct {
		id   crm.ID
		code string
	}{{f.lan, crm.ECONFLICT}, {f.dup, crm.ECONFLICT}, {999, crm.ENOTFOUND}} {
		err := db.Update(context.Background(), func(tx crm.Tx) error {
			_, err := tx.EraseCustomer(c.id, "admin", testNow)
			return err
		})
		if got := crm.ErrorCode(err); got != c.code {
			t.Fatalf("erase %d: %v (code %q), want %q", c.id, err, got, c.code)
		}
	}
}

// TestOpen_FinishesAnInterruptedErase: a crash after the erase committed but
// before the compaction finished (its new file half written) leaves the old
// file; the next Open compacts it.
func TestOpen_FinishesAnInterruptedErase(t *testing.T) {
	db := MustOpen(t)
	f := newEraseFixture(t, db)
	erase(t, db, f.lan) // no Compact: as if the process died here
	if pending, err := db.CompactPending(); err != nil || !pending {
		t.Fatalf("compaction pending after an erase: %v, %v", pending, err)
	}
	path := db.Path()
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path+compactSuffix, []byte("half a copy"), 0o600); err != nil {
		t.Fatal(err)
	}
	db = mustOpenPath(t, path)
	if got := fileHolds(t, db, f.secrets); len(got) > 0 {
		t.Fatalf("after reopen the file still holds %q", got)
	}
	if _, err := os.Stat(path + compactSuffix); !os.IsNotExist(err) {
		t.Fatalf("the interrupted compaction's file is left: %v", err)
	}
	if pending, err := db.CompactPending(); err != nil || pending {
		t.Fatalf("compaction pending after the reopen: %v, %v", pending, err)
	}
	checkErased(t, db, f)
}

// TestCompact_WhileInUse compacts while writers and readers run: every
// committed write is in the new file and nobody sees a closed database.
func TestCompact_WhileInUse(t *testing.T) {
	db := MustOpen(t)
	ctx := context.Background()
	const writers, each = 4, 50
	var wg sync.WaitGroup
	errs := make(chan error, writers*2+1)
	for w := range writers {
		wg.Add(2)
		go func() {
			defer wg.Done()
			for i := range each {
				err := db.Update(ctx, func(tx crm.Tx) error {
					return tx.PutCustomer(&crm.Customer{Phone: fmt.Sprintf("+8490%d%05d", w, i)})
				})
				if err != nil {
					errs <- err
					return
				}
			}
		}()
		go func() {
			defer wg.Done()
			for range each {
				if err := db.View(ctx, func(tx crm.Tx) error { _, err := tx.CustomerCount(); return err }); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	for range 10 {
		if err := db.Compact(ctx); err != nil {
			errs <- err
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	view(t, db, func(tx crm.Tx) error {
		if n, _ := tx.CustomerCount(); n != writers*each {
			t.Fatalf("%d customers, want %d", n, writers*each)
		}
		for w := range writers {
			if c, _ := tx.FindCustomerByPhone(fmt.Sprintf("+8490%d%05d", w, each-1)); c == nil {
				t.Fatalf("writer %d's last customer is missing", w)
			}
		}
		return nil
	})
}

// erasableKept are the string fields of crm.Customer an erase keeps: not
// personal data, needed by the reports. Every other string, including fields
// added later, must be empty after an erase.
var erasableKept = map[string]bool{
	"Segment.Name": true,
	"Segment.Rule": true,
	// Consent is kept with its time and channel: proof of consent outlives
	// the data.
	"Consent.Channel": true,
}

// TestEraseCustomer_ClearsEveryPersonalField fills every field of
// crm.Customer by reflection, erases, and checks that no string is left but
// the allowed ones.
func TestEraseCustomer_ClearsEveryPersonalField(t *testing.T) {
	db := MustOpen(t)
	c := &crm.Customer{}
	fillValue(reflect.ValueOf(c).Elem(), "")
	c.ID = 0
	update(t, db, func(tx crm.Tx) error { return tx.PutCustomer(c) })
	var stored *crm.Customer
	view(t, db, func(tx crm.Tx) (err error) { stored, err = tx.Customer(c.ID); return err })
	if left := personalStrings(reflect.ValueOf(stored).Elem(), ""); len(left) < 5 {
		t.Fatalf("the stored customer holds only %q: the fill did not reach the store", left)
	}
	erase(t, db, c.ID)
	var got *crm.Customer
	view(t, db, func(tx crm.Tx) (err error) { got, err = tx.Customer(c.ID); return err })
	if left := personalStrings(reflect.ValueOf(got).Elem(), ""); len(left) > 0 {
		t.Fatalf("erase left %q", left)
	}
	if got.Consent != stored.Consent || got.Segment != stored.Segment {
		t.Fatalf("erase changed the consent %+v or the segment %+v, which it keeps", got.Consent, got.Segment)
	}
}

// fillValue sets every string under v to "personal:<path>" and gives every
// other field a non-zero value, slices and maps one element.
func fillValue(v reflect.Value, path string) {
	switch v.Kind() {
	case reflect.String:
		v.SetString("personal:" + path)
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Int, reflect.Int64, reflect.Int32:
		v.SetInt(7)
	case reflect.Uint, reflect.Uint64, reflect.Uint32:
		v.SetUint(7)
	case reflect.Float64:
		v.SetFloat(7)
	case reflect.Pointer:
		v.Set(reflect.New(v.Type().Elem()))
		fillValue(v.Elem(), path)
	case reflect.Slice:
		s := reflect.MakeSlice(v.Type(), 1, 1)
		fillValue(s.Index(0), path)
		v.Set(s)
	case reflect.Map:
		m := reflect.MakeMap(v.Type())
		k := reflect.New(v.Type().Key()).Elem()
		fillValue(k, path+"[key]")
		e := reflect.New(v.Type().Elem()).Elem()
		fillValue(e, path)
		m.SetMapIndex(k, e)
		v.Set(m)
	case reflect.Struct:
		if v.Type() == reflect.TypeOf(time.Time{}) {
			v.Set(reflect.ValueOf(testNow))
			return
		}
		for i := range v.NumField() {
			if f := v.Type().Field(i); f.IsExported() {
				fillValue(v.Field(i), strings.TrimPrefix(path+"."+f.Name, "."))
			}
		}
	}
}

// personalStrings returns the paths of the non-empty strings under v that
// erasableKept does not allow (map keys of the offer statistics and daily
// counts are offer ids and dates).
func personalStrings(v reflect.Value, path string) []string {
	var out []string
	switch v.Kind() {
	case reflect.String:
		if v.String() != "" && !erasableKept[path] {
			out = append(out, path+"="+v.String())
		}
	case reflect.Pointer:
		if !v.IsNil() {
			out = append(out, personalStrings(v.Elem(), path)...)
		}
	case reflect.Slice:
		for i := range v.Len() {
			out = append(out, personalStrings(v.Index(i), path)...)
		}
	case reflect.Map:
		for _, k := range v.MapKeys() {
			out = append(out, personalStrings(v.MapIndex(k), path)...)
		}
	case reflect.Struct:
		for i := range v.NumField() {
			if f := v.Type().Field(i); f.IsExported() {
				out = append(out, personalStrings(v.Field(i), strings.TrimPrefix(path+"."+f.Name, "."))...)
			}
		}
	}
	return out
}

// TestCompact_LongReaderDoesNotStallWriters: a read transaction that lasts
// (a backup being downloaded) keeps reading the old file; Compact swaps the
// files without waiting for it, so writers go on, and returns once it ends.
func TestCompact_LongReaderDoesNotStallWriters(t *testing.T) {
	db := MustOpen(t)
	ctx := context.Background()
	update(t, db, func(tx crm.Tx) error { return tx.PutCustomer(&crm.Customer{Name: "Một"}) })
	started, release := make(chan struct{}), make(chan struct{})
	readErr := make(chan error, 1)
	go func() {
		readErr <- db.View(ctx, func(tx crm.Tx) error {
			close(started)
			<-release
			n, err := tx.CustomerCount()
			if err == nil && n != 1 {
				err = fmt.Errorf("the long reader sees %d customers, want the 1 of its snapshot", n)
			}
			return err
		})
	}()
	<-started
	before, err := os.Stat(db.Path())
	if err != nil {
		t.Fatal(err)
	}
	compacted := make(chan error, 1)
	go func() { compacted <- db.Compact(ctx) }()
	// Wait for the swap: the path names the new file.
	for {
		if now, err := os.Stat(db.Path()); err == nil && !os.SameFile(before, now) {
			break
		}
		select {
		case err := <-compacted:
			t.Fatalf("Compact returned (%v) before the old file's reader was done", err)
		case <-time.After(time.Millisecond):
		}
	}
	// A writer commits while the long reader still holds the old file.
	if err := db.Update(ctx, func(tx crm.Tx) error { return tx.PutCustomer(&crm.Customer{Name: "Hai"}) }); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-compacted:
		t.Fatalf("Compact returned (%v) before the old file's last reader was done", err)
	default:
	}
	close(release)
	if err := <-readErr; err != nil {
		t.Fatal(err)
	}
	if err := <-compacted; err != nil {
		t.Fatal(err)
	}
	view(t, db, func(tx crm.Tx) error {
		if n, _ := tx.CustomerCount(); n != 2 {
			t.Fatalf("%d customers after the compaction, want 2", n)
		}
		return nil
	})
}

// TestOpen_CompactionFailsStoreStillOpens: when the pending compaction
// cannot run at Open (here its new file's name is taken by a directory; in
// life a full disk), the store still opens, and says the compaction is
// still pending.
func TestOpen_CompactionFailsStoreStillOpens(t *testing.T) {
	db := MustOpen(t)
	f := newEraseFixture(t, db)
	erase(t, db, f.lan)
	path := db.Path()
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(path+compactSuffix, "taken"), 0o700); err != nil {
		t.Fatal(err)
	}
	db = mustOpenPath(t, path)
	if pending, err := db.CompactPending(); err != nil || !pending {
		t.Fatalf("compaction pending: %v, %v; want true", pending, err)
	}
	checkErased(t, db, f)
}

// BenchmarkCompact measures the pause writers see during an erase's
// compaction: one Compact of a store of 20,000 customers with 10 messages
// each (about the file of a small shop's first year).
func BenchmarkCompact(b *testing.B) {
	db := MustOpen(b)
	for lo := 0; lo < 20_000; lo += 2_000 {
		update(b, db, func(tx crm.Tx) error {
			for i := lo; i < lo+2_000; i++ {
				c := &crm.Customer{Name: fmt.Sprintf("Khách %d", i), Phone: fmt.Sprintf("+8490%07d", i),
					Identities: []crm.Identity{{Channel: crm.ChannelTelegram, UserID: fmt.Sprint(1_000_000 + i)}}}
				if err := tx.PutCustomer(c); err != nil {
					return err
				}
				for j := range 10 {
					if err := tx.AppendInteraction(&crm.Interaction{CustomerID: c.ID, Direction: crm.Inbound, Channel: crm.ChannelTelegram,
						Kind: crm.KindText, Text: fmt.Sprintf("tin nhắn số %d của khách %d, hỏi giá iphone 15 pro max", j, i)}); err != nil {
						return err
					}
				}
			}
			return nil
		})
	}
	var before int64
	if fi, err := os.Stat(db.Path()); err == nil {
		before = fi.Size()
	}
	b.ResetTimer()
	for b.Loop() {
		if err := db.Compact(context.Background()); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(before)/(1<<20), "MB-before")
	if fi, err := os.Stat(db.Path()); err == nil {
		b.ReportMetric(float64(fi.Size())/(1<<20), "MB-after")
	}
}

package boltstore

import (
	"bytes"
	"encoding/binary"
	"math"
	"slices"
	"strings"
	"time"

	"go.etcd.io/bbolt"

	"github.com/idicbot/idicbot/crm"
)

// Tx is one store transaction. A Tx is built afresh for every run of an
// Update function (bbolt may run a batched function again) and holds no
// state of its own besides the bbolt transaction.
//
// Methods that assign ids (PutCustomer with ID 0, AppendInteraction, AddOrder,
// EnqueueOutbox…) write the id into the caller's struct. If the transaction
// is then rolled back and fn run again, fn must build those structs again
// inside fn: an id kept from a rolled-back run may since belong to another
// record.
type Tx struct {
	tx  *bbolt.Tx
	now func() time.Time
	// stored remembers, in write transactions, what the indexes hold for each
	// customer read, so PutCustomer need not decode the old record again.
	stored map[crm.ID]indexed
}

var _ crm.Tx = (*Tx)(nil)

const (
	// maxRedirects bounds a chain of merges followed by Customer.
	maxRedirects = 64
	// defaultNameLimit applies when FindCustomersByName gets limit <= 0.
	defaultNameLimit = 50
	// rarityProbe is how many index entries are counted per query word to
	// pick the rarest one to scan.
	rarityProbe = 2000
	// maxNameScan caps the index entries one name search reads, so a query
	// made only of very common words stays fast (it may then miss matches).
	maxNameScan = 100_000

	counterCustomers     = "customers"
	counterSegmentPrefix = "segment:"
)

func (t *Tx) bucket(name []byte) *bbolt.Bucket { return t.tx.Bucket(name) }

// scan calls fn for every key with prefix, from start (prefix if nil).
func (t *Tx) scan(b *bbolt.Bucket, prefix, start []byte, fn func(k, v []byte) error) error {
	return scan(b, prefix, start, false, fn)
}

// scanUser is scan for loops that call the caller's function: in a write
// transaction it repositions the cursor after each call, so that function
// may write to the bucket being scanned (k and v are then valid only until
// it writes).
func (t *Tx) scanUser(b *bbolt.Bucket, prefix, start []byte, fn func(k, v []byte) error) error {
	return scan(b, prefix, start, t.tx.Writable(), fn)
}

func scan(b *bbolt.Bucket, prefix, start []byte, writable bool, fn func(k, v []byte) error) error {
	if start == nil {
		start = prefix
	}
	c := b.Cursor()
	k, v := c.Seek(start)
	for k != nil && bytes.HasPrefix(k, prefix) {
		var last []byte
		if writable {
			last = bytes.Clone(k)
		}
		if err := fn(k, v); err != nil {
			return err
		}
		if writable {
			if k, v = c.Seek(last); k != nil && bytes.Equal(k, last) {
				k, v = c.Next()
			}
		} else {
			k, v = c.Next()
		}
	}
	return nil
}

// nextID returns id, or the bucket's next sequence when id is 0. An explicit
// id above the sequence moves the sequence past it, so it is never reissued.
func nextID(b *bbolt.Bucket, id crm.ID) (crm.ID, error) {
	if id == 0 {
		seq, err := b.NextSequence()
		return crm.ID(seq), err
	}
	if uint64(id) > b.Sequence() {
		if err := b.SetSequence(uint64(id)); err != nil {
			return 0, err
		}
	}
	return id, nil
}

// SeenMessage implements crm.Tx.
func (t *Tx) SeenMessage(ch crm.Channel, msgID string) (crm.ID, bool, error) {
	v := t.bucket(bktSeen).Get(seenKey(ch, msgID))
	if v == nil {
		return 0, false, nil
	}
	return readID(v), true, nil
}

// MarkMessage implements crm.Tx.
func (t *Tx) MarkMessage(ch crm.Channel, msgID string, interaction crm.ID) error {
	return t.bucket(bktSeen).Put(seenKey(ch, msgID), idKey(interaction))
}

func seenKey(ch crm.Channel, msgID string) []byte {
	k := make([]byte, 0, len(ch)+1+len(msgID))
	k = append(k, ch...)
	k = append(k, 0)
	return append(k, msgID...)
}

// getCustomer returns the stored customer id, or nil without redirects.
func (t *Tx) getCustomer(id crm.ID) (*crm.Customer, error) {
	k := idKey(id)
	v := t.bucket(bktCustomers).Get(k)
	if v == nil {
		return nil, nil
	}
	c := new(crm.Customer)
	if err := decode(bktCustomers, k, v, c); err != nil {
		return nil, err
	}
	if t.tx.Writable() {
		if t.stored == nil {
			t.stored = map[crm.ID]indexed{}
		}
		t.stored[id] = indexedOf(c)
	}
	return c, nil
}

// storedIndexed returns what the indexes hold for customer id.
func (t *Tx) storedIndexed(id crm.ID) (indexed, error) {
	if x, ok := t.stored[id]; ok {
		return x, nil
	}
	c, err := t.getCustomer(id)
	if err != nil {
		return indexed{}, err
	}
	return indexedOf(c), nil
}

// resolve follows merge redirects from id to the id it ended up as.
func (t *Tx) resolve(id crm.ID) crm.ID {
	r := t.bucket(bktRedirects)
	for range maxRedirects {
		next := readID(r.Get(idKey(id)))
		if next == 0 {
			return id
		}
		id = next
	}
	return id
}

// Customer implements crm.Tx: it follows merge redirects, chains included.
func (t *Tx) Customer(id crm.ID) (*crm.Customer, error) {
	c, err := t.getCustomer(t.resolve(id))
	if err != nil {
		return nil, err
	} else if c == nil {
		return nil, crm.Errorf(crm.ENOTFOUND, "Customer %d not found.", id)
	}
	return c, nil
}

func (t *Tx) findBy(bucket []byte, key string) (*crm.Customer, error) {
	if key == "" {
		return nil, nil
	}
	id := readID(t.bucket(bucket).Get([]byte(key)))
	if id == 0 {
		return nil, nil
	}
	return t.getCustomer(id)
}

// FindCustomerByIdentity implements crm.Tx.
func (t *Tx) FindCustomerByIdentity(ch crm.Channel, userID string) (*crm.Customer, error) {
	if userID == "" {
		return nil, nil
	}
	return t.findBy(bktIdxIdentity, crm.IdentityKey(ch, userID))
}

// FindCustomerByPhone implements crm.Tx. The phone must be E.164 already.
func (t *Tx) FindCustomerByPhone(e164 string) (*crm.Customer, error) {
	return t.findBy(bktIdxPhone, strings.TrimSpace(e164))
}

// FindCustomerByEmail implements crm.Tx; emails compare case-insensitively.
func (t *Tx) FindCustomerByEmail(email string) (*crm.Customer, error) {
	return t.findBy(bktIdxEmail, normEmail(email))
}

// FindCustomerByExternalID implements crm.Tx.
func (t *Tx) FindCustomerByExternalID(ext string) (*crm.Customer, error) {
	return t.findBy(bktIdxExternal, strings.TrimSpace(ext))
}

func normEmail(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

// nameWords returns the distinct folded words of a name joined by spaces:
// the value of its idx_name entries.
func nameWords(name string) []string {
	var out []string
	for _, w := range crm.Words(crm.Fold(name)) {
		if !slices.Contains(out, w) {
			out = append(out, w)
		}
	}
	return out
}

// FindCustomersByName implements crm.Tx. Each query word must be a prefix of
// a word of the folded name, so "nguyen van a" finds "Nguyễn Văn Ánh". The
// index is scanned for the query word with the fewest entries and the other
// words are checked against the folded name kept in the index value, so no
// record is decoded until it matches. limit <= 0 means 50. A query of only
// very common words reads at most maxNameScan entries and may miss matches.
func (t *Tx) FindCustomersByName(query string, limit int) ([]*crm.Customer, error) {
	words := nameWords(query)
	if len(words) == 0 {
		return nil, nil
	}
	if limit <= 0 {
		limit = defaultNameLimit
	}
	idx := t.bucket(bktIdxName)
	best := words[0]
	if len(words) > 1 {
		bestN := -1
		for _, w := range words {
			n := countPrefix(idx, []byte(w), rarityProbe)
			if bestN < 0 || n < bestN || (n == bestN && len(w) > len(best)) {
				best, bestN = w, n
			}
		}
	}
	var ids []crm.ID
	seen := map[crm.ID]bool{}
	p := []byte(best)
	c := idx.Cursor()
	scanned := 0
	for k, v := c.Seek(p); k != nil && bytes.HasPrefix(k, p) && scanned < maxNameScan; k, v = c.Next() {
		scanned++
		if len(k) < 9 {
			continue
		}
		id := readID(k[len(k)-8:])
		if seen[id] || !nameMatches(v, words) {
			continue
		}
		seen[id] = true
		ids = append(ids, id)
		if len(ids) >= limit {
			break
		}
	}
	out := make([]*crm.Customer, 0, len(ids))
	for _, id := range ids {
		cu, err := t.getCustomer(id)
		if err != nil {
			return nil, err
		} else if cu != nil {
			out = append(out, cu)
		}
	}
	return out, nil
}

func countPrefix(b *bbolt.Bucket, p []byte, max int) int {
	n := 0
	c := b.Cursor()
	for k, _ := c.Seek(p); k != nil && bytes.HasPrefix(k, p) && n < max; k, _ = c.Next() {
		n++
	}
	return n
}

// nameMatches reports whether every query word prefixes a word of the
// space-separated folded name.
func nameMatches(name []byte, words []string) bool {
	for _, q := range words {
		found := false
		for rest := name; len(rest) > 0 && !found; {
			w := rest
			if i := bytes.IndexByte(rest, ' '); i >= 0 {
				w, rest = rest[:i], rest[i+1:]
			} else {
				rest = nil
			}
			found = len(w) >= len(q) && string(w[:len(q)]) == q
		}
		if !found {
			return false
		}
	}
	return true
}

// PutCustomer implements crm.Tx. ID 0 assigns an id (set on c). The previous
// version is diffed against c to keep every index and count in step.
//
// An identity, phone, email or external id already indexed to ANOTHER
// customer is taken over by c (last write wins): the domain merges the two
// customers before it saves, and the loser's entry is not left dangling
// because DeleteCustomer only removes entries that still point at it.
// Saving an id that was merged away (has a redirect) is a conflict: it would
// bring the duplicate back.
func (t *Tx) PutCustomer(c *crm.Customer) error {
	if c == nil {
		return crm.Errorf(crm.EINVALID, "No customer.")
	}
	cb := t.bucket(bktCustomers)
	if c.ID != 0 {
		if to := readID(t.bucket(bktRedirects).Get(idKey(c.ID))); to != 0 {
			return crm.Errorf(crm.ECONFLICT, "Customer %d was merged into %d.", c.ID, to)
		}
	}
	id, err := nextID(cb, c.ID)
	if err != nil {
		return err
	}
	c.ID = id
	old, err := t.storedIndexed(id)
	if err != nil {
		return err
	}
	data, err := encode(c)
	if err != nil {
		return err
	}
	if err := cb.Put(idKey(id), data); err != nil {
		return err
	}
	cur := indexedOf(c)
	if t.stored == nil {
		t.stored = map[crm.ID]indexed{}
	}
	t.stored[id] = cur
	return t.reindex(id, old, cur)
}

// indexed is the part of a customer the indexes see; the zero value is "no
// customer".
type indexed struct {
	exists     bool
	identities []string
	phone      string
	email      string
	external   string
	words      []string
	segment    string
}

func indexedOf(c *crm.Customer) indexed {
	if c == nil {
		return indexed{}
	}
	x := indexed{
		exists:   true,
		phone:    strings.TrimSpace(c.Phone),
		email:    normEmail(c.Email),
		external: strings.TrimSpace(c.ExternalID),
		words:    nameWords(c.Name),
		segment:  c.Segment.Name,
	}
	for _, idn := range c.Identities {
		if idn.UserID != "" {
			x.identities = append(x.identities, idn.Key())
		}
	}
	return x
}

// reindex moves every index entry and counter of customer id from its old
// version to its new one (either may be nil).
func (t *Tx) reindex(id crm.ID, old, cur indexed) error {
	idv := idKey(id)

	idn := t.bucket(bktIdxIdentity)
	for _, k := range old.identities {
		if !slices.Contains(cur.identities, k) {
			if err := deleteIfOwner(idn, k, id); err != nil {
				return err
			}
		}
	}
	for _, k := range cur.identities {
		if err := putOwner(idn, k, idv); err != nil {
			return err
		}
	}
	for _, f := range []struct {
		bucket   []byte
		old, cur string
	}{
		{bktIdxPhone, old.phone, cur.phone},
		{bktIdxEmail, old.email, cur.email},
		{bktIdxExternal, old.external, cur.external},
	} {
		b := t.bucket(f.bucket)
		if f.old != "" && f.old != f.cur {
			if err := deleteIfOwner(b, f.old, id); err != nil {
				return err
			}
		}
		if f.cur != "" {
			if err := putOwner(b, f.cur, idv); err != nil {
				return err
			}
		}
	}

	names := t.bucket(bktIdxName)
	for _, w := range old.words {
		if !slices.Contains(cur.words, w) {
			if err := names.Delete(strIDKey(w, uint64(id))); err != nil {
				return err
			}
		}
	}
	joined := []byte(strings.Join(cur.words, " "))
	for _, w := range cur.words {
		k := strIDKey(w, uint64(id))
		if v := names.Get(k); v == nil || !bytes.Equal(v, joined) {
			if err := names.Put(k, joined); err != nil {
				return err
			}
		}
	}

	segs := t.bucket(bktIdxSegment)
	if old.exists && old.segment != "" && (!cur.exists || old.segment != cur.segment) {
		if err := segs.Delete(strIDKey(old.segment, uint64(id))); err != nil {
			return err
		}
		if err := t.AddCounter(counterSegmentPrefix+old.segment, -1); err != nil {
			return err
		}
	}
	if cur.exists && cur.segment != "" {
		k := strIDKey(cur.segment, uint64(id))
		if !old.exists || old.segment != cur.segment {
			if err := t.AddCounter(counterSegmentPrefix+cur.segment, 1); err != nil {
				return err
			}
		}
		if segs.Get(k) == nil {
			if err := segs.Put(k, nil); err != nil {
				return err
			}
		}
	}

	switch {
	case !old.exists && cur.exists:
		return t.AddCounter(counterCustomers, 1)
	case old.exists && !cur.exists:
		return t.AddCounter(counterCustomers, -1)
	}
	return nil
}

func putOwner(b *bbolt.Bucket, key string, idv []byte) error {
	if v := b.Get([]byte(key)); bytes.Equal(v, idv) {
		return nil
	}
	return b.Put([]byte(key), idv)
}

func deleteIfOwner(b *bbolt.Bucket, key string, id crm.ID) error {
	if readID(b.Get([]byte(key))) != id {
		return nil
	}
	return b.Delete([]byte(key))
}

// DeleteCustomer implements crm.Tx. It removes the record, every index entry
// still pointing at it and its counts. With mergedInto != 0 it leaves a
// redirect and moves the customer's orders and interactions to mergedInto
// (MoveInteractions afterwards is then a no-op); mergedInto 0 deletes
// without redirect and leaves history in place.
func (t *Tx) DeleteCustomer(id crm.ID, mergedInto crm.ID) error {
	if id == mergedInto {
		return crm.Errorf(crm.EINVALID, "Cannot merge customer %d into itself.", id)
	}
	old, err := t.getCustomer(id)
	if err != nil {
		return err
	} else if old == nil {
		return crm.Errorf(crm.ENOTFOUND, "Customer %d not found.", id)
	}
	if err := t.reindex(id, indexedOf(old), indexed{}); err != nil {
		return err
	}
	delete(t.stored, id)
	if err := t.bucket(bktCustomers).Delete(idKey(id)); err != nil {
		return err
	}
	if mergedInto == 0 {
		return nil
	}
	if err := t.bucket(bktRedirects).Put(idKey(id), idKey(mergedInto)); err != nil {
		return err
	}
	if err := t.moveOrders(id, mergedInto); err != nil {
		return err
	}
	return t.MoveInteractions(id, mergedInto)
}

// ForEachCustomer implements crm.Tx, in id order. In an Update, fn may save
// customers.
func (t *Tx) ForEachCustomer(fn func(*crm.Customer) error) error {
	return t.scanUser(t.bucket(bktCustomers), nil, nil, func(k, v []byte) error {
		c := new(crm.Customer)
		if err := decode(bktCustomers, k, v, c); err != nil {
			return err
		}
		return fn(c)
	})
}

// SegmentCustomers implements crm.Tx, in id order. Customers without a
// segment are in no segment. In an Update, fn may save customers.
func (t *Tx) SegmentCustomers(segment string, fn func(crm.ID) error) error {
	p := strPrefix(segment)
	return t.scanUser(t.bucket(bktIdxSegment), p, nil, func(k, _ []byte) error {
		return fn(readID(k[len(p):]))
	})
}

// SegmentCount implements crm.Tx in O(1).
func (t *Tx) SegmentCount(segment string) (int64, error) {
	return t.Counter(counterSegmentPrefix + segment)
}

// CustomerCount implements crm.Tx in O(1).
func (t *Tx) CustomerCount() (int64, error) {
	return t.Counter(counterCustomers)
}

// AppendInteraction implements crm.Tx. Ids come from one sequence for all
// customers, so they increase with time; a zero Time is set to now.
func (t *Tx) AppendInteraction(i *crm.Interaction) error {
	if i == nil || i.CustomerID == 0 {
		return crm.Errorf(crm.EINVALID, "Interaction without customer.")
	}
	b := t.bucket(bktInteractions)
	id, err := nextID(b, i.ID)
	if err != nil {
		return err
	}
	i.ID = id
	if i.Time.IsZero() {
		i.Time = t.now()
	}
	return putJSON(b, pairKey(i.CustomerID, i.ID), i)
}

// PutInteraction implements crm.Tx. An interaction of a customer merged away
// is found under (and moved to) the customer it was merged into.
func (t *Tx) PutInteraction(i *crm.Interaction) error {
	if i == nil || i.ID == 0 {
		return crm.Errorf(crm.EINVALID, "Interaction without id.")
	}
	b := t.bucket(bktInteractions)
	if b.Get(pairKey(i.CustomerID, i.ID)) == nil {
		to := t.resolve(i.CustomerID)
		if to == i.CustomerID || b.Get(pairKey(to, i.ID)) == nil {
			return crm.Errorf(crm.ENOTFOUND, "Interaction %d not found.", i.ID)
		}
		i.CustomerID = to
	}
	return putJSON(b, pairKey(i.CustomerID, i.ID), i)
}

// Interaction implements crm.Tx, following merge redirects.
func (t *Tx) Interaction(customer, id crm.ID) (*crm.Interaction, error) {
	b := t.bucket(bktInteractions)
	k := pairKey(customer, id)
	v := b.Get(k)
	if v == nil {
		if to := t.resolve(customer); to != customer {
			k = pairKey(to, id)
			v = b.Get(k)
		}
	}
	if v == nil {
		return nil, crm.Errorf(crm.ENOTFOUND, "Interaction %d not found.", id)
	}
	i := new(crm.Interaction)
	if err := decode(bktInteractions, k, v, i); err != nil {
		return nil, err
	}
	return i, nil
}

// Interactions implements crm.Tx, following merge redirects.
func (t *Tx) Interactions(customer crm.ID, after crm.ID, limit int) ([]*crm.Interaction, error) {
	if after == math.MaxUint64 {
		return nil, nil
	}
	customer = t.resolve(customer)
	var out []*crm.Interaction
	b := t.bucket(bktInteractions)
	c := b.Cursor()
	p := idKey(customer)
	for k, v := c.Seek(pairKey(customer, after+1)); k != nil && bytes.HasPrefix(k, p); k, v = c.Next() {
		i := new(crm.Interaction)
		if err := decode(bktInteractions, k, v, i); err != nil {
			return nil, err
		}
		out = append(out, i)
		if limit > 0 && len(out) >= limit {
			break
		}
	}
	return out, nil
}

// RecentInteractions implements crm.Tx with a reverse cursor, following
// merge redirects.
func (t *Tx) RecentInteractions(customer crm.ID, n int) ([]*crm.Interaction, error) {
	if n <= 0 {
		return nil, nil
	}
	customer = t.resolve(customer)
	var out []*crm.Interaction
	c := t.bucket(bktInteractions).Cursor()
	p := idKey(customer)
	var k, v []byte
	if end := prefixEnd(p); end == nil {
		k, v = c.Last()
	} else if k, _ = c.Seek(end); k == nil {
		k, v = c.Last()
	} else {
		k, v = c.Prev()
	}
	for ; k != nil && bytes.HasPrefix(k, p) && len(out) < n; k, v = c.Prev() {
		i := new(crm.Interaction)
		if err := decode(bktInteractions, k, v, i); err != nil {
			return nil, err
		}
		out = append(out, i)
	}
	slices.Reverse(out)
	return out, nil
}

// MoveInteractions implements crm.Tx: every interaction of from is re-keyed
// under to with CustomerID set to to. Ids are global, so the merged history
// stays in order.
func (t *Tx) MoveInteractions(from, to crm.ID) error {
	if from == to {
		return nil
	}
	return t.rekey(bktInteractions, from, to, func(k, v []byte) (any, error) {
		i := new(crm.Interaction)
		if err := decode(bktInteractions, k, v, i); err != nil {
			return nil, err
		}
		i.CustomerID = to
		return i, nil
	})
}

// rekey moves every (from, id) record of a bucket to (to, id), rewriting
// its value with conv.
func (t *Tx) rekey(bucket []byte, from, to crm.ID, conv func(k, v []byte) (any, error)) error {
	b := t.bucket(bucket)
	type rec struct {
		id crm.ID
		v  any
	}
	var recs []rec
	p := idKey(from)
	c := b.Cursor()
	for k, v := c.Seek(p); k != nil && bytes.HasPrefix(k, p); k, v = c.Next() {
		x, err := conv(k, v)
		if err != nil {
			return err
		}
		recs = append(recs, rec{readID(k[8:]), x})
	}
	for _, r := range recs {
		if err := b.Delete(pairKey(from, r.id)); err != nil {
			return err
		}
		if err := putJSON(b, pairKey(to, r.id), r.v); err != nil {
			return err
		}
	}
	return nil
}

func (t *Tx) moveOrders(from, to crm.ID) error {
	refs := t.bucket(bktIdxOrderRef)
	return t.rekey(bktOrders, from, to, func(k, v []byte) (any, error) {
		o := new(crm.Order)
		if err := decode(bktOrders, k, v, o); err != nil {
			return nil, err
		}
		o.CustomerID = to
		if o.Ref != "" {
			if err := refs.Put([]byte(o.Ref), pairKey(to, o.ID)); err != nil {
				return nil, err
			}
		}
		return o, nil
	})
}

// AddOrder implements crm.Tx.
func (t *Tx) AddOrder(o *crm.Order) (bool, error) {
	if o == nil || o.CustomerID == 0 {
		return false, crm.Errorf(crm.EINVALID, "Order without customer.")
	}
	refs := t.bucket(bktIdxOrderRef)
	if o.Ref != "" && refs.Get([]byte(o.Ref)) != nil {
		return false, nil
	}
	b := t.bucket(bktOrders)
	id, err := nextID(b, o.ID)
	if err != nil {
		return false, err
	}
	o.ID = id
	k := pairKey(o.CustomerID, o.ID)
	if err := putJSON(b, k, o); err != nil {
		return false, err
	}
	if o.Ref != "" {
		if err := refs.Put([]byte(o.Ref), k); err != nil {
			return false, err
		}
	}
	return true, nil
}

// Orders implements crm.Tx, oldest first, following merge redirects.
func (t *Tx) Orders(customer crm.ID) ([]*crm.Order, error) {
	customer = t.resolve(customer)
	var out []*crm.Order
	err := t.scan(t.bucket(bktOrders), idKey(customer), nil, func(k, v []byte) error {
		o := new(crm.Order)
		if err := decode(bktOrders, k, v, o); err != nil {
			return err
		}
		out = append(out, o)
		return nil
	})
	return out, err
}

// Offers implements crm.Tx, sorted by id.
func (t *Tx) Offers() ([]*crm.Offer, error) {
	var out []*crm.Offer
	err := t.scan(t.bucket(bktOffers), nil, nil, func(k, v []byte) error {
		o := new(crm.Offer)
		if err := decode(bktOffers, k, v, o); err != nil {
			return err
		}
		out = append(out, o)
		return nil
	})
	return out, err
}

// Offer implements crm.Tx.
func (t *Tx) Offer(id string) (*crm.Offer, error) {
	var v []byte
	if id != "" {
		v = t.bucket(bktOffers).Get([]byte(id))
	}
	if v == nil {
		return nil, crm.Errorf(crm.ENOTFOUND, "Offer %q not found.", id)
	}
	o := new(crm.Offer)
	if err := decode(bktOffers, []byte(id), v, o); err != nil {
		return nil, err
	}
	return o, nil
}

// PutOffer implements crm.Tx. The caller sets Version and UpdatedAt; the
// history is keyed by Version, so saving the same version twice replaces it.
func (t *Tx) PutOffer(o *crm.Offer) error {
	if o == nil || o.ID == "" || strings.IndexByte(o.ID, 0) >= 0 {
		return crm.Errorf(crm.EINVALID, "Offer needs an id.")
	}
	data, err := encode(o)
	if err != nil {
		return err
	}
	if err := t.bucket(bktOffers).Put([]byte(o.ID), data); err != nil {
		return err
	}
	return t.bucket(bktOfferVersions).Put(strIDKey(o.ID, uint64(o.Version)), data)
}

// OfferVersions implements crm.Tx, oldest version first.
func (t *Tx) OfferVersions(id string) ([]*crm.Offer, error) {
	var out []*crm.Offer
	err := t.scan(t.bucket(bktOfferVersions), strPrefix(id), nil, func(k, v []byte) error {
		o := new(crm.Offer)
		if err := decode(bktOfferVersions, k, v, o); err != nil {
			return err
		}
		out = append(out, o)
		return nil
	})
	return out, err
}

// AppendOfferEvent implements crm.Tx; a zero Time is set to now.
func (t *Tx) AppendOfferEvent(e *crm.OfferEvent) error {
	if e.Time.IsZero() {
		e.Time = t.now()
	}
	b := t.bucket(bktOfferEvents)
	seq, err := b.NextSequence()
	if err != nil {
		return err
	}
	return putJSON(b, u64(seq), e)
}

// AppendSegmentChange implements crm.Tx; a zero Time is set to now.
func (t *Tx) AppendSegmentChange(e *crm.SegmentChange) error {
	if e.Time.IsZero() {
		e.Time = t.now()
	}
	b := t.bucket(bktSegmentChanges)
	seq, err := b.NextSequence()
	if err != nil {
		return err
	}
	return putJSON(b, timeKey(e.Time, seq), e)
}

// SegmentChanges implements crm.Tx with one seek to since.
func (t *Tx) SegmentChanges(since time.Time, fn func(*crm.SegmentChange) error) error {
	return t.scanUser(t.bucket(bktSegmentChanges), nil, timeKey(since, 0), func(k, v []byte) error {
		e := new(crm.SegmentChange)
		if err := decode(bktSegmentChanges, k, v, e); err != nil {
			return err
		}
		return fn(e)
	})
}

// EnqueueOutbox implements crm.Tx. An empty Status becomes pending and a
// zero CreatedAt now.
func (t *Tx) EnqueueOutbox(it *crm.OutboxItem) error {
	if it == nil {
		return crm.Errorf(crm.EINVALID, "No outbox item.")
	}
	id, err := nextID(t.bucket(bktOutbox), it.ID)
	if err != nil {
		return err
	}
	it.ID = id
	if it.Status == "" {
		it.Status = crm.OutboxPending
	}
	if it.CreatedAt.IsZero() {
		it.CreatedAt = t.now()
	}
	return t.putOutbox(it)
}

// PutOutbox implements crm.Tx and keeps the pending set in step with Status.
func (t *Tx) PutOutbox(it *crm.OutboxItem) error {
	if it == nil || it.ID == 0 {
		return crm.Errorf(crm.EINVALID, "Outbox item without id.")
	}
	if _, err := nextID(t.bucket(bktOutbox), it.ID); err != nil {
		return err
	}
	return t.putOutbox(it)
}

func (t *Tx) putOutbox(it *crm.OutboxItem) error {
	k := idKey(it.ID)
	if err := putJSON(t.bucket(bktOutbox), k, it); err != nil {
		return err
	}
	pending := t.bucket(bktOutboxPending)
	if it.Status == crm.OutboxPending {
		return pending.Put(k, nil)
	}
	return pending.Delete(k)
}

// OutboxItem implements crm.Tx.
func (t *Tx) OutboxItem(id crm.ID) (*crm.OutboxItem, error) {
	k := idKey(id)
	v := t.bucket(bktOutbox).Get(k)
	if v == nil {
		return nil, crm.Errorf(crm.ENOTFOUND, "Outbox item %d not found.", id)
	}
	it := new(crm.OutboxItem)
	if err := decode(bktOutbox, k, v, it); err != nil {
		return nil, err
	}
	return it, nil
}

// PendingOutbox implements crm.Tx. It reads only the pending set; in an
// Update, fn may save the item (for example as sent).
func (t *Tx) PendingOutbox(fn func(*crm.OutboxItem) error) error {
	return t.scanUser(t.bucket(bktOutboxPending), nil, nil, func(k, _ []byte) error {
		it, err := t.OutboxItem(readID(k))
		if err != nil {
			return err
		}
		return fn(it)
	})
}

// OutboxDepth implements crm.Tx: the size of the pending set (walks only
// its pages, which stay few unless a channel is down for long).
func (t *Tx) OutboxDepth() (int64, error) {
	return int64(t.bucket(bktOutboxPending).Stats().KeyN), nil
}

// AddCounter implements crm.Tx. The names "customers" and "segment:*" are
// kept by the store itself.
func (t *Tx) AddCounter(name string, delta int64) error {
	b := t.bucket(bktCounters)
	n := readInt(b.Get([]byte(name))) + delta
	v := make([]byte, 8)
	binary.BigEndian.PutUint64(v, uint64(n))
	return b.Put([]byte(name), v)
}

// Counter implements crm.Tx; a missing counter is 0.
func (t *Tx) Counter(name string) (int64, error) {
	return readInt(t.bucket(bktCounters).Get([]byte(name))), nil
}

// Counters implements crm.Tx.
func (t *Tx) Counters(prefix string) (map[string]int64, error) {
	out := map[string]int64{}
	err := t.scan(t.bucket(bktCounters), []byte(prefix), nil, func(k, v []byte) error {
		out[string(k)] = readInt(v)
		return nil
	})
	return out, err
}

func readInt(v []byte) int64 {
	if len(v) != 8 {
		return 0
	}
	return int64(binary.BigEndian.Uint64(v))
}

// Meta implements crm.Tx; a missing key gives nil.
func (t *Tx) Meta(key string) ([]byte, error) {
	return bytes.Clone(t.bucket(bktMeta).Get([]byte(key))), nil
}

// PutMeta implements crm.Tx; a nil value deletes the key. The schema
// version key is reserved.
func (t *Tx) PutMeta(key string, value []byte) error {
	if key == "" || key == metaSchemaVersion {
		return crm.Errorf(crm.EINVALID, "Meta key %q is reserved.", key)
	}
	if value == nil {
		return t.bucket(bktMeta).Delete([]byte(key))
	}
	return t.bucket(bktMeta).Put([]byte(key), bytes.Clone(value))
}

func putJSON(b *bbolt.Bucket, k []byte, v any) error {
	data, err := encode(v)
	if err != nil {
		return err
	}
	return b.Put(k, data)
}

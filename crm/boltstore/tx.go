package boltstore

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"go.etcd.io/bbolt"

	"github.com/idicbot/idicbot/crm"
	"github.com/idicbot/idicbot/crm/internal/reccodec"
)

// Tx is one store transaction. A Tx is built afresh for every run of an
// Update function (fn may run again: after a conflict, in the writer, or
// when bbolt's Batch retries) and holds no state of its own besides its kv
// (a bbolt transaction, or an optimistic overlay: see the package
// documentation) and a cache of what the indexes hold for customers read.
//
// Methods that assign ids (PutCustomer with ID 0, AppendInteraction, AddOrder,
// EnqueueOutbox…) write the id into the caller's struct. If the transaction
// is then rolled back and fn run again, fn must build those structs again
// inside fn: an id kept from a run that did not commit is never stored.
type Tx struct {
	ops kv
	now func() time.Time
	// stored remembers, in write transactions, what the indexes hold for each
	// customer read, so PutCustomer need not decode the old record again.
	stored storedSet
	// batch is the record holding this transaction's message events.
	batch msgBatch
}

// storedSet maps customer ids to what the indexes hold for them: a turn
// touches one or two customers, so a slice beats a map.
type storedSet []storedEntry

type storedEntry struct {
	id crm.ID
	x  indexed
}

func (s storedSet) get(id crm.ID) (indexed, bool) {
	for i := range s {
		if s[i].id == id {
			return s[i].x, true
		}
	}
	return indexed{}, false
}

func (s *storedSet) set(id crm.ID, x indexed) {
	for i := range *s {
		if (*s)[i].id == id {
			(*s)[i].x = x
			return
		}
	}
	*s = append(*s, storedEntry{id, x})
}

func (s *storedSet) remove(id crm.ID) {
	*s = slices.DeleteFunc(*s, func(e storedEntry) bool { return e.id == id })
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
	// maxUsername is the longest username indexed (Telegram's are at most
	// 32 characters).
	maxUsername = 256
	// maxNameScan caps the index entries one name search reads, so a query
	// made only of very common words stays fast (it may then miss matches).
	maxNameScan = 100_000

	counterCustomers     = "customers"
	counterSegmentPrefix = "segment:"
)

// bucket returns a bucket for scans; on an overlay it fails with
// errNeedsWriter, which makes Update run fn again in the writer.
func (t *Tx) bucket(name []byte) (*bbolt.Bucket, error) { return t.ops.bucket(name) }

func (t *Tx) get(b, k []byte) []byte { return t.ops.get(b, k) }

// scan calls fn for every key with prefix, from start (prefix if nil).
func (t *Tx) scan(name, prefix, start []byte, fn func(k, v []byte) error) error {
	b, err := t.bucket(name)
	if err != nil {
		return err
	}
	return scan(b, prefix, start, false, fn)
}

// scanUser is scan for loops that call the caller's function: in a write
// transaction it repositions the cursor after each call, so that function
// may write to the bucket being scanned (k and v are then valid only until
// it writes).
func (t *Tx) scanUser(name, prefix, start []byte, fn func(k, v []byte) error) error {
	b, err := t.bucket(name)
	if err != nil {
		return err
	}
	return scan(b, prefix, start, t.ops.writable(), fn)
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
func (t *Tx) nextID(b []byte, id crm.ID) (crm.ID, error) {
	if id == 0 {
		seq, err := t.ops.nextSeq(b)
		return crm.ID(seq), err
	}
	return id, t.ops.raiseSeq(b, uint64(id))
}

// SeenMessage implements crm.Tx.
func (t *Tx) SeenMessage(ch crm.Channel, msgID string) (crm.ID, bool, error) {
	v := t.get(bktSeen, seenKey(ch, msgID))
	if v == nil {
		return 0, false, nil
	}
	return readID(v), true, nil
}

// MarkMessage implements crm.Tx.
func (t *Tx) MarkMessage(ch crm.Channel, msgID string, interaction crm.ID) error {
	return t.ops.put(bktSeen, seenKey(ch, msgID), idKey(interaction))
}

var _ crm.SeenMarkers = (*Tx)(nil)

// ForEachSeen implements crm.SeenMarkers.
func (t *Tx) ForEachSeen(fn func(ch crm.Channel, msgID string, interaction crm.ID) error) error {
	return t.scan(bktSeen, nil, nil, func(k, v []byte) error {
		ch, msgID, ok := bytes.Cut(k, []byte{0})
		if !ok {
			return nil
		}
		return fn(crm.Channel(ch), string(msgID), readID(v))
	})
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
	v := t.get(bktCustomers, k)
	if v == nil {
		return nil, nil
	}
	c := new(crm.Customer)
	if err := decodeCustomer(k, v, c); err != nil {
		return nil, err
	}
	if t.ops.writable() {
		t.stored.set(id, indexedOf(c))
	}
	return c, nil
}

// storedIndexed returns what the indexes hold for customer id.
func (t *Tx) storedIndexed(id crm.ID) (indexed, error) {
	if x, ok := t.stored.get(id); ok {
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
	for range maxRedirects {
		next := readID(t.get(bktRedirects, idKey(id)))
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
	id := readID(t.get(bucket, []byte(key)))
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

// FindCustomersByUsername implements crm.Tx: the customers with an identity
// on ch whose username is username, case-insensitively and with or without
// the leading @, in id order. It reads idx_username only.
func (t *Tx) FindCustomersByUsername(ch crm.Channel, username string) ([]*crm.Customer, error) {
	k, ok := usernameKey(ch, username)
	if !ok {
		return nil, nil
	}
	return t.customersUnder(bktIdxUsername, k)
}

// customersUnder returns the customers of a multi-valued index's entries
// "value 0x00 id", in id order.
func (t *Tx) customersUnder(bucket []byte, value string) ([]*crm.Customer, error) {
	p := strPrefix(value)
	var ids []crm.ID
	if err := t.scan(bucket, p, nil, func(k, _ []byte) error {
		if len(k) == len(p)+8 {
			ids = append(ids, readID(k[len(p):]))
		}
		return nil
	}); err != nil {
		return nil, err
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

// FindCustomersByClaim implements crm.Tx: the customers who typed value (an
// E.164 phone or an email) as their own, in id order, from idx_claim.
func (t *Tx) FindCustomersByClaim(value string) ([]*crm.Customer, error) {
	v := strings.TrimSpace(value)
	if strings.Contains(v, "@") {
		v = normEmail(v)
	}
	if v == "" || strings.IndexByte(v, 0) >= 0 {
		return nil, nil
	}
	return t.customersUnder(bktIdxClaim, v)
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
	idx, err := t.bucket(bktIdxName)
	if err != nil {
		return nil, err
	}
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
	if c.ID != 0 {
		if to := readID(t.get(bktRedirects, idKey(c.ID))); to != 0 {
			return crm.Errorf(crm.ECONFLICT, "Customer %d was merged into %d.", c.ID, to)
		}
	}
	id, err := t.nextID(bktCustomers, c.ID)
	if err != nil {
		return err
	}
	c.ID = id
	old, err := t.storedIndexed(id)
	if err != nil {
		return err
	}
	if err := t.ops.put(bktCustomers, idKey(id), reccodec.EncodeCustomer(c)); err != nil {
		return err
	}
	cur := indexedOf(c)
	t.stored.set(id, cur)
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
	name       string // words are derived from it, when it changes
	segment    string
	spent      int64    // orders the segment index (most valuable first)
	usernames  []string // usernameKey of each identity's username
	claims     []string // typed phone and email (idx_claim)
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
		name:     c.Name,
		segment:  c.Segment.Name,
		spent:    c.Stats.TotalSpent,
	}
	for _, v := range []string{strings.TrimSpace(c.Claims.Phone), normEmail(c.Claims.Email)} {
		if v != "" && strings.IndexByte(v, 0) < 0 && len(v) <= maxUsername {
			x.claims = append(x.claims, v)
		}
	}
	for _, idn := range c.Identities {
		if idn.UserID != "" {
			x.identities = append(x.identities, idn.Key())
		}
		if k, ok := usernameKey(idn.Channel, idn.Username); ok && !slices.Contains(x.usernames, k) {
			x.usernames = append(x.usernames, k)
		}
	}
	return x
}

// usernameKey is "channel 0x00 lower-cased username without @", the prefix
// of a customer's idx_username entries; false for no username (or one that
// cannot be a key: a 0x00 would make prefixes ambiguous).
func usernameKey(ch crm.Channel, username string) (string, bool) {
	u := strings.ToLower(strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(username), "@")))
	if u == "" || len(u) > maxUsername || strings.IndexByte(u, 0) >= 0 || strings.IndexByte(string(ch), 0) >= 0 {
		return "", false
	}
	return string(ch) + "\x00" + u, true
}

// reindex moves every index entry and counter of customer id from its old
// version to its new one (either may be nil).
func (t *Tx) reindex(id crm.ID, old, cur indexed) error {
	idv := idKey(id)

	for _, k := range old.identities {
		if !slices.Contains(cur.identities, k) {
			if err := t.deleteIfOwner(bktIdxIdentity, k, id); err != nil {
				return err
			}
		}
	}
	for _, k := range cur.identities {
		if err := t.putOwner(bktIdxIdentity, k, idv); err != nil {
			return err
		}
	}
	for _, f := range [...]struct {
		bucket   []byte
		old, cur string
	}{
		{bktIdxPhone, old.phone, cur.phone},
		{bktIdxEmail, old.email, cur.email},
		{bktIdxExternal, old.external, cur.external},
	} {
		if f.old != "" && f.old != f.cur {
			if err := t.deleteIfOwner(f.bucket, f.old, id); err != nil {
				return err
			}
		}
		if f.cur != "" {
			if err := t.putOwner(f.bucket, f.cur, idv); err != nil {
				return err
			}
		}
	}

	// The name entries (word 0x00 id) and the segment entry belong to this
	// customer alone, so when the name or the segment did not change they
	// are in place already: no need to fold the name or read them.
	sameName := old.exists && cur.exists && old.name == cur.name
	var oldWords, curWords []string
	if !sameName {
		oldWords, curWords = nameWords(old.name), nameWords(cur.name)
	}
	for _, w := range oldWords {
		if !slices.Contains(curWords, w) {
			if err := t.ops.del(bktIdxName, strIDKey(w, uint64(id))); err != nil {
				return err
			}
		}
	}
	var joined []byte
	for _, w := range curWords {
		if joined == nil {
			joined = []byte(strings.Join(curWords, " "))
		}
		k := strIDKey(w, uint64(id))
		if v := t.get(bktIdxName, k); v == nil || !bytes.Equal(v, joined) {
			if err := t.ops.put(bktIdxName, k, joined); err != nil {
				return err
			}
		}
	}

	// Username entries (channel 0x00 username 0x00 id) belong to this
	// customer alone too: only the difference is written.
	for _, u := range old.usernames {
		if !slices.Contains(cur.usernames, u) {
			if err := t.ops.del(bktIdxUsername, strIDKey(u, uint64(id))); err != nil {
				return err
			}
		}
	}
	for _, u := range cur.usernames {
		if !slices.Contains(old.usernames, u) {
			if err := t.ops.put(bktIdxUsername, strIDKey(u, uint64(id)), nil); err != nil {
				return err
			}
		}
	}

	// Claim entries (value 0x00 id) belong to this customer alone too.
	for _, v := range old.claims {
		if !slices.Contains(cur.claims, v) {
			if err := t.ops.del(bktIdxClaim, strIDKey(v, uint64(id))); err != nil {
				return err
			}
		}
	}
	for _, v := range cur.claims {
		if !slices.Contains(old.claims, v) {
			if err := t.ops.put(bktIdxClaim, strIDKey(v, uint64(id)), nil); err != nil {
				return err
			}
		}
	}

	// The segment entry is keyed by value too (segmentKey): it moves when
	// the segment or the total spent changes, which messages do not do.
	moved := !old.exists || !cur.exists || old.segment != cur.segment || old.spent != cur.spent
	if old.exists && old.segment != "" && moved {
		if err := t.ops.del(bktIdxSegment, segmentKey(old.segment, old.spent, uint64(id))); err != nil {
			return err
		}
		if !cur.exists || old.segment != cur.segment {
			if err := t.AddCounter(counterSegmentPrefix+old.segment, -1); err != nil {
				return err
			}
		}
	}
	if cur.exists && cur.segment != "" && moved {
		if !old.exists || old.segment != cur.segment {
			if err := t.AddCounter(counterSegmentPrefix+cur.segment, 1); err != nil {
				return err
			}
		}
		if k := segmentKey(cur.segment, cur.spent, uint64(id)); t.get(bktIdxSegment, k) == nil {
			if err := t.ops.put(bktIdxSegment, k, nil); err != nil {
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

func (t *Tx) putOwner(b []byte, key string, idv []byte) error {
	if v := t.get(b, []byte(key)); bytes.Equal(v, idv) {
		return nil
	}
	return t.ops.put(b, []byte(key), idv)
}

func (t *Tx) deleteIfOwner(b []byte, key string, id crm.ID) error {
	if readID(t.get(b, []byte(key))) != id {
		return nil
	}
	return t.ops.del(b, []byte(key))
}

// DeleteCustomer implements crm.Tx. It removes the record, every index entry
// still pointing at it and its counts. With mergedInto != 0 it leaves a
// redirect and moves the customer's orders and interactions to mergedInto
// (MoveInteractions afterwards is then a no-op); mergedInto 0 deletes
// without redirect and leaves history in place. A merged-away mergedInto
// is followed to the customer it leads to; one that leads to no customer,
// or back to id, is refused, so every redirect leads to a customer.
func (t *Tx) DeleteCustomer(id crm.ID, mergedInto crm.ID) error {
	if id == mergedInto {
		return crm.Errorf(crm.EINVALID, "Cannot merge customer %d into itself.", id)
	}
	if mergedInto != 0 {
		// The redirect must lead to a customer: follow mergedInto's own
		// redirects, and refuse an unknown id or a cycle back to id.
		to := t.resolve(mergedInto)
		if to == id {
			return crm.Errorf(crm.EINVALID, "Cannot merge customer %d into %d: %d was merged into it.", id, mergedInto, mergedInto)
		}
		if c, err := t.getCustomer(to); err != nil {
			return err
		} else if c == nil {
			return crm.Errorf(crm.ENOTFOUND, "Customer %d not found.", mergedInto)
		}
		mergedInto = to
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
	t.stored.remove(id)
	if err := t.ops.del(bktCustomers, idKey(id)); err != nil {
		return err
	}
	if mergedInto == 0 {
		return nil
	}
	if err := t.ops.put(bktRedirects, idKey(id), idKey(mergedInto)); err != nil {
		return err
	}
	if err := t.moveEvents(id, mergedInto); err != nil {
		return err
	}
	if err := t.moveOrders(id, mergedInto); err != nil {
		return err
	}
	return t.MoveInteractions(id, mergedInto)
}

// ForEachCustomer implements crm.Tx, in id order. In an Update, fn may save
// customers. The history keys stored after each record are skipped with one
// seek to the next customer.
func (t *Tx) ForEachCustomer(fn func(*crm.Customer) error) error {
	b, err := t.bucket(bktCustomers)
	if err != nil {
		return err
	}
	c := b.Cursor()
	k, v := c.First()
	for k != nil {
		if len(k) < 8 {
			return fmt.Errorf("%s/%x: key is not a customer id", bktCustomers, k)
		}
		id := readID(k[:8])
		if len(k) == 8 {
			cu := new(crm.Customer)
			if err := decodeCustomer(k, v, cu); err != nil {
				return err
			}
			if err := fn(cu); err != nil {
				return err
			}
		}
		if id == math.MaxUint64 {
			return nil
		}
		// Also repositions the cursor after fn wrote to the bucket.
		k, v = c.Seek(idKey(id + 1))
	}
	return nil
}

// SegmentCustomers implements crm.Tx: most valuable first (total spent,
// then id), without reading the customers. Customers without a segment are
// in no segment. In an Update, fn may save customers.
func (t *Tx) SegmentCustomers(segment string, fn func(crm.ID) error) error {
	p := strPrefix(segment)
	return t.scanUser(bktIdxSegment, p, nil, func(k, _ []byte) error {
		if len(k) != len(p)+16 {
			return fmt.Errorf("%s/%x: not a segment key", bktIdxSegment, k)
		}
		return fn(readID(k[len(p)+8:]))
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
// customers, so they increase with time; a zero Time is set to now. The
// record goes to interaction_log (an append) and the customer's history
// gets a 16-byte key next to the customer record, in the leaf the turn
// dirties anyway when it saves the customer.
func (t *Tx) AppendInteraction(i *crm.Interaction) error {
	if i == nil || i.CustomerID == 0 {
		return crm.Errorf(crm.EINVALID, "Interaction without customer.")
	}
	fresh := i.ID == 0
	if !fresh {
		// An explicit id replaces that customer's interaction; it must not
		// take over another customer's.
		if t.get(bktInteractions, idKey(i.ID)) != nil && t.get(bktCustomers, pairKey(i.CustomerID, i.ID)) == nil {
			return crm.Errorf(crm.ECONFLICT, "Interaction %d belongs to another customer.", i.ID)
		}
	}
	id, err := t.nextID(bktInteractions, i.ID)
	if err != nil {
		return err
	}
	i.ID = id
	if i.Time.IsZero() {
		i.Time = t.now()
	}
	k := pairKey(i.CustomerID, i.ID)
	if fresh {
		t.ops.mustBeLast(bktCustomers, k)
	}
	if err := t.ops.put(bktInteractions, idKey(i.ID), reccodec.EncodeInteraction(i)); err != nil {
		return err
	}
	return t.ops.put(bktCustomers, k, nil)
}

// owner returns the customer whose history holds interaction id: customer,
// or the customer it was merged into; 0 when neither.
func (t *Tx) owner(customer, id crm.ID) crm.ID {
	if t.get(bktCustomers, pairKey(customer, id)) != nil {
		return customer
	}
	if to := t.resolve(customer); to != customer && t.get(bktCustomers, pairKey(to, id)) != nil {
		return to
	}
	return 0
}

// PutInteraction implements crm.Tx. An interaction of a customer merged away
// is found under (and moved to) the customer it was merged into.
func (t *Tx) PutInteraction(i *crm.Interaction) error {
	if i == nil || i.ID == 0 {
		return crm.Errorf(crm.EINVALID, "Interaction without id.")
	}
	to := t.owner(i.CustomerID, i.ID)
	if to == 0 {
		return crm.Errorf(crm.ENOTFOUND, "Interaction %d not found.", i.ID)
	}
	i.CustomerID = to
	return t.ops.put(bktInteractions, idKey(i.ID), reccodec.EncodeInteraction(i))
}

// Interaction implements crm.Tx, following merge redirects.
func (t *Tx) Interaction(customer, id crm.ID) (*crm.Interaction, error) {
	var v []byte
	if t.owner(customer, id) != 0 {
		v = t.get(bktInteractions, idKey(id))
	}
	if v == nil {
		return nil, crm.Errorf(crm.ENOTFOUND, "Interaction %d not found.", id)
	}
	i := new(crm.Interaction)
	if err := decodeInteraction(idKey(id), v, i); err != nil {
		return nil, err
	}
	return i, nil
}

// historyBuckets returns the interaction log and the customers bucket, which
// holds the history keys, for scans (errNeedsWriter on an overlay).
func (t *Tx) historyBuckets() (log, hist *bbolt.Bucket, err error) {
	if log, err = t.bucket(bktInteractions); err != nil {
		return nil, nil, err
	}
	if hist, err = t.bucket(bktCustomers); err != nil {
		return nil, nil, err
	}
	return log, hist, nil
}

// loadInteraction decodes the record of a history key (customer id +
// interaction id).
func loadInteraction(log *bbolt.Bucket, k []byte) (*crm.Interaction, error) {
	if len(k) != 16 {
		return nil, fmt.Errorf("%s/%x: key is not customer id + interaction id", bktCustomers, k)
	}
	v := log.Get(k[8:])
	if v == nil {
		return nil, fmt.Errorf("%s/%x: interaction %d is indexed but not stored", bktCustomers, k, readID(k[8:]))
	}
	i := new(crm.Interaction)
	if err := decodeInteraction(k[8:], v, i); err != nil {
		return nil, err
	}
	return i, nil
}

// Interactions implements crm.Tx, following merge redirects.
func (t *Tx) Interactions(customer crm.ID, after crm.ID, limit int) ([]*crm.Interaction, error) {
	if after == math.MaxUint64 {
		return nil, nil
	}
	log, hist, err := t.historyBuckets()
	if err != nil {
		return nil, err
	}
	customer = t.resolve(customer)
	var out []*crm.Interaction
	c := hist.Cursor()
	p := idKey(customer)
	for k, _ := c.Seek(pairKey(customer, after+1)); k != nil && bytes.HasPrefix(k, p); k, _ = c.Next() {
		i, err := loadInteraction(log, k)
		if err != nil {
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
	log, hist, err := t.historyBuckets()
	if err != nil {
		return nil, err
	}
	customer = t.resolve(customer)
	var out []*crm.Interaction
	c := hist.Cursor()
	p := idKey(customer)
	var k []byte
	if end := prefixEnd(p); end == nil {
		k, _ = c.Last()
	} else if k, _ = c.Seek(end); k == nil {
		k, _ = c.Last()
	} else {
		k, _ = c.Prev()
	}
	// The customer's record (its 8-byte id) sorts before its history.
	for ; k != nil && len(k) > len(p) && bytes.HasPrefix(k, p) && len(out) < n; k, _ = c.Prev() {
		i, err := loadInteraction(log, k)
		if err != nil {
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
	log, hist, err := t.historyBuckets()
	if err != nil {
		return err
	}
	var moved []*crm.Interaction
	p := idKey(from)
	c := hist.Cursor()
	for k, _ := c.Seek(pairKey(from, 0)); k != nil && bytes.HasPrefix(k, p); k, _ = c.Next() {
		i, err := loadInteraction(log, k)
		if err != nil {
			return err
		}
		moved = append(moved, i)
	}
	for _, i := range moved {
		if err := t.ops.del(bktCustomers, pairKey(from, i.ID)); err != nil {
			return err
		}
		if err := t.ops.put(bktCustomers, pairKey(to, i.ID), nil); err != nil {
			return err
		}
		i.CustomerID = to
		if err := t.ops.put(bktInteractions, idKey(i.ID), reccodec.EncodeInteraction(i)); err != nil {
			return err
		}
	}
	return nil
}

// rekey moves every (from, id) record of a bucket to (to, id), rewriting
// its value with conv.
func (t *Tx) rekey(bucket []byte, from, to crm.ID, conv func(k, v []byte) (any, error)) error {
	b, err := t.bucket(bucket)
	if err != nil {
		return err
	}
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
		if err := t.putJSON(bucket, pairKey(to, r.id), r.v); err != nil {
			return err
		}
	}
	return nil
}

func (t *Tx) moveOrders(from, to crm.ID) error {
	return t.rekey(bktOrders, from, to, func(k, v []byte) (any, error) {
		o := new(crm.Order)
		if err := decode(bktOrders, k, v, o); err != nil {
			return nil, err
		}
		o.CustomerID = to
		if o.Ref != "" {
			if err := t.ops.put(bktIdxOrderRef, []byte(o.Ref), pairKey(to, o.ID)); err != nil {
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
	if err := crm.CheckOrder(o); err != nil {
		return false, err
	}
	if o.Ref != "" && t.get(bktIdxOrderRef, []byte(o.Ref)) != nil {
		return false, nil
	}
	id, err := t.nextID(bktOrders, o.ID)
	if err != nil {
		return false, err
	}
	o.ID = id
	k := pairKey(o.CustomerID, o.ID)
	if err := t.putJSON(bktOrders, k, o); err != nil {
		return false, err
	}
	if o.Ref != "" {
		if err := t.ops.put(bktIdxOrderRef, []byte(o.Ref), k); err != nil {
			return false, err
		}
	}
	return true, nil
}

// Orders implements crm.Tx, oldest first, following merge redirects.
func (t *Tx) Orders(customer crm.ID) ([]*crm.Order, error) {
	if _, err := t.bucket(bktOrders); err != nil {
		return nil, err
	}
	customer = t.resolve(customer)
	var out []*crm.Order
	err := t.scan(bktOrders, idKey(customer), nil, func(k, v []byte) error {
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
	err := t.scan(bktOffers, nil, nil, func(k, v []byte) error {
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
		v = t.get(bktOffers, []byte(id))
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
	if err := t.ops.put(bktOffers, []byte(o.ID), data); err != nil {
		return err
	}
	return t.ops.put(bktOfferVersions, strIDKey(o.ID, uint64(o.Version)), data)
}

// OfferVersions implements crm.Tx, oldest version first.
func (t *Tx) OfferVersions(id string) ([]*crm.Offer, error) {
	var out []*crm.Offer
	err := t.scan(bktOfferVersions, strPrefix(id), nil, func(k, v []byte) error {
		o := new(crm.Offer)
		if err := decode(bktOfferVersions, k, v, o); err != nil {
			return err
		}
		out = append(out, o)
		return nil
	})
	return out, err
}

// EnqueueOutbox implements crm.Tx. An empty Status becomes pending and a
// zero CreatedAt now.
func (t *Tx) EnqueueOutbox(it *crm.OutboxItem) error {
	if it == nil {
		return crm.Errorf(crm.EINVALID, "No outbox item.")
	}
	if err := checkPriority(it.Priority); err != nil {
		return err
	}
	id, err := t.nextID(bktOutbox, it.ID)
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

func checkPriority(p int) error {
	if p < 0 || p > 255 {
		return crm.Errorf(crm.EINVALID, "Outbox priority %d is not between 0 and 255.", p)
	}
	return nil
}

// PutOutbox implements crm.Tx and keeps the pending set and the claim index
// in step with Status. An item is stored in two parts: what to send,
// written once when the item is new, and its delivery state (status,
// attempts, errors, when sent), written on every later save. Recording a
// send thus writes a few dozen bytes instead of rewriting the item, whose
// full pages would split. A pending item's priority, due time and lease
// live in its outbox_claim entry, which a save moves or rewrites.
func (t *Tx) PutOutbox(it *crm.OutboxItem) error {
	if it == nil || it.ID == 0 {
		return crm.Errorf(crm.EINVALID, "Outbox item without id.")
	}
	if err := checkPriority(it.Priority); err != nil {
		return err
	}
	if _, err := t.nextID(bktOutbox, it.ID); err != nil {
		return err
	}
	k := idKey(it.ID)
	if t.get(bktOutbox, k) == nil {
		return t.putOutbox(it)
	}
	// The pending set first: it finds the item's place by the state
	// stored so far.
	if err := t.pending(k, it); err != nil {
		return err
	}
	st := outboxState{Status: it.Status, Attempts: it.Attempts, NextAttempt: it.NextAttempt, LastError: it.LastError, SentAt: it.SentAt}
	return t.ops.put(bktOutboxState, k, encodeOutboxState(&st))
}

// outboxState is the part of an outbox item that changes after it is
// queued; it overrides the fields stored with the item.
type outboxState struct {
	Status      string    `json:"status"`
	Attempts    int       `json:"attempts,omitzero"`
	NextAttempt time.Time `json:"next_attempt,omitzero"`
	LastError   string    `json:"last_error,omitzero"`
	SentAt      time.Time `json:"sent_at,omitzero"`
}

// putOutbox stores a new item (nothing of it is stored yet). Its lease is
// kept in outbox_claim only, which OutboxItem reads: the record would
// carry it (some twenty bytes an item) for nothing.
func (t *Tx) putOutbox(it *crm.OutboxItem) error {
	k := idKey(it.ID)
	owner, until := it.LeaseOwner, it.LeaseUntil
	it.LeaseOwner, it.LeaseUntil = "", time.Time{}
	v := reccodec.EncodeOutboxItem(it)
	it.LeaseOwner, it.LeaseUntil = owner, until
	if err := t.ops.put(bktOutbox, k, v); err != nil {
		return err
	}
	if it.Status != crm.OutboxPending {
		return nil
	}
	return t.ops.put(bktOutboxClaim, claimKey(it.Priority, it.Due, it.ID), leaseValue(it.LeaseOwner, it.LeaseUntil))
}

// claimKeyOf returns the outbox_claim key of the pending item k, nil when
// k is not pending. outbox_claim is the pending set: a reply due at once
// (priority 0, no due time, the common case) is found by its id alone;
// any other item's place follows from the priority and due time its record
// keeps (pending rewrites them when they change).
func (t *Tx) claimKeyOf(k []byte) ([]byte, error) {
	id := readID(k)
	if ck := claimKey(0, time.Time{}, id); t.get(bktOutboxClaim, ck) != nil {
		return ck, nil
	}
	if s := t.get(bktOutboxState, k); s != nil {
		st, err := decodeOutboxState(k, s)
		if err != nil {
			return nil, err
		}
		if st.Status != crm.OutboxPending {
			return nil, nil
		}
	}
	v := t.get(bktOutbox, k)
	if v == nil {
		return nil, nil
	}
	var it crm.OutboxItem
	if err := decodeOutboxItem(k, v, &it); err != nil {
		return nil, err
	}
	ck := claimKey(it.Priority, it.Due, id)
	if t.get(bktOutboxClaim, ck) == nil {
		return nil, nil
	}
	return ck, nil
}

// pending keeps outbox_claim (claim key → lease), the pending set, in step
// with a saved item: a pending item is (re)placed at its priority and due
// time with its lease, any other leaves it. When an item takes another
// place than its record names, the record is rewritten with the new
// priority and due time (claimKeyOf reads them there): rare, as only a
// reschedule does it.
func (t *Tx) pending(k []byte, it *crm.OutboxItem) error {
	old, err := t.claimKeyOf(k)
	if err != nil {
		return err
	}
	if it.Status != crm.OutboxPending {
		if old == nil {
			return nil
		}
		return t.ops.del(bktOutboxClaim, old)
	}
	ck := claimKey(it.Priority, it.Due, it.ID)
	if old != nil && !bytes.Equal(old, ck) {
		if err := t.ops.del(bktOutboxClaim, old); err != nil {
			return err
		}
	}
	if (old == nil || !bytes.Equal(old, ck)) && (it.Priority != 0 || !it.Due.IsZero()) {
		if err := t.replace(k, it.Priority, it.Due); err != nil {
			return err
		}
	}
	return t.ops.put(bktOutboxClaim, ck, leaseValue(it.LeaseOwner, it.LeaseUntil))
}

// replace rewrites the record of outbox item k with priority and due
// when they differ from what it holds.
func (t *Tx) replace(k []byte, priority int, due time.Time) error {
	v := t.get(bktOutbox, k)
	if v == nil {
		return fmt.Errorf("%s/%x: no record", bktOutbox, k)
	}
	var rec crm.OutboxItem
	if err := decodeOutboxItem(k, v, &rec); err != nil {
		return err
	}
	if rec.Priority == priority && rec.Due.Equal(due) {
		return nil
	}
	rec.Priority, rec.Due = priority, due
	return t.ops.put(bktOutbox, bytes.Clone(k), reccodec.EncodeOutboxItem(&rec))
}

// claimKey is an outbox_claim key: priority (one byte), due time (8 bytes,
// signed nanoseconds with the sign bit flipped; 0 for "at once"), id; so a
// scan meets items in the order they are handed out.
func claimKey(priority int, due time.Time, id crm.ID) []byte {
	k := make([]byte, 17)
	k[0] = byte(priority)
	putDue(k[1:9], due)
	binary.BigEndian.PutUint64(k[9:], uint64(id))
	return k
}

func putDue(b []byte, due time.Time) {
	if !due.IsZero() {
		binary.BigEndian.PutUint64(b, uint64(due.UnixNano())^(1<<63))
	}
}

func dueBytes(due time.Time) []byte {
	b := make([]byte, 8)
	putDue(b, due)
	return b
}

func claimDue(ck []byte) time.Time {
	n := binary.BigEndian.Uint64(ck[1:9])
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, int64(n^(1<<63))).UTC()
}

// leaseValue is an outbox_claim value: empty when free, else the end of the
// lease (8 bytes, Unix nanoseconds) and the owner.
func leaseValue(owner string, until time.Time) []byte {
	if owner == "" {
		return []byte{} // not nil: bbolt reads a nil value put in this transaction as absent
	}
	v := make([]byte, 8, 8+len(owner))
	binary.BigEndian.PutUint64(v, uint64(until.UnixNano()))
	return append(v, owner...)
}

func readLease(v []byte) (owner string, until time.Time, ok bool) {
	if len(v) == 0 {
		return "", time.Time{}, true
	}
	if len(v) < 9 {
		return "", time.Time{}, false
	}
	return string(v[8:]), time.Unix(0, int64(binary.BigEndian.Uint64(v))).UTC(), true
}

// OutboxItem implements crm.Tx. A pending item's priority, due time and
// lease are those of its claim entry.
func (t *Tx) OutboxItem(id crm.ID) (*crm.OutboxItem, error) {
	k := idKey(id)
	v := t.get(bktOutbox, k)
	if v == nil {
		return nil, crm.Errorf(crm.ENOTFOUND, "Outbox item %d not found.", id)
	}
	it := new(crm.OutboxItem)
	if err := decodeOutboxItem(k, v, it); err != nil {
		return nil, err
	}
	if v := t.get(bktOutboxState, k); v != nil {
		st, err := decodeOutboxState(k, v)
		if err != nil {
			return nil, err
		}
		it.Status, it.Attempts, it.NextAttempt, it.LastError, it.SentAt = st.Status, st.Attempts, st.NextAttempt, st.LastError, st.SentAt
	}
	it.LeaseOwner, it.LeaseUntil = "", time.Time{}
	ck, err := t.claimKeyOf(k)
	if err != nil {
		return nil, err
	}
	if len(ck) != 17 {
		return it, nil
	}
	if p := int(ck[0]); p != it.Priority {
		it.Priority = p
	}
	if due := claimDue(ck); !due.Equal(it.Due) {
		it.Due = due
	}
	owner, until, ok := readLease(t.get(bktOutboxClaim, ck))
	if !ok {
		return nil, fmt.Errorf("%s/%x: bad lease", bktOutboxClaim, ck)
	}
	it.LeaseOwner, it.LeaseUntil = owner, until
	return it, nil
}

// PendingOutbox implements crm.Tx. It reads only the pending set
// (outbox_claim, whose keys end with the ids), then the items in id order;
// in an Update, fn may save the item (for example as sent).
func (t *Tx) PendingOutbox(fn func(*crm.OutboxItem) error) error {
	var ids []crm.ID
	if err := t.scan(bktOutboxClaim, nil, nil, func(k, _ []byte) error {
		ids = append(ids, crm.ID(binary.BigEndian.Uint64(k[9:])))
		return nil
	}); err != nil {
		return err
	}
	slices.Sort(ids)
	for _, id := range ids {
		it, err := t.OutboxItem(id)
		if err != nil {
			return err
		}
		if err := fn(it); err != nil {
			return err
		}
	}
	return nil
}

// ClaimOutbox implements crm.Tx with one walk of outbox_claim, which holds
// the pending items in the order they are handed out: per priority, the
// walk skips to the next priority at the first item not yet due, and steps
// over items leased until after now (the items in flight).
func (t *Tx) ClaimOutbox(owner string, now time.Time, lease time.Duration, max int) ([]*crm.OutboxItem, error) {
	if owner == "" {
		return nil, crm.Errorf(crm.EINVALID, "An outbox claim needs an owner.")
	}
	if max <= 0 {
		return nil, nil
	}
	b, err := t.bucket(bktOutboxClaim)
	if err != nil {
		return nil, err
	}
	due := dueBytes(now)
	var keys [][]byte
	c := b.Cursor()
	for k, v := c.First(); k != nil && len(keys) < max; {
		if len(k) != 17 {
			return nil, fmt.Errorf("%s/%x: bad claim key", bktOutboxClaim, k)
		}
		if bytes.Compare(k[1:9], due) > 0 {
			if k[0] == 0xff {
				break
			}
			k, v = c.Seek([]byte{k[0] + 1})
			continue
		}
		_, until, ok := readLease(v)
		if !ok {
			return nil, fmt.Errorf("%s/%x: bad lease", bktOutboxClaim, k)
		}
		if len(v) == 0 || !until.After(now) {
			keys = append(keys, bytes.Clone(k))
		}
		k, v = c.Next()
	}
	out := make([]*crm.OutboxItem, 0, len(keys))
	lv := leaseValue(owner, now.Add(lease))
	for _, k := range keys {
		if err := t.ops.put(bktOutboxClaim, k, bytes.Clone(lv)); err != nil {
			return nil, err
		}
		it, err := t.OutboxItem(crm.ID(binary.BigEndian.Uint64(k[9:])))
		if err != nil {
			return nil, err
		}
		out = append(out, it)
	}
	return out, nil
}

// RenewOutbox implements crm.Tx with point reads and writes only.
func (t *Tx) RenewOutbox(owner string, ids []crm.ID, until time.Time) ([]crm.ID, error) {
	return t.release(owner, ids, leaseValue(owner, until))
}

// ReleaseOutbox implements crm.Tx.
func (t *Tx) ReleaseOutbox(owner string, ids []crm.ID) error {
	_, err := t.release(owner, ids, []byte{})
	return err
}

// release sets the lease value of the pending items of ids that owner
// holds to v, and returns their ids.
func (t *Tx) release(owner string, ids []crm.ID, v []byte) ([]crm.ID, error) {
	if owner == "" {
		return nil, crm.Errorf(crm.EINVALID, "An outbox lease needs an owner.")
	}
	held := make([]crm.ID, 0, len(ids))
	for _, id := range ids {
		ck, err := t.claimKeyOf(idKey(id))
		if err != nil {
			return nil, err
		}
		if len(ck) != 17 {
			continue
		}
		o, _, ok := readLease(t.get(bktOutboxClaim, ck))
		if !ok || o != owner {
			continue
		}
		if err := t.ops.put(bktOutboxClaim, ck, bytes.Clone(v)); err != nil {
			return nil, err
		}
		held = append(held, id)
	}
	return held, nil
}

// NextOutboxDue implements crm.Tx: per priority, one seek past now.
func (t *Tx) NextOutboxDue(now time.Time) (time.Time, error) {
	b, err := t.bucket(bktOutboxClaim)
	if err != nil {
		return time.Time{}, err
	}
	after := append(dueBytes(now), 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff)
	var next time.Time
	c := b.Cursor()
	for k, _ := c.First(); k != nil; {
		p := k[0]
		if k, _ = c.Seek(append([]byte{p}, after...)); k != nil && k[0] == p {
			if due := claimDue(k); next.IsZero() || due.Before(next) {
				next = due
			}
		}
		if p == 0xff {
			break
		}
		k, _ = c.Seek([]byte{p + 1})
	}
	return next, nil
}

// OutboxDepth implements crm.Tx: the size of the pending set (walks only
// its pages, which stay few unless a channel is down for long).
func (t *Tx) OutboxDepth() (int64, error) {
	b, err := t.bucket(bktOutboxClaim)
	if err != nil {
		return 0, err
	}
	return int64(b.Stats().KeyN), nil
}

// AddCounter implements crm.Tx. The names "customers" and "segment:*" are
// kept by the store itself.
func (t *Tx) AddCounter(name string, delta int64) error {
	return t.ops.addCounter(name, delta)
}

// Counter implements crm.Tx; a missing counter is 0.
func (t *Tx) Counter(name string) (int64, error) {
	return t.ops.counter([]byte(name)), nil
}

// Counters implements crm.Tx.
func (t *Tx) Counters(prefix string) (map[string]int64, error) {
	out := map[string]int64{}
	err := t.scan(bktCounters, []byte(prefix), nil, func(k, v []byte) error {
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

func (t *Tx) putJSON(b []byte, k []byte, v any) error {
	data, err := encode(v)
	if err != nil {
		return err
	}
	return t.ops.put(b, k, data)
}

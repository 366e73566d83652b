package boltstore

import (
	"bytes"
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"go.etcd.io/bbolt"

	"github.com/idicbot/idicbot/crm"
)

// maxProblems bounds the problems Check reports: a broken index can be
// wrong for every customer, and the first ones say what is wrong.
const maxProblems = 100

// Check verifies that every customer index and count agrees with the
// customer records: identities, phones, emails, external ids, names,
// usernames, typed claims, the segment index and the segment and customer
// counts, that merge redirects lead to a customer, and that the outbox's
// pending set and claim index hold exactly the pending items, and that every
// event reads and the customer event index holds exactly the events it
// should (every kind but messages). It returns one line
// for each problem (at most maxProblems), none when the file is consistent.
// It reads one snapshot and writes nothing.
func (db *DB) Check(ctx context.Context) ([]string, error) {
	var problems []string
	err := db.view(func(btx *bbolt.Tx) error {
		c := &checker{tx: btx}
		if err := c.run(ctx); err != nil {
			return err
		}
		problems = c.problems
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("check: %w", err)
	}
	return problems, nil
}

type checker struct {
	tx       *bbolt.Tx
	problems []string
	more     int
}

func (c *checker) addf(format string, args ...any) {
	if len(c.problems) >= maxProblems {
		c.more++
		return
	}
	c.problems = append(c.problems, fmt.Sprintf(format, args...))
}

// want is an expected index: key → value (nil for entries without one).
type want map[string][]byte

func (c *checker) run(ctx context.Context) error {
	unique := map[string]want{} // bucket name → key → owner id
	multi := map[string]want{}  // bucket name → key → value
	for _, b := range [][]byte{bktIdxIdentity, bktIdxPhone, bktIdxEmail, bktIdxExternal} {
		unique[string(b)] = want{}
	}
	for _, b := range [][]byte{bktIdxName, bktIdxUsername, bktIdxClaim, bktIdxSegment} {
		multi[string(b)] = want{}
	}
	segments := map[string]int64{}
	var customers int64
	err := c.tx.Bucket(bktCustomers).ForEach(func(k, v []byte) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		if len(k) != 8 {
			// History keys (customer id + interaction id) live here too.
			return nil
		}
		var cu crm.Customer
		if err := decodeCustomer(k, v, &cu); err != nil {
			c.addf("customer %d does not decode: %v", readID(k), err)
			return nil
		}
		id := readID(k)
		if cu.ID != id {
			c.addf("customer stored under %d says it is %d", id, cu.ID)
		}
		customers++
		x := indexedOf(&cu)
		idv := idKey(id)
		claim := func(bucket []byte, key string) {
			if key == "" {
				return
			}
			m := unique[string(bucket)]
			if prev, ok := m[key]; ok && !bytes.Equal(prev, idv) {
				c.addf("%s %q is held by customers %d and %d", bucket, key, readID(prev), id)
				return
			}
			m[key] = idv
		}
		for _, k := range x.identities {
			claim(bktIdxIdentity, k)
		}
		claim(bktIdxPhone, x.phone)
		claim(bktIdxEmail, x.email)
		claim(bktIdxExternal, x.external)
		if words := nameWords(x.name); len(words) > 0 {
			joined := []byte(strings.Join(words, " "))
			for _, w := range words {
				multi[string(bktIdxName)][string(strIDKey(w, uint64(id)))] = joined
			}
		}
		for _, u := range x.usernames {
			multi[string(bktIdxUsername)][string(strIDKey(u, uint64(id)))] = nil
		}
		for _, v := range x.claims {
			multi[string(bktIdxClaim)][string(strIDKey(v, uint64(id)))] = nil
		}
		if x.segment != "" {
			multi[string(bktIdxSegment)][string(segmentKey(x.segment, x.spent, uint64(id)))] = nil
			segments[x.segment]++
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, name := range sortedKeys(unique) {
		c.compare([]byte(name), unique[name], true)
	}
	for _, name := range sortedKeys(multi) {
		c.compare([]byte(name), multi[name], false)
	}
	c.counts(customers, segments)
	c.redirects()
	if err := c.outbox(ctx); err != nil {
		return err
	}
	if err := c.events(ctx); err != nil {
		return err
	}
	if c.more > 0 {
		c.problems = append(c.problems, fmt.Sprintf("… and %d more problems", c.more))
	}
	return nil
}

// compare reports entries of bucket that no record explains, and entries the
// records need that are missing or hold another value.
func (c *checker) compare(bucket []byte, exp want, ids bool) {
	seen := make(map[string]bool, len(exp))
	_ = c.tx.Bucket(bucket).ForEach(func(k, v []byte) error {
		w, ok := exp[string(k)]
		switch {
		case !ok && ids:
			c.addf("%s %q points at customer %d, who does not hold it", bucket, k, readID(v))
		case !ok:
			c.addf("%s has an entry %q no customer explains", bucket, printable(k))
		case !bytes.Equal(w, v) && (len(w) > 0 || len(v) > 0):
			if ids {
				c.addf("%s %q points at customer %d, want %d", bucket, k, readID(v), readID(w))
			} else {
				c.addf("%s entry %q holds %q, want %q", bucket, printable(k), v, w)
			}
		}
		seen[string(k)] = true
		return nil
	})
	missing := make([]string, 0)
	for k := range exp {
		if !seen[k] {
			missing = append(missing, k)
		}
	}
	sort.Strings(missing)
	for _, k := range missing {
		if ids {
			c.addf("%s lacks %q (customer %d)", bucket, k, readID(exp[k]))
		} else {
			c.addf("%s lacks the entry %q", bucket, printable([]byte(k)))
		}
	}
}

// counts compares the stored customer and segment counts with the records.
func (c *checker) counts(customers int64, segments map[string]int64) {
	counters := c.tx.Bucket(bktCounters)
	get := func(name string) int64 {
		v := counters.Get([]byte(name))
		if v == nil {
			return 0
		}
		return readInt(v)
	}
	if got := get(counterCustomers); got != customers {
		c.addf("the customer count says %d, the records %d", got, customers)
	}
	stored := map[string]bool{}
	cur := counters.Cursor()
	p := []byte(counterSegmentPrefix)
	for k, _ := cur.Seek(p); k != nil && bytes.HasPrefix(k, p); k, _ = cur.Next() {
		stored[string(k[len(p):])] = true
	}
	for name := range segments {
		stored[name] = true
	}
	for _, name := range sortedKeys(stored) {
		if got, want := get(counterSegmentPrefix+name), segments[name]; got != want {
			c.addf("segment %q count says %d, the records %d", name, got, want)
		}
	}
}

// redirects reports merge redirects that lead nowhere.
func (c *checker) redirects() {
	customers, redirects := c.tx.Bucket(bktCustomers), c.tx.Bucket(bktRedirects)
	_ = redirects.ForEach(func(k, v []byte) error {
		to := readID(v)
		for hops := 0; to != 0 && hops < 64; hops++ {
			if customers.Get(idKey(to)) != nil {
				return nil
			}
			to = readID(redirects.Get(idKey(to)))
		}
		c.addf("customer %d was merged into %d, which leads to no customer", readID(k), readID(v))
		return nil
	})
}

func printable(k []byte) string { return strings.ReplaceAll(string(k), "\x00", "·") }

// sortedKeys is slices.Sorted(maps.Keys(m)) in one allocation (Collect
// grows its slice step by step; a customer record has a month of days).
func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// outbox checks that outbox_pending holds exactly the pending items, each
// naming its own outbox_claim entry, and that outbox_claim holds nothing
// else, with leases that read.
func (c *checker) outbox(ctx context.Context) error {
	items, states, claim := c.tx.Bucket(bktOutbox), c.tx.Bucket(bktOutboxState), c.tx.Bucket(bktOutboxClaim)
	named := map[string]bool{}
	err := items.ForEach(func(k, v []byte) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		id := readID(k)
		var it crm.OutboxItem
		if err := decodeOutboxItem(k, v, &it); err != nil {
			c.addf("outbox item %d does not decode: %v", id, err)
			return nil
		}
		if s := states.Get(k); s != nil {
			st, err := decodeOutboxState(k, s)
			if err != nil {
				c.addf("outbox item %d: delivery state does not decode: %v", id, err)
				return nil
			}
			it.Status = st.Status
		}
		// Where claimKeyOf looks: a reply's place, then the record's.
		var ck []byte
		for _, k := range [][]byte{claimKey(0, time.Time{}, id), claimKey(it.Priority, it.Due, id)} {
			if ck == nil && claim.Get(k) != nil {
				ck = k
			}
		}
		if queued := ck != nil; queued != (it.Status == crm.OutboxPending) {
			c.addf("outbox item %d is %s but the pending set says %v", id, it.Status, queued)
		}
		if ck != nil {
			named[string(ck)] = true
		}
		return nil
	})
	if err != nil {
		return err
	}
	_ = claim.ForEach(func(k, v []byte) error {
		switch {
		case len(k) != 17:
			c.addf("outbox_claim has a malformed key %x", k)
		case !named[string(k)]:
			c.addf("outbox_claim has an entry %x no pending item names", k)
		}
		if _, _, ok := readLease(v); !ok {
			c.addf("outbox_claim entry %x holds a lease that does not read (%x)", k, v)
		}
		return nil
	})
	return nil
}

// events checks that every event decodes and that idx_event_customer holds
// exactly one entry for each event but the message events, under the
// customer the event names.
func (c *checker) events(ctx context.Context) error {
	exp := want{}
	err := c.tx.Bucket(bktEvents).ForEach(func(k, v []byte) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		if len(v) > 0 && v[0] == batchFormat {
			at := keyTime(k)
			if err := decodeEvents(k, v, func(e *crm.Event) error {
				if !isMessageEvent(e.Kind) {
					c.addf("%s/%x: a batch holds a %s event (only message events are batched)", bktEvents, k, e.Kind)
				}
				if d := e.Time.Sub(at); d < 0 || d > maxBatchSpan {
					c.addf("%s/%x: a batch member's time %s is not within %s after the batch's", bktEvents, k, e.Time.Format(time.RFC3339Nano), maxBatchSpan)
				}
				return nil
			}); err != nil {
				c.addf("%v", err)
			}
			return nil
		}
		e, err := decodeEvent(k, v)
		if err != nil {
			c.addf("%v", err)
			return nil
		}
		if !isMessageEvent(e.Kind) {
			exp[string(eventCustomerKey(e.CustomerID, k))] = nil
		}
		return nil
	})
	if err != nil {
		return err
	}
	c.compare(bktIdxEventCustomer, exp, false)
	return nil
}

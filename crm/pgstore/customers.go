package pgstore

import (
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/idicbot/idicbot/crm"
	"github.com/idicbot/idicbot/crm/internal/reccodec"
)

// Kinds of customer_keys and customer_values rows.
const (
	keyIdentity = "i"
	keyPhone    = "p"
	keyEmail    = "e"
	keyExternal = "x"
	valUsername = "u"
	valClaim    = "c"
)

// decodeCustomer reads a customers row; the id column is the truth.
func decodeCustomer(id int64, data []byte) (*crm.Customer, error) {
	c := new(crm.Customer)
	if err := decodeEither("customer", id, data, c, reccodec.IsCustomer, reccodec.DecodeCustomer); err != nil {
		return nil, err
	}
	c.ID = crm.ID(id)
	return c, nil
}

// getCustomer returns the stored customer id (no redirects), nil when none.
func (t *Tx) getCustomer(id crm.ID) (*crm.Customer, error) {
	var data []byte
	found, err := t.queryRow("read customer", `SELECT data FROM customers WHERE id = $1`+t.forUpdate(), []any{int64(id)}, &data)
	if err != nil || !found {
		return nil, err
	}
	c, err := decodeCustomer(int64(id), data)
	if err != nil {
		return nil, err
	}
	t.remember(c)
	return c, nil
}

// remember keeps what the indexes hold for c, read in an Update.
func (t *Tx) remember(c *crm.Customer) {
	if !t.writable {
		return
	}
	if t.stored == nil {
		t.stored = make(map[crm.ID]indexed)
	}
	t.stored[c.ID] = indexedOf(c)
}

// customersWhere returns the customers a query of (id, data) rows finds.
func (t *Tx) customersWhere(what, sql string, args ...any) ([]*crm.Customer, error) {
	rows, err := t.q.Query(t.ctx, sql+t.forUpdate(), args...)
	if err != nil {
		return nil, t.note(what, err)
	}
	var out []*crm.Customer
	for rows.Next() {
		var id int64
		var data []byte
		if err := rows.Scan(&id, &data); err != nil {
			rows.Close()
			return nil, t.note(what, err)
		}
		c, err := decodeCustomer(id, data)
		if err != nil {
			rows.Close()
			return nil, err
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, t.note(what, err)
	}
	for _, c := range out {
		t.remember(c)
	}
	return out, nil
}

// resolve follows merge redirects from id to the id it ended up as.
func (t *Tx) resolve(id crm.ID) (crm.ID, error) {
	for range maxRedirects {
		var next int64
		found, err := t.queryRow("resolve customer", `SELECT merged_into FROM customer_redirects WHERE id = $1`, []any{int64(id)}, &next)
		if err != nil {
			return 0, err
		} else if !found {
			return id, nil
		}
		id = crm.ID(next)
	}
	return id, nil
}

// Customer implements crm.Tx: it follows merge redirects, chains included.
func (t *Tx) Customer(id crm.ID) (*crm.Customer, error) {
	c, err := t.getCustomer(id)
	if err != nil {
		return nil, err
	}
	if c == nil {
		// A merged-away id has no row but a redirect.
		to, err := t.resolve(id)
		if err != nil {
			return nil, err
		}
		if to != id {
			if c, err = t.getCustomer(to); err != nil {
				return nil, err
			}
		}
	}
	if c == nil {
		return nil, crm.Errorf(crm.ENOTFOUND, "Customer %d not found.", id)
	}
	return c, nil
}

func (t *Tx) findByKey(kind, key string) (*crm.Customer, error) {
	if !validKey(key) {
		return nil, nil
	}
	if c, ok := t.claimAhead(kind, key); ok {
		return c, nil
	}
	cs, err := t.customersWhere("find customer", `SELECT c.id, c.data FROM customer_keys k JOIN customers c ON c.id = k.customer_id
WHERE k.kind = $1 AND k.key = $2`, kind, key)
	if err != nil || len(cs) == 0 {
		return nil, err
	}
	return cs[0], nil
}

// claimAhead answers a lookup of a claimed phone or email from what the
// group read ahead (queueClaims), once, unless the group may have changed
// the answer since: a turn before this one wrote a key of that kind, or
// the owner is a customer of the group's turns (read or written by them).
// Then the lookup reads, and sees what those turns wrote.
func (t *Tx) claimAhead(kind, key string) (*crm.Customer, bool) {
	a, g := t.ahead, t.q.group
	if a == nil || g == nil || a.claims == nil {
		return nil, false
	}
	ck := claimKey(kind, key)
	c, ok := a.claims[ck]
	if !ok {
		return nil, false
	}
	delete(a.claims, ck)
	if g.claimsChanged || c != nil && g.customerIDs[c.ID] {
		return nil, false
	}
	if c != nil {
		t.remember(c)
	}
	return c, true
}

// FindCustomerByIdentity implements crm.Tx. In an Update it first takes a
// transaction lock on the identity, so that two transactions handling a
// new user's first messages do not both create a customer: the second
// waits for the first to commit, then finds its customer.
func (t *Tx) FindCustomerByIdentity(ch crm.Channel, userID string) (*crm.Customer, error) {
	if userID == "" {
		return nil, nil
	}
	key := crm.IdentityKey(ch, userID)
	if a := t.ahead; a != nil && a.identity && a.key == key {
		// Read by ReadTurn, once.
		a.identity = false
		if a.customer != nil {
			t.remember(a.customer)
		}
		return a.customer, nil
	}
	if !t.writable || !validKey(key) {
		return t.findByKey(keyIdentity, key)
	}
	b := &pgx.Batch{}
	found := t.queueIdentity(b, key, nil)
	if err := t.q.SendBatch(t.ctx, b).Close(); err != nil {
		return nil, t.note("find customer by identity", err)
	}
	if *found != nil {
		t.remember(*found)
	}
	return *found, nil
}

// queueIdentity queues on b the lock on an identity and the read of its
// customer (FOR UPDATE), as two statements: the read's snapshot must be
// taken after the lock is granted. The customer is in *found after the
// batch, nil when none. With a, the lock's statement also reads a's dedupe
// marker (a statement less a turn).
func (t *Tx) queueIdentity(b *pgx.Batch, key string, a *readAhead) **crm.Customer {
	t.queueIdentityLock(b, key, a)
	found := new(*crm.Customer)
	b.Queue(`SELECT c.id, c.data FROM customer_keys k JOIN customers c ON c.id = k.customer_id
WHERE k.kind = $1 AND k.key = $2 FOR UPDATE`, keyIdentity, key).Query(func(rows pgx.Rows) error {
		for rows.Next() {
			var id int64
			var data []byte
			if err := rows.Scan(&id, &data); err != nil {
				return err
			}
			c, err := decodeCustomer(id, data)
			if err != nil {
				return err
			}
			*found = c
		}
		return rows.Err()
	})
	return found
}

// queueIdentityLock queues on b the lock on an identity, with a's dedupe
// marker's read when a is not nil.
func (t *Tx) queueIdentityLock(b *pgx.Batch, key string, a *readAhead) {
	if a == nil {
		b.Queue(`SELECT pg_advisory_xact_lock($1, hashtext($2))`, int32(lockIdentity), key)
		return
	}
	b.Queue(`SELECT pg_advisory_xact_lock($1, hashtext($2)), (SELECT interaction_id FROM seen WHERE channel = $3 AND message_id = $4)`,
		int32(lockIdentity), key, string(a.ch), a.msgID).QueryRow(func(row pgx.Row) error {
		var id *int64
		if err := row.Scan(nil, &id); err != nil {
			return err
		}
		if id != nil {
			a.seenID, a.seenFound = crm.ID(*id), true
		}
		return nil
	})
}

// FindCustomerByPhone implements crm.Tx. The phone must be E.164 already.
func (t *Tx) FindCustomerByPhone(e164 string) (*crm.Customer, error) {
	return t.findByKey(keyPhone, strings.TrimSpace(e164))
}

// FindCustomerByEmail implements crm.Tx; emails compare case-insensitively.
func (t *Tx) FindCustomerByEmail(email string) (*crm.Customer, error) {
	return t.findByKey(keyEmail, normEmail(email))
}

// FindCustomerByExternalID implements crm.Tx.
func (t *Tx) FindCustomerByExternalID(ext string) (*crm.Customer, error) {
	return t.findByKey(keyExternal, strings.TrimSpace(ext))
}

func (t *Tx) customersByValue(kind, value string) ([]*crm.Customer, error) {
	return t.customersWhere("find customers", `SELECT c.id, c.data FROM customer_values v JOIN customers c ON c.id = v.customer_id
WHERE v.kind = $1 AND v.value = $2 ORDER BY c.id`, kind, value)
}

// FindCustomersByUsername implements crm.Tx, in id order.
func (t *Tx) FindCustomersByUsername(ch crm.Channel, username string) ([]*crm.Customer, error) {
	k, ok := usernameKey(ch, username)
	if !ok {
		return nil, nil
	}
	return t.customersByValue(valUsername, k)
}

// FindCustomersByClaim implements crm.Tx, in id order.
func (t *Tx) FindCustomersByClaim(value string) ([]*crm.Customer, error) {
	v := strings.TrimSpace(value)
	if strings.Contains(v, "@") {
		v = normEmail(v)
	}
	if !validKey(v) {
		return nil, nil
	}
	return t.customersByValue(valClaim, v)
}

func normEmail(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

// nameWords returns the distinct folded words of a name.
func nameWords(name string) []string {
	var out []string
	for _, w := range crm.Words(crm.Fold(name)) {
		if !slices.Contains(out, w) {
			out = append(out, w)
		}
	}
	return out
}

// maxNameScan caps the index entries one name search reads, as bbolt's
// does, so a query made only of very common words stays fast (it may then
// miss matches).
const maxNameScan = 100_000

// FindCustomersByName implements crm.Tx as bbolt does: each query word
// must begin a word of the folded name; the index is read for the rarest
// query word (each counted up to rarityProbe entries), in index order, at
// most maxNameScan entries, until limit customers match; the other words
// are checked against the folded names the index entry carries, so the
// scan reads the index alone (docs/performance.md, seventh session). The
// customers come in the order the scan met them.
func (t *Tx) FindCustomersByName(query string, limit int) ([]*crm.Customer, error) {
	words := nameWords(query)
	if len(words) == 0 {
		return nil, nil
	}
	if limit <= 0 {
		limit = defaultNameLimit
	}
	probe := words[0]
	if len(words) > 1 {
		rows, err := t.q.Query(t.ctx, `SELECT w, (SELECT count(*) FROM (SELECT 1 FROM customer_words
	WHERE word >= w AND word < w || chr(1114111) LIMIT $2) x) FROM unnest($1::text[]) AS u(w)`, words, rarityProbe)
		if err != nil {
			return nil, t.note("find customers by name", err)
		}
		best := int64(-1)
		for rows.Next() {
			var w string
			var n int64
			if err := rows.Scan(&w, &n); err != nil {
				rows.Close()
				return nil, t.note("find customers by name", err)
			}
			if best < 0 || n < best || (n == best && len(w) > len(probe)) {
				probe, best = w, n
			}
		}
		if err := rows.Err(); err != nil {
			return nil, t.note("find customers by name", err)
		}
	}
	// ' ' || names || ' ' LIKE '% word%' tests that a word begins with
	// word; words are letters and digits only, so no LIKE escapes.
	var pats []string
	for _, w := range words {
		pats = append(pats, "% "+w+"%")
	}
	lock := ""
	if t.writable {
		lock = " FOR UPDATE OF c"
	}
	// The range is read in index order and the LIMIT stops it: the
	// planner, which cannot guess how many entries match every word,
	// would otherwise read the whole range and sort it. A customer two of
	// whose words begin with the probe ("an": An, Anh) meets the scan
	// twice; the second meeting is skipped and the scan goes on after it.
	var out []*crm.Customer
	seen := map[crm.ID]bool{}
	var afterWord string
	var afterID int64
	for len(out) < limit {
		need := limit - len(out)
		args := []any{probe, maxNameScan, pats, need}
		after := ""
		if afterID != 0 {
			// Comparing every entry with the last one read costs a tenth
			// more; the first read has none.
			after = "AND (w.word, w.customer_id) > ($5, $6) "
			args = append(args, afterWord, afterID)
		}
		rows, err := t.q.Query(t.ctx, `SELECT w.word, w.customer_id, c.data FROM (
	SELECT word, customer_id, names FROM customer_words
	WHERE word >= $1 AND word < $1 || chr(1114111)
	ORDER BY word, customer_id LIMIT $2) w
JOIN customers c ON c.id = w.customer_id
WHERE ' ' || w.names || ' ' LIKE ALL ($3::text[]) `+after+`
ORDER BY w.word, w.customer_id LIMIT $4`+lock, args...)
		if err != nil {
			return nil, t.note("find customers by name", err)
		}
		read := 0
		for rows.Next() {
			var id int64
			var data []byte
			if err := rows.Scan(&afterWord, &id, &data); err != nil {
				rows.Close()
				return nil, t.note("find customers by name", err)
			}
			read, afterID = read+1, id
			if seen[crm.ID(id)] {
				continue
			}
			c, err := decodeCustomer(id, data)
			if err != nil {
				rows.Close()
				return nil, err
			}
			seen[c.ID] = true
			out = append(out, c)
		}
		if err := rows.Err(); err != nil {
			return nil, t.note("find customers by name", err)
		}
		if read < need {
			break
		}
	}
	for _, c := range out {
		t.remember(c)
	}
	return out, nil
}

// indexed is the part of a customer the indexes see; the zero value is "no
// customer".
type indexed struct {
	exists     bool
	identities []string
	phone      string
	email      string
	external   string
	name       string
	segment    string
	spent      int64
	usernames  []string
	claims     []string
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
		spent:    max(c.Stats.TotalSpent, 0),
	}
	for _, v := range []string{strings.TrimSpace(c.Claims.Phone), normEmail(c.Claims.Email)} {
		if validKey(v) && len(v) <= maxKey && !slices.Contains(x.claims, v) {
			x.claims = append(x.claims, v)
		}
	}
	for _, idn := range c.Identities {
		if idn.UserID != "" {
			if k := idn.Key(); validKey(k) && !slices.Contains(x.identities, k) {
				x.identities = append(x.identities, k)
			}
		}
		if k, ok := usernameKey(idn.Channel, idn.Username); ok && !slices.Contains(x.usernames, k) {
			x.usernames = append(x.usernames, k)
		}
	}
	return x
}

// usernameKey is "channel 0x01 lower-cased username without @"; false for
// no username.
func usernameKey(ch crm.Channel, username string) (string, bool) {
	u := strings.ToLower(strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(username), "@")))
	if u == "" || len(u) > maxKey || !validKey(u) || strings.IndexByte(string(ch), 0) >= 0 {
		return "", false
	}
	return string(ch) + "\x01" + u, true
}

// storedIndexed returns what the indexes hold for customer id, locking its
// row in an Update.
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

// PutCustomer implements crm.Tx. ID 0 assigns an id (set on c). A key
// (identity, phone, email, external id) c gains that is indexed to another
// customer is taken over by c (last write wins), as in bbolt; a key c
// held already is not written again. Saving an id that was
// merged away is a conflict.
func (t *Tx) PutCustomer(c *crm.Customer) error {
	if c == nil {
		return crm.Errorf(crm.EINVALID, "No customer.")
	}
	var old indexed
	if c.ID != 0 {
		var err error
		if old, err = t.storedIndexed(c.ID); err != nil {
			return err
		}
		if !old.exists {
			var to int64
			found, err := t.queryRow("read redirect", `SELECT merged_into FROM customer_redirects WHERE id = $1`, []any{int64(c.ID)}, &to)
			if err != nil {
				return err
			} else if found {
				return crm.Errorf(crm.ECONFLICT, "Customer %d was merged into %d.", c.ID, to)
			}
		}
	}
	id := c.ID
	switch {
	case old.exists:
	case id == 0 && t.newCustomerID != 0:
		id, t.newCustomerID = t.newCustomerID, 0
	default:
		var err error
		if id, err = t.nextID("customers_id_seq", c.ID); err != nil {
			return err
		}
	}
	c.ID = id
	data := reccodec.EncodeCustomer(c)
	cur := indexedOf(c)
	b := &pgx.Batch{}
	if g := t.q.group; g != nil {
		g.customers = append(g.customers, customerRow{id: int64(id), segment: cur.segment, spent: cur.spent, data: data})
		g.holds(id)
	} else {
		b.Queue(`INSERT INTO customers (id, segment, spent, data) VALUES ($1, $2, $3, $4)
ON CONFLICT (id) DO UPDATE SET segment = EXCLUDED.segment, spent = EXCLUDED.spent, data = EXCLUDED.data`,
			int64(id), cur.segment, cur.spent, data)
	}
	t.reindex(b, id, old, cur)
	t.q.laterBatch(b) // with the commit, or the next read
	if t.stored == nil {
		t.stored = make(map[crm.ID]indexed)
	}
	t.stored[id] = cur
	return nil
}

// keyDelete removes a key a customer no longer holds.
const keyDelete = `DELETE FROM customer_keys WHERE kind = $1 AND key = $2 AND customer_id = $3`

// keyChanged notes, in a group, that a turn wrote a key of kind: a phone
// or email key read ahead for a later turn's claim may be stale.
func (t *Tx) keyChanged(kind string) {
	if g := t.q.group; g != nil && (kind == keyPhone || kind == keyEmail) {
		g.claimsChanged = true
	}
}

// keysTakeOver ends an INSERT of customer_keys: a key another customer
// held becomes the new one's (last write wins).
const keysTakeOver = `ON CONFLICT (kind, key) DO UPDATE SET customer_id = EXCLUDED.customer_id
WHERE customer_keys.customer_id <> EXCLUDED.customer_id`

// wordsReplace ends an INSERT of customer_words: the names are the
// latest.
const wordsReplace = `ON CONFLICT (word, customer_id) DO UPDATE SET names = EXCLUDED.names`

// reindex queues on b what moves every index entry and count of customer
// id from its old version to its new one (either may not exist).
func (t *Tx) reindex(b *pgx.Batch, id crm.ID, old, cur indexed) {
	cid := int64(id)
	type keyed struct {
		kind     string
		old, cur []string
	}
	one := func(s string) []string {
		if s == "" || !validKey(s) {
			return nil
		}
		return []string{s}
	}
	var upKinds, upKeys []string
	for _, k := range []keyed{
		{keyIdentity, old.identities, cur.identities},
		{keyPhone, one(old.phone), one(cur.phone)},
		{keyEmail, one(old.email), one(cur.email)},
		{keyExternal, one(old.external), one(cur.external)},
	} {
		for _, v := range k.old {
			if !slices.Contains(k.cur, v) {
				b.Queue(keyDelete, k.kind, v, cid)
				t.keyChanged(k.kind)
			}
		}
		for _, v := range k.cur {
			// A key the record held already is in place: the turn that
			// saves a customer (every message) writes no key row.
			if !slices.Contains(k.old, v) {
				upKinds, upKeys = append(upKinds, k.kind), append(upKeys, v)
				t.keyChanged(k.kind)
			}
		}
	}
	switch g := t.q.group; {
	case len(upKeys) == 0:
	case g != nil:
		// A group's turn: with the group's keys, after the deletes above
		// (a statement on customer_keys sends the gathered keys first).
		for i, k := range upKeys {
			g.keys = append(g.keys, keyRow{kind: upKinds[i], key: k, customer: cid})
		}
	default:
		b.Queue(`INSERT INTO customer_keys (kind, key, customer_id) SELECT k::"char", v, $3 FROM unnest($1::text[], $2::text[]) AS u(k, v)
`+keysTakeOver, upKinds, upKeys, cid)
	}

	for _, k := range []keyed{{valUsername, old.usernames, cur.usernames}, {valClaim, old.claims, cur.claims}} {
		for _, v := range k.old {
			if !slices.Contains(k.cur, v) {
				b.Queue(`DELETE FROM customer_values WHERE kind = $1 AND value = $2 AND customer_id = $3`, k.kind, v, cid)
			}
		}
		for _, v := range k.cur {
			if !slices.Contains(k.old, v) {
				b.Queue(`INSERT INTO customer_values (kind, value, customer_id) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`, k.kind, v, cid)
			}
		}
	}

	if !old.exists || !cur.exists || old.name != cur.name {
		oldWords, curWords := nameWords(old.name), nameWords(cur.name)
		if !cur.exists {
			curWords = nil
		}
		if len(oldWords) > 0 {
			b.Queue(`DELETE FROM customer_words WHERE customer_id = $1`, cid)
		}
		names := strings.Join(curWords, " ")
		switch g := t.q.group; {
		case len(curWords) == 0:
		case g != nil:
			for _, w := range curWords {
				g.words = append(g.words, wordRow{word: w, names: names, customer: cid})
			}
		default:
			b.Queue(`INSERT INTO customer_words (word, customer_id, names) SELECT w, $2, $3 FROM unnest($1::text[]) AS u(w)
`+wordsReplace, curWords, cid, names)
		}
	}

	add := t.addPending
	if old.exists && old.segment != "" && (!cur.exists || old.segment != cur.segment) {
		add(counterSegmentPrefix+old.segment, -1)
	}
	if cur.exists && cur.segment != "" && (!old.exists || old.segment != cur.segment) {
		add(counterSegmentPrefix+cur.segment, 1)
	}
	switch {
	case !old.exists && cur.exists:
		add(counterCustomers, 1)
	case old.exists && !cur.exists:
		add(counterCustomers, -1)
	}
}

// DeleteCustomer implements crm.Tx, as bbolt does: with mergedInto != 0
// it leaves a redirect and moves the customer's orders, interactions and
// events to mergedInto (followed to the customer it leads to).
func (t *Tx) DeleteCustomer(id crm.ID, mergedInto crm.ID) error {
	if id == mergedInto {
		return crm.Errorf(crm.EINVALID, "Cannot merge customer %d into itself.", id)
	}
	if mergedInto != 0 {
		to, err := t.resolve(mergedInto)
		if err != nil {
			return err
		}
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
	b := &pgx.Batch{}
	b.Queue(`DELETE FROM customers WHERE id = $1`, int64(id))
	t.reindex(b, id, indexedOf(old), indexed{})
	if mergedInto != 0 {
		from, to := int64(id), int64(mergedInto)
		b.Queue(`INSERT INTO customer_redirects (id, merged_into) VALUES ($1, $2)`, from, to)
		// Message events keep the customer they were logged for, as in
		// bbolt: the conversation log itself moves (interactions, below).
		b.Queue(`UPDATE events SET customer_id = $2 WHERE customer_id = $1 AND kind NOT IN ('message_in', 'message_out')`, from, to)
		b.Queue(`UPDATE orders SET customer_id = $2 WHERE customer_id = $1`, from, to)
		b.Queue(`UPDATE interactions SET customer_id = $2 WHERE customer_id = $1`, from, to)
	}
	if err := t.batch("delete customer", b); err != nil {
		return err
	}
	delete(t.stored, id)
	return nil
}

// scanCustomers calls fn for the customers a paged query finds, scanPage
// at a time, so fn may use the transaction (save customers) between
// pages. sql selects (id, data) with id > $1, ordered by id, LIMIT $2.
func (t *Tx) scanCustomers(what, sql string, fn func(*crm.Customer) error, args ...any) error {
	var after int64
	for {
		page, err := t.customersWhere(what, sql, append([]any{after, scanPage}, args...)...)
		if err != nil {
			return err
		}
		for _, c := range page {
			if err := fn(c); err != nil {
				return err
			}
		}
		if len(page) < scanPage {
			return nil
		}
		after = int64(page[len(page)-1].ID)
	}
}

// ForEachCustomer implements crm.Tx, in id order; in an Update fn may
// save customers.
func (t *Tx) ForEachCustomer(fn func(*crm.Customer) error) error {
	return t.scanCustomers("scan customers", `SELECT id, data FROM customers WHERE id > $1 ORDER BY id LIMIT $2`, fn)
}

// SegmentCustomers implements crm.Tx: most valuable first (total spent,
// then id), from the segment index, a page at a time.
func (t *Tx) SegmentCustomers(segment string, fn func(crm.ID) error) error {
	if segment == "" || !validKey(segment) {
		return nil
	}
	type pos struct {
		spent int64
		id    int64
	}
	var after *pos
	for {
		var rows pgx.Rows
		var err error
		if after == nil {
			rows, err = t.q.Query(t.ctx, `SELECT spent, id FROM customers WHERE segment = $1 ORDER BY spent DESC, id LIMIT $2`, segment, scanPage)
		} else {
			rows, err = t.q.Query(t.ctx, `SELECT spent, id FROM customers WHERE segment = $1 AND (spent < $3 OR (spent = $3 AND id > $4))
ORDER BY spent DESC, id LIMIT $2`, segment, scanPage, after.spent, after.id)
		}
		if err != nil {
			return t.note("segment customers", err)
		}
		var page []pos
		for rows.Next() {
			var p pos
			if err := rows.Scan(&p.spent, &p.id); err != nil {
				rows.Close()
				return t.note("segment customers", err)
			}
			page = append(page, p)
		}
		if err := rows.Err(); err != nil {
			return t.note("segment customers", err)
		}
		for _, p := range page {
			if err := fn(crm.ID(p.id)); err != nil {
				return err
			}
		}
		if len(page) < scanPage {
			return nil
		}
		after = &page[len(page)-1]
	}
}

// SegmentCount implements crm.Tx from a counter.
func (t *Tx) SegmentCount(segment string) (int64, error) {
	return t.Counter(counterSegmentPrefix + segment)
}

// CustomerCount implements crm.Tx from a counter.
func (t *Tx) CustomerCount() (int64, error) {
	return t.Counter(counterCustomers)
}

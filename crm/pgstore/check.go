package pgstore

import (
	"context"
	"fmt"

	"github.com/idicbot/idicbot/crm"
)

// maxProblems bounds the problems Check reports.
const maxProblems = 100

// Check verifies that every customer index and count agrees with the
// customer records (keys, usernames, claims, name words, the customer and
// segment counts), that merge redirects lead to a customer and that no
// item outside the pending set holds a lease. It returns one line per
// problem (at most maxProblems), none when the database is consistent. It
// reads one snapshot and writes nothing; it reads every customer, so on a
// large database it is for maintenance windows (idicbot check).
func (db *DB) Check(ctx context.Context) ([]string, error) {
	var problems []string
	addf := func(format string, args ...any) {
		if len(problems) < maxProblems {
			problems = append(problems, fmt.Sprintf(format, args...))
		}
	}
	err := db.View(ctx, func(ctx crm.Tx) error {
		t := ctx.(*Tx)
		type entry struct {
			kind, key string
			id        crm.ID
		}
		keys := map[[2]string]bool{} // unique keys some record holds
		owned := map[entry]bool{}    // (kind, key, id) a record yields
		values := map[entry]bool{}   // usernames, claims, words
		segments := map[string]int64{}
		var customers int64
		if err := t.ForEachCustomer(func(c *crm.Customer) error {
			customers++
			x := indexedOf(c)
			if x.segment != "" {
				segments[x.segment]++
			}
			add := func(kind string, vs ...string) {
				for _, v := range vs {
					if validKey(v) {
						keys[[2]string{kind, v}] = true
						owned[entry{kind, v, c.ID}] = true
					}
				}
			}
			add(keyIdentity, x.identities...)
			add(keyPhone, x.phone)
			add(keyEmail, x.email)
			add(keyExternal, x.external)
			for _, u := range x.usernames {
				values[entry{valUsername, u, c.ID}] = true
			}
			for _, v := range x.claims {
				values[entry{valClaim, v, c.ID}] = true
			}
			for _, w := range nameWords(x.name) {
				values[entry{"w", w, c.ID}] = true
			}
			return nil
		}); err != nil {
			return err
		}
		rows, err := t.q.Query(t.ctx, `SELECT kind::text, key, customer_id FROM customer_keys
UNION ALL SELECT kind::text, value, customer_id FROM customer_values
UNION ALL SELECT 'w', word, customer_id FROM customer_words`)
		if err != nil {
			return t.note("check", err)
		}
		indexed := map[[2]string]bool{}
		for rows.Next() {
			var e entry
			var id int64
			if err := rows.Scan(&e.kind, &e.key, &id); err != nil {
				rows.Close()
				return t.note("check", err)
			}
			e.id = crm.ID(id)
			switch e.kind {
			case keyIdentity, keyPhone, keyEmail, keyExternal:
				indexed[[2]string{e.kind, e.key}] = true
				if !owned[e] {
					addf("index %s %q names customer %d, whose record does not hold it", e.kind, e.key, e.id)
				}
			default:
				if !values[e] {
					addf("index %s %q names customer %d, whose record does not hold it", e.kind, e.key, e.id)
				}
				delete(values, e)
			}
		}
		if err := rows.Err(); err != nil {
			return t.note("check", err)
		}
		for k := range keys {
			if !indexed[k] {
				addf("index %s has no entry for %q", k[0], k[1])
			}
		}
		for e := range values {
			addf("index %s has no entry %q for customer %d", e.kind, e.key, e.id)
		}
		if n, err := t.CustomerCount(); err != nil {
			return err
		} else if n != customers {
			addf("customer count %d, %d customers stored", n, customers)
		}
		counted, err := t.Counters(counterSegmentPrefix)
		if err != nil {
			return err
		}
		for name, n := range counted {
			seg := name[len(counterSegmentPrefix):]
			if n != segments[seg] {
				addf("segment %q count %d, %d customers stored", seg, n, segments[seg])
			}
			delete(segments, seg)
		}
		for seg, n := range segments {
			addf("segment %q has %d customers and no count", seg, n)
		}
		var dangling, leased int64
		if _, err := t.queryRow("check", `SELECT count(*) FROM customer_redirects r
WHERE NOT EXISTS (SELECT 1 FROM customers c WHERE c.id = r.merged_into)
  AND NOT EXISTS (SELECT 1 FROM customer_redirects n WHERE n.id = r.merged_into)`, nil, &dangling); err != nil {
			return err
		}
		if dangling > 0 {
			addf("%d merge redirects lead nowhere", dangling)
		}
		if _, err := t.queryRow("check", `SELECT count(*) FROM outbox WHERE status <> 'pending' AND (lease_owner <> '' OR lease_until <> 0)`, nil, &leased); err != nil {
			return err
		}
		if leased > 0 {
			addf("%d outbox items out of the pending set hold a lease", leased)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("check: %w", err)
	}
	return problems, nil
}

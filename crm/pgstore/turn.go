package pgstore

import (
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/idicbot/idicbot/crm"
)

var _ crm.TurnReader = (*Tx)(nil)

// readAhead is what ReadTurn fetched; each part answers one later call.
type readAhead struct {
	ch     crm.Channel
	msgID  string
	userID string
	// seen: the marker was read (seenID, seenFound).
	seen      bool
	seenID    crm.ID
	seenFound bool
	// identity: the customer holding key was read (nil: none).
	identity bool
	key      string
	customer *crm.Customer
	// group: read with a group's BEGIN, for the one ReadTurn call that
	// follows.
	group bool
	// claims are the owners of the phone and email the turn claims, read
	// with the group (claimKey; nil: no owner), each for one lookup.
	claims map[string]*crm.Customer
}

// claimKey names a claimed phone or email among a turn's claims.
func claimKey(kind, key string) string { return kind + "\x00" + key }

// ReadTurn implements crm.TurnReader: with the transaction's BEGIN, in one
// round trip, it reads the dedupe marker and, in an Update, takes the
// identity's lock, reads and locks its customer, takes the lock on the
// customer's history and draws the ids of the turn's interactions and
// outbox items (historyID, outboxID), so a returning customer's turn sends
// its writes with the commit and waits on nothing else.
func (t *Tx) ReadTurn(ch crm.Channel, msgID, userID string) error {
	if a := t.ahead; a != nil && a.group && a.ch == ch && a.msgID == msgID && a.userID == userID {
		// Read with the group's BEGIN (group.go).
		return nil
	}
	b := &pgx.Batch{}
	finish := t.queueTurn(b, ch, msgID, userID)
	if b.Len() == 0 {
		return nil
	}
	if err := t.q.SendBatch(t.ctx, b).Close(); err != nil {
		return t.note("read the turn", err)
	}
	finish()
	return nil
}

// queueTurn queues ReadTurn's statements on b; finish, called once b's
// results were read, keeps what they read for the calls that follow.
func (t *Tx) queueTurn(b *pgx.Batch, ch crm.Channel, msgID, userID string) (finish func()) {
	a := &readAhead{ch: ch, msgID: msgID, userID: userID, group: t.q.group != nil}
	key := crm.IdentityKey(ch, userID)
	identity := t.writable && userID != "" && validKey(key)
	a.seen = validKey(msgID) && strings.IndexByte(string(ch), 0) < 0
	if a.seen && !identity {
		b.Queue(`SELECT interaction_id FROM seen WHERE channel = $1 AND message_id = $2`, string(ch), msgID).
			Query(func(rows pgx.Rows) error {
				for rows.Next() {
					var id int64
					if err := rows.Scan(&id); err != nil {
						return err
					}
					a.seenID, a.seenFound = crm.ID(id), true
				}
				return rows.Err()
			})
	}
	var owner int64
	var newID int64
	var historyIDs, outboxIDs []int64
	if identity {
		a.identity, a.key = true, key
		withSeen := a
		if !a.seen {
			withSeen = nil
		}
		t.queueIdentityLock(b, key, withSeen)
		// In one statement, in this order: the customer's row locked,
		// then the lock on its history, then the ids drawn under it. The
		// history's lateral join reads c, so it runs for c's row once
		// LockRows has locked it; the id arrays are init plans of the
		// select list, which PostgreSQL runs when the joined row is
		// projected (ExecSetParamPlan, on first use), after both locks.
		// A new identity's customer gets its id here too:
		// nobody else can append to the history of an id no committed row
		// holds, so its interaction ids need no lock.
		b.Queue(`SELECT c.id, c.data,
	CASE WHEN c.id IS NULL AND NOT EXISTS (SELECT 1 FROM customer_keys WHERE kind = $2 AND key = $3)
		THEN nextval('customers_id_seq') ELSE 0 END,
	array(SELECT nextval('interactions_id_seq') FROM generate_series(1, $1)),
	array(SELECT nextval('outbox_id_seq') FROM generate_series(1, $1))
FROM (SELECT 1) AS one
LEFT JOIN LATERAL (SELECT r.id, r.data FROM customer_keys k JOIN customers r ON r.id = k.customer_id
	WHERE k.kind = $2 AND k.key = $3 FOR UPDATE OF r) AS c ON true
LEFT JOIN LATERAL (SELECT pg_advisory_xact_lock($4, ((c.id << 32) >> 32)::int4)) AS history ON c.id IS NOT NULL`,
			idsAhead, keyIdentity, key, int32(lockHistory)).
			QueryRow(func(row pgx.Row) error {
				var id *int64
				var data []byte
				if err := row.Scan(&id, &data, &newID, &historyIDs, &outboxIDs); err != nil {
					return err
				}
				if id == nil {
					return nil
				}
				c, err := decodeCustomer(*id, data)
				if err != nil {
					return err
				}
				a.customer, owner = c, *id
				return nil
			})
	}
	return func() {
		slices.Sort(historyIDs)
		switch c := a.customer; {
		case c != nil && crm.ID(owner) == c.ID:
			t.historyFor, t.historyIDs = c.ID, historyIDs
		case c == nil && newID != 0:
			t.newCustomerID = crm.ID(newID)
			t.historyFor, t.historyIDs = t.newCustomerID, historyIDs
		}
		slices.Sort(outboxIDs)
		t.outboxIDs = append(t.outboxIDs, outboxIDs...)
		t.ahead = a
	}
}

// queueClaims queues on b the read of the owners of the phones and emails
// the turns claim, locked as findByKey locks them, after the turns' own
// customers; each turn's claims answer its lookups (Tx.claimAhead).
func queueClaims(b *pgx.Batch, ahead []*readAhead, keys []crm.TurnKey) {
	var kinds, values []string
	var turns []int64
	for i, k := range keys {
		for _, c := range [...]struct{ kind, key string }{{keyPhone, strings.TrimSpace(k.Phone)}, {keyEmail, normEmail(k.Email)}} {
			if c.key == "" || !validKey(c.key) {
				continue
			}
			if ahead[i].claims == nil {
				ahead[i].claims = map[string]*crm.Customer{}
			}
			ahead[i].claims[claimKey(c.kind, c.key)] = nil
			kinds, values, turns = append(kinds, c.kind), append(values, c.key), append(turns, int64(i))
		}
	}
	if len(turns) == 0 {
		return
	}
	b.Queue(`SELECT k.n, k.kind, c.id, c.data
FROM unnest($1::text[], $2::text[], $3::bigint[]) AS k(kind, key, n)
JOIN customer_keys ck ON ck.kind = k.kind::"char" AND ck.key = k.key
JOIN customers c ON c.id = ck.customer_id
ORDER BY c.id FOR UPDATE OF c`, kinds, values, turns).Query(func(rows pgx.Rows) error {
		for rows.Next() {
			var n, id int64
			var kind string
			var data []byte
			if err := rows.Scan(&n, &kind, &id, &data); err != nil {
				return err
			}
			c, err := decodeCustomer(id, data)
			if err != nil {
				return err
			}
			for k := range ahead[n].claims {
				if strings.HasPrefix(k, kind+"\x00") {
					// The one claim of this kind a turn has.
					ahead[n].claims[k] = c
				}
			}
		}
		return rows.Err()
	})
}

// queueGroupReads queues on b what ReadTurn reads, for every turn of a
// group at once, in three statements rather than two a turn: the
// identities' locks with the markers, in the order of txs (the identity
// keys' order); then, in that order again, each identity's customer row
// locked and the lock on its history, and a new identity's customer id;
// then every turn's interaction and outbox ids, drawn once every history
// is locked. Every key must be a valid identity key. finish, called once
// b's results were read, gives each Tx what it read.
func queueGroupReads(b *pgx.Batch, txs []*Tx, keys []crm.TurnKey) (finish func()) {
	n := len(txs)
	ahead := make([]*readAhead, n)
	idKeys, chs, msgs := make([]string, n), make([]string, n), make([]string, n)
	for i, k := range keys {
		ahead[i] = &readAhead{ch: k.Channel, msgID: k.MsgID, userID: k.UserID, group: true,
			seen:     validKey(k.MsgID) && strings.IndexByte(string(k.Channel), 0) < 0,
			identity: true, key: crm.IdentityKey(k.Channel, k.UserID)}
		idKeys[i], chs[i], msgs[i] = ahead[i].key, string(k.Channel), k.MsgID
	}
	// The function scan hands the keys in their order, and each row's
	// select list (its lock, then its marker) is computed as it passes.
	b.Queue(`SELECT k.n, pg_advisory_xact_lock($1, hashtext(k.key)),
	(SELECT interaction_id FROM seen WHERE channel = k.ch AND message_id = k.msg)
FROM unnest($2::text[], $3::text[], $4::text[]) WITH ORDINALITY AS k(key, ch, msg, n)`,
		int32(lockIdentity), idKeys, chs, msgs).Query(func(rows pgx.Rows) error {
		for rows.Next() {
			var i int64
			var id *int64
			if err := rows.Scan(&i, nil, &id); err != nil {
				return err
			}
			if a := ahead[i-1]; a.seen && id != nil {
				a.seenID, a.seenFound = crm.ID(*id), true
			}
		}
		return rows.Err()
	})
	owners, newIDs := make([]int64, n), make([]int64, n)
	// As ReadTurn's statement, a key after another: the nested loop takes
	// a key's customer row (LockRows), then its history's lock, before
	// the next key; a new identity's id is drawn as its row is projected.
	b.Queue(`SELECT k.n, c.id, c.data,
	CASE WHEN c.id IS NULL AND NOT EXISTS (SELECT 1 FROM customer_keys WHERE kind = $1 AND key = k.key)
		THEN nextval('customers_id_seq') ELSE 0 END
FROM unnest($2::text[]) WITH ORDINALITY AS k(key, n)
LEFT JOIN LATERAL (SELECT r.id, r.data FROM customer_keys ck JOIN customers r ON r.id = ck.customer_id
	WHERE ck.kind = $1 AND ck.key = k.key FOR UPDATE OF r) AS c ON true
LEFT JOIN LATERAL (SELECT pg_advisory_xact_lock($3, ((c.id << 32) >> 32)::int4)) AS history ON c.id IS NOT NULL`,
		keyIdentity, idKeys, int32(lockHistory)).Query(func(rows pgx.Rows) error {
		for rows.Next() {
			var i int64
			var id *int64
			var data []byte
			var newID int64
			if err := rows.Scan(&i, &id, &data, &newID); err != nil {
				return err
			}
			newIDs[i-1] = newID
			if id == nil {
				continue
			}
			c, err := decodeCustomer(*id, data)
			if err != nil {
				return err
			}
			ahead[i-1].customer, owners[i-1] = c, *id
		}
		return rows.Err()
	})
	queueClaims(b, ahead, keys)
	var historyIDs, outboxIDs []int64
	b.Queue(`SELECT array(SELECT nextval('interactions_id_seq') FROM generate_series(1, $1)),
	array(SELECT nextval('outbox_id_seq') FROM generate_series(1, $1))`, n*idsAhead).
		QueryRow(func(row pgx.Row) error { return row.Scan(&historyIDs, &outboxIDs) })
	return func() {
		slices.Sort(historyIDs)
		slices.Sort(outboxIDs)
		for i, t := range txs {
			a := ahead[i]
			ids := historyIDs[i*idsAhead : (i+1)*idsAhead]
			switch c := a.customer; {
			case c != nil && crm.ID(owners[i]) == c.ID:
				t.historyFor, t.historyIDs = c.ID, ids
			case c == nil && newIDs[i] != 0:
				t.newCustomerID = crm.ID(newIDs[i])
				t.historyFor, t.historyIDs = t.newCustomerID, ids
			}
			t.outboxIDs = append(t.outboxIDs, outboxIDs[i*idsAhead:(i+1)*idsAhead]...)
			t.ahead = a
		}
	}
}

package main

import (
	"context"
	"fmt"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
)

// pgFloor measures what the rows of a turn cost PostgreSQL without the
// core: for each message, the customer read by identity and locked, two
// interactions, the customer's row, a dedupe marker, an outbox item and
// its delivery, an event and the turn's counters, in the store's own
// tables and indexes, perMsgs messages a transaction (each table's rows
// as one statement), at the pipeline's concurrency. It is the ceiling the
// pipeline on PostgreSQL could reach on this machine with no Go work at
// all, and shows what committing turns together is worth.
func pgFloor(ctx context.Context, o benchOptions, perTx int) (benchResult, error) {
	db, done, err := schemaStore(ctx, o)
	if err != nil {
		return benchResult{}, err
	}
	defer done()
	pool := db.Pool()
	customers := max(o.Customers, 1)
	record, interaction, item, event := make([]byte, 700), make([]byte, 300), make([]byte, 400), make([]byte, 40)
	for start := 0; start < customers; start += 1000 {
		b := &pgx.Batch{}
		for i := start; i < min(start+1000, customers); i++ {
			b.Queue(`INSERT INTO customers (id, segment, spent, data) VALUES ($1, 'new', 0, $2)`, i+1, record)
			b.Queue(`INSERT INTO customer_keys (kind, key, customer_id) VALUES ('i', $1, $2)`, "web:f"+strconv.Itoa(i), i+1)
		}
		if err := pool.SendBatch(ctx, b).Close(); err != nil {
			return benchResult{}, err
		}
	}
	if _, err := pool.Exec(ctx, `VACUUM ANALYZE`); err != nil {
		return benchResult{}, err
	}
	var ids atomic.Int64
	txs := (o.Messages + perTx - 1) / perTx
	checkpoint(ctx, pool)
	res, err := runOps(ctx, txs, o.Concurrency, func(_, n int) error {
		first := (n - 1) * perTx
		last := min(first+perTx, o.Messages)
		var iid, icust, cid, sint, sat, oid, ocust, eseq, ecust, eat []int64
		var idata, cdata, odata, edata [][]byte
		var sch, smsg []string
		b := &pgx.Batch{}
		b.Queue("begin")
		now := time.Now().UnixNano()
		for m := first; m < last; m++ {
			cust := int64(m%customers + 1)
			b.Queue(`SELECT c.id, c.data FROM customer_keys k JOIN customers c ON c.id = k.customer_id
WHERE k.kind = 'i' AND k.key = $1 FOR UPDATE`, "web:f"+strconv.Itoa(m%customers))
			id := ids.Add(2)
			iid, icust, idata = append(iid, id-1, id), append(icust, cust, cust), append(idata, interaction, interaction)
			cid, cdata = append(cid, cust), append(cdata, record)
			sch, smsg, sint, sat = append(sch, "web"), append(smsg, "f"+strconv.Itoa(m)), append(sint, id-1), append(sat, now)
			oid, ocust, odata = append(oid, id), append(ocust, cust), append(odata, item)
			eseq, ecust, eat, edata = append(eseq, id), append(ecust, cust), append(eat, now), append(edata, event)
		}
		b.Queue(`INSERT INTO interactions (id, customer_id, data) SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::bytea[])`, iid, icust, idata)
		b.Queue(`UPDATE customers c SET data = u.d FROM unnest($1::bigint[], $2::bytea[]) AS u(id, d) WHERE c.id = u.id`, cid, cdata)
		b.Queue(`INSERT INTO seen (channel, message_id, interaction_id, marked_at)
SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[], $4::bigint[])`, sch, smsg, sint, sat)
		b.Queue(`INSERT INTO outbox (id, customer_id, status, priority, due, data)
SELECT i, c, 'pending', 0, 0, d FROM unnest($1::bigint[], $2::bigint[], $3::bytea[]) AS u(i, c, d)`, oid, ocust, odata)
		kinds := make([]string, len(eseq))
		for i := range kinds {
			kinds[i] = "message_in"
		}
		b.Queue(`INSERT INTO events (seq, customer_id, at, kind, data)
SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::text[], $5::bytea[])`, eseq, ecust, eat, kinds, edata)
		b.Queue(`INSERT INTO counters (name, shard, value) SELECT n, $2, 1 FROM unnest($1::text[]) AS u(n)
ON CONFLICT (name, shard) DO UPDATE SET value = counters.value + EXCLUDED.value`,
			[]string{"messages_in", "messages_out", "day:in", "day:out", "intent", "segment", "offer"}, int16(n%64))
		b.Queue("commit")
		if err := pool.SendBatch(ctx, b).Close(); err != nil {
			return err
		}
		// The delivery, as the dispatcher records it.
		_, err := pool.Exec(ctx, `UPDATE outbox SET status = 'sent', sent_at = $2 WHERE id = ANY($1)`, oid, now)
		return err
	}, nil)
	res.Name = fmt.Sprintf("postgres floor: rows, %d a tx", perTx)
	res.Ops, res.P50, res.P99 = o.Messages, 0, 0
	return res, err
}

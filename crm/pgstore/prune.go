package pgstore

import (
	"context"
	"fmt"
	"time"
)

// PruneStats counts what one Prune removed.
type PruneStats struct {
	// Outbox is the number of sent or failed outbox items removed.
	Outbox int
	// Seen is the number of dedupe markers removed.
	Seen int
	// Commits is the number of transactions Prune took.
	Commits int
}

// pruneChunk is how many rows one transaction of Prune deletes at most, so
// the live replicas' transactions never wait long behind it.
const pruneChunk = 1000

// Prune deletes what the store keeps only for a while, as
// boltstore.DB.Prune does: outbox items sent or failed before before
// (never a pending one; dated by when they were sent, else queued), and
// the dedupe markers written before before. A marker is written when its
// message is handled, after the channel sent it, so it is pruned no
// earlier than bbolt prunes it (by the message's own time); markers of
// events that logged nothing are dated too. Customers, their history,
// orders, offers and counters are never pruned. It deletes in chunks,
// each its own transaction, and stops between two when ctx ends.
func (db *DB) Prune(ctx context.Context, before time.Time) (PruneStats, error) {
	var st PruneStats
	for _, step := range []struct {
		n   *int
		sql string
	}{
		{&st.Outbox, `DELETE FROM outbox WHERE id IN (SELECT id FROM outbox
	WHERE status <> 'pending' AND greatest(sent_at, created_at) < $1 LIMIT $2)`},
		{&st.Seen, `DELETE FROM seen WHERE (channel, message_id) IN (SELECT channel, message_id FROM seen
	WHERE marked_at < $1 LIMIT $2)`},
	} {
		for {
			if err := ctx.Err(); err != nil {
				return st, err
			}
			tag, err := db.pool.Exec(ctx, step.sql, before.UnixNano(), pruneChunk)
			if err != nil {
				return st, fmt.Errorf("prune: %w", err)
			}
			st.Commits++
			*step.n += int(tag.RowsAffected())
			if tag.RowsAffected() < pruneChunk {
				break
			}
		}
	}
	return st, nil
}

// Compact asks PostgreSQL to reclaim the row versions an erase left
// behind (VACUUM of the tables that hold personal data), so their bytes
// are marked free for reuse; bot.Privacy calls it after an erase. The
// bytes stay in the table files until overwritten, and in backups and WAL
// archives until those expire: docs/postgres.md.
func (db *DB) Compact(ctx context.Context) error {
	if _, err := db.pool.Exec(ctx, `VACUUM customers, customer_keys, customer_values, customer_words,
	interactions, orders, outbox, seen, handoff_threads`); err != nil {
		return fmt.Errorf("vacuum after an erase: %w", err)
	}
	return nil
}

package pgstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/idicbot/idicbot/crm"
)

// Tx is one store transaction (crm.Tx). It is built afresh for every run
// of an Update function. In an Update, each read of a record fn may save
// locks its row until the commit.
type Tx struct {
	db       *DB
	ctx      context.Context
	q        *txConn
	writable bool
	now      func() time.Time
	// shard is the counter shard this transaction adds to.
	shard int
	// stored remembers what the indexes hold for each customer read in an
	// Update (its row is locked), so PutCustomer need not read it again.
	stored map[crm.ID]indexed
	// counters and events are written at the commit (flush).
	counters map[string]int64
	events   []pendingEvent
	// msgBatch is the message events' batch being built in events, if any.
	msgBatch *eventBatch
	// marked are the messages this transaction marked.
	marked map[seenKey]bool
	// readAhead is what ReadAhead fetched, for the reads that follow.
	ahead *readAhead
	// historyIDs are interaction ids drawn under the history lock of
	// customer historyFor, which this transaction holds; outboxIDs are
	// outbox ids drawn in it. Both are used by the writes that follow, so
	// a new interaction or outbox item costs no round trip of its own.
	historyFor crm.ID
	historyIDs []int64
	// newCustomerID is a customer id ReadTurn drew for a new identity,
	// for the first customer PutCustomer creates.
	newCustomerID crm.ID
	outboxIDs     []int64
	// outboxHeld are outbox items whose rows this Update locked or wrote;
	// outboxAhead are items ReadOutbox read, each for one OutboxItem call.
	outboxHeld  map[crm.ID]bool
	outboxAhead map[crm.ID]*crm.OutboxItem
	// retry is the first error of the transaction that asks for a retry,
	// kept in case fn swallows it.
	retry error
}

var _ crm.Tx = (*Tx)(nil)

const (
	// maxRedirects bounds a chain of merges followed by Customer.
	maxRedirects = 64
	// defaultNameLimit applies when FindCustomersByName gets limit <= 0.
	defaultNameLimit = 50
	// rarityProbe is how many index entries are counted per query word to
	// pick the rarest one to read.
	rarityProbe = 2000
	// maxKey is the longest value indexed as a key or value (usernames,
	// claims); longer ones are not indexed, as in bbolt.
	maxKey = 256
	// scanPage is how many rows a scan reads per query, so fn can use the
	// transaction between pages.
	scanPage = 1000
	// counterShards is how many rows a counter is spread over: with 16,
	// the bench's 32 connections queued on the daily message counters.
	counterShards = 64

	counterCustomers     = "customers"
	counterSegmentPrefix = "segment:"

	// Advisory lock namespaces (the two-int4 form; Leader uses none).
	lockHistory  = 0x1d1c01 // a customer's interaction ids
	lockIdentity = 0x1d1c02 // finding or creating a customer by identity
)

// forUpdate is the row-lock clause of a read in an Update.
func (t *Tx) forUpdate() string {
	if t.writable {
		return " FOR UPDATE"
	}
	return ""
}

// note remembers a retryable error and returns err wrapped with what.
func (t *Tx) note(what string, err error) error {
	if err == nil {
		return nil
	}
	if t.retry == nil && retryable(err) {
		t.retry = err
	}
	if ctxErr := t.ctx.Err(); ctxErr != nil && !errors.Is(err, ctxErr) {
		return fmt.Errorf("%s: %w (%w)", what, ctxErr, err)
	}
	return fmt.Errorf("%s: %w", what, err)
}

func (t *Tx) exec(what, sql string, args ...any) (pgconn.CommandTag, error) {
	tag, err := t.q.Exec(t.ctx, sql, args...)
	return tag, t.note(what, err)
}

// queryRow scans one row; found is false when there is none.
func (t *Tx) queryRow(what, sql string, args []any, dest ...any) (found bool, err error) {
	err = t.q.QueryRow(t.ctx, sql, args...).Scan(dest...)
	if errors.Is(err, pgx.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, t.note(what, err)
	}
	return true, nil
}

// batch sends b in one round trip and reads every result.
func (t *Tx) batch(what string, b *pgx.Batch) error {
	if b.Len() == 0 {
		return nil
	}
	res := t.q.SendBatch(t.ctx, b)
	for range b.Len() {
		if _, err := res.Exec(); err != nil {
			_ = res.Close()
			return t.note(what, err)
		}
	}
	return t.note(what, res.Close())
}

func encode(v any) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("encode %T: %w", v, err)
	}
	return b, nil
}

func decode(what string, data []byte, v any) error {
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("decode %s: %w", what, err)
	}
	return nil
}

// decodeEither reads a record of a kind kept in a binary form of package
// reccodec (isBinary tells it by its format byte), or in the JSON an older
// binary wrote (it starts with '{', which no format byte is).
func decodeEither[T any](what string, id int64, data []byte, v *T, isBinary func([]byte) bool, decodeBinary func([]byte, *T) error) error {
	if !isBinary(data) {
		return decode(what, data, v)
	}
	if err := decodeBinary(data, v); err != nil {
		return fmt.Errorf("decode %s %d: %w", what, id, err)
	}
	return nil
}

// nanos is t as Unix nanoseconds, 0 for the zero time.
func nanos(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

// fromNanos is the inverse of nanos, in UTC.
func fromNanos(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}

// nextID returns id, or the sequence's next value when id is 0. An
// explicit id beyond the sequence moves the sequence past it, so it is
// never handed out again.
func (t *Tx) nextID(seq string, id crm.ID) (crm.ID, error) {
	if id == 0 {
		var n int64
		if _, err := t.queryRow("next id", `SELECT nextval('`+seq+`')`, nil, &n); err != nil {
			return 0, err
		}
		return crm.ID(n), nil
	}
	_, err := t.exec("raise "+seq, `SELECT setval('`+seq+`', $1) FROM `+seq+`
WHERE $1 > CASE WHEN is_called THEN last_value ELSE last_value - 1 END`, int64(id))
	return id, err
}

// validKey reports whether s can be a text key (PostgreSQL's text holds no
// 0x00).
func validKey(s string) bool { return s != "" && strings.IndexByte(s, 0) < 0 }

// SeenMessage implements crm.Tx.
func (t *Tx) SeenMessage(ch crm.Channel, msgID string) (crm.ID, bool, error) {
	if !validKey(msgID) || strings.IndexByte(string(ch), 0) >= 0 {
		return 0, false, nil
	}
	if a := t.ahead; a != nil && a.seen && a.ch == ch && a.msgID == msgID {
		// Read by ReadTurn, once.
		a.seen = false
		return a.seenID, a.seenFound, nil
	}
	var id int64
	found, err := t.queryRow("seen", `SELECT interaction_id FROM seen WHERE channel = $1 AND message_id = $2`,
		[]any{string(ch), msgID}, &id)
	return crm.ID(id), found, err
}

// MarkMessage implements crm.Tx. The marker goes with the commit; a
// message marked by another transaction since this one looked fails the
// commit with a unique violation, and Update runs fn again: it then finds
// the mark.
func (t *Tx) MarkMessage(ch crm.Channel, msgID string, interaction crm.ID) error {
	if !validKey(msgID) || strings.IndexByte(string(ch), 0) >= 0 {
		return crm.Errorf(crm.EINVALID, "A message id of 1 or more bytes without 0x00 is required.")
	}
	key := seenKey{ch, msgID}
	if t.marked[key] {
		t.q.later(`UPDATE seen SET interaction_id = $3 WHERE channel = $1 AND message_id = $2`, string(ch), msgID, int64(interaction))
		return nil
	}
	if t.marked == nil {
		t.marked = map[seenKey]bool{}
	}
	t.marked[key] = true
	if g := t.q.group; g != nil {
		g.seen = append(g.seen, seenRow{ch: string(ch), msgID: msgID, interaction: int64(interaction), at: t.now().UnixNano()})
		return nil
	}
	t.q.later(`INSERT INTO seen (channel, message_id, interaction_id, marked_at) VALUES ($1, $2, $3, $4)`,
		string(ch), msgID, int64(interaction), t.now().UnixNano())
	if !t.writable {
		// Refused by the server now, not at the end of the View.
		return t.note("mark message", t.q.send(t.ctx))
	}
	return nil
}

// seenKey is a message marked in this transaction.
type seenKey struct {
	ch    crm.Channel
	msgID string
}

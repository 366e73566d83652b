package pgstore

import (
	"context"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// txConn is the connection of one transaction. Statements nobody waits on
// (the BEGIN, and the writes a Tx defers: a customer's row and index
// entries, the dedupe marker, new interactions and outbox items) are
// queued and go to the server in one batch with the next statement that
// needs an answer, or with the COMMIT. A turn then costs a round trip per
// read it waits on, not one per statement: every round trip inside a
// transaction holds a connection and row locks while the Go process and the
// server take turns (docs/performance.md, Seventh session).
//
// A batch is one pipeline with one Sync: a statement that fails skips the
// rest, the COMMIT included, and the transaction is rolled back.
type txConn struct {
	conn   *pgxpool.Conn
	queued []*pgx.QueuedQuery
	// begun: the BEGIN was sent, so the transaction must end on the server.
	begun bool
	// group gathers the rows of the turns of a group (group.go); nil
	// outside one. sent counts the round trips.
	group *groupRows
	sent  int
	// updates are outbox items' new delivery states (PutOutbox on an
	// item this transaction holds), sent as one UPDATE (emit).
	updates []outboxUpdate
}

// outboxUpdate is PutOutbox's arguments: id, status, priority, due,
// lease owner, lease until, attempts, next attempt, last error, sent at.
type outboxUpdate []any

// emit queues what is gathered: the group's rows (but counters) and the
// outbox updates.
func (c *txConn) emit() {
	if c.group != nil {
		c.group.emit(c)
	}
	c.emitUpdates()
}

// watch lets a group note what sql may change (groupRows.watch).
func (c *txConn) watch(sql string) {
	if c.group != nil {
		c.group.watch(sql)
	}
}

// emitFor queues what is gathered for the table sql writes, before sql.
func (c *txConn) emitFor(sql string) {
	c.watch(sql)
	if c.group == nil && len(c.updates) == 0 {
		return
	}
	table := tableOf(sql)
	if c.group != nil {
		c.group.emitTable(c, table)
	}
	if table == "outbox" {
		c.emitUpdates()
	}
}

func (c *txConn) emitUpdates() {
	switch len(c.updates) {
	case 0:
		return
	case 1:
		c.queued = append(c.queued, &pgx.QueuedQuery{SQL: outboxUpdateOne, Arguments: c.updates[0]})
	default:
		rows := lastBy(c.updates, func(u outboxUpdate) int64 { return u[0].(int64) })
		n := len(rows)
		ids, dues, untils, nexts, sents := make([]int64, n), make([]int64, n), make([]int64, n), make([]int64, n), make([]int64, n)
		statuses, owners, errs := make([]string, n), make([]string, n), make([]string, n)
		prios, attempts := make([]int16, n), make([]int32, n)
		for i, u := range rows {
			ids[i], statuses[i], prios[i], dues[i], owners[i] = u[0].(int64), u[1].(string), u[2].(int16), u[3].(int64), u[4].(string)
			untils[i], attempts[i], nexts[i], errs[i], sents[i] = u[5].(int64), u[6].(int32), u[7].(int64), u[8].(string), u[9].(int64)
		}
		c.queued = append(c.queued, &pgx.QueuedQuery{SQL: `UPDATE outbox o SET status = u.status, priority = u.priority, due = u.due,
	lease_owner = u.owner, lease_until = u.until, attempts = u.attempts, next_attempt = u.next, last_error = u.err, sent_at = u.sent
FROM unnest($1::bigint[], $2::text[], $3::smallint[], $4::bigint[], $5::text[], $6::bigint[], $7::integer[], $8::bigint[], $9::text[], $10::bigint[])
	AS u(id, status, priority, due, owner, until, attempts, next, err, sent)
WHERE o.id = u.id`, Arguments: []any{ids, statuses, prios, dues, owners, untils, attempts, nexts, errs, sents}})
	}
	if c.group != nil {
		c.group.emitted++
	}
	c.updates = c.updates[:0]
}

func newTxConn(conn *pgxpool.Conn, begin string) *txConn {
	return &txConn{conn: conn, queued: []*pgx.QueuedQuery{{SQL: begin}}}
}

// later queues a write whose result nobody needs before the commit.
func (c *txConn) later(sql string, args ...any) {
	c.emitFor(sql)
	c.queued = append(c.queued, &pgx.QueuedQuery{SQL: sql, Arguments: args})
}

// laterBatch queues every statement of b (without callbacks).
func (c *txConn) laterBatch(b *pgx.Batch) {
	for _, qq := range b.QueuedQueries {
		c.emitFor(qq.SQL)
	}
	c.queued = append(c.queued, b.QueuedQueries...)
}

// SendBatch sends what is queued, then b, in one round trip. The results
// returned are b's: the queued statements' are read first.
func (c *txConn) SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults {
	// A read sees every write before it.
	c.emit()
	for _, qq := range b.QueuedQueries {
		c.watch(qq.SQL)
	}
	c.sent++
	n := len(c.queued)
	if n == 0 {
		return c.conn.SendBatch(ctx, b)
	}
	all := &pgx.Batch{QueuedQueries: append(c.queued, b.QueuedQueries...)}
	c.queued, c.begun = nil, true
	br := c.conn.SendBatch(ctx, all)
	for range n {
		if _, err := br.Exec(); err != nil {
			return &failedBatch{br: br, err: err}
		}
	}
	return br
}

// send sends what is queued.
func (c *txConn) send(ctx context.Context) error {
	c.emit()
	if len(c.queued) == 0 {
		return nil
	}
	return c.SendBatch(ctx, &pgx.Batch{}).Close()
}

// Exec runs sql after what is queued.
func (c *txConn) Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	c.emit()
	c.watch(sql)
	if len(c.queued) == 0 {
		c.sent++
		return c.conn.Exec(ctx, sql, args...)
	}
	b := &pgx.Batch{}
	b.Queue(sql, args...)
	br := c.SendBatch(ctx, b)
	tag, err := br.Exec()
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	return tag, err
}

// Query runs sql after what is queued.
func (c *txConn) Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error) {
	c.emit()
	c.watch(sql)
	if len(c.queued) == 0 {
		c.sent++
		return c.conn.Query(ctx, sql, args...)
	}
	b := &pgx.Batch{}
	b.Queue(sql, args...)
	br := c.SendBatch(ctx, b)
	rows, err := br.Query()
	if err != nil {
		_ = br.Close()
		return nil, err
	}
	return &batchRows{Rows: rows, br: br}, nil
}

// QueryRow runs sql after what is queued.
func (c *txConn) QueryRow(ctx context.Context, sql string, args ...any) pgx.Row {
	c.emit()
	c.watch(sql)
	if len(c.queued) == 0 {
		c.sent++
		return c.conn.QueryRow(ctx, sql, args...)
	}
	rows, err := c.Query(ctx, sql, args...)
	return &oneRow{rows: rows, err: err}
}

// CopyFrom sends what is queued, then runs a COPY (which no batch holds).
func (c *txConn) CopyFrom(ctx context.Context, table pgx.Identifier, columns []string, rows pgx.CopyFromSource) (int64, error) {
	if err := c.send(ctx); err != nil {
		return 0, err
	}
	return c.conn.CopyFrom(ctx, table, columns, rows)
}

// commit sends what is queued and the COMMIT in one round trip. A
// transaction that sent nothing and queued nothing has nothing to commit.
func (c *txConn) commit(ctx context.Context) error {
	c.emit()
	if c.group != nil {
		c.group.emitCounters(c)
	}
	if !c.begun && len(c.queued) <= 1 {
		c.queued = nil
		return nil
	}
	b := &pgx.Batch{}
	var tag pgconn.CommandTag
	b.Queue("commit").Exec(func(ct pgconn.CommandTag) error { tag = ct; return nil })
	if err := c.SendBatch(ctx, b).Close(); err != nil {
		return err
	}
	if tag.String() == "ROLLBACK" {
		// An earlier statement failed and its error was swallowed: the
		// server rolled the transaction back.
		return pgx.ErrTxCommitRollback
	}
	return nil
}

// rollback ends the transaction on the server, if it began there.
func (c *txConn) rollback(ctx context.Context) error {
	c.queued = nil
	if !c.begun {
		return nil
	}
	_, err := c.conn.Exec(ctx, "rollback")
	return err
}

// failedBatch is the results of a batch whose queued statements failed:
// every result is that error.
type failedBatch struct {
	br  pgx.BatchResults
	err error
}

func (f *failedBatch) Exec() (pgconn.CommandTag, error) { return pgconn.CommandTag{}, f.err }
func (f *failedBatch) Query() (pgx.Rows, error)         { return nil, f.err }
func (f *failedBatch) QueryRow() pgx.Row                { return &oneRow{err: f.err} }
func (f *failedBatch) Tx() pgx.Tx                       { return nil }
func (f *failedBatch) Close() error {
	_ = f.br.Close()
	return f.err
}

// batchRows are the rows of the last statement of a batch; closing them
// closes the batch.
type batchRows struct {
	pgx.Rows
	br     pgx.BatchResults
	closed bool
	err    error
}

func (r *batchRows) Close() {
	r.Rows.Close()
	if !r.closed {
		r.closed = true
		r.err = r.br.Close()
	}
}

func (r *batchRows) Next() bool {
	if r.Rows.Next() {
		return true
	}
	r.Close()
	return false
}

func (r *batchRows) Err() error {
	if err := r.Rows.Err(); err != nil {
		return err
	}
	return r.err
}

// oneRow is a pgx.Row read from rows, as pgx's own QueryRow reads it.
type oneRow struct {
	rows pgx.Rows
	err  error
}

func (r *oneRow) Scan(dest ...any) error {
	if r.err != nil {
		return r.err
	}
	defer r.rows.Close()
	if !r.rows.Next() {
		if err := r.rows.Err(); err != nil {
			return err
		}
		return pgx.ErrNoRows
	}
	if err := r.rows.Scan(dest...); err != nil {
		return err
	}
	r.rows.Close()
	return r.rows.Err()
}

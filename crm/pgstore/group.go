package pgstore

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/jackc/pgx/v5"

	"github.com/idicbot/idicbot/crm"
)

// Turns committed together (crm.TurnUpdater).
//
// A turn on its own costs the server a transaction and some fifteen
// statements; most of its CPU goes to starting statements and commits,
// not to the rows (docs/performance.md, Eighth session). UpdateTurn hands
// the turn to one of a few runners. A runner takes every turn waiting, up
// to Options.GroupMax, and runs them in one transaction on one
// connection:
//
//  1. one round trip with the BEGIN reads every turn's marker, locks and
//     reads its customer and draws its ids (what ReadTurn reads), in the
//     order of the turns' identity keys, so two groups lock in one order;
//  2. each turn's fn runs in turn, on a Tx of its own that shares the
//     connection, answering ReadTurn from what was read; its new rows
//     (customers, interactions, outbox items, markers, events, counter
//     deltas) are gathered, not sent;
//  3. the gathered rows go as one multi-row statement a table, with the
//     COMMIT, in one round trip.
//
// What a turn could see of another turn of the same group is kept out of
// the group: a second turn of the same sender, the same message or the
// same customer runs after the group commits, on its own (Update). A read
// a turn makes beyond ReadTurn sends everything gathered first, so it sees
// the turns before it. A turn whose fn fails, and every turn of a group
// whose statements fail, run again on their own, as Update runs them: fn
// may run more than once (crm.Store's contract), and what a turn returns is
// what its own transaction returned.

// DefaultGroupMax is how many turns a group holds at most unless
// Options.GroupMax says otherwise.
const DefaultGroupMax = 48

// Group defaults (Options.GroupRunners), and GroupMax's bound.
const (
	defaultGroupRunners = 3
	// maxGroupMax bounds Options.GroupMax: a group holds its turns' row
	// locks until its commit.
	maxGroupMax = 256
)

var errClosed = errors.New("store closed")

var _ crm.TurnUpdater = (*DB)(nil)

// turnJob is a turn waiting for a runner.
type turnJob struct {
	ctx  context.Context
	key  crm.TurnKey
	fn   func(crm.Tx) error
	done chan error
}

// groups are the runners of a DB.
type groups struct {
	max, runners int
	jobs         chan *turnJob
	closing      chan struct{}
	ctx          context.Context
	cancel       context.CancelFunc
	start, stop  sync.Once
	wg           sync.WaitGroup
	// committed counts the groups committed and their turns.
	committed, turns atomic.Int64
}

// GroupStats says how many groups of turns (UpdateTurn) committed
// together, and how many turns they held; turns that ran on their own are
// not counted.
type GroupStats struct {
	Groups, Turns int64
}

// GroupStats returns the groups committed since Open.
func (db *DB) GroupStats() GroupStats {
	return GroupStats{Groups: db.groups.committed.Load(), Turns: db.groups.turns.Load()}
}

func newGroups(max, runners int) *groups {
	switch {
	case max == 0:
		max = DefaultGroupMax
	case max > maxGroupMax:
		max = maxGroupMax
	}
	if runners <= 0 {
		runners = defaultGroupRunners
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &groups{max: max, runners: runners, jobs: make(chan *turnJob), closing: make(chan struct{}), ctx: ctx, cancel: cancel}
}

// close stops the runners after their groups; turns waiting get errClosed.
func (g *groups) close() {
	g.stop.Do(func() {
		close(g.closing)
		g.wg.Wait()
		g.cancel()
	})
}

// UpdateTurn implements crm.TurnUpdater: fn runs in a transaction shared
// with the other turns waiting, or on its own (Update) when there are
// none or grouping is off (Options.GroupMax 1).
func (db *DB) UpdateTurn(ctx context.Context, key crm.TurnKey, fn func(crm.Tx) error) error {
	g := db.groups
	if g.max <= 1 {
		return db.Update(ctx, fn)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	g.start.Do(func() {
		for range g.runners {
			g.wg.Go(func() { db.runTurns() })
		}
	})
	j := &turnJob{ctx: ctx, key: key, fn: fn, done: make(chan error, 1)}
	select {
	case g.jobs <- j:
	case <-g.closing:
		return errClosed
	case <-ctx.Done():
		return ctx.Err()
	}
	// Taken by a runner: its group is short, and its result is the
	// turn's (a turn abandoned here may still commit, as one whose
	// caller died after sending it would).
	select {
	case err := <-j.done:
		var p *turnPanic
		if errors.As(err, &p) {
			// fn panicked in a runner: the panic is the caller's, as it
			// would be with Update (an HTTP handler recovers it).
			panic(p.value)
		}
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// runTurns is a runner: it takes every turn waiting, up to g.max, and
// commits them together, until the store closes.
func (db *DB) runTurns() {
	g := db.groups
	for {
		var first *turnJob
		select {
		case first = <-g.jobs:
		case <-g.closing:
			return
		}
		jobs := []*turnJob{first}
	more:
		for len(jobs) < g.max {
			select {
			case j := <-g.jobs:
				jobs = append(jobs, j)
			default:
				break more
			}
		}
		db.runGroup(jobs)
	}
}

// runGroup commits jobs together; what cannot go with the group runs on
// its own afterwards, concurrently.
func (db *DB) runGroup(jobs []*turnJob) {
	var group, alone []*turnJob
	taken := map[string]bool{}
	for _, j := range jobs {
		if err := j.ctx.Err(); err != nil {
			j.done <- err
			continue
		}
		key := crm.IdentityKey(j.key.Channel, j.key.UserID)
		who := "i" + key
		msg := "m" + string(j.key.Channel) + "\x00" + j.key.MsgID
		if j.key.UserID == "" || !validKey(key) || taken[who] || taken[msg] {
			// No identity to read ahead, or one the group has already.
			alone = append(alone, j)
			continue
		}
		taken[who], taken[msg] = true, true
		group = append(group, j)
	}
	switch len(group) {
	case 0:
	case 1:
		alone = append(alone, group...)
	default:
		// Locks are taken in the order of the identity keys.
		slices.SortFunc(group, func(a, b *turnJob) int {
			return strings.Compare(crm.IdentityKey(a.key.Channel, a.key.UserID), crm.IdentityKey(b.key.Channel, b.key.UserID))
		})
		committed, rest := db.commitGroup(group)
		for _, j := range committed {
			j.done <- nil
		}
		alone = append(alone, rest...)
	}
	var wg sync.WaitGroup
	for _, j := range alone {
		wg.Go(func() {
			j.done <- db.Update(j.ctx, func(tx crm.Tx) error { return call(j.fn, tx) })
		})
	}
	wg.Wait()
}

// commitGroup runs jobs in one transaction. It returns the jobs it
// committed and those that must run on their own: all of them when the
// group's statements failed.
func (db *DB) commitGroup(jobs []*turnJob) (committed, alone []*turnJob) {
	ctx := db.groups.ctx
	conn, err := db.pool.Acquire(ctx)
	if err != nil {
		return nil, jobs
	}
	defer conn.Release()
	q := newTxConn(conn, "begin isolation level read committed")
	rows := &groupRows{}
	q.group = rows
	fail := func() ([]*turnJob, []*turnJob) {
		_ = q.rollback(context.WithoutCancel(ctx))
		return nil, jobs
	}
	txs := make([]*Tx, len(jobs))
	keys := make([]crm.TurnKey, len(jobs))
	for i, j := range jobs {
		txs[i] = &Tx{db: db, ctx: ctx, q: q, writable: true, now: db.now}
		keys[i] = j.key
	}
	b := &pgx.Batch{}
	finish := queueGroupReads(b, txs, keys)
	if err := q.SendBatch(ctx, b).Close(); err != nil {
		return fail()
	}
	finish()
	for _, t := range txs {
		if c := t.ahead.customer; c != nil {
			rows.holds(c.ID)
		}
		if t.newCustomerID != 0 {
			rows.holds(t.newCustomerID)
		}
	}
	customers := map[crm.ID]bool{}
	var ran []*turnJob
	for i, j := range jobs {
		t := txs[i]
		if c := t.ahead.customer; c != nil {
			// Two identities of one customer: the second turn must see
			// the first's writes.
			if customers[c.ID] {
				alone = append(alone, j)
				continue
			}
			customers[c.ID] = true
		}
		mark := q.mark()
		if err := call(j.fn, t); err != nil || t.retry != nil {
			if !q.undo(mark) {
				// What it sent cannot be taken back.
				return fail()
			}
			alone = append(alone, j)
			continue
		}
		t.flush()
		ran = append(ran, j)
	}
	if err := q.commit(ctx); err != nil {
		return fail()
	}
	if len(ran) > 0 {
		db.groups.committed.Add(1)
		db.groups.turns.Add(int64(len(ran)))
	}
	return ran, alone
}

// groupRows are the new rows of a group's turns, sent as one statement a
// table (emit) with the commit, or before the group's next read. A
// customer or outbox item saved twice keeps its last row.
type groupRows struct {
	customers    []customerRow
	keys         []keyRow
	words        []wordRow
	interactions []interactionRow
	outbox       []outboxRow
	seen         []seenRow
	events       []pendingEvent
	counters     map[string]int64
	// emitted counts the statements emit made.
	emitted int
	// customerIDs are the customers the group's turns read ahead or
	// wrote; claimsChanged: a turn wrote a phone or email key, or a
	// statement the group cannot follow changed customers or their keys.
	// Either keeps a claim read ahead from answering (Tx.claimAhead).
	customerIDs   map[crm.ID]bool
	claimsChanged bool
}

// holds notes that the group's turns read or wrote customer id.
func (g *groupRows) holds(id crm.ID) {
	if g.customerIDs == nil {
		g.customerIDs = map[crm.ID]bool{}
	}
	g.customerIDs[id] = true
}

// watch notes a statement the group sends or queues: one that changes
// customers or their keys other than as PutCustomer does (a merge, an
// erasure) may change who owns a claimed phone or email.
func (g *groupRows) watch(sql string) {
	switch tableOf(sql) {
	case "customers", "customer_keys", "customer_redirects":
		if sql != keyDelete {
			g.claimsChanged = true
		}
	}
}

type customerRow struct {
	id, spent int64
	segment   string
	data      []byte
}

// keyRow is a customer's key (customer_keys), taken over from another
// customer if that one held it; wordRow a folded word of its name with
// all of them (customer_words).
type keyRow struct {
	kind, key string
	customer  int64
}

type wordRow struct {
	word, names string
	customer    int64
}

type interactionRow struct {
	id, customer int64
	data         []byte
}

type seenRow struct {
	ch, msgID       string
	interaction, at int64
}

// outboxRow is an outbox insert's arguments, in outboxColumns order and
// created_at last.
type outboxRow struct {
	args []any
	// fresh: its id was drawn in the group, so no row has it (a plain
	// insert); any other may replace a stored item (an upsert).
	fresh bool
}

func (g *groupRows) addCounters(m map[string]int64) {
	if len(m) == 0 {
		return
	}
	if g.counters == nil {
		g.counters = make(map[string]int64, len(m))
	}
	for name, d := range m {
		g.counters[name] += d
	}
}

// groupMark is how much was gathered and sent before a turn ran.
type groupMark struct {
	queued, updates, customers, keys, words, interactions, outbox, seen, events int
	sent, emitted                                                               int
}

// emitTable queues the rows gathered for table, before a statement on it
// is queued after them.
func (g *groupRows) emitTable(c *txConn, table string) {
	switch table {
	case "customers":
		g.emitCustomers(c)
	case "customer_keys":
		g.emitKeys(c)
	case "customer_words":
		g.emitWords(c)
	case "interactions":
		g.emitInteractions(c)
	case "outbox":
		g.emitOutbox(c)
	case "seen":
		g.emitSeen(c)
	case "events":
		g.emitEvents(c)
	case "counters":
		g.emitCounters(c)
	}
}

// tableOf is the table an INSERT, UPDATE or DELETE writes, "" for any
// other statement.
func tableOf(sql string) string {
	f := strings.Fields(sql)
	switch {
	case len(f) >= 3 && strings.EqualFold(f[0], "INSERT") && strings.EqualFold(f[1], "INTO"),
		len(f) >= 3 && strings.EqualFold(f[0], "DELETE") && strings.EqualFold(f[1], "FROM"):
		return strings.TrimRight(f[2], "(")
	case len(f) >= 2 && strings.EqualFold(f[0], "UPDATE"):
		return f[1]
	}
	return ""
}

// emit queues every table's gathered rows but the counters' deltas,
// which only the commit sends (commit): a counter's row, locked by the
// first transaction that adds to it, is then held for a round trip, not
// for the rest of a group.
func (g *groupRows) emit(c *txConn) {
	g.emitCustomers(c)
	g.emitKeys(c)
	g.emitWords(c)
	g.emitInteractions(c)
	g.emitOutbox(c)
	g.emitSeen(c)
	g.emitEvents(c)
}

func (g *groupRows) queue(c *txConn, sql string, args ...any) {
	c.queued = append(c.queued, &pgx.QueuedQuery{SQL: sql, Arguments: args})
	g.emitted++
}

func (g *groupRows) emitCustomers(c *txConn) {
	if len(g.customers) == 0 {
		return
	}
	rows := lastBy(g.customers, func(r customerRow) int64 { return r.id })
	n := len(rows)
	ids, spent, segs, datas := make([]int64, n), make([]int64, n), make([]string, n), make([][]byte, n)
	for i, r := range rows {
		ids[i], spent[i], segs[i], datas[i] = r.id, r.spent, r.segment, r.data
	}
	g.queue(c, `INSERT INTO customers (id, segment, spent, data)
SELECT * FROM unnest($1::bigint[], $2::text[], $3::bigint[], $4::bytea[])
ON CONFLICT (id) DO UPDATE SET segment = EXCLUDED.segment, spent = EXCLUDED.spent, data = EXCLUDED.data`, ids, segs, spent, datas)
	g.customers = g.customers[:0]
}

func (g *groupRows) emitKeys(c *txConn) {
	if len(g.keys) == 0 {
		return
	}
	rows := lastBy(g.keys, func(r keyRow) [2]string { return [2]string{r.kind, r.key} })
	n := len(rows)
	kinds, keys, customers := make([]string, n), make([]string, n), make([]int64, n)
	for i, r := range rows {
		kinds[i], keys[i], customers[i] = r.kind, r.key, r.customer
	}
	g.queue(c, `INSERT INTO customer_keys (kind, key, customer_id)
SELECT k::"char", v, c FROM unnest($1::text[], $2::text[], $3::bigint[]) AS u(k, v, c)
`+keysTakeOver, kinds, keys, customers)
	g.keys = g.keys[:0]
}

func (g *groupRows) emitWords(c *txConn) {
	if len(g.words) == 0 {
		return
	}
	rows := lastBy(g.words, func(r wordRow) wordKey { return wordKey{r.word, r.customer} })
	n := len(rows)
	words, names, customers := make([]string, n), make([]string, n), make([]int64, n)
	for i, r := range rows {
		words[i], names[i], customers[i] = r.word, r.names, r.customer
	}
	g.queue(c, `INSERT INTO customer_words (word, customer_id, names)
SELECT * FROM unnest($1::text[], $2::bigint[], $3::text[])
`+wordsReplace, words, customers, names)
	g.words = g.words[:0]
}

type wordKey struct {
	word     string
	customer int64
}

func (g *groupRows) emitInteractions(c *txConn) {
	if len(g.interactions) == 0 {
		return
	}
	n := len(g.interactions)
	ids, customers, datas := make([]int64, n), make([]int64, n), make([][]byte, n)
	for i, r := range g.interactions {
		ids[i], customers[i], datas[i] = r.id, r.customer, r.data
	}
	g.queue(c, `INSERT INTO interactions (id, customer_id, data)
SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::bytea[])`, ids, customers, datas)
	g.interactions = g.interactions[:0]
}

func (g *groupRows) emitOutbox(c *txConn) {
	if len(g.outbox) == 0 {
		return
	}
	var fresh, given []outboxRow
	for _, r := range g.outbox {
		if r.fresh {
			fresh = append(fresh, r)
		} else {
			given = append(given, r)
		}
	}
	if len(fresh) > 0 {
		g.queue(c, outboxInsertMany, outboxArrays(fresh)...)
	}
	if len(given) > 0 {
		g.queue(c, outboxInsertMany+"\n"+outboxUpsert, outboxArrays(lastBy(given, func(r outboxRow) int64 { return r.args[0].(int64) }))...)
	}
	g.outbox = g.outbox[:0]
}

// outboxInsertMany inserts outboxArrays' rows.
const outboxInsertMany = `INSERT INTO outbox (` + outboxColumns + `, created_at)
SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::smallint[], $5::bigint[], $6::text[], $7::bigint[],
	$8::integer[], $9::bigint[], $10::text[], $11::bigint[], $12::bytea[], $13::bigint[])`

// outboxArrays are rows' columns as arrays, for outboxInsertMany.
func outboxArrays(rows []outboxRow) []any {
	n := len(rows)
	ids, customers, dues, untils, nexts, sents, created := make([]int64, n), make([]int64, n), make([]int64, n), make([]int64, n), make([]int64, n), make([]int64, n), make([]int64, n)
	statuses, owners, lastErrs := make([]string, n), make([]string, n), make([]string, n)
	prios, attempts := make([]int16, n), make([]int32, n)
	datas := make([][]byte, n)
	for i, row := range rows {
		r := row.args
		ids[i], customers[i], statuses[i], prios[i], dues[i] = r[0].(int64), r[1].(int64), r[2].(string), r[3].(int16), r[4].(int64)
		owners[i], untils[i], attempts[i], nexts[i], lastErrs[i] = r[5].(string), r[6].(int64), r[7].(int32), r[8].(int64), r[9].(string)
		sents[i], datas[i], created[i] = r[10].(int64), r[11].([]byte), r[12].(int64)
	}
	return []any{ids, customers, statuses, prios, dues, owners, untils, attempts, nexts, lastErrs, sents, datas, created}
}

func (g *groupRows) emitSeen(c *txConn) {
	if len(g.seen) == 0 {
		return
	}
	n := len(g.seen)
	chs, msgs, ids, ats := make([]string, n), make([]string, n), make([]int64, n), make([]int64, n)
	for i, r := range g.seen {
		chs[i], msgs[i], ids[i], ats[i] = r.ch, r.msgID, r.interaction, r.at
	}
	g.queue(c, `INSERT INTO seen (channel, message_id, interaction_id, marked_at)
SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[], $4::bigint[])`, chs, msgs, ids, ats)
	g.seen = g.seen[:0]
}

func (g *groupRows) emitEvents(c *txConn) {
	if len(g.events) == 0 {
		return
	}
	c.queued = append(c.queued, eventsInsert(g.events))
	g.emitted++
	g.events = g.events[:0]
}

func (g *groupRows) emitCounters(c *txConn) {
	if len(g.counters) == 0 {
		return
	}
	c.queued = append(c.queued, countersUpsert(g.counters, rand.N(counterShards)))
	g.emitted++
	g.counters = nil
}

// lastBy keeps the last row of each id, in the order of their first: an
// upsert may not touch one row twice.
func lastBy[R any, K comparable](rows []R, id func(R) K) []R {
	at := make(map[K]int, len(rows))
	out := make([]R, 0, len(rows))
	for _, r := range rows {
		if i, ok := at[id(r)]; ok {
			out[i] = r
			continue
		}
		at[id(r)] = len(out)
		out = append(out, r)
	}
	return out
}

// mark is where the group stands before a turn runs.
func (c *txConn) mark() groupMark {
	g := c.group
	return groupMark{queued: len(c.queued), updates: len(c.updates), customers: len(g.customers), keys: len(g.keys),
		words: len(g.words), interactions: len(g.interactions),
		outbox: len(g.outbox), seen: len(g.seen), events: len(g.events), sent: c.sent, emitted: g.emitted}
}

// undo drops what a turn gathered and queued since m; false when it sent
// or emitted something since, which cannot be taken back.
func (c *txConn) undo(m groupMark) bool {
	g := c.group
	if c.sent != m.sent || g.emitted != m.emitted {
		return false
	}
	c.queued, c.updates = c.queued[:m.queued], c.updates[:m.updates]
	g.customers, g.interactions, g.outbox = g.customers[:m.customers], g.interactions[:m.interactions], g.outbox[:m.outbox]
	g.keys, g.words = g.keys[:m.keys], g.words[:m.words]
	g.seen, g.events = g.seen[:m.seen], g.events[:m.events]
	return true
}

// sortedCounters are m's names in order and their deltas.
func sortedCounters(m map[string]int64) ([]string, []int64) {
	names := slices.Sorted(maps.Keys(m))
	deltas := make([]int64, len(names))
	for i, name := range names {
		deltas[i] = m[name]
	}
	return names, deltas
}

// turnPanic is a panic of a turn's fn in a runner, handed to the caller.
type turnPanic struct {
	value any
	stack []byte
}

func (p *turnPanic) Error() string { return fmt.Sprintf("turn panicked: %v\n%s", p.value, p.stack) }

// call runs fn, turning a panic into a *turnPanic error, so a runner
// survives it and the caller panics instead.
func call(fn func(crm.Tx) error, tx crm.Tx) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = &turnPanic{value: v, stack: debug.Stack()}
		}
	}()
	return fn(tx)
}

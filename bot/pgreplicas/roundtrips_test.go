package pgreplicas_test

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/idicbot/idicbot/bot"
	"github.com/idicbot/idicbot/configs"
	"github.com/idicbot/idicbot/crm"
	"github.com/idicbot/idicbot/crm/pgstore"
	"github.com/idicbot/idicbot/crm/pgstore/pgtest"
)

// roundTrips counts what a store sends to the server: each statement sent
// alone and each batch is one round trip.
type roundTrips struct {
	mu    sync.Mutex
	n     int
	sqls  map[string]int
	batch int
}

func (r *roundTrips) TraceQueryStart(ctx context.Context, _ *pgx.Conn, d pgx.TraceQueryStartData) context.Context {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.n++
	r.sqls[firstWords(d.SQL)]++
	return ctx
}

func (r *roundTrips) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

func (r *roundTrips) TraceBatchStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceBatchStartData) context.Context {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.n++
	r.batch++
	return ctx
}

func (r *roundTrips) TraceBatchQuery(_ context.Context, _ *pgx.Conn, d pgx.TraceBatchQueryData) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.sqls["(batched) "+firstWords(d.SQL)]++
}

func (r *roundTrips) TraceBatchEnd(context.Context, *pgx.Conn, pgx.TraceBatchEndData) {}

func (r *roundTrips) take() (int, string) {
	n, _, sqls := r.takeTx()
	return n, sqls
}

// takeTx is take, with the number of transactions begun.
func (r *roundTrips) takeTx() (n, txs int, sqls string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	var lines []string
	for s, k := range r.sqls {
		lines = append(lines, fmt.Sprintf("%3d %s", k, s))
		if strings.HasPrefix(strings.TrimPrefix(s, "(batched) "), "begin") {
			txs += k
		}
	}
	sort.Strings(lines)
	n = r.n
	r.n, r.batch, r.sqls = 0, 0, map[string]int{}
	return n, txs, strings.Join(lines, "\n")
}

func firstWords(sql string) string {
	f := strings.Fields(sql)
	return strings.Join(f[:min(len(f), 8)], " ")
}

// TestRoundTripsPerTurn counts the round trips to PostgreSQL of a
// returning customer's turn (a message answered with a reply) and of
// recording the reply's delivery: every round trip inside a transaction
// holds a connection and the customer's row while the Go process and the
// server take turns (docs/performance.md, Seventh session).
func TestRoundTripsPerTurn(t *testing.T) {
	url := pgtest.URL(t)
	def, err := configs.Load(time.Now())
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	rt := &roundTrips{sqls: map[string]int{}}
	db, err := pgstore.Open(ctx, url, pgstore.Options{Tracer: rt})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	sender := &countingSender{}
	// Poll: an hour, so the claimer's reads (once after Open) are not
	// counted with a turn's.
	core, disp := startCore(t, db, &def, sender, bot.DispatcherOptions{Lanes: 2, Owner: "rt", Poll: time.Hour})

	texts := []string{"xin chào", "giá iphone 15 bao nhiêu", "any deals?", "cam on shop", "redmi note 13 còn hàng không"}
	var turn, delivery []int
	for i, text := range texts {
		rt.take()
		// The reply waits at the sender until the turn's round trips are
		// counted: its delivery is recorded in the dispatcher's goroutine,
		// which would otherwise run into the turn's count.
		gate := sender.hold()
		if _, err := core.Handle(ctx, bot.Inbound{Channel: crm.ChannelWeb, UserID: "u1", MessageID: "m" + strconv.Itoa(i), Kind: crm.KindText, Text: text}); err != nil {
			t.Fatal(err)
		}
		n, sqls := rt.take()
		close(gate)
		if err := disp.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		d, dtx, dsqls := rt.takeTx()
		t.Logf("turn %d (%q): %d round trips\n%s\ndelivery: %d round trips in %d transactions\n%s", i, text, n, sqls, d, dtx, dsqls)
		if i > 0 { // the first creates the customer
			// The writer records the replies of one turn in one
			// transaction or several, as they come back from the lanes.
			turn, delivery = append(turn, n), append(delivery, (d+max(dtx, 1)-1)/max(dtx, 1))
		} else {
			time.Sleep(100 * time.Millisecond) // the claimer's first wait begins
		}
	}
	// The marker ReadTurn reads with the identity's lock: a message
	// delivered again is a duplicate, in one round trip and the COMMIT.
	rt.take()
	res, err := core.Handle(ctx, bot.Inbound{Channel: crm.ChannelWeb, UserID: "u1", MessageID: "m1", Kind: crm.KindText, Text: texts[1]})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Duplicate {
		t.Errorf("message m1 handled again, not seen as a duplicate: %+v", res)
	}
	if n, sqls := rt.take(); n > 2 {
		t.Errorf("a duplicate took %d round trips, want at most 2:\n%s", n, sqls)
	}
	if got := sender.n(); got < len(texts) {
		t.Fatalf("%d replies sent for %d messages", got, len(texts))
	}
	t.Logf("returning customer's turns: %v round trips; their deliveries: %v a transaction", turn, delivery)
	// A returning customer's turn: the read ahead (with the BEGIN), then
	// the writes with the COMMIT. A delivery: the item's read (with the
	// BEGIN), then its state with the COMMIT.
	const maxTurn, maxDelivery = 2, 2
	for i := range turn {
		if turn[i] > maxTurn || delivery[i] > maxDelivery {
			t.Errorf("turn %d: %d round trips, delivery %d; want at most %d and %d (see the log)", i+1, turn[i], delivery[i], maxTurn, maxDelivery)
		}
	}
}

// startCore seeds the default offers into db and starts a core whose
// dispatcher (opts) sends web replies to sender; both stop with t.
func startCore(t *testing.T, db *pgstore.DB, def *configs.Defaults, sender bot.Sender, opts bot.DispatcherOptions) (*bot.Core, *bot.Dispatcher) {
	t.Helper()
	ctx := t.Context()
	if _, err := bot.SeedOffers(ctx, db, def.Offers, time.Now()); err != nil {
		t.Fatal(err)
	}
	disp := bot.NewDispatcher(db, opts)
	disp.Register(crm.ChannelWeb, sender)
	core := bot.New(bot.Options{Store: db, Catalog: def.Catalog, Segments: def.Segments, Dispatcher: disp})
	if err := core.LoadOffers(ctx); err != nil {
		t.Fatal(err)
	}
	if err := disp.Open(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = disp.Close() })
	return core, disp
}

type countingSender struct {
	mu   sync.Mutex
	sent int
	gate chan struct{} // Send waits until it is closed; nil: no wait
}

// hold makes the next sends wait until the channel it returns is closed.
func (s *countingSender) hold() chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.gate = make(chan struct{})
	return s.gate
}

func (s *countingSender) Send(ctx context.Context, _ *crm.OutboxItem) error {
	s.mu.Lock()
	gate := s.gate
	s.mu.Unlock()
	if gate != nil {
		select {
		case <-gate:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sent++
	return nil
}

func (s *countingSender) n() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sent
}

// TestConcurrentTurnsCommitTogether hands the core many users' messages at
// once, each delivered twice: on PostgreSQL the turns commit in groups
// (crm.TurnUpdater), in fewer transactions than turns, and every message is
// still logged once and answered once.
func TestConcurrentTurnsCommitTogether(t *testing.T) {
	url := pgtest.URL(t)
	def, err := configs.Load(time.Now())
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	rt := &roundTrips{sqls: map[string]int{}}
	db, err := pgstore.Open(ctx, url, pgstore.Options{Tracer: rt, GroupRunners: 1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	sender := &countingSender{}
	core, disp := startCore(t, db, &def, sender, bot.DispatcherOptions{Lanes: 2, Owner: "groups"})
	gate := sender.hold() // deliveries wait, so only turns are counted
	rt.take()
	const users = 48
	texts := []string{"xin chào", "giá iphone 15 bao nhiêu", "any deals?", "redmi note 13 còn hàng không"}
	var wg sync.WaitGroup
	var mu sync.Mutex
	handled := 0
	for u := range users {
		for range 2 { // each message delivered twice at once
			wg.Go(func() {
				res, err := core.Handle(ctx, bot.Inbound{Channel: crm.ChannelWeb, UserID: "g" + strconv.Itoa(u),
					MessageID: "gm" + strconv.Itoa(u), Kind: crm.KindText, Text: texts[u%len(texts)]})
				if err != nil {
					t.Error(err)
					return
				}
				if !res.Duplicate {
					mu.Lock()
					handled++
					mu.Unlock()
				}
			})
		}
	}
	wg.Wait()
	n, txs, sqls := rt.takeTx()
	close(gate)
	if handled != users {
		t.Errorf("%d messages handled, want %d (each once)", handled, users)
	}
	gs := db.GroupStats()
	t.Logf("%d turns: %d round trips, %d transactions; %d turns committed in %d groups\n%s", 2*users, n, txs, gs.Turns, gs.Groups, sqls)
	if gs.Turns == 0 || txs >= 2*users {
		t.Errorf("%d turns took %d transactions, %d committed in groups: turns did not commit together", 2*users, txs, gs.Turns)
	}
	if err := disp.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if err := db.View(ctx, func(tx crm.Tx) error {
		for u := range users {
			c, err := tx.FindCustomerByIdentity(crm.ChannelWeb, "g"+strconv.Itoa(u))
			if err != nil || c == nil {
				t.Fatalf("user %d: %v, %v", u, c, err)
			}
			is, err := tx.Interactions(c.ID, 0, 0)
			if err != nil {
				return err
			}
			in := 0
			for _, i := range is {
				if i.Direction == crm.Inbound {
					in++
				}
			}
			if in != 1 || c.Stats.MessagesIn != 1 {
				t.Errorf("user %d: %d messages logged, %d counted; want 1", u, in, c.Stats.MessagesIn)
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if got := sender.n(); got < users {
		t.Errorf("%d replies sent for %d messages", got, users)
	}
}

package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/idicbot/idicbot/bot"
	"github.com/idicbot/idicbot/configs"
	"github.com/idicbot/idicbot/crm"
	"github.com/idicbot/idicbot/crm/pgstore"
)

// pgConns is each replica's connection pool: enough for the concurrent
// conversations to keep the server busy.
const pgConns = 32

// benchPostgres measures PostgreSQL's own baseline (INSERTs of 512-byte
// rows, each committed, synchronous_commit on, at the same concurrency) and
// the pipeline on PostgreSQL with one and with two replicas (two cores,
// each with its pool and dispatcher, on one database), each in a schema of
// its own, dropped after.
func (m *bench) benchPostgres(ctx context.Context, o benchOptions, _ benchResult) error {
	if o.PostgresURL == "" {
		fmt.Fprintln(o.Out, "postgres: skipped (set -postgres or IDICBOT_BENCH_DATABASE_URL)")
		return nil
	}
	base, err := pgBaseline(ctx, o)
	if err != nil {
		return fmt.Errorf("postgres baseline: %w", err)
	}
	fmt.Fprintln(o.Out, base)
	// The turn's rows alone, without the core: one message a transaction,
	// and as many as a group of turns holds.
	for _, perTx := range []int{1, pgFloorGroup(o)} {
		res, err := pgFloor(ctx, o, perTx)
		if err != nil {
			return fmt.Errorf("postgres floor: %w", err)
		}
		fmt.Fprintf(o.Out, "%s   (%.2f of the baseline)\n", res, res.PerSecond()/base.PerSecond())
	}
	for _, replicas := range []int{1, 2} {
		res, err := pgPipeline(ctx, o, replicas)
		if err != nil {
			return fmt.Errorf("postgres pipeline, %d replicas: %w", replicas, err)
		}
		fmt.Fprintln(o.Out, res)
		if res.Writer != "" {
			fmt.Fprintf(o.Out, "  (%s)\n", res.Writer)
		}
		fmt.Fprintf(o.Out, "ratio = pipeline msgs/s ÷ postgres inserts/s = %.0f ÷ %.0f = %.2f (target ≥ 0.5)\n",
			res.PerSecond(), base.PerSecond(), res.PerSecond()/base.PerSecond())
	}
	return m.pgLookups(ctx, o)
}

// pgLookups measures the reps' lookups on PostgreSQL, on a store of
// o.LookupCustomers customers, as benchLookups does on bbolt.
func (m *bench) pgLookups(ctx context.Context, o benchOptions) error {
	n := o.LookupCustomers
	if n <= 0 {
		return nil
	}
	db, done, err := schemaStore(ctx, o)
	if err != nil {
		return err
	}
	defer done()
	def, err := configs.Load(time.Now())
	if err != nil {
		return err
	}
	core := bot.New(bot.Options{Store: db, Catalog: def.Catalog, Segments: def.Segments})
	t0, now := time.Now(), time.Now()
	// The rows PutCustomer would write, by COPY (pgstore.LoadCustomers),
	// 10,000 customers a transaction, two loaders at once; ids 1…n as
	// bbolt gives them.
	const chunk = 10000
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, 2)
	for range 2 {
		wg.Go(func() {
			for {
				start := int(next.Add(chunk)) - chunk
				if start >= n {
					return
				}
				cs := make([]*crm.Customer, 0, chunk)
				for i := start; i < min(start+chunk, n); i++ {
					c := lookupCustomer(i, now)
					c.ID = crm.ID(i + 1)
					cs = append(cs, c)
				}
				if err := db.LoadCustomers(ctx, cs); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return err
	}
	loaded := time.Since(t0)
	// As autovacuum leaves a table in service: statistics and the visibility
	// map (index-only scans) up to date.
	if _, err := db.Pool().Exec(ctx, `VACUUM ANALYZE`); err != nil {
		return err
	}
	fmt.Fprintf(o.Out, "postgres lookups: a store of %d customers loaded in %.1fs, VACUUM ANALYZE %.1fs\n",
		n, loaded.Seconds(), (time.Since(t0) - loaded).Seconds())
	figures, err := measureLookups(ctx, o, n, core.Reps(), "postgres ")
	if err != nil {
		return err
	}
	printLookupsSideBySide(o, m.bboltLookups, figures)
	return nil
}

// withSchema creates a schema on the server at server and returns a URL
// whose search_path is it, and a func that drops it.
func withSchema(ctx context.Context, server string) (string, func(), error) {
	var b [4]byte
	_, _ = rand.Read(b[:])
	schema := "bench_" + hex.EncodeToString(b[:])
	conn, err := pgx.Connect(ctx, server)
	if err != nil {
		return "", nil, err
	}
	defer func() { _ = conn.Close(ctx) }()
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		return "", nil, err
	}
	u, err := url.Parse(server)
	if err != nil {
		return "", nil, err
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	drop := func() {
		ctx := context.WithoutCancel(ctx)
		if conn, err := pgx.Connect(ctx, server); err == nil {
			_, _ = conn.Exec(ctx, "DROP SCHEMA "+schema+" CASCADE")
			_ = conn.Close(ctx)
		}
	}
	return u.String(), drop, nil
}

// schemaStore opens a store in a schema of its own on the bench's server;
// done closes it and drops the schema.
func schemaStore(ctx context.Context, o benchOptions) (*pgstore.DB, func(), error) {
	u, drop, err := withSchema(ctx, o.PostgresURL)
	if err != nil {
		return nil, nil, err
	}
	db, err := pgstore.Open(ctx, u, pgstore.Options{MaxConns: pgConns})
	if err != nil {
		drop()
		return nil, nil, err
	}
	return db, func() { _ = db.Close(); drop() }, nil
}

func pgBaseline(ctx context.Context, o benchOptions) (benchResult, error) {
	db, done, err := schemaStore(ctx, o)
	if err != nil {
		return benchResult{}, err
	}
	defer done()
	if _, err := db.Pool().Exec(ctx, `CREATE TABLE raw (k text PRIMARY KEY, v bytea NOT NULL)`); err != nil {
		return benchResult{}, err
	}
	val := make([]byte, 512)
	checkpoint(ctx, db.Pool())
	res, err := runOps(ctx, o.Messages, o.Concurrency, func(_, i int) error {
		_, err := db.Pool().Exec(ctx, `INSERT INTO raw (k, v) VALUES ($1, $2)`, strconv.Itoa(i), val)
		return err
	}, nil)
	res.Name = "postgres baseline: 512B inserts"
	return res, err
}

// pgPipeline drives the conversations through replicas cores on one
// database; conversation w goes to replica w % replicas, so a customer's
// messages keep their order, as a load balancer with sticky sessions does.
func pgPipeline(ctx context.Context, o benchOptions, replicas int) (benchResult, error) {
	u, drop, err := withSchema(ctx, o.PostgresURL)
	if err != nil {
		return benchResult{}, err
	}
	defer drop()
	def, err := configs.Load(time.Now())
	if err != nil {
		return benchResult{}, err
	}
	type replica struct {
		db   *pgstore.DB
		core *bot.Core
		disp *bot.Dispatcher
	}
	rs := make([]replica, replicas)
	sender := &nopSender{}
	for i := range rs {
		db, err := pgstore.Open(ctx, u, pgstore.Options{MaxConns: pgConns, GroupMax: o.PGGroupMax, GroupRunners: o.PGGroupRunners})
		if err != nil {
			return benchResult{}, err
		}
		defer db.Close()
		if _, err := bot.SeedOffers(ctx, db, def.Offers, time.Now()); err != nil {
			return benchResult{}, err
		}
		disp := bot.NewDispatcher(db, bot.DispatcherOptions{Lanes: 8, Owner: fmt.Sprint("bench-", i)})
		defer disp.Close()
		core := bot.New(bot.Options{Store: db, Catalog: def.Catalog, Segments: def.Segments, Dispatcher: disp})
		if err := core.LoadOffers(ctx); err != nil {
			return benchResult{}, err
		}
		disp.Register(crm.ChannelWeb, sender)
		if err := disp.Open(ctx); err != nil {
			return benchResult{}, err
		}
		rs[i] = replica{db, core, disp}
	}
	returning := int(float64(o.Customers) * o.Returning)
	if err := pgPreload(ctx, rs[0].db, def.Segments, returning); err != nil {
		return benchResult{}, err
	}
	checkpoint(ctx, rs[0].db.Pool())
	res, err := driveConversations(ctx, o, func(ctx context.Context, cust, seq int, text string) error {
		r := rs[(cust%o.Concurrency)%replicas]
		_, err := r.core.Handle(ctx, bot.Inbound{Channel: crm.ChannelWeb, UserID: "u" + strconv.Itoa(cust),
			MessageID: "m" + strconv.Itoa(seq), Kind: crm.KindText, Text: text})
		return err
	}, func(ctx context.Context) error {
		for _, r := range rs {
			if err := r.disp.Flush(ctx); err != nil {
				return err
			}
		}
		return nil
	})
	res.Name = fmt.Sprintf("postgres pipeline, %d replica(s)", replicas)
	var gs pgstore.GroupStats
	for _, r := range rs {
		s := r.db.GroupStats()
		gs.Groups += s.Groups
		gs.Turns += s.Turns
	}
	if gs.Groups > 0 {
		res.Writer = fmt.Sprintf("groups: %d of %d turns committed in %d groups, %.1f a group; the rest each on its own",
			gs.Turns, o.Messages, gs.Groups, float64(gs.Turns)/float64(gs.Groups))
	}
	return res, err
}

// checkpoint asks the server for a checkpoint before a measured run, so
// that none falls in the middle of one: after a checkpoint the first
// change to each page writes the whole page to the WAL, and the runs,
// each a few seconds, would otherwise take that cost in turn, by chance.
// A server that refuses (a user without pg_checkpoint) is left alone.
func checkpoint(ctx context.Context, pool *pgxpool.Pool) {
	_, _ = pool.Exec(ctx, "CHECKPOINT")
}

// pgPreload stores the returning customers as benchEnv.preload does.
func pgPreload(ctx context.Context, db *pgstore.DB, segs *crm.Segments, n int) error {
	now := time.Now()
	for start := 0; start < n; start += 1000 {
		if err := db.Update(ctx, func(tx crm.Tx) error {
			for i := start; i < min(start+1000, n); i++ {
				first := now.AddDate(0, 0, -(i%400)-1)
				c := &crm.Customer{Name: fmt.Sprintf("Khách %d", i), CreatedAt: first, Language: "vi"}
				c.AddIdentity(crm.Identity{Channel: crm.ChannelWeb, UserID: "u" + strconv.Itoa(i), ChatID: "u" + strconv.Itoa(i), FirstSeen: first})
				c.Stats.RecordMessageIn(first)
				if i%3 == 0 {
					c.Stats.RecordOrder(int64(500000+i%10000000), first)
				}
				c.Segment = crm.SegmentAssignment{Name: crm.SegmentNew, Since: first}
				segs.Apply(c, now, "sweep")
				if err := tx.PutCustomer(c); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			return err
		}
	}
	return nil
}

// pgFloorGroup is how many messages the floor commits together: as many
// as the pipeline's groups hold.
func pgFloorGroup(o benchOptions) int {
	if o.PGGroupMax > 0 {
		return o.PGGroupMax
	}
	return pgstore.DefaultGroupMax
}

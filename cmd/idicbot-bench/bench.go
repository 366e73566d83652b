package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/idicbot/idicbot/bot"
	"github.com/idicbot/idicbot/configs"
	"github.com/idicbot/idicbot/crm"
	"github.com/idicbot/idicbot/crm/boltstore"
	"go.etcd.io/bbolt"
)

// benchOptions size the benchmark (idicbot-bench, run by `make bench`).
type benchOptions struct {
	Messages    int
	Customers   int
	Concurrency int
	Returning   float64 // share of customers known before the run
	Dir         string
	Out         io.Writer
	CPUProfile  string
	// LookupCustomers sizes the store of the reps' lookup benchmark.
	LookupCustomers int
	// Telegram: measure the Telegram end-to-end figure too.
	Telegram bool
	// CampaignCustomers sizes the campaign benchmark (0 skips it).
	CampaignCustomers int
	// UnderstandOnly measures understanding alone (benchUnderstand).
	UnderstandOnly bool
	// DashboardCustomers and DashboardEvents size the store of the
	// owner's dashboard benchmark; OnlyDashboard runs that one alone.
	DashboardCustomers int
	DashboardEvents    int
	OnlyDashboard      bool
	// OnlyLookups runs the reps' lookups alone, on bbolt and (with
	// PostgresURL) on PostgreSQL.
	OnlyLookups bool
	// PostgresURL, when set, adds the PostgreSQL figures (bench_postgres.go).
	PostgresURL string
	// PGGroupMax and PGGroupRunners are pgstore.Options' GroupMax and
	// GroupRunners for the pipeline on PostgreSQL (0: the defaults).
	PGGroupMax, PGGroupRunners int
}

// benchResult is one measured figure.
type benchResult struct {
	Name     string
	Ops      int
	Elapsed  time.Duration
	P50, P99 time.Duration
	CPU      time.Duration // the process's CPU time during the run (0: not measured)
	Writer   string        // where the writer's time went, when measured
}

// CPUPerOp is the process's CPU time per operation of the run.
func (r benchResult) CPUPerOp() time.Duration { return r.CPU / time.Duration(max(r.Ops, 1)) }

func (r benchResult) PerSecond() float64 { return float64(r.Ops) / r.Elapsed.Seconds() }

func (r benchResult) String() string {
	s := fmt.Sprintf("%-34s %9d ops in %7.2fs = %9.0f/s", r.Name, r.Ops, r.Elapsed.Seconds(), r.PerSecond())
	if r.P50 > 0 {
		s += fmt.Sprintf("   p50 %7.2fms  p99 %7.2fms", ms(r.P50), ms(r.P99))
	}
	if r.CPU > 0 {
		s += fmt.Sprintf("   CPU %4.0f µs/op (%.0f%% of %d cores)", us(r.CPUPerOp()), 100*r.CPU.Seconds()/r.Elapsed.Seconds()/float64(runtime.GOMAXPROCS(0)), runtime.GOMAXPROCS(0))
	}
	return s
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func us(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) }

func percentile(lat []time.Duration, p float64) time.Duration {
	if len(lat) == 0 {
		return 0
	}
	slices.Sort(lat)
	return lat[min(len(lat)-1, int(float64(len(lat))*p))]
}

// runBench measures the core against the raw bbolt baseline in one run.
func (m *bench) runBench(ctx context.Context) error {
	o := benchOptions{Out: m.Stdout}
	fs := flag.NewFlagSet("idicbot-bench", flag.ContinueOnError)
	fs.SetOutput(m.Stderr)
	fs.IntVar(&o.Messages, "messages", 200000, "inbound messages to drive through the core")
	fs.IntVar(&o.Customers, "customers", 20000, "distinct customers")
	fs.IntVar(&o.Concurrency, "concurrency", 256, "concurrent conversations")
	fs.Float64Var(&o.Returning, "returning", 0.7, "share of customers already known (with history, some with orders)")
	fs.StringVar(&o.Dir, "dir", "", "directory for the benchmark's files (default: a temporary directory)")
	fs.IntVar(&o.LookupCustomers, "lookup-customers", 1000000, "customers in the store of the lookup benchmark (0 skips it)")
	cpuprofile := fs.String("cpuprofile", "", "write a CPU profile of the pipeline run to this file (and of the Telegram runs to FILE.telegram-polling, -webhook, -send)")
	fs.BoolVar(&o.Telegram, "telegram", true, "measure the Telegram end-to-end figure")
	fs.IntVar(&o.CampaignCustomers, "campaign-customers", 1000000, "customers a campaign goes to in the campaign benchmark (0 skips it)")
	fs.BoolVar(&o.UnderstandOnly, "understand-only", false, "measure only how long understanding one message takes")
	fs.IntVar(&o.DashboardCustomers, "dashboard-customers", 1000000, "customers in the store of the dashboard benchmark (0 skips it)")
	fs.IntVar(&o.DashboardEvents, "dashboard-events", 10000000, "events in the store of the dashboard benchmark")
	fs.BoolVar(&o.OnlyDashboard, "only-dashboard", false, "run the dashboard benchmark alone")
	fs.BoolVar(&o.OnlyLookups, "only-lookups", false, "run the reps' lookups alone, on bbolt and (with -postgres) on PostgreSQL")
	fs.IntVar(&o.PGGroupMax, "pg-group-max", 0, "turns committed together at most on PostgreSQL (0: the store's default; 1: each on its own)")
	fs.IntVar(&o.PGGroupRunners, "pg-group-runners", 0, "groups of turns running at once on PostgreSQL, per replica (0: the store's default)")
	fs.StringVar(&o.PostgresURL, "postgres", os.Getenv("IDICBOT_BENCH_DATABASE_URL"), "PostgreSQL to measure the second store on (postgres://…; env IDICBOT_BENCH_DATABASE_URL; empty skips it)")
	if err := fs.Parse(m.Args); err != nil {
		return err
	}
	if o.UnderstandOnly {
		_, err := benchUnderstand(o, benchResult{})
		return err
	}
	o.CPUProfile = *cpuprofile
	if o.Dir == "" {
		dir, err := os.MkdirTemp("", "idicbot-bench-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		o.Dir = dir
	}
	if o.OnlyDashboard {
		return m.benchDashboard(ctx, o, benchResult{})
	}
	if o.OnlyLookups {
		if err := m.benchLookups(ctx, o, benchResult{}); err != nil {
			return err
		}
		if o.PostgresURL == "" {
			return nil
		}
		return m.pgLookups(ctx, o)
	}
	gc := ""
	if m.GC != "" {
		gc = ", " + m.GC
	}
	fmt.Fprintf(o.Out, "idicbot-bench: %d messages from %d customers (%.0f%% returning), %d concurrent conversations, fsync on%s\n",
		o.Messages, o.Customers, o.Returning*100, o.Concurrency, gc)
	base, err := benchBaseline(ctx, o)
	if err != nil {
		return err
	}
	fmt.Fprintln(o.Out, base)
	fmt.Fprintf(o.Out, "  (%s)\n", base.Writer)
	core, err := benchCore(ctx, o)
	if err != nil {
		return err
	}
	fmt.Fprintln(o.Out, core)
	fmt.Fprintf(o.Out, "  (%s)\n", core.Writer)
	fmt.Fprintf(o.Out, "ratio = pipeline msgs/s ÷ baseline puts/s = %.0f ÷ %.0f = %.2f (target ≥ 0.5)\n",
		core.PerSecond(), base.PerSecond(), core.PerSecond()/base.PerSecond())
	if _, err := benchUnderstand(o, core); err != nil {
		return err
	}
	for _, extra := range m.benchExtras() {
		if err := extra(ctx, o, core); err != nil {
			return err
		}
	}
	return nil
}

// benchBaseline: DB.Batch puts of one 512-byte record per call from
// Concurrency goroutines on a fresh file, fsync on.
func benchBaseline(ctx context.Context, o benchOptions) (benchResult, error) {
	path := filepath.Join(o.Dir, "baseline.db")
	// The same file options as the store (boltstore.Open), so the two
	// figures differ by what the core does, not by how the file is kept.
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{Timeout: time.Second, FreelistType: bbolt.FreelistMapType, NoFreelistSync: true})
	if err != nil {
		return benchResult{}, err
	}
	defer db.Close()
	if err := db.Update(func(tx *bbolt.Tx) error { _, err := tx.CreateBucketIfNotExists([]byte("b")); return err }); err != nil {
		return benchResult{}, err
	}
	val := make([]byte, 512)
	// Batch runs the functions of a group one after another in one write
	// transaction, and write transactions one at a time (bbolt's writer
	// lock orders them), so counting changes of tx needs no lock.
	var lastTx *bbolt.Tx
	var commits int64
	before := db.Stats().TxStats
	res, err := runOps(ctx, o.Messages, o.Concurrency, func(_, i int) error {
		return db.Batch(func(tx *bbolt.Tx) error {
			if tx != lastTx {
				lastTx, commits = tx, commits+1
			}
			return tx.Bucket([]byte("b")).Put([]byte(strconv.Itoa(i)), val)
		})
	}, nil)
	if err != nil {
		return benchResult{}, err
	}
	res.Name = "baseline: bbolt Batch 512B puts"
	res.Writer = commitStats(before, db.Stats().TxStats, commits, int64(res.Ops), res)
	return res, nil
}

// benchTexts is what benchmark customers write: every intent of the core.
var benchTexts = []string{
	"xin chào", "giá iphone 15 bao nhiêu", "khuyen mai gi khong", "cho mình xem tai nghe", "tôi muốn mua sạc dự phòng",
	"hello, how much is the macbook?", "any deals?", "cam on shop", "shop có bán samsung không", "ok",
	"sdt của mình là %s", "thank you", "redmi note 13 còn hàng không", "gặp nhân viên",
}

// benchEnv is a core on a fresh store with the default configuration and a
// sender that accepts everything.
type benchEnv struct {
	db   *boltstore.DB
	core *bot.Core
	disp *bot.Dispatcher
	segs *crm.Segments
}

type nopSender struct{ sent atomic.Int64 }

func (s *nopSender) Send(context.Context, *crm.OutboxItem) error { s.sent.Add(1); return nil }

func newBenchEnv(ctx context.Context, path string) (*benchEnv, error) {
	db, err := boltstore.Open(path, boltstore.Options{})
	if err != nil {
		return nil, err
	}
	def, err := configs.Load(time.Now())
	if err != nil {
		return nil, err
	}
	if _, err := bot.SeedOffers(ctx, db, def.Offers, time.Now()); err != nil {
		return nil, err
	}
	cl, err := def.Classifier()
	if err != nil {
		return nil, err
	}
	// Channel limits off: the bench measures idicbot, not the channels' rates.
	disp := bot.NewDispatcher(db, bot.DispatcherOptions{Lanes: 8, Budgets: map[crm.Channel]bot.Budget{}})
	core := bot.New(bot.Options{Store: db, Catalog: def.Catalog, Segments: def.Segments, Dispatcher: disp,
		Classifier: cl, Knowledge: def.Knowledge})
	if err := core.LoadOffers(ctx); err != nil {
		return nil, err
	}
	return &benchEnv{db: db, core: core, disp: disp, segs: def.Segments}, nil
}

func (e *benchEnv) Close() error {
	e.disp.Close()
	return e.db.Close()
}

// preload stores the returning customers: identities, history and, for one
// in three, orders, as a shop that has run for a while would have, each in
// the segment the rules give them (as the periodic sweep leaves them).
func (e *benchEnv) preload(ctx context.Context, n int, ch crm.Channel) error {
	now := time.Now()
	rng := rand.New(rand.NewPCG(1, 2))
	for start := 0; start < n; start += 1000 {
		err := e.db.UpdateSolo(ctx, func(tx crm.Tx) error {
			for i := start; i < min(start+1000, n); i++ {
				first := now.AddDate(0, 0, -rng.IntN(400)-1)
				c := &crm.Customer{Name: fmt.Sprintf("Khách %d", i), CreatedAt: first, Language: "vi"}
				c.AddIdentity(crm.Identity{Channel: ch, UserID: "u" + strconv.Itoa(i), ChatID: "u" + strconv.Itoa(i), FirstSeen: first})
				c.Stats.RecordMessageIn(first)
				if i%3 == 0 {
					for k := 0; k <= rng.IntN(4); k++ {
						c.Stats.RecordOrder(int64(500000+rng.IntN(10000000)), first.AddDate(0, 0, k*20))
					}
				}
				c.Segment = crm.SegmentAssignment{Name: crm.SegmentNew, Since: first}
				e.segs.Apply(c, now, "sweep")
				if err := tx.PutCustomer(c); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// benchCore drives Messages inbound messages through Handle and the outbox.
func benchCore(ctx context.Context, o benchOptions) (benchResult, error) {
	env, err := newBenchEnv(ctx, filepath.Join(o.Dir, fmt.Sprintf("core-%d.db", o.Concurrency)))
	if err != nil {
		return benchResult{}, err
	}
	defer env.Close()
	returning := int(float64(o.Customers) * o.Returning)
	if err := env.preload(ctx, returning, crm.ChannelWeb); err != nil {
		return benchResult{}, err
	}
	sender := &nopSender{}
	env.disp.Register(crm.ChannelWeb, sender)
	if err := env.disp.Open(ctx); err != nil {
		return benchResult{}, err
	}
	if o.CPUProfile != "" {
		f, err := os.Create(o.CPUProfile)
		if err != nil {
			return benchResult{}, err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return benchResult{}, err
		}
		defer pprof.StopCPUProfile()
	}
	meter := startWriterMeter(env.db)
	res, err := driveConversations(ctx, o, func(ctx context.Context, cust, seq int, text string) error {
		_, err := env.core.Handle(ctx, bot.Inbound{Channel: crm.ChannelWeb, UserID: "u" + strconv.Itoa(cust),
			MessageID: "m" + strconv.Itoa(seq), Kind: crm.KindText, Text: text})
		return err
	}, func(ctx context.Context) error { return env.disp.Flush(ctx) })
	res.Name = "pipeline: Handle + outbox, fsync on"
	res.Writer = meter.stop(res)
	return res, err
}

// writerMeter measures a run's group commits on a store.
type writerMeter struct {
	db               *boltstore.DB
	before           bbolt.TxStats
	commits, applied int64
}

func startWriterMeter(db *boltstore.DB) writerMeter {
	c, a := db.GroupCommits()
	return writerMeter{db: db, before: db.Bolt().Stats().TxStats, commits: c, applied: a}
}

// stop says where the writer's time went since start, for the run r.
func (m writerMeter) stop(r benchResult) string {
	c, a := m.db.GroupCommits()
	return commitStats(m.before, m.db.Bolt().Stats().TxStats, c-m.commits, a-m.applied, r)
}

// commitStats says where the single writer's time went during a run: the
// group commits and the transactions they applied (counted by the caller:
// the store's writer, or the baseline's Batch), and from bbolt's counters,
// which cover every write transaction, the pages written and the time spent
// writing and syncing them (WriteTime) and spilling nodes, against the run.
func commitStats(before, after bbolt.TxStats, commits, applied int64, r benchResult) string {
	d := after.Sub(&before)
	run := r.Elapsed.Seconds()
	return fmt.Sprintf("writer: %d group commits applying %d transactions (%.1f each), %.2f pages written per op; %.0f%% of the run writing and syncing pages (%.2f ms a commit), %.0f%% spilling nodes",
		commits, applied, float64(applied)/float64(max(commits, 1)), float64(d.GetWrite())/float64(max(r.Ops, 1)),
		100*d.GetWriteTime().Seconds()/run, 1000*d.GetWriteTime().Seconds()/float64(max(commits, 1)), 100*d.GetSpillTime().Seconds()/run)
}

// driveConversations runs Concurrency conversations over Customers customers:
// each conversation owns a customer at a time, so one customer's messages
// stay in order, as on a real channel. done runs before the clock stops.
func driveConversations(ctx context.Context, o benchOptions, send func(ctx context.Context, cust, seq int, text string) error, done func(context.Context) error) (benchResult, error) {
	rngs := make([]*rand.Rand, o.Concurrency)
	for w := range rngs {
		rngs[w] = rand.New(rand.NewPCG(uint64(w), 7))
	}
	return runOps(ctx, o.Messages, o.Concurrency, func(w, i int) error {
		// Customer of message i: conversations interleave, each customer
		// is handled by one worker (cust % Concurrency == w).
		rng := rngs[w]
		cust := w + o.Concurrency*rng.IntN(max(1, o.Customers/o.Concurrency))
		text := benchTexts[rng.IntN(len(benchTexts))]
		if strings.Contains(text, "%s") { // each customer has a phone of their own
			text = fmt.Sprintf(text, fmt.Sprintf("09%08d", cust))
		}
		return send(ctx, cust, i, text)
	}, done)
}

// runOps runs operations 1…n from conc goroutines — op(w, i) is operation i
// on goroutine w — and times each. The first error stops every goroutine
// before its next operation and is returned. done, when not nil, runs before
// the clock stops. The result has no name.
func runOps(ctx context.Context, n, conc int, op func(w, i int) error, done func(context.Context) error) (benchResult, error) {
	var (
		next     atomic.Int64
		mu       sync.Mutex
		firstErr error
		failed   atomic.Bool
		wg       sync.WaitGroup
	)
	lat := make([][]time.Duration, conc)
	cpu0, start := processCPU(), time.Now()
	for w := range conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1))
				if i > n || ctx.Err() != nil || failed.Load() {
					return
				}
				t0 := time.Now()
				if err := op(w, i); err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = err
					}
					mu.Unlock()
					failed.Store(true)
					return
				}
				lat[w] = append(lat[w], time.Since(t0))
			}
		}()
	}
	wg.Wait()
	if firstErr != nil {
		return benchResult{}, firstErr
	}
	if done != nil {
		if err := done(ctx); err != nil {
			return benchResult{}, err
		}
	}
	el, cpu := time.Since(start), processCPU()-cpu0
	all := slices.Concat(lat...)
	return benchResult{Ops: len(all), Elapsed: el, P50: percentile(all, 0.5), P99: percentile(all, 0.99), CPU: cpu}, nil
}

// benchExtras are further figures measured in the same run (channels,
// lookups), each printing its lines.
func (m *bench) benchExtras() []func(ctx context.Context, o benchOptions, core benchResult) error {
	return []func(context.Context, benchOptions, benchResult) error{
		func(ctx context.Context, o benchOptions, core benchResult) error {
			if !o.Telegram {
				return nil
			}
			return m.benchTelegram(ctx, o, core)
		},
		m.benchLookups,
		m.benchCampaign,
		m.benchDashboard,
		m.benchPostgres,
	}
}

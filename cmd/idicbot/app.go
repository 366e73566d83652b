package main

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/idicbot/idicbot/adapters/slack"
	"github.com/idicbot/idicbot/adapters/webchat"
	"github.com/idicbot/idicbot/bot"
	"github.com/idicbot/idicbot/bot/report"
	"github.com/idicbot/idicbot/crm"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// Main is the program: flags, configuration, wiring. Tests drive it
// directly through ParseFlags, Run and Close.
type Main struct {
	Command string
	Args    []string
	Config  *Config

	ConfigPath string
	DataDir    string
	Addr       string
	// Flags of single commands.
	HealthCheck bool   // serve --check
	ErrorsFile  string // import --errors
	NoProgress  bool   // import --no-progress
	DryRun      bool   // offers import --dry-run
	Yes         bool   // customer erase --yes
	// Terminal says whether w is a terminal a person watches (progress
	// lines, log format); nil asks the file.
	Terminal func(w io.Writer) bool

	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
	Getenv func(string) string
	Now    func() time.Time
	// AfterCommit is passed to the core (tests simulate crashes with it).
	AfterCommit func(bot.Result)
	// Senders adds or replaces channel senders (tests).
	Senders map[crm.Channel]bot.Sender
	// Notifier and Leader are how processes sharing the store coordinate:
	// wake-ups and reloads, and the singletons (segment sweep, retention,
	// Telegram long polling, Zalo token refresh), each under its lease. Run
	// sets the in-process ones (bot/inproc) unless a test set others.
	Notifier bot.Notifier
	Leader   bot.Leader

	Log  *slog.Logger
	DB   Store
	Core *bot.Core
	// Reports are the owner's reports (dashboard, API, /crm report).
	Reports *report.Service
	// Knowledge is the shop's FAQ entries, answered by the rules and
	// grounding the LLM.
	Knowledge *crm.Knowledge
	// Messages edits the bot's phrases at run time (admin page); its newest
	// stored version wins over the messages file.
	Messages *bot.MessagesAdmin
	// FAQ edits the knowledge entries at run time (admin page); its newest
	// stored version wins over the knowledge file.
	FAQ        *bot.KnowledgeAdmin
	Dispatcher *bot.Dispatcher
	Outreach   *bot.Outreach
	Webchat    *webchat.Server
	shop       string         // the shop's name: the configuration's, else the catalog's
	Slack      *slack.Adapter // nil unless Slack is configured
	HTTP       *http.Server
	Registry   *prometheus.Registry

	listener net.Listener
	ready    chan struct{} // closed once serve listens
	migrate  migrateFlags  // migrate-store's flags
	closers  []func() error
	// parts are the optional channels and tools wired by wire_*.go files:
	// started after the HTTP server listens, stopped before the outbox is
	// flushed at shutdown.
	parts []part
	sinks []bot.EventSink
	// health are channels that can tell they cannot send (a Zalo OA to
	// re-authorise, a refused Page token); /healthz shows them.
	health []healthCheck
	cancel context.CancelFunc
	wg     sync.WaitGroup
	// stopping is set when shutdown begins: not ready any more.
	stopping atomic.Bool

	// metricsListener is metrics_addr's listener, when it is set.
	metricsListener net.Listener
	// requireAdmin guards a handler with the admin token; set by wireAdmin
	// when the admin is on, for /metrics on the main address.
	requireAdmin func(http.Handler) http.Handler
}

// Leases of the singletons started here (the channels name their own).
const (
	leaseSweep     = "segment-sweep"
	leaseRetention = "retention"
)

// part is a started component (a channel's polling loop, a socket).
type part struct {
	name  string
	start func(ctx context.Context) error
	stop  func() error
}

// healthCheck reports a part's problem, nil when it is fine.
type healthCheck struct {
	name  string
	check func() error
}

// CoreEvent fans core events out to the parts that registered a sink.
func (m *Main) CoreEvent(ctx context.Context, e bot.Event) {
	for _, s := range m.sinks {
		s.CoreEvent(ctx, e)
	}
}

// NewMain returns a Main reading the process's environment and stdio.
func NewMain() *Main {
	return &Main{Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr, Getenv: os.Getenv, Now: time.Now, ready: make(chan struct{})}
}

// Ready is closed once `serve` accepts connections (tests wait on it).
func (m *Main) Ready() <-chan struct{} { return m.ready }

// ParseFlags reads the subcommand, its flags and arguments, and the
// configuration. It opens nothing: a command line it refuses is a
// *usageError (exit 2) and has changed nothing. Help asked for goes to
// Stdout and returns flag.ErrHelp.
func (m *Main) ParseFlags(args []string) error {
	if len(args) == 0 {
		args = []string{"serve"}
	}
	name, args := args[0], args[1:]
	switch name {
	case "help", "-h", "-help", "--help":
		if len(args) == 0 {
			printUsage(m.Stdout)
			return flag.ErrHelp
		}
		if c := findCommand(args[0]); c != nil && len(args) == 1 {
			printCommandHelp(m.Stdout, c, m.flagSet(c))
			return flag.ErrHelp
		}
		return usagef("", "help: unknown command %q", strings.Join(args, " "))
	case "-version", "--version":
		name = "version"
	default:
		if strings.HasPrefix(name, "-") { // `idicbot --data x`: serve, as with no command
			name, args = "serve", append([]string{name}, args...)
		}
	}
	c := findCommand(name)
	if c == nil {
		return usagef("", "unknown command %q", name)
	}
	m.Command = name
	fs := m.flagSet(c)
	pos, err := parseInterleaved(fs, args)
	if errors.Is(err, flag.ErrHelp) {
		printCommandHelp(m.Stdout, c, fs)
		return err
	} else if err != nil {
		return usagef(name, "%s: %v", name, err)
	}
	if err := c.args(m, pos); err != nil {
		return err
	}
	m.Args = pos
	if name == "version" || name == "completion" {
		return nil
	}
	cfg, err := LoadConfig(m.ConfigPath, m.Getenv)
	if err != nil {
		return err
	}
	if m.DataDir != "" {
		cfg.Data = m.DataDir
	}
	if m.Addr != "" {
		cfg.Addr = m.Addr
	}
	m.Config = cfg
	// Secrets may come from files (NAME_FILE, systemd credentials): the
	// wiring reads them through Getenv like any other variable.
	m.Getenv, err = secretsFromFiles(m.Getenv)
	return err
}

// flagSet is c's flags: its own and the ones every command takes. Errors
// and help are printed by ParseFlags, not by the flag package.
func (m *Main) flagSet(c *command) *flag.FlagSet {
	fs := flag.NewFlagSet("idicbot "+c.name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	if c.name != "version" && c.name != "completion" {
		fs.StringVar(&m.ConfigPath, "config", "", "configuration `file` (default: built-in; env IDICBOT_CONFIG)")
		fs.StringVar(&m.DataDir, "data", "", "data `directory` (default ./data; env IDICBOT_DATA)")
	}
	if c.flags != nil {
		c.flags(m, fs)
	}
	return fs
}

// Run runs the subcommand until it is done or ctx ends.
func (m *Main) Run(ctx context.Context) error {
	switch {
	case m.Command == "version":
		fmt.Fprintln(m.Stdout, currentBuild())
		return nil
	case m.Command == "completion":
		printBashCompletion(m.Stdout)
		return nil
	case m.HealthCheck:
		return m.checkHealth(ctx)
	}
	m.Log = newLogger(m.Stderr, m.Config.LogLevel, m.Config.LogFormat)
	if m.Command == "serve" {
		b := currentBuild()
		m.Log.Info("idicbot starting", "version", b.Version, "revision", b.Revision, "go", b.GoVersion,
			"platform", b.Platform, "data", m.Config.Data, "addr", m.Config.Addr)
	}
	switch m.Command {
	case "backup":
		return m.runBackup(ctx)
	case "migrate-store":
		return m.runMigrateStore(ctx)
	}
	if err := m.open(ctx); err != nil {
		return err
	}
	switch m.Command {
	case "chat":
		return m.runChat(ctx)
	case "import":
		return m.runImport(ctx)
	case "offers":
		return m.runOffers(ctx)
	case "customer":
		return m.runCustomer(ctx)
	case "check":
		return m.runCheck(ctx)
	}
	return m.serve(ctx)
}

// open opens the store and builds the core and the dispatcher.
func (m *Main) open(ctx context.Context) error {
	cfg := m.Config
	db, err := m.openStore(ctx)
	if err != nil {
		return err
	}
	m.DB = db

	segData, segName, err := cfg.ReadFile(cfg.SegmentsFile, "segments.yaml")
	if err != nil {
		return err
	}
	segs, err := crm.ParseSegments(segName, segData)
	if err != nil {
		return fmt.Errorf("segment rules: %s", crm.ErrorMessage(err))
	}
	catData, catName, err := cfg.ReadFile(cfg.CatalogFile, "catalog.yaml")
	if err != nil {
		return err
	}
	cat, err := crm.ParseCatalog(catName, catData)
	if err == nil && m.shop == "" {
		m.shop = cmp.Or(cfg.Shop, cat.Shop)
	}
	if err != nil {
		return fmt.Errorf("catalog: %s", crm.ErrorMessage(err))
	}
	msgData, msgName, err := cfg.ReadFile(cfg.MessagesFile, "messages.yaml")
	if err != nil {
		return err
	}
	phrases, err := bot.ParseMessages(msgName, msgData)
	if err != nil {
		return fmt.Errorf("messages: %s", crm.ErrorMessage(err))
	}
	cat.Phrases = crm.NewPhrasebook(phrases)
	classifier, knowledge, intents, err := understanding(cfg, cat)
	if err != nil {
		return err
	}
	m.Knowledge = knowledge
	m.Registry = prometheus.NewRegistry()
	m.Registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	registerBuildInfo(m.Registry, currentBuild())
	metrics := bot.NewMetrics(m.Registry)
	registerStoreMetrics(m.Registry, db)
	assistant, err := m.newAssistant()
	if err != nil {
		return err
	}
	m.Dispatcher = bot.NewDispatcher(db, bot.DispatcherOptions{
		Lanes: cfg.Outbox.Lanes, MaxAttempts: cfg.Outbox.MaxAttempts, Backoff: cfg.Outbox.Backoff,
		MaxBackoff: cfg.Outbox.MaxBackoff, Now: m.Now, Logger: m.Log, Metrics: metrics, Owner: cfg.Outbox.Owner,
		Lease: cfg.Outbox.Lease, Budgets: cfg.budgets(),
	})
	m.Core = bot.New(bot.Options{
		Store: db, Catalog: cat, Segments: segs, Shop: cfg.Shop, DefaultLanguage: cfg.DefaultLanguage,
		Now: m.Now, Logger: m.Log, Metrics: metrics, Dispatcher: m.Dispatcher, AfterCommit: m.AfterCommit,
		Events: m, Assistant: assistant, AssistTimeout: m.assistTimeout(), Notifier: m.Notifier,
		Classifier: classifier, Knowledge: knowledge, SourceLabels: cfg.Sources,
	})
	m.Reports = report.New(db, cfg.Location(), m.Now, func() []string { return m.Core.Segments().Names() })
	// Segment rules edited at run time (admin page) are stored and win over
	// the file; so are the bot's phrases.
	if err := m.Core.LoadSegmentRules(ctx); err != nil {
		return err
	}
	m.Messages = bot.NewMessagesAdmin(db, cat.Phrases, msgName, msgData, m.Now)
	if err := m.Messages.Load(ctx); err != nil {
		return fmt.Errorf("messages: %s", crm.ErrorMessage(err))
	}
	if m.FAQ, err = bot.NewKnowledgeAdmin(bot.KnowledgeAdminOptions{Store: db, Core: m.Core, Intents: intents, File: knowledge, Now: m.Now}); err != nil {
		return fmt.Errorf("knowledge: %s", crm.ErrorMessage(err))
	}
	if err := m.FAQ.Load(ctx); err != nil {
		return fmt.Errorf("knowledge: %s", crm.ErrorMessage(err))
	}
	if err := m.seedOffers(ctx, m.Core.Segments()); err != nil {
		return err
	}
	if err := m.Core.LoadOffers(ctx); err != nil {
		return err
	}
	if err := m.openOutreach(); err != nil {
		return err
	}
	// Journeys edited on the admin page are stored and win over the file.
	if err := m.Outreach.LoadJourneys(ctx); err != nil {
		return fmt.Errorf("journeys: %w", err)
	}
	return nil
}

// seedOffers stores the offers file in a fresh database. After that the
// database is the source of truth.
func (m *Main) seedOffers(ctx context.Context, segs *crm.Segments) error {
	data, name, err := m.Config.ReadFile(m.Config.OffersFile, "offers.yaml")
	if err != nil {
		return err
	}
	now := m.Now()
	offers, err := crm.ParseOffers(name, data, segs.Names(), now)
	if err != nil {
		return fmt.Errorf("offers: %s", crm.ErrorMessage(err))
	}
	seeded, err := bot.SeedOffers(ctx, m.DB, offers, now)
	if seeded {
		m.Log.Info("offers seeded", "from", name, "count", len(offers))
	}
	return err
}

// serve runs the HTTP server, the channels, the dispatcher and the sweep.
func (m *Main) serve(ctx context.Context) error {
	cfg := m.Config
	m.Webchat = webchat.New(m.Core, webchat.Options{Logger: m.Log, Now: m.Now,
		MaxWait: cfg.Webchat.MaxWait, MaxWaiters: cfg.Webchat.MaxStreams,
		WriteTimeout: cfg.HTTP.WriteTimeout, Limits: cfg.Webchat.Limits(cfg.HTTP.Trusted()), Notifier: m.Notifier,
		AllowedOrigins: cfg.Webchat.AllowedOrigins, Branding: cfg.Webchat.Branding(m.shop)})
	m.Dispatcher.Register(crm.ChannelWeb, m.Webchat)
	mux := http.NewServeMux()
	m.Webchat.Routes(mux)
	// Each optional part is wired in its own file and turns itself on from
	// the environment (a token set) or the configuration, or stays off.
	for _, wire := range []func(context.Context, *http.ServeMux) error{
		m.wireTelegram, m.wireSlack, m.wireAdmin, m.wireReports, m.wireZalo, m.wireMessenger, m.wireRetention,
		m.wireMetrics, // after wireAdmin, whose token guards /metrics
	} {
		if err := wire(ctx, mux); err != nil {
			return err
		}
	}
	for ch, s := range m.Senders {
		m.Dispatcher.Register(ch, s)
	}
	mux.HandleFunc("GET /healthz", m.healthz)
	mux.HandleFunc("GET /readyz", m.readyz)

	if err := m.Dispatcher.Open(ctx); err != nil {
		return err
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		m.Dispatcher.Close()
		return fmt.Errorf("listen on %s: %w", cfg.Addr, err)
	}
	m.listener = ln
	m.HTTP = newHTTPServer(cfg.HTTP, accessLog(m.Log, mux))
	runCtx, cancel := context.WithCancel(ctx)
	m.cancel = cancel
	m.wg.Add(5)
	go func() {
		defer m.wg.Done()
		if err := m.Leader.Run(runCtx, bot.LeaseOutreach, func(ctx context.Context) error {
			m.Outreach.Run(ctx)
			return nil
		}); err != nil {
			m.Log.Error("campaigns and journeys stopped", "err", err)
		}
	}()
	go func() {
		defer m.wg.Done()
		if err := m.HTTP.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			m.Log.Error("http server", "err", err)
		}
	}()
	go func() {
		defer m.wg.Done()
		if err := m.Leader.Run(runCtx, leaseSweep, func(ctx context.Context) error {
			m.Core.RunSweeps(ctx, cfg.SweepInterval)
			return nil
		}); err != nil {
			m.Log.Error("segment sweep stopped", "err", err)
		}
	}()
	go func() {
		defer m.wg.Done()
		m.Core.RunReloads(runCtx) // offers and rules saved by other processes
	}()
	go func() {
		defer m.wg.Done()
		m.FAQ.RunReloads(runCtx) // FAQ entries saved by other processes
	}()
	for i, p := range m.parts {
		if err := p.start(runCtx); err != nil {
			for j := i - 1; j >= 0; j-- {
				if err := m.parts[j].stop(); err != nil {
					m.Log.Warn("stop after a failed start", "part", m.parts[j].name, "err", err)
				}
			}
			m.parts = nil
			cancel()
			m.HTTP.Close()
			m.wg.Wait()
			return fmt.Errorf("start %s: %w", p.name, err)
		}
		m.Log.Info("started", "part", p.name)
	}
	close(m.ready)
	m.Log.Info("idicbot is running", "web_chat", "http://"+ln.Addr().String()+"/", "data", cfg.Data)
	if m.isTerminal(m.Stdout) {
		// For the person who typed `make run`; a service's log has the line above.
		fmt.Fprintf(m.Stdout, "idicbot: web chat on http://%s/ (data in %s). Ctrl-C to stop.\n", ln.Addr(), cfg.Data)
	}
	<-ctx.Done()
	return m.shutdown()
}

// newHTTPServer is the server of every endpoint, with the http: section's
// timeouts, so that slow, idle or non-reading clients are dropped. The web
// chat's long polls and streams lift the write timeout for themselves.
func newHTTPServer(c HTTPConfig, h http.Handler) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: c.ReadHeaderTimeout,
		ReadTimeout:       c.ReadTimeout,
		WriteTimeout:      c.WriteTimeout,
		IdleTimeout:       c.IdleTimeout,
		MaxHeaderBytes:    c.MaxHeaderBytes,
	}
}

// URL returns the base URL of the running HTTP server.
func (m *Main) URL() string {
	if m.listener == nil {
		return ""
	}
	return "http://" + m.listener.Addr().String()
}

// shutdown stops taking new messages, finishes in-flight ones, flushes the
// outbox within the configured bound, then stops everything.
func (m *Main) shutdown() error {
	ctx, cancel := context.WithTimeout(context.Background(), m.Config.ShutdownTimeout)
	defer cancel()
	m.stopping.Store(true) // /readyz says 503 from now on
	m.Log.Info("shutting down")
	if m.Webchat != nil {
		m.Webchat.Close()
	}
	err := m.HTTP.Shutdown(ctx)
	for i := len(m.parts) - 1; i >= 0; i-- {
		if serr := m.parts[i].stop(); serr != nil {
			m.Log.Warn("stop", "part", m.parts[i].name, "err", serr)
		}
	}
	m.parts = nil
	if ferr := m.Dispatcher.Flush(ctx); ferr != nil {
		m.Log.Warn("outbox not fully flushed; pending items are sent at next start", "err", ferr)
	}
	m.cancel()
	m.wg.Wait()
	return err
}

// Close releases what Run opened. It is safe to call more than once.
func (m *Main) Close() error {
	if m.Dispatcher != nil {
		m.Dispatcher.Close()
	}
	var err error
	for i := len(m.closers) - 1; i >= 0; i-- {
		err = errors.Join(err, m.closers[i]())
	}
	m.closers = nil
	return err
}

package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"strconv"
	"sync"
	"time"

	"github.com/idicbot/idicbot/adapters/telegram"
	"github.com/idicbot/idicbot/adapters/telegram/telegramtest"
	"github.com/idicbot/idicbot/bot"
	"github.com/idicbot/idicbot/crm"
)

// benchTelegramUserBase turns a benchmark customer number into a Telegram
// user id (Telegram ids are numbers; private chat id = user id).
const benchTelegramUserBase = 700000000

// benchTelegram measures updates per second end to end through a fake Bot
// API server, and its ratio to the core-only figure, once per way Telegram
// delivers updates. It runs the core-only figure's workload: the same
// customers (same share returning, same history), the same message mix, the
// same number of conversations at once, each customer writing again once
// their message was handled. Messages go into the fake server's update
// queue. With long polling the adapter takes them in batches of up to 100,
// as getUpdates hands them out, and confirms them after the commit; with a
// webhook the fake server posts them to the adapter's HTTP handler on up to
// 100 connections at once (setWebhook's max_connections), one at a time per
// chat, and forgets each one answered 200 after the commit. Replies leave
// through the outbox with sendMessage. The clock stops when every update is
// confirmed and every reply was accepted by sendMessage. Latency is from the
// message entering the queue to its commit.
//
// Both send limits are off for the measurement: with Telegram's 1 message
// per second per chat and 30 per second in all, sending would be the
// figure, not the pipeline.
//
// Telegram lets at most 100 updates be in flight (getUpdates' limit from the
// unconfirmed offset; a webhook's max_connections), while the core-only
// figure runs 256 conversations: the core-only figure at 100 conversations
// is printed too, to tell the window's share from the HTTP/JSON hop's.
func (m *bench) benchTelegram(ctx context.Context, o benchOptions, core benchResult) error {
	narrow := core
	if o.Concurrency > benchWebhookConns {
		o100 := o
		o100.Concurrency = benchWebhookConns
		o100.CPUProfile = ""
		var err error
		if narrow, err = benchCore(ctx, o100); err != nil {
			return err
		}
		narrow.Name = fmt.Sprintf("pipeline at %d conversations", o100.Concurrency)
		fmt.Fprintf(o.Out, "%s\n  (reference: Telegram's window; the ratio target is to the %d-conversation figure above)\n  (%s)\n", narrow, o.Concurrency, narrow.Writer)
	}
	var polled telegramRun
	for _, webhook := range []bool{false, true} {
		run, err := m.benchTelegramMode(ctx, o, core, narrow, webhook)
		if err != nil {
			return err
		}
		if !webhook {
			polled = run
		}
	}
	return benchTelegramSend(ctx, o, core, polled)
}

// telegramRun is what one end-to-end run measured, and the messages its
// fake server accepted.
type telegramRun struct {
	res  benchResult
	sent []telegramtest.SentMessage
}

// benchSendConns is how many sendMessage calls the send-only figure keeps
// in flight: enough to keep both cores busy.
const benchSendConns = 64

// benchTelegramSend measures sendMessage alone: the replies the polling run
// sent (at most 40,000 of them), sent again through the adapter to a fresh
// fake server, benchSendConns at once, with nothing else running. Its CPU
// per call, with the polling run's calls per update and the core-only
// figure's CPU per message, bounds what the machine's cores can carry end
// to end, whatever the adapter does: cores ÷ (core's CPU a message + calls
// an update × a call's CPU). The core's share is the 256-conversation run's,
// the cheapest per message (through Telegram its groups are smaller), so
// the bound is generous.
func benchTelegramSend(ctx context.Context, o benchOptions, core benchResult, polled telegramRun) error {
	n := min(len(polled.sent), 40000)
	if n == 0 || polled.res.Ops == 0 {
		return nil
	}
	items := make([]*crm.OutboxItem, n)
	for i, m := range polled.sent[:n] {
		it := &crm.OutboxItem{ID: crm.ID(i + 1), Channel: crm.ChannelTelegram, ChatID: m.ChatID, Text: m.Text}
		var markup struct {
			Inline [][]struct {
				Text string `json:"text"`
				Data string `json:"callback_data"`
			} `json:"inline_keyboard"`
			Keyboard []json.RawMessage `json:"keyboard"`
		}
		if len(m.ReplyMarkup) > 0 {
			if err := json.Unmarshal(m.ReplyMarkup, &markup); err != nil {
				return fmt.Errorf("telegram send bench: reply markup of message %d: %w", m.MessageID, err)
			}
		}
		for _, row := range markup.Inline {
			for _, b := range row {
				it.Buttons = append(it.Buttons, crm.Button{Label: b.Text, Payload: b.Data})
			}
		}
		it.RequestPhone = len(markup.Keyboard) > 0
		items[i] = it
	}
	srv := telegramtest.NewServer()
	defer srv.Close()
	a, err := telegram.New(noInbound{}, telegram.Options{
		Token: srv.Token, APIURL: srv.URL(), PerChatInterval: -1, GlobalPerSecond: -1,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		return err
	}
	if o.CPUProfile != "" {
		f, err := os.Create(o.CPUProfile + ".telegram-send")
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	res, err := runOps(ctx, n, benchSendConns, func(_, i int) error { return a.Send(ctx, items[i-1]) }, nil)
	if err != nil {
		return fmt.Errorf("telegram send bench: %w", err)
	}
	res.Name = "telegram sendMessage alone"
	fmt.Fprintf(o.Out, "%s\n  (the polling run's replies sent again, %d calls at once, adapter → library → fake Bot API server, nothing else running)\n", res, benchSendConns)
	if res.CPU == 0 || core.CPU == 0 {
		return nil
	}
	perUpdate := float64(len(polled.sent)) / float64(polled.res.Ops)
	need := core.CPUPerOp() + time.Duration(perUpdate*float64(res.CPUPerOp()))
	cores := runtime.GOMAXPROCS(0)
	bound := float64(cores) * float64(time.Second) / float64(need)
	fmt.Fprintf(o.Out, "CPU bound on Telegram: %d cores ÷ (core-only %.0f µs a message + %.2f sendMessage an update × %.0f µs) = %.0f updates/s = %.2f of core-only (target ≥ 0.7)\n",
		cores, us(core.CPUPerOp()), perUpdate, us(res.CPUPerOp()), bound, bound/core.PerSecond())
	return nil
}

// noInbound is the handler of an adapter that only sends.
type noInbound struct{}

func (noInbound) Handle(context.Context, bot.Inbound) (bot.Result, error) {
	return bot.Result{}, errors.New("bench: this adapter only sends")
}

// benchWebhookConns is max_connections in the webhook measurement:
// Telegram's most.
const benchWebhookConns = 100

func (m *bench) benchTelegramMode(ctx context.Context, o benchOptions, core, narrow benchResult, webhook bool) (telegramRun, error) {
	mode := "polling"
	if webhook {
		mode = "webhook"
	}
	env, err := newBenchEnv(ctx, filepath.Join(o.Dir, "telegram-"+mode+".db"))
	if err != nil {
		return telegramRun{}, err
	}
	defer env.Close()
	if err := preloadTelegram(ctx, env, int(float64(o.Customers)*o.Returning)); err != nil {
		return telegramRun{}, err
	}
	srv := telegramtest.NewServer()
	defer srv.Close()
	h := &benchHandler{core: env.core, handled: make([]chan struct{}, o.Concurrency*max(1, o.Customers/o.Concurrency))}
	for i := range h.handled {
		h.handled[i] = make(chan struct{}, 1)
	}
	opts := telegram.Options{
		Token:           srv.Token,
		APIURL:          srv.URL(),
		PerChatInterval: -1,
		GlobalPerSecond: -1,
		PollTimeout:     time.Second,
		Logger:          slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
	if webhook {
		opts.WebhookURL = "https://shop.example.com" + telegram.WebhookPath
		opts.WebhookMaxConnections = benchWebhookConns
	}
	a, err := telegram.New(h, opts)
	if err != nil {
		return telegramRun{}, err
	}
	env.disp.Register(crm.ChannelTelegram, a)
	if err := env.disp.Open(ctx); err != nil {
		return telegramRun{}, err
	}
	if webhook {
		// The bot's HTTP server, as serve runs it; the fake server posts to
		// it as a reverse proxy would forward Telegram's calls.
		mux := http.NewServeMux()
		a.Routes(mux)
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return telegramRun{}, err
		}
		hs := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
		go func() { _ = hs.Serve(ln) }()
		defer hs.Close()
		if err := a.Open(ctx); err != nil {
			return telegramRun{}, err
		}
		dctx, stop := context.WithCancel(ctx)
		done := make(chan error, 1)
		go func() {
			done <- srv.ServeWebhook(dctx, "http://"+ln.Addr().String()+telegram.WebhookPath, 50*time.Millisecond)
		}()
		defer func() {
			stop()
			if err := <-done; err != nil && !errors.Is(err, context.Canceled) {
				fmt.Fprintln(m.Stderr, "idicbot-bench: the fake server's webhook delivery:", err)
			}
		}()
	} else if err := a.Open(ctx); err != nil {
		return telegramRun{}, err
	}
	defer a.Close()

	if o.CPUProfile != "" {
		f, err := os.Create(o.CPUProfile + ".telegram-" + mode)
		if err != nil {
			return telegramRun{}, err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return telegramRun{}, err
		}
		defer pprof.StopCPUProfile()
	}
	meter := startWriterMeter(env.db)
	res, err := driveConversations(ctx, o, func(ctx context.Context, cust, seq int, text string) error {
		u := telegramtest.User{ID: benchTelegramUserBase + int64(cust), FirstName: "Khách " + strconv.Itoa(cust), LanguageCode: "vi"}
		srv.UserText(u, text)
		select {
		case <-h.handled[cust]:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Minute):
			return fmt.Errorf("telegram bench: message %d of customer %d not handled within a minute", seq, cust)
		}
	}, func(ctx context.Context) error {
		// Every update confirmed, then every reply sent.
		for srv.Pending() > 0 {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			time.Sleep(time.Millisecond)
		}
		return env.disp.Flush(ctx)
	})
	if err != nil {
		return telegramRun{}, err
	}
	res.Writer = meter.stop(res)
	h.mu.Lock()
	hp50, hp99 := percentile(h.lat, 0.5), percentile(h.lat, 0.99)
	h.mu.Unlock()
	if webhook {
		res.Name = "telegram webhook: Bot API → core → sendMessage"
		fmt.Fprintf(o.Out, "%s\n  (%d sendMessage; webhook, max_connections %d; per-chat and global send limits OFF; core Handle inside it p50 %.2fms p99 %.2fms)\n",
			res, len(srv.Sent()), srv.WebhookConnections(), ms(hp50), ms(hp99))
	} else {
		res.Name = "telegram polling: Bot API → core → sendMessage"
		polls := len(srv.Calls("getUpdates"))
		fmt.Fprintf(o.Out, "%s\n  (%d sendMessage; long polling, batches ≤100: %d getUpdates, %.1f updates each on average; per-chat and global send limits OFF; core Handle inside it p50 %.2fms p99 %.2fms)\n",
			res, len(srv.Sent()), polls, float64(res.Ops)/float64(max(polls, 1)), ms(hp50), ms(hp99))
	}
	fmt.Fprintf(o.Out, "  (%s)\n", res.Writer)
	fmt.Fprintf(o.Out, "ratio = telegram %s updates/s ÷ core-only msgs/s = %.0f ÷ %.0f = %.2f (target ≥ 0.7); ÷ core at %d conversations = %.2f\n",
		mode, res.PerSecond(), core.PerSecond(), res.PerSecond()/core.PerSecond(), min(o.Concurrency, benchWebhookConns), res.PerSecond()/narrow.PerSecond())
	return telegramRun{res: res, sent: srv.Sent()}, nil
}

// benchHandler is the core, telling each benchmark customer's conversation
// when their message was committed.
type benchHandler struct {
	core    *bot.Core
	handled []chan struct{} // by customer number

	mu  sync.Mutex
	lat []time.Duration // of Core.Handle alone
}

func (h *benchHandler) Handle(ctx context.Context, in bot.Inbound) (bot.Result, error) {
	t0 := time.Now()
	r, err := h.core.Handle(ctx, in)
	d := time.Since(t0)
	h.mu.Lock()
	h.lat = append(h.lat, d)
	h.mu.Unlock()
	if err == nil {
		if id, perr := strconv.Atoi(in.ChatID); perr == nil {
			if i := id - benchTelegramUserBase; i >= 0 && i < len(h.handled) {
				select {
				case h.handled[i] <- struct{}{}:
				default:
				}
			}
		}
	}
	return r, err
}

// preloadTelegram stores n returning customers known on Telegram, with the
// same history as benchEnv.preload gives the core-only figure's customers.
func preloadTelegram(ctx context.Context, e *benchEnv, n int) error {
	now := time.Now()
	rng := rand.New(rand.NewPCG(1, 2))
	for start := 0; start < n; start += 1000 {
		err := e.db.UpdateSolo(ctx, func(tx crm.Tx) error {
			for i := start; i < min(start+1000, n); i++ {
				first := now.AddDate(0, 0, -rng.IntN(400)-1)
				id := strconv.Itoa(benchTelegramUserBase + i)
				c := &crm.Customer{Name: fmt.Sprintf("Khách %d", i), CreatedAt: first, Language: "vi"}
				c.AddIdentity(crm.Identity{Channel: crm.ChannelTelegram, UserID: id, ChatID: id, FirstSeen: first})
				c.Stats.RecordMessageIn(first)
				if i%3 == 0 {
					for k := 0; k <= rng.IntN(4); k++ {
						c.Stats.RecordOrder(int64(500000+rng.IntN(10000000)), first.AddDate(0, 0, k*20))
					}
				}
				c.Segment = crm.SegmentAssignment{Name: crm.SegmentNew, Since: first}
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

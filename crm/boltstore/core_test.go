package boltstore_test

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/idicbot/idicbot/bot"
	"github.com/idicbot/idicbot/bot/bottest"
	"github.com/idicbot/idicbot/configs"
	"github.com/idicbot/idicbot/crm"
	"github.com/idicbot/idicbot/crm/boltstore"
)

// newCore is the real pipeline on a fresh store, without a dispatcher or
// offers, on real time.
func newCore(t *testing.T) (*boltstore.DB, *bot.Core) {
	t.Helper()
	kit := bottest.NewCore(t, bottest.NoDispatcher(), bottest.NoOffers(), bottest.WithNow(time.Now))
	return kit.DB, kit.Core
}

func inbound(tx crm.Tx, userID string) (*crm.Customer, []*crm.Interaction, error) {
	c, err := tx.FindCustomerByIdentity(crm.ChannelWeb, userID)
	if err != nil || c == nil {
		return c, nil, err
	}
	all, err := tx.Interactions(c.ID, 0, 0)
	var in []*crm.Interaction
	for _, it := range all {
		if it.Direction == crm.Inbound {
			in = append(in, it)
		}
	}
	return c, in, err
}

// A message replayed by 50 goroutines at once (a channel redelivering) is
// handled exactly once.
func TestCore_ConcurrentReplayHandledOnce(t *testing.T) {
	db, core := newCore(t)
	var wg sync.WaitGroup
	var fresh atomic.Int32
	for range 50 {
		wg.Go(func() {
			res, err := core.Handle(context.Background(), bot.Inbound{Channel: crm.ChannelWeb, UserID: "u1",
				MessageID: "m1", Kind: crm.KindText, Text: "xin chào"})
			if err != nil {
				t.Error(err)
			} else if !res.Duplicate {
				fresh.Add(1)
			}
		})
	}
	wg.Wait()
	err := db.View(context.Background(), func(tx crm.Tx) error {
		c, in, err := inbound(tx, "u1")
		if err != nil {
			return err
		}
		n, _ := tx.CustomerCount()
		if c == nil || n != 1 || len(in) != 1 || c.Stats.MessagesIn != 1 || fresh.Load() != 1 {
			t.Errorf("customers = %d, inbound interactions = %d, messages in = %+v, handled = %d; want 1 each",
				n, len(in), c, fresh.Load())
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// 50 different messages of one new customer at once: one customer, every
// message counted and logged (no lost update).
func TestCore_ConcurrentMessagesOfOneCustomerAddUp(t *testing.T) {
	db, core := newCore(t)
	const n = 50
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			_, err := core.Handle(context.Background(), bot.Inbound{Channel: crm.ChannelWeb, UserID: "u2",
				MessageID: fmt.Sprintf("m%d", i), Kind: crm.KindText, Text: "giá iphone 15 bao nhiêu"})
			if err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	err := db.View(context.Background(), func(tx crm.Tx) error {
		c, in, err := inbound(tx, "u2")
		if err != nil {
			return err
		}
		count, _ := tx.CustomerCount()
		msgIn, _ := tx.Counter("msg_in:" + string(crm.ChannelWeb))
		if c == nil || count != 1 || len(in) != n || c.Stats.MessagesIn != n || msgIn != n {
			t.Errorf("customers = %d, inbound interactions = %d, messages in = %d, counter = %d; want 1, %d, %d, %d",
				count, len(in), c.Stats.MessagesIn, msgIn, n, n, n)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

type nopSender struct{}

func (nopSender) Send(context.Context, *crm.OutboxItem) error { return nil }

// BenchmarkCorePipeline is `make bench` (cmd/idicbot-bench) in small: 256 conversations
// through Handle and the outbox on a store with fsync on.
func BenchmarkCorePipeline(b *testing.B) {
	ctx := context.Background()
	db, err := boltstore.Open(filepath.Join(b.TempDir(), "idicbot.db"), boltstore.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	read := func(name string) []byte { v, _ := configs.Files.ReadFile(name); return v }
	segs, _ := crm.ParseSegments("segments.yaml", read("segments.yaml"))
	cat, _ := crm.ParseCatalog("catalog.yaml", read("catalog.yaml"))
	disp := bot.NewDispatcher(db, bot.DispatcherOptions{Lanes: 8})
	disp.Register(crm.ChannelWeb, nopSender{})
	core := bot.New(bot.Options{Store: db, Catalog: cat, Segments: segs, Dispatcher: disp})
	if err := disp.Open(ctx); err != nil {
		b.Fatal(err)
	}
	defer disp.Close()
	texts := []string{"xin chào", "giá iphone 15 bao nhiêu", "khuyen mai gi khong", "cho mình xem tai nghe",
		"hello, how much is the macbook?", "any deals?", "cam on shop", "ok", "gặp nhân viên"}
	const conc, customers = 256, 2000
	var next atomic.Int64
	b.ResetTimer()
	var wg sync.WaitGroup
	for w := range conc {
		wg.Go(func() {
			for k := 0; ; k++ {
				i := next.Add(1)
				if i > int64(b.N) {
					return
				}
				cust := w + conc*((int(i)*7919)%(customers/conc))
				_, err := core.Handle(ctx, bot.Inbound{Channel: crm.ChannelWeb, UserID: fmt.Sprint("u", cust),
					MessageID: fmt.Sprint("m", i), Kind: crm.KindText, Text: texts[(int(i)+k)%len(texts)]})
				if err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	if err := disp.Flush(ctx); err != nil {
		b.Fatal(err)
	}
}

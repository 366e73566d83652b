//go:build unix

package boltstore

import (
	"context"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"go.etcd.io/bbolt"

	"github.com/idicbot/idicbot/bot"
	"github.com/idicbot/idicbot/configs"
	"github.com/idicbot/idicbot/crm"
)

// TestPagesPerCommit drives the core like `make bench` (fsync off) and
// logs what bbolt wrote per group commit and per message. It measures, it
// does not check: run it with IDICBOT_PAGES=messages[,customers], -v.
func TestPagesPerCommit(t *testing.T) {
	spec := os.Getenv("IDICBOT_PAGES")
	if spec == "" {
		t.Skip("set IDICBOT_PAGES=messages[,customers] to measure")
	}
	// messages[,customers[,concurrency]]: with concurrency 1 every group
	// commit holds one message (and the dispatcher's own commits).
	msgs, custs, conc := 20000, 2000, 256
	for i, f := range strings.Split(spec, ",") {
		n, err := strconv.Atoi(f)
		if err != nil || n <= 0 {
			t.Fatalf("IDICBOT_PAGES=%q: want messages[,customers[,concurrency]]", spec)
		}
		*[]*int{&msgs, &custs, &conc}[min(i, 2)] = n
	}
	ctx := context.Background()
	db, err := Open(filepath.Join(t.TempDir(), "core.db"), Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	read := func(name string) []byte { b, _ := configs.Files.ReadFile(name); return b }
	segs, err := crm.ParseSegments("segments.yaml", read("segments.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	cat, err := crm.ParseCatalog("catalog.yaml", read("catalog.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	offers, err := crm.ParseOffers("offers.yaml", read("offers.yaml"), segs.Names(), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	update(t, db, func(tx crm.Tx) error {
		for _, o := range offers {
			o.Version = 1
			if err := tx.PutOffer(o); err != nil {
				return err
			}
		}
		return nil
	})
	disp := bot.NewDispatcher(db, bot.DispatcherOptions{Lanes: 8})
	defer disp.Close()
	core := bot.New(bot.Options{Store: db, Catalog: cat, Segments: segs, Dispatcher: disp})
	if err := core.LoadOffers(ctx); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	rng := rand.New(rand.NewPCG(1, 2))
	returning := custs * 7 / 10
	for start := 0; start < returning; start += 1000 {
		update(t, db, func(tx crm.Tx) error {
			for i := start; i < min(start+1000, returning); i++ {
				first := now.AddDate(0, 0, -rng.IntN(400)-1)
				c := &crm.Customer{Name: fmt.Sprintf("Khách %d", i), CreatedAt: first, Language: "vi"}
				c.AddIdentity(crm.Identity{Channel: crm.ChannelWeb, UserID: "u" + strconv.Itoa(i), ChatID: "u" + strconv.Itoa(i), FirstSeen: first})
				c.Stats.RecordMessageIn(first)
				c.Segment = crm.SegmentAssignment{Name: crm.SegmentNew, Since: first}
				segs.Apply(c, now, "sweep") // as the periodic sweep leaves them, like the bench
				if err := tx.PutCustomer(c); err != nil {
					return err
				}
			}
			return nil
		})
	}
	disp.Register(crm.ChannelWeb, nopSend{})
	if err := disp.Open(ctx); err != nil {
		t.Fatal(err)
	}
	texts := []string{"xin chào", "giá iphone 15 bao nhiêu", "khuyen mai gi khong", "cho mình xem tai nghe", "tôi muốn mua sạc dự phòng",
		"hello, how much is the macbook?", "any deals?", "cam on shop", "shop có bán samsung không", "ok",
		"sdt của mình là %s", "thank you", "redmi note 13 còn hàng không", "gặp nhân viên"}
	// Pages each bucket had written: bbolt never rewrites a page in place,
	// so a page id a bucket reaches after a commit and did not before is
	// one the commit wrote for it.
	prev := bucketPages(t, db.bolt)
	written, branches := map[string]int{}, map[string]int{}
	db.w.afterCommit = func() {
		cur := bucketPages(t, db.bolt)
		for name, ids := range cur {
			for id, branch := range ids {
				if _, ok := prev[name][id]; !ok {
					written[name]++
					if branch {
						branches[name]++
					}
				}
			}
		}
		prev = cur
	}
	before, c0, a0 := db.bolt.Stats().TxStats, db.w.commits.Load(), db.w.applied.Load()
	var next atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for w := range conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(w), 7))
			for {
				i := int(next.Add(1))
				if i > msgs {
					return
				}
				cust := w + conc*rng.IntN(max(1, custs/conc))
				text := texts[rng.IntN(len(texts))]
				if strings.Contains(text, "%s") {
					text = fmt.Sprintf(text, fmt.Sprintf("09%08d", cust))
				}
				if _, err := core.Handle(ctx, bot.Inbound{Channel: crm.ChannelWeb, UserID: "u" + strconv.Itoa(cust),
					MessageID: "m" + strconv.Itoa(i), Kind: crm.KindText, Text: text}); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if err := disp.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	el := time.Since(start)
	after := db.bolt.Stats().TxStats
	st := after.Sub(&before)
	commits, applied := db.w.commits.Load()-c0, db.w.applied.Load()-a0
	t.Logf("%d messages, %d customers in %v: %d group commits applying %d overlays (%.1f per commit)",
		msgs, custs, el.Round(time.Millisecond), commits, applied, float64(applied)/float64(commits))
	t.Logf("pages allocated %d (%.1f per commit, %.2f per message), %d MiB; writes %d (%.1f per commit); splits %d (%.2f per message); spills %d; rebalances %d",
		st.GetPageCount(), float64(st.GetPageCount())/float64(commits), float64(st.GetPageCount())/float64(msgs),
		st.GetPageAlloc()>>20, st.GetWrite(), float64(st.GetWrite())/float64(commits),
		st.GetSplit(), float64(st.GetSplit())/float64(msgs), st.GetSpill(), st.GetRebalance())
	var names []string
	for name := range written {
		names = append(names, name)
	}
	slices.SortFunc(names, func(a, b string) int { return written[b] - written[a] })
	for _, name := range names {
		t.Logf("  %-18s %7d pages written (%6d branch pages), %.3f per message", name, written[name], branches[name], float64(written[name])/float64(msgs))
	}
	ds := db.bolt.Stats()
	t.Logf("free pages %d, pending %d, freelist %d KiB", ds.FreePageN, ds.PendingPageN, ds.FreelistInuse>>10)
	if err := db.bolt.View(func(tx *bbolt.Tx) error {
		t.Logf("file %d MiB", tx.Size()>>20)
		return tx.ForEach(func(name []byte, b *bbolt.Bucket) error {
			s := b.Stats()
			if s.KeyN > 1000 {
				t.Logf("  %-26s keys %7d  leaf pages %6d (+%d overflow) fill %3.0f%%  branch pages %4d  depth %d",
					name, s.KeyN, s.LeafPageN, s.LeafOverflowN, 100*float64(s.LeafInuse)/float64(max(1, (s.LeafPageN+s.LeafOverflowN)*4096)), s.BranchPageN, s.Depth)
			}
			return nil
		})
	}); err != nil {
		t.Fatal(err)
	}
	// What one customer record weighs (the records, not the history keys
	// beside them).
	if err := db.bolt.View(func(tx *bbolt.Tx) error {
		n, size, big := 0, 0, 0
		err := tx.Bucket(bktCustomers).ForEach(func(k, v []byte) error {
			if len(k) == 8 {
				n, size, big = n+1, size+len(v), max(big, len(v))
			}
			return nil
		})
		t.Logf("customer records: %d, %d bytes on average, largest %d", n, size/max(1, n), big)
		return err
	}); err != nil {
		t.Fatal(err)
	}
}

type nopSend struct{}

func (nopSend) Send(context.Context, *crm.OutboxItem) error { return nil }

// bucketPages returns, by id, whether it is a branch page, every page (overflow pages included) that
// each top-level bucket reaches, read through a memory map of the file of
// its own (the test runs with fsync off; what bbolt wrote is in the page
// cache, which the map shows).
func bucketPages(t *testing.T, bdb *bbolt.DB) map[string]map[uint64]bool {
	out := map[string]map[uint64]bool{}
	f, err := os.Open(bdb.Path())
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	size := bdb.Info().PageSize
	if err := bdb.View(func(tx *bbolt.Tx) error {
		data, err := syscall.Mmap(int(f.Fd()), 0, int(tx.Size()), syscall.PROT_READ, syscall.MAP_SHARED)
		if err != nil {
			return err
		}
		defer syscall.Munmap(data)
		return tx.ForEach(func(name []byte, b *bbolt.Bucket) error {
			ids := map[uint64]bool{}
			var walk func(id uint64)
			walk = func(id uint64) {
				p := data[int(id)*size:]
				flags, count, overflow := binary.LittleEndian.Uint16(p[8:]), int(binary.LittleEndian.Uint16(p[10:])), binary.LittleEndian.Uint32(p[12:])
				for i := range uint64(overflow) + 1 {
					ids[id+i] = flags&0x01 != 0
				}
				if flags&0x01 == 0 { // not a branch page
					return
				}
				for i := range count {
					walk(binary.LittleEndian.Uint64(p[16+16*i+8:]))
				}
			}
			if root := uint64(b.Root()); root != 0 {
				walk(root)
			}
			out[string(name)] = ids
			return nil
		})
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

package bot_test

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/idicbot/idicbot/bot"
	"github.com/idicbot/idicbot/bot/bottest"
	"github.com/idicbot/idicbot/crm"
)

// handleBenchTexts are what cmd/idicbot-bench's customers write: every
// intent of the core, a phone claimed among them.
var handleBenchTexts = []string{
	"xin chào", "giá iphone 15 bao nhiêu", "khuyen mai gi khong", "cho mình xem tai nghe", "tôi muốn mua sạc dự phòng",
	"hello, how much is the macbook?", "any deals?", "cam on shop", "shop có bán samsung không", "ok",
	"sdt của mình là %s", "thank you", "redmi note 13 còn hàng không", "gặp nhân viên",
}

// BenchmarkHandle is one message through Core.Handle on the shipped configs
// and offers from 64 goroutines, for the core's own CPU and allocations per
// message (the store is a bbolt file without fsync, its group commit fed by
// the goroutines). As in cmd/idicbot-bench, messages go to 20,000 customers
// at random, 70% of them known before with some history; "rules"
// understands by the keyword rules alone, as the bench's PostgreSQL
// pipeline does, "classifier" with the shipped classifier and knowledge,
// as its bbolt pipeline does.
func BenchmarkHandle(b *testing.B) {
	b.Run("rules", func(b *testing.B) {
		benchHandle(b, bottest.NewCore(b, bottest.CoreOptions(func(o *bot.Options) { o.Classifier, o.Knowledge = nil, nil })))
	})
	b.Run("classifier", func(b *testing.B) { benchHandle(b, bottest.NewCore(b)) })
}

func benchHandle(b *testing.B, e *bottest.Env) {
	ctx := context.Background()
	const customers, returning = 20000, 14000
	now := e.Clock.Now()
	for start := 0; start < returning; start += 1000 {
		if err := e.DB.Update(ctx, func(tx crm.Tx) error {
			for i := start; i < start+1000; i++ {
				first := now.AddDate(0, 0, -(i%400)-1)
				c := &crm.Customer{Name: "Khách " + strconv.Itoa(i), CreatedAt: first, Language: "vi"}
				c.AddIdentity(crm.Identity{Channel: crm.ChannelWeb, UserID: "u" + strconv.Itoa(i), ChatID: "u" + strconv.Itoa(i), FirstSeen: first})
				c.Stats.RecordMessageIn(first)
				if i%3 == 0 {
					c.Stats.RecordOrder(int64(500000+i%10000000), first)
				}
				c.Segment = crm.SegmentAssignment{Name: crm.SegmentNew, Since: first}
				e.Core.Segments().Apply(c, now, "sweep")
				if err := tx.PutCustomer(c); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			b.Fatal(err)
		}
	}
	var next atomic.Int64
	b.ReportAllocs()
	b.SetParallelism(32)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := next.Add(1)
			x := uint64(i) * 0x9E3779B97F4A7C15 // customer and text at random, the same every run
			cust := int(x>>32) % customers
			text := handleBenchTexts[int(x>>16&0xffff)%len(handleBenchTexts)]
			if strings.Contains(text, "%s") {
				text = fmt.Sprintf(text, fmt.Sprintf("09%08d", cust))
			}
			e.Clock.Add(time.Millisecond)
			if _, err := e.Core.Handle(ctx, bot.Inbound{Channel: crm.ChannelWeb, UserID: "u" + strconv.Itoa(cust),
				MessageID: "m" + strconv.FormatInt(i, 10), Kind: crm.KindText, Text: text}); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.StopTimer()
	if err := e.Disp.Flush(ctx); err != nil {
		b.Fatal(err)
	}
}

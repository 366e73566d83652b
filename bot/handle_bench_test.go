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
// the goroutines): "rules" understands by the keyword rules alone, as
// cmd/idicbot-bench's PostgreSQL pipeline does, "classifier" with the
// shipped classifier and knowledge, as its bbolt pipeline does.
func BenchmarkHandle(b *testing.B) {
	b.Run("rules", func(b *testing.B) {
		benchHandle(b, bottest.NewCore(b, bottest.CoreOptions(func(o *bot.Options) { o.Classifier, o.Knowledge = nil, nil })))
	})
	b.Run("classifier", func(b *testing.B) { benchHandle(b, bottest.NewCore(b)) })
}

func benchHandle(b *testing.B, e *bottest.Env) {
	ctx := context.Background()
	const customers = 500
	var next atomic.Int64
	b.ReportAllocs()
	b.SetParallelism(32)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := int(next.Add(1))
			cust := (i * 7919) % customers
			text := handleBenchTexts[(i/customers+cust)%len(handleBenchTexts)]
			if strings.Contains(text, "%s") {
				text = fmt.Sprintf(text, fmt.Sprintf("09%08d", cust))
			}
			e.Clock.Add(time.Second)
			if _, err := e.Core.Handle(ctx, bot.Inbound{Channel: crm.ChannelWeb, UserID: "u" + strconv.Itoa(cust),
				MessageID: "m" + strconv.Itoa(i), Kind: crm.KindText, Text: text}); err != nil {
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

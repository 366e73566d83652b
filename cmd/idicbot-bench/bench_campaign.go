package main

import (
	"context"
	"fmt"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/idicbot/idicbot/bot"
	"github.com/idicbot/idicbot/crm"
)

// liveSender is a sender that does nothing but note how long after its
// message each live conversation's first reply left.
type liveSender struct {
	start sync.Map // chat id → time.Time, while waiting for its reply
	mu    sync.Mutex
	lat   []time.Duration
	sent  atomic.Int64
}

func (s *liveSender) Send(_ context.Context, it *crm.OutboxItem) error {
	s.sent.Add(1)
	if v, ok := s.start.LoadAndDelete(it.ChatID); ok {
		s.mu.Lock()
		s.lat = append(s.lat, time.Since(v.(time.Time)))
		s.mu.Unlock()
	}
	return nil
}

func (s *liveSender) take() []time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := s.lat
	s.lat = nil
	return out
}

// benchCampaign sends a campaign to CampaignCustomers customers against
// the channel fakes with limits off: how long the expansion takes, the
// heap's peak while it runs, the drain rate, and the p99 of live replies
// while it drains ÷ without it.
func (m *bench) benchCampaign(ctx context.Context, o benchOptions, _ benchResult) error {
	n := o.CampaignCustomers
	if n <= 0 {
		return nil
	}
	env, err := newBenchEnv(ctx, filepath.Join(o.Dir, "campaign.db"))
	if err != nil {
		return err
	}
	defer env.Close()
	if err := env.preload(ctx, n, crm.ChannelTelegram); err != nil {
		return err
	}
	campaign, live := &nopSender{}, &liveSender{}
	env.disp.Register(crm.ChannelTelegram, campaign)
	env.disp.Register(crm.ChannelWeb, live)
	if err := env.disp.Open(ctx); err != nil {
		return err
	}
	// Live conversations: 8 at a time, each a new web chat message every
	// 5 ms, for the time given.
	var seq atomic.Int64
	talk := func(ctx context.Context, d time.Duration) ([]time.Duration, error) {
		ctx, cancel := context.WithTimeout(ctx, d)
		defer cancel()
		var wg sync.WaitGroup
		errs := make(chan error, 8)
		for w := range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for ctx.Err() == nil {
					i := seq.Add(1)
					chat := "live" + strconv.FormatInt(i, 10)
					live.start.Store(chat, time.Now())
					_, err := env.core.Handle(context.WithoutCancel(ctx), bot.Inbound{Channel: crm.ChannelWeb, UserID: chat, ChatID: chat,
						MessageID: chat, Text: "giá iphone 15 bao nhiêu"})
					if err != nil {
						errs <- err
						return
					}
					select {
					case <-ctx.Done():
					case <-time.After(5 * time.Millisecond * time.Duration(1+w%2)):
					}
				}
			}()
		}
		wg.Wait()
		close(errs)
		if err := <-errs; err != nil {
			return nil, err
		}
		if err := env.disp.Flush(context.WithoutCancel(ctx)); err != nil && campaign.sent.Load() == 0 {
			return nil, err
		}
		return live.take(), nil
	}
	quiet, err := talk(ctx, 3*time.Second)
	if err != nil {
		return err
	}
	if len(quiet) == 0 {
		return fmt.Errorf("campaign bench: no live reply measured")
	}

	out := env.core.Outreach(bot.OutreachOptions{QuietFrom: -1, QuietUntil: -1, Cap: 1_000_000})
	if _, err := out.CreateCampaign(ctx, &crm.Campaign{ID: "bench", Name: "bench",
		Text: map[string]string{"vi": "Giảm 20% cuối tuần cho bạn."}}, "bench"); err != nil {
		return err
	}
	runtime.GC()
	var peak atomic.Uint64
	stopSampling := make(chan struct{})
	var sampling sync.WaitGroup
	sampling.Add(1)
	go func() {
		defer sampling.Done()
		var ms runtime.MemStats
		for {
			runtime.ReadMemStats(&ms)
			if ms.HeapInuse > peak.Load() {
				peak.Store(ms.HeapInuse)
			}
			select {
			case <-stopSampling:
				return
			case <-time.After(50 * time.Millisecond):
			}
		}
	}()
	start := time.Now()
	expanded := make(chan error, 1)
	var expandTime time.Duration
	go func() {
		err := out.Tick(ctx)
		expandTime = time.Since(start)
		expanded <- err
	}()
	// Live replies while the campaign expands and drains.
	busy, err := talk(ctx, 3*time.Second)
	if err != nil {
		return err
	}
	if err := <-expanded; err != nil {
		return err
	}
	if err := env.disp.Flush(ctx); err != nil {
		return err
	}
	drain := time.Since(start)
	close(stopSampling)
	sampling.Wait()
	p, err := out.Progress(ctx, "bench")
	if err != nil {
		return err
	}
	// The audience is everyone: the preloaded customers, and the live
	// conversations' customers the expansion met.
	if p.Sent != p.Queued || p.Queued < int64(n) {
		return fmt.Errorf("campaign bench: sent %d of %d queued, want at least %d", p.Sent, p.Queued, n)
	}
	n = int(p.Queued)
	q99, b99 := percentile(quiet, 0.99), percentile(busy, 0.99)
	fmt.Fprintf(o.Out, "campaign to %d customers: expanded in %.1f s (%.0f customers/s), sent in %.1f s (%.0f msgs/s drain), peak heap %.0f MiB\n",
		n, expandTime.Seconds(), float64(n)/expandTime.Seconds(), drain.Seconds(), float64(n)/drain.Seconds(), float64(peak.Load())/(1<<20))
	fmt.Fprintf(o.Out, "ratio = live reply p99 during the campaign ÷ without = %.2f ms ÷ %.2f ms = %.2f (target ≤ 1.5; %d and %d replies)\n",
		ms(b99), ms(q99), float64(b99)/float64(q99), len(busy), len(quiet))
	return nil
}

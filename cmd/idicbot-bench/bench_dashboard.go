package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime/pprof"
	"slices"
	"strconv"
	"time"

	"github.com/idicbot/idicbot/bot/report"
	"github.com/idicbot/idicbot/crm"
	"github.com/idicbot/idicbot/crm/boltstore"
)

// benchDashboard measures the owner's dashboard (bot/report) for the last
// 90 days on a store of o.DashboardCustomers customers and
// o.DashboardEvents events spread over a year: the first report (which
// rolls every closed day up once), the first after a restart (rollups read
// back, customer value computed once for the day), then p50/p99 of the
// report as the dashboard asks for it.
func (m *bench) benchDashboard(ctx context.Context, o benchOptions, _ benchResult) error {
	nc, ne := o.DashboardCustomers, o.DashboardEvents
	if nc <= 0 || ne <= 0 {
		return nil
	}
	path := filepath.Join(o.Dir, "dashboard.db")
	defer os.Remove(path)
	// The history is imported "an hour ago", so the report's rollups built
	// now postdate every late event it marked.
	db, err := boltstore.Open(path, boltstore.Options{NoSync: true, Now: func() time.Time { return time.Now().Add(-time.Hour) }})
	if err != nil {
		return err
	}
	t0 := time.Now()
	if err := fillDashboardStore(ctx, db, nc, ne, time.Now()); err != nil {
		_ = db.Close()
		return err
	}
	if err := db.Close(); err != nil {
		return err
	}
	var size int64
	if st, err := os.Stat(path); err == nil {
		size = st.Size()
	}
	fmt.Fprintf(o.Out, "dashboard: a store of %d customers and %d events over 365 days built in %.1fs (%.0f MB)\n",
		nc, ne, time.Since(t0).Seconds(), float64(size)/1e6)
	if db, err = boltstore.Open(path, boltstore.Options{}); err != nil {
		return err
	}
	defer db.Close()
	loc, err := time.LoadLocation(report.DefaultZone)
	if err != nil {
		return err
	}
	segs := func() []string {
		return []string{crm.SegmentVIP, crm.SegmentLoyal, crm.SegmentAtRisk, crm.SegmentPotential, crm.SegmentNew}
	}
	timed := func(s *report.Service) (*report.Report, time.Duration, error) {
		p, err := s.LastDays(90)
		if err != nil {
			return nil, 0, err
		}
		t := time.Now()
		rep, err := s.Report(ctx, p)
		return rep, time.Since(t), err
	}
	first, d, err := timed(report.New(db, loc, time.Now, segs))
	if err != nil {
		return err
	}
	fmt.Fprintf(o.Out, "dashboard: first 90-day report %.2fs (%d days rolled up from the log, kept)\n", d.Seconds(), first.Precompute.Built)
	svc := report.New(db, loc, time.Now, segs) // a restart: rollups read back from the store
	rep, d, err := timed(svc)
	if err != nil {
		return err
	}
	fmt.Fprintf(o.Out, "dashboard: first report after a restart %.2fs (%d days from rollups, %d from the log; customer value of %d customers computed for the day)\n",
		d.Seconds(), rep.Precompute.FromRollups, rep.Precompute.FromLog, rep.Value.Customers)
	const runs = 100
	if o.CPUProfile != "" {
		f, err := os.Create(o.CPUProfile + ".dashboard")
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	lat := make([]time.Duration, 0, runs)
	start := time.Now()
	for range runs {
		r, d, err := timed(svc)
		if err != nil {
			return err
		}
		if r.Sales.Revenue != rep.Sales.Revenue {
			return fmt.Errorf("dashboard: revenue %d then %d on an unchanged store", rep.Sales.Revenue, r.Sales.Revenue)
		}
		lat = append(lat, d)
	}
	res := benchResult{Name: "dashboard: 90-day report", Ops: runs, Elapsed: time.Since(start), P50: percentile(lat, 0.5), P99: percentile(lat, 0.99)}
	verdict := "ok"
	if res.P99 > 500*time.Millisecond {
		verdict = "MISSED"
	}
	fmt.Fprintf(o.Out, "%s   target p99 ≤ 500ms: %s\n", res, verdict)
	return nil
}

// fillDashboardStore writes nc customers and about ne events over the
// year before now: each customer arrives on a day of the year on a
// channel, writes and is answered (a person answers some after a handoff),
// sees offers, buys now and then (some through an offer), moves between
// segments, and gets a campaign message now and then.
func fillDashboardStore(ctx context.Context, db *boltstore.DB, nc, ne int, now time.Time) error {
	rng := rand.New(rand.NewPCG(11, 12))
	channels := []crm.Channel{crm.ChannelTelegram, crm.ChannelZalo, crm.ChannelWeb, "messenger"}
	sources := []string{"", "fb-ads", "qr-store", "tiktok", "zalo-oa"}
	offers := []string{"welcome-new", "loyal-points", "vip-care", "winback", "payday"}
	perCustomer := max(4, ne/nc)
	const batch = 5000
	// Customers first (their ids), then every event in time order, as the
	// log grows in a shop: appended at its end.
	all := make([]*crm.Event, 0, ne+nc)
	for start := 0; start < nc; start += batch {
		err := db.UpdateSolo(ctx, func(tx crm.Tx) error {
			for i := start; i < min(start+batch, nc); i++ {
				created := now.Add(-time.Duration(rng.Int64N(int64(365 * 24 * time.Hour))))
				ch := channels[rng.IntN(len(channels))]
				c := &crm.Customer{Name: benchName(i), CreatedAt: created, Source: sources[rng.IntN(len(sources))], Language: "vi"}
				c.AddIdentity(crm.Identity{Channel: ch, UserID: "d" + strconv.Itoa(i), FirstSeen: created})
				// The customer's life: events at increasing times up to now.
				var evs []*crm.Event
				t := created
				seg := crm.SegmentNew
				evs = append(evs, &crm.Event{Time: t, Kind: crm.EventSegmentChange, From: "", To: seg, Cause: "message"})
				budget := perCustomer - 1
				if i < ne%nc {
					budget++
				}
				span := now.Sub(created)
				for budget > 0 {
					t = t.Add(time.Duration(rng.Int64N(int64(span)/int64(perCustomer)+1)) + time.Minute)
					if !t.Before(now) {
						t = now.Add(-time.Duration(rng.Int64N(int64(time.Hour))))
					}
					switch r := rng.IntN(100); {
					case r < 60 && budget >= 2: // a message and the bot's answer
						evs = append(evs, &crm.Event{Time: t, Kind: crm.EventMessageIn, Channel: ch},
							&crm.Event{Time: t.Add(time.Second), Kind: crm.EventMessageOut, Channel: ch})
						budget -= 2
					case r < 75: // an offer shown, sometimes accepted
						off := offers[rng.IntN(len(offers))]
						evs = append(evs, &crm.Event{Time: t, Kind: crm.EventOfferShown, OfferID: off, Channel: ch})
						budget--
						if budget > 0 && rng.IntN(3) == 0 {
							evs = append(evs, &crm.Event{Time: t.Add(time.Minute), Kind: crm.EventOfferAccepted, OfferID: off, Channel: ch})
							budget--
						}
					case r < 85: // an order, a third through an offer
						amt := int64(100_000 + rng.IntN(5_000_000))
						e := &crm.Event{Time: t, Kind: crm.EventOrder, OrderID: crm.ID(i*100 + budget), Amount: amt}
						if rng.IntN(3) == 0 {
							e.OfferID = offers[rng.IntN(len(offers))]
						}
						evs = append(evs, e)
						c.Stats.RecordOrder(amt, t)
						budget--
					case r < 92: // a segment move
						to := []string{crm.SegmentLoyal, crm.SegmentAtRisk, crm.SegmentVIP, crm.SegmentPotential}[rng.IntN(4)]
						if to != seg {
							evs = append(evs, &crm.Event{Time: t, Kind: crm.EventSegmentChange, From: seg, To: to, Cause: "sweep"})
							seg = to
							budget--
						}
					case r < 96 && budget >= 3: // a handoff a person answers
						evs = append(evs, &crm.Event{Time: t, Kind: crm.EventHandoff, Cause: "customer"},
							&crm.Event{Time: t.Add(time.Duration(rng.IntN(3600)) * time.Second), Kind: crm.EventMessageOut, Channel: ch},
							&crm.Event{Time: t.Add(2 * time.Hour), Kind: crm.EventHandoffEnd, Cause: "released"})
						budget -= 3
					default: // a campaign message
						evs = append(evs, &crm.Event{Time: t, Kind: crm.EventMessageOut, Channel: ch, Campaign: "tet-2026"})
						budget--
					}
				}
				c.Segment = crm.SegmentAssignment{Name: seg, Since: t}
				c.Stats.FirstSeen, c.Stats.LastSeen = created, t
				if err := tx.PutCustomer(c); err != nil {
					return err
				}
				for _, e := range evs {
					e.CustomerID = c.ID
				}
				all = append(all, evs...)
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	slices.SortStableFunc(all, func(a, b *crm.Event) int { return a.Time.Compare(b.Time) })
	const eventBatch = 50_000
	for start := 0; start < len(all); start += eventBatch {
		err := db.UpdateSolo(ctx, func(tx crm.Tx) error {
			for _, e := range all[start:min(start+eventBatch, len(all))] {
				if err := tx.AppendEvent(e); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
		clear(all[start:min(start+eventBatch, len(all))]) // let them go
	}
	return nil
}

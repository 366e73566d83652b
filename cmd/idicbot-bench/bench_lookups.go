package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/idicbot/idicbot/bot"
	"github.com/idicbot/idicbot/crm"
)

// Vietnamese names for the lookup benchmark's customers.
var (
	benchSurnames = []string{"Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng", "Bùi", "Đỗ", "Hồ", "Ngô", "Dương", "Lý"}
	benchMiddle   = []string{"Văn", "Thị", "Hữu", "Đức", "Minh", "Ngọc", "Thanh", "Quốc", "Thu", "Hoàng", "Gia", "Bảo", "Xuân", "Anh"}
	benchGiven    = []string{"An", "Bình", "Châu", "Dũng", "Giang", "Hà", "Hải", "Hạnh", "Hiếu", "Hoa", "Hùng", "Huy", "Khánh", "Lan", "Linh", "Long", "Mai", "Nam", "Ngân", "Nhung", "Phong", "Phúc", "Quân", "Quang", "Sơn", "Tâm", "Thảo", "Trang", "Trung", "Tuấn", "Vy", "Yến"}
)

func benchName(i int) string {
	return benchSurnames[i%len(benchSurnames)] + " " + benchMiddle[(i/16)%len(benchMiddle)] + " " + benchGiven[(i/224)%len(benchGiven)] + " " + strconv.Itoa(i)
}

// benchLookups measures what reps do in Slack — find by phone (in the forms
// people type), by id and by name without diacritics, and stats — on a store
// with o.LookupCustomers customers.
func (m *bench) benchLookups(ctx context.Context, o benchOptions, _ benchResult) error {
	n := o.LookupCustomers
	if n <= 0 {
		return nil
	}
	env, err := newBenchEnv(ctx, filepath.Join(o.Dir, "lookups.db"))
	if err != nil {
		return err
	}
	defer env.Close()
	defer os.Remove(filepath.Join(o.Dir, "lookups.db"))
	t0 := time.Now()
	now := time.Now()
	for start := 0; start < n; start += 10000 {
		err := env.db.UpdateSolo(ctx, func(tx crm.Tx) error {
			for i := start; i < min(start+10000, n); i++ {
				if err := tx.PutCustomer(lookupCustomer(i, now)); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	fmt.Fprintf(o.Out, "lookups: a store of %d customers built in %.1fs\n", n, time.Since(t0).Seconds())
	m.bboltLookups, err = measureLookups(ctx, o, n, env.core.Reps(), "")
	return err
}

// lookupCustomer is customer i of the lookup benchmark's store.
func lookupCustomer(i int, now time.Time) *crm.Customer {
	c := &crm.Customer{Name: benchName(i), Phone: fmt.Sprintf("+849%08d", i), CreatedAt: now, Language: "vi",
		Segment: crm.SegmentAssignment{Name: crm.SegmentNew, Since: now}}
	c.AddIdentity(crm.Identity{Channel: crm.ChannelTelegram, UserID: strconv.Itoa(100000 + i), FirstSeen: now})
	if i%4 == 0 {
		c.Stats.RecordOrder(int64(500000+i%9000000), now.AddDate(0, 0, -i%300))
	}
	return c
}

// lookupFigure is one lookup's figure on one store, with its target p99.
type lookupFigure struct {
	Name   string
	Result benchResult
	Target time.Duration
}

// print writes f's line: the figure and whether it met its target.
func (f lookupFigure) print(o benchOptions) {
	verdict := "ok"
	if f.Result.P99 > f.Target {
		verdict = "MISSED"
	}
	fmt.Fprintf(o.Out, "%s   target p99 ≤ %v: %s\n", f.Result, f.Target, verdict)
}

// printLookupsSideBySide writes the p99 of each lookup on bbolt and on
// PostgreSQL, one line each, against its target.
func printLookupsSideBySide(o benchOptions, bolt, pg []lookupFigure) {
	fmt.Fprintf(o.Out, "lookups p99, %-42s %10s %10s %8s\n", "", "bbolt", "postgres", "target")
	for i, f := range pg {
		b := "-"
		if i < len(bolt) && bolt[i].Name == f.Name {
			b = fmt.Sprintf("%.2fms", ms(bolt[i].Result.P99))
		}
		verdict := "ok"
		if f.Result.P99 > f.Target {
			verdict = "MISSED"
		}
		fmt.Fprintf(o.Out, "  %-52s %10s %8.2fms %8v %s\n", f.Name, b, ms(f.Result.P99), f.Target, verdict)
	}
}

// measureLookups times the reps' lookups on a store of n customers
// (lookupCustomer 0…n-1), printing a line for each; prefix names the
// store in the figures.
func measureLookups(ctx context.Context, o benchOptions, n int, reps *bot.Reps, prefix string) ([]lookupFigure, error) {
	rng := rand.New(rand.NewPCG(3, 4))
	var figures []lookupFigure
	measure := func(name string, runs int, target time.Duration, query func(i int) string, check func([]*crm.Customer) bool) error {
		lat := make([]time.Duration, 0, runs)
		start := time.Now()
		for r := 0; r < runs; r++ {
			q := query(rng.IntN(n))
			t := time.Now()
			got, err := reps.FindCustomers(ctx, q)
			lat = append(lat, time.Since(t))
			if err != nil {
				return fmt.Errorf("%s %q: %w", name, q, err)
			}
			if !check(got) {
				return fmt.Errorf("%s %q: wrong answer (%d customers)", name, q, len(got))
			}
		}
		f := lookupFigure{Name: name, Target: target,
			Result: benchResult{Name: prefix + "lookup: " + name, Ops: runs, Elapsed: time.Since(start), P50: percentile(lat, 0.5), P99: percentile(lat, 0.99)}}
		f.print(o)
		figures = append(figures, f)
		return nil
	}
	one := func(got []*crm.Customer) bool { return len(got) == 1 }
	forms := []func(i int) string{
		func(i int) string { d := fmt.Sprintf("09%08d", i); return d[:4] + " " + d[4:7] + " " + d[7:] },
		func(i int) string { return fmt.Sprintf("+849%08d", i) },
		func(i int) string { return fmt.Sprintf("849%08d", i) },
	}
	if err := measure("find by phone (0912 345 678 / +84… / 84…)", 3000, 5*time.Millisecond, func(i int) string { return forms[i%3](i) }, one); err != nil {
		return nil, err
	}
	if err := measure("find by customer id", 3000, 5*time.Millisecond, func(i int) string { return strconv.Itoa(i + 1) }, one); err != nil {
		return nil, err
	}
	if err := measure("find by name, no diacritics", 1000, 50*time.Millisecond, func(i int) string {
		return strings.ToLower(crm.Fold(benchName(i)))
	}, func(got []*crm.Customer) bool { return len(got) >= 1 }); err != nil {
		return nil, err
	}
	if err := measure("find by partial name (many matches)", 300, 50*time.Millisecond, func(i int) string {
		return crm.Fold(benchSurnames[i%len(benchSurnames)] + " " + benchGiven[i%len(benchGiven)])
	}, func([]*crm.Customer) bool { return true }); err != nil {
		return nil, err
	}
	// /crm segment: every customer is in "new"; pages 1 to 100 of 10, the
	// most valuable first (no target in the issue; the name search's).
	segLat := make([]time.Duration, 0, 300)
	segStart := time.Now()
	for r := 0; r < 300; r++ {
		page := 1 + rng.IntN(100)
		t := time.Now()
		p, err := reps.SegmentPage(ctx, crm.SegmentNew, page, 10)
		segLat = append(segLat, time.Since(t))
		if err != nil {
			return nil, err
		}
		if len(p.Customers) != 10 || p.Count != int64(n) || p.Customers[0].Stats.TotalSpent < p.Customers[9].Stats.TotalSpent {
			return nil, fmt.Errorf("segment page %d: %d customers of %d, not most valuable first", page, len(p.Customers), p.Count)
		}
	}
	seg := lookupFigure{Name: "segment new, pages 1–100", Target: 50 * time.Millisecond,
		Result: benchResult{Name: prefix + "segment new, pages 1–100", Ops: 300, Elapsed: time.Since(segStart), P50: percentile(segLat, 0.5), P99: percentile(segLat, 0.99)}}
	seg.print(o)
	figures = append(figures, seg)

	lat := make([]time.Duration, 0, 100)
	start := time.Now()
	for r := 0; r < 100; r++ {
		t := time.Now()
		if _, err := reps.Stats(ctx, []int{1, 7, 30}[r%3]); err != nil {
			return nil, err
		}
		lat = append(lat, time.Since(t))
	}
	st := lookupFigure{Name: "stats (today / 7d / 30d)", Target: 50 * time.Millisecond,
		Result: benchResult{Name: prefix + "stats (today / 7d / 30d)", Ops: 100, Elapsed: time.Since(start), P50: percentile(lat, 0.5), P99: percentile(lat, 0.99)}}
	st.print(o)
	return append(figures, st), nil
}

package report

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/idicbot/idicbot/crm"
)

// MethodText states the value model in the report (Vietnamese first; the
// README has it in English).
const MethodText = "CLV 12 tháng tới = xác suất còn mua × số đơn kỳ vọng × giá trị đơn trung bình " +
	"(Pareto/NBD ước lượng điểm: tần suất mua có tiên nghiệm 1 đơn/90 ngày, " +
	"quan hệ trung bình 2 năm; khách im lặng càng lâu so với nhịp mua của họ thì xác suất còn mua càng thấp)."

// MethodTextEN is MethodText in English.
const MethodTextEN = "CLV over the next 12 months = probability still buying × expected orders × average order " +
	"(Pareto/NBD with point estimates: buying rate with a prior of 1 order in 90 days, " +
	"relationships of 2 years on average; the longer a customer is silent against their own rhythm, the lower the probability)."

// valueSnapshot is the value model applied to every customer on one shop
// day: it reads every customer, so it is computed once a day.
type valueSnapshot struct {
	day       string
	segments  map[string]*SegmentValue
	top       []TopCustomer
	customers int64
	total     int64
}

// valueNow returns today's snapshot, computing it on the first request of
// the day (one read of every customer) unless the background refresh
// (Open) runs: then the previous day's serves until it has computed
// today's. Concurrent first requests wait for one computation.
func (s *Service) valueNow(ctx context.Context, now time.Time) (*valueSnapshot, error) {
	today := now.In(s.loc).Format(time.DateOnly)
	s.mu.Lock()
	v, refreshing := s.value, s.refreshing
	s.mu.Unlock()
	if v != nil && (v.day == today || refreshing) {
		return v, nil
	}
	return s.computeValue(ctx, now)
}

// computeValue computes the snapshot of now's shop day unless it is there.
func (s *Service) computeValue(ctx context.Context, now time.Time) (*valueSnapshot, error) {
	today := now.In(s.loc).Format(time.DateOnly)
	s.valueMu.Lock()
	defer s.valueMu.Unlock()
	s.mu.Lock()
	v := s.value
	s.mu.Unlock()
	if v != nil && v.day == today {
		return v, nil
	}
	v = &valueSnapshot{day: today, segments: map[string]*SegmentValue{}}
	err := s.store.View(ctx, func(tx crm.Tx) error {
		return tx.ForEachCustomer(func(c *crm.Customer) error {
			if c.Stats.Orders == 0 {
				return nil
			}
			val := s.model.Value(&c.Stats, now)
			seg := v.segments[c.Segment.Name]
			if seg == nil {
				seg = &SegmentValue{Segment: c.Segment.Name}
				v.segments[c.Segment.Name] = seg
			}
			seg.Customers++
			seg.CLV += val.CLV
			v.customers++
			v.total += val.CLV
			v.offerTop(TopCustomer{ID: c.ID, Name: c.DisplayName(), Segment: c.Segment.Name,
				Spent: c.Stats.TotalSpent, Orders: c.Stats.Orders, Value: val})
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("read the customers: %w", err)
	}
	s.mu.Lock()
	s.value = v
	s.mu.Unlock()
	return v, nil
}

// offerTop keeps the TopCustomers most valuable customers, highest first.
func (v *valueSnapshot) offerTop(c TopCustomer) {
	less := func(a, b TopCustomer) int { // more valuable first, then id
		if x := cmp.Compare(b.Value.CLV, a.Value.CLV); x != 0 {
			return x
		}
		return cmp.Compare(a.ID, b.ID)
	}
	if len(v.top) == TopCustomers && less(c, v.top[len(v.top)-1]) >= 0 {
		return
	}
	i, _ := slices.BinarySearchFunc(v.top, c, less)
	v.top = slices.Insert(v.top, i, c)
	if len(v.top) > TopCustomers {
		v.top = v.top[:TopCustomers]
	}
}

func (v *valueSnapshot) report() Value {
	out := Value{Method: MethodText, AsOf: v.day, Top: slices.Clone(v.top), Customers: v.customers, Total: v.total}
	for _, seg := range v.segments {
		sv := *seg
		if sv.Customers > 0 {
			sv.Average = sv.CLV / sv.Customers
		}
		out.Segments = append(out.Segments, sv)
	}
	slices.SortFunc(out.Segments, func(a, b SegmentValue) int {
		if c := cmp.Compare(b.CLV, a.CLV); c != 0 {
			return c
		}
		return cmp.Compare(a.Segment, b.Segment)
	})
	return out
}

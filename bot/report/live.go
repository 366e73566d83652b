package report

import (
	"time"

	"github.com/idicbot/idicbot/crm"
)

// liveDays are the open days (not yet closed for good) built in memory
// from the log: each request reads only the events appended since the
// last one (the last crm.LateAfter again, for events that commit a little
// after their time), and a day that closes is kept as a rollup from here.
type liveDays struct {
	b      *builder
	built  time.Time            // when the builder started from scratch
	cursor time.Time            // the latest event time read
	seen   map[crm.ID]time.Time // events read at or after cursor − LateAfter
}

// liveRollups returns the rollups of open (consecutive, through today),
// bringing the live days up to date in tx; closed are the live days that
// closed since, to keep.
func (s *Service) liveRollups(tx crm.Tx, rs crm.Rollups, open []day, now time.Time) (out, closed []*crm.DayRollup, err error) {
	s.liveMu.Lock()
	defer s.liveMu.Unlock()
	lv := s.live
	if lv != nil && rs != nil {
		// An event older than LateAfter landed in the live days: start over.
		late, err := rs.LateAppended(lv.b.days[0].start, now)
		if err != nil {
			return nil, nil, err
		}
		if late.After(lv.built.Add(-time.Minute)) {
			lv = nil
		}
	}
	if lv != nil && (len(open) == 0 || open[0].start.Before(lv.b.days[0].start)) {
		lv = nil
	}
	// Days that closed leave the builder as rollups.
	for lv != nil && len(lv.b.days) > 0 && lv.b.days[0].start.Before(open[0].start) {
		closed = append(closed, lv.b.accs[0].rollup())
		lv.b.days, lv.b.accs = lv.b.days[1:], lv.b.accs[1:]
	}
	if lv != nil && len(lv.b.days) == 0 {
		lv = nil // every live day closed: the open ones start afresh
	}
	if lv == nil {
		s.live = nil
		if len(open) == 0 {
			return nil, nil, nil
		}
		lv = &liveDays{b: newBuilder(s.loc, open, now), built: now, cursor: open[0].start, seen: map[crm.ID]time.Time{}}
		err := lv.b.read(tx, open[0].start, time.Time{}, func(e *crm.Event) bool {
			if e.Time.After(lv.cursor) && !e.Time.After(now) {
				lv.cursor = e.Time
			}
			lv.seen[e.Seq] = e.Time
			return false
		})
		if err != nil {
			return nil, nil, err
		}
		lv.prune()
		s.live = lv
		return lv.b.rollups(), closed, nil
	}
	// New days join the builder.
	for _, d := range open {
		if last := lv.b.days[len(lv.b.days)-1]; d.start.Before(last.end) {
			continue
		}
		fresh := newBuilder(s.loc, []day{d}, now)
		lv.b.days, lv.b.accs = append(lv.b.days, d), append(lv.b.accs, fresh.accs[0])
	}
	from := lv.cursor.Add(-crm.LateAfter)
	var latest time.Time
	err = lv.b.read(tx, from, time.Time{}, func(e *crm.Event) bool {
		if e.Time.After(latest) {
			latest = e.Time
		}
		if _, ok := lv.seen[e.Seq]; ok || e.Time.Before(from) {
			return true
		}
		lv.seen[e.Seq] = e.Time
		return false
	})
	if err != nil {
		s.live = nil
		return nil, nil, err
	}
	if latest.After(now) {
		latest = now // an event stamped ahead of this clock does not hide the next ones
	}
	if latest.After(lv.cursor) {
		lv.cursor = latest
	}
	lv.prune()
	return lv.b.rollups(), closed, nil
}

// prune forgets the events the next read cannot meet again: it starts at
// cursor − LateAfter.
func (lv *liveDays) prune() {
	for seq, t := range lv.seen {
		if t.Before(lv.cursor.Add(-crm.LateAfter)) {
			delete(lv.seen, seq)
		}
	}
}

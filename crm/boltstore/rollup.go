package boltstore

import (
	"bytes"
	"encoding/binary"
	"time"

	"github.com/idicbot/idicbot/crm"
)

// The reports' rollups (crm.Rollups).
//
//	rollups      zone 0x00 day start (timeKey, 8 bytes) → DayRollup (JSON)
//	late_events  hour (timeKey, 8 bytes) → when an event of that hour was
//	             last appended late (unix nanoseconds)
//
// An event appended more than crm.LateAfter after its own Time (an import
// of old orders, a merge that re-keys a customer's history) marks its UTC
// hour in late_events with a blind write: one small key per hour, no read,
// so the hot path (whose events are never late) pays one comparison.

var _ crm.Rollups = (*Tx)(nil)

func rollupKey(zone string, start time.Time) []byte {
	k := make([]byte, 0, len(zone)+9)
	k = append(k, zone...)
	k = append(k, 0)
	return append(k, timeKey(start, 0)[:8]...)
}

// DayRollup implements crm.Rollups.
func (t *Tx) DayRollup(zone string, start time.Time) (*crm.DayRollup, error) {
	k := rollupKey(zone, start)
	v := t.get(bktRollups, k)
	if v == nil {
		return nil, nil
	}
	r := new(crm.DayRollup)
	if err := decode(bktRollups, k, v, r); err != nil {
		return nil, err
	}
	return r, nil
}

// PutDayRollup implements crm.Rollups.
func (t *Tx) PutDayRollup(r *crm.DayRollup) error {
	if r == nil || r.Zone == "" || len(r.Zone) > 64 || bytes.IndexByte([]byte(r.Zone), 0) >= 0 {
		return crm.Errorf(crm.EINVALID, "A rollup needs a time zone name of 1 to 64 bytes.")
	}
	if !r.End.After(r.Start) {
		return crm.Errorf(crm.EINVALID, "A rollup's day must end after it starts.")
	}
	return t.putJSON(bktRollups, rollupKey(r.Zone, r.Start), r)
}

func hourKey(at time.Time) []byte {
	return timeKey(at.Truncate(time.Hour), 0)[:8]
}

// LateAppended implements crm.Rollups.
func (t *Tx) LateAppended(from, to time.Time) (time.Time, error) {
	var last int64
	end := hourKey(to)
	if !to.Equal(to.Truncate(time.Hour)) {
		end = hourKey(to.Add(time.Hour))
	}
	err := t.scan(bktLateEvents, nil, hourKey(from), func(k, v []byte) error {
		if bytes.Compare(k, end) >= 0 {
			return errStopScan
		}
		if len(v) == 8 {
			last = max(last, int64(binary.BigEndian.Uint64(v)))
		}
		return nil
	})
	if err != nil && err != errStopScan {
		return time.Time{}, err
	}
	if last == 0 {
		return time.Time{}, nil
	}
	return time.Unix(0, last).UTC(), nil
}

// markLate records that an event of time at was written at now, when that
// is late (crm.LateAfter).
func (t *Tx) markLate(at time.Time) error {
	now := t.now()
	if now.Sub(at) <= crm.LateAfter {
		return nil
	}
	return t.ops.put(bktLateEvents, hourKey(at), u64(uint64(now.UnixNano())))
}

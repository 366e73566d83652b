package bot

import "time"

// StaleEvent says why a channel event timestamped t, received at now, must
// not be handled ("" when it may): a validly signed event is a replay risk
// once its duplicate marker may have been pruned, so it counts only while
// it is at most maxAge old and at most maxSkew ahead of the clock, and an
// event without a timestamp does not count. A negative maxAge turns the
// check off.
func StaleEvent(t, now time.Time, maxAge, maxSkew time.Duration) string {
	if maxAge < 0 {
		return ""
	}
	switch {
	case t.IsZero():
		return "no timestamp"
	case now.Sub(t) > maxAge:
		return "older than max_event_age"
	case t.Sub(now) > maxSkew:
		return "timestamped in the future"
	}
	return ""
}

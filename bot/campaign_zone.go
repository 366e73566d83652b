package bot

import "time"

// Location is the shop's time zone the outreach reads days, quiet hours
// and campaign start times in.
func (o *Outreach) Location() *time.Location { return o.opts.Location }

// QuietHours are the minutes after midnight, shop time, between which
// nothing promotional is sent (from > until means across midnight); equal
// when quiet hours are off.
func (o *Outreach) QuietHours() (from, until int) { return o.opts.QuietFrom, o.opts.QuietUntil }

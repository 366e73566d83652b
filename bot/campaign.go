package bot

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/expr-lang/expr/vm"

	"github.com/idicbot/idicbot/crm"
)

// LeaseOutreach is the Leader lease under which campaigns expand and
// journeys are evaluated: one process at a time.
const LeaseOutreach = "outreach"

// OutreachOptions configure the messages the shop sends first.
type OutreachOptions struct {
	// Location is the shop's time zone (timezone:): days, quiet hours and
	// journey times are read in it. Default Asia/Ho_Chi_Minh.
	Location *time.Location
	// Cap promotional messages per customer in CapWindow, across every
	// campaign and journey (default 1 in 3 days).
	Cap       int
	CapWindow time.Duration
	// QuietFrom and QuietUntil are the quiet hours, minutes after local
	// midnight (default 21:00 to 08:00): nothing promotional leaves then;
	// it is held (outbox Due) until QuietUntil. Equal: no quiet hours.
	QuietFrom, QuietUntil int
	// Windows are how long after a customer's last message each channel
	// lets the shop write first (Messenger 24 h, Zalo OA 7 days); a channel
	// not listed has no window (Telegram, web chat).
	Windows map[crm.Channel]time.Duration
	// PageSize is how many customers one expansion transaction reads
	// (default 100: a short transaction, so live replies waiting for the
	// store's writer wait little).
	PageSize int
	// Every is how often the loop looks for due campaigns and journeys
	// (default one minute); Wake makes it look at once.
	Every    time.Duration
	Journeys []Journey
	// JourneyStore keeps the journeys edited on the admin page (nil: they
	// come from the file only); LoadJourneys reads the newest version.
	JourneyStore crm.JourneyVersions
	Logger       *slog.Logger
	// AfterPage is called after each expansion page commits, before its
	// items go to the dispatcher (crash tests).
	AfterPage func(campaign string)
}

// Outreach sends campaigns and journeys: the bot speaking first.
type Outreach struct {
	core *Core
	opts OutreachOptions
	log  *slog.Logger
	wake chan struct{}

	mu    sync.Mutex
	rules map[string]*vm.Program // compiled audience rules by source

	live       atomic.Pointer[[]Journey] // the journeys now (the file's, or the admin's)
	liveVer    atomic.Int64              // their saved version, 0: the file's
	journeysMu sync.Mutex                // serializes journey edits
}

// Outreach returns the core's outreach use case.
func (c *Core) Outreach(opts OutreachOptions) *Outreach {
	if opts.Location == nil {
		opts.Location = DefaultLocation()
	}
	if opts.Cap <= 0 {
		opts.Cap = 1
	}
	if opts.CapWindow <= 0 {
		opts.CapWindow = 72 * time.Hour
	}
	if opts.QuietFrom == 0 && opts.QuietUntil == 0 {
		opts.QuietFrom, opts.QuietUntil = 21*60, 8*60
	}
	if opts.Windows == nil {
		opts.Windows = DefaultWindows()
	}
	if opts.PageSize <= 0 {
		opts.PageSize = 100
	}
	if opts.Every <= 0 {
		opts.Every = time.Minute
	}
	o := &Outreach{core: c, opts: opts, log: opts.Logger, wake: make(chan struct{}, 1), rules: map[string]*vm.Program{}}
	if o.log == nil {
		o.log = c.log
	}
	js := append([]Journey(nil), opts.Journeys...)
	o.live.Store(&js)
	return o
}

// DefaultLocation is Asia/Ho_Chi_Minh, or UTC+7 where the zone database
// is missing.
func DefaultLocation() *time.Location {
	if l, err := time.LoadLocation("Asia/Ho_Chi_Minh"); err == nil {
		return l
	}
	return time.FixedZone("ICT", 7*3600)
}

// DefaultWindows are the channels' windows for messages the customer did
// not just ask for: Messenger 24 hours without a marketing opt-in (Meta's
// messaging policy), Zalo OA 7 days after the user's last interaction
// (error -230 beyond; shared/channels/zalo-oa.md §4.4).
func DefaultWindows() map[crm.Channel]time.Duration {
	return map[crm.Channel]time.Duration{"messenger": 24 * time.Hour, crm.ChannelZalo: 7 * 24 * time.Hour}
}

// Wake makes the loop look for due campaigns at once.
func (o *Outreach) Wake() {
	select {
	case o.wake <- struct{}{}:
	default:
	}
}

// Run expands due campaigns and evaluates journeys until ctx ends. Run it
// under the Leader lease LeaseOutreach.
func (o *Outreach) Run(ctx context.Context) {
	backoff := time.Second
	for {
		err := o.Tick(ctx)
		wait := o.opts.Every
		if err != nil && ctx.Err() == nil {
			o.log.Error("outreach", "err", err)
			wait, backoff = backoff, min(backoff*2, o.opts.Every)
		} else {
			backoff = time.Second
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-o.wake:
		case <-t.C:
		}
		t.Stop()
	}
}

// Tick starts the journeys' occurrences due now and expands every running
// campaign to its end (or until it is paused, cancelled, or ctx ends).
func (o *Outreach) Tick(ctx context.Context) error {
	if err := o.startJourneys(ctx); err != nil {
		return fmt.Errorf("journeys: %w", err)
	}
	var due []string
	now := o.core.now()
	err := o.core.store.View(ctx, func(tx crm.Tx) error {
		cs := crm.Campaigns(tx)
		list, err := cs.ListCampaigns()
		due = due[:0]
		for _, c := range list {
			if c.Status == crm.CampaignRunning || c.Status == crm.CampaignScheduled && !c.At.After(now) {
				due = append(due, c.ID)
			}
		}
		return err
	})
	if err != nil {
		return err
	}
	for _, id := range due {
		for ctx.Err() == nil {
			start := time.Now()
			more, err := o.expandPage(ctx, id)
			if err != nil {
				return fmt.Errorf("campaign %s: %w", id, err)
			}
			if !more {
				break
			}
			// The store has one writer: after each page, leave it to the
			// conversations as long as the page held it, so live replies
			// keep their latency while a big campaign expands
			// (docs/performance.md, the campaign figure).
			t := time.NewTimer(time.Since(start))
			select {
			case <-ctx.Done():
			case <-t.C:
			}
			t.Stop()
		}
	}
	return ctx.Err()
}

// CreateCampaign checks and stores a new campaign, scheduled for c.At (at
// once when zero).
func (o *Outreach) CreateCampaign(ctx context.Context, c *crm.Campaign, who string) (*crm.Campaign, error) {
	if err := o.check(c); err != nil {
		return nil, err
	}
	now := o.core.now()
	c.Kind = crm.KindCampaign
	c.Status, c.CreatedAt, c.CreatedBy, c.UpdatedAt = crm.CampaignScheduled, now, who, now
	if c.ID == "" {
		c.ID = "c" + now.In(o.opts.Location).Format("20060102-150405")
	}
	err := o.core.store.Update(ctx, func(tx crm.Tx) error {
		cs := crm.Campaigns(tx)
		if _, err := cs.Campaign(c.ID); err == nil {
			return crm.Errorf(crm.ECONFLICT, "A campaign %q exists already.", c.ID)
		}
		return cs.PutCampaign(c)
	})
	if err != nil {
		return nil, err
	}
	o.Wake()
	return c, nil
}

func (o *Outreach) check(c *crm.Campaign) error {
	if c == nil || strings.TrimSpace(c.Name) == "" {
		return crm.Errorf(crm.EINVALID, "A campaign needs a name.")
	}
	for _, r := range c.ID {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '_' || r == '-') {
			return crm.Errorf(crm.EINVALID, "A campaign id may hold only a-z, 0-9, _ and -.")
		}
	}
	if c.OfferID == "" && len(c.Text) == 0 {
		return crm.Errorf(crm.EINVALID, "A campaign needs an offer or a text.")
	}
	if c.OfferID != "" && o.core.Offers().Get(c.OfferID) == nil {
		return crm.Errorf(crm.EINVALID, "Offer %q does not exist.", c.OfferID)
	}
	names := o.core.Segments().Names()
	for _, s := range c.Audience.Segments {
		if !contains(names, s) {
			return crm.Errorf(crm.EINVALID, "Segment %q does not exist.", s)
		}
	}
	if _, err := o.rule(c.Audience.Rule); err != nil {
		return crm.Errorf(crm.EINVALID, "Audience rule: %v", err)
	}
	return nil
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func (o *Outreach) rule(src string) (*vm.Program, error) {
	if strings.TrimSpace(src) == "" {
		return nil, nil
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if p, ok := o.rules[src]; ok {
		return p, nil
	}
	p, err := crm.CompileRule(src)
	if err != nil {
		return nil, err
	}
	o.rules[src] = p
	return p, nil
}

// inAudience reports whether the customer is one the campaign speaks to.
func (o *Outreach) inAudience(c *crm.Campaign, cu *crm.Customer, now time.Time) (bool, error) {
	if len(c.Audience.Segments) > 0 && !contains(c.Audience.Segments, cu.Segment.Name) {
		return false, nil
	}
	p, err := o.rule(c.Audience.Rule)
	if err != nil || p == nil {
		return err == nil, err
	}
	return crm.EvalRule(p, crm.FactsOf(cu, now))
}

// Setting a campaign's status.

// PauseCampaign stops a campaign's expansion and holds what it queued and
// the dispatcher has not claimed yet; ResumeCampaign goes on.
func (o *Outreach) PauseCampaign(ctx context.Context, id string) (*crm.Campaign, error) {
	return o.setStatus(ctx, id, crm.CampaignPaused)
}

// ResumeCampaign goes on with a paused campaign.
func (o *Outreach) ResumeCampaign(ctx context.Context, id string) (*crm.Campaign, error) {
	c, err := o.setStatus(ctx, id, crm.CampaignRunning)
	o.Wake()
	return c, err
}

// CancelCampaign stops a campaign for good: nothing more is queued, and
// what it queued that the dispatcher has not claimed yet is cancelled.
func (o *Outreach) CancelCampaign(ctx context.Context, id string) (*crm.Campaign, error) {
	return o.setStatus(ctx, id, crm.CampaignCancelled)
}

// holdUntil is the Due of a paused campaign's queued items.
var holdUntil = time.Date(2200, 1, 1, 0, 0, 0, 0, time.UTC) // within UnixNano

func (o *Outreach) setStatus(ctx context.Context, id, status string) (*crm.Campaign, error) {
	var out *crm.Campaign
	now := o.core.now()
	err := o.core.store.Update(ctx, func(tx crm.Tx) error {
		cs := crm.Campaigns(tx)
		c, err := cs.Campaign(id)
		if err != nil {
			return err
		}
		switch {
		case c.Status == crm.CampaignCancelled:
			return crm.Errorf(crm.ECONFLICT, "Campaign %q is cancelled already.", id)
		case status == crm.CampaignRunning && c.Status != crm.CampaignPaused:
			return crm.Errorf(crm.ECONFLICT, "Campaign %q is %s, not paused.", id, c.Status)
		}
		// A done campaign (every customer expanded) may still hold queued
		// messages: it can be paused or cancelled too.
		prev := c.Status
		c.Status, c.UpdatedAt = status, now
		switch {
		case status == crm.CampaignRunning && c.StartedAt.IsZero():
			c.Status = crm.CampaignScheduled // paused before it started
		case status == crm.CampaignRunning && !c.FinishedAt.IsZero():
			c.Status = crm.CampaignDone // paused after its expansion ended
		case status == crm.CampaignCancelled:
			c.FinishedAt = now
		}
		if err := cs.PutCampaign(c); err != nil {
			return err
		}
		out = c
		return o.holdQueued(tx, cs, c, prev, status, now)
	})
	return out, err
}

// holdQueued moves the pending items a campaign queued: far into the
// future when it pauses, back to their time when it resumes, cancelled
// when it is cancelled. Items a dispatcher holds already still leave.
func (o *Outreach) holdQueued(tx crm.Tx, cs crm.Campaigns, c *crm.Campaign, prev, status string, now time.Time) error {
	if prev == crm.CampaignScheduled && status != crm.CampaignRunning {
		return nil // nothing queued yet
	}
	return cs.CampaignSends(c.ID, func(s *crm.CampaignSend) error {
		if s.Outbox == 0 {
			return nil
		}
		it, err := tx.OutboxItem(s.Outbox)
		if err != nil || it.Status != crm.OutboxPending {
			return err
		}
		switch status {
		case crm.CampaignPaused:
			// Held by a dispatcher already: its lease ends here, so the
			// dispatcher drops the item at its next renewal (a third of a
			// lease) instead of sending it.
			it.Due, it.LeaseOwner, it.LeaseUntil = holdUntil, "", time.Time{}
		case crm.CampaignRunning:
			it.Due = o.quietDue(now)
		case crm.CampaignCancelled:
			it.Status, it.LastError = crm.OutboxCancelled, "campaign cancelled"
		}
		return tx.PutOutbox(it)
	})
}

// quietDue is when a promotional message queued at now may leave: now,
// or the end of the quiet hours it falls in.
func (o *Outreach) quietDue(now time.Time) time.Time {
	from, until := o.opts.QuietFrom, o.opts.QuietUntil
	if from == until {
		return now
	}
	local := now.In(o.opts.Location)
	m := local.Hour()*60 + local.Minute()
	quiet := from > until && (m >= from || m < until) || from < until && m >= from && m < until
	if !quiet {
		return now
	}
	day := time.Date(local.Year(), local.Month(), local.Day(), 0, 0, 0, 0, o.opts.Location)
	end := day.Add(time.Duration(until) * time.Minute)
	if !end.After(local) {
		end = day.AddDate(0, 0, 1).Add(time.Duration(until) * time.Minute)
	}
	return end
}

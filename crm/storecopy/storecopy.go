// Package storecopy copies a shop from one crm.Store to another (idicbot
// migrate-store: bbolt to PostgreSQL and back), through crm.Tx (and
// crm.MessagesVersions, crm.KnowledgeVersions, crm.JourneyVersions and
// crm.LangPrefs when both stores keep them), so it works between any two
// stores, and verifies the copy.
//
// Everything crm.Tx can enumerate is copied with its ids: customers (with
// identities, consent, handoffs…), merge redirects, every interaction,
// order, event, outbox item (leases dropped: the senders holding them are
// gone), offer and offer version, counter and setting, channel tokens
// under the names given, handoff threads and erasure records, campaigns
// and their sends. What crm.Tx cannot enumerate is listed through
// capabilities both stores have: every dedupe marker as it is, those of
// events that logged nothing (an unfollow) included (crm.SeenMarkers),
// the promotions log behind the per-customer cap (crm.PromotionLog), and
// the language each owner and rep chose (crm.LangChoices). A marker's
// time is not carried: on PostgreSQL a copied marker is dated by the
// copy, so retention prunes it that much later.
package storecopy

import (
	"context"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"maps"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/idicbot/idicbot/crm"
)

// Options tune a Copy.
type Options struct {
	// Force copies into a store that holds something already; records
	// with the same ids are replaced. Without it, Copy refuses.
	Force bool
	// TokenNames are the channel token names to copy (crm.Tx cannot list
	// them).
	TokenNames []string
	// Batch is how many customers one transaction of the target takes
	// (default 200).
	Batch int
	// Sample is how many customers Verify compares record by record
	// (default 200, spread over the ids).
	Sample int
	// Progress, when set, is called after each batch.
	Progress func(done, total int)
}

// Counts are what a store holds, as Copy verifies them.
type Counts struct {
	Customers, Redirects, Interactions, Orders, Events int64
	Outbox, Offers, OfferVersions, Erasures            int64
	Campaigns, CampaignSends, Promotions               int64
	// Seen counts the dedupe markers; LangChoices the owners' and reps'
	// language choices.
	Seen, LangChoices int64
	Counters          map[string]int64
}

func (c Counts) String() string {
	return fmt.Sprintf("%d customers, %d merged ids, %d messages, %d orders, %d events, %d outbox items, %d offers (%d versions), %d erasures, %d campaigns (%d sends, %d promotions), %d dedupe markers, %d language choices, %d counters",
		c.Customers, c.Redirects, c.Interactions, c.Orders, c.Events, c.Outbox, c.Offers, c.OfferVersions, c.Erasures,
		c.Campaigns, c.CampaignSends, c.Promotions, c.Seen, c.LangChoices, len(c.Counters))
}

// storeCounters are the counters each store keeps itself.
func storeCounter(name string) bool {
	return name == "customers" || strings.HasPrefix(name, "segment:")
}

// Empty reports whether s holds nothing Copy would write.
func Empty(ctx context.Context, s crm.Store) (bool, error) {
	empty := true
	err := s.View(ctx, func(tx crm.Tx) error {
		empty = true
		n, err := tx.CustomerCount()
		if err != nil || n > 0 {
			empty = false
			return err
		}
		offers, err := tx.Offers()
		if err != nil || len(offers) > 0 {
			empty = false
			return err
		}
		counters, err := tx.Counters("")
		if err != nil || len(counters) > 0 {
			empty = false
			return err
		}
		if depth, err := tx.OutboxDepth(); err != nil || depth > 0 {
			empty = false
			return err
		}
		if rules, err := tx.SegmentRules(); err != nil || rules != nil {
			empty = false
			return err
		}
		errStop := fmt.Errorf("stop")
		stop := func() error { empty = false; return errStop }
		err = tx.EventsBetween(time.Time{}, time.Time{}, func(*crm.Event) error { return stop() })
		if err == nil {
			err = listSeen(tx, func(marker) error { return stop() })
		}
		if err == nil {
			err = listPromotions(tx, func(promotion) error { return stop() })
		}
		if err == errStop {
			err = nil
		}
		return err
	})
	if err != nil || !empty {
		return empty, err
	}
	langs, err := langChoices(ctx, s)
	return len(langs) == 0, err
}

// Copy copies everything from src to dst, then verifies the copy (Verify)
// and returns what src holds.
func Copy(ctx context.Context, src, dst crm.Store, opts Options) (Counts, error) {
	if opts.Batch <= 0 {
		opts.Batch = 200
	}
	if !opts.Force {
		empty, err := Empty(ctx, dst)
		if err != nil {
			return Counts{}, fmt.Errorf("read the target: %w", err)
		}
		if !empty {
			return Counts{}, crm.Errorf(crm.ECONFLICT, "The target store is not empty; copy into an empty one, or add --force to copy over what it holds.")
		}
	}
	var ids []crm.ID
	if err := src.View(ctx, func(tx crm.Tx) error {
		ids = ids[:0]
		return tx.ForEachCustomer(func(c *crm.Customer) error { ids = append(ids, c.ID); return nil })
	}); err != nil {
		return Counts{}, fmt.Errorf("list customers: %w", err)
	}
	for start := 0; start < len(ids); start += opts.Batch {
		batch := ids[start:min(start+opts.Batch, len(ids))]
		if err := copyCustomers(ctx, src, dst, batch); err != nil {
			return Counts{}, err
		}
		if opts.Progress != nil {
			opts.Progress(start+len(batch), len(ids))
		}
	}
	if err := copyShop(ctx, src, dst, opts); err != nil {
		return Counts{}, err
	}
	if err := copySeen(ctx, src, dst, opts.Force); err != nil {
		return Counts{}, err
	}
	if err := copyPromotions(ctx, src, dst); err != nil {
		return Counts{}, err
	}
	if err := copyLangChoices(ctx, src, dst); err != nil {
		return Counts{}, err
	}
	return Verify(ctx, src, dst, opts)
}

// streamBatch is how many markers or promotions one transaction of the
// target takes.
const streamBatch = 5000

// copyStream reads records from src in one snapshot through list and
// writes them to dst through put, streamBatch to a transaction, so a log
// of millions is never held whole.
func copyStream[T any](ctx context.Context, src, dst crm.Store, list func(crm.Tx, func(T) error) error, put func(crm.Tx, T) error) error {
	var batch []T
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		err := dst.Update(ctx, func(tx crm.Tx) error {
			for _, r := range batch {
				if err := put(tx, r); err != nil {
					return err
				}
			}
			return nil
		})
		batch = batch[:0]
		return err
	}
	return src.View(ctx, func(tx crm.Tx) error {
		batch = batch[:0]
		if err := list(tx, func(r T) error {
			if batch = append(batch, r); len(batch) >= streamBatch {
				return flush()
			}
			return nil
		}); err != nil {
			return err
		}
		return flush()
	})
}

// marker is one dedupe marker.
type marker struct {
	ch          crm.Channel
	msgID       string
	interaction crm.ID
}

func listSeen(tx crm.Tx, fn func(marker) error) error {
	l, ok := tx.(crm.SeenMarkers)
	if !ok {
		return fmt.Errorf("the store cannot list its dedupe markers (%T)", tx)
	}
	return l.ForEachSeen(func(ch crm.Channel, msgID string, interaction crm.ID) error {
		return fn(marker{ch, msgID, interaction})
	})
}

// copySeen copies every dedupe marker, after the customers (whose
// erasures remove markers in the target as they did in the source). With
// force, a marker the target holds already is kept.
func copySeen(ctx context.Context, src, dst crm.Store, force bool) error {
	err := copyStream(ctx, src, dst, listSeen, func(tx crm.Tx, m marker) error {
		if force {
			if _, seen, err := tx.SeenMessage(m.ch, m.msgID); err != nil || seen {
				return err
			}
		}
		return tx.MarkMessage(m.ch, m.msgID, m.interaction)
	})
	if err != nil {
		return fmt.Errorf("copy the dedupe markers: %w", err)
	}
	return nil
}

// promotion is one entry of the promotions log.
type promotion struct {
	customer crm.ID
	at       time.Time
	campaign string
}

func listPromotions(tx crm.Tx, fn func(promotion) error) error {
	l, ok := tx.(crm.PromotionLog)
	if !ok {
		return fmt.Errorf("the store cannot list its promotions (%T)", tx)
	}
	return l.ForEachPromotion(func(customer crm.ID, at time.Time, campaign string) error {
		return fn(promotion{customer, at, campaign})
	})
}

// copyPromotions copies the promotions log behind the per-customer cap.
func copyPromotions(ctx context.Context, src, dst crm.Store) error {
	err := copyStream(ctx, src, dst, listPromotions, func(tx crm.Tx, p promotion) error {
		return tx.AddPromotion(p.customer, p.at, p.campaign)
	})
	if err != nil {
		return fmt.Errorf("copy the promotions log: %w", err)
	}
	return nil
}

// langChoices returns what s's crm.LangPrefs holds; nil when s keeps no
// language choices.
func langChoices(ctx context.Context, s crm.Store) (map[string]string, error) {
	if _, ok := s.(crm.LangPrefs); !ok {
		return nil, nil
	}
	l, ok := s.(crm.LangChoices)
	if !ok {
		return nil, fmt.Errorf("the store cannot list its language choices (%T)", s)
	}
	return l.LangChoices(ctx)
}

// copyLangChoices copies the language each owner and rep chose.
func copyLangChoices(ctx context.Context, src, dst crm.Store) error {
	choices, err := langChoices(ctx, src)
	if err != nil || len(choices) == 0 {
		return err
	}
	to, ok := dst.(crm.LangPrefs)
	if !ok {
		return fmt.Errorf("the target store keeps no language choices (%T), and the source holds %d", dst, len(choices))
	}
	for _, who := range slices.Sorted(maps.Keys(choices)) {
		if err := to.SetLang(ctx, who, choices[who]); err != nil {
			return fmt.Errorf("copy the language choices: %w", err)
		}
	}
	return nil
}

// copyCustomers copies customers ids with everything kept under them.
func copyCustomers(ctx context.Context, src, dst crm.Store, ids []crm.ID) error {
	recs := make([]*crm.CustomerExport, 0, len(ids))
	if err := src.View(ctx, func(tx crm.Tx) error {
		recs = recs[:0]
		for _, id := range ids {
			x, err := tx.CustomerRecords(id)
			if err != nil {
				return fmt.Errorf("read customer %d: %w", id, err)
			}
			recs = append(recs, x)
		}
		return nil
	}); err != nil {
		return err
	}
	return dst.Update(ctx, func(tx crm.Tx) error {
		for _, x := range recs {
			if err := putCustomer(tx, x); err != nil {
				return fmt.Errorf("copy customer %d: %w", x.Customer.ID, err)
			}
		}
		return nil
	})
}

func putCustomer(tx crm.Tx, x *crm.CustomerExport) error {
	c := *x.Customer
	if err := tx.PutCustomer(&c); err != nil {
		return err
	}
	for _, m := range x.MergedIDs {
		// A redirect: a record under the merged id, merged away at once.
		if err := tx.PutCustomer(&crm.Customer{ID: m}); err != nil {
			return err
		}
		if err := tx.DeleteCustomer(m, c.ID); err != nil {
			return err
		}
	}
	for _, i := range x.Interactions {
		cp := *i
		if err := tx.AppendInteraction(&cp); err != nil {
			return err
		}
	}
	for _, o := range x.Orders {
		cp := *o
		if _, err := tx.AddOrder(&cp); err != nil {
			return err
		}
	}
	for _, it := range x.Outbox {
		if err := putOutbox(tx, it); err != nil {
			return err
		}
	}
	if t := c.Handoff.Thread; t != "" && x.Erasure == nil {
		if err := tx.PutHandoffThread(t, c.ID); err != nil {
			return err
		}
	}
	if e := x.Erasure; e != nil {
		if _, err := tx.EraseCustomer(c.ID, e.By, e.At); err != nil {
			return err
		}
	}
	return nil
}

func putOutbox(tx crm.Tx, it *crm.OutboxItem) error {
	cp := *it
	cp.LeaseOwner, cp.LeaseUntil = "", time.Time{}
	return tx.EnqueueOutbox(&cp)
}

// copyShop copies what is not kept under a customer: events, offers,
// settings, counters, tokens, and pending outbox items of no customer.
func copyShop(ctx context.Context, src, dst crm.Store, opts Options) error {
	var events []*crm.Event
	var offers, versions []*crm.Offer
	var pending []*crm.OutboxItem
	var rules, seeded []byte
	var changes []crm.SegmentRuleChange
	var counters map[string]int64
	var campaigns []*crm.Campaign
	var sends []*crm.CampaignSend
	tokens := map[string]*crm.ChannelToken{}
	if err := src.View(ctx, func(tx crm.Tx) (err error) {
		events, offers, versions, pending = nil, nil, nil, nil
		if err := tx.EventsBetween(time.Time{}, time.Time{}, func(e *crm.Event) error { events = append(events, e); return nil }); err != nil {
			return err
		}
		if offers, err = tx.Offers(); err != nil {
			return err
		}
		for _, o := range offers {
			vs, err := tx.OfferVersions(o.ID)
			if err != nil {
				return err
			}
			versions = append(versions, vs...)
		}
		if err := tx.PendingOutbox(func(it *crm.OutboxItem) error {
			if it.CustomerID == 0 {
				pending = append(pending, it)
			}
			return nil
		}); err != nil {
			return err
		}
		if rules, err = tx.SegmentRules(); err != nil {
			return err
		}
		if changes, err = tx.SegmentRuleChanges(); err != nil {
			return err
		}
		at, err := tx.OffersSeeded()
		if err != nil {
			return err
		}
		seeded = nil
		if !at.IsZero() {
			seeded = []byte(at.Format(time.RFC3339Nano))
		}
		if counters, err = tx.Counters(""); err != nil {
			return err
		}
		for _, name := range opts.TokenNames {
			if tokens[name], err = tx.ChannelToken(name); err != nil {
				return err
			}
		}
		if campaigns, err = tx.ListCampaigns(); err != nil {
			return err
		}
		sends = nil
		for _, c := range campaigns {
			if err := tx.CampaignSends(c.ID, func(s *crm.CampaignSend) error { sends = append(sends, s); return nil }); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		return fmt.Errorf("read the shop's records: %w", err)
	}
	if err := copyJourneys(ctx, src, dst); err != nil {
		return err
	}
	if err := copyMessages(ctx, src, dst); err != nil {
		return err
	}
	if err := copyKnowledge(ctx, src, dst); err != nil {
		return err
	}
	const eventBatch = 5000
	for start := 0; start < len(events); start += eventBatch {
		batch := events[start:min(start+eventBatch, len(events))]
		if err := dst.Update(ctx, func(tx crm.Tx) error {
			for _, e := range batch {
				cp := *e
				if err := tx.AppendEvent(&cp); err != nil {
					return fmt.Errorf("copy event %d: %w", e.Seq, err)
				}
			}
			return nil
		}); err != nil {
			return err
		}
	}
	return dst.Update(ctx, func(tx crm.Tx) error {
		for _, o := range versions {
			if err := tx.PutOffer(o); err != nil {
				return err
			}
		}
		for _, o := range offers {
			if err := tx.PutOffer(o); err != nil {
				return err
			}
		}
		for _, it := range pending {
			if err := putOutbox(tx, it); err != nil {
				return err
			}
		}
		if rules != nil {
			if err := tx.PutSegmentRules(rules); err != nil {
				return err
			}
		}
		if changes != nil {
			if err := tx.PutSegmentRuleChanges(changes); err != nil {
				return err
			}
		}
		if seeded != nil {
			at, err := time.Parse(time.RFC3339Nano, string(seeded))
			if err != nil {
				return err
			}
			if err := tx.MarkOffersSeeded(at); err != nil {
				return err
			}
		}
		for _, name := range slices.Sorted(maps.Keys(counters)) {
			if storeCounter(name) {
				continue
			}
			have, err := tx.Counter(name)
			if err != nil {
				return err
			}
			if err := tx.AddCounter(name, counters[name]-have); err != nil {
				return err
			}
		}
		for _, name := range slices.Sorted(maps.Keys(tokens)) {
			if tok := tokens[name]; tok != nil {
				if err := tx.PutChannelToken(name, tok); err != nil {
					return err
				}
			}
		}
		for _, c := range campaigns {
			if err := tx.PutCampaign(c); err != nil {
				return err
			}
		}
		for _, s := range sends {
			if err := tx.PutCampaignSend(s); err != nil {
				return err
			}
		}
		return nil
	})
}

// copyMessages copies the bot's phrases saved at run time, every version,
// when both stores keep them.
func copyMessages(ctx context.Context, src, dst crm.Store) error {
	from, ok1 := src.(crm.MessagesVersions)
	to, ok2 := dst.(crm.MessagesVersions)
	if !ok1 || !ok2 {
		return nil
	}
	return copyHistory(ctx, from.MessagesHistory, to.MessagesHistory, to.SaveMessages,
		func(v *crm.MessagesVersion) int { return v.Version }, "messages")
}

// copyJourneys copies the journeys edited at run time, when both stores
// keep them: the live (newest) version, as the target's first.
func copyJourneys(ctx context.Context, src, dst crm.Store) error {
	from, ok1 := src.(crm.JourneyVersions)
	to, ok2 := dst.(crm.JourneyVersions)
	if !ok1 || !ok2 {
		return nil
	}
	v, err := from.LatestJourneys(ctx)
	if err != nil || v == nil {
		return err
	}
	have, err := to.LatestJourneys(ctx)
	if err != nil {
		return err
	}
	if have != nil {
		return nil // a target copied into with --force keeps its own
	}
	first := *v
	first.Version = 1
	if err := to.SaveJourneys(ctx, &first); err != nil {
		return fmt.Errorf("copy the journeys: %w", err)
	}
	return nil
}

// copyKnowledge copies the FAQ entries saved at run time, every version,
// when both stores keep them.
func copyKnowledge(ctx context.Context, src, dst crm.Store) error {
	from, ok1 := src.(crm.KnowledgeVersions)
	to, ok2 := dst.(crm.KnowledgeVersions)
	if !ok1 || !ok2 {
		return nil
	}
	return copyHistory(ctx, from.KnowledgeHistory, to.KnowledgeHistory, to.SaveKnowledge,
		func(v *crm.KnowledgeVersion) int { return v.Version }, "knowledge")
}

// copyHistory copies every version of a document kept with its history
// (newest first from history), oldest first so each follows the one
// before, unless the target has versions of its own (a copy with --force
// keeps them).
func copyHistory[T any](ctx context.Context, from, to func(context.Context) ([]*T, error),
	save func(context.Context, *T) error, version func(*T) int, what string) error {
	versions, err := from(ctx)
	if err != nil {
		return err
	}
	have, err := to(ctx)
	if err != nil {
		return err
	}
	if len(have) > 0 {
		return nil
	}
	slices.Reverse(versions)
	for _, v := range versions {
		if err := save(ctx, v); err != nil {
			return fmt.Errorf("copy %s version %d: %w", what, version(v), err)
		}
	}
	return nil
}

// Measure counts what s holds.
func Measure(ctx context.Context, s crm.Store) (Counts, error) {
	n, _, err := measure(ctx, s)
	return n, err
}

// digests are sums of a hash of every dedupe marker and of every
// promotion: two stores whose digests agree hold the same ones, in
// whatever order they list them.
type digests struct{ seen, promotions uint64 }

// digest is the hash of one record's fields.
func digest(fields ...string) uint64 {
	h := fnv.New64a()
	for _, f := range fields {
		h.Write([]byte(f))
		h.Write([]byte{0})
	}
	return h.Sum64()
}

func measure(ctx context.Context, s crm.Store) (Counts, digests, error) {
	var n Counts
	var d digests
	err := s.View(ctx, func(tx crm.Tx) error {
		n, d = Counts{}, digests{}
		if err := tx.ForEachCustomer(func(c *crm.Customer) error {
			n.Customers++
			x, err := tx.CustomerRecords(c.ID)
			if err != nil {
				return err
			}
			n.Redirects += int64(len(x.MergedIDs))
			n.Interactions += int64(len(x.Interactions))
			n.Orders += int64(len(x.Orders))
			n.Outbox += int64(len(x.Outbox))
			if x.Erasure != nil {
				n.Erasures++
			}
			return nil
		}); err != nil {
			return err
		}
		if err := tx.EventsBetween(time.Time{}, time.Time{}, func(*crm.Event) error { n.Events++; return nil }); err != nil {
			return err
		}
		offers, err := tx.Offers()
		if err != nil {
			return err
		}
		n.Offers = int64(len(offers))
		for _, o := range offers {
			vs, err := tx.OfferVersions(o.ID)
			if err != nil {
				return err
			}
			n.OfferVersions += int64(len(vs))
		}
		campaigns, err := tx.ListCampaigns()
		if err != nil {
			return err
		}
		n.Campaigns = int64(len(campaigns))
		for _, c := range campaigns {
			if err := tx.CampaignSends(c.ID, func(*crm.CampaignSend) error { n.CampaignSends++; return nil }); err != nil {
				return err
			}
		}
		if l, ok := tx.(crm.SeenMarkers); ok {
			if err := l.ForEachSeen(func(ch crm.Channel, msgID string, interaction crm.ID) error {
				n.Seen++
				d.seen += digest(string(ch), msgID, strconv.FormatInt(int64(interaction), 10))
				return nil
			}); err != nil {
				return err
			}
		}
		if l, ok := tx.(crm.PromotionLog); ok {
			if err := l.ForEachPromotion(func(customer crm.ID, at time.Time, campaign string) error {
				n.Promotions++
				d.promotions += digest(strconv.FormatInt(int64(customer), 10), strconv.FormatInt(at.UnixNano(), 10), campaign)
				return nil
			}); err != nil {
				return err
			}
		}
		counters, err := tx.Counters("")
		// A counter at 0 and no counter read the same (stores keep
		// segment counts of segments emptied; a copy never writes them).
		maps.DeleteFunc(counters, func(_ string, v int64) bool { return v == 0 })
		n.Counters = counters
		return err
	})
	if err != nil {
		return n, d, err
	}
	langs, err := langChoices(ctx, s)
	n.LangChoices = int64(len(langs))
	return n, d, err
}

// Verify compares src and dst: their counts, every counter, the settings,
// and the complete records of a sample of customers spread over the ids
// (Options.Sample), field by field. It returns src's counts, and an error
// naming the first difference.
func Verify(ctx context.Context, src, dst crm.Store, opts Options) (Counts, error) {
	if opts.Sample <= 0 {
		opts.Sample = 200
	}
	want, wantSums, err := measure(ctx, src)
	if err != nil {
		return Counts{}, fmt.Errorf("count the source: %w", err)
	}
	got, gotSums, err := measure(ctx, dst)
	if err != nil {
		return want, fmt.Errorf("count the target: %w", err)
	}
	if !reflect.DeepEqual(want, got) {
		return want, fmt.Errorf("the copy differs: source has %s; target has %s", want, got)
	}
	if wantSums.seen != gotSums.seen {
		return want, fmt.Errorf("the copy's dedupe markers differ from the source's (as many, not the same)")
	}
	if wantSums.promotions != gotSums.promotions {
		return want, fmt.Errorf("the copy's promotions log differs from the source's (as many entries, not the same)")
	}
	wantLangs, err := langChoices(ctx, src)
	if err != nil {
		return want, err
	}
	gotLangs, err := langChoices(ctx, dst)
	if err != nil {
		return want, err
	}
	if !maps.Equal(wantLangs, gotLangs) {
		return want, fmt.Errorf("language choices differ after the copy: source %v, target %v", wantLangs, gotLangs)
	}
	var ids []crm.ID
	if err := src.View(ctx, func(tx crm.Tx) error {
		ids = ids[:0]
		return tx.ForEachCustomer(func(c *crm.Customer) error { ids = append(ids, c.ID); return nil })
	}); err != nil {
		return want, err
	}
	step := max(1, len(ids)/opts.Sample)
	for i := 0; i < len(ids); i += step {
		a, err := records(ctx, src, ids[i])
		if err != nil {
			return want, err
		}
		b, err := records(ctx, dst, ids[i])
		if err != nil {
			return want, err
		}
		if a != b {
			return want, fmt.Errorf("customer %d differs after the copy:\nsource %s\ntarget %s", ids[i], a, b)
		}
	}
	a, err := settings(ctx, src, opts.TokenNames)
	if err != nil {
		return want, err
	}
	b, err := settings(ctx, dst, opts.TokenNames)
	if err != nil {
		return want, err
	}
	if a != b {
		return want, fmt.Errorf("settings differ after the copy:\nsource %s\ntarget %s", a, b)
	}
	return want, nil
}

// records is customer id's records as JSON, outbox leases and event
// sequence numbers left out (a copy drops the ones and renumbers the
// others).
func records(ctx context.Context, s crm.Store, id crm.ID) (string, error) {
	var out []byte
	err := s.View(ctx, func(tx crm.Tx) error {
		x, err := tx.CustomerRecords(id)
		if err != nil {
			return err
		}
		for _, it := range x.Outbox {
			it.LeaseOwner, it.LeaseUntil = "", time.Time{}
		}
		for _, e := range x.Events {
			e.Seq = 0
		}
		out, err = json.Marshal(x)
		return err
	})
	return string(out), err
}

// settings is the shop's settings and offers as JSON.
func settings(ctx context.Context, s crm.Store, tokenNames []string) (string, error) {
	var out []byte
	err := s.View(ctx, func(tx crm.Tx) error {
		m := map[string]any{}
		var err error
		if m["rules"], err = tx.SegmentRules(); err != nil {
			return err
		}
		if m["changes"], err = tx.SegmentRuleChanges(); err != nil {
			return err
		}
		if m["seeded"], err = tx.OffersSeeded(); err != nil {
			return err
		}
		offers, err := tx.Offers()
		if err != nil {
			return err
		}
		m["offers"] = offers
		for _, o := range offers {
			if m["versions "+o.ID], err = tx.OfferVersions(o.ID); err != nil {
				return err
			}
		}
		for _, name := range tokenNames {
			if m["token "+name], err = tx.ChannelToken(name); err != nil {
				return err
			}
		}
		out, err = json.Marshal(m)
		return err
	})
	return string(out), err
}

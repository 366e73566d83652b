package bot

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/idicbot/idicbot/crm"
	"github.com/idicbot/idicbot/crm/nlu"
)

// MaxTextLen is the longest inbound text the core accepts, in characters.
const MaxTextLen = 4000

// Options configure a Core.
type Options struct {
	Store    crm.Store
	Catalog  *crm.Catalog
	Segments *crm.Segments
	// Shop is the shop name used in greetings.
	Shop string
	// DefaultLanguage is used until a customer or their channel says otherwise.
	DefaultLanguage string
	Now             func() time.Time
	Logger          *slog.Logger
	Metrics         *Metrics
	// Dispatcher receives outbox items after each commit (nil: items stay
	// pending in the store until a dispatcher starts).
	Dispatcher *Dispatcher
	// AfterCommit, when set, runs after every commit and before the outbox is
	// notified. Tests use it to simulate a crash at that moment.
	AfterCommit func(Result)
	// Assistant, when set, helps where the keyword rules are unsure (LLM).
	Assistant Assistant
	// AssistTimeout bounds one assistant call (default 4s).
	AssistTimeout time.Duration
	// Events, when set, hears about things other parts of the system act on
	// (handoff requests, customer messages during a handoff). It is called
	// after the commit, outside any transaction.
	Events EventSink
	// Classifier, when set, reads the intent of a text from examples
	// (configs/intents.yaml and the knowledge's questions); without one the
	// keyword rules decide alone.
	Classifier *nlu.Classifier
	// Knowledge holds the shop's FAQ entries the bot answers by the rules.
	Knowledge *crm.Knowledge
	// SourceLabels name acquisition sources (deep-link codes such as
	// "ad_tet2027") in what customers read, per language ("vi", "en"); a
	// source without a label is never shown to the customer.
	SourceLabels map[string]map[string]string
	// Location is the shop's time zone for the dates in answers (default
	// Asia/Ho_Chi_Minh, UTC+7 all year).
	Location *time.Location
	// Notifier, when set, tells the other processes on the store that
	// offers or segment rules were saved here, and tells this one of
	// theirs (RunReloads). Nil: one process, nothing to tell.
	Notifier Notifier
}

// EventSink hears about committed events that need work outside the core
// (the Slack handoff, for example).
type EventSink interface {
	CoreEvent(ctx context.Context, e Event)
}

// Event kinds sent to an EventSink.
const (
	EventHandoffRequested = "handoff_requested"
	EventHandoffMessage   = "handoff_message"
)

// Event is a committed happening in the core.
type Event struct {
	Kind        string
	CustomerID  crm.ID
	Interaction *crm.Interaction
	// Reason says why the bot asked for a person (a handoff it requested:
	// "complaint", "order_status", "cancel_order", "change_order"; empty
	// when the customer asked), Urgent that reps should answer it first.
	Reason string
	Urgent bool
}

// Core is the IDIC pipeline. It is safe for concurrent use; offers and
// segment rules can be swapped at run time.
type Core struct {
	store    crm.Store
	catalog  *crm.Catalog
	segments atomic.Pointer[crm.Segments]
	offers   atomic.Pointer[crm.OfferSet]
	shop     string
	lang     string
	now      func() time.Time
	log      *slog.Logger
	metrics  *Metrics
	disp     *Dispatcher
	after    func(Result)
	events   EventSink
	notifier Notifier
	// reload orders the loads of offers and segment rules, so that a load
	// that read the store earlier never replaces what a later one made live.
	reload sync.Mutex

	assistant     Assistant
	assistTimeout time.Duration

	// und is the classifier and the knowledge it answers from, swapped
	// together (SetUnderstanding).
	und     atomic.Pointer[understander]
	loc     *time.Location
	sources map[string]map[string]string
}

var _ Handler = (*Core)(nil)

// New builds a Core. It does no I/O; call LoadOffers before serving.
func New(o Options) *Core {
	c := &Core{store: o.Store, catalog: o.Catalog, shop: o.Shop, lang: o.DefaultLanguage, now: o.Now,
		log: o.Logger, metrics: o.Metrics, disp: o.Dispatcher, after: o.AfterCommit, events: o.Events,
		notifier: o.Notifier, assistant: o.Assistant, assistTimeout: o.AssistTimeout,
		loc: o.Location, sources: o.SourceLabels}
	c.und.Store(&understander{classifier: o.Classifier, knowledge: o.Knowledge})
	if c.loc == nil {
		c.loc = time.FixedZone("ICT", 7*3600) // Vietnam keeps no daylight saving
	}
	if c.assistTimeout <= 0 {
		c.assistTimeout = defaultAssistTimeout
	}
	if c.now == nil {
		c.now = time.Now
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	if c.lang == "" {
		c.lang = "vi"
	}
	if c.catalog == nil {
		c.catalog = &crm.Catalog{}
	}
	if c.shop == "" {
		c.shop = c.catalog.Shop
	}
	if c.shop == "" {
		c.shop = "shop"
	}
	c.segments.Store(o.Segments)
	c.offers.Store(&crm.OfferSet{})
	return c
}

// Segments returns the live segment rules.
func (c *Core) Segments() *crm.Segments { return c.segments.Load() }

// SetSegments swaps the segment rules; the next event uses them.
func (c *Core) SetSegments(s *crm.Segments) { c.segments.Store(s) }

// Offers returns the live compiled offers.
func (c *Core) Offers() *crm.OfferSet { return c.offers.Load() }

// Catalog returns the product catalog.
func (c *Core) Catalog() *crm.Catalog { return c.catalog }

// Store returns the store the core writes to.
func (c *Core) Store() crm.Store { return c.store }

// LoadOffers reads the stored offers and makes them live. Call it after any
// change to stored offers.
func (c *Core) LoadOffers(ctx context.Context) error {
	c.reload.Lock()
	defer c.reload.Unlock()
	var offers []*crm.Offer
	if err := c.store.View(ctx, func(tx crm.Tx) error {
		var err error
		offers, err = tx.Offers()
		return err
	}); err != nil {
		return fmt.Errorf("load offers: %w", err)
	}
	set, errs := crm.NewOfferSet(offers)
	for _, err := range errs {
		c.log.ErrorContext(ctx, "stored offer does not compile; left out", "err", err)
	}
	c.offers.Store(set)
	return nil
}

func (c *Core) product(id string) (string, int64) {
	if p := c.catalog.Product(id); p != nil {
		return p.Name, p.Price
	}
	return "", 0
}

// sourceLabel is how customers read an acquisition source in lang, or ""
// when the shop gave it no label (the raw code is not for customers).
func (c *Core) sourceLabel(lang, source string) string {
	l := c.sources[source]
	if n := l[lang]; n != "" {
		return n
	}
	return l["vi"]
}

// productIn is product with the name a language's customers read ("AirPods
// Pro 2 earbuds" in an English offer, not "Tai nghe AirPods Pro 2").
func (c *Core) productIn(lang string) func(id string) (string, int64) {
	return func(id string) (string, int64) {
		if p := c.catalog.Product(id); p != nil {
			return p.DisplayName(lang), p.Price
		}
		return "", 0
	}
}

// validate rejects inbound events the core cannot take, with a reason.
func validate(in *Inbound) error {
	switch {
	case in.Channel == "":
		return crm.Errorf(crm.EINVALID, "channel is required")
	case in.UserID == "":
		return crm.Errorf(crm.EINVALID, "user id is required")
	case in.MessageID == "":
		return crm.Errorf(crm.EINVALID, "message id is required")
	case !utf8.ValidString(in.Text) || !utf8.ValidString(in.Payload):
		return crm.Errorf(crm.EINVALID, "text is not valid UTF-8")
	case utf8.RuneCountInString(in.Text) > MaxTextLen:
		return crm.Errorf(crm.EINVALID, "text is longer than %d characters", MaxTextLen)
	}
	// Channels' texts are stripped of control characters (the web chat
	// refuses them before this), so that none is stored or relayed.
	in.Text, in.Name, in.Username = StripControls(in.Text), StripControls(in.Name), StripControls(in.Username)
	if ct := in.Contact; ct != nil {
		cp := *ct
		cp.FirstName, cp.LastName, cp.Address = StripControls(cp.FirstName), StripControls(cp.LastName), StripControls(cp.Address)
		in.Contact = &cp
	}
	if in.Kind == "" {
		in.Kind = crm.KindText
	}
	if in.ChatID == "" {
		in.ChatID = in.UserID
	}
	if in.Kind == crm.KindText && strings.TrimSpace(in.Text) == "" && in.Command == "" && in.EditOf == "" {
		return crm.Errorf(crm.EINVALID, "text is empty")
	}
	if in.Kind == crm.KindButton && in.Payload == "" {
		return crm.Errorf(crm.EINVALID, "button payload is empty")
	}
	return nil
}

// turn is the state of one Handle call inside its transaction. It is rebuilt
// on every attempt, because DB.Batch may run the transaction more than once.
type turn struct {
	core *Core
	tx   crm.Tx
	in   Inbound
	u    Understanding
	// rd is the text of in as the rules read it, when they did.
	rd    readText
	now   time.Time
	cust  *crm.Customer
	lang  string
	res   Result
	items []*crm.OutboxItem
	// itemBuf holds the items of most turns (a reply and an offer).
	itemBuf [2]*crm.OutboxItem
	events  []Event
	shown   []string
	taken   []string
	moves   []*crm.SegmentChange
	// outbound marks a turn for a message to the customer (a human's,
	// typed in the channel's own console) rather than from them.
	outbound bool
	// formReplaces: the event is a form the customer filled in (Zalo's
	// user info), whose name and address replace the stored ones instead
	// of filling them only when empty.
	formReplaces bool

	assist assistDraft

	// code is a fresh one-time code, drawn outside the transaction (which
	// may run more than once), used if a typed phone or email is proven on
	// another customer.
	code string
	// claimedNew: the event typed a phone or email the customer had not
	// given before.
	claimedNew bool
	// verify is the outcome of a typed one-time code: "ok", "wrong",
	// "expired" ("" when none was typed).
	verify string
	// notices are for the reps (ChannelReps), not the customer.
	notices []*crm.OutboxItem
}

// assistDraft is what the assistant drafted for a turn: AssistResult less
// the understanding, which Handle has merged already (a turn is copied on
// every attempt; the understanding is most of its size).
type assistDraft struct {
	Answer  string
	OfferID string
}

// turnStart is what every attempt of a turn starts from.
type turnStart struct {
	in     Inbound
	u      Understanding
	rd     readText
	assist assistDraft
	code   string
}

// Handle runs one inbound event through Identify, Interact, Differentiate and
// Customize in a single store transaction, then hands the replies to the
// outbox dispatcher. It returns after the commit.
func (c *Core) Handle(ctx context.Context, in Inbound) (Result, error) {
	start := time.Now()
	if err := validate(&in); err != nil {
		return Result{}, err
	}
	if in.Time.IsZero() {
		in.Time = c.now()
	}
	// Outside the transaction: the rules, then (only when they are unsure)
	// the assistant, which may call the network.
	u, read := c.understand(in)
	ar, assisted := c.assist(ctx, in, u)
	if assisted && ar.Understanding.Intent != "" {
		u = mergeUnderstanding(u, ar.Understanding)
	}
	code := ""
	if in.Contact == nil && (u.Phone != "" || u.Email != "") {
		code = newCode()
	}
	// Each attempt starts over from the same state; both live in one
	// allocation (the inbound event, its understanding and the turn each
	// escaped on their own).
	h := &struct {
		start turnStart
		cur   turn
	}{start: turnStart{in: in, u: u, rd: read, assist: assistDraft{Answer: ar.Answer, OfferID: ar.OfferID}, code: code}}
	fn := func(tx crm.Tx) error {
		s := &h.start
		h.cur = turn{core: c, tx: tx, in: s.in, u: s.u, rd: s.rd, now: c.now(), assist: s.assist, code: s.code}
		h.cur.items = h.cur.itemBuf[:0]
		return h.cur.run()
	}
	var err error
	if tu, ok := c.store.(crm.TurnUpdater); ok {
		// A server's store commits concurrent turns together.
		key := crm.TurnKey{Channel: in.Channel, MsgID: in.MessageID, UserID: in.UserID}
		if in.Contact == nil {
			key.Phone, key.Email = u.Phone, u.Email // claimed: turn.claim looks their owners up
		}
		err = tu.UpdateTurn(ctx, key, fn)
	} else {
		err = c.store.Update(ctx, fn)
	}
	if err != nil {
		return Result{}, fmt.Errorf("handle %s message %s: %w", in.Channel, in.MessageID, err)
	}
	t := &h.cur
	if len(t.items) > 0 {
		t.res.Outbox = make([]crm.ID, 0, len(t.items))
	}
	for _, it := range t.items {
		t.res.Outbox = append(t.res.Outbox, it.ID)
	}
	c.committed(ctx, t, start)
	return t.res, nil
}

func (c *Core) committed(ctx context.Context, t *turn, start time.Time) {
	if m := c.metrics; m != nil {
		switch {
		case t.res.Duplicate:
			m.Duplicates.WithLabelValues(string(t.in.Channel)).Inc()
		case t.outbound:
			m.MessagesOut.WithLabelValues(string(t.in.Channel)).Inc()
			m.Pipeline.Observe(time.Since(start).Seconds())
		default:
			m.MessagesIn.WithLabelValues(string(t.in.Channel)).Inc()
			m.Pipeline.Observe(time.Since(start).Seconds())
		}
		for _, id := range t.shown {
			m.OffersShown.WithLabelValues(id).Inc()
		}
		for _, id := range t.taken {
			m.OffersAccepted.WithLabelValues(id).Inc()
		}
		for _, mv := range t.moves {
			m.SegmentChanges.WithLabelValues(mv.From, mv.To).Inc()
		}
	}
	if !t.res.Duplicate && c.log.Enabled(ctx, slog.LevelDebug) {
		// The check first: the arguments cost allocations even when the
		// handler drops the record.
		c.log.DebugContext(ctx, "handled", "channel", t.in.Channel, "customer", t.res.CustomerID, "intent", t.res.Intent, "replies", len(t.items))
	}
	if c.after != nil {
		c.after(t.res)
	}
	if c.disp != nil && len(t.items) > 0 {
		c.disp.Enqueue(t.items...)
	}
	if c.disp != nil && len(t.notices) > 0 {
		c.disp.Enqueue(t.notices...)
	}
	if c.events != nil {
		for _, e := range t.events {
			c.events.CoreEvent(ctx, e)
		}
	}
}

func (t *turn) run() error {
	if r, ok := t.tx.(crm.TurnReader); ok {
		// A server's store reads the marker and the customer in one
		// round trip.
		if err := r.ReadTurn(t.in.Channel, t.in.MessageID, t.in.UserID); err != nil {
			return err
		}
	}
	if dup, err := t.seen(); err != nil || dup {
		return err
	}
	if err := t.identify(); err != nil {
		return err
	}
	if t.in.EditOf != "" {
		return t.edit()
	}
	if err := t.checkCode(); err != nil {
		return err
	}
	if err := t.interact(); err != nil {
		return err
	}
	t.differentiate("message")
	if err := t.customize(); err != nil {
		return err
	}
	return t.save()
}

// seen reports (and records in the result) that the event was handled
// before: a replayed event changes nothing.
func (t *turn) seen() (bool, error) {
	_, seen, err := t.tx.SeenMessage(t.in.Channel, t.in.MessageID)
	if err != nil {
		return false, err
	}
	t.res.Duplicate = seen
	return seen, nil
}

// save stores the turn's segment moves and the customer.
func (t *turn) save() error {
	for _, mv := range t.moves {
		if _, err := recordMove(t.tx, t.now, t.cust.ID, mv); err != nil {
			return err
		}
	}
	t.cust.UpdatedAt = t.now
	return t.tx.PutCustomer(t.cust)
}

// record stores an interaction of the event and marks the event handled.
func (t *turn) record(it *crm.Interaction) error {
	if err := logInteraction(t.tx, it); err != nil {
		return err
	}
	if err := t.tx.MarkMessage(t.in.Channel, t.in.MessageID, it.ID); err != nil {
		return err
	}
	t.res.InteractionID = it.ID
	return nil
}

// read is the event's text as the rules read it (folded, its words).
func (t *turn) read() readText {
	t.rd = t.rd.read(t.in.Text)
	return t.rd
}

// count bumps a total counter and its per-day twin.
func (t *turn) count(name string, n int64) error { return addCounter(t.tx, t.now, name, n) }

// countOf bumps by one the counter its parts name (addCounterOf).
func (t *turn) countOf(parts ...string) error { return addCounterOf(t.tx, t.now, 1, parts...) }

// identify finds or creates the customer behind the event and makes their
// identity reachable again (they wrote to us: the channel lets us answer).
// A phone or email the channel proves is the sender's own (a Telegram
// contact with the sender's user id, Zalo's consent form, Messenger's
// profile quick replies) is linked, and merges with a customer already
// proven to hold it; one typed in a message is only a claim (see claim).
func (t *turn) identify() error {
	in := t.in
	created, err := t.customer()
	if err != nil {
		return err
	}
	c := t.cust
	if !created {
		if id := c.Identity(in.Channel, in.UserID); id != nil && id.Unreachable {
			id.Unreachable, id.UnreachableSince, id.UnreachableWhy = false, time.Time{}, ""
		}
		if c.Name == "" {
			c.Name = in.Name
		}
		if c.Source == "" && in.Source != "" {
			c.Source = in.Source
		}
	}
	if in.Contact == nil {
		return t.claim()
	}
	if !in.Contact.Self {
		// Someone else's contact card: nothing about the sender.
		return nil
	}
	if c.Name == "" {
		c.Name = strings.TrimSpace(in.Contact.FirstName + " " + in.Contact.LastName)
	}
	if c.Address == "" {
		c.Address = in.Contact.Address
	}
	if err := t.prove(); err != nil {
		return err
	}
	if t.formReplaces {
		if n := strings.TrimSpace(strings.TrimSpace(in.Contact.FirstName) + " " + strings.TrimSpace(in.Contact.LastName)); n != "" {
			t.cust.Name = n
		}
		if a := strings.TrimSpace(in.Contact.Address); a != "" {
			t.cust.Address = a
		}
	}
	return nil
}

// prove links a phone and email the channel proved to be the sender's, and
// merges with the customer already proven to hold them.
func (t *turn) prove() error {
	tx := t.tx
	if p := t.u.Phone; p != "" && p != t.cust.Phone {
		other, err := tx.FindCustomerByPhone(p)
		if err != nil {
			return err
		}
		if other != nil && other.ID != t.cust.ID {
			if err := t.merge(other); err != nil {
				return err
			}
		}
		t.cust.Phone = p
	}
	if e := t.u.Email; e != "" && e != t.cust.Email {
		other, err := tx.FindCustomerByEmail(e)
		if err != nil {
			return err
		}
		if other != nil && other.ID != t.cust.ID {
			if err := t.merge(other); err != nil {
				return err
			}
		}
		t.cust.Email = e
	}
	c := t.cust
	if c.Claims.Phone != "" && c.Claims.Phone == c.Phone {
		c.Claims.Phone = ""
	}
	if c.Claims.Email != "" && c.Claims.Email == c.Email {
		c.Claims.Email = ""
	}
	return nil
}

// customer finds the customer known by the event's channel identity, or
// creates one (counted as a new customer) with what the channel tells of
// them. It reports whether the customer is new.
func (t *turn) customer() (created bool, err error) {
	tx, in := t.tx, t.in
	c, err := tx.FindCustomerByIdentity(in.Channel, in.UserID)
	if err != nil {
		return false, err
	}
	if c != nil {
		c.AddIdentity(crm.Identity{Channel: in.Channel, UserID: in.UserID, ChatID: in.ChatID, Username: in.Username})
	} else {
		created = true
		c = &crm.Customer{CreatedAt: t.now, Name: in.Name, Source: in.Source, Language: localeLang(in.Locale)}
		c.AddIdentity(crm.Identity{Channel: in.Channel, UserID: in.UserID, ChatID: in.ChatID, Username: in.Username, FirstSeen: t.now})
		if err := tx.PutCustomer(c); err != nil {
			return false, err
		}
		if err := t.count("new_customers", 1); err != nil {
			return false, err
		}
	}
	t.cust = c
	t.res.CustomerID = c.ID
	return created, nil
}

// merge folds the current customer into other, the customer already known by
// the shared phone or email, who keeps their id and history.
func (t *turn) merge(other *crm.Customer) error {
	cur := t.cust
	other.MergeFrom(cur)
	if err := t.tx.MoveInteractions(cur.ID, other.ID); err != nil {
		return err
	}
	if err := t.tx.DeleteCustomer(cur.ID, other.ID); err != nil {
		return err
	}
	t.cust = other
	t.res.CustomerID = other.ID
	return t.count("merges", 1)
}

// edit updates the logged text of an edited message; it sends no reply.
func (t *turn) edit() error {
	tx, in := t.tx, t.in
	iid, seen, err := tx.SeenMessage(in.Channel, in.EditOf)
	if err != nil {
		return err
	}
	if seen {
		it, err := tx.Interaction(t.cust.ID, iid)
		if err != nil && crm.ErrorCode(err) != crm.ENOTFOUND {
			return err
		}
		if it != nil {
			if !it.Edited {
				it.Original = it.Text
			}
			it.Text, it.Edited = in.Text, true
			if err := tx.PutInteraction(it); err != nil {
				return err
			}
			t.res.InteractionID = it.ID
		}
	}
	t.res.Intent = "edit"
	if err := tx.MarkMessage(in.Channel, in.MessageID, t.res.InteractionID); err != nil {
		return err
	}
	return tx.PutCustomer(t.cust)
}

// StripControls removes control characters other than newline and tab: C0
// controls (NUL included), DEL and the C1 range. A carriage return becomes
// a newline ("\r\n" one newline). Text without any is returned as it is.
func StripControls(s string) string {
	clean := true
	for _, r := range s {
		if isControl(r) {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	s = strings.ReplaceAll(s, "\r\n", "\n")
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		switch {
		case r == '\r':
			b.WriteByte('\n')
		case isControl(r):
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// isControl reports a control character a message may not carry.
func isControl(r rune) bool {
	return r < 0x20 && r != '\n' && r != '\t' || r == 0x7f || r >= 0x80 && r <= 0x9f
}

func localeLang(locale string) string {
	l := strings.ToLower(locale)
	switch {
	case strings.HasPrefix(l, "vi"):
		return "vi"
	case l != "":
		return "en"
	}
	return ""
}

// interact logs the inbound event and updates the running aggregates.
func (t *turn) interact() error {
	c, in, u := t.cust, t.in, t.u
	// A one-word message ("STOP", "ok") does not switch a language the
	// customer already writes in.
	if u.Language != "" && in.Kind == crm.KindText && (c.Language == "" || len(t.read().words) > 1) {
		c.Language = u.Language
	}
	t.lang = c.Language
	if t.lang == "" {
		t.lang = t.core.lang
	}
	it := &crm.Interaction{CustomerID: c.ID, Time: in.Time, Direction: crm.Inbound, Channel: in.Channel, ChatID: in.ChatID,
		MessageID: in.MessageID, Kind: in.Kind, Text: in.Text, Intent: u.Intent, Payload: in.Payload, Sentiment: u.Sentiment}
	if in.Command != "" {
		it.Kind = crm.KindCommand
		it.Text = strings.TrimSpace("/" + in.Command + " " + in.Text)
	}
	if err := t.record(it); err != nil {
		return err
	}
	t.res.Intent = u.Intent
	c.Stats.RecordMessageIn(t.now)
	for _, p := range u.Products {
		c.AddInterest(p.ID)
	}
	if u.Sentiment != "" {
		c.Sentiment = u.Sentiment
		if err := t.countOf("sentiment:", u.Sentiment); err != nil {
			return err
		}
	}
	if err := t.countOf("msg_in:", string(in.Channel)); err != nil {
		return err
	}
	if c.Handoff.Active {
		t.events = append(t.events, Event{Kind: EventHandoffMessage, CustomerID: c.ID, Interaction: it})
	}
	return nil
}

// differentiate recomputes the customer's segment.
func (t *turn) differentiate(cause string) {
	if mv := t.core.segments.Load().Apply(t.cust, t.now, cause); mv != nil {
		mv.CustomerID = t.cust.ID
		t.moves = append(t.moves, mv)
	}
}

// mergeUnderstanding keeps what the rules found for sure (phone, email,
// products) and takes the assistant's intent, language and extra products;
// products or a budget from the assistant replace the rules' price range.
func mergeUnderstanding(rules, a Understanding) Understanding {
	out := rules
	if a.Intent != "" && knownIntent(a.Intent) {
		out.Intent = a.Intent
		out.Sure = true
	}
	// The model reads the whole message, so its language wins: the word
	// lists call "I live in Hà Nội" Vietnamese.
	if a.Language == "vi" || a.Language == "en" {
		out.Language = a.Language
	}
	if a.Sentiment != "" {
		out.Sentiment = a.Sentiment
	}
	for _, p := range a.Products {
		dup := false
		for _, q := range out.Products {
			dup = dup || q.ID == p.ID
		}
		if !dup && p != nil {
			out.Products = append(out.Products, p)
		}
	}
	if a.Budget > 0 {
		out.Budget = a.Budget
	}
	if len(a.Products) > 0 || a.Budget > 0 {
		// The assistant's products for the budget answer, not the rules'
		// price range.
		out.Range, out.Suggest, out.InRange = nil, nil, false
	}
	return out
}

func knownIntent(i string) bool {
	switch i {
	case IntentGreeting, IntentProduct, IntentPrice, IntentPromo, IntentBuy, IntentContact,
		IntentOptOut, IntentOptIn, IntentHandoff, IntentThanks, IntentUnknown:
		return true
	}
	return false
}

package bot

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/idicbot/idicbot/crm"
	"go.yaml.in/yaml/v3"
)

// OfferAdmin is offer administration: listing, editing with versions and
// conflict checks, previews, diffs, rollbacks and offers files. It is a use
// case of its own beside the conversation (Core), which only reads the live
// offers; a save makes the change live here (reload) and tells other
// processes (publish).
type OfferAdmin struct {
	store    crm.Store
	segments interface{ Load() *crm.Segments }
	product  func(id string) (name string, price int64)
	now      func() time.Time
	log      *slog.Logger
	reload   func(ctx context.Context) error
	publish  func(ctx context.Context, topic string)
}

// OfferAdmin returns the offer administration of the core's store, rules
// and catalog, whose saves make offers live in c.
func (c *Core) OfferAdmin() *OfferAdmin {
	return &OfferAdmin{store: c.store, segments: &c.segments, product: c.product, now: c.now, log: c.log,
		reload: c.LoadOffers, publish: c.publish}
}

// Origins of an offer change, kept on every stored version.
const (
	OriginWeb   = "web"
	OriginAPI   = "api"
	OriginSlack = "slack"
	OriginFile  = "file"
	OriginSeed  = "seed"
)

// OfferStats are an offer's numbers, read from the store's counters.
type OfferStats struct {
	Shown    int64 `json:"shown"`
	Accepted int64 `json:"accepted"`
	Declined int64 `json:"declined"`
	Ordered  int64 `json:"ordered"`
	// Conversion is accepted / shown (0 when never shown).
	Conversion float64 `json:"conversion"`
}

// OfferView is a stored offer with its numbers.
type OfferView struct {
	*crm.Offer
	Stats OfferStats `json:"stats"`
}

// OfferVersion is one entry of an offer's history: the stored version and
// what changed from the version before it.
type OfferVersion struct {
	*crm.Offer
	// Change says in words what this version changed ("created",
	// "templates.vi, code", "restored version 3").
	Change string `json:"change"`
}

// OfferProblem is one thing wrong with an offer, tied to its field: crm's
// Problem, which every transport renders.
type OfferProblem = crm.Problem

// InvalidOfferError is the refusal of an offer (or an offers file) that
// does not pass crm.CheckOffer, with every problem.
type InvalidOfferError = crm.InvalidOfferError

// ListOffers returns every stored offer with its numbers, by id.
func (c *OfferAdmin) ListOffers(ctx context.Context) ([]*OfferView, error) {
	var out []*OfferView
	err := c.store.View(ctx, func(tx crm.Tx) error {
		offers, err := tx.Offers()
		if err != nil {
			return err
		}
		counters, err := tx.Counters("offer:")
		if err != nil {
			return err
		}
		for _, o := range offers {
			out = append(out, &OfferView{Offer: o, Stats: offerStats(counters, o.ID)})
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list offers: %w", err)
	}
	return out, nil
}

func offerStats(counters map[string]int64, id string) OfferStats {
	p := "offer:" + id + ":"
	s := OfferStats{
		Shown: counters[p+crm.OfferShown], Accepted: counters[p+crm.OfferAccepted],
		Declined: counters[p+crm.OfferDeclined], Ordered: counters[p+"ordered"],
	}
	if s.Shown > 0 {
		s.Conversion = float64(s.Accepted) / float64(s.Shown)
	}
	return s
}

// GetOffer returns one stored offer with its numbers.
func (c *OfferAdmin) GetOffer(ctx context.Context, id string) (*OfferView, error) {
	var out *OfferView
	err := c.store.View(ctx, func(tx crm.Tx) error {
		o, err := tx.Offer(id)
		if err != nil {
			return err
		}
		counters, err := tx.Counters("offer:" + id + ":")
		if err != nil {
			return err
		}
		out = &OfferView{Offer: o, Stats: offerStats(counters, id)}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("get offer %s: %w", id, err)
	}
	return out, nil
}

// OfferHistory returns every stored version of an offer, newest first,
// each with who changed it, when, from where, and what changed.
func (c *OfferAdmin) OfferHistory(ctx context.Context, id string) ([]*OfferVersion, error) {
	var versions []*crm.Offer
	err := c.store.View(ctx, func(tx crm.Tx) error {
		if _, err := tx.Offer(id); err != nil {
			return err
		}
		var err error
		versions, err = tx.OfferVersions(id)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("offer %s history: %w", id, err)
	}
	out := make([]*OfferVersion, len(versions))
	texts := make([]string, len(versions))
	for i, v := range versions {
		texts[i] = string(OfferYAML(v))
		change := "created"
		if i > 0 {
			change = describeChange(versions[i-1], v)
			for j := i - 2; j >= 0; j-- {
				if texts[j] == texts[i] {
					change = fmt.Sprintf("restored version %d", versions[j].Version)
					break
				}
			}
		}
		out[len(versions)-1-i] = &OfferVersion{Offer: v, Change: change}
	}
	return out, nil
}

// describeChange names the top-level fields that differ between two versions.
func describeChange(a, b *crm.Offer) string {
	if a.Status != b.Status && sameContentExcept(a, b, "status") {
		return fmt.Sprintf("status %s → %s", a.Status, b.Status)
	}
	var fields []string
	va, vb := offerFields(a), offerFields(b)
	for _, k := range offerFieldOrder {
		if va[k] != vb[k] {
			fields = append(fields, k)
		}
	}
	if len(fields) == 0 {
		return "no change"
	}
	return "changed " + strings.Join(fields, ", ")
}

var offerFieldOrder = []string{"name", "status", "segments", "eligibility", "validity", "priority", "cap_days", "max_shows",
	"code", "buttons", "templates.vi", "templates.en", "details.vi", "details.en", "templates", "details"}

func offerFields(o *crm.Offer) map[string]string {
	s := func(v any) string { b, _ := yaml.Marshal(v); return string(b) }
	m := map[string]string{
		"name": o.Name, "status": o.Status, "segments": s(o.Segments), "eligibility": o.Eligibility,
		"validity": s(o.Validity), "priority": strconv.Itoa(o.Priority), "cap_days": strconv.Itoa(o.CapDays),
		"max_shows": strconv.Itoa(o.MaxShows), "code": o.Code, "buttons": s(o.Buttons),
		"templates.vi": o.Templates["vi"], "templates.en": o.Templates["en"],
		"details.vi": o.Details["vi"], "details.en": o.Details["en"],
	}
	other := func(t map[string]string) string {
		cp := map[string]string{}
		for k, v := range t {
			if k != "vi" && k != "en" {
				cp[k] = v
			}
		}
		return s(cp)
	}
	m["templates"], m["details"] = other(o.Templates), other(o.Details)
	return m
}

func sameContentExcept(a, b *crm.Offer, field string) bool {
	va, vb := offerFields(a), offerFields(b)
	for k := range va {
		if k != field && va[k] != vb[k] {
			return false
		}
	}
	return true
}

// OfferYAML is the offer as it would be written in configs/offers.yaml:
// its content without the version metadata.
func OfferYAML(o *crm.Offer) []byte {
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	_ = enc.Encode(o)
	_ = enc.Close()
	return unescapeYAML(b.Bytes())
}

// yamlEscape matches the \UXXXXXXXX escapes yaml.v3 writes for characters
// outside the Basic Multilingual Plane (emoji), with the backslashes before.
var yamlEscape = regexp.MustCompile(`(\\+)U([0-9A-Fa-f]{8})`)

// unescapeYAML writes emoji as themselves in double-quoted YAML strings,
// which is the same YAML and what a person edits.
func unescapeYAML(b []byte) []byte {
	return yamlEscape.ReplaceAllFunc(b, func(m []byte) []byte {
		sub := yamlEscape.FindSubmatch(m)
		if len(sub[1])%2 == 0 { // an escaped backslash, then a literal U
			return m
		}
		n, err := strconv.ParseUint(string(sub[2]), 16, 32)
		if err != nil || n > 0x10FFFF || (n >= 0xD800 && n <= 0xDFFF) || n < 0x20 {
			return m
		}
		out := append([]byte{}, sub[1][:len(sub[1])-1]...)
		return append(out, string(rune(n))...)
	})
}

func sameContent(a, b *crm.Offer) bool { return bytes.Equal(OfferYAML(a), OfferYAML(b)) }

// ValidateOffer checks an offer completely, the way SaveOffer does before
// it stores anything, and returns an *InvalidOfferError listing every
// problem found, or nil.
func (c *OfferAdmin) ValidateOffer(o *crm.Offer) error {
	if o == nil {
		return crm.Errorf(crm.EINVALID, "offer is required")
	}
	if probs := c.offerProblems(o); len(probs) > 0 {
		return &InvalidOfferError{ID: o.ID, Problems: probs}
	}
	return nil
}

// offerProblems checks o against the live segments and catalogue.
func (c *OfferAdmin) offerProblems(o *crm.Offer) []OfferProblem {
	return crm.CheckOffer(o, c.segments.Load().Names(), c.product, c.now())
}

func sortedLangs(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// SaveOffer validates o completely and stores it as the next version of the
// offer, then makes it live, so the very next message uses it.
// expectedVersion is the version the edit started from: 0 creates a new
// offer (a conflict if the id exists); any other value must be the stored
// version, or the save is refused with ECONFLICT and nothing changes.
// Saving content equal to the stored version stores nothing and returns it.
func (c *OfferAdmin) SaveOffer(ctx context.Context, o *crm.Offer, expectedVersion int, who, origin string) (*crm.Offer, error) {
	if o == nil {
		return nil, crm.Errorf(crm.EINVALID, "offer is required")
	}
	in := cloneOffer(o)
	if in.Status == "" {
		in.Status = crm.OfferDraft
	}
	if err := c.ValidateOffer(in); err != nil {
		return nil, err
	}
	saved, err := c.storeOffer(ctx, in, func(cur *crm.Offer) error {
		switch {
		case cur == nil && expectedVersion != 0:
			return crm.Errorf(crm.ENOTFOUND, "Offer %q not found.", in.ID)
		case cur != nil && expectedVersion == 0:
			return crm.Errorf(crm.ECONFLICT, "Offer %q already exists (version %d); edit it instead.", in.ID, cur.Version)
		case cur != nil && cur.Version != expectedVersion:
			return conflict(cur, expectedVersion)
		}
		return nil
	}, who, origin)
	if err != nil {
		return nil, fmt.Errorf("save offer %s: %w", in.ID, err)
	}
	return saved, nil
}

func conflict(cur *crm.Offer, expected int) error {
	by := cur.UpdatedBy
	if by == "" {
		by = "someone"
	}
	return crm.Errorf(crm.ECONFLICT, "Offer %q was changed by %s (%s) at %s: it is now version %d and your edit started from version %d. Reload it and apply your change again.",
		cur.ID, by, cur.Origin, cur.UpdatedAt.Format("2006-01-02 15:04"), cur.Version, expected)
}

// storeOffer stores in as the next version in one transaction after check
// accepts the current version (nil when there is none), then reloads the
// live offers. Equal content stores nothing.
func (c *OfferAdmin) storeOffer(ctx context.Context, in *crm.Offer, check func(cur *crm.Offer) error, who, origin string) (*crm.Offer, error) {
	var saved *crm.Offer
	changed := false
	err := c.store.Update(ctx, func(tx crm.Tx) error {
		saved, changed = nil, false
		cur, err := tx.Offer(in.ID)
		if err != nil && crm.ErrorCode(err) != crm.ENOTFOUND {
			return err
		}
		if check != nil {
			if err := check(cur); err != nil {
				return err
			}
		}
		if cur != nil && sameContent(cur, in) {
			saved = cur
			return nil
		}
		next := cloneOffer(in)
		next.Version = 1
		if cur != nil {
			next.Version = cur.Version + 1
		}
		next.UpdatedAt, next.UpdatedBy, next.Origin = c.now(), who, origin
		if err := tx.PutOffer(next); err != nil {
			return err
		}
		saved, changed = next, true
		return nil
	})
	if err != nil {
		return nil, err
	}
	if changed {
		err = c.reload(ctx)
		c.publish(ctx, TopicOffers) // stored, whether or not it loaded here
		if err != nil {
			return saved, err
		}
		c.log.Info("offer saved", "offer", saved.ID, "version", saved.Version, "by", who, "origin", origin)
	}
	return saved, nil
}

// cloneOffer returns a deep copy, so callers' offers are never changed.
func cloneOffer(o *crm.Offer) *crm.Offer {
	cp := *o
	cp.Segments = slices.Clone(o.Segments)
	cp.Buttons = slices.Clone(o.Buttons)
	cp.Templates = cloneMap(o.Templates)
	cp.Details = cloneMap(o.Details)
	if o.Validity.From != nil {
		t := *o.Validity.From
		cp.Validity.From = &t
	}
	if o.Validity.Until != nil {
		t := *o.Validity.Until
		cp.Validity.Until = &t
	}
	if cp.Segments == nil {
		cp.Segments = []string{}
	}
	return &cp
}

func cloneMap(m map[string]string) map[string]string {
	if m == nil {
		return nil
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// SetOfferStatus pauses or activates an offer (or sets it back to draft) as
// a new version. Activating validates the offer again; pausing always works,
// so a broken offer can always be stopped.
func (c *OfferAdmin) SetOfferStatus(ctx context.Context, id, status, who, origin string) (*crm.Offer, error) {
	switch status {
	case crm.OfferActive, crm.OfferPaused, crm.OfferDraft:
	default:
		return nil, crm.Errorf(crm.EINVALID, "status %q must be draft, active or paused", status)
	}
	cur, err := c.GetOffer(ctx, id)
	if err != nil {
		return nil, err
	}
	next := cloneOffer(cur.Offer)
	next.Status = status
	if status == crm.OfferActive {
		if err := c.ValidateOffer(next); err != nil {
			return nil, err
		}
	}
	saved, err := c.storeOffer(ctx, next, func(now *crm.Offer) error {
		if now == nil {
			return crm.Errorf(crm.ENOTFOUND, "Offer %q not found.", id)
		}
		if now.Version != cur.Version {
			// Changed meanwhile: apply the status to what is stored now.
			return conflict(now, cur.Version)
		}
		return nil
	}, who, origin)
	if err != nil {
		return nil, fmt.Errorf("set offer %s %s: %w", id, status, err)
	}
	return saved, nil
}

// OfferVersionContent returns one stored version of an offer.
func (c *OfferAdmin) OfferVersionContent(ctx context.Context, id string, version int) (*crm.Offer, error) {
	var out *crm.Offer
	err := c.store.View(ctx, func(tx crm.Tx) error {
		vs, err := tx.OfferVersions(id)
		if err != nil {
			return err
		}
		for _, v := range vs {
			if v.Version == version {
				out = v
				return nil
			}
		}
		if len(vs) == 0 {
			return crm.Errorf(crm.ENOTFOUND, "Offer %q not found.", id)
		}
		return crm.Errorf(crm.ENOTFOUND, "Offer %q has no version %d (versions 1 to %d).", id, version, vs[len(vs)-1].Version)
	})
	return out, err
}

// Rollback stores the content of an earlier version of an offer as its new
// current version (the history keeps everything in between). The old
// content is validated again, since segments may have changed since.
func (c *OfferAdmin) Rollback(ctx context.Context, id string, version int, who, origin string) (*crm.Offer, error) {
	old, err := c.OfferVersionContent(ctx, id, version)
	if err != nil {
		return nil, fmt.Errorf("roll back offer %s: %w", id, err)
	}
	next := cloneOffer(old)
	if err := c.ValidateOffer(next); err != nil {
		return nil, fmt.Errorf("roll back offer %s to version %d: %w", id, version, err)
	}
	saved, err := c.storeOffer(ctx, next, func(cur *crm.Offer) error {
		if cur == nil {
			return crm.Errorf(crm.ENOTFOUND, "Offer %q not found.", id)
		}
		return nil
	}, who, origin)
	if err != nil {
		return nil, fmt.Errorf("roll back offer %s to version %d: %w", id, version, err)
	}
	return saved, nil
}

// DiffLine is one line of a diff: Op is ' ' (in both), '-' (only in the
// old version) or '+' (only in the new one).
type DiffLine struct {
	Op   string `json:"op"`
	Text string `json:"text"`
}

// OfferDiff is the difference between two versions of an offer.
type OfferDiff struct {
	ID    string     `json:"id"`
	From  int        `json:"from"`
	To    int        `json:"to"`
	Lines []DiffLine `json:"lines"`
	// Unified is the diff as text, one line per entry prefixed by its op.
	Unified string `json:"unified"`
}

// DiffOffer compares two versions of an offer in their YAML form.
func (c *OfferAdmin) DiffOffer(ctx context.Context, id string, from, to int) (*OfferDiff, error) {
	a, err := c.OfferVersionContent(ctx, id, from)
	if err != nil {
		return nil, err
	}
	b, err := c.OfferVersionContent(ctx, id, to)
	if err != nil {
		return nil, err
	}
	d := &OfferDiff{ID: id, From: from, To: to, Lines: DiffLines(string(OfferYAML(a)), string(OfferYAML(b)))}
	var u strings.Builder
	for _, l := range d.Lines {
		u.WriteString(l.Op + " " + l.Text + "\n")
	}
	d.Unified = u.String()
	return d, nil
}

// DiffLines is a line diff of a and b by longest common subsequence.
func DiffLines(a, b string) []DiffLine {
	x := strings.Split(strings.TrimRight(a, "\n"), "\n")
	y := strings.Split(strings.TrimRight(b, "\n"), "\n")
	n, m := len(x), len(y)
	// lcs[i][j] is the LCS length of x[i:] and y[j:].
	lcs := make([][]int, n+1)
	for i := range lcs {
		lcs[i] = make([]int, m+1)
	}
	for i := n - 1; i >= 0; i-- {
		for j := m - 1; j >= 0; j-- {
			if x[i] == y[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	var out []DiffLine
	i, j := 0, 0
	for i < n && j < m {
		switch {
		case x[i] == y[j]:
			out = append(out, DiffLine{" ", x[i]})
			i++
			j++
		case lcs[i+1][j] >= lcs[i][j+1]:
			out = append(out, DiffLine{"-", x[i]})
			i++
		default:
			out = append(out, DiffLine{"+", y[j]})
			j++
		}
	}
	for ; i < n; i++ {
		out = append(out, DiffLine{"-", x[i]})
	}
	for ; j < m; j++ {
		out = append(out, DiffLine{"+", y[j]})
	}
	return out
}

// PreviewCustomer says who a preview was rendered for.
type PreviewCustomer struct {
	ID      crm.ID `json:"id,omitempty"`
	Name    string `json:"name"`
	Segment string `json:"segment"`
	// Sample reports a made-up customer of the segment.
	Sample bool `json:"sample"`
}

// PreviewText is an offer rendered in one language.
type PreviewText struct {
	Lang    string       `json:"lang"`
	Text    string       `json:"text"`
	Details string       `json:"details,omitempty"`
	Buttons []crm.Button `json:"buttons"`
	// Fallback names the template language used when the offer has none
	// for Lang.
	Fallback string        `json:"fallback,omitempty"`
	Error    *OfferProblem `json:"error,omitempty"`
}

// OfferPreview is what an offer looks like for one customer.
type OfferPreview struct {
	Customer PreviewCustomer `json:"customer"`
	Texts    []PreviewText   `json:"texts"`
	// Eligible reports whether the core would show this offer to the
	// customer now (status, segment, validity, eligibility; cap aside).
	Eligible bool `json:"eligible"`
	// Problems are every reason the offer could not be saved as it is.
	Problems []OfferProblem `json:"problems"`
}

// PreviewOffer renders an offer, saved or not, in every language for a real
// customer (customerID) or a sample customer of a segment (the offer's
// first target segment when segment is empty). It also reports every
// problem that would stop a save, so an editor can show them as one types.
func (c *OfferAdmin) PreviewOffer(ctx context.Context, o *crm.Offer, customerID crm.ID, segment string) (*OfferPreview, error) {
	if o == nil {
		return nil, crm.Errorf(crm.EINVALID, "offer is required")
	}
	in := cloneOffer(o)
	if in.Status == "" {
		in.Status = crm.OfferDraft
	}
	now := c.now()
	p := &OfferPreview{Problems: c.offerProblems(in)}
	if p.Problems == nil {
		p.Problems = []OfferProblem{}
	}
	var cust *crm.Customer
	if customerID != 0 {
		err := c.store.View(ctx, func(tx crm.Tx) error {
			var err error
			cust, err = tx.Customer(customerID)
			return err
		})
		if err != nil {
			return nil, fmt.Errorf("preview: %w", err)
		}
		p.Customer = PreviewCustomer{ID: cust.ID, Name: cust.Name, Segment: cust.Segment.Name}
	} else {
		if segment == "" && len(in.Segments) > 0 {
			segment = in.Segments[0]
		}
		if segment == "" {
			names := c.segments.Load().Names()
			segment = names[len(names)-1]
		}
		if c.segments.Load().Rule(segment) == nil {
			return nil, crm.Errorf(crm.ENOTFOUND, "Segment %q not found.", segment)
		}
		cust = crm.SampleCustomer(segment, now)
		p.Customer = PreviewCustomer{Name: cust.Name, Segment: segment, Sample: true}
	}
	// Compile only what compiles, so a broken English template does not
	// hide the Vietnamese preview.
	for _, lang := range crm.Languages {
		pt := PreviewText{Lang: lang, Buttons: []crm.Button{}}
		tlang := lang
		if in.Templates[lang] == "" {
			tlang = fallbackLang(in.Templates)
			pt.Fallback = tlang
		}
		if tlang == "" {
			pt.Error = &OfferProblem{Field: "templates", Message: "no template"}
			p.Texts = append(p.Texts, pt)
			continue
		}
		dlang := lang
		if in.Details[lang] == "" {
			dlang = fallbackLang(in.Details)
		}
		probe := &crm.Offer{ID: "preview", Name: in.Name, Status: crm.OfferDraft, Code: in.Code, Validity: in.Validity,
			Buttons: in.Buttons, Templates: map[string]string{lang: in.Templates[tlang]}}
		if dlang != "" {
			probe.Details = map[string]string{lang: in.Details[dlang]}
		}
		co, err := crm.CompileOffer(probe)
		if err != nil {
			pr := OfferProblem{Field: "templates." + tlang, Message: crm.ErrorMessage(err)}
			if pp := firstProblem(p.Problems, "templates."+tlang); pp != nil {
				pr = *pp
			} else if pp := firstProblem(p.Problems, "details."+dlang); pp != nil {
				pr = *pp
			}
			pt.Error = &pr
			p.Texts = append(p.Texts, pt)
			continue
		}
		co.Offer.ID = in.ID
		text, err := co.Render(lang, cust, c.product, now)
		if err != nil {
			pr := crm.TemplateProblem("templates."+tlang, err)
			pt.Error = &pr
		}
		pt.Text = text
		if d, err := co.RenderDetails(lang, cust, c.product, now); err == nil {
			pt.Details = d
		} else if pt.Error == nil {
			pr := crm.TemplateProblem("details."+dlang, err)
			pt.Error = &pr
		}
		pt.Buttons = offerButtons(lang, co)
		p.Texts = append(p.Texts, pt)
	}
	if co, err := crm.CompileOffer(in); err == nil {
		cp := *cust
		if cp.Segment.Name == "" {
			cp.Segment.Name = p.Customer.Segment
		}
		p.Eligible = co.Eligible(&cp, crm.FactsOf(&cp, now), now)
	}
	return p, nil
}

func firstProblem(ps []OfferProblem, field string) *OfferProblem {
	for i := range ps {
		if ps[i].Field == field {
			return &ps[i]
		}
	}
	return nil
}

// fallbackLang is the template language the core falls back to: vi, then
// the first by name.
func fallbackLang(m map[string]string) string {
	if m["vi"] != "" {
		return "vi"
	}
	for _, l := range sortedLangs(m) {
		if m[l] != "" {
			return l
		}
	}
	return ""
}

// exportHeader opens an exported offers file.
const exportHeader = `# Offers exported by idicbot. Re-import with:
#   idicbot offers import offers.yaml [--dry-run]
# Fields are described in configs/offers.yaml.
`

// ExportOffers writes every stored offer in the shape of configs/offers.yaml.
func (c *OfferAdmin) ExportOffers(ctx context.Context) ([]byte, error) {
	var offers []*crm.Offer
	if err := c.store.View(ctx, func(tx crm.Tx) error {
		var err error
		offers, err = tx.Offers()
		return err
	}); err != nil {
		return nil, fmt.Errorf("export offers: %w", err)
	}
	if offers == nil {
		offers = []*crm.Offer{}
	}
	var b bytes.Buffer
	b.WriteString(exportHeader)
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(crm.OffersFile{Offers: offers}); err != nil {
		return nil, fmt.Errorf("export offers: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("export offers: %w", err)
	}
	return unescapeYAML(b.Bytes()), nil
}

// OfferImportReport says what an import did, or would do with DryRun.
type OfferImportReport struct {
	DryRun    bool     `json:"dry_run"`
	Created   []string `json:"created"`
	Updated   []string `json:"updated"`
	Unchanged []string `json:"unchanged"`
	// Kept are stored offers the file does not mention; they are left as
	// they are.
	Kept []string `json:"kept"`
}

// ImportOffers reads an offers file (the configs/offers.yaml shape),
// validates every offer in it and, unless dryRun, stores each new or
// changed one as a new version in one transaction. Anything wrong anywhere
// in the file: an EINVALID error listing every problem, and nothing changes.
func (c *OfferAdmin) ImportOffers(ctx context.Context, name string, data []byte, dryRun bool, who string) (*OfferImportReport, error) {
	now := c.now()
	offers, err := crm.ParseOffers(name, data, c.segments.Load().Names(), now)
	if err != nil {
		return nil, err
	}
	var probs []OfferProblem
	for _, o := range offers {
		if o.Status == "" {
			o.Status = crm.OfferDraft
		}
		for _, p := range c.offerProblems(o) {
			p.Offer = o.ID
			probs = append(probs, p)
		}
	}
	if len(probs) > 0 {
		return nil, &InvalidOfferError{File: name, Problems: probs}
	}
	var rep *OfferImportReport
	fn := func(tx crm.Tx) error {
		rep = &OfferImportReport{DryRun: dryRun, Created: []string{}, Updated: []string{}, Unchanged: []string{}, Kept: []string{}}
		inFile := map[string]bool{}
		for _, o := range offers {
			inFile[o.ID] = true
			cur, err := tx.Offer(o.ID)
			if err != nil && crm.ErrorCode(err) != crm.ENOTFOUND {
				return err
			}
			next := cloneOffer(o)
			switch {
			case cur == nil:
				next.Version = 1
				rep.Created = append(rep.Created, o.ID)
			case sameContent(cur, next):
				rep.Unchanged = append(rep.Unchanged, o.ID)
				continue
			default:
				next.Version = cur.Version + 1
				rep.Updated = append(rep.Updated, o.ID)
			}
			if dryRun {
				continue
			}
			next.UpdatedAt, next.UpdatedBy, next.Origin = now, who, OriginFile
			if err := tx.PutOffer(next); err != nil {
				return err
			}
		}
		all, err := tx.Offers()
		if err != nil {
			return err
		}
		for _, o := range all {
			if !inFile[o.ID] {
				rep.Kept = append(rep.Kept, o.ID)
			}
		}
		return nil
	}
	if dryRun {
		err = c.store.View(ctx, fn)
	} else {
		err = c.store.Update(ctx, fn)
	}
	if err != nil {
		return nil, fmt.Errorf("import offers: %w", err)
	}
	if !dryRun && len(rep.Created)+len(rep.Updated) > 0 {
		err = c.reload(ctx)
		c.publish(ctx, TopicOffers) // stored, whether or not it loaded here
		if err != nil {
			return rep, err
		}
		c.log.Info("offers imported", "file", name, "created", len(rep.Created), "updated", len(rep.Updated), "by", who)
	}
	return rep, nil
}

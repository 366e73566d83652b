package slack

import (
	"fmt"
	"math"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	slackapi "github.com/slack-go/slack"

	"github.com/idicbot/idicbot/bot"
	"github.com/idicbot/idicbot/crm"
	"github.com/idicbot/idicbot/i18n"
)

// Slack's Block Kit limits (characters).
const (
	maxSectionText = 3000
	maxFieldText   = 2000
	maxHeaderText  = 150
	maxLineText    = 200
)

// Action ids of the handoff card buttons; the value is the customer id.
const (
	ActionTake    = "idicbot_handoff_take"
	ActionRelease = "idicbot_handoff_release"
)

var mrkdwnEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")

// escape makes text safe wherever Slack renders it: mrkdwn, plain_text,
// a message's top-level text and fallbacks. Slack reads &, < and > as
// control characters everywhere (docs.slack.dev, "Formatting text for app
// surfaces", escaping), so a customer's "<!channel>" or "<http://x|y>"
// must reach it as entities or it pings or links. Every string a customer
// (or anyone but this code) wrote goes through it.
func escape(s string) string { return mrkdwnEscaper.Replace(s) }

// escapeTrunc is escape(s) cut to at most n characters, never inside an
// entity (a header of 150 characters of "<" must not become 600).
func escapeTrunc(s string, n int) string {
	if e := escape(s); utf8.RuneCountInString(e) <= n {
		return e
	}
	var b strings.Builder
	used := 0
	for _, r := range s {
		piece := escape(string(r))
		k := utf8.RuneCountInString(piece)
		if used+k > n-1 {
			break
		}
		b.WriteString(piece)
		used += k
	}
	return b.String() + "…"
}

// slackUserID is what a Slack user id looks like ("U0REP0001", "W123").
var slackUserID = regexp.MustCompile(`^[UW][A-Z0-9]+$`)

// agentName shows who wrote or holds something: a Slack agent
// ("slack:U123") as a mention, anything else (an author from the admin API
// or an import, "slack:" followed by something that is not a user id) as
// escaped text.
func agentName(agent string) string {
	if u, ok := strings.CutPrefix(agent, "slack:"); ok && slackUserID.MatchString(u) {
		return bot.AgentName(agent)
	}
	return escape(agent)
}

func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

// oneLine flattens text for a list line.
func oneLine(s string, n int) string {
	return truncate(strings.Join(strings.Fields(s), " "), n)
}

func mrkdwn(s string) *slackapi.TextBlockObject {
	return slackapi.NewTextBlockObject(slackapi.MarkdownType, truncate(s, maxSectionText), false, false)
}

func section(s string) *slackapi.SectionBlock { return slackapi.NewSectionBlock(mrkdwn(s), nil, nil) }

func fieldsSection(fields ...string) *slackapi.SectionBlock {
	var objs []*slackapi.TextBlockObject
	for _, f := range fields {
		if f == "" {
			continue
		}
		objs = append(objs, slackapi.NewTextBlockObject(slackapi.MarkdownType, truncate(f, maxFieldText), false, false))
		if len(objs) == 10 {
			break
		}
	}
	return slackapi.NewSectionBlock(nil, objs, nil)
}

// header is a header block of raw text (it escapes s itself).
func header(s string) *slackapi.HeaderBlock {
	return slackapi.NewHeaderBlock(slackapi.NewTextBlockObject(slackapi.PlainTextType, escapeTrunc(s, maxHeaderText), true, false))
}

// verbatim is a section of raw text shown exactly as written: plain_text,
// so no *bold*, _italics_, links or mentions (escaped all the same, as
// Slack decodes entities there too).
func verbatim(s string) *slackapi.SectionBlock {
	return slackapi.NewSectionBlock(slackapi.NewTextBlockObject(slackapi.PlainTextType, escapeTrunc(s, maxSectionText), false, false), nil, nil)
}

func contextBlock(s string) *slackapi.ContextBlock {
	return slackapi.NewContextBlock("", mrkdwn(s))
}

func when(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.Format("2006-01-02 15:04")
}

func day(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.Format("2006-01-02")
}

// view renders answers for one reader: their language, the core's clock
// and the shop's segment labels.
type view struct {
	t    *i18n.Printer
	now  time.Time
	segs *crm.Segments
}

// seg is a segment as the shop named it in the reader's language
// (segments.yaml label), its id when it has no label there.
func (v view) seg(name string) string {
	if name == "" {
		return v.t.T("none")
	}
	if v.segs != nil {
		for _, r := range v.segs.Rules {
			if r.Name == name {
				if l := r.Label[string(v.t.Lang())]; l != "" {
					return l
				}
				break
			}
		}
	}
	return name
}

// orNone is s, or "none" in the reader's language.
func (v view) orNone(s string) string {
	if s == "" {
		return v.t.T("none")
	}
	return s
}

// num is a customer id as people read it ("#155"), never digit-grouped.
func num(id crm.ID) string { return "#" + strconv.FormatUint(uint64(id), 10) }

// who names a customer with their id, raw (escape it where Slack reads
// mrkdwn): "Lan (#155)", or "Khách #155" for one without a name.
func (v view) who(cu *crm.Customer) string {
	if cu.Name == "" {
		return v.t.T("customer.unnamed", num(cu.ID))
	}
	return v.t.T("customer.named", cu.Name, num(cu.ID))
}

// name is a customer's name, or "Khách #155" for one without a name.
func (v view) name(cu *crm.Customer) string {
	if cu.Name == "" {
		return v.t.T("customer.unnamed", num(cu.ID))
	}
	return cu.Name
}

// ago formats how long before now t was.
func (v view) ago(t time.Time) string {
	if t.IsZero() {
		return v.t.T("never")
	}
	d := v.now.Sub(t)
	switch {
	case d < time.Minute:
		return v.t.T("ago.now")
	case d < time.Hour:
		return v.t.T("ago.min", int(d.Minutes()))
	case d < 48*time.Hour:
		return v.t.T("ago.hour", int(d.Hours()))
	}
	return v.t.T("ago.day", int(d.Hours()/24))
}

func (v view) identities(cu *crm.Customer) string {
	var out []string
	for _, id := range cu.Identities {
		s := string(id.Channel)
		if id.Username != "" {
			s += " @" + id.Username
		}
		s += " (" + id.UserID + ")"
		if id.Unreachable {
			s += v.t.T("unreachable")
		}
		out = append(out, escape(s))
	}
	return v.orNone(strings.Join(out, "\n"))
}

func (v view) handoffStatus(h crm.Handoff) string {
	switch {
	case !h.Active:
		return v.t.T("handoff.bot")
	case h.Agent == "":
		return v.t.T("handoff.waiting", v.ago(h.RequestedAt))
	}
	return v.t.T("handoff.with", agentName(h.Agent), v.ago(h.TakenAt))
}

func (v view) consentStatus(c crm.Consent) string {
	if c.OptedOut {
		return v.t.T("consent.out", day(c.Since))
	}
	return v.t.T("consent.ok")
}

// interactionLine renders one logged exchange.
func (v view) interactionLine(it *crm.Interaction) string {
	arrow := "←"
	who := ""
	if it.Direction == crm.Outbound {
		arrow = "→"
		if it.Author != "" {
			who = " " + agentName(it.Author)
		} else {
			who = " " + v.t.T("it.bot")
		}
	}
	text := it.Text
	if text == "" {
		text = "[" + it.Kind + "]"
		if it.Kind == crm.KindButton && it.Payload != "" {
			text = v.t.T("it.pressed", v.buttonName(it.Payload))
		}
	}
	if it.OfferID != "" && it.Kind == crm.KindOffer {
		text = v.t.T("it.offer", it.OfferID) + " " + text
	}
	return fmt.Sprintf("`%s` %s%s _(%s)_ %s", it.Time.Format("01-02 15:04"), arrow, who, it.Channel, escape(oneLine(text, maxLineText)))
}

// buttonName reads an offer button payload ("offer:welcome-new:accept") as
// what the customer did; other payloads are shown as they are.
func (v view) buttonName(payload string) string {
	parts := strings.Split(payload, ":")
	if len(parts) == 3 && parts[0] == "offer" {
		return v.t.T("it.button", parts[2], parts[1])
	}
	return payload
}

// renderCard is the /crm customer answer. banner, when set, comes first
// (what a command just did).
func (v view) renderCard(card *bot.CustomerCard, banner string) *Reply {
	t := v.t
	cu := card.Customer
	var blocks []slackapi.Block
	if banner != "" {
		blocks = append(blocks, section(banner))
	}
	seg := t.T("card.segment") + "\n" + escape(v.seg(cu.Segment.Name))
	if cu.Segment.Name != "" {
		seg += t.T("card.since", day(cu.Segment.Since))
		if cu.Segment.Rule != "" {
			seg += "\n" + t.T("card.rule") + ": `" + escape(oneLine(cu.Segment.Rule, 300)) + "`"
		}
	}
	kind := ""
	if cu.IsBusiness {
		kind = t.T("card.business")
		if cu.Company != "" {
			kind += " " + escape(cu.Company)
		}
	}
	blocks = append(blocks,
		header(v.who(cu)),
		fieldsSection(
			t.T("card.customer", num(cu.ID), kind, day(cu.CreatedAt)),
			seg,
			t.T("card.phone")+"\n"+v.contactLine(cu.Phone, cu.Claims.Phone),
			t.T("card.email")+"\n"+v.contactLine(cu.Email, cu.Claims.Email),
			t.T("card.channels")+"\n"+v.identities(cu),
			t.T("card.source")+"\n"+escape(v.orNone(cu.Source)),
			t.T("card.consent")+"\n"+v.consentStatus(cu.Consent),
			t.T("card.handoff")+"\n"+v.handoffStatus(cu.Handoff),
		))
	o := card.Orders
	value := t.T("card.value", o.Count, crm.VND(o.Total), crm.VND(o.Average))
	if o.Last != nil {
		value += "\n" + t.T("card.lastOrder", crm.VND(o.Last.Amount), day(o.Last.Time), v.ago(o.Last.Time))
		if o.Last.Note != "" {
			value += " — " + escape(oneLine(o.Last.Note, 100))
		}
	} else if !cu.Stats.LastOrder.IsZero() {
		value += "\n" + t.T("card.lastOrderDay", day(cu.Stats.LastOrder), v.ago(cu.Stats.LastOrder))
	}
	if o.Count > 0 {
		value += "\n" + t.T("card.ltv", crm.VND(o.LifetimeValue), int(math.Round(o.Value.Alive*100)),
			strconv.FormatFloat(math.Round(o.Value.ExpectedOrders*10)/10, 'f', -1, 64))
	}
	blocks = append(blocks, section(value))

	offers := t.T("card.offers", card.OffersShown, card.OffersAccepted)
	for i, l := range card.Offers {
		if i == 5 {
			offers += "\n" + t.T("card.offersMore", len(card.Offers)-5)
			break
		}
		offers += "\n" + t.T("card.offerLine", escape(l.Name), l.Shown, l.Accepted, l.Declined)
	}
	blocks = append(blocks, section(offers))

	notes := t.T("card.tags", escape(v.orNone(strings.Join(cu.Tags, ", "))))
	if len(cu.Notes) > 0 {
		notes += "\n" + t.T("card.notes", len(cu.Notes))
		from := max(0, len(cu.Notes)-5)
		for _, n := range cu.Notes[from:] {
			notes += fmt.Sprintf("\n• %s %s: %s", day(n.Time), agentName(n.Author), escape(oneLine(n.Text, 300)))
		}
	} else {
		notes += "\n" + t.T("card.noNotes")
	}
	blocks = append(blocks, section(notes))

	recent := t.T("card.recent", len(card.Recent))
	if len(card.Recent) == 0 {
		recent = t.T("card.noRecent")
	}
	for _, it := range card.Recent {
		recent += "\n" + v.interactionLine(it)
	}
	blocks = append(blocks, section(recent))
	blocks = append(blocks, contextBlock(t.T("card.messages", cu.Stats.MessagesIn, cu.Stats.MessagesOut, v.ago(cu.Stats.LastSeen))))

	text := t.T("card.text", escape(v.who(cu)), escape(v.seg(cu.Segment.Name)), escape(v.orNone(crm.DisplayPhone(cu.Phone))), escape(v.orNone(cu.Email)), o.Count, crm.VND(o.Total),
		crm.VND(o.LifetimeValue), v.handoffStatus(cu.Handoff))
	if banner != "" {
		text = banner + "\n" + text
	}
	return &Reply{Text: text, Blocks: blocks}
}

func (v view) customerLine(cu *crm.Customer) string {
	parts := []string{"*" + escape(v.who(cu)) + "*"}
	if cu.Phone != "" {
		parts = append(parts, escape(crm.DisplayPhone(cu.Phone)))
	}
	if cu.Email != "" {
		parts = append(parts, escape(cu.Email))
	}
	parts = append(parts, escape(v.seg(cu.Segment.Name)))
	parts = append(parts, v.t.T("line.spent", cu.Stats.Orders, crm.VND(cu.Stats.TotalSpent)))
	if !cu.Stats.LastOrder.IsZero() {
		parts = append(parts, v.t.T("line.lastOrder", v.ago(cu.Stats.LastOrder)))
	}
	return strings.Join(parts, " · ")
}

// renderList is a short list of customers (several find matches).
func (v view) renderList(title string, list []*crm.Customer, hint string) *Reply {
	lines := make([]string, 0, len(list))
	for _, cu := range list {
		lines = append(lines, "• "+v.customerLine(cu))
	}
	body := strings.Join(lines, "\n")
	return &Reply{
		Text:   title + "\n" + body + "\n" + hint,
		Blocks: []slackapi.Block{section("*" + title + "*\n" + body), contextBlock(hint)},
	}
}

func (v view) renderSegment(p *bot.SegmentPage) *Reply {
	t := v.t
	title := t.T("segment.title", v.seg(p.Segment), p.Count)
	if len(p.Customers) == 0 {
		msg := t.T("segment.emptyPage")
		if p.Count == 0 {
			msg = t.T("segment.empty")
		}
		return &Reply{Text: escape(title) + "\n" + msg, Blocks: []slackapi.Block{header(title), section(msg)}}
	}
	lines := make([]string, 0, len(p.Customers))
	for i, cu := range p.Customers {
		lines = append(lines, fmt.Sprintf("%d. %s", (p.Page-1)*p.Size+i+1, v.customerLine(cu)))
	}
	foot := t.T("segment.foot", p.Page, p.Pages)
	if p.Page < p.Pages {
		foot += t.T("segment.next", escape(p.Segment), p.Page+1)
	}
	body := strings.Join(lines, "\n")
	return &Reply{Text: escape(title) + "\n" + body + "\n" + foot,
		Blocks: []slackapi.Block{header(title), section(body), contextBlock(foot)}}
}

// segmentCounts lists segments with a count each, by label.
func (v view) segmentCounts(m map[string]int64) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var out []string
	for _, k := range keys {
		out = append(out, fmt.Sprintf("%s %d", escape(v.seg(k)), m[k]))
	}
	return v.orNone(strings.Join(out, " · "))
}

func (v view) renderStats(st *bot.Stats) *Reply {
	t := v.t
	period := t.T("stats.today", st.To)
	if st.Days > 1 {
		period = t.T("stats.days", st.Days, st.From, st.To)
	}
	var segs []string
	for _, s := range st.Segments {
		segs = append(segs, fmt.Sprintf("%s %d", escape(v.seg(s.Name)), s.Count))
	}
	customers := t.T("stats.customers", st.Customers, v.orNone(strings.Join(segs, " · ")), st.NewCustomers)
	channels := map[string]bool{}
	for k := range st.MessagesIn {
		channels[k] = true
	}
	for k := range st.MessagesOut {
		channels[k] = true
	}
	var chs []string
	for k := range channels {
		chs = append(chs, k)
	}
	sort.Strings(chs)
	var msgs []string
	for _, ch := range chs {
		msgs = append(msgs, t.T("stats.channel", escape(ch), st.MessagesIn[ch], st.MessagesOut[ch]))
	}
	messages := t.T("stats.messages", v.orNone(strings.Join(msgs, " · ")))
	sales := t.T("stats.orders", st.Orders, crm.VND(st.Revenue))
	offers := t.T("stats.offers")
	if len(st.Offers) == 0 {
		offers += t.T("stats.noOffers")
	}
	for _, o := range st.Offers {
		offers += "\n" + t.T("stats.offer", escape(o.Name), o.Shown, o.Accepted, fmt.Sprintf("%.0f%%", o.Conversion()*100), o.Declined, o.Ordered)
	}
	moves := t.T("stats.moves", v.segmentCounts(st.SegmentMoves))
	other := t.T("stats.other", st.Handoffs, st.OptOuts) + "\n" + v.answersLine(st.Answers)
	if n := st.Moods["positive"] + st.Moods["neutral"] + st.Moods["negative"]; n > 0 {
		other += "\n" + t.T("stats.mood", n, st.Moods["positive"], st.Moods["neutral"], st.Moods["negative"])
	}
	title := t.T("stats.title", period)
	text := strings.Join([]string{title, customers, messages, sales, offers, moves, other}, "\n")
	return &Reply{Text: text, Blocks: []slackapi.Block{
		header(title), section(customers), section(messages + "\n" + sales), section(offers), section(moves + "\n" + other),
	}}
}

// answersLine says how the bot's answers were made: by the keyword rules or
// drafted by the LLM (counted under "llm" by the core), so a business can see
// how much the model does.
func (v view) answersLine(m map[string]int64) string {
	var total int64
	for _, n := range m {
		total += n
	}
	line := v.t.T("stats.answers", total, m["rules"], m["llm"])
	var other []string
	for k, n := range m {
		if k != "rules" && k != "llm" {
			other = append(other, fmt.Sprintf("%d %s", n, escape(k)))
		}
	}
	sort.Strings(other)
	if len(other) > 0 {
		line += " · " + strings.Join(other, " · ")
	}
	return line
}

// contactLine shows a proven phone or email and, apart, one the customer
// typed: a claim a rep may call back on, but not proof of who they are
// (`/crm verify` confirms it, `/crm merge` joins two customers).
func (v view) contactLine(proven, claimed string) string {
	switch {
	case claimed == "" || claimed == proven:
		return escape(v.orNone(display(proven)))
	case proven == "":
		return escape(display(claimed)) + v.t.T("card.typed")
	}
	return escape(display(proven)) + "\n" + escape(display(claimed)) + v.t.T("card.typed")
}

// display shows a phone as people read it ("0912 345 678"), anything else
// (an email) as it is.
func display(contact string) string {
	if strings.HasPrefix(contact, "+") {
		return crm.DisplayPhone(contact)
	}
	return contact
}

// renderHandoff is the card posted to the handoff channel. releasedBy is
// set once the customer went back to the bot.
func (v view) renderHandoff(cu *crm.Customer, recent []*crm.Interaction, releasedBy string) (string, []slackapi.Block) {
	t := v.t
	title := t.T("handoff.title", v.who(cu))
	info := fieldsSection(
		t.T("card.segment")+"\n"+escape(v.seg(cu.Segment.Name)),
		t.T("card.channels")+"\n"+v.identities(cu),
		t.T("card.phone")+"\n"+v.contactLine(cu.Phone, cu.Claims.Phone),
		t.T("handoff.value", t.T("line.spent", cu.Stats.Orders, crm.VND(cu.Stats.TotalSpent))),
	)
	conv := t.T("handoff.conv")
	if len(recent) == 0 {
		conv += "\n" + t.T("handoff.nothing")
	}
	for _, it := range recent {
		conv += "\n" + v.interactionLine(it)
	}
	blocks := []slackapi.Block{header(title), info, section(conv)}
	var status string
	id := strconv.FormatUint(uint64(cu.ID), 10)
	switch {
	case releasedBy != "" || !cu.Handoff.Active:
		status = t.T("handoff.back")
		if releasedBy != "" {
			status = t.T("handoff.backBy", releasedBy)
		}
		blocks = append(blocks, contextBlock(status+" · "+when(v.now)))
	case cu.Handoff.Agent == "":
		status = t.T("handoff.wait")
		blocks = append(blocks, contextBlock(status),
			slackapi.NewActionBlock("handoff",
				slackapi.NewButtonBlockElement(ActionTake, id, slackapi.NewTextBlockObject(slackapi.PlainTextType, t.T("handoff.take"), false, false)).WithStyle(slackapi.StylePrimary)))
	default:
		status = t.T("handoff.taken", agentName(cu.Handoff.Agent), when(cu.Handoff.TakenAt))
		blocks = append(blocks, contextBlock(status),
			slackapi.NewActionBlock("handoff",
				slackapi.NewButtonBlockElement(ActionRelease, id, slackapi.NewTextBlockObject(slackapi.PlainTextType, t.T("handoff.giveBack"), false, false))))
	}
	text := escape(title) + " — " + status
	return text, blocks
}

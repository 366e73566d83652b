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

// ago formats how long before now t was.
func ago(now, t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	d := now.Sub(t)
	switch {
	case d < time.Minute:
		return "just now"
	case d < time.Hour:
		return fmt.Sprintf("%dm ago", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh ago", int(d.Hours()))
	}
	return fmt.Sprintf("%dd ago", int(d.Hours()/24))
}

func identities(cu *crm.Customer) string {
	var out []string
	for _, id := range cu.Identities {
		s := string(id.Channel)
		if id.Username != "" {
			s += " @" + id.Username
		}
		s += " (" + id.UserID + ")"
		if id.Unreachable {
			s += " — unreachable"
		}
		out = append(out, escape(s))
	}
	return orNone(strings.Join(out, "\n"))
}

func handoffStatus(h crm.Handoff, now time.Time) string {
	switch {
	case !h.Active:
		return "with the bot"
	case h.Agent == "":
		return "⏳ waiting for a rep since " + ago(now, h.RequestedAt)
	}
	return "🙋 with " + agentName(h.Agent) + " since " + ago(now, h.TakenAt)
}

func consentStatus(c crm.Consent) string {
	if c.OptedOut {
		return "🔕 opted out of offers since " + day(c.Since)
	}
	return "accepts offers"
}

// interactionLine renders one logged exchange.
func interactionLine(it *crm.Interaction) string {
	arrow := "←"
	who := ""
	if it.Direction == crm.Outbound {
		arrow = "→"
		if it.Author != "" {
			who = " " + agentName(it.Author)
		} else {
			who = " bot"
		}
	}
	text := it.Text
	if text == "" {
		text = "[" + it.Kind + "]"
		if it.Kind == crm.KindButton && it.Payload != "" {
			text = "[pressed " + buttonName(it.Payload) + "]"
		}
	}
	if it.OfferID != "" && it.Kind == crm.KindOffer {
		text = "[offer " + it.OfferID + "] " + text
	}
	return fmt.Sprintf("`%s` %s%s _(%s)_ %s", it.Time.Format("01-02 15:04"), arrow, who, it.Channel, escape(oneLine(text, maxLineText)))
}

// buttonName reads an offer button payload ("offer:welcome-new:accept") as
// what the customer did; other payloads are shown as they are.
func buttonName(payload string) string {
	parts := strings.Split(payload, ":")
	if len(parts) == 3 && parts[0] == "offer" {
		return fmt.Sprintf("“%s” on offer %s", parts[2], parts[1])
	}
	return payload
}

// renderCard is the /crm customer answer. banner, when set, comes first
// (what a command just did).
func renderCard(card *bot.CustomerCard, now time.Time, banner string) *Reply {
	cu := card.Customer
	var blocks []slackapi.Block
	if banner != "" {
		blocks = append(blocks, section(banner))
	}
	seg := "*Segment*\n" + escape(orNone(cu.Segment.Name))
	if cu.Segment.Name != "" {
		seg += " since " + day(cu.Segment.Since)
		if cu.Segment.Rule != "" {
			seg += "\nrule: `" + escape(oneLine(cu.Segment.Rule, 300)) + "`"
		}
	}
	kind := ""
	if cu.IsBusiness {
		kind = " · business"
		if cu.Company != "" {
			kind += " " + escape(cu.Company)
		}
	}
	blocks = append(blocks,
		header(fmt.Sprintf("%s (#%d)", cu.DisplayName(), cu.ID)),
		fieldsSection(
			fmt.Sprintf("*Customer*\n#%d%s · since %s", cu.ID, kind, day(cu.CreatedAt)),
			seg,
			"*Phone*\n"+contactLine(cu.Phone, cu.Claims.Phone),
			"*Email*\n"+contactLine(cu.Email, cu.Claims.Email),
			"*Channels*\n"+identities(cu),
			"*Source*\n"+escape(orNone(cu.Source)),
			"*Consent*\n"+consentStatus(cu.Consent),
			"*Handoff*\n"+handoffStatus(cu.Handoff, now),
		))
	o := card.Orders
	value := fmt.Sprintf("*Value*\nOrders: %d · total spent: %s · average order: %s", o.Count, crm.VND(o.Total), crm.VND(o.Average))
	if o.Last != nil {
		value += fmt.Sprintf("\nLast order: %s on %s (%s)", crm.VND(o.Last.Amount), day(o.Last.Time), ago(now, o.Last.Time))
		if o.Last.Note != "" {
			value += " — " + escape(oneLine(o.Last.Note, 100))
		}
	} else if !cu.Stats.LastOrder.IsZero() {
		value += fmt.Sprintf("\nLast order: %s (%s)", day(cu.Stats.LastOrder), ago(now, cu.Stats.LastOrder))
	}
	if o.Count > 0 {
		value += fmt.Sprintf("\nValue over the next 12 months ≈ %s _(still buying: %d%% · ≈ %s orders; from how often and how recently they bought)_",
			crm.VND(o.LifetimeValue), int(math.Round(o.Value.Alive*100)), strconv.FormatFloat(math.Round(o.Value.ExpectedOrders*10)/10, 'f', -1, 64))
	}
	blocks = append(blocks, section(value))

	offers := fmt.Sprintf("*Offers*: shown %d times, %d accepted", card.OffersShown, card.OffersAccepted)
	for i, l := range card.Offers {
		if i == 5 {
			offers += fmt.Sprintf("\n… and %d more", len(card.Offers)-5)
			break
		}
		offers += fmt.Sprintf("\n• %s: shown %d, accepted %d, declined %d", escape(l.Name), l.Shown, l.Accepted, l.Declined)
	}
	blocks = append(blocks, section(offers))

	notes := "*Tags*: " + escape(orNone(strings.Join(cu.Tags, ", ")))
	if len(cu.Notes) > 0 {
		notes += "\n*Notes*:"
		from := max(0, len(cu.Notes)-5)
		for _, n := range cu.Notes[from:] {
			notes += fmt.Sprintf("\n• %s %s: %s", day(n.Time), agentName(n.Author), escape(oneLine(n.Text, 300)))
		}
	} else {
		notes += "\n*Notes*: none"
	}
	blocks = append(blocks, section(notes))

	recent := fmt.Sprintf("*Last %d interactions*", len(card.Recent))
	if len(card.Recent) == 0 {
		recent = "*Interactions*: none yet"
	}
	for _, it := range card.Recent {
		recent += "\n" + interactionLine(it)
	}
	blocks = append(blocks, section(recent))
	blocks = append(blocks, contextBlock(fmt.Sprintf("Messages in/out: %d/%d · last seen %s", cu.Stats.MessagesIn, cu.Stats.MessagesOut, ago(now, cu.Stats.LastSeen))))

	text := fmt.Sprintf("%s (#%d) · segment %s · phone %s · email %s · orders %d · total %s · lifetime value ≈ %s · %s",
		escape(cu.DisplayName()), cu.ID, escape(orNone(cu.Segment.Name)), escape(orNone(cu.Phone)), escape(orNone(cu.Email)), o.Count, crm.VND(o.Total),
		crm.VND(o.LifetimeValue), handoffStatus(cu.Handoff, now))
	if banner != "" {
		text = banner + "\n" + text
	}
	return &Reply{Text: text, Blocks: blocks}
}

func customerLine(cu *crm.Customer, now time.Time) string {
	parts := []string{fmt.Sprintf("*#%d %s*", cu.ID, escape(cu.DisplayName()))}
	if cu.Phone != "" {
		parts = append(parts, escape(cu.Phone))
	}
	if cu.Email != "" {
		parts = append(parts, escape(cu.Email))
	}
	parts = append(parts, escape(orNone(cu.Segment.Name)))
	parts = append(parts, fmt.Sprintf("%s in %d orders", crm.VND(cu.Stats.TotalSpent), cu.Stats.Orders))
	if !cu.Stats.LastOrder.IsZero() {
		parts = append(parts, "last order "+ago(now, cu.Stats.LastOrder))
	}
	return strings.Join(parts, " · ")
}

// renderList is a short list of customers (several find matches).
func renderList(title string, list []*crm.Customer, now time.Time, hint string) *Reply {
	lines := make([]string, 0, len(list))
	for _, cu := range list {
		lines = append(lines, "• "+customerLine(cu, now))
	}
	body := strings.Join(lines, "\n")
	return &Reply{
		Text:   title + "\n" + body + "\n" + hint,
		Blocks: []slackapi.Block{section("*" + title + "*\n" + body), contextBlock(hint)},
	}
}

func renderSegment(p *bot.SegmentPage, now time.Time) *Reply {
	title := fmt.Sprintf("Segment %s — %d customers", p.Segment, p.Count)
	if len(p.Customers) == 0 {
		msg := "No customers on this page."
		if p.Count == 0 {
			msg = "Nobody is in this segment right now."
		}
		return &Reply{Text: escape(title) + "\n" + msg, Blocks: []slackapi.Block{header(title), section(msg)}}
	}
	lines := make([]string, 0, len(p.Customers))
	for i, cu := range p.Customers {
		lines = append(lines, fmt.Sprintf("%d. %s", (p.Page-1)*p.Size+i+1, customerLine(cu, now)))
	}
	foot := fmt.Sprintf("Page %d of %d, most valuable first.", p.Page, p.Pages)
	if p.Page < p.Pages {
		foot += fmt.Sprintf(" Next: `/crm segment %s %d`", escape(p.Segment), p.Page+1)
	}
	body := strings.Join(lines, "\n")
	return &Reply{Text: escape(title) + "\n" + body + "\n" + foot,
		Blocks: []slackapi.Block{header(title), section(body), contextBlock(foot)}}
}

func sortedCounts(m map[string]int64) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var out []string
	for _, k := range keys {
		out = append(out, fmt.Sprintf("%s %d", escape(k), m[k]))
	}
	return orNone(strings.Join(out, " · "))
}

func renderStats(st *bot.Stats) *Reply {
	period := "today (" + st.To + ")"
	if st.Days > 1 {
		period = fmt.Sprintf("last %d days (%s – %s)", st.Days, st.From, st.To)
	}
	var segs []string
	for _, s := range st.Segments {
		segs = append(segs, fmt.Sprintf("%s %d", escape(s.Name), s.Count))
	}
	customers := fmt.Sprintf("*Customers*: %d — %s\n*New customers*: %d", st.Customers, orNone(strings.Join(segs, " · ")), st.NewCustomers)
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
		msgs = append(msgs, fmt.Sprintf("%s %d in / %d out", escape(ch), st.MessagesIn[ch], st.MessagesOut[ch]))
	}
	messages := "*Messages*: " + orNone(strings.Join(msgs, " · "))
	sales := fmt.Sprintf("*Orders*: %d · revenue %s", st.Orders, crm.VND(st.Revenue))
	offers := "*Offers*:"
	if len(st.Offers) == 0 {
		offers += " none shown"
	}
	for _, o := range st.Offers {
		offers += fmt.Sprintf("\n• %s: shown %d · accepted %d (%.0f%%) · declined %d · ordered %d",
			escape(o.Name), o.Shown, o.Accepted, o.Conversion()*100, o.Declined, o.Ordered)
	}
	moves := "*Segment moves* (customers who moved into each segment): " + sortedCounts(st.SegmentMoves)
	other := fmt.Sprintf("*Handoffs*: %d · *opt-outs*: %d\n%s", st.Handoffs, st.OptOuts, answersLine(st.Answers))
	if n := st.Moods["positive"] + st.Moods["neutral"] + st.Moods["negative"]; n > 0 {
		other += fmt.Sprintf("\n*Mood* (read by the LLM in %d messages): %d positive · %d neutral · %d negative",
			n, st.Moods["positive"], st.Moods["neutral"], st.Moods["negative"])
	}
	title := "Stats: " + period
	text := strings.Join([]string{title, customers, messages, sales, offers, moves, other}, "\n")
	return &Reply{Text: text, Blocks: []slackapi.Block{
		header(title), section(customers), section(messages + "\n" + sales), section(offers), section(moves + "\n" + other),
	}}
}

// answersLine says how the bot's answers were made: by the keyword rules or
// drafted by the LLM (counted under "llm" by the core), so a business can see
// how much the model does.
func answersLine(m map[string]int64) string {
	var total int64
	for _, v := range m {
		total += v
	}
	line := fmt.Sprintf("*Bot answers*: %d — %d from the rules · %d from the LLM", total, m["rules"], m["llm"])
	var other []string
	for k, v := range m {
		if k != "rules" && k != "llm" {
			other = append(other, fmt.Sprintf("%d %s", v, escape(k)))
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
func contactLine(proven, claimed string) string {
	switch {
	case claimed == "" || claimed == proven:
		return escape(orNone(proven))
	case proven == "":
		return escape(claimed) + " _(typed, unverified)_"
	}
	return escape(proven) + "\n" + escape(claimed) + " _(typed, unverified)_"
}

// renderHandoff is the card posted to the handoff channel. releasedBy is
// set once the customer went back to the bot.
func renderHandoff(cu *crm.Customer, recent []*crm.Interaction, now time.Time, releasedBy string) (string, []slackapi.Block) {
	title := fmt.Sprintf("🙋 %s (#%d) wants to talk to a person", cu.DisplayName(), cu.ID)
	info := fieldsSection(
		"*Segment*\n"+escape(orNone(cu.Segment.Name)),
		"*Channels*\n"+identities(cu),
		"*Phone*\n"+contactLine(cu.Phone, cu.Claims.Phone),
		fmt.Sprintf("*Value*\n%s in %d orders", crm.VND(cu.Stats.TotalSpent), cu.Stats.Orders),
	)
	conv := "*Recent conversation*"
	if len(recent) == 0 {
		conv += "\nnothing yet"
	}
	for _, it := range recent {
		conv += "\n" + interactionLine(it)
	}
	blocks := []slackapi.Block{header(title), info, section(conv)}
	var status string
	id := strconv.FormatUint(uint64(cu.ID), 10)
	switch {
	case releasedBy != "" || !cu.Handoff.Active:
		status = "↩️ Handed back to the bot"
		if releasedBy != "" {
			status += " by " + releasedBy
		}
		blocks = append(blocks, contextBlock(status+" · "+when(now)))
	case cu.Handoff.Agent == "":
		status = "⏳ Waiting for a rep. Take it, then answer in this thread: what you write is sent to the customer."
		blocks = append(blocks, contextBlock(status),
			slackapi.NewActionBlock("handoff",
				slackapi.NewButtonBlockElement(ActionTake, id, slackapi.NewTextBlockObject(slackapi.PlainTextType, "Take it", false, false)).WithStyle(slackapi.StylePrimary)))
	default:
		status = fmt.Sprintf("🙋 Taken by %s · %s. Answer in this thread; the bot stays quiet until it is handed back.", agentName(cu.Handoff.Agent), when(cu.Handoff.TakenAt))
		blocks = append(blocks, contextBlock(status),
			slackapi.NewActionBlock("handoff",
				slackapi.NewButtonBlockElement(ActionRelease, id, slackapi.NewTextBlockObject(slackapi.PlainTextType, "Hand back", false, false))))
	}
	text := escape(title) + " — " + status
	return text, blocks
}

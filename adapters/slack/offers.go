package slack

// The admins' offer commands: /crm offers, /crm offer <id> (a card with the
// numbers and buttons), /crm offer pause|activate <id>, /crm offer preview
// <id> [customer], and /crm offer edit <id>, which opens a modal to edit
// the offer's templates. Every change goes through the core's offer
// service (validated, versioned, recorded as made from Slack by the Slack
// user) and is used by the very next customer message.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"

	slackapi "github.com/slack-go/slack"

	"github.com/idicbot/idicbot/bot"
	"github.com/idicbot/idicbot/crm"
	"github.com/idicbot/idicbot/i18n"
)

// Action ids of the offer card buttons; the value is the offer id.
const (
	ActionOfferPause    = "idicbot_offer_pause"
	ActionOfferActivate = "idicbot_offer_activate"
	ActionOfferPreview  = "idicbot_offer_preview"
	ActionOfferEdit     = "idicbot_offer_edit"

	offerActionPrefix = "idicbot_offer_"
)

// The template editor modal: its callback id, and the block id of each
// language's input ("offer_tpl_vi") with the action id of its text field.
const (
	OfferEditCallback       = "idicbot_offer_edit"
	OfferTemplateBlock      = "offer_tpl_"
	OfferTemplateAction     = "template"
	maxTemplateInput        = 3000 // Slack's plain_text_input limit
	maxModalError           = 500
	offerHistoryOnCard      = 5
	maxOfferListSectionText = 2900
)

// offerEditMeta is the modal's private_metadata: what the edit started
// from and where to confirm it.
type offerEditMeta struct {
	Offer   string `json:"offer"`
	Version int    `json:"version"`
	Channel string `json:"channel,omitempty"`
}

// RegisterOfferCommands adds the admin subcommands "offers" and "offer"
// (SLACK_ADMIN_IDS only) and turns on the offer card buttons and the
// template editor modal. Call it before Open.
func (a *Adapter) RegisterOfferCommands() error {
	if a.offers == nil {
		return errors.New("slack: offer commands need Options.Offers (bot.Core.OfferAdmin)")
	}
	// Usage and help shown by /crm help come from the catalog
	// ("usage.offers", "help.offers"); these are the fallbacks.
	if err := a.Register(Subcommand{Name: "offers", Usage: "offers",
		Help:  "every offer: status, target segments, priority, validity, shown / accepted / conversion",
		Admin: true, Run: a.cmdOffers}); err != nil {
		return err
	}
	if err := a.Register(Subcommand{Name: "offer",
		Usage: "offer <id> | pause <id> | activate <id> | preview <id> [customer] | edit <id>",
		Help:  "an offer's card (numbers, versions, buttons); pause or activate it; preview it per target segment or for a customer; edit its templates in a window: `/crm offer welcome-new`, `/crm offer preview vip-care 42`",
		Admin: true, Run: a.cmdOffer}); err != nil {
		return err
	}
	a.mu.Lock()
	a.offerCmds = true
	a.mu.Unlock()
	return nil
}

func (a *Adapter) offersOn() bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.offerCmds
}

func offerUsage(t *i18n.Printer) error {
	return crm.Errorf(crm.EINVALID, "%s", t.T("offer.usage"))
}

// cmdOffers is /crm offers.
func (a *Adapter) cmdOffers(ctx context.Context, req Request) (*Reply, error) {
	if len(req.Args) > 0 {
		return nil, crm.Errorf(crm.EINVALID, "%s", req.T.T("offers.usage"))
	}
	list, err := a.offers.ListOffers(ctx)
	if err != nil {
		return nil, err
	}
	return a.view(req.T).renderOfferList(list), nil
}

// cmdOffer is /crm offer <id> | pause | activate | preview | edit.
func (a *Adapter) cmdOffer(ctx context.Context, req Request) (*Reply, error) {
	t := req.T
	if len(req.Args) == 0 {
		return nil, offerUsage(t)
	}
	verb := strings.ToLower(req.Args[0])
	arg := func() (string, error) {
		if len(req.Args) < 2 {
			return "", crm.Errorf(crm.EINVALID, "%s", t.T("offer.usageVerb", verb))
		}
		return strings.ToLower(req.Args[1]), nil
	}
	switch verb {
	case "list":
		return a.cmdOffers(ctx, Request{T: t})
	case "pause", "activate":
		id, err := arg()
		if err != nil || len(req.Args) != 2 {
			return nil, crm.Errorf(crm.EINVALID, "%s", t.T("offer.usageVerb", verb))
		}
		status := crm.OfferPaused
		if verb == "activate" {
			status = crm.OfferActive
		}
		r, _, err := a.offerSetStatus(ctx, t, id, status, req.UserID)
		return r, err
	case "preview":
		id, err := arg()
		if err != nil {
			return nil, crm.Errorf(crm.EINVALID, "%s", t.T("offer.usagePreview"))
		}
		return a.offerPreview(ctx, t, id, restAfter(req.Rest, 2))
	case "edit":
		id, err := arg()
		if err != nil || len(req.Args) != 2 {
			return nil, crm.Errorf(crm.EINVALID, "%s", t.T("offer.usageVerb", "edit"))
		}
		v, err := a.openOfferEditor(ctx, t, req.TriggerID, id, req.ChannelID, req.UserID)
		if err != nil {
			return nil, err
		}
		return &Reply{Text: t.T("offer.editing", escape(id), v)}, nil
	}
	if len(req.Args) != 1 {
		return nil, offerUsage(t)
	}
	return a.offerCard(ctx, t, verb, "")
}

// offerSetStatus pauses or activates an offer as the Slack user and
// answers with its card; an offer that fails validation is not activated
// (refused) and the answer lists why.
func (a *Adapter) offerSetStatus(ctx context.Context, t *i18n.Printer, id, status, user string) (r *Reply, refused bool, err error) {
	v := a.view(t)
	cur, err := a.offers.GetOffer(ctx, id)
	if err != nil {
		return nil, false, err
	}
	if cur.Status == status {
		r, err = a.offerCard(ctx, t, id, t.T("offer.already", escape(id), v.statusBadge(status), cur.Version))
		return r, false, err
	}
	saved, err := a.offers.SetOfferStatus(ctx, id, status, agentOf(user), bot.OriginSlack)
	if err != nil {
		var inv *crm.InvalidOfferError
		if errors.As(err, &inv) {
			a.log.Info("slack: offer activation refused", "offer", id, "user", user, "problems", len(inv.Problems))
			return problemsReply(t.T("offer.notActivated", escape(id), v.statusBadge(cur.Status)), inv.Problems), true, nil
		}
		return nil, false, err
	}
	a.log.Info("slack: offer status changed", "offer", id, "status", status, "version", saved.Version, "user", user)
	banner := t.T("offer.paused", user, escape(id), saved.Version)
	if status == crm.OfferActive {
		banner = t.T("offer.activated", user, escape(id), saved.Version)
	}
	r, err = a.offerCard(ctx, t, id, banner)
	return r, false, err
}

func problemsReply(title string, probs []crm.Problem) *Reply {
	lines := make([]string, 0, len(probs))
	for _, p := range probs {
		lines = append(lines, "• "+escape(p.String()))
	}
	body := title + "\n" + strings.Join(lines, "\n")
	return &Reply{Text: body, Blocks: []slackapi.Block{section(body)}}
}

// offerCard is the answer to /crm offer <id>: every field, the templates,
// the numbers, the last versions and the buttons.
func (a *Adapter) offerCard(ctx context.Context, t *i18n.Printer, id, banner string) (*Reply, error) {
	v, err := a.offers.GetOffer(ctx, id)
	if err != nil {
		return nil, err
	}
	hist, err := a.offers.OfferHistory(ctx, id)
	if err != nil {
		return nil, err
	}
	return a.view(t).renderOfferCard(v, hist, banner), nil
}

func (v view) statusBadge(s string) string {
	switch s {
	case crm.OfferActive, crm.OfferPaused, crm.OfferDraft:
		return v.t.T("offer.st." + s)
	}
	return escape(s)
}

// targetSegments are an offer's segments by the shop's labels.
func (v view) targetSegments(o *crm.Offer) string {
	if len(o.Segments) == 0 {
		return v.t.T("offer.everySegment")
	}
	labels := make([]string, len(o.Segments))
	for i, s := range o.Segments {
		labels[i] = v.seg(s)
	}
	return escape(strings.Join(labels, ", "))
}

// validitySummary says in a few words when an offer may be shown.
func (v view) validitySummary(val crm.Validity) string {
	t := v.t
	var parts []string
	if val.From != nil {
		s := t.T("offer.from", day(*val.From))
		if v.now.Before(*val.From) {
			s += t.T("offer.notYet")
		}
		parts = append(parts, s)
	}
	if val.Until != nil {
		s := t.T("offer.until", day(*val.Until))
		if v.now.After(*val.Until) {
			s += t.T("offer.ended")
		}
		parts = append(parts, s)
	}
	if val.LastDaysOfMonth > 0 {
		parts = append(parts, t.T("offer.lastDays", val.LastDaysOfMonth))
	}
	if val.BirthdayMonth {
		parts = append(parts, t.T("offer.birthday"))
	}
	if len(parts) == 0 {
		return t.T("offer.always")
	}
	return strings.Join(parts, ", ")
}

func (v view) offerNumbers(s bot.OfferStats) string {
	return v.t.T("offer.numbers", s.Shown, s.Accepted, fmt.Sprintf("%.0f%%", s.Conversion*100))
}

func (v view) renderOfferList(list []*bot.OfferView) *Reply {
	t := v.t
	title := t.T("offer.listTitle", len(list))
	if len(list) == 0 {
		msg := t.T("offer.none")
		return &Reply{Text: title + "\n" + msg, Blocks: []slackapi.Block{header(title), section(msg)}}
	}
	blocks := []slackapi.Block{header(title)}
	var all []string
	var chunk strings.Builder
	for _, o := range list {
		line := t.T("offer.line", escape(o.ID), escape(oneLine(o.Name, 80)), v.statusBadge(o.Status), v.targetSegments(o.Offer), o.Priority,
			v.validitySummary(o.Validity), v.offerNumbers(o.Stats))
		all = append(all, line)
		if chunk.Len() > 0 && chunk.Len()+len(line)+1 > maxOfferListSectionText {
			blocks = append(blocks, section(chunk.String()))
			chunk.Reset()
		}
		if chunk.Len() > 0 {
			chunk.WriteString("\n")
		}
		chunk.WriteString(line)
	}
	if chunk.Len() > 0 {
		blocks = append(blocks, section(chunk.String()))
	}
	foot := t.T("offer.listFoot")
	if len(blocks) > 48 {
		blocks = append(blocks[:48], contextBlock(t.T("offer.tooMany")))
	}
	blocks = append(blocks, contextBlock(foot))
	return &Reply{Text: title + "\n" + strings.Join(all, "\n") + "\n" + foot, Blocks: blocks}
}

// offerButtons are the card's actions: Pause or Activate, Preview, Edit.
// Pause asks first (Slack's confirmation dialog): customers stop getting
// the offer.
func (v view) offerButtons(o *crm.Offer) *slackapi.ActionBlock {
	t := v.t
	txt := func(s string) *slackapi.TextBlockObject {
		return slackapi.NewTextBlockObject(slackapi.PlainTextType, s, true, false)
	}
	var status *slackapi.ButtonBlockElement
	if o.Status == crm.OfferActive {
		confirm := slackapi.NewConfirmationBlockObject(txt(t.T("offer.confirmTitle")),
			slackapi.NewTextBlockObject(slackapi.MarkdownType, t.T("offer.confirmText", escape(o.ID)), false, false),
			txt(t.T("offer.confirmYes")), txt(t.T("offer.confirmNo"))).WithStyle(slackapi.StyleDanger)
		status = slackapi.NewButtonBlockElement(ActionOfferPause, o.ID, txt(t.T("offer.btnPause"))).WithStyle(slackapi.StyleDanger).WithConfirm(confirm)
	} else {
		status = slackapi.NewButtonBlockElement(ActionOfferActivate, o.ID, txt(t.T("offer.btnActivate"))).WithStyle(slackapi.StylePrimary)
	}
	return slackapi.NewActionBlock("offer_actions", status,
		slackapi.NewButtonBlockElement(ActionOfferPreview, o.ID, txt(t.T("offer.btnPreview"))),
		slackapi.NewButtonBlockElement(ActionOfferEdit, o.ID, txt(t.T("offer.btnEdit"))))
}

// codeBlock shows template text as it is (escaped for mrkdwn).
func (v view) codeBlock(s string) string {
	if s == "" {
		return v.t.T("offer.noneText")
	}
	return "```" + escape(strings.ReplaceAll(s, "```", "'''")) + "```"
}

func (v view) versionLine(o *crm.Offer, change string) string {
	by := agentName(o.UpdatedBy)
	if by == "" {
		by = v.t.T("offer.someone")
	}
	s := fmt.Sprintf("v%d · %s · %s", o.Version, when(o.UpdatedAt), by)
	if o.Origin != "" {
		s += " (" + escape(o.Origin) + ")"
	}
	if change != "" {
		s += " — " + escape(change)
	}
	return s
}

func (v view) renderOfferCard(ov *bot.OfferView, hist []*bot.OfferVersion, banner string) *Reply {
	t := v.t
	o := ov.Offer
	var blocks []slackapi.Block
	if banner != "" {
		blocks = append(blocks, section(banner))
	}
	freq := t.T("offer.everyTime")
	if o.CapDays > 0 {
		freq = t.T("offer.cap", o.CapDays)
	}
	if o.MaxShows > 0 {
		freq += t.T("offer.maxShows", o.MaxShows)
	}
	kinds := slices.Clone(o.ButtonKinds()) // not the offer's own slice
	for i, k := range kinds {
		kinds[i] = t.T("offer.btnKind." + k)
	}
	buttons := strings.Join(kinds, ", ")
	elig := t.T("none")
	if o.Eligibility != "" {
		elig = "`" + escape(oneLine(o.Eligibility, 300)) + "`"
	}
	blocks = append(blocks,
		header(t.T("offer.title", o.Name)),
		fieldsSection(
			t.T("offer.f.id")+"\n`"+escape(o.ID)+"`",
			t.T("offer.f.status")+"\n"+v.statusBadge(o.Status),
			t.T("offer.f.segments")+"\n"+v.targetSegments(o),
			t.T("offer.f.priority")+"\n"+strconv.Itoa(o.Priority),
			t.T("offer.f.validity")+"\n"+v.validitySummary(o.Validity),
			t.T("offer.f.freq")+"\n"+freq,
			t.T("offer.f.code")+"\n"+escape(v.orNone(o.Code)),
			t.T("offer.f.buttons")+"\n"+buttons,
			t.T("offer.f.elig")+"\n"+elig,
			t.T("offer.f.version")+"\n"+v.versionLine(o, ""),
		),
		section(t.T("offer.cardNumbers", ov.Stats.Shown, ov.Stats.Accepted, ov.Stats.Declined, ov.Stats.Ordered, fmt.Sprintf("%.1f%%", ov.Stats.Conversion*100))),
	)
	var textParts []string
	for _, lang := range offerLangs(o) {
		s := t.T("offer.template", lang) + "\n" + v.codeBlock(o.Templates[lang])
		if d := o.Details[lang]; d != "" {
			s += "\n" + t.T("offer.details", lang) + "\n" + v.codeBlock(d)
		}
		blocks = append(blocks, section(s))
		textParts = append(textParts, lang+": "+o.Templates[lang])
	}
	if len(hist) > 0 {
		lines := []string{t.T("offer.versions", len(hist))}
		for i, h := range hist {
			if i == offerHistoryOnCard {
				break
			}
			lines = append(lines, "• "+v.versionLine(h.Offer, h.Change))
		}
		blocks = append(blocks, section(strings.Join(lines, "\n")))
	}
	blocks = append(blocks, v.offerButtons(o))
	text := t.T("offer.text", escape(o.Name), escape(o.ID), v.statusBadge(o.Status), v.targetSegments(o), o.Priority, v.validitySummary(o.Validity),
		v.offerNumbers(ov.Stats), o.Version) + "\n" + escape(strings.Join(textParts, "\n"))
	if banner != "" {
		text = banner + "\n" + text
	}
	return &Reply{Text: text, Blocks: blocks}
}

// offerLangs are the bot's languages, then any other the offer has.
func offerLangs(o *crm.Offer) []string {
	out := append([]string(nil), crm.Languages...)
	for l := range o.Templates {
		if !containsString(out, l) {
			out = append(out, l)
		}
	}
	return out
}

func containsString(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// offerPreview renders an offer in every language for a real customer
// (ref: id, phone, email, @username) or, without one, for a sample
// customer of each target segment.
func (a *Adapter) offerPreview(ctx context.Context, t *i18n.Printer, id, ref string) (*Reply, error) {
	v, err := a.offers.GetOffer(ctx, id)
	if err != nil {
		return nil, err
	}
	var previews []*bot.OfferPreview
	if strings.TrimSpace(ref) != "" {
		cu, err := a.reps.ResolveCustomer(ctx, strings.TrimSpace(ref))
		if err != nil {
			return nil, err
		}
		p, err := a.offers.PreviewOffer(ctx, v.Offer, cu.ID, "")
		if err != nil {
			return nil, err
		}
		previews = append(previews, p)
	} else {
		segs := v.Segments
		if len(segs) == 0 {
			segs = a.reps.Segments().Names()
		}
		for _, s := range segs {
			p, err := a.offers.PreviewOffer(ctx, v.Offer, 0, s)
			if err != nil {
				return nil, err
			}
			previews = append(previews, p)
		}
	}
	return a.view(t).renderOfferPreview(v.Offer, previews), nil
}

func (v view) renderOfferPreview(o *crm.Offer, previews []*bot.OfferPreview) *Reply {
	tr := v.t
	title := tr.T("offer.previewTitle", o.Name, o.ID)
	blocks := []slackapi.Block{header(title)}
	text := []string{escape(title)}
	for i, p := range previews {
		if len(blocks) >= 46 {
			blocks = append(blocks, contextBlock(tr.T("offer.moreSegments", len(previews)-i)))
			break
		}
		who := tr.T("offer.sample", escape(v.seg(p.Customer.Segment)), escape(p.Customer.Name))
		if !p.Customer.Sample {
			who = tr.T("offer.real", num(p.Customer.ID), escape(p.Customer.Name), escape(v.seg(p.Customer.Segment)))
		}
		shown := tr.T("offer.shownYes")
		if !p.Eligible {
			shown = tr.T("offer.shownNo")
		}
		lines := []string{who + " — " + shown}
		for _, t := range p.Texts {
			line := fmt.Sprintf("*%s*: ", t.Lang)
			switch {
			case t.Error != nil:
				line += "⚠️ " + escape(v.problemText(*t.Error))
			default:
				line += escape(t.Text)
			}
			if t.Fallback != "" {
				line += tr.T("offer.fallback", t.Lang, t.Fallback)
			}
			if len(t.Buttons) > 0 {
				var labels []string
				for _, b := range t.Buttons {
					labels = append(labels, "`"+escape(b.Label)+"`")
				}
				line += tr.T("offer.buttons", strings.Join(labels, " "))
			}
			if t.Details != "" {
				line += tr.T("offer.tellMore", escape(oneLine(t.Details, 400)))
			}
			lines = append(lines, line)
			text = append(text, escape(fmt.Sprintf("%s %s: %s", p.Customer.Segment, t.Lang, t.Text)))
		}
		blocks = append(blocks, section(strings.Join(lines, "\n")))
	}
	if len(previews) > 0 && len(previews[0].Problems) > 0 {
		var lines []string
		for _, p := range previews[0].Problems {
			lines = append(lines, "• "+escape(p.String()))
		}
		blocks = append(blocks, section(tr.T("offer.cannotSave")+"\n"+strings.Join(lines, "\n")))
	}
	blocks = append(blocks, v.offerButtons(o))
	return &Reply{Text: strings.Join(text, "\n"), Blocks: blocks}
}

// problemText is a problem as shown next to a template field:
// "line 2: reason".
func (v view) problemText(p crm.Problem) string {
	msg := v.plain(p.Message)
	s := msg
	if p.Line > 0 {
		s = v.t.T("offer.lineN", p.Line, msg)
	}
	if p.Segment != "" {
		s += v.t.T("offer.forSample", v.seg(p.Segment))
	}
	return s
}

var (
	noFieldRE     = regexp.MustCompile(`there is no field \.(\w+) \(fields: ([^)]*)\)`)
	unknownNameRE = regexp.MustCompile(`unknown name (\w+)`)
)

// plain says a template's or an expression's problem in words an owner
// reads, the valid names listed; other problems stay as the checker said.
func (v view) plain(msg string) string {
	switch m := noFieldRE.FindStringSubmatch(msg); {
	case m != nil:
		return v.t.T("plain.noField", m[1], m[2])
	case strings.Contains(msg, "unexpected EOF") || strings.Contains(msg, "unexpected token EOF"):
		return v.t.T("plain.eof")
	case strings.HasPrefix(msg, "unclosed action"):
		return v.t.T("plain.unclosed")
	}
	if m := unknownNameRE.FindStringSubmatch(msg); m != nil {
		return v.t.T("plain.unknownName", m[1], strings.Join(crm.FactNames(), ", "))
	}
	return msg
}

// templateFieldList names what templates may use, for the editor's help.
var templateFieldList = func() string {
	t := reflect.TypeFor[crm.TemplateData]()
	var out []string
	for i := range t.NumField() {
		if t.Field(i).Name == "Now" || t.Field(i).Name == "Lang" {
			continue
		}
		out = append(out, "{{."+t.Field(i).Name+"}}")
	}
	return strings.Join(out, " ")
}()

// offerEditorView is the modal editing an offer's templates.
func (v view) offerEditorView(o *crm.Offer, channel string) slackapi.ModalViewRequest {
	t := v.t
	md, _ := json.Marshal(offerEditMeta{Offer: o.ID, Version: o.Version, Channel: channel})
	pt := func(s string) *slackapi.TextBlockObject {
		return slackapi.NewTextBlockObject(slackapi.PlainTextType, s, true, false)
	}
	blocks := []slackapi.Block{
		section(t.T("offer.editHead", escape(o.Name), escape(o.ID), v.statusBadge(o.Status), o.Version, v.targetSegments(o))),
		contextBlock(t.T("offer.editHelp", templateFieldList)),
	}
	for _, lang := range offerLangs(o) {
		el := slackapi.NewPlainTextInputBlockElement(pt(t.T("offer.editPlaceholder")), OfferTemplateAction)
		el.Multiline = true
		el.MaxLength = maxTemplateInput
		el.InitialValue = o.Templates[lang]
		label := t.T("offer.editLabel", lang)
		if catalog.Has("offer.lang." + lang) {
			label = t.T("offer.editLabelLang", lang, t.T("offer.lang."+lang))
		}
		in := slackapi.NewInputBlock(OfferTemplateBlock+lang, pt(label), pt(t.T("offer.editHint")), el)
		in.Optional = true
		blocks = append(blocks, in)
	}
	return slackapi.ModalViewRequest{
		Type:            slackapi.VTModal,
		Title:           pt(t.T("offer.editTitle")),
		Submit:          pt(t.T("offer.save")),
		Close:           pt(t.T("offer.cancel")),
		CallbackID:      OfferEditCallback,
		PrivateMetadata: string(md),
		Blocks:          slackapi.Blocks{BlockSet: blocks},
	}
}

// openOfferEditor opens the template editor for the user (views.open with
// the command's or the click's trigger) and returns the version it
// started from.
func (a *Adapter) openOfferEditor(ctx context.Context, t *i18n.Printer, triggerID, id, channel, user string) (int, error) {
	if triggerID == "" {
		return 0, crm.Errorf(crm.EINVALID, "%s", t.T("offer.noTrigger", id))
	}
	v, err := a.offers.GetOffer(ctx, id)
	if err != nil {
		return 0, err
	}
	tctx, cancel := context.WithTimeout(ctx, DefaultRequestTimeout)
	defer cancel()
	if _, err := a.api.OpenViewContext(tctx, triggerID, a.view(t).offerEditorView(v.Offer, channel)); err != nil {
		a.log.Warn("slack: views.open for the offer editor failed", "offer", id, "user", user, "err", err)
		return 0, crm.Errorf(crm.EUNAVAILABLE, "%s", t.T("offer.noEditor", err.Error()))
	}
	a.log.Info("slack: offer editor opened", "offer", id, "version", v.Version, "user", user)
	return v.Version, nil
}

// offerSubmit saves the editor's templates (a view_submission). nil closes
// the modal; problems are shown under the field they are about.
func (a *Adapter) offerSubmit(ctx context.Context, cb slackapi.InteractionCallback) *slackapi.ViewSubmissionResponse {
	first := OfferTemplateBlock + crm.Languages[0]
	fail := func(msg string) *slackapi.ViewSubmissionResponse {
		return slackapi.NewErrorsViewSubmissionResponse(map[string]string{first: truncate(msg, maxModalError)})
	}
	user := cb.User.ID
	ctx, cancel := context.WithTimeout(ctx, DefaultRequestTimeout)
	defer cancel()
	t := a.printerFor(ctx, cb.Team.ID, user)
	if a.roleOf(ctx, user) < roleAdmin {
		a.log.Warn("slack: refused an offer edit", "user", user, "team", cb.Team.ID, "needs", "admin")
		return fail(t.T("offer.editAdmins"))
	}
	var md offerEditMeta
	if err := json.Unmarshal([]byte(cb.View.PrivateMetadata), &md); err != nil || md.Offer == "" || md.Version <= 0 {
		return fail(t.T("offer.editLost"))
	}
	cur, err := a.offers.GetOffer(ctx, md.Offer)
	if err != nil {
		return fail(a.modalErrorText(t, err))
	}
	// The other fields come from what is stored; if it changed since the
	// editor opened, the version check below refuses the save.
	next := *cur.Offer
	next.Templates = map[string]string{}
	for k, v := range cur.Templates {
		next.Templates[k] = v
	}
	var values map[string]map[string]slackapi.BlockAction
	if cb.View.State != nil {
		values = cb.View.State.Values
	}
	for _, lang := range offerLangs(cur.Offer) {
		act, ok := values[OfferTemplateBlock+lang][OfferTemplateAction]
		if !ok {
			continue
		}
		text := strings.ReplaceAll(act.Value, "\r\n", "\n")
		if strings.TrimSpace(text) == "" {
			delete(next.Templates, lang)
		} else {
			next.Templates[lang] = text
		}
	}
	saved, err := a.offers.SaveOffer(ctx, &next, md.Version, agentOf(user), bot.OriginSlack)
	if err != nil {
		var inv *crm.InvalidOfferError
		if errors.As(err, &inv) {
			return slackapi.NewErrorsViewSubmissionResponse(a.view(t).problemErrors(inv.Problems, cur.Offer))
		}
		if crm.ErrorCode(err) == crm.ECONFLICT {
			a.log.Info("slack: offer edit refused: changed meanwhile", "offer", md.Offer, "from_version", md.Version, "user", user)
			return fail(t.T("offer.editConflict", crm.ErrorMessage(err)))
		}
		return fail(a.modalErrorText(t, err))
	}
	var text string
	if saved.Version == md.Version {
		text = t.T("offer.unchanged", escape(saved.ID), saved.Version)
	} else {
		a.log.Info("slack: offer template saved", "offer", saved.ID, "version", saved.Version, "user", user)
		text = t.T("offer.saved", escape(saved.ID), saved.Version, user)
	}
	channel := md.Channel
	a.enqueue(0, func(ctx context.Context) { a.tell(ctx, channel, user, text) })
	return nil
}

// problemErrors maps validation problems to the editor's input blocks: a
// template's problem goes under that language's field as "line N: reason";
// anything else goes under the first field, named.
func (v view) problemErrors(probs []crm.Problem, o *crm.Offer) map[string]string {
	first := OfferTemplateBlock + crm.Languages[0]
	out := map[string]string{}
	langs := offerLangs(o)
	for _, p := range probs {
		block, msg := first, p.Field+": "+v.problemText(p)
		if lang, ok := strings.CutPrefix(p.Field, "templates."); ok && containsString(langs, lang) {
			block, msg = OfferTemplateBlock+lang, v.problemText(p)
		} else if p.Field == "templates" {
			msg = v.problemText(p)
		}
		if prev, ok := out[block]; ok {
			msg = prev + " · " + msg
		}
		out[block] = truncate(msg, maxModalError)
	}
	return out
}

func (a *Adapter) modalErrorText(t *i18n.Printer, err error) string {
	if crm.ErrorCode(err) == crm.EINTERNAL {
		a.log.Error("slack: offer edit failed", "err", crm.MaskText(err.Error()))
		return t.T("offer.failed")
	}
	return errText(t, err)
}

// tell sends the user a message only they see in channel, or a direct
// message when there is no channel or the bot cannot post there.
func (a *Adapter) tell(ctx context.Context, channel, user, text string) {
	if channel != "" {
		_, err := a.api.PostEphemeralContext(ctx, channel, user, slackapi.MsgOptionText(text, false))
		if err == nil {
			return
		}
		a.log.Warn("slack: post ephemeral failed; sending a direct message instead", "channel", channel, "err", err)
	}
	if _, _, err := a.api.PostMessageContext(ctx, user, slackapi.MsgOptionText(text, false)); err != nil {
		a.log.Warn("slack: direct message failed", "user", user, "err", err)
	}
}

// offerAction handles a click on an offer card button. Only admins may; the
// work runs off the request (Slack waits 3 seconds for the HTTP answer) in
// a command slot, and the answer goes to the click's response_url.
func (a *Adapter) offerAction(cb slackapi.InteractionCallback, channel string, act slackapi.BlockAction) {
	user := cb.User.ID
	id := strings.ToLower(strings.TrimSpace(act.Value))
	select {
	case a.slots <- struct{}{}:
	default:
		a.enqueue(0, func(ctx context.Context) {
			a.answerAction(ctx, cb, channel, ephemeral(a.printerFor(ctx, cb.Team.ID, user).T("cmd.busy")), false)
		})
		return
	}
	a.commands.Add(1)
	go func() {
		defer a.commands.Done()
		defer func() { <-a.slots }()
		ctx, cancel := context.WithTimeout(a.ctx, a.opts.CommandTimeout)
		defer cancel()
		defer func() {
			if r := recover(); r != nil {
				a.log.Error("slack: offer action panicked", "action", act.ActionID, "panic", r)
			}
		}()
		t := a.printerFor(ctx, cb.Team.ID, user)
		if a.roleOf(ctx, user) < roleAdmin {
			a.log.Warn("slack: refused an offer action", "action", act.ActionID, "offer", id, "user", user, "team", cb.Team.ID, "needs", "admin")
			a.answerAction(ctx, cb, channel, ephemeral(refusal(t, "offer", roleAdmin)), false)
			return
		}
		var (
			r       *Reply
			err     error
			replace bool
		)
		switch act.ActionID {
		case ActionOfferPause, ActionOfferActivate:
			status := crm.OfferPaused
			if act.ActionID == ActionOfferActivate {
				status = crm.OfferActive
			}
			var refused bool
			r, refused, err = a.offerSetStatus(ctx, t, id, status, user)
			// The card is redrawn in place; a refused activation is a new
			// message, so the card stays.
			replace = err == nil && !refused
		case ActionOfferPreview:
			r, err = a.offerPreview(ctx, t, id, "")
		case ActionOfferEdit:
			_, err = a.openOfferEditor(ctx, t, cb.TriggerID, id, channel, user)
			if err == nil {
				return
			}
		default:
			return
		}
		var msg *slackapi.Msg
		if err != nil {
			msg = a.errorMsg(t, "offer", err)
		} else {
			msg = a.toMsg(r, false)
		}
		actx, acancel := context.WithTimeout(context.WithoutCancel(ctx), DefaultRequestTimeout)
		defer acancel()
		a.answerAction(actx, cb, channel, msg, replace)
	}()
}

// answerAction answers a button click: through its response_url
// (replacing the clicked message when replace is set), else as a message
// only the user sees.
func (a *Adapter) answerAction(ctx context.Context, cb slackapi.InteractionCallback, channel string, msg *slackapi.Msg, replace bool) {
	if cb.ResponseURL != "" {
		wm := &slackapi.WebhookMessage{Text: msg.Text, ResponseType: slackapi.ResponseTypeEphemeral, ReplaceOriginal: replace}
		if len(msg.Blocks.BlockSet) > 0 {
			wm.Blocks = &msg.Blocks
		}
		err := slackapi.PostWebhookCustomHTTPContext(ctx, cb.ResponseURL, a.http, wm)
		if err == nil {
			return
		}
		a.log.Warn("slack: posting an offer action answer to response_url failed", "err", err)
	}
	opts := []slackapi.MsgOption{slackapi.MsgOptionText(msg.Text, false)}
	if len(msg.Blocks.BlockSet) > 0 {
		opts = append(opts, slackapi.MsgOptionBlocks(msg.Blocks.BlockSet...))
	}
	if channel != "" {
		if _, err := a.api.PostEphemeralContext(ctx, channel, cb.User.ID, opts...); err == nil {
			return
		}
	}
	if _, _, err := a.api.PostMessageContext(ctx, cb.User.ID, opts...); err != nil {
		a.log.Warn("slack: answering an offer action failed", "user", cb.User.ID, "err", err)
	}
}

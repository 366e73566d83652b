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
	"strings"
	"time"

	slackapi "github.com/slack-go/slack"

	"github.com/idicbot/idicbot/bot"
	"github.com/idicbot/idicbot/crm"
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

func offerUsage() error {
	return crm.Errorf(crm.EINVALID, "Usage: /crm offer <id> | pause <id> | activate <id> | preview <id> [customer] | edit <id> (list them with /crm offers)")
}

// cmdOffers is /crm offers.
func (a *Adapter) cmdOffers(ctx context.Context, req Request) (*Reply, error) {
	if len(req.Args) > 0 {
		return nil, crm.Errorf(crm.EINVALID, "Usage: /crm offers (one offer: /crm offer <id>)")
	}
	list, err := a.offers.ListOffers(ctx)
	if err != nil {
		return nil, err
	}
	return renderOfferList(list, a.core.Now()), nil
}

// cmdOffer is /crm offer <id> | pause | activate | preview | edit.
func (a *Adapter) cmdOffer(ctx context.Context, req Request) (*Reply, error) {
	if len(req.Args) == 0 {
		return nil, offerUsage()
	}
	verb := strings.ToLower(req.Args[0])
	arg := func() (string, error) {
		if len(req.Args) < 2 {
			return "", crm.Errorf(crm.EINVALID, "Usage: /crm offer %s <id>", verb)
		}
		return strings.ToLower(req.Args[1]), nil
	}
	switch verb {
	case "list":
		return a.cmdOffers(ctx, Request{})
	case "pause", "activate":
		id, err := arg()
		if err != nil || len(req.Args) != 2 {
			return nil, crm.Errorf(crm.EINVALID, "Usage: /crm offer %s <id>", verb)
		}
		status := crm.OfferPaused
		if verb == "activate" {
			status = crm.OfferActive
		}
		r, _, err := a.offerSetStatus(ctx, id, status, req.UserID)
		return r, err
	case "preview":
		id, err := arg()
		if err != nil {
			return nil, crm.Errorf(crm.EINVALID, "Usage: /crm offer preview <id> [customer id | phone | email | @username]")
		}
		return a.offerPreview(ctx, id, restAfter(req.Rest, 2))
	case "edit":
		id, err := arg()
		if err != nil || len(req.Args) != 2 {
			return nil, crm.Errorf(crm.EINVALID, "Usage: /crm offer edit <id>")
		}
		v, err := a.openOfferEditor(ctx, req.TriggerID, id, req.ChannelID, req.UserID)
		if err != nil {
			return nil, err
		}
		text := fmt.Sprintf("✏️ Editing the templates of `%s` (version %d) in a window.", escape(id), v)
		return &Reply{Text: text}, nil
	}
	if len(req.Args) != 1 {
		return nil, offerUsage()
	}
	return a.offerCard(ctx, verb, "")
}

// offerSetStatus pauses or activates an offer as the Slack user and
// answers with its card; an offer that fails validation is not activated
// (refused) and the answer lists why.
func (a *Adapter) offerSetStatus(ctx context.Context, id, status, user string) (r *Reply, refused bool, err error) {
	cur, err := a.offers.GetOffer(ctx, id)
	if err != nil {
		return nil, false, err
	}
	if cur.Status == status {
		r, err = a.offerCard(ctx, id, fmt.Sprintf("Offer `%s` is already *%s* (version %d).", escape(id), status, cur.Version))
		return r, false, err
	}
	saved, err := a.offers.SetOfferStatus(ctx, id, status, agentOf(user), bot.OriginSlack)
	if err != nil {
		var inv *crm.InvalidOfferError
		if errors.As(err, &inv) {
			a.log.Info("slack: offer activation refused", "offer", id, "user", user, "problems", len(inv.Problems))
			return problemsReply(fmt.Sprintf("⚠️ Offer `%s` was *not* activated; it stays %s. Fix this first (`/crm offer edit %s`, or the admin page), then activate it again:",
				escape(id), cur.Status, escape(id)), inv.Problems), true, nil
		}
		return nil, false, err
	}
	a.log.Info("slack: offer status changed", "offer", id, "status", status, "version", saved.Version, "user", user)
	banner := fmt.Sprintf("⏸️ <@%s> paused offer `%s` (now version %d): customers no longer see it.", user, escape(id), saved.Version)
	if status == crm.OfferActive {
		banner = fmt.Sprintf("▶️ <@%s> activated offer `%s` (now version %d): eligible customers see it from their next message.", user, escape(id), saved.Version)
	}
	r, err = a.offerCard(ctx, id, banner)
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
func (a *Adapter) offerCard(ctx context.Context, id, banner string) (*Reply, error) {
	v, err := a.offers.GetOffer(ctx, id)
	if err != nil {
		return nil, err
	}
	hist, err := a.offers.OfferHistory(ctx, id)
	if err != nil {
		return nil, err
	}
	return renderOfferCard(v, hist, a.core.Now(), banner), nil
}

func statusBadge(s string) string {
	switch s {
	case crm.OfferActive:
		return "🟢 active"
	case crm.OfferPaused:
		return "⏸️ paused"
	case crm.OfferDraft:
		return "📝 draft"
	}
	return escape(s)
}

func targetSegments(o *crm.Offer) string {
	if len(o.Segments) == 0 {
		return "every segment"
	}
	return escape(strings.Join(o.Segments, ", "))
}

// validitySummary says in a few words when an offer may be shown.
func validitySummary(v crm.Validity, now time.Time) string {
	var parts []string
	if v.From != nil {
		s := "from " + day(*v.From)
		if now.Before(*v.From) {
			s += " (not yet)"
		}
		parts = append(parts, s)
	}
	if v.Until != nil {
		s := "until " + day(*v.Until)
		if now.After(*v.Until) {
			s += " (ended)"
		}
		parts = append(parts, s)
	}
	if v.LastDaysOfMonth > 0 {
		parts = append(parts, fmt.Sprintf("last %d days of each month", v.LastDaysOfMonth))
	}
	if v.BirthdayMonth {
		parts = append(parts, "birthday month")
	}
	if len(parts) == 0 {
		return "always"
	}
	return strings.Join(parts, ", ")
}

func offerNumbers(s bot.OfferStats) string {
	return fmt.Sprintf("shown %d · accepted %d (%.0f%%)", s.Shown, s.Accepted, s.Conversion*100)
}

func renderOfferList(list []*bot.OfferView, now time.Time) *Reply {
	title := fmt.Sprintf("Offers (%d)", len(list))
	if len(list) == 0 {
		msg := "No offers yet. Import some with `idicbot offers import offers.yaml` or create one on the admin page."
		return &Reply{Text: title + "\n" + msg, Blocks: []slackapi.Block{header(title), section(msg)}}
	}
	blocks := []slackapi.Block{header(title)}
	var all []string
	var chunk strings.Builder
	for _, v := range list {
		line := fmt.Sprintf("• `%s` *%s* · %s · segments %s · priority %d · %s · %s",
			escape(v.ID), escape(oneLine(v.Name, 80)), statusBadge(v.Status), targetSegments(v.Offer), v.Priority,
			validitySummary(v.Validity, now), offerNumbers(v.Stats))
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
	foot := "Open one with `/crm offer <id>`; `/crm offer preview <id>` shows what customers get."
	if len(blocks) > 48 {
		blocks = append(blocks[:48], contextBlock("… more offers than Slack can show; see the admin page."))
	}
	blocks = append(blocks, contextBlock(foot))
	return &Reply{Text: title + "\n" + strings.Join(all, "\n") + "\n" + foot, Blocks: blocks}
}

// offerButtons are the card's actions: Pause or Activate, Preview, Edit.
func offerButtons(o *crm.Offer) *slackapi.ActionBlock {
	txt := func(s string) *slackapi.TextBlockObject {
		return slackapi.NewTextBlockObject(slackapi.PlainTextType, s, true, false)
	}
	var status *slackapi.ButtonBlockElement
	if o.Status == crm.OfferActive {
		status = slackapi.NewButtonBlockElement(ActionOfferPause, o.ID, txt("⏸️ Pause")).WithStyle(slackapi.StyleDanger)
	} else {
		status = slackapi.NewButtonBlockElement(ActionOfferActivate, o.ID, txt("▶️ Activate")).WithStyle(slackapi.StylePrimary)
	}
	return slackapi.NewActionBlock("offer_actions", status,
		slackapi.NewButtonBlockElement(ActionOfferPreview, o.ID, txt("👀 Preview")),
		slackapi.NewButtonBlockElement(ActionOfferEdit, o.ID, txt("✏️ Edit template")))
}

// codeBlock shows template text as it is (escaped for mrkdwn).
func codeBlock(s string) string {
	if s == "" {
		return "_none_"
	}
	return "```" + escape(strings.ReplaceAll(s, "```", "'''")) + "```"
}

func versionLine(v *crm.Offer, change string) string {
	by := agentName(v.UpdatedBy)
	if by == "" {
		by = "someone"
	}
	s := fmt.Sprintf("v%d · %s · %s", v.Version, when(v.UpdatedAt), by)
	if v.Origin != "" {
		s += " (" + escape(v.Origin) + ")"
	}
	if change != "" {
		s += " — " + escape(change)
	}
	return s
}

func renderOfferCard(v *bot.OfferView, hist []*bot.OfferVersion, now time.Time, banner string) *Reply {
	o := v.Offer
	var blocks []slackapi.Block
	if banner != "" {
		blocks = append(blocks, section(banner))
	}
	freq := "every time"
	if o.CapDays > 0 {
		freq = fmt.Sprintf("at most once per %d days", o.CapDays)
	}
	if o.MaxShows > 0 {
		freq += fmt.Sprintf(", %d times in all", o.MaxShows)
	}
	buttons := strings.Join(o.ButtonKinds(), ", ")
	elig := "none"
	if o.Eligibility != "" {
		elig = "`" + escape(oneLine(o.Eligibility, 300)) + "`"
	}
	blocks = append(blocks,
		header(fmt.Sprintf("Offer: %s", o.Name)),
		fieldsSection(
			"*Id*\n`"+escape(o.ID)+"`",
			"*Status*\n"+statusBadge(o.Status),
			"*Target segments*\n"+targetSegments(o),
			fmt.Sprintf("*Priority*\n%d", o.Priority),
			"*Validity*\n"+validitySummary(o.Validity, now),
			"*Frequency per customer*\n"+freq,
			"*Code*\n"+escape(orNone(o.Code)),
			"*Buttons*\n"+buttons,
			"*Eligibility*\n"+elig,
			"*Version*\n"+versionLine(o, ""),
		),
		section(fmt.Sprintf("*Numbers*: shown %d · accepted %d · declined %d · ordered %d · conversion %.1f%%",
			v.Stats.Shown, v.Stats.Accepted, v.Stats.Declined, v.Stats.Ordered, v.Stats.Conversion*100)),
	)
	var textParts []string
	for _, lang := range offerLangs(o) {
		s := fmt.Sprintf("*Template (%s)*\n%s", lang, codeBlock(o.Templates[lang]))
		if d := o.Details[lang]; d != "" {
			s += fmt.Sprintf("\n*Details (%s)* — the answer to “tell me more”\n%s", lang, codeBlock(d))
		}
		blocks = append(blocks, section(s))
		textParts = append(textParts, lang+": "+o.Templates[lang])
	}
	if len(hist) > 0 {
		lines := []string{fmt.Sprintf("*Last versions* (%d in all)", len(hist))}
		for i, h := range hist {
			if i == offerHistoryOnCard {
				break
			}
			lines = append(lines, "• "+versionLine(h.Offer, h.Change))
		}
		blocks = append(blocks, section(strings.Join(lines, "\n")))
	}
	blocks = append(blocks, offerButtons(o))
	text := fmt.Sprintf("Offer %s (%s) · %s · segments %s · priority %d · %s · %s · version %d\n%s",
		escape(o.Name), escape(o.ID), o.Status, escape(strings.Join(o.Segments, ", ")), o.Priority, validitySummary(o.Validity, now),
		offerNumbers(v.Stats), o.Version, escape(strings.Join(textParts, "\n")))
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
func (a *Adapter) offerPreview(ctx context.Context, id, ref string) (*Reply, error) {
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
	return renderOfferPreview(v.Offer, previews), nil
}

func renderOfferPreview(o *crm.Offer, previews []*bot.OfferPreview) *Reply {
	title := fmt.Sprintf("Preview: %s (%s)", o.Name, o.ID)
	blocks := []slackapi.Block{header(title)}
	text := []string{escape(title)}
	for i, p := range previews {
		if len(blocks) >= 46 {
			blocks = append(blocks, contextBlock(fmt.Sprintf("… and %d more segments", len(previews)-i)))
			break
		}
		who := fmt.Sprintf("*A sample `%s` customer* (%s)", escape(p.Customer.Segment), escape(p.Customer.Name))
		if !p.Customer.Sample {
			who = fmt.Sprintf("*#%d %s* (segment %s)", p.Customer.ID, escape(p.Customer.Name), escape(orNone(p.Customer.Segment)))
		}
		shown := "would be shown now: *yes*"
		if !p.Eligible {
			shown = "would be shown now: *no* (status, segment, validity or eligibility)"
		}
		lines := []string{who + " — " + shown}
		for _, t := range p.Texts {
			line := fmt.Sprintf("*%s*: ", t.Lang)
			switch {
			case t.Error != nil:
				line += "⚠️ " + escape(problemText(*t.Error))
			default:
				line += escape(t.Text)
			}
			if t.Fallback != "" {
				line += fmt.Sprintf(" _(no %s template: the %s one is used)_", t.Lang, t.Fallback)
			}
			if len(t.Buttons) > 0 {
				var labels []string
				for _, b := range t.Buttons {
					labels = append(labels, "`"+escape(b.Label)+"`")
				}
				line += "\n    buttons: " + strings.Join(labels, " ")
			}
			if t.Details != "" {
				line += "\n    tell me more → " + escape(oneLine(t.Details, 400))
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
		blocks = append(blocks, section("⚠️ *This offer could not be saved as it is:*\n"+strings.Join(lines, "\n")))
	}
	blocks = append(blocks, offerButtons(o))
	return &Reply{Text: strings.Join(text, "\n"), Blocks: blocks}
}

// problemText is a problem as shown next to a template field:
// "line 2: reason".
func problemText(p crm.Problem) string {
	s := p.Message
	if p.Line > 0 {
		s = fmt.Sprintf("line %d: %s", p.Line, p.Message)
	}
	if p.Segment != "" {
		s += fmt.Sprintf(" (for a sample %s customer)", p.Segment)
	}
	return s
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

var langNames = map[string]string{"vi": "Vietnamese", "en": "English"}

// offerEditorView is the modal editing an offer's templates.
func offerEditorView(o *crm.Offer, channel string) slackapi.ModalViewRequest {
	md, _ := json.Marshal(offerEditMeta{Offer: o.ID, Version: o.Version, Channel: channel})
	pt := func(s string) *slackapi.TextBlockObject {
		return slackapi.NewTextBlockObject(slackapi.PlainTextType, s, true, false)
	}
	blocks := []slackapi.Block{
		section(fmt.Sprintf("*%s* `%s` · %s · version %d · segments %s", escape(o.Name), escape(o.ID), statusBadge(o.Status), o.Version, targetSegments(o))),
		contextBlock("Go templates. Fields: " + templateFieldList + "; helpers: {{vnd 1500000}}, {{percent .ProductPrice 95}}, {{upper .Code}}, {{title .Name}}. " +
			"Saving checks that every language renders for a sample customer of every target segment; a problem is shown under its field with the line, and nothing changes."),
	}
	for _, lang := range offerLangs(o) {
		el := slackapi.NewPlainTextInputBlockElement(pt("Text the customer gets"), OfferTemplateAction)
		el.Multiline = true
		el.MaxLength = maxTemplateInput
		el.InitialValue = o.Templates[lang]
		label := "Template (" + lang + ")"
		if n := langNames[lang]; n != "" {
			label = fmt.Sprintf("Template (%s, %s)", lang, n)
		}
		in := slackapi.NewInputBlock(OfferTemplateBlock+lang, pt(label),
			pt("Leave empty for no template in this language: the bot then uses another language's."), el)
		in.Optional = true
		blocks = append(blocks, in)
	}
	return slackapi.ModalViewRequest{
		Type:            slackapi.VTModal,
		Title:           pt("Edit offer template"),
		Submit:          pt("Save"),
		Close:           pt("Cancel"),
		CallbackID:      OfferEditCallback,
		PrivateMetadata: string(md),
		Blocks:          slackapi.Blocks{BlockSet: blocks},
	}
}

// openOfferEditor opens the template editor for the user (views.open with
// the command's or the click's trigger) and returns the version it
// started from.
func (a *Adapter) openOfferEditor(ctx context.Context, triggerID, id, channel, user string) (int, error) {
	if triggerID == "" {
		return 0, crm.Errorf(crm.EINVALID, "Slack sent no trigger to open a window with; use the ✏️ Edit template button on `/crm offer %s`.", id)
	}
	v, err := a.offers.GetOffer(ctx, id)
	if err != nil {
		return 0, err
	}
	tctx, cancel := context.WithTimeout(ctx, DefaultRequestTimeout)
	defer cancel()
	if _, err := a.api.OpenViewContext(tctx, triggerID, offerEditorView(v.Offer, channel)); err != nil {
		a.log.Warn("slack: views.open for the offer editor failed", "offer", id, "user", user, "err", err)
		return 0, crm.Errorf(crm.EUNAVAILABLE, "Slack did not open the editor (%s). Try again; the window must open within 3 seconds of the click.", err.Error())
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
	if a.roleOf(ctx, user) < roleAdmin {
		a.log.Warn("slack: refused an offer edit", "user", user, "team", cb.Team.ID, "needs", "admin")
		return fail("🚫 Editing offers is for idicbot admins only. Ask an admin to add your Slack user id to SLACK_ADMIN_IDS.")
	}
	var md offerEditMeta
	if err := json.Unmarshal([]byte(cb.View.PrivateMetadata), &md); err != nil || md.Offer == "" || md.Version <= 0 {
		return fail("This window does not say which offer it edits. Close it and open the editor again.")
	}
	cur, err := a.offers.GetOffer(ctx, md.Offer)
	if err != nil {
		return fail(a.modalErrorText(err))
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
			return slackapi.NewErrorsViewSubmissionResponse(problemErrors(inv.Problems, cur.Offer))
		}
		if crm.ErrorCode(err) == crm.ECONFLICT {
			a.log.Info("slack: offer edit refused: changed meanwhile", "offer", md.Offer, "from_version", md.Version, "user", user)
			return fail("Not saved: someone saved this offer while you were editing. " + crm.ErrorMessage(err) +
				" Copy your text, close this window and open the editor again (✏️ Edit template).")
		}
		return fail(a.modalErrorText(err))
	}
	var text string
	if saved.Version == md.Version {
		text = fmt.Sprintf("Offer `%s`: nothing changed, it stays at version %d.", escape(saved.ID), saved.Version)
	} else {
		a.log.Info("slack: offer template saved", "offer", saved.ID, "version", saved.Version, "user", user)
		text = fmt.Sprintf("✅ Offer `%s` saved as version %d by <@%s>. The next customer message uses the new template.", escape(saved.ID), saved.Version, user)
	}
	channel := md.Channel
	a.enqueue(0, func(ctx context.Context) { a.tell(ctx, channel, user, text) })
	return nil
}

// problemErrors maps validation problems to the editor's input blocks: a
// template's problem goes under that language's field as "line N: reason";
// anything else goes under the first field, named.
func problemErrors(probs []crm.Problem, o *crm.Offer) map[string]string {
	first := OfferTemplateBlock + crm.Languages[0]
	out := map[string]string{}
	langs := offerLangs(o)
	for _, p := range probs {
		block, msg := first, p.Field+": "+problemText(p)
		if lang, ok := strings.CutPrefix(p.Field, "templates."); ok && containsString(langs, lang) {
			block, msg = OfferTemplateBlock+lang, problemText(p)
		} else if p.Field == "templates" {
			msg = problemText(p)
		}
		if prev, ok := out[block]; ok {
			msg = prev + " · " + msg
		}
		out[block] = truncate(msg, maxModalError)
	}
	return out
}

func (a *Adapter) modalErrorText(err error) string {
	if crm.ErrorCode(err) == crm.EINTERNAL {
		a.log.Error("slack: offer edit failed", "err", crm.MaskText(err.Error()))
		return "Something went wrong; the error was logged. Nothing was saved."
	}
	return crm.ErrorMessage(err)
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
			a.answerAction(ctx, cb, channel, ephemeral("idicbot is busy with other commands; try again in a moment."), false)
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
			r, refused, err = a.offerSetStatus(ctx, id, status, user)
			// The card is redrawn in place; a refused activation is a new
			// message, so the card stays.
			replace = err == nil && !refused
		case ActionOfferPreview:
			r, err = a.offerPreview(ctx, id, "")
		case ActionOfferEdit:
			_, err = a.openOfferEditor(ctx, cb.TriggerID, id, channel, user)
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

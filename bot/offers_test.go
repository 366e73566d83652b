package bot_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/idicbot/idicbot/bot"
	"github.com/idicbot/idicbot/crm"
)

// welcomeV1 is the seeded Vietnamese welcome text a new customer gets.
const welcomeV1 = "🎁 Chào mừng bạn! Giảm 10% cho đơn hàng đầu tiên với mã WELCOME10."

func (e *env) offer(id string) *crm.Offer {
	e.t.Helper()
	v, err := e.core.OfferAdmin().GetOffer(context.Background(), id)
	if err != nil {
		e.t.Fatal(err)
	}
	return v.Offer
}

// greet sends a greeting from a new web chat customer and returns the texts
// the bot sent.
func (e *env) greet(user string) []string {
	e.t.Helper()
	_, sent := e.say(bot.Inbound{UserID: user, Text: "xin chào"})
	var out []string
	for _, it := range sent {
		out = append(out, it.Text)
	}
	return out
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func TestSaveOfferUsedByNextMessage(t *testing.T) {
	e := newEnv(t, "")
	ctx := context.Background()
	if got := e.greet("before"); !contains(got, welcomeV1) {
		t.Fatalf("before the change the bot said %q", got)
	}
	o := e.offer("welcome-new")
	o.Templates["vi"] = "🎁 Chào {{.FirstName}}! Tuần này giảm 20% với mã {{.Code}}."
	saved, err := e.core.OfferAdmin().SaveOffer(ctx, o, 1, "lan", bot.OriginAPI)
	if err != nil {
		t.Fatal(err)
	}
	if saved.Version != 2 || saved.UpdatedBy != "lan" || saved.Origin != bot.OriginAPI || !saved.UpdatedAt.Equal(e.clock.Now()) {
		t.Fatalf("saved = v%d by %q from %q at %v", saved.Version, saved.UpdatedBy, saved.Origin, saved.UpdatedAt)
	}
	if got, want := e.greet("after"), "🎁 Chào bạn! Tuần này giảm 20% với mã WELCOME10."; !contains(got, want) {
		t.Fatalf("the next message got %q, want %q", got, want)
	}
	// Saving the same content again stores nothing.
	again, err := e.core.OfferAdmin().SaveOffer(ctx, saved, 2, "lan", bot.OriginAPI)
	if err != nil || again.Version != 2 {
		t.Fatalf("unchanged save = v%d, %v", again.Version, err)
	}
}

func TestSaveOfferRefused(t *testing.T) {
	from := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	before := from.Add(-24 * time.Hour)
	tests := []struct {
		name  string
		edit  func(o *crm.Offer)
		field string
		line  int
		in    string // part of the message
	}{
		{"template does not parse", func(o *crm.Offer) { o.Templates["vi"] = "Chào {{.FirstName}}\nmã {{.Code}" }, "templates.vi", 2, "bad character"},
		{"missing field on render", func(o *crm.Offer) { o.Templates["en"] = "Hi\n\n{{.Nickname}}" }, "templates.en", 3, "no field .Nickname"},
		{"details missing field", func(o *crm.Offer) { o.Details["vi"] = "{{.Voucher}}" }, "details.vi", 1, "no field .Voucher"},
		{"bad eligibility", func(o *crm.Offer) { o.Eligibility = "order_count >" }, "eligibility", 1, ""},
		{"unknown fact", func(o *crm.Offer) { o.Eligibility = "spend > 5" }, "eligibility", 1, "spend"},
		{"until before from", func(o *crm.Offer) { o.Validity.From, o.Validity.Until = &from, &before }, "validity.until", 0, "after validity.from"},
		{"negative cap", func(o *crm.Offer) { o.CapDays = -1 }, "cap_days", 0, "negative"},
		{"negative max shows", func(o *crm.Offer) { o.MaxShows = -3 }, "max_shows", 0, "negative"},
		{"unknown segment", func(o *crm.Offer) { o.Segments = []string{"whales"} }, "segments", 0, "whales"},
		{"bad status", func(o *crm.Offer) { o.Status = "live" }, "status", 0, "draft, active or paused"},
		{"no template", func(o *crm.Offer) { o.Templates = nil }, "templates", 0, "at least one"},
		{"unknown language", func(o *crm.Offer) { o.Templates["fr"] = "Salut" }, "templates.fr", 0, "not one the bot speaks"},
		{"bad button", func(o *crm.Offer) { o.Buttons = []string{"buy"} }, "buttons", 0, "accept, more or decline"},
	}
	e := newEnv(t, "")
	ctx := context.Background()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := e.offer("welcome-new")
			tt.edit(o)
			_, err := e.core.OfferAdmin().SaveOffer(ctx, o, 1, "lan", bot.OriginAPI)
			if got := crm.ErrorCode(err); got != crm.EINVALID {
				t.Fatalf("code = %q (%v), want invalid", got, err)
			}
			var inv *bot.InvalidOfferError
			if !errors.As(err, &inv) || len(inv.Problems) == 0 {
				t.Fatalf("err = %v, want the problems", err)
			}
			p := inv.Problems[0]
			if p.Field != tt.field || p.Line != tt.line || !strings.Contains(p.Message, tt.in) {
				t.Fatalf("problem = %+v, want field %s line %d with %q", p, tt.field, tt.line, tt.in)
			}
			if !strings.Contains(crm.ErrorMessage(err), tt.field) {
				t.Fatalf("message %q does not name the field", crm.ErrorMessage(err))
			}
		})
	}
	// The previous version stays live and stored.
	if v := e.offer("welcome-new").Version; v != 1 {
		t.Fatalf("stored version = %d after refused saves", v)
	}
	if got := e.greet("s9"); !contains(got, welcomeV1) {
		t.Fatalf("after refused saves the bot said %q", got)
	}
}

func TestSaveOfferConflict(t *testing.T) {
	e := newEnv(t, "")
	ctx := context.Background()
	a, b := e.offer("welcome-new"), e.offer("welcome-new")
	a.Code, b.Code = "AAA", "BBB"
	if _, err := e.core.OfferAdmin().SaveOffer(ctx, a, 1, "an", bot.OriginWeb); err != nil {
		t.Fatal(err)
	}
	_, err := e.core.OfferAdmin().SaveOffer(ctx, b, 1, "binh", bot.OriginWeb)
	if got := crm.ErrorCode(err); got != crm.ECONFLICT {
		t.Fatalf("second save from version 1: %v, want a conflict", err)
	}
	if msg := crm.ErrorMessage(err); !strings.Contains(msg, "an") || !strings.Contains(msg, "version 2") {
		t.Fatalf("conflict message %q does not say who and which version", msg)
	}
	if got := e.offer("welcome-new"); got.Code != "AAA" || got.Version != 2 {
		t.Fatalf("stored %s v%d, want AAA v2", got.Code, got.Version)
	}
	// Creating an id that exists is a conflict too; a new id is version 1.
	c := e.offer("winback")
	if _, err := e.core.OfferAdmin().SaveOffer(ctx, c, 0, "an", bot.OriginAPI); crm.ErrorCode(err) != crm.ECONFLICT {
		t.Fatalf("create existing: %v", err)
	}
	c.ID, c.Version = "winback-2", 0
	if got, err := e.core.OfferAdmin().SaveOffer(ctx, c, 0, "an", bot.OriginAPI); err != nil || got.Version != 1 {
		t.Fatalf("create: %+v, %v", got, err)
	}
	// Editing an offer that does not exist: not found.
	c.ID = "nope"
	if _, err := e.core.OfferAdmin().SaveOffer(ctx, c, 3, "an", bot.OriginAPI); crm.ErrorCode(err) != crm.ENOTFOUND {
		t.Fatalf("edit missing: %v", err)
	}
}

func TestRollbackHistoryDiff(t *testing.T) {
	e := newEnv(t, "")
	ctx := context.Background()
	o := e.offer("welcome-new")
	o.Templates["vi"] = "Mới: {{.Code}}"
	if _, err := e.core.OfferAdmin().SaveOffer(ctx, o, 1, "lan", bot.OriginWeb); err != nil {
		t.Fatal(err)
	}
	e.clock.Add(time.Hour)
	if _, err := e.core.OfferAdmin().SetOfferStatus(ctx, "welcome-new", crm.OfferPaused, "minh", bot.OriginSlack); err != nil {
		t.Fatal(err)
	}
	if got := e.greet("paused"); contains(got, "Mới: WELCOME10") || len(got) != 1 {
		t.Fatalf("a paused offer was shown: %q", got)
	}
	back, err := e.core.OfferAdmin().Rollback(ctx, "welcome-new", 1, "lan", bot.OriginWeb)
	if err != nil {
		t.Fatal(err)
	}
	if back.Version != 4 || back.Templates["vi"] != e.mustVersion("welcome-new", 1).Templates["vi"] || back.Status != crm.OfferActive {
		t.Fatalf("rollback = %+v", back)
	}
	if got := e.greet("rolled"); !contains(got, welcomeV1) {
		t.Fatalf("after rollback the bot said %q", got)
	}
	hist, err := e.core.OfferAdmin().OfferHistory(ctx, "welcome-new")
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, h := range hist {
		lines = append(lines, strings.Join([]string{h.UpdatedBy, h.Origin, h.Change}, "|"))
	}
	want := []string{"lan|web|restored version 1", "minh|slack|status active → paused", "lan|web|changed templates.vi", "idicbot|seed|created"}
	if strings.Join(lines, "\n") != strings.Join(want, "\n") {
		t.Fatalf("history:\n%s\nwant:\n%s", strings.Join(lines, "\n"), strings.Join(want, "\n"))
	}
	d, err := e.core.OfferAdmin().DiffOffer(ctx, "welcome-new", 1, 2)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(d.Unified, "+   vi: 'Mới: {{.Code}}'") || !strings.Contains(d.Unified, "-   vi: \"🎁 Chào mừng") || !strings.Contains(d.Unified, "  id: welcome-new") {
		t.Fatalf("diff:\n%s", d.Unified)
	}
	if _, err := e.core.OfferAdmin().Rollback(ctx, "welcome-new", 9, "lan", bot.OriginWeb); crm.ErrorCode(err) != crm.ENOTFOUND {
		t.Fatalf("rollback to a missing version: %v", err)
	}
}

func (e *env) mustVersion(id string, v int) *crm.Offer {
	e.t.Helper()
	o, err := e.core.OfferAdmin().OfferVersionContent(context.Background(), id, v)
	if err != nil {
		e.t.Fatal(err)
	}
	return o
}

func TestDiffLines(t *testing.T) {
	got := bot.DiffLines("a\nb\nc\nd\n", "a\nc\nx\nd\n")
	var s []string
	for _, l := range got {
		s = append(s, l.Op+l.Text)
	}
	if got, want := strings.Join(s, ","), " a,-b, c,+x, d"; got != want {
		t.Fatalf("diff = %q, want %q", got, want)
	}
}

func TestPreviewOffer(t *testing.T) {
	e := newEnv(t, "")
	ctx := context.Background()
	o := e.offer("loyal-points")
	o.Templates["vi"] = "{{.FirstName}} có {{.Points}} điểm"
	delete(o.Templates, "en")
	p, err := e.core.OfferAdmin().PreviewOffer(ctx, o, 0, "")
	if err != nil {
		t.Fatal(err)
	}
	if !p.Customer.Sample || p.Customer.Segment != "loyal" || len(p.Problems) != 0 || !p.Eligible {
		t.Fatalf("preview = %+v", p)
	}
	if got, want := p.Texts[0].Text, "An có 450 điểm"; got != want {
		t.Fatalf("vi = %q, want %q", got, want)
	}
	if p.Texts[1].Lang != "en" || p.Texts[1].Fallback != "vi" || len(p.Texts[1].Buttons) != 3 {
		t.Fatalf("en = %+v", p.Texts[1])
	}
	// A real customer, and a broken template reported, not failed.
	e.say(bot.Inbound{UserID: "real", Text: "hello there", Name: "Tran Thi Mai"})
	cu := e.customer(crm.ChannelWeb, "real")
	o.Templates["en"] = "Hi {{.FirstName}} {{.Nope}}"
	p, err = e.core.OfferAdmin().PreviewOffer(ctx, o, cu.ID, "")
	if err != nil {
		t.Fatal(err)
	}
	if p.Customer.Sample || p.Customer.ID != cu.ID || p.Texts[0].Text != "Mai có 0 điểm" {
		t.Fatalf("preview for a customer = %+v", p)
	}
	if e := p.Texts[1].Error; e == nil || e.Field != "templates.en" || e.Line != 1 {
		t.Fatalf("en error = %+v", p.Texts[1])
	}
	if len(p.Problems) == 0 || p.Problems[0].Field != "templates.en" {
		t.Fatalf("problems = %+v", p.Problems)
	}
	if _, err := e.core.OfferAdmin().PreviewOffer(ctx, o, 9999, ""); crm.ErrorCode(err) != crm.ENOTFOUND {
		t.Fatalf("unknown customer: %v", err)
	}
}

func TestImportOffers(t *testing.T) {
	e := newEnv(t, "")
	ctx := context.Background()
	data, err := e.core.OfferAdmin().ExportOffers(ctx)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := e.core.OfferAdmin().ImportOffers(ctx, "offers.yaml", data, false, "lan")
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Unchanged) != 8 || len(rep.Created)+len(rep.Updated) != 0 {
		t.Fatalf("re-import of an export = %+v", rep)
	}
	changed := strings.Replace(string(data), "code: WELCOME10", "code: WELCOME15", 1)
	added := changed + `  - id: tet
    name: Tết
    status: active
    segments: [vip]
    priority: 5
    cap_days: 30
    templates:
      vi: "Chúc mừng năm mới {{.FirstName}}!"
`
	rep, err = e.core.OfferAdmin().ImportOffers(ctx, "offers.yaml", []byte(added), true, "lan")
	if err != nil {
		t.Fatal(err)
	}
	if !rep.DryRun || strings.Join(rep.Created, ",") != "tet" || strings.Join(rep.Updated, ",") != "welcome-new" || len(rep.Unchanged) != 7 {
		t.Fatalf("dry run = %+v", rep)
	}
	if e.offer("welcome-new").Code != "WELCOME10" {
		t.Fatal("the dry run changed an offer")
	}
	// One bad offer anywhere: nothing changes.
	bad := added + `  - id: broken
    name: Broken
    status: active
    templates:
      vi: "{{.Nope}}"
`
	if _, err := e.core.OfferAdmin().ImportOffers(ctx, "offers.yaml", []byte(bad), false, "lan"); crm.ErrorCode(err) != crm.EINVALID || !strings.Contains(crm.ErrorMessage(err), "broken") {
		t.Fatalf("bad import: %v", err)
	}
	if _, err := e.core.OfferAdmin().GetOffer(ctx, "tet"); crm.ErrorCode(err) != crm.ENOTFOUND {
		t.Fatalf("a refused import stored an offer: %v", err)
	}
	rep, err = e.core.OfferAdmin().ImportOffers(ctx, "offers.yaml", []byte(added), false, "lan")
	if err != nil {
		t.Fatal(err)
	}
	if rep.DryRun || len(rep.Created) != 1 || len(rep.Updated) != 1 {
		t.Fatalf("import = %+v", rep)
	}
	if o := e.offer("welcome-new"); o.Code != "WELCOME15" || o.Version != 2 || o.Origin != bot.OriginFile || o.UpdatedBy != "lan" {
		t.Fatalf("imported welcome-new = %+v", o)
	}
	if got := e.greet("imp"); !contains(got, "🎁 Chào mừng bạn! Giảm 10% cho đơn hàng đầu tiên với mã WELCOME15.") {
		t.Fatalf("after import the bot said %q", got)
	}
}

func TestListOffersNumbers(t *testing.T) {
	e := newEnv(t, "")
	e.greet("n1")
	e.greet("n2")
	list, err := e.core.OfferAdmin().ListOffers(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range list {
		if o.ID == "welcome-new" {
			if o.Stats.Shown != 2 || o.Stats.Accepted != 0 || o.Stats.Conversion != 0 {
				t.Fatalf("stats = %+v", o.Stats)
			}
			return
		}
	}
	t.Fatal("welcome-new not listed")
}

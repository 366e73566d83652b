package admin_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/idicbot/idicbot/adapters/webchat/webchattest"
	"github.com/idicbot/idicbot/bot"
	"github.com/idicbot/idicbot/crm"
)

// TestBrowserEditOffer drives the admin page in headless Chromium: log in,
// read the offer list (status, segments, validity, priority and the numbers
// of a customer who was shown the offer in the web chat and accepted it),
// open and save every offer unchanged (the form carries every field, so no
// version is made), create an offer with every field from the form and
// see it previewed in both languages, lose a save to another admin's
// (a conflict), pause and activate from the list, edit the welcome offer's template and watch the preview
// follow (an error next to the field first, then the new text, for a
// sample customer and for a real customer found by search), save, and
// check in the web chat page that a new customer of segment new gets the
// new text; then roll back from the history page and check that the next
// one gets the old text. Last, the segments view: edit a rule, see how many
// customers it would move, save it.
func TestBrowserEditOffer(t *testing.T) {
	e := newEnv(t)
	// A date with seconds and a zone the browser does not use: opening and
	// saving the offer on the page must not change it.
	o := e.getOffer("birthday")
	until := time.Date(2027, 1, 31, 23, 59, 59, 0, time.FixedZone("ICT", 7*3600))
	o.Validity.Until = &until
	o.Eligibility = "!is_business\n"
	if st := e.call("PUT", "/api/admin/offers/birthday", o, nil); st != 200 {
		t.Fatalf("put birthday: %d", st)
	}

	// A customer of segment new chats in the web chat page and presses the
	// offer's first button (accept).
	if reply, buttons := webchattest.RunBrowserChat(t, e.srv.URL, "xin chào"); !strings.Contains(reply, welcomeVI) || len(buttons) == 0 {
		t.Fatalf("the first web chat customer got %q %q, want the welcome offer", reply, buttons)
	}

	ctx := webchattest.NewBrowser(t)
	vi := `[id="f-templates.vi"]`
	text := func(sel string) string {
		t.Helper()
		s, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector(`+jsString(sel)+`).textContent`))
		if err != nil {
			t.Fatalf("read %s: %v", sel, err)
		}
		return s
	}
	waitText := func(sel, want string) {
		t.Helper()
		_, err := chromedp.Run(ctx, chromedp.PollFunction[bool](
			`(sel, want) => { const el = document.querySelector(sel); return !!el && el.textContent.includes(want); }`,
			chromedp.WithPollingArgs(sel, want), chromedp.WithPollingInterval(50*time.Millisecond),
			chromedp.WithPollingTimeout(20*time.Second)))
		if err != nil {
			got, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`(() => { const el = document.querySelector(`+jsString(sel)+`); return el ? el.textContent : "(missing)"; })()`))
			t.Fatalf("%s shows %q, want it to contain %q: %v", sel, got, want, err)
		}
	}
	// open goes to a view of the page (a same-document navigation).
	open := func(hash, waitFor string) {
		t.Helper()
		if err := chromedp.Do(ctx,
			eval(`location.hash = `+jsString(hash)),
			chromedp.WaitVisible(chromedp.CSS(waitFor)),
		); err != nil {
			t.Fatalf("open %s: %v", hash, err)
		}
	}

	// The page opens in Vietnamese; this test reads it in English (the
	// switch on the login page), TestBrowserPhone in Vietnamese.
	if err := chromedp.Do(ctx,
		chromedp.Navigate(e.srv.URL+"/admin"),
		chromedp.WaitVisible(chromedp.CSS("#token")),
		chromedp.Click(chromedp.CSS("#lang-switch")),
		chromedp.WaitVisible(chromedp.CSS(`html[lang="en"] #token`)),
		chromedp.SendKeys(chromedp.CSS("#token"), token),
		chromedp.SendKeys(chromedp.CSS("#name"), "Lan"),
		chromedp.Submit(chromedp.CSS("#login")),
		chromedp.WaitVisible(chromedp.CSS(`#offers tr[data-offer="welcome-new"]`)),
	); err != nil {
		t.Fatalf("log in: %v", err)
	}
	cells, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](
		`[...document.querySelector('#offers tr[data-offer="welcome-new"]').cells].map((c) => c.textContent)`))
	if err != nil {
		t.Fatal(err)
	}
	// Offer, Status, Segments, Validity, Priority, Shown, Accepted, Conversion, Version.
	want := []string{"Quà chào mừng khách mớiwelcome-new", "active", "New", "always", "10", "1", "1", "100.0%", "v1idicbot"}
	if len(cells) < len(want) || !slices.Equal(cells[:len(want)], want) {
		t.Fatalf("the list row of welcome-new = %q, want %q", cells, want)
	}
	if got := text(`#offers tr[data-offer="birthday"] td:nth-child(4)`); !strings.Contains(got, "until") || !strings.Contains(got, "birthday month") {
		t.Fatalf("the birthday offer's validity shows %q", got)
	}

	// Every offer opened and saved as it is: nothing changes.
	for _, id := range []string{"birthday", "business-volume", "interest-promo", "loyal-points", "payday", "vip-care", "welcome-new", "winback"} {
		before := e.getOffer(id)
		open("#/offer/"+id, `[id="f-templates.vi"]`)
		waitText("#preview-out", "Sample")
		if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS("#save"))); err != nil {
			t.Fatal(err)
		}
		waitText("#version", "saved: version")
		if after := e.getOffer(id); after.Version != before.Version || text("#version") != fmt.Sprintf("saved: version %d", before.Version) {
			d, _ := e.core.OfferAdmin().DiffOffer(context.Background(), id, before.Version, after.Version)
			t.Fatalf("opening and saving %s unchanged made version %d:\n%s", id, after.Version, d.Unified)
		}
	}

	// A new offer with every field of the offer model, from the form.
	open("#/new", `[id="f-templates.vi"]`)
	if err := chromedp.Do(ctx,
		fill("#f-id", "flash-vip"), fill("#f-name", "Flash VIP"), fill("#f-status", "active"),
		chromedp.Click(chromedp.CSS(`#f-segments input[value="vip"]`)),
		chromedp.Click(chromedp.CSS(`#f-segments input[value="loyal"]`)),
		fill("#f-eligibility", "total_spent > 1000000"),
		fill(`[id="f-validity.from"]`, "2026-11-01T08:00"), fill(`[id="f-validity.until"]`, "2026-12-31T20:30"),
		fill(`[id="f-validity.last_days_of_month"]`, "5"),
		chromedp.Click(chromedp.CSS(`[id="f-validity.birthday_month"]`)),
		fill("#f-priority", "77"), fill("#f-cap_days", "3"), fill("#f-max_shows", "4"), fill("#f-code", "FLASH77"),
		chromedp.Click(chromedp.CSS(`#f-buttons input[value="decline"]`)),
		fill(`[id="f-templates.vi"]`, "⚡ {{.FirstName}}: mã {{.Code}}"), fill(`[id="f-templates.en"]`, "⚡ {{.FirstName}}: code {{.Code}}"),
		fill(`[id="f-details.vi"]`, "Chi tiết {{.Code}}"), fill(`[id="f-details.en"]`, "Details {{.Code}}"),
	); err != nil {
		t.Fatal(err)
	}
	waitText("#preview-vi", "⚡ An: mã FLASH77")
	waitText("#preview-en", "⚡ An: code FLASH77")
	waitText(`#preview-out [data-lang="en"] .details`, "Details FLASH77")
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS("#save"))); err != nil {
		t.Fatal(err)
	}
	waitText("#version", "editing version 1") // the page opens the created offer
	dates, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`[new Date("2026-11-01T08:00").toISOString(), new Date("2026-12-31T20:30").toISOString()]`))
	if err != nil {
		t.Fatal(err)
	}
	created := e.getOffer("flash-vip").Offer
	from, _ := time.Parse(time.RFC3339, dates[0])
	until2, _ := time.Parse(time.RFC3339, dates[1])
	wantOffer := crm.Offer{ID: "flash-vip", Name: "Flash VIP", Status: "active", Segments: []string{"vip", "loyal"},
		Eligibility: "total_spent > 1000000", Validity: crm.Validity{From: &from, Until: &until2, LastDaysOfMonth: 5, BirthdayMonth: true},
		Priority: 77, CapDays: 3, MaxShows: 4, Code: "FLASH77", Buttons: []string{"accept", "more"},
		Templates: map[string]string{"vi": "⚡ {{.FirstName}}: mã {{.Code}}", "en": "⚡ {{.FirstName}}: code {{.Code}}"},
		Details:   map[string]string{"vi": "Chi tiết {{.Code}}", "en": "Details {{.Code}}"}}
	if got, want := string(bot.OfferYAML(created)), string(bot.OfferYAML(&wantOffer)); got != want {
		t.Fatalf("the offer created on the page:\n%s\nwant:\n%s", got, want)
	}
	if created.UpdatedBy != "Lan" || created.Origin != "web" {
		t.Fatalf("created by %q from %q", created.UpdatedBy, created.Origin)
	}

	// Another admin saves the offer while it is open here: this save is
	// refused with a conflict that says who, and nothing is overwritten.
	other := e.getOffer("flash-vip")
	other.Code = "FLASH88"
	if st := e.call("PUT", "/api/admin/offers/flash-vip", other, nil); st != 200 {
		t.Fatalf("the other admin's save: %d", st)
	}
	if err := chromedp.Do(ctx, fill("#f-priority", "78"), chromedp.Click(chromedp.CSS("#save"))); err != nil {
		t.Fatal(err)
	}
	waitText("#conflict", "was changed by lan (api)")
	if o := e.getOffer("flash-vip"); o.Version != 2 || o.Code != "FLASH88" || o.Priority != 77 {
		t.Fatalf("after the conflict: v%d %s priority %d", o.Version, o.Code, o.Priority)
	}

	// Pause (asked twice: it stops an offer customers get) and activate
	// from the list.
	open("#/offers", `#offers tr[data-offer="winback"] .status-btn`)
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`#offers tr[data-offer="winback"] .status-btn`))); err != nil {
		t.Fatal(err)
	}
	waitText(`#offers tr[data-offer="winback"] .status-btn`, "Really pause?")
	if o := e.getOffer("winback"); o.Status != "active" {
		t.Fatalf("one press paused the offer: %s", o.Status)
	}
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`#offers tr[data-offer="winback"] .status-btn`))); err != nil {
		t.Fatal(err)
	}
	waitText(`#offers tr[data-offer="winback"] .badge`, "paused")
	waitText(`#offers tr[data-offer="winback"] .status-btn`, "Activate")
	if o := e.getOffer("winback"); o.Status != "paused" || o.UpdatedBy != "Lan" || o.Origin != "web" {
		t.Fatalf("paused from the list: %s by %q from %q", o.Status, o.UpdatedBy, o.Origin)
	}
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`#offers tr[data-offer="winback"] .status-btn`))); err != nil {
		t.Fatal(err)
	}
	waitText(`#offers tr[data-offer="winback"] .badge`, "active")
	if o := e.getOffer("winback"); o.Status != "active" || o.Version != 3 {
		t.Fatalf("activated from the list: %s v%d", o.Status, o.Version)
	}

	if err := chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(`tr[data-offer="welcome-new"] a.offer-link`)),
		chromedp.WaitVisible(chromedp.CSS(vi)),
	); err != nil {
		t.Fatalf("open the offer: %v", err)
	}
	waitText("#preview-vi", "Chào mừng An!")

	// A field that does not exist: the error shows next to the template,
	// with its line.
	if err := chromedp.Do(ctx,
		clear(vi),
		chromedp.SendKeys(chromedp.CSS(vi), "Uu dai\n{{.Nope}}"),
	); err != nil {
		t.Fatal(err)
	}
	waitText(`[id="err-templates.vi"]`, "line 2")
	waitText(`[id="err-templates.vi"]`, "no field .Nope")

	// A loop without end, typed into the editor: the preview refuses it
	// with the reason ("the template repeats too much" or "the template
	// takes longer than 10ms", whichever bound stops it first), at once.
	if err := chromedp.Do(ctx,
		clear(vi),
		chromedp.SendKeys(chromedp.CSS(vi), "{{range 1000000000000000}}{{end}}"),
	); err != nil {
		t.Fatal(err)
	}
	waitText(`[id="err-templates.vi"]`, "the template ")

	newText := "Tuan le vang {{.FirstName}}: ma {{.Code}} giam 30%"
	if err := chromedp.Do(ctx,
		clear(vi),
		chromedp.SendKeys(chromedp.CSS(vi), newText),
	); err != nil {
		t.Fatal(err)
	}
	waitText("#preview-vi", "Tuan le vang An: ma WELCOME10 giam 30%")
	if got := text(`[id="err-templates.vi"]`); got != "" {
		t.Fatalf("the error stayed: %q", got)
	}
	// The preview for the real customer of the web chat, found by id.
	if err := chromedp.Do(ctx, chromedp.SendKeys(chromedp.CSS("#customer-q"), "1")); err != nil {
		t.Fatal(err)
	}
	waitText("#customer-hits", "#1 · New")
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS("#customer-hits button"))); err != nil {
		t.Fatal(err)
	}
	waitText("#preview-out", "Customer ")
	waitText("#preview-vi", "Tuan le vang bạn: ma WELCOME10 giam 30%")
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS("#save"))); err != nil {
		t.Fatal(err)
	}
	waitText("#version", "saved: version 2")
	if o := e.getOffer("welcome-new"); o.Version != 2 || o.UpdatedBy != "Lan" || o.Origin != "web" {
		t.Fatalf("stored: %+v", o.Offer)
	}

	// The next customer of segment new, in the web chat page, gets it.
	if reply, _ := webchattest.RunBrowserChat(t, e.srv.URL, "xin chào"); !strings.Contains(reply, "Tuan le vang bạn: ma WELCOME10 giam 30%") {
		t.Fatalf("after the save a new web chat customer got %q", reply)
	}

	// Roll back to version 1 from the history page.
	open("#/offer/welcome-new/history", `#versions tr[data-version="2"] .diff-btn`)
	if got := text(`#versions tr[data-version="2"]`); !strings.Contains(got, "Lan") || !strings.Contains(got, "web") || !strings.Contains(got, "changed templates.vi") {
		t.Fatalf("history row of version 2 = %q, want who, from where and what", got)
	}
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`#versions tr[data-version="2"] .diff-btn`))); err != nil {
		t.Fatal(err)
	}
	waitText("#diff .add", "Tuan le vang")
	waitText("#diff .del", "Chào mừng")
	// A rollback is asked twice too.
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`#versions tr[data-version="1"] .rollback-btn`)),
		chromedp.Click(chromedp.CSS(`#versions tr[data-version="1"] .rollback-btn`))); err != nil {
		t.Fatal(err)
	}
	waitText(`#versions tr[data-version="3"]`, "restored version 1")
	if reply, _ := webchattest.RunBrowserChat(t, e.srv.URL, "xin chào"); !strings.Contains(reply, welcomeVI) {
		t.Fatalf("after the rollback a new web chat customer got %q", reply)
	}

	// Segments: the rule and count; edit, validate & preview, save.
	open("#/segments", `#segments tr[data-segment="potential"] .seg-edit`)
	if got := text(`#segments tr[data-segment="new"] .seg-count`); got != "3" {
		t.Fatalf("segment new counts %q customers, want 3", got)
	}
	rule := `#segments tr[data-segment="potential"] textarea`
	if err := chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(`#segments tr[data-segment="potential"] .seg-edit`)),
		clear(rule),
		chromedp.SendKeys(chromedp.CSS(rule), "order_count == 0 && messages_30d >= 1"),
		chromedp.Click(chromedp.CSS(`#segments tr[data-segment="potential"] .seg-preview`)),
	); err != nil {
		t.Fatal(err)
	}
	waitText(`#segments tr[data-segment="potential"] .seg-result`, "3 customers would move in, 0 out: 0 → 3 of 3.")
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`#segments tr[data-segment="potential"] .seg-save`))); err != nil {
		t.Fatal(err)
	}
	waitText("#toast", "Saved the rule of Potential; 3 customers moved.")
	waitText(`#segments tr[data-segment="potential"] .seg-count`, "3")
	hist, err := e.core.SegmentAdmin().SegmentHistory(context.Background())
	if err != nil || len(hist) != 1 || hist[0].By != "Lan" || hist[0].Origin != "web" || hist[0].Moved != 3 {
		t.Fatalf("segment history = %+v, %v", hist, err)
	}
}

func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// clear empties an input without an input event, so that what SendKeys
// types next is what the page sees.
func clear(sel string) chromedp.Action[chromedp.Void] {
	return func(ctx context.Context, t *chromedp.Target) (chromedp.Void, error) {
		_, err := chromedp.Evaluate[bool](`(() => { document.querySelector(`+jsString(sel)+`).value = ""; return true; })()`)(ctx, t)
		return chromedp.Void{}, err
	}
}

// eval runs a JavaScript statement in the page.
func eval(js string) chromedp.Action[chromedp.Void] {
	return func(ctx context.Context, t *chromedp.Target) (chromedp.Void, error) {
		_, err := chromedp.Evaluate[bool](`(() => { `+js+`; return true; })()`)(ctx, t)
		return chromedp.Void{}, err
	}
}

// fill sets a form field's value and fires the input and change events the
// page listens to, as typing would.
func fill(sel, value string) chromedp.Action[chromedp.Void] {
	return eval(`const el = document.querySelector(` + jsString(sel) + `); el.value = ` + jsString(value) +
		`; el.dispatchEvent(new Event("input", {bubbles: true})); el.dispatchEvent(new Event("change", {bubbles: true}))`)
}

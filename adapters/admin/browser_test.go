package admin_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/idicbot/idicbot/adapters/webchat/webchattest"
)

// TestBrowserEditOffer drives the admin page in headless Chromium: log in,
// edit the welcome offer's template and watch the preview follow (an error
// next to the field first, then the new text), save, and check that a new
// web chat customer (segment new) gets the new text; then roll back from
// the history page and check that the next customer gets the old text.
func TestBrowserEditOffer(t *testing.T) {
	e := newEnv(t)
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

	if err := chromedp.Do(ctx,
		chromedp.Navigate(e.srv.URL+"/admin"),
		chromedp.WaitVisible(chromedp.CSS("#token")),
		chromedp.SendKeys(chromedp.CSS("#token"), token),
		chromedp.SendKeys(chromedp.CSS("#name"), "Lan"),
		chromedp.Submit(chromedp.CSS("#login")),
		chromedp.WaitVisible(chromedp.CSS(`#offers tr[data-offer="welcome-new"]`)),
		chromedp.Click(chromedp.CSS(`tr[data-offer="welcome-new"] a.offer-link`)),
		chromedp.WaitVisible(chromedp.CSS(vi)),
	); err != nil {
		t.Fatalf("log in and open the offer: %v", err)
	}
	waitText("#preview-vi", "Chào mừng An!")

	// A field that does not exist: the error shows next to the template.
	if err := chromedp.Do(ctx,
		clear(vi),
		chromedp.SendKeys(chromedp.CSS(vi), "Uu dai {{.Nope}}"),
	); err != nil {
		t.Fatal(err)
	}
	waitText(`[id="err-templates.vi"]`, "no field .Nope")

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
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS("#save"))); err != nil {
		t.Fatal(err)
	}
	waitText("#version", "saved: version 2")

	if got := e.chat("browser-1", "xin chào"); !has(got, "Tuan le vang bạn: ma WELCOME10 giam 30%") {
		t.Fatalf("after the save a new customer got %q", got)
	}
	if o := e.getOffer("welcome-new"); o.Version != 2 || o.UpdatedBy != "Lan" || o.Origin != "web" {
		t.Fatalf("stored: %+v", o.Offer)
	}

	// Roll back to version 1 from the history page.
	if err := chromedp.Do(ctx,
		chromedp.Navigate(e.srv.URL+"/admin#/offer/welcome-new/history"),
		chromedp.WaitVisible(chromedp.CSS(`#versions tr[data-version="2"] .diff-btn`)),
		chromedp.Click(chromedp.CSS(`#versions tr[data-version="2"] .diff-btn`)),
	); err != nil {
		t.Fatal(err)
	}
	waitText("#diff", "Tuan le vang")
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`#versions tr[data-version="1"] .rollback-btn`))); err != nil {
		t.Fatal(err)
	}
	waitText(`#versions tr[data-version="3"]`, "restored version 1")
	if got := e.chat("browser-2", "xin chào"); !has(got, welcomeVI) {
		t.Fatalf("after the rollback a new customer got %q", strings.Join(got, " | "))
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

package admin_test

import (
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/idicbot/idicbot/adapters/internal/axetest"
	"github.com/idicbot/idicbot/adapters/webchat/webchattest"
)

// TestAccessibility runs axe-core on every view of the admin, on a phone
// (390×844), in Vietnamese and in English: no serious or critical
// violation.
func TestAccessibility(t *testing.T) {
	e := newEnv(t)
	ctx := webchattest.NewBrowser(t)
	if err := chromedp.Do(ctx,
		chromedp.EmulateViewport(390, 844),
		chromedp.Navigate(e.srv.URL+"/admin"),
		chromedp.WaitVisible(chromedp.CSS("#token")),
	); err != nil {
		t.Fatal(err)
	}
	axetest.Check(t, ctx, "login")
	if err := chromedp.Do(ctx,
		chromedp.SendKeys(chromedp.CSS("#token"), token),
		chromedp.Submit(chromedp.CSS("#login")),
		chromedp.WaitVisible(chromedp.CSS(`#offers tr[data-offer="welcome-new"]`)),
	); err != nil {
		t.Fatal(err)
	}
	views := []struct{ name, hash, ready string }{
		{"offers", "#/offers", `#offers tr[data-offer="welcome-new"]`},
		{"offer editor", "#/offer/welcome-new", "#preview-vi"},
		{"history", "#/offer/welcome-new/history", `#versions tr[data-version="1"]`},
		{"segments", "#/segments", `#segments tr[data-segment="potential"] .seg-edit`},
		{"bot's phrases", "#/messages", `[data-phrase="unknown"]`},
		{"FAQ", "#/faq", "#faq-entries .faq-entry"},
	}
	for _, lang := range []string{"vi", "en"} {
		for _, v := range views {
			if err := chromedp.Do(ctx, eval(`location.hash = `+jsString(v.hash)), chromedp.WaitVisible(chromedp.CSS(v.ready))); err != nil {
				t.Fatalf("%s: %v", v.name, err)
			}
			if v.name == "segments" {
				// With a rule editor and its pick-lists open.
				if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(v.ready))); err != nil {
					t.Fatal(err)
				}
			}
			axetest.Check(t, ctx, v.name+" ("+lang+")")
		}
		if lang == "vi" {
			if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS("#lang-switch")), chromedp.WaitVisible(chromedp.CSS(`html[lang="en"] #view`))); err != nil {
				t.Fatal(err)
			}
		}
	}
}

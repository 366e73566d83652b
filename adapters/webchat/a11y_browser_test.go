package webchat_test

import (
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/idicbot/idicbot/adapters/internal/axetest"
	"github.com/idicbot/idicbot/adapters/webchat"
	"github.com/idicbot/idicbot/adapters/webchat/webchattest"
)

// TestAccessibility runs axe-core on the chat pages, standalone and as
// the widget frames it, in light and dark mode, with a conversation on
// screen (the customer's bubble, the reply, offer buttons), in Vietnamese
// and in English: no serious or critical violation. A light brand colour
// is part of it, since text on it must switch to dark.
func TestAccessibility(t *testing.T) {
	for _, brand := range []webchat.Branding{{}, {Shop: "Tiệm Bánh Vàng", Color: "#fde047"}} {
		core := newFakeCore()
		_, ts := mustServe(t, core, webchat.Options{Branding: brand})
		ctx := webchattest.NewBrowser(t)
		for _, path := range []string{"/", "/webchat/embed"} {
			if err := chromedp.Do(ctx,
				chromedp.Navigate(ts.URL+path),
				chromedp.WaitVisible(chromedp.ID("text")),
				chromedp.SendKeys(chromedp.ID("text"), "xin chào\n"),
			); err != nil {
				t.Fatal(err)
			}
			waitFor(t, ctx, "offer buttons", `document.querySelectorAll('.msg.out .buttons button').length === 2`)
			for _, dark := range []bool{false, true} {
				if err := axetest.DarkMode(ctx, dark); err != nil {
					t.Fatal(err)
				}
				name := brand.Color + path
				if dark {
					name += " (dark)"
				}
				axetest.Check(t, ctx, name)
				if err := chromedp.Do(ctx, chromedp.Click(chromedp.ID("lang"))); err != nil {
					t.Fatal(err)
				}
				waitFor(t, ctx, "English", `document.documentElement.lang === 'en'`)
				axetest.Check(t, ctx, name+" in English")
				if err := chromedp.Do(ctx, chromedp.Click(chromedp.ID("lang"))); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
}

package axetest_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/idicbot/idicbot/adapters/admin"
	"github.com/idicbot/idicbot/adapters/internal/axetest"
	"github.com/idicbot/idicbot/adapters/webchat/webchattest"
	"github.com/idicbot/idicbot/bot/bottest"
)

// TestRunFindsViolations shows the check can fail: a page with the web
// chat's old "EN" button (white on #14b8a6, 2.5:1), an image without a
// text alternative and a nameless button, served with a CSP that forbids
// every script (axe runs anyway), has those serious violations.
func TestRunFindsViolations(t *testing.T) {
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; img-src data:")
		fmt.Fprint(w, `<!doctype html><html lang="vi"><head><title>x</title></head><body><main>
<p style="background:#14b8a6;color:#fff;font-size:13px">EN</p>
<img src="data:image/gif;base64,R0lGODlhAQABAAAAACw=">
<button type="button"></button></main></body></html>`)
	}))
	t.Cleanup(ts.Close)
	ctx := webchattest.NewBrowser(t)
	if err := chromedp.Do(ctx, chromedp.Navigate(ts.URL)); err != nil {
		t.Fatal(err)
	}
	vs, err := axetest.Run(ctx)
	if err != nil {
		t.Fatal(err)
	}
	found := map[string]bool{}
	for _, v := range vs {
		if v.Serious() {
			found[v.ID] = true
		}
	}
	for _, id := range []string{"color-contrast", "image-alt", "button-name"} {
		if !found[id] {
			t.Errorf("axe did not report %s as serious; got %v", id, vs)
		}
	}
}

// TestReportAdmin runs axe-core on the admin page, logged in, and only
// logs what it finds: the admin page's fixes belong to its own work.
func TestReportAdmin(t *testing.T) {
	const token = "axe-admin-token-0123456789"
	kit := bottest.NewCore(t, bottest.NoDispatcher())
	mux := http.NewServeMux()
	admin.New(kit.Core, admin.Options{Token: token, Now: kit.Now, Logger: slog.New(slog.DiscardHandler)}).Routes(mux)
	ts := httptest.NewServer(mux)
	t.Cleanup(ts.Close)
	ctx := webchattest.NewBrowser(t)
	if err := chromedp.Do(ctx,
		chromedp.Navigate(ts.URL+"/admin"),
		chromedp.WaitVisible(chromedp.CSS("#token")),
	); err != nil {
		t.Fatalf("open the admin page: %v", err)
	}
	axetest.Report(t, ctx, "admin login")
	if err := chromedp.Do(ctx,
		chromedp.SendKeys(chromedp.CSS("#token"), token),
		chromedp.SendKeys(chromedp.CSS("#name"), "Lan"),
		chromedp.Submit(chromedp.CSS("#login")),
	); err != nil {
		t.Fatalf("log in: %v", err)
	}
	// The page's layout is being reworked: wait for the offers section,
	// not for a particular list inside it.
	wait, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	if err := chromedp.Do(wait, chromedp.WaitVisible(chromedp.CSS("#offers"))); err != nil {
		t.Logf("the offers are not shown: %v", err)
	}
	axetest.Report(t, ctx, "admin offers")
}

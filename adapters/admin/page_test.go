package admin_test

import (
	"context"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// browserPage drives the admin page in a browser test: the helpers the
// phone-sized tests share.
type browserPage struct {
	t   *testing.T
	ctx context.Context
}

// eval runs js and returns its string result.
func (p browserPage) eval(js string) string {
	p.t.Helper()
	s, err := chromedp.Run(p.ctx, chromedp.Evaluate[string](js))
	if err != nil {
		p.t.Fatalf("%s: %v", js, err)
	}
	return s
}

// waitText waits until the element sel holds want.
func (p browserPage) waitText(sel, want string) {
	p.t.Helper()
	_, err := chromedp.Run(p.ctx, chromedp.PollFunction[bool](
		`(sel, want) => { const el = document.querySelector(sel); return !!el && el.textContent.includes(want); }`,
		chromedp.WithPollingArgs(sel, want), chromedp.WithPollingInterval(50*time.Millisecond),
		chromedp.WithPollingTimeout(20*time.Second)))
	if err != nil {
		got := p.eval(`(() => { const el = document.querySelector(` + jsString(sel) + `); return el ? el.textContent : "(missing)"; })()`)
		p.t.Fatalf("%s shows %q, want it to contain %q: %v", sel, got, want, err)
	}
}

// do runs actions, failing the test with what on an error.
func (p browserPage) do(what string, actions ...chromedp.Action[chromedp.Void]) {
	p.t.Helper()
	if err := chromedp.Do(p.ctx, actions...); err != nil {
		p.t.Fatalf("%s: %v", what, err)
	}
}

// sideways fails the test when anything in the view (hidden and closed
// parts aside) is wider than the screen.
func (p browserPage) sideways(where string) {
	p.t.Helper()
	wide := p.eval(`(() => { const w = document.documentElement.clientWidth; const out = [];
		if (document.documentElement.scrollWidth > w) out.push("page " + document.documentElement.scrollWidth);
		for (const el of document.querySelectorAll('#view *')) { const r = el.getBoundingClientRect();
			if (r.width > 0 && (r.right > w + 0.5 || r.left < -0.5) && !el.closest('[hidden]') && !el.closest('details:not([open])')) out.push(el.tagName + "#" + el.id + "." + el.className + " " + Math.round(r.left) + "–" + Math.round(r.right)); }
		return out.slice(0, 6).join("; "); })()`)
	if wide != "" {
		p.t.Fatalf("%s on a 390px screen: wider than the screen: %s", where, wide)
	}
}

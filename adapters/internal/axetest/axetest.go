// Package axetest checks a page open in a headless Chromium (a chromedp tab,
// see webchattest.NewBrowser) for accessibility problems with axe-core,
// vendored under testdata (version AxeVersion, license MPL-2.0).
//
// axe-core is evaluated through the DevTools protocol, which the page's
// Content-Security-Policy does not govern, so pages are tested exactly as
// they are served. It checks the top document only; a cross-origin frame is
// checked by opening its page on its own.
package axetest

import (
	"context"
	_ "embed"
	"fmt"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
)

// AxeVersion is the vendored axe-core's version.
const AxeVersion = "4.14.1"

//go:embed testdata/axe-core/axe.min.js
var axeSource string

// Tags are the axe rule sets run: WCAG 2.0, 2.1 and 2.2 at levels A and
// AA, and axe's best practices.
var Tags = []string{"wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"}

// Violation is one axe rule a page breaks, with the elements that break it.
type Violation struct {
	ID      string `json:"id"`
	Impact  string `json:"impact"` // minor, moderate, serious or critical
	Help    string `json:"help"`
	HelpURL string `json:"helpUrl"`
	Nodes   []Node `json:"nodes"`
}

// Node is one element of a violation.
type Node struct {
	Target         []string `json:"target"`
	HTML           string   `json:"html"`
	FailureSummary string   `json:"failureSummary"`
}

// Serious reports whether the violation is serious or critical: what a
// page must not have.
func (v Violation) Serious() bool { return v.Impact == "serious" || v.Impact == "critical" }

func (v Violation) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s (%s): %s — %s", v.ID, v.Impact, v.Help, v.HelpURL)
	for _, n := range v.Nodes {
		fmt.Fprintf(&b, "\n    %s %s\n      %s", strings.Join(n.Target, " "), n.HTML,
			strings.ReplaceAll(n.FailureSummary, "\n", "\n      "))
	}
	return b.String()
}

// Run runs axe-core on the document of the tab ctx and returns the
// violations, every impact included.
func Run(ctx context.Context) ([]Violation, error) {
	loaded, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`typeof window.axe === 'object'`))
	if err != nil {
		return nil, fmt.Errorf("axe: %w", err)
	}
	if !loaded {
		if _, err := chromedp.Run(ctx, chromedp.Evaluate[chromedp.Void](axeSource)); err != nil {
			return nil, fmt.Errorf("axe: inject axe-core %s: %w", AxeVersion, err)
		}
	}
	tags := `['` + strings.Join(Tags, `','`) + `']`
	vs, err := chromedp.Run(ctx, chromedp.Evaluate[[]Violation](
		`axe.run(document, {runOnly: {type: 'tag', values: `+tags+`}, resultTypes: ['violations']}).then((r) => r.violations)`,
		chromedp.EvalAwaitPromise))
	if err != nil {
		return nil, fmt.Errorf("axe: run: %w", err)
	}
	return vs, nil
}

// Check runs axe-core on the tab ctx and fails tb for each serious or
// critical violation; lesser ones are logged. what names the page in the
// messages.
func Check(tb testing.TB, ctx context.Context, what string) {
	tb.Helper()
	vs, err := Run(ctx)
	if err != nil {
		tb.Fatalf("%s: %v", what, err)
	}
	for _, v := range vs {
		if v.Serious() {
			tb.Errorf("%s: accessibility violation %s", what, v)
		} else {
			tb.Logf("%s: accessibility note %s", what, v)
		}
	}
}

// Report runs axe-core on the tab ctx and logs every violation without
// failing tb, for a page whose fixes are still to come. It returns how
// many are serious or critical.
func Report(tb testing.TB, ctx context.Context, what string) int {
	tb.Helper()
	vs, err := Run(ctx)
	if err != nil {
		tb.Fatalf("%s: %v", what, err)
	}
	serious := 0
	for _, v := range vs {
		if v.Serious() {
			serious++
		}
		tb.Logf("%s: accessibility violation %s", what, v)
	}
	tb.Logf("%s: %d violations, %d serious or critical (axe-core %s)", what, len(vs), serious, AxeVersion)
	return serious
}

// DarkMode makes the tab ctx prefer a dark colour scheme (on) or a light
// one, so that both palettes of a page can be checked.
func DarkMode(ctx context.Context, on bool) error {
	scheme := "light"
	if on {
		scheme = "dark"
	}
	_, err := chromedp.Call(ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
		Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: scheme}},
	})
	if err != nil {
		return fmt.Errorf("emulate prefers-color-scheme %s: %w", scheme, err)
	}
	return nil
}

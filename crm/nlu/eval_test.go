package nlu_test

import (
	"bufio"
	"fmt"
	"os"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/idicbot/idicbot/configs"
	"github.com/idicbot/idicbot/crm/nlu"
)

// Targets of the evaluation set (see testdata/eval.tsv).
const (
	minAccuracy       = 0.95
	minEntityAccuracy = 0.95
)

type evalCase struct {
	line     int
	intent   string
	text     string
	entities map[string]string
}

func readEval(tb testing.TB) []evalCase {
	tb.Helper()
	f, err := os.Open("testdata/eval.tsv")
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	var out []evalCase
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		cols := strings.Split(line, "\t")
		if len(cols) != 3 {
			tb.Fatalf("eval.tsv:%d: want 3 tab-separated columns, got %d", n, len(cols))
		}
		c := evalCase{line: n, intent: cols[0], text: cols[1], entities: map[string]string{}}
		for _, kv := range strings.Split(cols[2], ";") {
			if kv = strings.TrimSpace(kv); kv == "" {
				continue
			}
			k, v, ok := strings.Cut(kv, "=")
			if !ok {
				tb.Fatalf("eval.tsv:%d: entity %q: want name=value", n, kv)
			}
			if c.entities[k] != "" {
				c.entities[k] += ","
			}
			c.entities[k] += v
		}
		out = append(out, c)
	}
	return out
}

func defaultClassifier(tb testing.TB) *nlu.Classifier {
	tb.Helper()
	d, err := configs.Load(time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC))
	if err != nil {
		tb.Fatal(err)
	}
	c, err := nlu.New(nlu.Merge(d.Intents, nlu.FromKnowledge(d.Knowledge)), d.Catalog)
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

// offerIntents are those the bot answers with an offer when one is eligible.
var offerIntents = []string{"greeting", "product", "price", "promotion", "buy", "availability"}

// harmful says whether answering a message meaning want as got hurts the
// shop: an offer to a complaint or after an opt-out phrase, an opt-out on an
// order cancel, a purchase flow after a refusal.
func harmful(want, got string) bool {
	switch want {
	case "complaint":
		return slices.Contains(offerIntents, got)
	case "opt_out":
		return slices.Contains(offerIntents, got) || got == "opt_in"
	case "cancel_order", "change_order", "order_status":
		return got == "opt_out"
	case "refuse", "price_objection":
		return got == "buy"
	}
	return false
}

func entityOf(r nlu.Result, name string) string {
	switch name {
	case "product":
		var ids []string
		for _, p := range r.Products {
			ids = append(ids, p.ID)
		}
		return strings.Join(ids, ",")
	case "phone":
		return r.Phone
	case "email":
		return r.Email
	case "ref":
		return r.OrderRef
	case "address":
		return r.Address
	}
	return "?"
}

// TestEval measures the classifier on the held-out set; `make eval` prints
// the report (go test -v), `make test` enforces the targets.
func TestEval(t *testing.T) {
	c := defaultClassifier(t)
	cases := readEval(t)
	if len(cases) < 400 {
		t.Fatalf("eval set has %d messages, want at least 400", len(cases))
	}
	type tally struct{ n, ok int }
	per := map[string]*tally{}
	confusion := map[[2]string]int{}
	var right, entRight, entTotal, harms int
	var report []string
	for _, tc := range cases {
		if ex := c.Example(tc.text); ex != "" {
			t.Errorf("eval.tsv:%d: %q is an example of %s once normalised: the set must be held out", tc.line, tc.text, ex)
		}
		r := c.Analyze(tc.text)
		got := r.Intent
		if !c.Sure(r.Prediction) {
			got = nlu.Unknown
		}
		tl := per[tc.intent]
		if tl == nil {
			tl = &tally{}
			per[tc.intent] = tl
		}
		tl.n++
		if got == tc.intent {
			tl.ok++
			right++
		} else {
			confusion[[2]string{tc.intent, got}]++
			report = append(report, fmt.Sprintf("  miss eval.tsv:%d %-15s → %-15s %.2f  %q (read %q)", tc.line, tc.intent, got, r.Confidence, tc.text, r.Text))
		}
		if harmful(tc.intent, got) {
			harms++
			t.Errorf("eval.tsv:%d: harmful: %q (%s) read as %s", tc.line, tc.text, tc.intent, got)
		}
		// Every entity the set names, and no product it does not name.
		names := []string{"product", "phone", "email", "ref", "address"}
		for _, name := range names {
			want := tc.entities[name]
			have := entityOf(r, name)
			if name == "address" && tc.intent != "address" && want == "" {
				continue // an address is read only when given
			}
			entTotal++
			if have == want {
				entRight++
			} else {
				report = append(report, fmt.Sprintf("  entity eval.tsv:%d %s = %q, want %q  (%q)", tc.line, name, have, want, tc.text))
			}
		}
	}
	intents := make([]string, 0, len(per))
	for k := range per {
		intents = append(intents, k)
	}
	sort.Strings(intents)
	var b strings.Builder
	fmt.Fprintf(&b, "intent accuracy per intent (%d messages):\n", len(cases))
	for _, k := range intents {
		tl := per[k]
		fmt.Fprintf(&b, "  %-16s %3d/%-3d %5.1f%%\n", k, tl.ok, tl.n, 100*float64(tl.ok)/float64(tl.n))
	}
	type pair struct {
		k [2]string
		n int
	}
	var pairs []pair
	for k, n := range confusion {
		pairs = append(pairs, pair{k, n})
	}
	sort.Slice(pairs, func(i, j int) bool {
		if pairs[i].n != pairs[j].n {
			return pairs[i].n > pairs[j].n
		}
		return pairs[i].k[0]+pairs[i].k[1] < pairs[j].k[0]+pairs[j].k[1]
	})
	b.WriteString("confusions (expected → read, count):\n")
	for _, p := range pairs {
		fmt.Fprintf(&b, "  %-16s → %-16s %d\n", p.k[0], p.k[1], p.n)
	}
	acc := float64(right) / float64(len(cases))
	entAcc := float64(entRight) / float64(entTotal)
	fmt.Fprintf(&b, "overall intent accuracy %.1f%% (%d/%d); entities %.1f%% (%d/%d); harmful %d\n",
		100*acc, right, len(cases), 100*entAcc, entRight, entTotal, harms)
	t.Log("\n" + b.String() + strings.Join(report, "\n"))
	if acc < minAccuracy {
		t.Errorf("intent accuracy %.1f%%, want at least %.0f%%", 100*acc, 100*minAccuracy)
	}
	if entAcc < minEntityAccuracy {
		t.Errorf("entity accuracy %.1f%%, want at least %.0f%%", 100*entAcc, 100*minEntityAccuracy)
	}
}

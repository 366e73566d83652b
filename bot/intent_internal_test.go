package bot

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/idicbot/idicbot/crm"
)

// goldenCustomerLines are the customers' lines ("> …") of the golden
// conversations.
func goldenCustomerLines(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", "conversations", "*.txt"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no conversations: %v", err)
	}
	var lines []string
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, line := range strings.Split(string(data), "\n") {
			if text, ok := strings.CutPrefix(line, "> "); ok {
				lines = append(lines, text)
			}
		}
	}
	return lines
}

// phraseIntent finds the intent the padded message's substrings name, as
// the loop over intentPhrases did: every customer line of the golden
// conversations, every phrase alone, inside other words and next to the
// others.
func TestPhraseIntentIsTheSubstringRule(t *testing.T) {
	byContains := func(padded string) (string, bool) {
		for _, ip := range intentPhrases {
			for _, p := range ip.phrases {
				if strings.Contains(padded, " "+p+" ") {
					return ip.intent, true
				}
			}
		}
		return "", false
	}
	texts := append([]string{"", " ", "ok", "chaos", "hello, how much is the macbook?", "cho mình xem tai nghe"}, goldenCustomerLines(t)...)
	for _, ip := range intentPhrases {
		for _, p := range ip.phrases {
			texts = append(texts, p, "x"+p, p+"x", "a "+p+" b", p+" "+intentPhrases[0].phrases[0], intentPhrases[len(intentPhrases)-1].phrases[0]+" "+p)
		}
	}
	for _, text := range texts {
		words := crm.Words(crm.Fold(text))
		gotIntent, gotOK := phraseIntent(words)
		wantIntent, wantOK := byContains(" " + strings.Join(words, " ") + " ")
		if gotIntent != wantIntent || gotOK != wantOK {
			t.Errorf("%q: phraseIntent = %q, %v; the substring rule: %q, %v", text, gotIntent, gotOK, wantIntent, wantOK)
		}
	}
}

// The price cues' word check and spaceBefore only skip what their
// patterns would refuse: every prefix of every customer line of the golden
// conversations, folded, and texts made to end at a cue.
func TestPriceCuesAreTheirPatterns(t *testing.T) {
	var texts []string
	for _, text := range goldenCustomerLines(t) {
		texts = append(texts, crm.Fold(text))
	}
	for _, c := range []priceCue{maxRe, minRe, aroundRe} {
		for _, w := range c.cues {
			texts = append(texts, w, w+" ", "x"+w+" ", "a "+w+"  ", "a "+w+" gia ", "a "+w+" muc gia tam ", w+"\t", "a\n"+w+" about ")
		}
	}
	texts = append(texts, "", " ", "\t", "a\f", "a\r", "a\v", "a\u00a0", "duoi 5 trieu va tren ")
	spaceBeforeRe := regexp.MustCompile(`(?:^|\s)$`)
	n := 0
	for _, text := range texts {
		for i := 0; i <= len(text); i++ {
			s := text[:i]
			for name, c := range map[string]priceCue{"max": maxRe, "min": minRe, "around": aroundRe} {
				if got, want := c.MatchString(s), c.re.MatchString(s); got != want {
					t.Errorf("%s cue on %q: %v, its pattern: %v", name, s, got, want)
				}
			}
			if got, want := (spaceBefore{}).MatchString(s), spaceBeforeRe.MatchString(s); got != want {
				t.Errorf("spaceBefore on %q: %v, `(?:^|\\s)$`: %v", s, got, want)
			}
			n++
		}
	}
	if n < 1000 {
		t.Fatalf("only %d prefixes", n)
	}
}

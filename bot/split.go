package bot

import (
	"strings"
	"unicode"
)

// SplitText cuts text into parts of at most limit characters (runes) for
// channels that cap a message's length, preferring a line break, then a
// space. Blank parts are dropped.
func SplitText(text string, limit int) []string {
	var out []string
	add := func(s string) {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	for {
		r := []rune(text)
		if len(r) <= limit {
			add(text)
			return out
		}
		cut := limit
		for i := limit; i > limit/2; i-- {
			if r[i] == '\n' {
				cut = i
				break
			}
		}
		if cut == limit {
			for i := limit; i > limit/2; i-- {
				if unicode.IsSpace(r[i]) {
					cut = i
					break
				}
			}
		}
		add(string(r[:cut]))
		text = string(r[cut:])
	}
}

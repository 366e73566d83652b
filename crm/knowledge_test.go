package crm

import (
	"strings"
	"testing"
)

func TestParseKnowledge(t *testing.T) {
	for _, tc := range []struct{ name, yaml, err string }{
		{"ok", "entries:\n  - {id: ship, questions: [phí ship], answer: {vi: Miễn phí, en: Free}}\n", ""},
		{"no questions", "entries:\n  - {id: ship, answer: {vi: x}}\n", "no questions"},
		{"no answer", "entries:\n  - {id: ship, questions: [q], answer: {vi: \" \"}}\n", "answer in vi or en is required"},
		{"bad id", "entries:\n  - {id: Ship Fee, questions: [q], answer: {vi: x}}\n", "id"},
		{"twice", "entries:\n  - {id: a, questions: [q], answer: {vi: x}}\n  - {id: a, questions: [q], answer: {vi: x}}\n", "defined twice"},
		{"a language", "entries:\n  - {id: a, questions: [q], answer: {fr: x}}\n", "answer in vi or en"},
		{"another language", "entries:\n  - {id: a, questions: [q], answer: {vi: x, fr: y}}\n", `language "fr"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			k, err := ParseKnowledge("knowledge.yaml", []byte(tc.yaml))
			if tc.err != "" {
				if err == nil || ErrorCode(err) != EINVALID || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want EINVALID about %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			e := k.Entry("ship")
			if e.AnswerIn("en") != "Free" || e.AnswerIn("vi") != "Miễn phí" || k.Entry("nope") != nil {
				t.Fatalf("entry %+v", e)
			}
			if txt := k.Text(); !strings.Contains(txt, "Miễn phí / Free") {
				t.Fatalf("text for the model: %q", txt)
			}
		})
	}
}

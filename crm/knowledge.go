package crm

import (
	"bytes"
	"context"
	"regexp"
	"strings"

	"go.yaml.in/yaml/v3"
)

// KnowledgeEntry is one answer of the shop's knowledge (shipping fees, COD,
// warranty …): the questions customers ask for it, as examples to learn
// from, and the answer per language.
type KnowledgeEntry struct {
	ID        string            `yaml:"id" json:"id"`
	Questions []string          `yaml:"questions" json:"questions"`
	Answer    map[string]string `yaml:"answer" json:"answer"`
	// Topic names the entry in a clarifying question ("Bạn muốn hỏi về phí
	// giao hàng?"), per language; optional.
	Topic map[string]string `yaml:"topic,omitempty" json:"topic,omitempty"`
}

// AnswerIn returns the entry's answer in lang, else in Vietnamese, else any.
func (e *KnowledgeEntry) AnswerIn(lang string) string {
	if a := e.Answer[lang]; a != "" {
		return a
	}
	if a := e.Answer["vi"]; a != "" {
		return a
	}
	for _, a := range e.Answer {
		return a
	}
	return ""
}

// Knowledge is the shop's knowledge entries.
type Knowledge struct {
	Entries []*KnowledgeEntry `yaml:"entries" json:"entries"`
}

// KnowledgeSource loads the shop's knowledge. The built-in one reads the
// configuration file; a store-backed one (entries edited in the admin, with
// versions) can take its place.
type KnowledgeSource interface {
	Knowledge(ctx context.Context) (*Knowledge, error)
}

var knowledgeID = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,40}$`)

// ParseKnowledge reads a knowledge file and checks every entry has an id,
// questions and a Vietnamese or English answer.
func ParseKnowledge(file string, data []byte) (*Knowledge, error) {
	var k Knowledge
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&k); err != nil {
		return nil, Errorf(EINVALID, "%s: %v", file, err)
	}
	seen := map[string]bool{}
	for i, e := range k.Entries {
		switch {
		case e == nil:
			return nil, Errorf(EINVALID, "%s: entry #%d is empty", file, i+1)
		case !knowledgeID.MatchString(e.ID):
			return nil, Errorf(EINVALID, "%s: entry #%d: id %q: want lower-case letters, digits, - and _", file, i+1, e.ID)
		case seen[e.ID]:
			return nil, Errorf(EINVALID, "%s: entry %q: defined twice", file, e.ID)
		case len(e.Questions) == 0:
			return nil, Errorf(EINVALID, "%s: entry %q: no questions", file, e.ID)
		case strings.TrimSpace(e.Answer["vi"]) == "" && strings.TrimSpace(e.Answer["en"]) == "":
			return nil, Errorf(EINVALID, "%s: entry %q: an answer in vi or en is required", file, e.ID)
		}
		for lang := range e.Answer {
			if lang != "vi" && lang != "en" {
				return nil, Errorf(EINVALID, "%s: entry %q: language %q: want vi or en", file, e.ID, lang)
			}
		}
		seen[e.ID] = true
	}
	return &k, nil
}

// Entry returns the entry with id, or nil.
func (k *Knowledge) Entry(id string) *KnowledgeEntry {
	if k == nil {
		return nil
	}
	for _, e := range k.Entries {
		if e.ID == id {
			return e
		}
	}
	return nil
}

// Text renders the entries for a language model's prompt: one line per
// entry with a sample question and the answers.
func (k *Knowledge) Text() string {
	if k == nil {
		return ""
	}
	var b strings.Builder
	for _, e := range k.Entries {
		b.WriteString("- ")
		b.WriteString(e.ID)
		b.WriteString(" (\"")
		b.WriteString(e.Questions[0])
		b.WriteString("\"): ")
		b.WriteString(e.AnswerIn("vi"))
		if en := e.Answer["en"]; en != "" && en != e.Answer["vi"] {
			b.WriteString(" / ")
			b.WriteString(en)
		}
		b.WriteByte('\n')
	}
	return b.String()
}

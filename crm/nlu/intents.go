package nlu

import (
	"bytes"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/idicbot/idicbot/crm"
)

// Intent is one thing customers mean, taught by example utterances.
type Intent struct {
	Name     string   `yaml:"name"`
	Examples []string `yaml:"examples"`
}

// intentFile is the layout of configs/intents.yaml.
type intentFile struct {
	Intents []*Intent `yaml:"intents"`
}

// ParseIntents reads an intents file: a list of intents, each with a name
// and example utterances. An intent named twice has its examples joined, so
// a shop's file can add examples to a built-in intent.
func ParseIntents(file string, data []byte) ([]*Intent, error) {
	var f intentFile
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil {
		return nil, crm.Errorf(crm.EINVALID, "%s: %v", file, err)
	}
	var out []*Intent
	byName := map[string]*Intent{}
	for i, in := range f.Intents {
		if in == nil || strings.TrimSpace(in.Name) == "" {
			return nil, crm.Errorf(crm.EINVALID, "%s: intent #%d: name is required", file, i+1)
		}
		if len(in.Examples) == 0 {
			return nil, crm.Errorf(crm.EINVALID, "%s: intent %q: no examples", file, in.Name)
		}
		for _, e := range in.Examples {
			if strings.TrimSpace(e) == "" {
				return nil, crm.Errorf(crm.EINVALID, "%s: intent %q: an example is empty", file, in.Name)
			}
		}
		if prev := byName[in.Name]; prev != nil {
			prev.Examples = append(prev.Examples, in.Examples...)
			continue
		}
		cp := &Intent{Name: in.Name, Examples: append([]string(nil), in.Examples...)}
		byName[in.Name] = cp
		out = append(out, cp)
	}
	return out, nil
}

// Merge returns base with extra's intents added: examples of an intent both
// name are joined, new intents come after base's.
func Merge(base, extra []*Intent) []*Intent {
	out := make([]*Intent, 0, len(base)+len(extra))
	byName := map[string]*Intent{}
	for _, list := range [][]*Intent{base, extra} {
		for _, in := range list {
			if prev := byName[in.Name]; prev != nil {
				prev.Examples = append(prev.Examples, in.Examples...)
				continue
			}
			cp := &Intent{Name: in.Name, Examples: append([]string(nil), in.Examples...)}
			byName[in.Name] = cp
			out = append(out, cp)
		}
	}
	return out
}

// FAQPrefix names the intent of a knowledge entry: faq:<id>.
const FAQPrefix = "faq:"

// FromKnowledge returns one intent per knowledge entry, faq:<id>, taught by
// the entry's questions.
func FromKnowledge(k *crm.Knowledge) []*Intent {
	if k == nil {
		return nil
	}
	out := make([]*Intent, 0, len(k.Entries))
	for _, e := range k.Entries {
		out = append(out, &Intent{Name: FAQPrefix + e.ID, Examples: e.Questions})
	}
	return out
}

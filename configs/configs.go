// Package configs holds the default configuration files, embedded in the
// binary so that `idicbot serve` runs with no files at all. The same files
// are the documented examples a user copies and edits.
package configs

import (
	"embed"
	"time"

	"github.com/idicbot/idicbot/crm"
	"github.com/idicbot/idicbot/crm/nlu"
)

// Files holds idicbot.yaml, segments.yaml, offers.yaml, catalog.yaml,
// intents.yaml, knowledge.yaml and knowledge.md as shipped.
//
//go:embed *.yaml *.md
var Files embed.FS

// Defaults are the built-in segment rules, catalog and offers, parsed and
// validated: what a fresh idicbot runs on, and what tests build a core from.
type Defaults struct {
	Segments *crm.Segments
	Catalog  *crm.Catalog
	Offers   []*crm.Offer
	// Intents are the example utterances the classifier learns from;
	// Knowledge the shop's FAQ entries (their questions are intents too).
	Intents   []*nlu.Intent
	Knowledge *crm.Knowledge
}

// Load parses the built-in files. now is the clock offer validation uses.
func Load(now time.Time) (Defaults, error) {
	var d Defaults
	read := func(name string) []byte { b, _ := Files.ReadFile(name); return b }
	var err error
	if d.Segments, err = crm.ParseSegments("configs/segments.yaml", read("segments.yaml")); err != nil {
		return d, err
	}
	if d.Catalog, err = crm.ParseCatalog("configs/catalog.yaml", read("catalog.yaml")); err != nil {
		return d, err
	}
	if d.Intents, err = nlu.ParseIntents("configs/intents.yaml", read("intents.yaml")); err != nil {
		return d, err
	}
	if d.Knowledge, err = crm.ParseKnowledge("configs/knowledge.yaml", read("knowledge.yaml")); err != nil {
		return d, err
	}
	d.Offers, err = crm.ParseOffers("configs/offers.yaml", read("offers.yaml"), d.Segments.Names(), now)
	return d, err
}

// Classifier builds the intent classifier from the built-in intents and the
// knowledge entries' questions, with the built-in catalog's products masked.
func (d Defaults) Classifier() (*nlu.Classifier, error) {
	return nlu.New(nlu.Merge(d.Intents, nlu.FromKnowledge(d.Knowledge)), d.Catalog)
}

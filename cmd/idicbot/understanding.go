package main

import (
	"fmt"

	"github.com/idicbot/idicbot/crm"
	"github.com/idicbot/idicbot/crm/nlu"
)

// understanding builds the intent classifier from the built-in intents, the
// shop's added examples (intents_file) and the knowledge entries'
// questions (knowledge_file, else the built-in entries). It returns the
// intents without the entries too: the FAQ edited in the admin rebuilds the
// classifier from them.
func understanding(cfg *Config, cat *crm.Catalog) (*nlu.Classifier, *crm.Knowledge, []*nlu.Intent, error) {
	data, name, err := cfg.ReadFile("", "intents.yaml")
	if err != nil {
		return nil, nil, nil, err
	}
	intents, err := nlu.ParseIntents(name, data)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("intents: %s", crm.ErrorMessage(err))
	}
	if cfg.IntentsFile != "" {
		data, name, err := cfg.ReadFile(cfg.IntentsFile, "intents.yaml")
		if err != nil {
			return nil, nil, nil, err
		}
		extra, err := nlu.ParseIntents(name, data)
		if err != nil {
			return nil, nil, nil, fmt.Errorf("intents: %s", crm.ErrorMessage(err))
		}
		intents = nlu.Merge(intents, extra)
	}
	data, name, err = cfg.ReadFile(cfg.KnowledgeFile, "knowledge.yaml")
	if err != nil {
		return nil, nil, nil, err
	}
	k, err := crm.ParseKnowledge(name, data)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("knowledge: %s", crm.ErrorMessage(err))
	}
	c, err := nlu.New(nlu.Merge(intents, nlu.FromKnowledge(k)), cat)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("intents: %s", crm.ErrorMessage(err))
	}
	return c, k, intents, nil
}

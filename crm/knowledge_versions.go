package crm

import (
	"context"
	"time"
)

// KnowledgeVersion is one saved version of the shop's knowledge entries
// (the FAQ: shipping, COD, warranty …), edited at run time from the admin
// page. Entries is the whole list, as ParseKnowledge reads it.
type KnowledgeVersion struct {
	Version int               `json:"version"`
	Entries []*KnowledgeEntry `json:"entries"`
	By      string            `json:"by"`
	Origin  string            `json:"origin"`
	At      time.Time         `json:"at"`
	// RolledBackFrom is the version this one restored, 0 for an edit.
	RolledBackFrom int `json:"rolled_back_from,omitempty"`
}

// KnowledgeVersions keeps the versions of the knowledge entries saved at
// run time; the newest is live and wins over the knowledge file.
type KnowledgeVersions interface {
	// KnowledgeHistory returns every saved version, newest first.
	KnowledgeHistory(ctx context.Context) ([]*KnowledgeVersion, error)
	// SaveKnowledge stores v, whose Version must follow the newest stored
	// one (1 for the first); otherwise someone saved meanwhile: ECONFLICT.
	SaveKnowledge(ctx context.Context, v *KnowledgeVersion) error
}

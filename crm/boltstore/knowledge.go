package boltstore

import (
	"context"

	"github.com/idicbot/idicbot/crm"
)

// bktKnowledge holds the versions of the knowledge entries saved at run time
// (crm.KnowledgeVersions; layout: versions.go).
var bktKnowledge = []byte("knowledge_versions")

var _ crm.KnowledgeVersions = (*DB)(nil)

// KnowledgeHistory implements crm.KnowledgeVersions.
func (db *DB) KnowledgeHistory(ctx context.Context) ([]*crm.KnowledgeVersion, error) {
	return versionHistory[crm.KnowledgeVersion](ctx, db, bktKnowledge, "knowledge")
}

// SaveKnowledge implements crm.KnowledgeVersions.
func (db *DB) SaveKnowledge(ctx context.Context, v *crm.KnowledgeVersion) error {
	return saveVersion(ctx, db, bktKnowledge, "knowledge", v.Version, v, func(latest int) error {
		return crm.Errorf(crm.ECONFLICT, "The FAQ entries were saved meanwhile (now version %d); reload and make your change again.", latest).
			Say("knowledge_conflict", latest)
	})
}

package pgstore

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/idicbot/idicbot/crm"
)

var _ crm.KnowledgeVersions = (*DB)(nil)

// KnowledgeHistory implements crm.KnowledgeVersions, newest first.
func (db *DB) KnowledgeHistory(ctx context.Context) ([]*crm.KnowledgeVersion, error) {
	rows, err := db.pool.Query(ctx, `SELECT data FROM knowledge_versions ORDER BY version DESC`)
	if err != nil {
		return nil, fmt.Errorf("read the knowledge versions: %w", err)
	}
	defer rows.Close()
	var out []*crm.KnowledgeVersion
	for rows.Next() {
		var data []byte
		if err := rows.Scan(&data); err != nil {
			return nil, fmt.Errorf("read the knowledge versions: %w", err)
		}
		v := new(crm.KnowledgeVersion)
		if err := json.Unmarshal(data, v); err != nil {
			return nil, fmt.Errorf("read the knowledge versions: %w", err)
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read the knowledge versions: %w", err)
	}
	return out, nil
}

// SaveKnowledge implements crm.KnowledgeVersions: v.Version must follow
// the newest stored one, whichever replica saved it.
func (db *DB) SaveKnowledge(ctx context.Context, v *crm.KnowledgeVersion) error {
	data, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode knowledge version %d: %w", v.Version, err)
	}
	tag, err := db.pool.Exec(ctx, `INSERT INTO knowledge_versions (version, data)
SELECT $1, $2 WHERE (SELECT coalesce(max(version), 0) FROM knowledge_versions) = $1 - 1
ON CONFLICT (version) DO NOTHING`, v.Version, data)
	if err != nil {
		return fmt.Errorf("save knowledge version %d: %w", v.Version, err)
	}
	if tag.RowsAffected() == 1 {
		return nil
	}
	var latest int
	if err := db.pool.QueryRow(ctx, `SELECT coalesce(max(version), 0) FROM knowledge_versions`).Scan(&latest); err != nil {
		return fmt.Errorf("save knowledge version %d: %w", v.Version, err)
	}
	return crm.Errorf(crm.ECONFLICT, "The FAQ entries were saved meanwhile (now version %d); reload and make your change again.", latest).
		Say("knowledge_conflict", latest)
}

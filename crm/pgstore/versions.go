package pgstore

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/idicbot/idicbot/crm"
)

// Versioned documents: the bot's phrases, the FAQ entries and the
// journeys, each a table of version → JSON. A save must follow the newest
// stored version, whichever replica saved it.

var (
	_ crm.MessagesVersions  = (*DB)(nil)
	_ crm.KnowledgeVersions = (*DB)(nil)
	_ crm.JourneyVersions   = (*DB)(nil)
)

// MessagesHistory implements crm.MessagesVersions, newest first.
func (db *DB) MessagesHistory(ctx context.Context) ([]*crm.MessagesVersion, error) {
	return versionHistory[crm.MessagesVersion](ctx, db, "messages_versions", "the messages versions", 0)
}

// SaveMessages implements crm.MessagesVersions.
func (db *DB) SaveMessages(ctx context.Context, v *crm.MessagesVersion) error {
	return db.saveVersion(ctx, "messages_versions", "messages", v.Version, v, func(latest int) error {
		return crm.Errorf(crm.ECONFLICT, "The bot's phrases were saved meanwhile (now version %d); reload and make your change again.", latest).
			Say("messages_conflict", latest)
	})
}

// KnowledgeHistory implements crm.KnowledgeVersions, newest first.
func (db *DB) KnowledgeHistory(ctx context.Context) ([]*crm.KnowledgeVersion, error) {
	return versionHistory[crm.KnowledgeVersion](ctx, db, "knowledge_versions", "the knowledge versions", 0)
}

// SaveKnowledge implements crm.KnowledgeVersions.
func (db *DB) SaveKnowledge(ctx context.Context, v *crm.KnowledgeVersion) error {
	return db.saveVersion(ctx, "knowledge_versions", "knowledge", v.Version, v, func(latest int) error {
		return crm.Errorf(crm.ECONFLICT, "The FAQ entries were saved meanwhile (now version %d); reload and make your change again.", latest).
			Say("knowledge_conflict", latest)
	})
}

// LatestJourneys implements crm.JourneyVersions.
func (db *DB) LatestJourneys(ctx context.Context) (*crm.JourneysVersion, error) {
	vs, err := versionHistory[crm.JourneysVersion](ctx, db, "journeys_versions", "the journeys", 1)
	if err != nil || len(vs) == 0 {
		return nil, err
	}
	return vs[0], nil
}

// SaveJourneys implements crm.JourneyVersions.
func (db *DB) SaveJourneys(ctx context.Context, v *crm.JourneysVersion) error {
	return db.saveVersion(ctx, "journeys_versions", "journeys", v.Version, v, func(latest int) error {
		return crm.Errorf(crm.ECONFLICT, "The journeys were saved meanwhile (now version %d); reload and make your change again.", latest).
			Say("journeys_conflict", latest)
	})
}

// versionHistory reads a versions table newest first, at most limit
// versions (0: all). table is one of this file's constants, never input.
func versionHistory[T any](ctx context.Context, db *DB, table, what string, limit int) ([]*T, error) {
	sql := `SELECT data FROM ` + table + ` ORDER BY version DESC`
	if limit > 0 {
		sql += fmt.Sprintf(` LIMIT %d`, limit)
	}
	rows, err := db.pool.Query(ctx, sql)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", what, err)
	}
	defer rows.Close()
	var out []*T
	for rows.Next() {
		var data []byte
		if err := rows.Scan(&data); err != nil {
			return nil, fmt.Errorf("read %s: %w", what, err)
		}
		v := new(T)
		if err := json.Unmarshal(data, v); err != nil {
			return nil, fmt.Errorf("read %s: %w", what, err)
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read %s: %w", what, err)
	}
	return out, nil
}

// saveVersion stores v as version of table when it follows the newest
// stored one, else returns conflict(the newest version).
func (db *DB) saveVersion(ctx context.Context, table, what string, version int, v any, conflict func(latest int) error) error {
	data, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode %s version %d: %w", what, version, err)
	}
	tag, err := db.pool.Exec(ctx, `INSERT INTO `+table+` (version, data)
SELECT $1, $2 WHERE (SELECT coalesce(max(version), 0) FROM `+table+`) = $1 - 1
ON CONFLICT (version) DO NOTHING`, version, data)
	if err != nil {
		return fmt.Errorf("save %s version %d: %w", what, version, err)
	}
	if tag.RowsAffected() == 1 {
		return nil
	}
	var latest int
	if err := db.pool.QueryRow(ctx, `SELECT coalesce(max(version), 0) FROM `+table).Scan(&latest); err != nil {
		return fmt.Errorf("save %s version %d: %w", what, version, err)
	}
	return conflict(latest)
}

package pgstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/idicbot/idicbot/crm"
)

var (
	_ crm.MessagesVersions = (*DB)(nil)
	_ crm.LangPrefs        = (*DB)(nil)
)

// MessagesHistory implements crm.MessagesVersions, newest first.
func (db *DB) MessagesHistory(ctx context.Context) ([]*crm.MessagesVersion, error) {
	rows, err := db.pool.Query(ctx, `SELECT data FROM messages_versions ORDER BY version DESC`)
	if err != nil {
		return nil, fmt.Errorf("read the messages versions: %w", err)
	}
	defer rows.Close()
	var out []*crm.MessagesVersion
	for rows.Next() {
		var data []byte
		if err := rows.Scan(&data); err != nil {
			return nil, fmt.Errorf("read the messages versions: %w", err)
		}
		m := new(crm.MessagesVersion)
		if err := json.Unmarshal(data, m); err != nil {
			return nil, fmt.Errorf("read the messages versions: %w", err)
		}
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read the messages versions: %w", err)
	}
	return out, nil
}

// SaveMessages implements crm.MessagesVersions: v.Version must follow
// the newest stored one, whichever replica saved it.
func (db *DB) SaveMessages(ctx context.Context, v *crm.MessagesVersion) error {
	data, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode messages version %d: %w", v.Version, err)
	}
	tag, err := db.pool.Exec(ctx, `INSERT INTO messages_versions (version, data)
SELECT $1, $2 WHERE (SELECT coalesce(max(version), 0) FROM messages_versions) = $1 - 1
ON CONFLICT (version) DO NOTHING`, v.Version, data)
	if err != nil {
		return fmt.Errorf("save messages version %d: %w", v.Version, err)
	}
	if tag.RowsAffected() == 1 {
		return nil
	}
	var latest int
	if err := db.pool.QueryRow(ctx, `SELECT coalesce(max(version), 0) FROM messages_versions`).Scan(&latest); err != nil {
		return fmt.Errorf("save messages version %d: %w", v.Version, err)
	}
	return crm.Errorf(crm.ECONFLICT, "The bot's phrases were saved meanwhile (now version %d); reload and make your change again.", latest).
		Say("messages_conflict", latest)
}

// Lang implements crm.LangPrefs.
func (db *DB) Lang(ctx context.Context, who string) (string, error) {
	var lang string
	err := db.pool.QueryRow(ctx, `SELECT lang FROM lang_prefs WHERE who = $1`, who).Scan(&lang)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("read the language of %s: %w", who, err)
	}
	return lang, nil
}

// SetLang implements crm.LangPrefs.
func (db *DB) SetLang(ctx context.Context, who, lang string) error {
	if !validKey(who) {
		return crm.Errorf(crm.EINVALID, "a language choice needs whose it is")
	}
	var err error
	if lang == "" {
		_, err = db.pool.Exec(ctx, `DELETE FROM lang_prefs WHERE who = $1`, who)
	} else {
		_, err = db.pool.Exec(ctx, `INSERT INTO lang_prefs (who, lang) VALUES ($1, $2)
ON CONFLICT (who) DO UPDATE SET lang = EXCLUDED.lang`, who, lang)
	}
	if err != nil {
		return fmt.Errorf("save the language of %s: %w", who, err)
	}
	return nil
}

var _ crm.LangChoices = (*DB)(nil)

// LangChoices implements crm.LangChoices.
func (db *DB) LangChoices(ctx context.Context) (map[string]string, error) {
	rows, err := db.pool.Query(ctx, `SELECT who, lang FROM lang_prefs`)
	if err != nil {
		return nil, fmt.Errorf("read the language choices: %w", err)
	}
	out := map[string]string{}
	var who, lang string
	if _, err := pgx.ForEachRow(rows, []any{&who, &lang}, func() error {
		out[who] = lang
		return nil
	}); err != nil {
		return nil, fmt.Errorf("read the language choices: %w", err)
	}
	return out, nil
}

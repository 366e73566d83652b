package pgstore

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/idicbot/idicbot/crm"
)

var _ crm.LangPrefs = (*DB)(nil)

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

package boltstore

import (
	"context"
	"fmt"

	"go.etcd.io/bbolt"

	"github.com/idicbot/idicbot/crm"
)

// bktLangPrefs holds who → language code of the people who run the shop
// (crm.LangPrefs). It is created on first write, outside the schema's
// buckets: a setting, not CRM data, read once per command.
var bktLangPrefs = []byte("lang_prefs")

var (
	_ crm.LangPrefs   = (*DB)(nil)
	_ crm.LangChoices = (*DB)(nil)
)

// Lang implements crm.LangPrefs.
func (db *DB) Lang(ctx context.Context, who string) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	var lang string
	err := db.view(func(tx *bbolt.Tx) error {
		if b := tx.Bucket(bktLangPrefs); b != nil {
			lang = string(b.Get([]byte(who)))
		}
		return nil
	})
	if err != nil {
		return "", fmt.Errorf("read the language of %s: %w", who, err)
	}
	return lang, nil
}

// SetLang implements crm.LangPrefs.
func (db *DB) SetLang(ctx context.Context, who, lang string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if who == "" {
		return crm.Errorf(crm.EINVALID, "a language choice needs whose it is")
	}
	err := db.update(func(tx *bbolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists(bktLangPrefs)
		if err != nil {
			return err
		}
		if lang == "" {
			return b.Delete([]byte(who))
		}
		return b.Put([]byte(who), []byte(lang))
	})
	if err != nil {
		return fmt.Errorf("save the language of %s: %w", who, err)
	}
	return nil
}

// LangChoices implements crm.LangChoices.
func (db *DB) LangChoices(ctx context.Context) (map[string]string, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	out := map[string]string{}
	err := db.view(func(tx *bbolt.Tx) error {
		b := tx.Bucket(bktLangPrefs)
		if b == nil {
			return nil
		}
		return b.ForEach(func(k, v []byte) error {
			out[string(k)] = string(v)
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("read the language choices: %w", err)
	}
	return out, nil
}

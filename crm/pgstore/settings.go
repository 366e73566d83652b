package pgstore

import (
	"fmt"
	"time"

	"github.com/idicbot/idicbot/crm"
)

// Names of the settings table's rows.
const (
	settingSegmentRules       = "segment_rules"
	settingSegmentRuleChanges = "segment_rule_changes"
	settingOffersSeeded       = "offers_seeded"
)

func (t *Tx) setting(name string) ([]byte, bool, error) {
	var v []byte
	found, err := t.queryRow("read setting "+name, `SELECT value FROM settings WHERE name = $1`+t.forUpdate(), []any{name}, &v)
	if v == nil && found {
		v = []byte{}
	}
	return v, found, err
}

func (t *Tx) putSetting(name string, v []byte) error {
	if v == nil {
		_, err := t.exec("delete setting "+name, `DELETE FROM settings WHERE name = $1`, name)
		return err
	}
	_, err := t.exec("save setting "+name, `INSERT INTO settings (name, value) VALUES ($1, $2)
ON CONFLICT (name) DO UPDATE SET value = EXCLUDED.value`, name, v)
	return err
}

// SegmentRules implements crm.Tx.
func (t *Tx) SegmentRules() ([]byte, error) {
	v, _, err := t.setting(settingSegmentRules)
	return v, err
}

// PutSegmentRules implements crm.Tx; nil removes the saved rules.
func (t *Tx) PutSegmentRules(yaml []byte) error {
	return t.putSetting(settingSegmentRules, yaml)
}

// SegmentRuleChanges implements crm.Tx.
func (t *Tx) SegmentRuleChanges() ([]crm.SegmentRuleChange, error) {
	v, found, err := t.setting(settingSegmentRuleChanges)
	if err != nil || !found {
		return nil, err
	}
	var out []crm.SegmentRuleChange
	if err := decode(settingSegmentRuleChanges, v, &out); err != nil {
		return nil, err
	}
	return out, nil
}

// PutSegmentRuleChanges implements crm.Tx, keeping the last
// crm.MaxSegmentRuleChanges.
func (t *Tx) PutSegmentRuleChanges(changes []crm.SegmentRuleChange) error {
	if len(changes) > crm.MaxSegmentRuleChanges {
		changes = changes[len(changes)-crm.MaxSegmentRuleChanges:]
	}
	data, err := encode(changes)
	if err != nil {
		return err
	}
	return t.putSetting(settingSegmentRuleChanges, data)
}

// HandoffThread implements crm.Tx.
func (t *Tx) HandoffThread(thread string) (crm.ID, error) {
	if !validKey(thread) {
		return 0, nil
	}
	var id int64
	_, err := t.queryRow("read handoff thread", `SELECT customer_id FROM handoff_threads WHERE thread = $1`, []any{thread}, &id)
	return crm.ID(id), err
}

// PutHandoffThread implements crm.Tx.
func (t *Tx) PutHandoffThread(thread string, customer crm.ID) error {
	if !validKey(thread) || len(thread) > 256 {
		return crm.Errorf(crm.EINVALID, "A thread id of 1 to 256 bytes is required.")
	}
	if customer == 0 {
		_, err := t.exec("unlink handoff thread", `DELETE FROM handoff_threads WHERE thread = $1`, thread)
		return err
	}
	_, err := t.exec("link handoff thread", `INSERT INTO handoff_threads (thread, customer_id) VALUES ($1, $2)
ON CONFLICT (thread) DO UPDATE SET customer_id = EXCLUDED.customer_id`, thread, int64(customer))
	return err
}

// ChannelToken implements crm.Tx. In an Update it locks the token's row:
// a refresh token is single-use, so two refreshes must not both use one.
func (t *Tx) ChannelToken(name string) (*crm.ChannelToken, error) {
	var data []byte
	found, err := t.queryRow("read channel token", `SELECT data FROM channel_tokens WHERE name = $1`+t.forUpdate(), []any{name}, &data)
	if err != nil || !found {
		return nil, err
	}
	tok := new(crm.ChannelToken)
	if err := decode("channel token", data, tok); err != nil {
		return nil, err
	}
	return tok, nil
}

// PutChannelToken implements crm.Tx; nil removes the token.
func (t *Tx) PutChannelToken(name string, tok *crm.ChannelToken) error {
	if !validKey(name) || len(name) > 64 {
		return crm.Errorf(crm.EINVALID, "A token name of 1 to 64 bytes is required.")
	}
	if tok == nil {
		_, err := t.exec("delete channel token", `DELETE FROM channel_tokens WHERE name = $1`, name)
		return err
	}
	data, err := encode(tok)
	if err != nil {
		return err
	}
	_, err = t.exec("save channel token", `INSERT INTO channel_tokens (name, data) VALUES ($1, $2)
ON CONFLICT (name) DO UPDATE SET data = EXCLUDED.data`, name, data)
	return err
}

// OffersSeeded implements crm.Tx.
func (t *Tx) OffersSeeded() (time.Time, error) {
	v, found, err := t.setting(settingOffersSeeded)
	if err != nil || !found {
		return time.Time{}, err
	}
	at, err := time.Parse(time.RFC3339Nano, string(v))
	if err != nil {
		return time.Time{}, fmt.Errorf("setting %s: %w", settingOffersSeeded, err)
	}
	return at, nil
}

// MarkOffersSeeded implements crm.Tx.
func (t *Tx) MarkOffersSeeded(at time.Time) error {
	return t.putSetting(settingOffersSeeded, []byte(at.UTC().Format(time.RFC3339Nano)))
}

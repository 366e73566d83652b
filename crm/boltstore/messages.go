package boltstore

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"

	"go.etcd.io/bbolt"

	"github.com/idicbot/idicbot/crm"
)

// bktMessages holds the versions of the messages file saved at run time
// (crm.MessagesVersions): version (8 bytes, big-endian) → JSON. Created on
// the first save, outside the schema's buckets: a shop setting, not CRM
// data.
var bktMessages = []byte("messages_versions")

var _ crm.MessagesVersions = (*DB)(nil)

// MessagesHistory implements crm.MessagesVersions.
func (db *DB) MessagesHistory(ctx context.Context) ([]*crm.MessagesVersion, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var out []*crm.MessagesVersion
	err := db.view(func(tx *bbolt.Tx) error {
		b := tx.Bucket(bktMessages)
		if b == nil {
			return nil
		}
		c := b.Cursor()
		for k, v := c.Last(); k != nil; k, v = c.Prev() {
			var m crm.MessagesVersion
			if err := json.Unmarshal(v, &m); err != nil {
				return fmt.Errorf("messages version %d: %w", binary.BigEndian.Uint64(k), err)
			}
			out = append(out, &m)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read the messages versions: %w", err)
	}
	return out, nil
}

// SaveMessages implements crm.MessagesVersions.
func (db *DB) SaveMessages(ctx context.Context, v *crm.MessagesVersion) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	data, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode messages version %d: %w", v.Version, err)
	}
	return db.update(func(tx *bbolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists(bktMessages)
		if err != nil {
			return fmt.Errorf("save messages version %d: %w", v.Version, err)
		}
		latest := 0
		if k, _ := b.Cursor().Last(); k != nil {
			latest = int(binary.BigEndian.Uint64(k))
		}
		if v.Version != latest+1 {
			return crm.Errorf(crm.ECONFLICT, "The bot's phrases were saved meanwhile (now version %d); reload and make your change again.", latest).
				Say("messages_conflict", latest)
		}
		key := make([]byte, 8)
		binary.BigEndian.PutUint64(key, uint64(v.Version))
		if err := b.Put(key, data); err != nil {
			return fmt.Errorf("save messages version %d: %w", v.Version, err)
		}
		return nil
	})
}

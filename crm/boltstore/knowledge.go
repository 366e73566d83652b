package boltstore

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"

	"go.etcd.io/bbolt"

	"github.com/idicbot/idicbot/crm"
)

// bktKnowledge holds the versions of the knowledge entries saved at run time
// (crm.KnowledgeVersions): version (8 bytes, big-endian) → JSON. Created on
// the first save, outside the schema's buckets: a shop setting, not CRM
// data.
var bktKnowledge = []byte("knowledge_versions")

var _ crm.KnowledgeVersions = (*DB)(nil)

// KnowledgeHistory implements crm.KnowledgeVersions.
func (db *DB) KnowledgeHistory(ctx context.Context) ([]*crm.KnowledgeVersion, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var out []*crm.KnowledgeVersion
	err := db.view(func(tx *bbolt.Tx) error {
		b := tx.Bucket(bktKnowledge)
		if b == nil {
			return nil
		}
		c := b.Cursor()
		for k, v := c.Last(); k != nil; k, v = c.Prev() {
			var m crm.KnowledgeVersion
			if err := json.Unmarshal(v, &m); err != nil {
				return fmt.Errorf("knowledge version %d: %w", binary.BigEndian.Uint64(k), err)
			}
			out = append(out, &m)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read the knowledge versions: %w", err)
	}
	return out, nil
}

// SaveKnowledge implements crm.KnowledgeVersions.
func (db *DB) SaveKnowledge(ctx context.Context, v *crm.KnowledgeVersion) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	data, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode knowledge version %d: %w", v.Version, err)
	}
	return db.update(func(tx *bbolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists(bktKnowledge)
		if err != nil {
			return fmt.Errorf("save knowledge version %d: %w", v.Version, err)
		}
		latest := 0
		if k, _ := b.Cursor().Last(); k != nil {
			latest = int(binary.BigEndian.Uint64(k))
		}
		if v.Version != latest+1 {
			return crm.Errorf(crm.ECONFLICT, "The FAQ entries were saved meanwhile (now version %d); reload and make your change again.", latest).
				Say("knowledge_conflict", latest)
		}
		key := make([]byte, 8)
		binary.BigEndian.PutUint64(key, uint64(v.Version))
		if err := b.Put(key, data); err != nil {
			return fmt.Errorf("save knowledge version %d: %w", v.Version, err)
		}
		return nil
	})
}

package boltstore

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"

	"go.etcd.io/bbolt"

	"github.com/idicbot/idicbot/crm"
)

// bktJourneys holds the versions of the journeys saved at run time
// (crm.JourneyVersions): version (8 bytes, big-endian) → JSON. Created on
// the first save, outside the schema's buckets: a shop setting, not CRM
// data.
var bktJourneys = []byte("journeys_versions")

var _ crm.JourneyVersions = (*DB)(nil)

// LatestJourneys implements crm.JourneyVersions.
func (db *DB) LatestJourneys(ctx context.Context) (*crm.JourneysVersion, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var out *crm.JourneysVersion
	err := db.view(func(tx *bbolt.Tx) error {
		b := tx.Bucket(bktJourneys)
		if b == nil {
			return nil
		}
		k, v := b.Cursor().Last()
		if k == nil {
			return nil
		}
		out = new(crm.JourneysVersion)
		if err := json.Unmarshal(v, out); err != nil {
			return fmt.Errorf("journeys version %d: %w", binary.BigEndian.Uint64(k), err)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read the journeys: %w", err)
	}
	return out, nil
}

// SaveJourneys implements crm.JourneyVersions.
func (db *DB) SaveJourneys(ctx context.Context, v *crm.JourneysVersion) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	data, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode journeys version %d: %w", v.Version, err)
	}
	return db.update(func(tx *bbolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists(bktJourneys)
		if err != nil {
			return fmt.Errorf("save journeys version %d: %w", v.Version, err)
		}
		latest := 0
		if k, _ := b.Cursor().Last(); k != nil {
			latest = int(binary.BigEndian.Uint64(k))
		}
		if v.Version != latest+1 {
			return crm.Errorf(crm.ECONFLICT, "The journeys were saved meanwhile (now version %d); reload and make your change again.", latest).
				Say("journeys_conflict", latest)
		}
		key := make([]byte, 8)
		binary.BigEndian.PutUint64(key, uint64(v.Version))
		if err := b.Put(key, data); err != nil {
			return fmt.Errorf("save journeys version %d: %w", v.Version, err)
		}
		return nil
	})
}

package boltstore

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"

	"go.etcd.io/bbolt"
)

// Shop documents edited at run time and kept with every version (the bot's
// phrases, the FAQ entries, the journeys) share one layout: a bucket of
// version (8 bytes, big-endian) → JSON, created on the first save, outside
// the schema's buckets (a shop setting, not CRM data). A save must follow
// the newest version; the caller's conflict error says so in its words.

// versionHistory decodes every version of bucket, newest first (nil when
// none was saved). what names the document in errors.
func versionHistory[T any](ctx context.Context, db *DB, bucket []byte, what string) ([]*T, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var out []*T
	err := db.view(func(tx *bbolt.Tx) error {
		b := tx.Bucket(bucket)
		if b == nil {
			return nil
		}
		c := b.Cursor()
		for k, v := c.Last(); k != nil; k, v = c.Prev() {
			m := new(T)
			if err := json.Unmarshal(v, m); err != nil {
				return fmt.Errorf("%s version %d: %w", what, binary.BigEndian.Uint64(k), err)
			}
			out = append(out, m)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read the %s versions: %w", what, err)
	}
	return out, nil
}

// latestVersion decodes the newest version of bucket, nil when none.
func latestVersion[T any](ctx context.Context, db *DB, bucket []byte, what string) (*T, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var out *T
	err := db.view(func(tx *bbolt.Tx) error {
		b := tx.Bucket(bucket)
		if b == nil {
			return nil
		}
		k, v := b.Cursor().Last()
		if k == nil {
			return nil
		}
		out = new(T)
		if err := json.Unmarshal(v, out); err != nil {
			return fmt.Errorf("%s version %d: %w", what, binary.BigEndian.Uint64(k), err)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read the %s: %w", what, err)
	}
	return out, nil
}

// saveVersion stores doc as version of bucket. A version that does not
// follow the newest stored one (1 for the first) gets conflict(latest).
func saveVersion(ctx context.Context, db *DB, bucket []byte, what string, version int, doc any, conflict func(latest int) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	data, err := json.Marshal(doc)
	if err != nil {
		return fmt.Errorf("encode %s version %d: %w", what, version, err)
	}
	return db.update(func(tx *bbolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists(bucket)
		if err != nil {
			return fmt.Errorf("save %s version %d: %w", what, version, err)
		}
		latest := 0
		if k, _ := b.Cursor().Last(); k != nil {
			latest = int(binary.BigEndian.Uint64(k))
		}
		if version != latest+1 {
			return conflict(latest)
		}
		key := make([]byte, 8)
		binary.BigEndian.PutUint64(key, uint64(version))
		if err := b.Put(key, data); err != nil {
			return fmt.Errorf("save %s version %d: %w", what, version, err)
		}
		return nil
	})
}

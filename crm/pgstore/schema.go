package pgstore

import (
	"context"
	"fmt"
	"time"
)

// migrations are the schema's steps, in order: migrations[i] brings the
// schema to version i+1. Append only: a released step is never edited, a
// change is a new step. Text keys are COLLATE "C" so they sort by bytes,
// as bbolt's keys do, whatever the database's locale.
var migrations = []string{
	// 1: everything crm.Tx keeps.
	`
CREATE SEQUENCE customers_id_seq;
CREATE SEQUENCE interactions_id_seq;
CREATE SEQUENCE orders_id_seq;
CREATE SEQUENCE outbox_id_seq;
CREATE SEQUENCE events_seq;

CREATE TABLE customers (
	id      bigint PRIMARY KEY,
	segment text COLLATE "C" NOT NULL DEFAULT '',
	spent   bigint NOT NULL DEFAULT 0, -- total spent, negatives as 0: orders a segment
	data    bytea NOT NULL
);
CREATE INDEX customers_segment ON customers (segment, spent DESC, id) WHERE segment <> '';

-- A merged-away id leads to the customer it was merged into.
CREATE TABLE customer_redirects (
	id          bigint PRIMARY KEY,
	merged_into bigint NOT NULL
);
CREATE INDEX customer_redirects_into ON customer_redirects (merged_into);

-- Unique keys: kind i (identity channel:user), p (phone), e (email), x (external id).
CREATE TABLE customer_keys (
	kind        "char" NOT NULL,
	key         text COLLATE "C" NOT NULL,
	customer_id bigint NOT NULL,
	PRIMARY KEY (kind, key)
);
CREATE INDEX customer_keys_customer ON customer_keys (customer_id);

-- Shared values: kind u (channel 0x01 username), c (claimed phone or email).
CREATE TABLE customer_values (
	kind        "char" NOT NULL,
	value       text COLLATE "C" NOT NULL,
	customer_id bigint NOT NULL,
	PRIMARY KEY (kind, value, customer_id)
);
CREATE INDEX customer_values_customer ON customer_values (customer_id);

-- Folded name words; names holds every word of the name, for the other query words.
CREATE TABLE customer_words (
	word        text COLLATE "C" NOT NULL,
	customer_id bigint NOT NULL,
	names       text COLLATE "C" NOT NULL,
	PRIMARY KEY (word, customer_id)
);
CREATE INDEX customer_words_customer ON customer_words (customer_id);

CREATE TABLE seen (
	channel        text COLLATE "C" NOT NULL,
	message_id     text COLLATE "C" NOT NULL,
	interaction_id bigint NOT NULL,
	marked_at      bigint NOT NULL, -- Unix nanoseconds: retention prunes by it
	PRIMARY KEY (channel, message_id)
);
CREATE INDEX seen_interaction ON seen (interaction_id) WHERE interaction_id <> 0;
CREATE INDEX seen_marked ON seen (marked_at);

CREATE TABLE interactions (
	id          bigint PRIMARY KEY,
	customer_id bigint NOT NULL,
	data        bytea NOT NULL
);
CREATE INDEX interactions_customer ON interactions (customer_id, id);

CREATE TABLE orders (
	id          bigint PRIMARY KEY,
	customer_id bigint NOT NULL,
	ref         text COLLATE "C" UNIQUE, -- NULL: no ref
	data        bytea NOT NULL
);
CREATE INDEX orders_customer ON orders (customer_id, id);

CREATE TABLE offers (
	id   text COLLATE "C" PRIMARY KEY,
	data bytea NOT NULL
);
CREATE TABLE offer_versions (
	id      text COLLATE "C" NOT NULL,
	version bigint NOT NULL,
	data    bytea NOT NULL,
	PRIMARY KEY (id, version)
);

-- The typed event log: by time for reports, by customer and time for
-- exports and erasures (message events are the conversation log's).
CREATE TABLE events (
	seq         bigint PRIMARY KEY,
	customer_id bigint NOT NULL,
	at          bigint NOT NULL, -- Unix nanoseconds
	kind        text COLLATE "C" NOT NULL,
	data        bytea NOT NULL
);
CREATE INDEX events_time ON events (at, seq);
CREATE INDEX events_customer ON events (customer_id, at, seq) WHERE kind NOT IN ('message_in', 'message_out');
CREATE INDEX events_customer_messages ON events (customer_id) WHERE kind IN ('message_in', 'message_out');

CREATE TABLE outbox (
	id           bigint PRIMARY KEY,
	customer_id  bigint NOT NULL,
	status       text COLLATE "C" NOT NULL,
	priority     smallint NOT NULL,
	due          bigint NOT NULL,  -- Unix nanoseconds, 0: at once
	lease_owner  text COLLATE "C" NOT NULL DEFAULT '',
	lease_until  bigint NOT NULL DEFAULT 0,
	attempts     integer NOT NULL DEFAULT 0,
	next_attempt bigint NOT NULL DEFAULT 0,
	last_error   text NOT NULL DEFAULT '',
	sent_at      bigint NOT NULL DEFAULT 0,
	created_at   bigint NOT NULL DEFAULT 0,
	data         bytea NOT NULL
);
CREATE INDEX outbox_claim ON outbox (priority, due, id) WHERE status = 'pending';
CREATE INDEX outbox_customer ON outbox (customer_id);
CREATE INDEX outbox_done ON outbox (greatest(sent_at, created_at)) WHERE status <> 'pending';

-- Counters are spread over shards so that concurrent transactions adding
-- to one counter do not queue on one row; a read adds the shards up.
CREATE TABLE counters (
	name  text COLLATE "C" NOT NULL,
	shard smallint NOT NULL,
	value bigint NOT NULL,
	PRIMARY KEY (name, shard)
);

CREATE TABLE settings (
	name  text COLLATE "C" PRIMARY KEY,
	value bytea NOT NULL
);
CREATE TABLE handoff_threads (
	thread      text COLLATE "C" PRIMARY KEY,
	customer_id bigint NOT NULL
);
CREATE TABLE channel_tokens (
	name text COLLATE "C" PRIMARY KEY,
	data bytea NOT NULL
);
CREATE TABLE erasures (
	customer_id bigint PRIMARY KEY,
	data        bytea NOT NULL
);
`,
	// 2: the leases of bot/pgreplicas (singletons) and the admin sessions
	// every replica must know.
	`
CREATE TABLE leases (
	name   text COLLATE "C" PRIMARY KEY,
	holder text NOT NULL,
	until  timestamptz NOT NULL
);
-- key: a hash of the session cookie, never the cookie.
CREATE TABLE admin_sessions (
	key     text COLLATE "C" PRIMARY KEY,
	data    bytea NOT NULL,
	expires timestamptz NOT NULL
);
CREATE INDEX admin_sessions_expires ON admin_sessions (expires);
`,
	// 3: campaigns and journeys (crm.Campaigns).
	`
CREATE TABLE campaigns (
	id         text COLLATE "C" PRIMARY KEY,
	created_at bigint NOT NULL, -- Unix nanoseconds: the list is newest first
	data       bytea NOT NULL
);
CREATE TABLE campaign_sends (
	campaign    text COLLATE "C" NOT NULL,
	customer_id bigint NOT NULL,
	data        bytea NOT NULL,
	PRIMARY KEY (campaign, customer_id)
);
CREATE TABLE campaign_outbox (
	outbox_id   bigint PRIMARY KEY,
	campaign    text COLLATE "C" NOT NULL,
	customer_id bigint NOT NULL
);
-- One row per promotion queued (the per-customer cap counts them).
CREATE TABLE promotions (
	customer_id bigint NOT NULL,
	at          bigint NOT NULL, -- Unix nanoseconds
	campaign    text COLLATE "C" NOT NULL,
	PRIMARY KEY (customer_id, at)
);
-- The bot's phrases saved at run time (crm.MessagesVersions), and the
-- language each person who runs the shop chose (crm.LangPrefs).
CREATE TABLE messages_versions (
	version integer PRIMARY KEY,
	data    bytea NOT NULL
);
CREATE TABLE lang_prefs (
	who  text COLLATE "C" PRIMARY KEY,
	lang text NOT NULL
);
`,
	// 2: the journeys edited on the admin page (crm.JourneyVersions).
	`
CREATE TABLE journeys_versions (
	version integer PRIMARY KEY,
	data    bytea NOT NULL
);
`,
	// 3: the shop's FAQ entries saved at run time (crm.KnowledgeVersions).
	`
CREATE TABLE knowledge_versions (
	version integer PRIMARY KEY,
	data    bytea NOT NULL
);
`,
	// The name words' index carries the folded names, so a name search
	// reads the rarest word's range and checks the other words in the
	// index alone (an index-only scan), never visiting the table.
	`
ALTER TABLE customer_words DROP CONSTRAINT customer_words_pkey,
	ADD CONSTRAINT customer_words_pkey PRIMARY KEY (word, customer_id) INCLUDE (names);
`,
	// 7: customers, interactions and outbox items are written in the binary
	// form of package reccodec, no longer JSON. Nothing in the tables
	// changes (JSON rows still read); the step is there so that an older
	// binary refuses the database at start (ErrNewerSchema) instead of
	// failing on the first binary row it reads.
	`SELECT 1`,
	// 8: events are written in package reccodec's binary form, and a
	// transaction's message events (a turn's message in and replies) share
	// one row, keyed by the first one (logs.go, AppendEvent); JSON rows
	// still read, each one event. An older binary refuses the database.
	// Fewer index entries a message, each written in the hot path:
	//   - events are read by (at, seq) alone (seq is unique, from a
	//     sequence): that index becomes the primary key, and the one on seq
	//     goes. The new key is built in the step (0.3 s for a million
	//     events on the development machine), while new events wait;
	//   - message events keep the customer they were logged for when the
	//     customer is merged, as in bbolt (the conversation log moves, and
	//     the merged id redirects): no index by customer for them;
	//   - the dedupe markers' indexes for erasures (by interaction) and
	//     retention (by time) are BRIN: both grow with time, as the table
	//     does, and a rare erasure or prune reads a few ranges instead of
	//     every message paying two B-tree entries.
	`
CREATE UNIQUE INDEX events_at_seq ON events (at, seq);
ALTER TABLE events DROP CONSTRAINT events_pkey;
ALTER TABLE events ADD CONSTRAINT events_pkey PRIMARY KEY USING INDEX events_at_seq;
DROP INDEX events_time;
DROP INDEX events_customer_messages;
DROP INDEX seen_interaction;
CREATE INDEX seen_interaction ON seen USING brin (interaction_id) WITH (autosummarize = on) WHERE interaction_id <> 0;
DROP INDEX seen_marked;
CREATE INDEX seen_marked ON seen USING brin (marked_at) WITH (autosummarize = on);
`,
}

// SchemaVersion is the schema version this binary migrates to.
var SchemaVersion = len(migrations)

// migrationLock keys the session advisory lock Open holds while it
// migrates: one process at a time reads and changes the schema.
const migrationLock = 0x1d1cb07

// migrate brings the schema to SchemaVersion, each step in a transaction
// of its own, under the advisory lock; it refuses a schema newer than
// this binary knows.
func (db *DB) migrate(ctx context.Context) error {
	return db.migrateTo(ctx, migrations)
}

// migrateTo is migrate with the steps given (a test migrates to an older
// version first).
func (db *DB) migrateTo(ctx context.Context, steps []string) error {
	conn, err := db.pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("migrate: connect: %w", err)
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock($1)`, int64(migrationLock)); err != nil {
		return fmt.Errorf("migrate: lock: %w", err)
	}
	defer func() {
		_, _ = conn.Exec(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock($1)`, int64(migrationLock))
	}()
	if _, err := conn.Exec(ctx, `CREATE TABLE IF NOT EXISTS idicbot_schema (
	version    integer PRIMARY KEY,
	applied_at timestamptz NOT NULL
)`); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	var version int
	if err := conn.QueryRow(ctx, `SELECT coalesce(max(version), 0) FROM idicbot_schema`).Scan(&version); err != nil {
		return fmt.Errorf("migrate: read version: %w", err)
	}
	if version > len(steps) {
		return fmt.Errorf("schema version %d, this idicbot knows up to %d; upgrade idicbot: %w", version, len(steps), ErrNewerSchema)
	}
	for v := version + 1; v <= len(steps); v++ {
		tx, err := conn.Begin(ctx)
		if err != nil {
			return fmt.Errorf("migrate to %d: %w", v, err)
		}
		if _, err := tx.Exec(ctx, steps[v-1]); err != nil {
			_ = tx.Rollback(ctx)
			return fmt.Errorf("migrate to %d: %w", v, err)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO idicbot_schema (version, applied_at) VALUES ($1, $2)`, v, time.Now()); err != nil {
			_ = tx.Rollback(ctx)
			return fmt.Errorf("migrate to %d: %w", v, err)
		}
		if err := tx.Commit(ctx); err != nil {
			return fmt.Errorf("migrate to %d: %w", v, err)
		}
	}
	return nil
}

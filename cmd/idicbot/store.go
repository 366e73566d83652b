package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"path/filepath"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/idicbot/idicbot/adapters/admin"
	"github.com/idicbot/idicbot/bot/inproc"
	"github.com/idicbot/idicbot/bot/pgreplicas"
	"github.com/idicbot/idicbot/crm"
	"github.com/idicbot/idicbot/crm/boltstore"
	"github.com/idicbot/idicbot/crm/pgstore"
)

// Store is what the commands need of a store, bbolt or PostgreSQL: the
// crm.Store, the phrases saved at run time and the owners' languages, the
// integrity check (idicbot check), the compaction after an
// erase, and Close.
type Store interface {
	crm.Store
	crm.MessagesVersions
	crm.JourneyVersions
	crm.KnowledgeVersions
	crm.LangPrefs
	Check(ctx context.Context) ([]string, error)
	Compact(ctx context.Context) error
	Close() error
}

var (
	_ Store              = (*boltstore.DB)(nil)
	_ Store              = (*pgstore.DB)(nil)
	_ admin.SessionStore = (*pgreplicas.Sessions)(nil)
)

// isPostgresURL reports whether a store location names a PostgreSQL
// database rather than a data directory.
func isPostgresURL(s string) bool {
	return strings.HasPrefix(s, "postgres://") || strings.HasPrefix(s, "postgresql://")
}

// storeName names the store for messages, without a password.
func (m *Main) storeName() string {
	if m.Config.DatabaseURL != "" {
		return "the PostgreSQL database"
	}
	return filepath.Join(m.Config.Data, "idicbot.db")
}

// openStore opens the store the configuration names (database_url or
// IDICBOT_DATABASE_URL: PostgreSQL; else the bbolt file in the data
// directory) and, unless a test set them, the Notifier and Leader that go
// with it: LISTEN/NOTIFY and lease rows on PostgreSQL, where several
// processes share the store; in-process ones on bbolt, which one process
// holds.
func (m *Main) openStore(ctx context.Context) (Store, error) {
	cfg := m.Config
	if cfg.DatabaseURL != "" {
		db, err := pgstore.Open(ctx, cfg.DatabaseURL, pgstore.Options{Now: m.Now})
		if err != nil {
			return nil, fmt.Errorf("open the PostgreSQL database: %w", err)
		}
		m.closers = append(m.closers, db.Close)
		if m.Notifier == nil {
			n := pgreplicas.NewNotifier(db.Pool(), pgreplicas.NotifierOptions{Logger: m.Log})
			if err := n.Open(ctx); err != nil {
				return nil, fmt.Errorf("listen for other idicbot processes: %w", err)
			}
			m.Notifier = n
			m.closers = append(m.closers, n.Close)
		}
		if m.Leader == nil {
			// IDICBOT_LEASE_TTL (a duration) shortens or lengthens the
			// singletons' leases: how long a dead holder keeps them.
			var ttl time.Duration
			if v := m.Getenv("IDICBOT_LEASE_TTL"); v != "" {
				if ttl, err = time.ParseDuration(v); err != nil || ttl < 100*time.Millisecond {
					return nil, fmt.Errorf("IDICBOT_LEASE_TTL=%q: a duration of at least 100ms is required", v)
				}
			}
			l := pgreplicas.NewLeader(db.Pool(), pgreplicas.LeaderOptions{ID: cfg.Outbox.Owner, TTL: ttl, Logger: m.Log})
			m.Leader = l
			m.closers = append(m.closers, l.Close) // before the store closes
		}
		m.Log.Info("store: PostgreSQL", "schema", pgstore.SchemaVersion)
		return db, nil
	}
	path := filepath.Join(cfg.Data, "idicbot.db")
	db, err := boltstore.Open(path, boltstore.Options{Now: m.Now, Logger: m.Log})
	if err != nil {
		if errors.Is(err, boltstore.ErrLocked) {
			hint := "stop it first, or use --data for another directory"
			if m.Command == "customer" {
				hint += "; with the bot running, use its admin API: GET /api/admin/customers/ID/export, POST /api/admin/customers/ID/erase"
			}
			if m.Command == "offers" {
				// Offers change while the bot runs through its admin API.
				hint += "; with the bot running, import through it: curl -H \"Authorization: Bearer $IDICBOT_ADMIN_TOKEN\" --data-binary @offers.yaml http://" + cfg.Addr + "/api/admin/import (add ?dry_run=true to check)"
			}
			return nil, fmt.Errorf("another idicbot instance is using %s (%s): %w", cfg.Data, hint, err)
		}
		return nil, err
	}
	m.closers = append(m.closers, db.Close)
	if m.Notifier == nil {
		m.Notifier = inproc.NewNotifier()
	}
	if m.Leader == nil {
		l := inproc.NewLeader()
		m.Leader = l
		m.closers = append(m.closers, l.Close) // before the store closes
	}
	if pending, err := db.CompactPending(); err == nil && pending {
		// Open tried and failed (a full disk?): the erased values may still
		// be in the file's free pages until the next erase or start.
		m.Log.Warn("an erased customer's data may still be in the data file's free pages: the compaction that removes it failed; free some disk space and restart", "data", cfg.Data)
	}
	return db, nil
}

// adminSessions is where the admin page keeps logins: the shared database
// on PostgreSQL (a login on one replica works on all), else nil (this
// process's memory).
func (m *Main) adminSessions() admin.SessionStore {
	if db, ok := m.DB.(*pgstore.DB); ok {
		return pgreplicas.NewSessions(db.Pool())
	}
	return nil
}

// backup is the admin API's backup of the store: nil on PostgreSQL,
// which its operators back up with pg_dump or PITR (docs/postgres.md).
func (m *Main) backup() func(io.Writer) (int64, error) {
	if db, ok := m.DB.(*boltstore.DB); ok {
		return db.Backup
	}
	return nil
}

// backupFile writes a copy of the bbolt store to path.
func (m *Main) backupFile(path string) error {
	db, ok := m.DB.(*boltstore.DB)
	if !ok {
		return errors.New("backup: the store is PostgreSQL; back it up with pg_dump or point-in-time recovery (docs/postgres.md)")
	}
	return db.BackupFile(path)
}

// pruner returns what retention prunes: the store itself on bbolt, an
// adapter on PostgreSQL.
func (m *Main) pruner() pruner {
	switch db := m.DB.(type) {
	case *boltstore.DB:
		return db
	case *pgstore.DB:
		return pgPruner{db}
	}
	return nil
}

type pgPruner struct{ db *pgstore.DB }

func (p pgPruner) Prune(ctx context.Context, before time.Time) (boltstore.PruneStats, error) {
	st, err := p.db.Prune(ctx, before)
	return boltstore.PruneStats{Outbox: st.Outbox, Seen: st.Seen, Commits: st.Commits}, err
}

// redactURL returns a database URL without its password.
func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "postgres://…"
	}
	if _, ok := u.User.Password(); ok {
		u.User = url.UserPassword(u.User.Username(), "xxxxx")
	}
	return u.String()
}

// registerStoreMetrics exports, on PostgreSQL, how turns commit together
// (pgstore.GroupStats): turns per group is the rate of the second counter
// over the rate of the first; the turns handled alone are the rest of
// idicbot_messages_in_total.
func registerStoreMetrics(reg prometheus.Registerer, s Store) {
	db, ok := s.(*pgstore.DB)
	if !ok {
		return
	}
	reg.MustRegister(
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "idicbot_pg_turn_groups_total",
			Help: "Groups of turns committed together in one PostgreSQL transaction.",
		}, func() float64 { return float64(db.GroupStats().Groups) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "idicbot_pg_grouped_turns_total",
			Help: "Turns committed in those groups.",
		}, func() float64 { return float64(db.GroupStats().Turns) }),
	)
}

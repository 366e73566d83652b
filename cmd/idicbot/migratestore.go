package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/idicbot/idicbot/adapters/zalo"
	"github.com/idicbot/idicbot/crm"
	"github.com/idicbot/idicbot/crm/boltstore"
	"github.com/idicbot/idicbot/crm/pgstore"
	"github.com/idicbot/idicbot/crm/storecopy"
)

// migrateFlags are the flags of `idicbot migrate-store`.
type migrateFlags struct {
	from, to string
	force    bool
}

func (f *migrateFlags) flags(fs *flag.FlagSet) {
	fs.StringVar(&f.from, "from", "", "store to copy from: a data directory or postgres://… (default: the data directory)")
	fs.StringVar(&f.to, "to", "", "store to copy to: a data directory or postgres://…")
	fs.BoolVar(&f.force, "force", false, "copy into a store that is not empty (records with the same ids are replaced)")
}

// runMigrateStore copies the shop from one store to another (issue 21:
// moving to PostgreSQL, or back), verifies counts and a sample of records,
// and refuses a target that holds something unless --force. Both stores
// must be idle: stop every idicbot using them first.
func (m *Main) runMigrateStore(ctx context.Context) error {
	f := m.migrate
	if f.to == "" || len(m.Args) != 0 {
		return errors.New("usage: idicbot migrate-store --to DEST [--from SRC] [--force] (DEST and SRC: a data directory or postgres://…)")
	}
	if f.from == "" {
		f.from = m.Config.Data
	}
	if f.from == f.to {
		return errors.New("migrate-store: --from and --to name the same store")
	}
	if !isPostgresURL(f.from) {
		if _, err := os.Stat(filepath.Join(f.from, "idicbot.db")); err != nil {
			return fmt.Errorf("migrate-store: no store to copy in %s: %w", f.from, err)
		}
	}
	src, err := m.openLocation(ctx, f.from)
	if err != nil {
		return fmt.Errorf("migrate-store: source: %w", err)
	}
	defer func() { _ = src.Close() }()
	dst, err := m.openLocation(ctx, f.to)
	if err != nil {
		return fmt.Errorf("migrate-store: target: %w", err)
	}
	defer func() { _ = dst.Close() }()
	m.Log.Info("copying the shop", "from", redactLocation(f.from), "to", redactLocation(f.to))
	last := -1
	counts, err := storecopy.Copy(ctx, src, dst, storecopy.Options{
		Force: f.force, TokenNames: []string{zalo.DefaultTokenName},
		Progress: func(done, total int) {
			if pct := done * 100 / max(total, 1); pct/10 != last/10 {
				last = pct
				m.Log.Info("copying customers", "done", done, "of", total)
			}
		},
	})
	if err != nil {
		if crm.ErrorCode(err) == crm.ECONFLICT {
			return fmt.Errorf("migrate-store: %s", crm.ErrorMessage(err))
		}
		return fmt.Errorf("migrate-store: %w", err)
	}
	fmt.Fprintf(m.Stdout, "copied and verified: %s\n", counts)
	return nil
}

// openLocation opens a store by location: postgres://… or a data
// directory (its idicbot.db).
func (m *Main) openLocation(ctx context.Context, loc string) (Store, error) {
	if isPostgresURL(loc) {
		return pgstore.Open(ctx, loc, pgstore.Options{Now: m.Now})
	}
	db, err := boltstore.Open(filepath.Join(loc, "idicbot.db"), boltstore.Options{Now: m.Now, Logger: m.Log})
	if errors.Is(err, boltstore.ErrLocked) {
		return nil, fmt.Errorf("an idicbot is using %s; stop it first: %w", loc, err)
	}
	return db, err
}

// redactLocation is loc for logs: a URL's password is left out.
func redactLocation(loc string) string {
	if !isPostgresURL(loc) {
		return loc
	}
	return redactURL(loc)
}

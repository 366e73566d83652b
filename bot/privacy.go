package bot

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/idicbot/idicbot/crm"
)

// Compactor rewrites the store's file so that it holds only live data: a
// store reuses the pages of changed records without zeroing them, so erased
// values stay in the file's bytes until it is compacted.
// *boltstore.DB implements it.
type Compactor interface {
	Compact(ctx context.Context) error
}

// Privacy serves a customer's data rights (issue 14; Vietnam's Decree
// 13/2023, GDPR): a copy of everything kept about them, and the erasure of
// their personal data. The admin API, the Slack /crm command and the CLI
// call it; each checks first that the caller is an admin.
type Privacy struct {
	store     crm.Store
	compactor Compactor
	now       func() time.Time
}

// NewPrivacy returns the data rights service on store. compactor removes the
// erased bytes from the store's file after each erase; nil leaves them in
// free pages until the store reuses them (a store without a file).
func NewPrivacy(store crm.Store, compactor Compactor, now func() time.Time) *Privacy {
	if now == nil {
		now = time.Now
	}
	return &Privacy{store: store, compactor: compactor, now: now}
}

// Export returns everything stored about customer id (merge redirects
// followed, merged customers included): profile, identities, consent,
// conversations, orders, offers shown, segment history, queued replies, and
// the erasure record if they were erased.
func (p *Privacy) Export(ctx context.Context, id crm.ID) (*crm.CustomerExport, error) {
	var x *crm.CustomerExport
	err := p.store.View(ctx, func(tx crm.Tx) (err error) {
		x, err = tx.CustomerRecords(id)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("export customer %d: %w", id, err)
	}
	return x, nil
}

// Erase removes customer id's personal data from every record and index,
// irreversibly, records who asked and when (nothing erased), then compacts
// the store's file so the erased values are gone from its bytes. The
// customer's id, segment, totals, consent and order amounts stay, so
// reports still add up; the same person writing again is a new customer.
// An erased customer gives ECONFLICT ("already erased"), an unknown id
// ENOTFOUND. Backups taken before still hold the data.
func (p *Privacy) Erase(ctx context.Context, id crm.ID, who string) (*crm.Erasure, error) {
	who = strings.TrimSpace(who)
	if who == "" {
		return nil, crm.Errorf(crm.EINVALID, "An erase must say who asked for it.")
	}
	at := p.now()
	var e *crm.Erasure
	err := p.store.Update(ctx, func(tx crm.Tx) (err error) {
		e, err = tx.EraseCustomer(id, who, at)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("erase customer %d: %w", id, err)
	}
	if p.compactor != nil {
		// The erase is committed: a failed compaction is finished when the
		// store next opens, and reported here so the operator knows.
		if err := p.compactor.Compact(context.WithoutCancel(ctx)); err != nil {
			return e, fmt.Errorf("customer %d erased, but its old bytes are still in the file until the store is reopened: %w", id, err)
		}
	}
	return e, nil
}

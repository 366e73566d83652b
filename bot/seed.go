package bot

import (
	"context"
	"time"

	"github.com/idicbot/idicbot/crm"
)

// SeedOffers stores offers as their first version in a store that was never
// seeded, in one transaction. It reports whether it did.
func SeedOffers(ctx context.Context, store crm.Store, offers []*crm.Offer, now time.Time) (bool, error) {
	seeded := false
	err := store.Update(ctx, func(tx crm.Tx) error {
		seeded = false
		// Once seeded, the store, not the offers file, is the source of
		// truth.
		if at, err := tx.OffersSeeded(); err != nil || !at.IsZero() {
			return err
		}
		for _, o := range offers {
			cp := *o
			cp.Version, cp.UpdatedAt, cp.UpdatedBy, cp.Origin = 1, now, "idicbot", OriginSeed
			if err := tx.PutOffer(&cp); err != nil {
				return err
			}
		}
		seeded = true
		return tx.MarkOffersSeeded(now)
	})
	return seeded, err
}

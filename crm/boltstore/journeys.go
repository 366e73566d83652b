package boltstore

import (
	"context"

	"github.com/idicbot/idicbot/crm"
)

// bktJourneys holds the versions of the journeys saved at run time
// (crm.JourneyVersions; layout: versions.go).
var bktJourneys = []byte("journeys_versions")

var _ crm.JourneyVersions = (*DB)(nil)

// LatestJourneys implements crm.JourneyVersions.
func (db *DB) LatestJourneys(ctx context.Context) (*crm.JourneysVersion, error) {
	return latestVersion[crm.JourneysVersion](ctx, db, bktJourneys, "journeys")
}

// SaveJourneys implements crm.JourneyVersions.
func (db *DB) SaveJourneys(ctx context.Context, v *crm.JourneysVersion) error {
	return saveVersion(ctx, db, bktJourneys, "journeys", v.Version, v, func(latest int) error {
		return crm.Errorf(crm.ECONFLICT, "The journeys were saved meanwhile (now version %d); reload and make your change again.", latest).
			Say("journeys_conflict", latest)
	})
}

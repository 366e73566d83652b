package pgstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/idicbot/idicbot/crm"
)

var _ crm.JourneyVersions = (*DB)(nil)

// LatestJourneys implements crm.JourneyVersions.
func (db *DB) LatestJourneys(ctx context.Context) (*crm.JourneysVersion, error) {
	var data []byte
	err := db.pool.QueryRow(ctx, `SELECT data FROM journeys_versions ORDER BY version DESC LIMIT 1`).Scan(&data)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read the journeys: %w", err)
	}
	v := new(crm.JourneysVersion)
	if err := json.Unmarshal(data, v); err != nil {
		return nil, fmt.Errorf("read the journeys: %w", err)
	}
	return v, nil
}

// SaveJourneys implements crm.JourneyVersions: v.Version must follow the
// newest stored one, whichever replica saved it.
func (db *DB) SaveJourneys(ctx context.Context, v *crm.JourneysVersion) error {
	data, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode journeys version %d: %w", v.Version, err)
	}
	tag, err := db.pool.Exec(ctx, `INSERT INTO journeys_versions (version, data)
SELECT $1, $2 WHERE (SELECT coalesce(max(version), 0) FROM journeys_versions) = $1 - 1
ON CONFLICT (version) DO NOTHING`, v.Version, data)
	if err != nil {
		return fmt.Errorf("save journeys version %d: %w", v.Version, err)
	}
	if tag.RowsAffected() == 1 {
		return nil
	}
	var latest int
	if err := db.pool.QueryRow(ctx, `SELECT coalesce(max(version), 0) FROM journeys_versions`).Scan(&latest); err != nil {
		return fmt.Errorf("save journeys version %d: %w", v.Version, err)
	}
	return crm.Errorf(crm.ECONFLICT, "The journeys were saved meanwhile (now version %d); reload and make your change again.", latest).
		Say("journeys_conflict", latest)
}

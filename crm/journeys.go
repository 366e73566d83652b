package crm

import (
	"context"
	"time"
)

// JourneysVersion is one saved version of a shop's journeys, edited at run
// time from the admin page: JSON of the journeys (bot.Journey), which win
// over the journeys file while any version is saved.
type JourneysVersion struct {
	Version int       `json:"version"`
	JSON    string    `json:"json"`
	By      string    `json:"by"`
	At      time.Time `json:"at"`
}

// JourneyVersions keeps the versions of the journeys saved at run time;
// the newest is live.
type JourneyVersions interface {
	// LatestJourneys returns the newest saved version, nil when none.
	LatestJourneys(ctx context.Context) (*JourneysVersion, error)
	// SaveJourneys stores v, whose Version must follow the newest stored
	// one (1 for the first); otherwise someone saved meanwhile: ECONFLICT.
	SaveJourneys(ctx context.Context, v *JourneysVersion) error
}

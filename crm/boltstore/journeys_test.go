package boltstore

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/idicbot/idicbot/crm"
)

// Journeys saved at run time: none at first, each save the version after
// the newest (another replica's save in between is a conflict), the newest
// kept across a reopen.
func TestJourneyVersions(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "idicbot.db")
	db := mustOpenPath(t, path)
	if v, err := db.LatestJourneys(ctx); err != nil || v != nil {
		t.Fatalf("journeys of a fresh store = %v, %v", v, err)
	}
	at := time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC)
	for v := 1; v <= 2; v++ {
		if err := db.SaveJourneys(ctx, &crm.JourneysVersion{Version: v, JSON: `[{"id":"birthday","kind":"birthday","offer":"birthday"}]`, By: "Lan", At: at}); err != nil {
			t.Fatal(err)
		}
	}
	for _, v := range []int{2, 4, 0} {
		if err := db.SaveJourneys(ctx, &crm.JourneysVersion{Version: v, JSON: "[]"}); crm.ErrorCode(err) != crm.ECONFLICT {
			t.Errorf("saving version %d after 2: %v, want a conflict", v, err)
		}
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db = mustOpenPath(t, path)
	v, err := db.LatestJourneys(ctx)
	if err != nil || v == nil || v.Version != 2 || v.By != "Lan" || !v.At.Equal(at) || v.JSON == "[]" {
		t.Fatalf("journeys after reopen = %+v, %v", v, err)
	}
}

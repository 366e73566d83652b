package pgstore_test

import (
	"testing"
	"time"

	"github.com/idicbot/idicbot/crm"
	"github.com/idicbot/idicbot/crm/pgstore"
	"github.com/idicbot/idicbot/crm/pgstore/pgtest"
)

// Journeys saved at run time: none at first, each save the version after
// the newest (another replica's save in between is a conflict), the newest
// read by a second replica.
func TestJourneyVersions(t *testing.T) {
	url := pgtest.URL(t)
	db, err := pgstore.Open(t.Context(), url, pgstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	if v, err := db.LatestJourneys(t.Context()); err != nil || v != nil {
		t.Fatalf("journeys of a fresh store = %v, %v", v, err)
	}
	at := time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC)
	for v := 1; v <= 2; v++ {
		if err := db.SaveJourneys(t.Context(), &crm.JourneysVersion{Version: v, JSON: `[{"id":"birthday","kind":"birthday","offer":"birthday"}]`, By: "Lan", At: at}); err != nil {
			t.Fatal(err)
		}
	}
	other, err := pgstore.Open(t.Context(), url, pgstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = other.Close() })
	for _, v := range []int{2, 4, 0} {
		if err := other.SaveJourneys(t.Context(), &crm.JourneysVersion{Version: v, JSON: "[]"}); crm.ErrorCode(err) != crm.ECONFLICT {
			t.Errorf("saving version %d after 2: %v, want a conflict", v, err)
		}
	}
	v, err := other.LatestJourneys(t.Context())
	if err != nil || v == nil || v.Version != 2 || v.By != "Lan" || !v.At.Equal(at) || v.JSON == "[]" {
		t.Fatalf("the newest journeys from another replica = %+v, %v", v, err)
	}
}

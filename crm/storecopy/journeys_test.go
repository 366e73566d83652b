package storecopy_test

import (
	"testing"
	"time"

	"github.com/idicbot/idicbot/crm"
	"github.com/idicbot/idicbot/crm/storecopy"
)

// The journeys edited at run time go with the shop: the live version
// becomes the target's first; a target that has its own keeps them.
func TestCopyJourneys(t *testing.T) {
	src, dst := openBolt(t), openBolt(t)
	at := time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC)
	for v := 1; v <= 3; v++ {
		if err := src.SaveJourneys(t.Context(), &crm.JourneysVersion{Version: v, JSON: `[{"id":"v` + string(rune('0'+v)) + `"}]`, By: "Lan", At: at}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := storecopy.Copy(t.Context(), src, dst, storecopy.Options{}); err != nil {
		t.Fatal(err)
	}
	v, err := dst.LatestJourneys(t.Context())
	if err != nil || v == nil || v.Version != 1 || v.JSON != `[{"id":"v3"}]` || v.By != "Lan" {
		t.Fatalf("the target's journeys = %+v, %v; want the live ones as version 1", v, err)
	}
}

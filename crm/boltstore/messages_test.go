package boltstore

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/idicbot/idicbot/crm"
)

func TestMessagesVersions(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "idicbot.db")
	db := mustOpenPath(t, path)
	if h, err := db.MessagesHistory(ctx); err != nil || len(h) != 0 {
		t.Fatalf("history of a fresh store = %v, %v", h, err)
	}
	at := time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC)
	for v := 1; v <= 2; v++ {
		if err := db.SaveMessages(ctx, &crm.MessagesVersion{Version: v, YAML: "address: {self: em}\n", By: "Lan", Origin: "web", At: at}); err != nil {
			t.Fatal(err)
		}
	}
	for _, v := range []int{2, 4, 0} {
		err := db.SaveMessages(ctx, &crm.MessagesVersion{Version: v, YAML: "x"})
		if crm.ErrorCode(err) != crm.ECONFLICT {
			t.Errorf("saving version %d after 2: %v, want a conflict", v, err)
		}
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db = mustOpenPath(t, path)
	h, err := db.MessagesHistory(ctx)
	if err != nil || len(h) != 2 || h[0].Version != 2 || h[1].Version != 1 || h[0].By != "Lan" || !h[0].At.Equal(at) {
		t.Fatalf("history after reopen = %+v, %v", h, err)
	}
}

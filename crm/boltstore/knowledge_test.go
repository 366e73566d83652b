package boltstore

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/idicbot/idicbot/crm"
)

func TestKnowledgeVersions(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "idicbot.db")
	db := mustOpenPath(t, path)
	if h, err := db.KnowledgeHistory(ctx); err != nil || len(h) != 0 {
		t.Fatalf("history of a fresh store = %v, %v", h, err)
	}
	at := time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC)
	entry := func(answer string) []*crm.KnowledgeEntry {
		return []*crm.KnowledgeEntry{{ID: "ship", Questions: []string{"phí ship bao nhiêu"}, Answer: map[string]string{"vi": answer, "en": "Shipping is free."}}}
	}
	for v := 1; v <= 2; v++ {
		if err := db.SaveKnowledge(ctx, &crm.KnowledgeVersion{Version: v, Entries: entry("Phí ship v" + string(rune('0'+v))), By: "Lan", Origin: "web", At: at}); err != nil {
			t.Fatal(err)
		}
	}
	for _, v := range []int{2, 4, 0} {
		err := db.SaveKnowledge(ctx, &crm.KnowledgeVersion{Version: v, Entries: entry("x")})
		if crm.ErrorCode(err) != crm.ECONFLICT {
			t.Errorf("saving version %d after 2: %v, want a conflict", v, err)
		}
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db = mustOpenPath(t, path)
	h, err := db.KnowledgeHistory(ctx)
	if err != nil || len(h) != 2 || h[0].Version != 2 || h[1].Version != 1 || h[0].By != "Lan" || !h[0].At.Equal(at) {
		t.Fatalf("history after reopen = %+v, %v", h, err)
	}
	if got := h[0].Entries[0].Answer["vi"]; got != "Phí ship v2" {
		t.Errorf("newest answer = %q, want Phí ship v2", got)
	}
	if got := h[1].Entries[0].Answer["vi"]; got != "Phí ship v1" {
		t.Errorf("oldest answer = %q, want Phí ship v1", got)
	}
}

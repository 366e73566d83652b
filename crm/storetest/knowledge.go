package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/idicbot/idicbot/crm"
)

// The shop's FAQ entries saved at run time (crm.KnowledgeVersions), for
// stores that keep them.

var knowledgeTests = []test{
	{name: "VersionsInOrder", run: testKnowledgeVersions},
	{name: "SurviveReopen", run: testKnowledgeReopen, reopens: true},
}

func knowledgeVersions(t *testing.T, s crm.Store) crm.KnowledgeVersions {
	t.Helper()
	k, ok := s.(crm.KnowledgeVersions)
	if !ok {
		t.Skip("the store keeps no FAQ versions (it is not a crm.KnowledgeVersions)")
	}
	return k
}

func knowledgeVersion(v int, answer string) *crm.KnowledgeVersion {
	return &crm.KnowledgeVersion{Version: v, By: "Lan", Origin: "web", At: time.Date(2026, 12, 4, 10, v, 0, 0, time.UTC),
		Entries: []*crm.KnowledgeEntry{{ID: "parking", Questions: []string{"có chỗ gửi xe không", "is there parking"},
			Answer: map[string]string{"vi": answer, "en": "Free parking."}, Topic: map[string]string{"vi": "chỗ gửi xe"}}}}
}

func testKnowledgeVersions(t *testing.T, o Opener) {
	ctx := context.Background()
	k := knowledgeVersions(t, o.Open(t))
	if h, err := k.KnowledgeHistory(ctx); err != nil || len(h) != 0 {
		t.Fatalf("history of an empty store = %v, %v", h, err)
	}
	for v, answer := range []string{"Có ạ.", "Có, miễn phí ạ."} {
		if err := k.SaveKnowledge(ctx, knowledgeVersion(v+1, answer)); err != nil {
			t.Fatal(err)
		}
	}
	for _, v := range []int{0, 2, 4} {
		if err := k.SaveKnowledge(ctx, knowledgeVersion(v, "x")); crm.ErrorCode(err) != crm.ECONFLICT {
			t.Errorf("saving version %d after 2: %v, want a conflict", v, err)
		}
	}
	h, err := k.KnowledgeHistory(ctx)
	if err != nil || len(h) != 2 || h[0].Version != 2 || h[1].Version != 1 {
		t.Fatalf("history = %+v, %v, want versions 2 then 1", h, err)
	}
	e := h[0].Entries[0]
	if e.ID != "parking" || e.Answer["vi"] != "Có, miễn phí ạ." || len(e.Questions) != 2 || e.Topic["vi"] != "chỗ gửi xe" || h[0].By != "Lan" ||
		!h[0].At.Equal(time.Date(2026, 12, 4, 10, 2, 0, 0, time.UTC)) {
		t.Fatalf("newest version = %+v, entry %+v", h[0], e)
	}
}

func testKnowledgeReopen(t *testing.T, o Opener) {
	ctx := context.Background()
	s := o.Open(t)
	if err := knowledgeVersions(t, s).SaveKnowledge(ctx, knowledgeVersion(1, "Có ạ.")); err != nil {
		t.Fatal(err)
	}
	s = o.Reopen(t, s)
	h, err := knowledgeVersions(t, s).KnowledgeHistory(ctx)
	if err != nil || len(h) != 1 || h[0].Entries[0].Answer["vi"] != "Có ạ." {
		t.Fatalf("history after a reopen = %+v, %v", h, err)
	}
}

package admin_test

import (
	"strings"
	"testing"

	"github.com/idicbot/idicbot/bot"
	"github.com/idicbot/idicbot/crm"
)

type knowledgeState struct {
	Version int                     `json:"version"`
	Entries []*crm.KnowledgeEntry   `json:"entries"`
	History []*crm.KnowledgeVersion `json:"history"`
}

type knowledgeError struct {
	Error struct {
		Code     string                 `json:"code"`
		Message  string                 `json:"message"`
		Problems []bot.KnowledgeProblem `json:"problems"`
	} `json:"error"`
}

// TestKnowledgeAPI: the shop's FAQ over the API: the state, one entry
// added, a question tried, a refused entry with its field, a stale save, a
// delete and a rollback, each live at the next web chat message.
func TestKnowledgeAPI(t *testing.T) {
	e := newEnv(t)
	var st knowledgeState
	if code := e.call("GET", "/api/admin/knowledge", nil, &st); code != 200 || st.Version != 0 || len(st.Entries) < 8 || st.History == nil {
		t.Fatalf("GET knowledge: %d %+v", code, st)
	}
	const vi = "Shop có chỗ gửi xe máy miễn phí trước cửa ạ."
	entry := map[string]any{
		"questions": []string{"có chỗ gửi xe không", "gửi xe máy ở đâu", "is there parking", "where can I park"},
		"answer":    map[string]string{"vi": vi, "en": "Free motorbike parking in front of the shop."},
	}
	if code := e.call("PUT", "/api/admin/knowledge/entries/parking", entry, nil); code != 400 {
		t.Fatalf("a save without the version: %d, want 400", code)
	}
	var prev bot.KnowledgePreview
	edited := append(st.Entries, &crm.KnowledgeEntry{ID: "parking", Questions: entry["questions"].([]string), Answer: entry["answer"].(map[string]string)})
	if code := e.call("POST", "/api/admin/knowledge/preview", map[string]any{"entries": edited, "question": "shop có chỗ để xe máy ko"}, &prev); code != 200 ||
		prev.Entry != "parking" || prev.Intent != bot.IntentFAQ || prev.Answer["vi"] != vi {
		t.Fatalf("preview: %d %+v", code, prev)
	}
	if got := strings.Join(e.chat("k0", "shop có chỗ gửi xe không"), "\n"); strings.Contains(got, vi) {
		t.Fatalf("a preview changed the bot: %q", got)
	}
	entry["version"] = 0
	var saved struct {
		Version crm.KnowledgeVersion `json:"version"`
	}
	if code := e.call("PUT", "/api/admin/knowledge/entries/parking", entry, &saved); code != 200 || saved.Version.Version != 1 || saved.Version.By != "lan" {
		t.Fatalf("add an entry: %d %+v", code, saved)
	}
	if got := strings.Join(e.chat("k1", "shop có chỗ gửi xe không"), "\n"); got != vi {
		t.Fatalf("after the save the bot says %q", got)
	}
	if code := e.call("PUT", "/api/admin/knowledge/entries/parking", entry, nil); code != 409 {
		t.Fatalf("a stale save: %d, want 409", code)
	}

	// An entry without its English answer is refused, the field named.
	entry["version"] = 1
	entry["answer"] = map[string]string{"vi": vi}
	var refused knowledgeError
	if code := e.call("PUT", "/api/admin/knowledge/entries/parking", entry, &refused); code != 422 || len(refused.Error.Problems) != 1 ||
		refused.Error.Problems[0].Field != "answer.en" || refused.Error.Problems[0].ID != "parking" {
		t.Fatalf("an entry without English: %d %+v", code, refused)
	}
	var problems struct {
		Problems []bot.KnowledgeProblem `json:"problems"`
	}
	bad := append(st.Entries, &crm.KnowledgeEntry{ID: "cod", Questions: []string{"x y"}, Answer: map[string]string{"vi": "a", "en": "b"}})
	if code := e.call("POST", "/api/admin/knowledge/validate", map[string]any{"entries": bad}, &problems); code != 200 ||
		len(problems.Problems) != 1 || problems.Problems[0].Code != "id_duplicate" {
		t.Fatalf("validate a duplicate id: %d %+v", code, problems)
	}

	if code := e.call("DELETE", "/api/admin/knowledge/entries/parking", nil, nil); code != 400 {
		t.Fatalf("a delete without the version: %d, want 400", code)
	}
	if code := e.call("DELETE", "/api/admin/knowledge/entries/nope?version=1", nil, nil); code != 404 {
		t.Fatalf("delete a missing entry: %d, want 404", code)
	}
	if code := e.call("DELETE", "/api/admin/knowledge/entries/parking?version=1", nil, nil); code != 200 {
		t.Fatalf("delete: %d", code)
	}
	if got := strings.Join(e.chat("k2", "shop có chỗ gửi xe không"), "\n"); strings.Contains(got, vi) {
		t.Fatalf("after the delete the bot still says %q", got)
	}
	if code := e.call("POST", "/api/admin/knowledge/rollback", map[string]any{"to": 1, "version": 2}, &saved); code != 200 || saved.Version.Version != 3 || saved.Version.RolledBackFrom != 1 {
		t.Fatalf("rollback: %d %+v", code, saved)
	}
	if got := strings.Join(e.chat("k3", "gửi xe máy ở đâu vậy shop"), "\n"); got != vi {
		t.Fatalf("after the rollback: %q", got)
	}
	if code := e.call("GET", "/api/admin/knowledge", nil, &st); code != 200 || st.Version != 3 || len(st.History) != 3 {
		t.Fatalf("GET knowledge at the end: %d %+v", code, st)
	}
	// The whole list as GET returned it can be sent back.
	if code := e.call("PUT", "/api/admin/knowledge", map[string]any{"entries": st.Entries, "history": st.History, "version": 3}, nil); code != 200 {
		t.Fatalf("PUT the list back: %d", code)
	}
	if code := e.call("POST", "/api/admin/knowledge/preview", map[string]any{"question": ""}, nil); code != 422 {
		t.Fatalf("preview of no question: %d, want 422", code)
	}
}

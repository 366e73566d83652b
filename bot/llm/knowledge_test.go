package llm_test

import (
	"strings"
	"testing"

	"github.com/idicbot/idicbot/bot/llm/llmtest"
	"github.com/idicbot/idicbot/crm"
)

// TestAnswerGroundedOnFAQEntries: the FAQ entries the core passes with a
// request (the live ones, as last saved in the admin) are in the answer
// prompt, and the amounts they name may be drafted; without them the same
// draft names an amount the shop never wrote and is dropped.
func TestAnswerGroundedOnFAQEntries(t *testing.T) {
	k := &crm.Knowledge{Entries: []*crm.KnowledgeEntry{{ID: "parking", Questions: []string{"có chỗ gửi xe không"},
		Answer: map[string]string{"vi": "Gửi xe máy ở bãi bên hông shop, phí 7.000 ₫ một lượt.", "en": "Motorbike parking beside the shop, 7,000 VND a time."}}}}
	answer := "Dạ, shop có bãi gửi xe máy bên hông, phí 7.000 ₫ một lượt ạ."

	f := newFixture(t, nil)
	f.srv.Enqueue(llmtest.JSON(understanding("unknown", nil, "", 0, "vi")), llmtest.JSON(draft(answer, "")))
	req := f.request("gửi xe ở đâu vậy shop, tốn bao nhiêu", "vi")
	req.Knowledge = k
	res, err := f.assist(req)
	if err != nil {
		t.Fatal(err)
	}
	if res.Answer != answer {
		t.Fatalf("grounded answer %q, want %q", res.Answer, answer)
	}
	if p := f.srv.Requests()[1].Prompt(); !strings.Contains(p, "parking (\"có chỗ gửi xe không\"): Gửi xe máy ở bãi bên hông shop") {
		t.Fatalf("the answer prompt lacks the entry:\n%s", p)
	}

	f = newFixture(t, nil)
	f.srv.Enqueue(llmtest.JSON(understanding("unknown", nil, "", 0, "vi")), llmtest.JSON(draft(answer, "")))
	res, err = f.assist(f.request("gửi xe ở đâu vậy shop, tốn bao nhiêu", "vi"))
	if err != nil {
		t.Fatal(err)
	}
	if res.Answer != "" {
		t.Fatalf("without the entry the draft naming 7.000 ₫ was kept: %q", res.Answer)
	}
}

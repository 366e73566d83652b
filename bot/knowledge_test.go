package bot_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/idicbot/idicbot/bot"
	"github.com/idicbot/idicbot/bot/bottest"
	"github.com/idicbot/idicbot/bot/inproc"
	"github.com/idicbot/idicbot/crm"
)

// parking is an entry a shop adds in the admin: nothing in the shipped
// knowledge answers it.
func parking(vi string) *crm.KnowledgeEntry {
	return &crm.KnowledgeEntry{ID: "parking",
		Questions: []string{"có chỗ gửi xe không", "gửi xe máy ở đâu", "co cho dau xe ko", "is there parking", "where can I park"},
		Answer:    map[string]string{"vi": vi, "en": "Free motorbike parking in front of the shop."},
		Topic:     map[string]string{"vi": "chỗ gửi xe", "en": "parking"}}
}

// withEntries is the shipped entries (copied) and extra.
func withEntries(e *bottest.Env, extra ...*crm.KnowledgeEntry) []*crm.KnowledgeEntry {
	var out []*crm.KnowledgeEntry
	for _, k := range e.Defaults.Knowledge.Entries {
		cp := *k
		cp.Questions = append([]string(nil), k.Questions...)
		cp.Answer = map[string]string{}
		for l, a := range k.Answer {
			cp.Answer[l] = a
		}
		out = append(out, &cp)
	}
	return append(out, extra...)
}

func newFAQ(t *testing.T, e *bottest.Env, core *bot.Core) *bot.KnowledgeAdmin {
	t.Helper()
	a, err := bot.NewKnowledgeAdmin(bot.KnowledgeAdminOptions{Store: e.DB, Core: core, Intents: e.Defaults.Intents,
		File: e.Defaults.Knowledge, Now: e.Now})
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func chat(t *testing.T, e *bottest.Env) func(user, text string) string {
	return func(user, text string) string {
		t.Helper()
		ctx := context.Background()
		if _, err := e.Core.Handle(ctx, bot.Inbound{Channel: crm.ChannelWeb, UserID: user, MessageID: user + text, Text: text}); err != nil {
			t.Fatal(err)
		}
		if err := e.Disp.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, it := range e.Rec.Take() {
			out = append(out, it.Text)
		}
		return strings.Join(out, "\n")
	}
}

// The shipped entries pass the admin's checks: a shop that opens the view
// and saves without a change is not refused.
func TestKnowledgeDefaultsValid(t *testing.T) {
	e := bottest.NewCore(t)
	if ps := newFAQ(t, e, e.Core).Validate(withEntries(e)); len(ps) != 0 {
		t.Fatalf("problems of the shipped entries: %+v", ps)
	}
}

func TestKnowledgeAdmin(t *testing.T) {
	e := bottest.NewCore(t)
	ctx := context.Background()
	a := newFAQ(t, e, e.Core)
	say := chat(t, e)
	const answer1 = "Shop có chỗ gửi xe máy miễn phí ngay trước cửa ạ."
	const answer2 = "Gửi xe ở bãi bên hông shop, có bảo vệ ạ."

	st, err := a.State(ctx)
	if err != nil || st.Version != 0 || len(st.Entries) != len(e.Defaults.Knowledge.Entries) || len(st.History) != 0 {
		t.Fatalf("state of the file = %+v, %v", st, err)
	}
	if got := say("w1", "shop có chỗ gửi xe không"); strings.Contains(got, answer1) {
		t.Fatalf("answered before the entry existed: %q", got)
	}

	// A preview uses the edited entries and changes nothing live.
	p, err := a.Preview(withEntries(e, parking(answer1)), "cho em hỏi có chỗ đậu xe máy không ạ")
	if err != nil || len(p.Problems) != 0 || p.Intent != bot.IntentFAQ || p.Entry != "parking" || p.Confidence <= 0 || p.Answer["vi"] != answer1 {
		t.Fatalf("preview = %+v, %v", p, err)
	}
	if got := say("w2", "shop có chỗ gửi xe không"); strings.Contains(got, answer1) {
		t.Fatalf("a preview changed the bot: %q", got)
	}

	v, err := a.Save(ctx, withEntries(e, parking(answer1)), 0, "Lan", "web")
	if err != nil || v.Version != 1 || v.By != "Lan" || !v.At.Equal(e.Now()) {
		t.Fatalf("save = %+v, %v", v, err)
	}
	if got := say("w3", "shop có chỗ gửi xe không"); got != answer1 {
		t.Fatalf("after the save the bot says %q, want the new entry", got)
	}
	if got := say("w3e", "where can I park my motorbike?"); got != "Free motorbike parking in front of the shop." {
		t.Fatalf("in English after the save: %q", got)
	}

	// Someone saved meanwhile: a save from version 0 is stale.
	if _, err := a.Save(ctx, withEntries(e, parking(answer2)), 0, "An", "web"); crm.ErrorCode(err) != crm.ECONFLICT {
		t.Fatalf("a stale save: %v, want a conflict", err)
	}

	v, err = a.Save(ctx, withEntries(e, parking(answer2)), 1, "An", "api")
	if err != nil || v.Version != 2 {
		t.Fatalf("second save = %+v, %v", v, err)
	}
	if got := say("w4", "có chỗ gửi xe ko shop"); got != answer2 {
		t.Fatalf("after the second save = %q", got)
	}

	// A restart: the stored version wins over the file.
	core2 := bot.New(bot.Options{Store: e.DB, Catalog: e.Defaults.Catalog, Segments: e.Defaults.Segments, Now: e.Now,
		Knowledge: e.Defaults.Knowledge})
	if err := newFAQ(t, e, core2).Load(ctx); err != nil {
		t.Fatal(err)
	}
	if got := core2.Knowledge().Entry("parking"); got == nil || got.Answer["vi"] != answer2 {
		t.Fatalf("after a restart the parking entry = %+v", got)
	}

	v, err = a.Rollback(ctx, 1, 2, "Lan", "web")
	if err != nil || v.Version != 3 || v.RolledBackFrom != 1 {
		t.Fatalf("rollback = %+v, %v", v, err)
	}
	if got := say("w5", "gửi xe máy ở đâu vậy shop"); got != answer1 {
		t.Fatalf("after the rollback = %q, want the first answer", got)
	}
	if _, err := a.Rollback(ctx, 9, 3, "Lan", "web"); crm.ErrorCode(err) != crm.ENOTFOUND {
		t.Fatalf("rollback to a missing version: %v", err)
	}
	st, err = a.State(ctx)
	if err != nil || st.Version != 3 || len(st.History) != 3 || st.History[0].RolledBackFrom != 1 || st.Entries[len(st.Entries)-1].Answer["vi"] != answer1 {
		t.Fatalf("state = %+v, %v", st, err)
	}
}

func TestKnowledgeAdminRefuses(t *testing.T) {
	e := bottest.NewCore(t)
	ctx := context.Background()
	a := newFAQ(t, e, e.Core)
	noEN := parking("Có chỗ gửi xe ạ.")
	noEN.Answer["en"] = "  "
	dupID := parking("Có ạ.")
	dupID.ID = "cod"
	claimed := parking("Có ạ.")
	claimed.ID = "buying"
	claimed.Questions = []string{"có chỗ để ô tô không", "mình muốn mua iphone 15"}
	type want struct {
		id, field string
		line      int
		code      string
	}
	for _, tt := range []struct {
		name  string
		entry *crm.KnowledgeEntry
		want  want
	}{
		{"an answer without its English", noEN, want{"parking", "answer.en", 0, "answer_missing"}},
		{"an id twice", dupID, want{"cod", "id", 0, "id_duplicate"}},
		{"a question the buy intent owns", claimed, want{"buying", "questions", 2, "question_claimed"}},
	} {
		_, err := a.Save(ctx, withEntries(e, tt.entry), 0, "Lan", "web")
		var inv *bot.InvalidKnowledgeError
		if !errors.As(err, &inv) || crm.ErrorCode(err) != crm.EINVALID {
			t.Errorf("%s: err = %v, want an InvalidKnowledgeError", tt.name, err)
			continue
		}
		found := false
		for _, p := range inv.Problems {
			if p.ID == tt.want.id && p.Field == tt.want.field && p.Line == tt.want.line && p.Code == tt.want.code && p.Entry == len(e.Defaults.Knowledge.Entries) {
				found = true
			}
		}
		if !found || len(inv.Problems) != 1 {
			t.Errorf("%s: problems = %+v, want exactly %+v", tt.name, inv.Problems, tt.want)
		}
		p, err := a.Preview(withEntries(e, tt.entry), "có chỗ gửi xe không")
		if err != nil || len(p.Problems) == 0 || p.Entry != "" {
			t.Errorf("%s: preview = %+v, %v, want the problems only", tt.name, p, err)
		}
	}
	if h, err := e.DB.KnowledgeHistory(ctx); err != nil || len(h) != 0 {
		t.Fatalf("refused edits were stored: %v, %v", h, err)
	}
	if e.Core.Knowledge().Entry("parking") != nil {
		t.Fatal("a refused edit went live")
	}
	if _, err := a.Preview(withEntries(e), "  "); crm.ErrorCode(err) != crm.EINVALID {
		t.Fatalf("preview of no question: %v", err)
	}
}

// A save in one process reaches the others through the notifier.
func TestKnowledgeReloadsElsewhere(t *testing.T) {
	n := inproc.NewNotifier()
	e := bottest.NewCore(t, bottest.CoreOptions(func(o *bot.Options) { o.Notifier = n }))
	other := bot.New(bot.Options{Store: e.DB, Catalog: e.Defaults.Catalog, Segments: e.Defaults.Segments, Now: e.Now,
		Knowledge: e.Defaults.Knowledge, Notifier: n})
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		newFAQ(t, e, other).RunReloads(ctx)
	}()
	defer func() { cancel(); wg.Wait() }()
	if _, err := newFAQ(t, e, e.Core).Save(ctx, withEntries(e, parking("Có ạ.")), 0, "Lan", "web"); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(10 * time.Second); other.Knowledge().Entry("parking") == nil; {
		if time.Now().After(deadline) {
			t.Fatal("the other process never reloaded the FAQ")
		}
		time.Sleep(time.Millisecond)
	}
}

// assistSpy is an assistant that records what it was given.
type assistSpy struct {
	mu   sync.Mutex
	reqs []bot.AssistRequest
}

func (s *assistSpy) Assist(_ context.Context, req bot.AssistRequest) (bot.AssistResult, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.reqs = append(s.reqs, req)
	return bot.AssistResult{}, nil
}

func (s *assistSpy) last() bot.AssistRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.reqs) == 0 {
		return bot.AssistRequest{}
	}
	return s.reqs[len(s.reqs)-1]
}

// The LLM is grounded on the entries as last saved.
func TestKnowledgeGroundsAssistant(t *testing.T) {
	spy := &assistSpy{}
	e := bottest.NewCore(t, bottest.WithAssistant(spy, time.Second))
	say := chat(t, e)
	say("w1", "blorp zxqv")
	if k := spy.last().Knowledge; k == nil || k.Entry("cod") == nil || k.Entry("parking") != nil {
		t.Fatalf("before the save the assistant got %+v", k)
	}
	if _, err := newFAQ(t, e, e.Core).Save(context.Background(), withEntries(e, parking("Có chỗ gửi xe ạ.")), 0, "Lan", "web"); err != nil {
		t.Fatal(err)
	}
	say("w2", "blorp zxqv")
	if k := spy.last().Knowledge; k == nil || k.Entry("parking") == nil || !strings.Contains(k.Text(), "Có chỗ gửi xe ạ.") {
		t.Fatalf("after the save the assistant got %+v", k)
	}
}

// BenchmarkKnowledgePreview is what trying a question in the admin costs:
// the edit checked, the classifier rebuilt, the question read.
func BenchmarkKnowledgePreview(b *testing.B) {
	e := bottest.NewCore(b)
	a, err := bot.NewKnowledgeAdmin(bot.KnowledgeAdminOptions{Store: e.DB, Core: e.Core, Intents: e.Defaults.Intents, File: e.Defaults.Knowledge, Now: e.Now})
	if err != nil {
		b.Fatal(err)
	}
	entries := withEntries(e, parking("Có ạ."))
	b.ResetTimer()
	for range b.N {
		if p, err := a.Preview(entries, "shop có chỗ gửi xe không"); err != nil || p.Entry != "parking" {
			b.Fatal(p, err)
		}
	}
}

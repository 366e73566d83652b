package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestServeShopKnowledgeAndIntents: a shop's knowledge_file replaces the
// built-in entries and its intents_file adds examples; `serve` answers the
// web chat from them, and refuses a broken file at start with its name.
func TestServeShopKnowledgeAndIntents(t *testing.T) {
	dir := t.TempDir()
	knowledge := "entries:\n  - id: tradein\n    questions: [thu cũ đổi mới không, nhận máy cũ không shop, do you take trade-ins]\n" +
		"    answer: {vi: \"Shop nhận thu cũ đổi mới tại cửa hàng.\", en: \"We take trade-ins in store.\"}\n"
	intents := "intents:\n  - name: buy\n    examples: [gói lại cho em, gói lại cho chị nhé]\n"
	for name, data := range map[string]string{"knowledge.yaml": knowledge, "intents.yaml": intents} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	s := startServeWith(t, dir, map[string]string{}, "knowledge_file: knowledge.yaml\nintents_file: intents.yaml\n", nil)
	defer s.close()
	base := s.m.URL()
	for i, tc := range []struct{ text, want string }{
		{"shop có nhận thu cũ đổi mới không?", "Shop nhận thu cũ đổi mới tại cửa hàng."},
		{"gói lại cho mình cái redmi nha", "Tuyệt vời! Bạn muốn đặt Xiaomi Redmi Note 13"},
	} {
		if code, body := postJSON(t, base+"/webchat/messages", `{"session":"k","id":"m`+string(rune('1'+i))+`","text":"`+tc.text+`"}`); code != 200 {
			t.Fatalf("post: %d %s", code, body)
		}
		c := getConversation(t, base, "k")
		if last := c.Messages[len(c.Messages)-1].Text; !strings.HasPrefix(lastBotText(c), tc.want) {
			t.Fatalf("%q answered %q (last %q), want %q", tc.text, lastBotText(c), last, tc.want)
		}
	}
}

// lastBotText is the first bot message after the customer's last one.
func lastBotText(c conversation) string {
	for i := len(c.Messages) - 1; i >= 0; i-- {
		if c.Messages[i].Dir == "in" {
			if i+1 < len(c.Messages) {
				return c.Messages[i+1].Text
			}
			return ""
		}
	}
	return ""
}

func TestUnderstandingRefusesBrokenFiles(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "knowledge.yaml"), []byte("entries:\n  - id: x\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := &Config{KnowledgeFile: "knowledge.yaml", dir: dir}
	_, _, _, err := understanding(cfg, nil)
	if err == nil || !strings.Contains(err.Error(), "knowledge.yaml") || !strings.Contains(err.Error(), "no questions") {
		t.Fatalf("err = %v, want one naming the file and the problem", err)
	}
}

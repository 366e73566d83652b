package main

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/idicbot/idicbot/bot/llm"
	"github.com/idicbot/idicbot/bot/llm/llmtest"
)

func envMain(env map[string]string) *Main {
	m := NewMain()
	m.Getenv = func(k string) string { return env[k] }
	return m
}

// TestLLMWiring: the assistant is off unless OPENAI_BASE_URL or
// OPENAI_API_KEY is set; a local server needs no key; bad values are
// start-up errors that say what to write.
func TestLLMWiring(t *testing.T) {
	tests := []struct {
		name    string
		env     map[string]string
		on      bool
		timeout time.Duration
		err     string
	}{
		{"off by default", nil, false, 0, ""},
		{"model alone does not turn it on", map[string]string{"OPENAI_MODEL": "gpt-4o"}, false, 0, ""},
		{"key alone: OpenAI", map[string]string{"OPENAI_API_KEY": "sk-x"}, true, llm.DefaultTimeout, ""},
		{"local server without key", map[string]string{"OPENAI_BASE_URL": "http://localhost:11434/v1", "OPENAI_MODEL": "qwen2.5:7b"}, true, llm.DefaultTimeout, ""},
		{"timeout as a duration", map[string]string{"OPENAI_BASE_URL": "http://localhost:8000/v1", "OPENAI_TIMEOUT": "1500ms"}, true, 1500 * time.Millisecond, ""},
		{"timeout in seconds", map[string]string{"OPENAI_BASE_URL": "http://localhost:8000/v1", "OPENAI_TIMEOUT": "2.5"}, true, 2500 * time.Millisecond, ""},
		{"bad timeout", map[string]string{"OPENAI_BASE_URL": "http://localhost:8000/v1", "OPENAI_TIMEOUT": "soon"}, false, 0, "OPENAI_TIMEOUT"},
		{"streamed", map[string]string{"OPENAI_BASE_URL": "http://localhost:8000/v1", "OPENAI_STREAM": "true"}, true, llm.DefaultTimeout, ""},
		{"bad stream flag", map[string]string{"OPENAI_BASE_URL": "http://localhost:8000/v1", "OPENAI_STREAM": "yes please"}, false, 0, "OPENAI_STREAM"},
		{"bad base url", map[string]string{"OPENAI_BASE_URL": "localhost:11434"}, false, 0, "OPENAI_BASE_URL"},
		{"missing knowledge file", map[string]string{"OPENAI_API_KEY": "sk-x", "IDICBOT_KNOWLEDGE": "/nonexistent/knowledge.md"}, false, 0, "IDICBOT_KNOWLEDGE"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := envMain(tt.env)
			a, err := m.newAssistant()
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err = %v, want one about %s", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := a != nil; got != tt.on {
				t.Fatalf("assistant on = %v, want %v", got, tt.on)
			}
			if a != nil {
				if got := a.(*llm.Assistant).Timeout(); got != tt.timeout {
					t.Fatalf("assistant timeout %v, want %v", got, tt.timeout)
				}
			}
			if got := m.assistTimeout(); got != tt.timeout {
				t.Fatalf("core's assist timeout %v, want %v", got, tt.timeout)
			}
		})
	}
}

// TestLLMServeLocalServer runs `idicbot serve` against a fake local
// OpenAI-compatible server with no API key: the model named in OPENAI_MODEL
// is asked, no Authorization header is sent, the web chat customer gets the
// drafted answer, and /metrics counts the calls. Then the server goes down
// and the customer gets the rule-based answer.
func TestLLMServeLocalServer(t *testing.T) {
	for _, stream := range []string{"false", "true"} {
		t.Run("stream="+stream, func(t *testing.T) { testLLMServeLocalServer(t, stream) })
	}
}

func testLLMServeLocalServer(t *testing.T, stream string) {
	srv := llmtest.NewServer(t)
	answer := "Dạ shop cài phần mềm miễn phí khi bạn mua máy ạ."
	srv.Handle(func(req llmtest.Request) llmtest.Response {
		if req.Schema() == llm.AnswerSchema {
			return llmtest.JSON(map[string]any{"answer": answer, "offer_id": ""})
		}
		return llmtest.JSON(map[string]any{"intent": "unknown", "products": []string{}, "category": "", "budget_vnd": 0, "language": "vi", "sentiment": "neutral"})
	})
	_, base := startServe(t, t.TempDir(), map[string]string{
		"OPENAI_BASE_URL": srv.BaseURL(), "OPENAI_MODEL": "qwen2.5:7b", "OPENAI_TIMEOUT": "2s", "OPENAI_STREAM": stream,
	})
	if code, body := postJSON(t, base+"/webchat/messages", `{"session":"q","id":"m1","text":"shop có dịch vụ cài phần mềm không?"}`); code != 200 {
		t.Fatalf("post: %d %s", code, body)
	}
	c := getConversation(t, base, "q")
	if len(c.Messages) < 2 || c.Messages[1].Text != answer {
		t.Fatalf("conversation %+v, want the drafted answer", c.Messages)
	}
	reqs := srv.Requests()
	if len(reqs) != 2 {
		t.Fatalf("%d LLM requests, want understanding and answer", len(reqs))
	}
	// The answer is grounded in the knowledge entries the rules answer from.
	if p := reqs[len(reqs)-1].Prompt(); !strings.Contains(p, "xuất hóa đơn VAT") || !strings.Contains(p, "Orders from 3,000,000 ₫ can be paid in 0% installments") {
		t.Errorf("the answer's prompt lacks the knowledge entries:\n%s", p)
	}
	for _, r := range reqs {
		if r.Model != "qwen2.5:7b" {
			t.Errorf("model %q, want OPENAI_MODEL", r.Model)
		}
		if got := fmt.Sprint(r.Stream); got != stream {
			t.Errorf("request streamed = %s, want OPENAI_STREAM=%s", got, stream)
		}
		if h := r.Header.Get("Authorization"); h != "" {
			t.Errorf("Authorization %q sent with no OPENAI_API_KEY", h)
		}
	}
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{`idicbot_llm_calls_total{result="ok",step="answer"} 1`, `idicbot_llm_tokens_total{type="prompt"} 240`, "idicbot_llm_call_seconds_bucket"} {
		if !strings.Contains(string(b), want) {
			t.Errorf("metrics lack %s", want)
		}
	}

	srv.Close() // the LLM server is down: connection refused
	if code, body := postJSON(t, base+"/webchat/messages", `{"session":"q","id":"m2","text":"qwerty?"}`); code != 200 {
		t.Fatalf("post: %d %s", code, body)
	}
	c = getConversation(t, base, "q")
	if last := c.Messages[len(c.Messages)-1].Text; !strings.HasPrefix(last, "Mình chưa hiểu ý bạn lắm") {
		t.Fatalf("with the LLM down the customer got %q, want the rule-based answer", last)
	}
}

package main

import (
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/idicbot/idicbot/bot"
	"github.com/idicbot/idicbot/bot/llm"
)

// llmConfigured reports whether the environment asks for the LLM assistant.
func (m *Main) llmConfigured() bool {
	return m.Getenv("OPENAI_BASE_URL") != "" || m.Getenv("OPENAI_API_KEY") != ""
}

// llmTimeout reads OPENAI_TIMEOUT ("4s", "1500ms" or a number of seconds).
func (m *Main) llmTimeout() (time.Duration, error) {
	v := strings.TrimSpace(m.Getenv("OPENAI_TIMEOUT"))
	if v == "" {
		return llm.DefaultTimeout, nil
	}
	if d, err := time.ParseDuration(v); err == nil && d > 0 {
		return d, nil
	}
	if s, err := strconv.ParseFloat(v, 64); err == nil && s > 0 {
		return time.Duration(s * float64(time.Second)), nil
	}
	return 0, fmt.Errorf("OPENAI_TIMEOUT %q: want a duration such as 4s", v)
}

// newAssistant returns the LLM assistant when OPENAI_BASE_URL or
// OPENAI_API_KEY is set, nil (rules only) otherwise. It does no network I/O;
// its metrics go on m.Registry.
func (m *Main) newAssistant() (bot.Assistant, error) {
	if !m.llmConfigured() {
		return nil, nil
	}
	timeout, err := m.llmTimeout()
	if err != nil {
		return nil, err
	}
	base := strings.TrimRight(strings.TrimSpace(m.Getenv("OPENAI_BASE_URL")), "/")
	if base == "" {
		base = llm.DefaultBaseURL
	}
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("OPENAI_BASE_URL must be an http(s) URL such as http://localhost:11434/v1")
	}
	if !strings.HasSuffix(u.Path, "/v1") && m.Log != nil {
		m.Log.Warn("OPENAI_BASE_URL usually ends in /v1 (OpenAI, Ollama, vLLM, LM Studio)", "host", u.Host, "path", u.Path)
	}
	var knowledge []byte
	if path := m.Getenv("IDICBOT_KNOWLEDGE"); path != "" {
		if knowledge, err = os.ReadFile(path); err != nil {
			return nil, fmt.Errorf("IDICBOT_KNOWLEDGE: %w", err)
		}
	} else {
		var cfgErr error
		if m.Config != nil {
			knowledge, _, cfgErr = m.Config.ReadFile("", "knowledge.md")
		}
		if cfgErr != nil {
			return nil, fmt.Errorf("knowledge: %w", cfgErr)
		}
	}
	// The FAQ entries the rules answer from ground the model's answers too:
	// the core passes the live ones with each request (bot.AssistRequest),
	// so an edit saved in the admin grounds the next answer.
	model := strings.TrimSpace(m.Getenv("OPENAI_MODEL"))
	stream := false
	if v := strings.TrimSpace(m.Getenv("OPENAI_STREAM")); v != "" {
		if stream, err = strconv.ParseBool(v); err != nil {
			return nil, fmt.Errorf("OPENAI_STREAM %q: want true or false", v)
		}
	}
	a := llm.New(llm.Options{
		APIKey: m.Getenv("OPENAI_API_KEY"), BaseURL: base, Model: model, Timeout: timeout,
		Knowledge: string(knowledge), HTTPClient: &http.Client{}, Logger: m.Log, Now: m.Now, Stream: stream,
	})
	if m.Registry != nil {
		a.Register(m.Registry)
	}
	if m.Log != nil {
		if model == "" {
			model = llm.DefaultModel
		}
		// The key and any credentials in the URL are never logged.
		m.Log.Info("llm assistant on", "host", u.Host, "model", model, "timeout", timeout.String())
	}
	return a, nil
}

// assistTimeout bounds one assistant call in the core: OPENAI_TIMEOUT, or
// the core's default when the assistant is off or the value is invalid
// (newAssistant reports that).
func (m *Main) assistTimeout() time.Duration {
	if !m.llmConfigured() {
		return 0
	}
	d, err := m.llmTimeout()
	if err != nil {
		return 0
	}
	return d
}

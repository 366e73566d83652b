package main

import (
	"time"

	"github.com/idicbot/idicbot/bot"
)

// newAssistant returns the LLM assistant when OPENAI_BASE_URL or
// OPENAI_API_KEY is set, nil (rules only) otherwise.
func (m *Main) newAssistant() (bot.Assistant, error) {
	return nil, nil
}

func (m *Main) assistTimeout() time.Duration { return 0 }

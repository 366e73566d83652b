package crm

import (
	"context"
	"sync/atomic"
	"time"
)

// MessagesVersion is one saved version of a shop's messages file: the
// bot's own phrases and form of address (bot.ParseMessages reads it),
// edited at run time from the admin page.
type MessagesVersion struct {
	Version int       `json:"version"`
	YAML    string    `json:"yaml"`
	By      string    `json:"by"`
	Origin  string    `json:"origin"`
	At      time.Time `json:"at"`
}

// MessagesVersions keeps the versions of the messages file saved at run
// time; the newest is live and wins over the file.
type MessagesVersions interface {
	// MessagesHistory returns every saved version, newest first.
	MessagesHistory(ctx context.Context) ([]*MessagesVersion, error)
	// SaveMessages stores v, whose Version must follow the newest stored
	// one (1 for the first); otherwise someone saved meanwhile: ECONFLICT.
	SaveMessages(ctx context.Context, v *MessagesVersion) error
}

// Phrasebook is the live wording of the bot's phrases, by language and
// phrase id (what differs from the built-in phrases), swapped whole when
// the shop saves new messages. It is safe for concurrent use; a nil
// Phrasebook holds nothing.
type Phrasebook struct {
	p atomic.Pointer[map[string]map[string]string]
}

// NewPhrasebook returns a Phrasebook holding m.
func NewPhrasebook(m map[string]map[string]string) *Phrasebook {
	b := &Phrasebook{}
	b.Set(m)
	return b
}

// Get returns the phrases; the map must not be changed.
func (b *Phrasebook) Get() map[string]map[string]string {
	if b == nil {
		return nil
	}
	if m := b.p.Load(); m != nil {
		return *m
	}
	return nil
}

// Set makes m the live phrases.
func (b *Phrasebook) Set(m map[string]map[string]string) { b.p.Store(&m) }

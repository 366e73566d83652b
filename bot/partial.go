package bot

import "sync"

// PartialSends remembers, per outbox item, how many parts of a message a
// channel has already delivered (a long text split in several messages), so
// that a retry sends only the rest and the customer never sees a part twice.
// The zero value is ready to use.
type PartialSends struct {
	mu   sync.Mutex
	sent map[string]int
}

// Start returns the index of the first part still to send for key.
func (p *PartialSends) Start(key string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.sent[key]
}

// Failed records that part i failed with err: the parts before it are
// delivered and, if err will be retried, the retry starts at i.
func (p *PartialSends) Failed(key string, i int, err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if i > 0 && !IsPermanent(err) {
		if p.sent == nil {
			p.sent = map[string]int{}
		}
		p.sent[key] = i
		return
	}
	delete(p.sent, key)
}

// Done forgets key: every part was delivered.
func (p *PartialSends) Done(key string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.sent, key)
}

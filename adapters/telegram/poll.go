package telegram

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/go-telegram/bot/models"
)

// apiError is an error answer of the Bot API to our own getUpdates call.
type apiError struct {
	Code        int
	Description string
	RetryAfter  time.Duration
}

func (e *apiError) Error() string {
	return fmt.Sprintf("telegram: %d %s", e.Code, e.Description)
}

// getUpdates calls the Bot API's getUpdates. The library has no exported
// call for it (its loop confirms updates before they are handled), so this
// is the one request the adapter makes itself.
func (a *Adapter) getUpdates(ctx context.Context, offset int64, timeout time.Duration) ([]json.RawMessage, error) {
	body, err := json.Marshal(map[string]any{
		"offset":          offset,
		"limit":           100,
		"timeout":         int(timeout / time.Second),
		"allowed_updates": allowedUpdates,
	})
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, timeout+a.opts.RequestTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, a.opts.APIURL+"/bot"+a.opts.Token+"/getUpdates", bytes.NewReader(body))
	if err != nil {
		return nil, a.redact(err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := a.http.Do(req)
	if err != nil {
		return nil, a.redact(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return nil, fmt.Errorf("telegram getUpdates: read answer: %w", err)
	}
	var r struct {
		OK          bool              `json:"ok"`
		Result      []json.RawMessage `json:"result"`
		ErrorCode   int               `json:"error_code"`
		Description string            `json:"description"`
		Parameters  struct {
			RetryAfter int `json:"retry_after"`
		} `json:"parameters"`
	}
	if err := decodeJSON(raw, &r); err != nil {
		return nil, fmt.Errorf("telegram getUpdates: HTTP %d, answer is not JSON: %w", resp.StatusCode, err)
	}
	if !r.OK {
		code := r.ErrorCode
		if code == 0 {
			code = resp.StatusCode
		}
		return nil, &apiError{Code: code, Description: r.Description, RetryAfter: time.Duration(r.Parameters.RetryAfter) * time.Second}
	}
	return r.Result, nil
}

// redact removes the token from an error's text (url.Error carries the URL).
func (a *Adapter) redact(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		ue.URL = strings.ReplaceAll(ue.URL, a.opts.Token, "<token>")
	}
	return err
}

// poll is the long-polling loop. Updates are handled as they arrive — one
// chat's in order, different chats in parallel — while the loop keeps
// fetching: getUpdates hands out at most 100 updates from the offset, so
// the loop asks again as soon as the oldest ones are done, rather than
// waiting for a whole batch. The offset moves only past updates whose
// handling succeeded, so Telegram redelivers the rest. handleCtx outlives
// ctx so that updates being handled when polling stops finish their commit.
func (a *Adapter) poll(ctx, handleCtx context.Context) {
	p := newPoller(a, ctx, handleCtx)
	var (
		backoff     time.Duration // before the next getUpdates
		failBackoff time.Duration // grows while handling keeps failing
		confirmed   int64         // the offset Telegram last saw
	)
	defer func() {
		p.wait()
		if off := p.offset(); off > confirmed {
			a.confirm(handleCtx, off)
		}
	}()
	for ctx.Err() == nil {
		if backoff > 0 && !sleep(ctx, backoff) {
			return
		}
		offset := p.offset()
		raw, err := a.getUpdates(ctx, offset, a.opts.PollTimeout)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			var ae *apiError
			if errors.As(err, &ae) && ae.RetryAfter > 0 {
				backoff = ae.RetryAfter
			} else {
				backoff = a.nextBackoff(backoff)
			}
			a.log.Log(ctx, slogLevelFor(err), "telegram getUpdates failed", "err", err, "retry_in", backoff)
			continue
		}
		confirmed = offset
		backoff = 0
		inflight := p.admit(raw)
		if inflight > 0 {
			// What Telegram would hand out next starts with updates being
			// handled: ask again once a good share of them is done.
			p.waitProgress(ctx, max(1, inflight/4))
		}
		if p.takeFailed() {
			failBackoff = a.nextBackoff(failBackoff)
			backoff = failBackoff
		} else {
			failBackoff = 0
		}
	}
}

// confirm tells Telegram that updates below offset are handled, so that a
// restart does not receive them again (they would be duplicates).
func (a *Adapter) confirm(ctx context.Context, offset int64) {
	ctx, cancel := context.WithTimeout(ctx, a.opts.RequestTimeout)
	defer cancel()
	if _, err := a.getUpdates(ctx, offset, 0); err != nil {
		a.log.Warn("telegram could not confirm the last updates; they will be delivered again", "offset", offset, "err", err)
	}
}

func (a *Adapter) nextBackoff(d time.Duration) time.Duration {
	if d <= 0 {
		return a.opts.RetryBackoff
	}
	d *= 2
	if d > a.opts.MaxBackoff {
		d = a.opts.MaxBackoff
	}
	return d
}

// updateState is where a fetched update stands.
type updateState uint8

const (
	stateQueued updateState = iota + 1 // waiting for or in its chat's handling
	stateDone                          // handled (or skipped): may be confirmed
	stateRetry                         // failed, or dropped after its chat failed: handled again when fetched again
)

// poller keeps track of the updates fetched and not yet confirmed, and runs
// one goroutine per chat with work (at most Workers at once).
type poller struct {
	a         *Adapter
	ctx       context.Context // polling; when it ends, chats stop after their current update
	handleCtx context.Context
	sem       chan struct{}
	wg        sync.WaitGroup
	progress  chan struct{} // an update finished (capacity 1)

	mu      sync.Mutex
	known   map[int64]updateState      // fetched updates at or past the offset
	queues  map[int64][]*models.Update // per chat, in order; a chat has a goroutine while its entry exists
	retryAt map[int64]int64            // chat → its first update to handle again: nothing after it goes first
	maxSeen int64
	failed  bool
}

func newPoller(a *Adapter, ctx, handleCtx context.Context) *poller {
	return &poller{
		a: a, ctx: ctx, handleCtx: handleCtx,
		sem:      make(chan struct{}, a.opts.Workers),
		progress: make(chan struct{}, 1),
		known:    map[int64]updateState{},
		queues:   map[int64][]*models.Update{},
		retryAt:  map[int64]int64{},
	}
}

// offset is the getUpdates offset that confirms every handled update and no
// other: the first fetched update not handled yet, or past the last one.
// Handled updates below it are forgotten.
func (p *poller) offset() int64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.offsetLocked()
}

func (p *poller) offsetLocked() int64 {
	off := p.maxSeen + 1
	if p.maxSeen == 0 {
		off = 0
	}
	for id, st := range p.known {
		if st != stateDone && id < off {
			off = id
		}
	}
	for id := range p.known {
		if id < off {
			delete(p.known, id)
		}
	}
	return off
}

// admit queues the fetched updates that are new (or to be handled again)
// on their chats, in order, and returns how many updates are being handled.
func (p *poller) admit(raw []json.RawMessage) int {
	// Most of a batch is usually known already: read only the ids first.
	ids := make([]int64, len(raw))
	for i, r := range raw {
		var head struct {
			ID int64 `json:"update_id"`
		}
		if err := decodeJSON(r, &head); err != nil || head.ID <= 0 {
			p.a.log.Error("telegram getUpdates returned something that is not an update; skipped", "bytes", len(r))
			continue
		}
		ids[i] = head.ID
	}
	p.mu.Lock()
	want := make([]bool, len(raw))
	for i, id := range ids {
		st := p.known[id]
		want[i] = id > 0 && (st == 0 || st == stateRetry)
	}
	p.mu.Unlock()
	fresh := make([]*models.Update, len(raw))
	for i, r := range raw {
		if !want[i] {
			continue
		}
		var u models.Update
		if err := decodeJSON(r, &u); err != nil {
			p.a.log.Error("telegram update does not decode; skipped", "update_id", ids[i], "err", err)
			continue
		}
		fresh[i] = &u
	}

	p.mu.Lock()
	defer p.mu.Unlock()
	for i, id := range ids {
		if id > p.maxSeen {
			p.maxSeen = id
		}
		if id <= 0 {
			continue
		}
		u := fresh[i]
		if u == nil {
			if want[i] { // undecodable: confirm it rather than fetch it forever
				p.known[id] = stateDone
			}
			continue
		}
		if st := p.known[id]; st != 0 && st != stateRetry {
			continue
		}
		chat := chatOf(u)
		if first, ok := p.retryAt[chat]; ok {
			if id > first {
				continue // the chat's failed update was not fetched again yet: keep the order
			}
			delete(p.retryAt, chat)
		}
		p.known[id] = stateQueued
		q, running := p.queues[chat]
		p.queues[chat] = append(q, u)
		if !running {
			p.wg.Add(1)
			go p.run(chat)
		}
	}
	n := 0
	for _, st := range p.known {
		if st == stateQueued {
			n++
		}
	}
	return n
}

// run handles one chat's queued updates in order until the queue is empty,
// an update fails (the rest waits to be fetched again) or polling stops.
func (p *poller) run(chat int64) {
	defer p.wg.Done()
	p.sem <- struct{}{}
	defer func() { <-p.sem }()
	for {
		p.mu.Lock()
		q := p.queues[chat]
		if len(q) == 0 || p.ctx.Err() != nil {
			// Updates left queued when polling stops are not confirmed:
			// Telegram delivers them again after a restart.
			delete(p.queues, chat)
			p.mu.Unlock()
			return
		}
		u := q[0]
		p.queues[chat] = q[1:]
		p.mu.Unlock()

		err := p.a.handleUpdate(p.handleCtx, u)

		p.mu.Lock()
		if err != nil {
			p.a.log.Warn("telegram update not handled; it will be retried", "update_id", u.ID, "err", err)
			p.known[u.ID] = stateRetry
			for _, r := range p.queues[chat] {
				p.known[r.ID] = stateRetry
			}
			p.retryAt[chat] = u.ID
			delete(p.queues, chat)
			p.failed = true
			p.mu.Unlock()
			p.signal()
			return
		}
		p.known[u.ID] = stateDone
		p.mu.Unlock()
		p.signal()
	}
}

func (p *poller) signal() {
	select {
	case p.progress <- struct{}{}:
	default:
	}
}

// waitProgress waits until the offset moved at least step, nothing is
// being handled, an update failed, or polling stops.
func (p *poller) waitProgress(ctx context.Context, step int) {
	from := p.offset()
	for {
		p.mu.Lock()
		off := p.offsetLocked()
		busy := false
		for _, st := range p.known {
			if st == stateQueued {
				busy = true
				break
			}
		}
		ready := off-from >= int64(step) || !busy || p.failed
		p.mu.Unlock()
		if ready {
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-p.progress:
		}
	}
}

// takeFailed reports (and forgets) that an update failed since last asked.
func (p *poller) takeFailed() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	f := p.failed
	p.failed = false
	return f
}

// wait waits for the chats being handled; called once polling stopped.
func (p *poller) wait() { p.wg.Wait() }

func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

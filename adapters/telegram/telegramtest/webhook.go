package telegramtest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"slices"
	"sync"
	"time"
)

// defaultWebhookConns is setWebhook's max_connections when not given.
const defaultWebhookConns = 40

// WebhookConnections returns the max_connections of the registered webhook.
func (s *Server) WebhookConnections() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.webhookConns
}

// ServeWebhook delivers updates to the registered webhook until ctx ends,
// the way Telegram does: up to the webhook's max_connections requests at
// once, one update at a time per chat and in order within a chat. An
// update answered 200 is forgotten; any other answer or a failed request
// leaves it queued, and it is posted again after retry (nothing of that
// chat goes before it). target, when not empty, replaces the registered
// URL, as a reverse proxy forwards Telegram's calls to the bot.
func (s *Server) ServeWebhook(ctx context.Context, target string, retry time.Duration) error {
	s.mu.Lock()
	url, secret, conns := s.webhookURL, s.webhookSecret, s.webhookConns
	s.mu.Unlock()
	if url == "" {
		return errors.New("telegramtest: no webhook set")
	}
	if target != "" {
		url = target
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: conns, MaxConnsPerHost: conns}}
	defer client.CloseIdleConnections()
	d := &delivery{
		s: s, ctx: ctx, client: client, url: url, secret: secret, retry: retry,
		busy: map[int64]bool{}, chats: map[int64]int64{}, retryAt: map[int64]time.Time{},
	}
	var wg sync.WaitGroup
	defer wg.Wait()
	sem := make(chan struct{}, conns)
	for {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			return nil
		}
		raw, id, chat, wait := d.next()
		if raw == nil {
			<-sem
			t := time.NewTimer(wait)
			select {
			case <-ctx.Done():
				t.Stop()
				return nil
			case <-wait4(s):
			case <-t.C:
			}
			t.Stop()
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			d.post(raw, id, chat)
		}()
	}
}

// wait4 returns the channel closed at the server's next change (an update
// pushed, a delivery done).
func wait4(s *Server) <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.changed
}

type delivery struct {
	s           *Server
	ctx         context.Context
	client      *http.Client
	url, secret string
	retry       time.Duration
	busy        map[int64]bool      // update ids being posted
	chats       map[int64]int64     // update id → chat id, parsed once
	retryAt     map[int64]time.Time // update id → not before
}

// next picks the first queued update that may go now: not being posted,
// not waiting for a retry, and with nothing of its chat before it still
// queued. Without one it says how long to wait at most.
func (d *delivery) next() (raw json.RawMessage, id, chat int64, wait time.Duration) {
	s := d.s
	s.mu.Lock()
	defer s.mu.Unlock()
	wait = time.Second
	now := time.Now()
	held := map[int64]bool{} // chats with an earlier update still queued
	for i, uid := range s.queueIDs {
		c, ok := d.chats[uid]
		if !ok {
			c = chatOfRaw(s.queue[i])
			d.chats[uid] = c
		}
		if held[c] || !s.allowedLocked(s.queueKinds[i]) {
			continue
		}
		held[c] = true
		if d.busy[uid] {
			continue
		}
		if at, ok := d.retryAt[uid]; ok && now.Before(at) {
			wait = min(wait, at.Sub(now))
			continue
		}
		d.busy[uid] = true
		return s.queue[i], uid, c, 0
	}
	return nil, 0, 0, wait
}

func (d *delivery) post(raw json.RawMessage, id, chat int64) {
	ok := false
	req, err := http.NewRequestWithContext(d.ctx, http.MethodPost, d.url, bytes.NewReader(raw))
	if err == nil {
		req.Header.Set("Content-Type", "application/json")
		if d.secret != "" {
			req.Header.Set("X-Telegram-Bot-Api-Secret-Token", d.secret)
		}
		var resp *http.Response
		if resp, err = d.client.Do(req); err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			ok = resp.StatusCode == http.StatusOK
		}
	}
	s := d.s
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(d.busy, id)
	if ok {
		delete(d.chats, id)
		delete(d.retryAt, id)
		if i := slices.Index(s.queueIDs, id); i >= 0 {
			s.queue = slices.Delete(s.queue, i, i+1)
			s.queueIDs = slices.Delete(s.queueIDs, i, i+1)
			s.queueKinds = slices.Delete(s.queueKinds, i, i+1)
		}
	} else {
		d.retryAt[id] = time.Now().Add(d.retry)
	}
	s.notifyLocked()
}

// chatOfRaw is the chat an update belongs to (0 when it has none).
func chatOfRaw(raw json.RawMessage) int64 {
	type chat struct {
		ID int64 `json:"id"`
	}
	type msg struct {
		Chat chat `json:"chat"`
	}
	var u struct {
		Message           *msg `json:"message"`
		EditedMessage     *msg `json:"edited_message"`
		ChannelPost       *msg `json:"channel_post"`
		EditedChannelPost *msg `json:"edited_channel_post"`
		CallbackQuery     *struct {
			From    chat `json:"from"`
			Message *msg `json:"message"`
		} `json:"callback_query"`
	}
	if json.Unmarshal(raw, &u) != nil {
		return 0
	}
	for _, m := range []*msg{u.Message, u.EditedMessage, u.ChannelPost, u.EditedChannelPost} {
		if m != nil {
			return m.Chat.ID
		}
	}
	if q := u.CallbackQuery; q != nil {
		if q.Message != nil {
			return q.Message.Chat.ID
		}
		return q.From.ID
	}
	return 0
}

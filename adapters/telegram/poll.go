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
func (a *Adapter) getUpdates(ctx context.Context, offset int64, timeout time.Duration) ([]*models.Update, error) {
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
		OK          bool             `json:"ok"`
		Result      []*models.Update `json:"result"`
		ErrorCode   int              `json:"error_code"`
		Description string           `json:"description"`
		Parameters  struct {
			RetryAfter int `json:"retry_after"`
		} `json:"parameters"`
	}
	if err := json.Unmarshal(raw, &r); err != nil {
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

// poll is the long-polling loop. Each batch is handled before the next
// getUpdates; the offset moves only past updates whose handling succeeded,
// so Telegram redelivers the rest. handleCtx outlives ctx so that updates
// being handled when polling stops finish their commit.
func (a *Adapter) poll(ctx, handleCtx context.Context) {
	var (
		offset    int64
		committed = map[int64]bool{} // handled updates at or past offset (a failure before them held it back)
		backoff   time.Duration
		confirmed int64 // the offset Telegram last saw
	)
	defer func() {
		if offset > confirmed {
			a.confirm(handleCtx, offset)
		}
	}()
	for ctx.Err() == nil {
		if backoff > 0 && !sleep(ctx, backoff) {
			return
		}
		updates, err := a.getUpdates(ctx, offset, a.opts.PollTimeout)
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
			level := slogLevelFor(err)
			a.log.Log(ctx, level, "telegram getUpdates failed", "err", err, "retry_in", backoff)
			continue
		}
		confirmed = offset
		backoff = 0
		if len(updates) == 0 {
			continue
		}
		next, failed := a.handleBatch(handleCtx, updates, committed)
		if next > offset {
			offset = next
		}
		for id := range committed {
			if id < offset {
				delete(committed, id)
			}
		}
		if failed {
			backoff = a.nextBackoff(0)
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

// handleBatch handles one getUpdates batch: the updates of one chat in
// order, different chats in parallel (at most Workers at once). After a
// failure the rest of that chat waits for the next poll. It returns the
// offset to confirm — just past the last update if all succeeded, else the
// first failed or unhandled update — and whether anything failed.
func (a *Adapter) handleBatch(ctx context.Context, updates []*models.Update, committed map[int64]bool) (int64, bool) {
	done := make([]bool, len(updates))
	var order []int64
	byChat := map[int64][]int{}
	for i, u := range updates {
		if committed[u.ID] {
			done[i] = true
			continue
		}
		c := chatOf(u)
		if _, ok := byChat[c]; !ok {
			order = append(order, c)
		}
		byChat[c] = append(byChat[c], i)
	}

	sem := make(chan struct{}, a.opts.Workers)
	var wg sync.WaitGroup
	for _, c := range order {
		idx := byChat[c]
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			for _, i := range idx {
				if err := a.handleUpdate(ctx, updates[i]); err != nil {
					a.log.Warn("telegram update not handled; it will be retried", "update_id", updates[i].ID, "err", err)
					return
				}
				done[i] = true
			}
		}()
	}
	wg.Wait()

	next := updates[len(updates)-1].ID + 1
	failed := false
	for i, u := range updates {
		if !done[i] {
			if !failed {
				next = u.ID
			}
			failed = true
			continue
		}
		if failed {
			committed[u.ID] = true
		}
	}
	return next, failed
}

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

package telegram

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"

	tgbot "github.com/go-telegram/bot"

	"github.com/idicbot/idicbot/bot"
	"github.com/idicbot/idicbot/crm"
)

const (
	// MaxTextLength is Telegram's limit on a message text, in UTF-16 code units.
	MaxTextLength = 4096
	// maxCallbackData is Telegram's limit on callback_data, in bytes.
	maxCallbackData = 64
	// SharePhoneLabel is the label of the button that shares the customer's
	// phone number (request_contact).
	SharePhoneLabel = "📱 Chia sẻ số điện thoại / Share phone number"
)

// Reply markups as the Bot API expects them. The library's
// InlineKeyboardButton always serialises an empty copy_text object, which
// the Bot API refuses (BUTTON_COPY_TEXT_INVALID), so the adapter sends its own.
type inlineKeyboard struct {
	InlineKeyboard [][]inlineButton `json:"inline_keyboard"`
}

type inlineButton struct {
	Text         string `json:"text"`
	CallbackData string `json:"callback_data"`
}

type replyKeyboard struct {
	Keyboard        [][]keyboardButton `json:"keyboard"`
	ResizeKeyboard  bool               `json:"resize_keyboard,omitempty"`
	OneTimeKeyboard bool               `json:"one_time_keyboard,omitempty"`
}

type keyboardButton struct {
	Text           string `json:"text"`
	RequestContact bool   `json:"request_contact,omitempty"`
}

// Send delivers an outbox item with sendMessage: the text split into
// messages within Telegram's limit, inline buttons (one per row) under the
// last one, or the share-phone keyboard when the item asks for the phone.
// Each message waits for the per-chat and global send limits.
//
// Errors classify for the dispatcher: 403 (the user blocked the bot) wraps
// bot.ErrUnreachable (the dispatcher then holds back what else is queued for
// that chat until it writes again); 429 is a *bot.RetryAfterError with
// Telegram's retry_after; other 4xx are bot.Permanent; 5xx and network
// errors are plain (retried). A retry after a partial send resumes with the first
// message not sent yet.
func (a *Adapter) Send(ctx context.Context, it *crm.OutboxItem) error {
	if it.ChatID == "" {
		return bot.Permanent(fmt.Errorf("telegram: outbox item %d has no chat id", it.ID))
	}
	chunks := splitText(it.Text, MaxTextLength)
	if len(chunks) == 0 {
		return bot.Permanent(fmt.Errorf("telegram: outbox item %d has no text", it.ID))
	}
	var inline *inlineKeyboard
	if len(it.Buttons) > 0 {
		inline = &inlineKeyboard{}
		for _, b := range it.Buttons {
			if b.Label == "" || b.Payload == "" || len(b.Payload) > maxCallbackData {
				return bot.Permanent(fmt.Errorf("telegram: outbox item %d: button %q: label and payload of 1-%d bytes required", it.ID, b.Label, maxCallbackData))
			}
			inline.InlineKeyboard = append(inline.InlineKeyboard, []inlineButton{{Text: b.Label, CallbackData: b.Payload}})
		}
	}
	var phone *replyKeyboard
	if it.RequestPhone {
		phone = &replyKeyboard{
			Keyboard:        [][]keyboardButton{{{Text: SharePhoneLabel, RequestContact: true}}},
			ResizeKeyboard:  true,
			OneTimeKeyboard: true,
		}
	}
	// One message carries one markup: inline buttons go under the last
	// message, the phone keyboard with the one before it when there is
	// one; a single message with both keeps the buttons (the keyboard is
	// asked for again later) and says so in the log.
	markups := make([]any, len(chunks))
	last := len(chunks) - 1
	switch {
	case inline != nil && phone != nil && last > 0:
		markups[last] = inline
		markups[last-1] = phone
	case inline != nil && phone != nil:
		markups[last] = inline
		a.log.Warn("telegram message has buttons and a phone request; sending the buttons only", "outbox_id", it.ID)
	case inline != nil:
		markups[last] = inline
	case phone != nil:
		markups[last] = phone
	}

	key := strconv.FormatUint(uint64(it.ID), 10) + "/" + it.ChatID
	start := a.progress.Start(key)
	for i := start; i < len(chunks); i++ {
		if err := a.lim.wait(ctx, it.ChatID); err != nil {
			return err
		}
		params := &tgbot.SendMessageParams{ChatID: it.ChatID, Text: chunks[i]}
		if markups[i] != nil {
			params.ReplyMarkup = markups[i]
		}
		rctx, cancel := context.WithTimeout(ctx, a.opts.RequestTimeout)
		var status int
		rctx = context.WithValue(rctx, statusKey{}, &status)
		_, err := a.api.SendMessage(rctx, params)
		cancel()
		if err != nil {
			err = classify(fmt.Sprintf("telegram sendMessage to chat %s", it.ChatID), err, status)
			a.progress.Failed(key, i, err)
			return err
		}
	}
	if start > 0 {
		a.progress.Done(key)
	}
	return nil
}

// classify maps a library error to the core's send error classes. status
// is the HTTP status of the answer (0 without one).
func classify(what string, err error, status int) error {
	var tooMany *tgbot.TooManyRequestsError
	switch {
	case errors.As(err, &tooMany):
		after := time.Duration(tooMany.RetryAfter) * time.Second
		if after <= 0 {
			after = time.Second
		}
		return &bot.RetryAfterError{After: after, Err: fmt.Errorf("%s: %w", what, err)}
	case errors.Is(err, tgbot.ErrorForbidden):
		return fmt.Errorf("%s: %w: %w", what, bot.ErrUnreachable, err)
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return fmt.Errorf("%s: %w", what, err)
	case errors.Is(err, tgbot.ErrorBadRequest), errors.Is(err, tgbot.ErrorUnauthorized),
		errors.Is(err, tgbot.ErrorNotFound), errors.Is(err, tgbot.ErrorConflict):
		return bot.Permanent(fmt.Errorf("%s: %w", what, err))
	}
	var migrate *tgbot.MigrateError
	if errors.As(err, &migrate) || (status >= 400 && status < 500 && status != http.StatusTooManyRequests) {
		return bot.Permanent(fmt.Errorf("%s: %w", what, err))
	}
	return fmt.Errorf("%s: %w", what, err)
}

// splitText cuts text into pieces of at most limit UTF-16 code units,
// preferring a line break, then a space, and never cutting inside a rune.
// Blank pieces are dropped; Telegram refuses empty messages.
func splitText(text string, limit int) []string {
	var out []string
	add := func(s string) {
		if strings.TrimSpace(s) != "" {
			out = append(out, s)
		}
	}
	for {
		cut, units := -1, 0
		lastNL, lastSpace := -1, -1
		for i, r := range text {
			n := 1
			if r >= 0x10000 {
				n = 2
			}
			if units+n > limit {
				cut = i
				break
			}
			units += n
			if r == '\n' {
				lastNL = i
			} else if unicode.IsSpace(r) {
				lastSpace = i
			}
		}
		if cut < 0 {
			add(text)
			return out
		}
		switch {
		case lastNL > 0:
			add(text[:lastNL])
			text = text[lastNL+1:]
		case lastSpace > 0:
			add(text[:lastSpace])
			text = strings.TrimLeftFunc(text[lastSpace:], unicode.IsSpace)
		default:
			add(text[:cut])
			text = text[cut:]
		}
	}
}

// limiter spaces messages: at least perChat apart in one chat and
// 1/perSecond apart overall. Each message reserves the next free slot and
// sleeps until it; no goroutine runs on its behalf.
type limiter struct {
	perChat time.Duration // <= 0: none
	gap     time.Duration // <= 0: none
	now     func() time.Time

	mu         sync.Mutex
	nextGlobal time.Time
	nextChat   map[string]time.Time
}

func newLimiter(perChat time.Duration, perSecond int) *limiter {
	l := &limiter{perChat: perChat, now: time.Now, nextChat: map[string]time.Time{}}
	if perSecond > 0 {
		l.gap = time.Second / time.Duration(perSecond)
	}
	return l
}

// wait blocks until chat may receive the next message, or ctx ends.
func (l *limiter) wait(ctx context.Context, chat string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if d := l.reserve(chat); d > 0 && !sleep(ctx, d) {
		return ctx.Err()
	}
	return nil
}

// reserve takes the next free slot for a message to chat and returns how
// long to wait for it.
func (l *limiter) reserve(chat string) time.Duration {
	if l.perChat <= 0 && l.gap <= 0 {
		return 0
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	slot := now
	if l.gap > 0 && l.nextGlobal.After(slot) {
		slot = l.nextGlobal
	}
	if l.perChat > 0 {
		if t, ok := l.nextChat[chat]; ok && t.After(slot) {
			slot = t
		}
		l.nextChat[chat] = slot.Add(l.perChat)
		if len(l.nextChat) > 4096 {
			for c, t := range l.nextChat {
				if !t.After(now) {
					delete(l.nextChat, c)
				}
			}
		}
	}
	if l.gap > 0 {
		l.nextGlobal = slot.Add(l.gap)
	}
	return slot.Sub(now)
}

// statusKey carries a *int through a request's context; statusClient
// stores the HTTP status there, so a 4xx without a typed library error is
// still known to be permanent.
type statusKey struct{}

type statusClient struct{ c *http.Client }

// maxRequestBody bounds what statusClient buffers: texts, keyboards and
// small files; the adapter sends no large uploads.
const maxRequestBody = 8 << 20

func (s statusClient) Do(req *http.Request) (*http.Response, error) {
	// The library streams its multipart body through a pipe, which makes a
	// chunked request of many small writes — a system call each. The body
	// of a message is small: read it whole and send it in one write.
	if req.Body != nil && req.ContentLength <= 0 {
		body, err := io.ReadAll(io.LimitReader(req.Body, maxRequestBody+1))
		req.Body.Close()
		if err != nil {
			return nil, err
		}
		if len(body) > maxRequestBody {
			return nil, fmt.Errorf("telegram: request body over %d bytes", maxRequestBody)
		}
		req.Body = io.NopCloser(bytes.NewReader(body))
		req.ContentLength = int64(len(body))
		req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
	}
	resp, err := s.c.Do(req)
	if resp != nil {
		if p, ok := req.Context().Value(statusKey{}).(*int); ok {
			*p = resp.StatusCode
		}
	}
	return resp, err
}

func slogLevelFor(err error) slog.Level {
	var ae *apiError
	if errors.As(err, &ae) && (ae.Code == http.StatusUnauthorized || ae.Code == http.StatusConflict || ae.Code == http.StatusNotFound) {
		return slog.LevelError
	}
	return slog.LevelWarn
}

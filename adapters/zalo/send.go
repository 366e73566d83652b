package zalo

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/idicbot/idicbot/bot"
	"github.com/idicbot/idicbot/crm"
)

// csPath is the consultation message endpoint (spec §4.1).
const csPath = "/v3.0/oa/message/cs"

// Wire shapes of the cs endpoint.
type csRequest struct {
	Recipient csRecipient `json:"recipient"`
	Message   csMessage   `json:"message"`
}

type csRecipient struct {
	UserID string `json:"user_id"`
}

type csMessage struct {
	Text       string        `json:"text,omitempty"`
	Attachment *csAttachment `json:"attachment,omitempty"`
}

type csAttachment struct {
	Type    string    `json:"type"`
	Payload csPayload `json:"payload"`
}

type csPayload struct {
	TemplateType string      `json:"template_type"`
	Elements     []csElement `json:"elements"`
}

type csElement struct {
	Title    string `json:"title"`
	Subtitle string `json:"subtitle,omitempty"`
	ImageURL string `json:"image_url,omitempty"`
}

type apiResponse struct {
	Error   FlexString      `json:"error"`
	Message string          `json:"message"`
	Data    json.RawMessage `json:"data"`
}

type sendData struct {
	MessageID FlexString `json:"message_id"`
	Quota     *struct {
		QuotaType FlexString `json:"quota_type"`
		Remain    FlexString `json:"remain"`
		Total     FlexString `json:"total"`
	} `json:"quota"`
}

// APIError is a refusal from the OA API: a nonzero "error" in the answer.
type APIError struct {
	Code    int
	Message string
}

func (e *APIError) Error() string { return fmt.Sprintf("zalo error %d: %s", e.Code, e.Message) }

// What the adapter does with an API error code (spec §7).
type action int

const (
	giveUp      action = iota // permanent, logged
	retryLater                // rate limit: back off and retry
	refreshOnce               // token: refresh (single-flight) and retry once
	unreachable               // the user cannot receive: mark unreachable
	windowShut                // the interaction window is closed
	configAlert               // the OA or app needs an admin; visible in Health
)

var errorActions = map[int]action{
	-32:  retryLater,
	-216: refreshOnce, -220: refreshOnce, -124: refreshOnce,
	-213: unreachable, -217: unreachable, -222: unreachable, -227: unreachable,
	-230: windowShut, -232: windowShut, -305: windowShut, -311: windowShut, -218: windowShut,
	-204: configAlert, -205: configAlert, -207: configAlert, -208: configAlert, -215: configAlert,
	-209: configAlert, -212: configAlert, -221: configAlert, -224: configAlert, -242: configAlert,
	-320: configAlert, -321: configAlert, -211: configAlert,
}

// errTransport marks answers that are not the API's: 5xx, HTML, cut
// connections. The send may or may not have happened.
var errTransport = errors.New("zalo transport error")

// Send delivers an outbox item as consultation messages: the text (split at
// MaxText, buttons as numbered options under the last part), then the
// request-user-info template when the item asks for the phone.
//
// Rules come first: outside the interaction window, or over the paid or
// quota policy, nothing is sent and a bot.Permanent error says why. Errors
// classify for the dispatcher: token errors refresh once and retry once;
// -32 is a *bot.RetryAfterError; user-side refusals wrap bot.ErrUnreachable;
// window errors and other codes are permanent; 5xx and transport errors are
// temporary (the send API has no idempotency key, so a retry after a lost
// answer may duplicate a message). A retry resumes after the parts sent.
func (a *Adapter) Send(ctx context.Context, it *crm.OutboxItem) error {
	user := it.UserID
	if user == "" {
		user = it.ChatID
	}
	if user == "" {
		return bot.Permanent(fmt.Errorf("zalo: outbox item %d has no user id", it.ID))
	}
	if err := a.allowed(ctx, it, user); err != nil {
		a.log.Info("zalo message not sent", "outbox", it.ID, "reason", err)
		return err
	}
	msgs := a.compose(it)
	if len(msgs) == 0 {
		return bot.Permanent(fmt.Errorf("zalo: outbox item %d has nothing to send", it.ID))
	}
	key := strconv.FormatUint(uint64(it.ID), 10)
	start := a.progress.Start(key)
	for i := start; i < len(msgs); i++ {
		// The send counts as in flight until its id is recorded, so an echo
		// arriving meanwhile waits and is then known as ours.
		a.sent.begin(user)
		id, err := a.post(ctx, user, msgs[i])
		if err == nil {
			a.recordSent(ctx, it, user, id)
		}
		a.sent.end(user)
		if err != nil {
			isTemplate := msgs[i].Attachment != nil
			var ae *APIError
			if isTemplate && errors.As(err, &ae) && errorActions[ae.Code] == giveUp {
				// The text went out; a template Zalo refuses is not worth
				// failing the item for (the customer can type the number).
				a.log.Warn("zalo request-user-info template refused; text sent without it", "outbox", it.ID, "err", err)
				break
			}
			err = a.classify(it, user, err)
			a.progress.Failed(key, i, err)
			return err
		}
	}
	a.progress.Done(key)
	a.mu.Lock()
	a.configErr = nil
	a.mu.Unlock()
	return nil
}

// compose turns an item into the messages to send.
func (a *Adapter) compose(it *crm.OutboxItem) []csMessage {
	text := strings.TrimSpace(it.Text)
	if len(it.Buttons) > 0 {
		var b strings.Builder
		b.WriteString(text)
		b.WriteString("\n")
		for i, btn := range it.Buttons {
			fmt.Fprintf(&b, "\n%d. %s", i+1, btn.Label)
		}
		b.WriteString("\n" + a.opts.OptionsHint)
		text = strings.TrimSpace(b.String())
	}
	var out []csMessage
	for _, part := range bot.SplitText(text, a.opts.MaxText) {
		out = append(out, csMessage{Text: part})
	}
	if it.RequestPhone {
		title := a.opts.InfoTitle
		if title == "" {
			title = "Thông tin liên hệ / Contact details"
		}
		out = append(out, csMessage{Attachment: &csAttachment{Type: "template", Payload: csPayload{
			TemplateType: "request_user_info",
			Elements:     []csElement{{Title: title, Subtitle: a.opts.InfoSubtitle, ImageURL: a.opts.InfoImageURL}},
		}}})
	}
	return out
}

// post sends one message with the current access token; on a token error
// it refreshes (one refresh for all concurrent callers) and tries once more.
func (a *Adapter) post(ctx context.Context, user string, m csMessage) (string, error) {
	tok, err := a.tokens.Token(ctx)
	if err != nil {
		return "", err
	}
	id, err := a.call(ctx, tok, user, m)
	var ae *APIError
	if !errors.As(err, &ae) || errorActions[ae.Code] != refreshOnce {
		return id, err
	}
	a.log.Info("zalo access token refused; refreshing", "code", ae.Code)
	tok2, rerr := a.tokens.refresh(ctx, tok)
	if rerr != nil {
		return "", fmt.Errorf("%w (refresh after error %d failed)", rerr, ae.Code)
	}
	id, err = a.call(ctx, tok2, user, m)
	if errors.As(err, &ae) && errorActions[ae.Code] == refreshOnce {
		a.log.Error("zalo access token refused right after a refresh", "code", ae.Code, "err", err)
	}
	return id, err
}

// call makes one request to the cs endpoint and returns the message id.
func (a *Adapter) call(ctx context.Context, token, user string, m csMessage) (string, error) {
	body, err := json.Marshal(csRequest{Recipient: csRecipient{UserID: user}, Message: m})
	if err != nil {
		return "", err
	}
	rctx, cancel := context.WithTimeout(ctx, a.opts.RequestTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(rctx, http.MethodPost, a.opts.APIURL+csPath, bytes.NewReader(body))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("access_token", token)
	resp, err := a.http.Do(req)
	if err != nil {
		return "", fmt.Errorf("%w: %w", errTransport, redact(err))
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return "", fmt.Errorf("%w: read answer: %w", errTransport, err)
	}
	if resp.StatusCode >= 500 {
		return "", fmt.Errorf("%w: HTTP %d", errTransport, resp.StatusCode)
	}
	var r apiResponse
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || raw[0] != '{' || json.Unmarshal(raw, &r) != nil {
		if resp.StatusCode == http.StatusTooManyRequests {
			return "", &APIError{Code: -32, Message: "HTTP 429"}
		}
		if resp.StatusCode >= 400 {
			return "", &APIError{Code: -resp.StatusCode, Message: fmt.Sprintf("HTTP %d without a Zalo answer (is ZALO_API_URL right?)", resp.StatusCode)}
		}
		return "", fmt.Errorf("%w: HTTP %d, answer is not JSON (%.60q)", errTransport, resp.StatusCode, raw)
	}
	code := 0
	if r.Error != "" {
		n, ok := r.Error.Int()
		if !ok {
			return "", fmt.Errorf("%w: unreadable error code %q", errTransport, r.Error)
		}
		code = int(n)
	}
	if code != 0 {
		return "", &APIError{Code: code, Message: r.Message}
	}
	var d sendData
	if len(r.Data) > 0 {
		if err := json.Unmarshal(r.Data, &d); err != nil {
			a.log.Warn("zalo send answer data unreadable", "err", err)
		}
	}
	if d.Quota != nil {
		a.log.Debug("zalo quota", "user", user, "type", string(d.Quota.QuotaType), "remain", string(d.Quota.Remain), "total", string(d.Quota.Total))
		if n, ok := d.Quota.Remain.Int(); ok && n == 0 {
			a.log.Info("zalo says the reply quota for this user is used up", "user", user, "type", string(d.Quota.QuotaType))
		}
	}
	if d.MessageID == "" {
		a.log.Warn("zalo send answer has no message_id; its echo will look like a console message", "user", user)
	}
	return string(d.MessageID), nil
}

// recordSent remembers our message id, in memory at once and in the store,
// so its echo is known as ours (and not as a human typing in the console).
func (a *Adapter) recordSent(ctx context.Context, it *crm.OutboxItem, user, id string) {
	if id == "" {
		return
	}
	a.sent.add(id, a.now())
	err := a.store.Update(context.WithoutCancel(ctx), func(tx crm.Tx) error {
		return tx.MarkMessage(crm.ChannelZalo, sentKey(id), it.InteractionID)
	})
	if err != nil {
		a.log.Warn("zalo sent message id not recorded", "msg_id", id, "err", err)
	}
}

// classify maps a send failure to the dispatcher's classes.
func (a *Adapter) classify(it *crm.OutboxItem, user string, err error) error {
	what := fmt.Sprintf("zalo send to %s", user)
	var ae *APIError
	if !errors.As(err, &ae) {
		return fmt.Errorf("%s: %w", what, err) // transport, token, context: temporary
	}
	switch errorActions[ae.Code] {
	case retryLater:
		if it.Attempts+1 >= a.opts.RateAttempts {
			return fmt.Errorf("%s: rate limited %d times: %w", what, it.Attempts+1, err)
		}
		wait := a.opts.RateLimitWait << min(it.Attempts, 16)
		if wait > a.opts.MaxRateWait || wait <= 0 {
			wait = a.opts.MaxRateWait
		}
		return &bot.RetryAfterError{After: wait, Err: fmt.Errorf("%s: %w", what, err)}
	case refreshOnce:
		return fmt.Errorf("%s: token refused after a refresh: %w", what, err)
	case unreachable:
		return fmt.Errorf("%s: %w: %w", what, bot.ErrUnreachable, err)
	case windowShut:
		a.mu.Lock()
		a.closedWin[user] = a.now()
		a.mu.Unlock()
		return bot.Permanent(fmt.Errorf("%s: Zalo says the interaction window is closed; not sent: %w", what, err))
	case configAlert:
		a.mu.Lock()
		a.configErr = fmt.Errorf("zalo: the OA or app needs an admin: %w", err)
		a.mu.Unlock()
		a.log.Error("ZALO REFUSED A SEND FOR A CONFIGURATION OR BILLING REASON", "code", ae.Code, "err", err)
		return bot.Permanent(fmt.Errorf("%s: %w", what, err))
	}
	a.log.Error("zalo refused a message", "code", ae.Code, "outbox", it.ID, "err", err)
	return bot.Permanent(fmt.Errorf("%s: %w", what, err))
}

// history is what the store says about the conversation with a user.
type history struct {
	known    bool      // a customer interaction on Zalo was found
	lastIn   time.Time // their last interaction
	outSince int       // our messages to them since then, before this item
	agent    bool      // the item was written by a human
}

func (a *Adapter) history(ctx context.Context, it *crm.OutboxItem, user string) (history, error) {
	var h history
	err := a.store.View(ctx, func(tx crm.Tx) error {
		h = history{}
		c, err := tx.FindCustomerByIdentity(crm.ChannelZalo, user)
		if err != nil || c == nil {
			return err
		}
		recent, err := tx.RecentInteractions(c.ID, 50)
		if err != nil {
			return err
		}
		for i := len(recent) - 1; i >= 0; i-- {
			x := recent[i]
			if x.Channel != crm.ChannelZalo || (x.ChatID != user && x.ChatID != "") {
				continue
			}
			if x.ID == it.InteractionID {
				h.agent = x.Kind == crm.KindAgent
				continue
			}
			if x.Direction == crm.Inbound {
				h.known, h.lastIn = true, x.Time
				break
			}
			if x.ID < it.InteractionID {
				h.outSince++
			}
		}
		return nil
	})
	return h, err
}

// allowed applies the configured window, paid-message and quota rules. A
// refusal is a bot.Permanent error with the reason; an unknown history lets
// the message go (Zalo's answer decides).
func (a *Adapter) allowed(ctx context.Context, it *crm.OutboxItem, user string) error {
	win, free, quota := a.opts.Window, a.opts.FreeWindow, a.opts.Quota
	a.mu.Lock()
	closedAt, closed := a.closedWin[user]
	a.mu.Unlock()
	if win < 0 && quota <= 0 && !closed {
		return nil
	}
	h, err := a.history(ctx, it, user)
	if err != nil {
		return fmt.Errorf("zalo: read conversation for the window check: %w", err)
	}
	if closed {
		if h.known && h.lastIn.After(closedAt) {
			a.mu.Lock()
			delete(a.closedWin, user)
			a.mu.Unlock()
		} else {
			return bot.Permanent(fmt.Errorf("zalo: not sent: Zalo said the interaction window is closed (%s) and the customer has not written since", closedAt.UTC().Format(time.RFC3339)))
		}
	}
	if !h.known {
		return nil
	}
	age := a.now().Sub(h.lastIn)
	if win > 0 && age > win {
		return bot.Permanent(fmt.Errorf("zalo: not sent: the customer last interacted %s ago; Zalo allows consultation messages only within %s (ZALO_WINDOW)", roundAge(age), win))
	}
	if win > 0 && free > 0 && age > free {
		ok := a.opts.Paid == PaidAll || a.opts.Paid == PaidAgents && h.agent
		if !ok {
			who := "bot replies"
			if h.agent {
				who = "agent messages"
			}
			return bot.Permanent(fmt.Errorf("zalo: not sent: the customer last interacted %s ago, past the free %s; paid messages are off for %s (ZALO_PAID=%s)", roundAge(age), free, who, a.opts.Paid))
		}
	}
	if quota > 0 && h.outSince >= quota {
		return bot.Permanent(fmt.Errorf("zalo: not sent: %d messages already sent since the customer's last interaction (ZALO_QUOTA=%d)", h.outSince, quota))
	}
	return nil
}

func roundAge(d time.Duration) time.Duration {
	if d > time.Hour {
		return d.Round(time.Minute)
	}
	return d.Round(time.Second)
}

package messenger

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/idicbot/idicbot/bot"
	"github.com/idicbot/idicbot/crm"
)

// Send API limits.
const (
	maxQuickReplies = 13
	maxQuickTitle   = 20
	maxQuickPayload = 1000
)

type sendRequest struct {
	Recipient     idField     `json:"recipient"`
	MessagingType string      `json:"messaging_type"`
	Tag           string      `json:"tag,omitempty"`
	Message       sendMessage `json:"message"`
}

type sendMessage struct {
	Text         string       `json:"text"`
	QuickReplies []quickReply `json:"quick_replies,omitempty"`
}

type quickReply struct {
	ContentType string `json:"content_type"`
	Title       string `json:"title,omitempty"`
	Payload     string `json:"payload,omitempty"`
}

// GraphError is a Graph API refusal: {"error":{…}}.
type GraphError struct {
	Status    int    `json:"-"`
	Message   string `json:"message"`
	Type      string `json:"type"`
	Code      int    `json:"code"`
	Subcode   int    `json:"error_subcode"`
	Transient bool   `json:"is_transient"`
	TraceID   string `json:"fbtrace_id"`
}

func (e *GraphError) Error() string {
	return fmt.Sprintf("graph error %d/%d (HTTP %d): %s", e.Code, e.Subcode, e.Status, e.Message)
}

// Graph error codes the adapter acts on.
const (
	codeTokenInvalid = 190
	codeUnavailable  = 551
	codeBadParam     = 100
	codePermission   = 10
	subcodeWindow    = 2018278
)

func rateLimited(code int) bool {
	switch code {
	case 4, 17, 32, 613, 80006:
		return true
	}
	return false
}

// Send delivers an outbox item with the Send API: the text split at
// MaxText, offer buttons as quick replies (and the user_phone_number quick
// reply when the core asks for the phone) on the last part.
//
// Inside the 24-hour window it is a RESPONSE. Outside it, nothing
// promotional (an item with an offer) is sent, nor any bot reply; a human
// agent's message goes with the HUMAN_AGENT tag up to 7 days when
// HumanAgent is on. A refused item is a bot.Permanent error with the reason.
// Errors: rate-limit codes are *bot.RetryAfterError, 551 wraps
// bot.ErrUnreachable, 5xx and transient errors are temporary, others are
// permanent (190 also shows in Health).
func (a *Adapter) Send(ctx context.Context, it *crm.OutboxItem) error {
	psid := it.UserID
	if psid == "" {
		psid = it.ChatID
	}
	if psid == "" {
		return bot.Permanent(fmt.Errorf("messenger: outbox item %d has no recipient", it.ID))
	}
	typ, tag, err := a.policy(ctx, it, psid)
	if err != nil {
		a.log.Info("messenger message not sent", "outbox", it.ID, "reason", err)
		return err
	}
	var qrs []quickReply
	for _, b := range it.Buttons {
		if len(qrs) == maxQuickReplies {
			break
		}
		if b.Payload == "" || len(b.Payload) > maxQuickPayload {
			return bot.Permanent(fmt.Errorf("messenger: outbox item %d: button %q payload must be 1-%d bytes", it.ID, b.Label, maxQuickPayload))
		}
		qrs = append(qrs, quickReply{ContentType: "text", Title: shorten(b.Label, maxQuickTitle), Payload: b.Payload})
	}
	phone := it.RequestPhone && !a.opts.NoPhoneQuickReply && len(qrs) < maxQuickReplies
	if phone {
		qrs = append(qrs, quickReply{ContentType: "user_phone_number"})
	}
	parts := bot.SplitText(it.Text, a.opts.MaxText)
	if len(parts) == 0 {
		return bot.Permanent(fmt.Errorf("messenger: outbox item %d has no text", it.ID))
	}
	key := strconv.FormatUint(uint64(it.ID), 10)
	start := a.progress.Start(key)
	for i := start; i < len(parts); i++ {
		req := sendRequest{Recipient: idField{ID: flexID(psid)}, MessagingType: typ, Tag: tag, Message: sendMessage{Text: parts[i]}}
		if i == len(parts)-1 {
			req.Message.QuickReplies = qrs
		}
		err := a.call(ctx, req)
		var ge *GraphError
		if phone && i == len(parts)-1 && errors.As(err, &ge) && ge.Code == codeBadParam {
			// The phone quick reply may not be available to this page:
			// the text matters more.
			a.log.Warn("messenger refused the message with the phone quick reply; sending without it", "err", err)
			req.Message.QuickReplies = qrs[:len(qrs)-1]
			err = a.call(ctx, req)
		}
		if err != nil {
			err = a.classify(it, psid, err)
			a.progress.Failed(key, i, err)
			return err
		}
	}
	a.progress.Done(key)
	a.mu.Lock()
	a.tokenErr = nil
	a.mu.Unlock()
	return nil
}

// policy decides the messaging type for an item, or refuses it.
func (a *Adapter) policy(ctx context.Context, it *crm.OutboxItem, psid string) (typ, tag string, err error) {
	if a.opts.Window < 0 {
		return "RESPONSE", "", nil
	}
	last, agent, known, err := a.lastInbound(ctx, it, psid)
	if err != nil {
		return "", "", fmt.Errorf("messenger: read conversation for the window check: %w", err)
	}
	if !known {
		return "RESPONSE", "", nil // Meta's answer decides
	}
	age := a.now().Sub(last)
	if age <= a.opts.Window {
		return "RESPONSE", "", nil
	}
	switch {
	case it.OfferID != "":
		return "", "", bot.Permanent(fmt.Errorf("messenger: not sent: promotional message (offer %s) outside the %s window (customer last wrote %s ago)", it.OfferID, a.opts.Window, age.Round(time.Minute)))
	case agent && a.opts.HumanAgent && age <= a.opts.HumanAgentLimit:
		return "MESSAGE_TAG", "HUMAN_AGENT", nil
	case agent:
		return "", "", bot.Permanent(fmt.Errorf("messenger: not sent: the customer last wrote %s ago, outside the %s window (human agents: MESSENGER_HUMAN_AGENT, up to %s)", age.Round(time.Minute), a.opts.Window, a.opts.HumanAgentLimit))
	}
	return "", "", bot.Permanent(fmt.Errorf("messenger: not sent: the customer last wrote %s ago, outside the %s window", age.Round(time.Minute), a.opts.Window))
}

// lastInbound finds the customer's last message on Messenger, and whether
// the item was written by a human agent.
func (a *Adapter) lastInbound(ctx context.Context, it *crm.OutboxItem, psid string) (last time.Time, agent, known bool, err error) {
	err = a.store.View(ctx, func(tx crm.Tx) error {
		c, err := tx.FindCustomerByIdentity(Channel, psid)
		if err != nil || c == nil {
			return err
		}
		recent, err := tx.RecentInteractions(c.ID, 50)
		if err != nil {
			return err
		}
		for i := len(recent) - 1; i >= 0; i-- {
			x := recent[i]
			if x.Channel != Channel || (x.ChatID != psid && x.ChatID != "") {
				continue
			}
			if x.ID == it.InteractionID {
				agent = x.Kind == crm.KindAgent
				continue
			}
			if x.Direction == crm.Inbound {
				last, known = x.Time, true
				return nil
			}
		}
		return nil
	})
	return last, agent, known, err
}

// call posts one message.
func (a *Adapter) call(ctx context.Context, m sendRequest) error {
	body, err := json.Marshal(m)
	if err != nil {
		return err
	}
	q := url.Values{"access_token": {a.opts.PageToken}, "appsecret_proof": {a.proof}}
	rctx, cancel := context.WithTimeout(ctx, a.opts.RequestTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(rctx, http.MethodPost, a.opts.APIURL+"/me/messages?"+q.Encode(), bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := a.http.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) { // the URL carries the token
			err = fmt.Errorf("%s: %w", ue.Op, ue.Err)
		}
		return fmt.Errorf("messenger send: %w", err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return fmt.Errorf("messenger send: read answer: %w", err)
	}
	if resp.StatusCode == http.StatusOK {
		var ok struct {
			MessageID string `json:"message_id"`
		}
		if json.Unmarshal(raw, &ok) != nil || ok.MessageID == "" {
			a.log.Warn("messenger send answer has no message_id", "body", fmt.Sprintf("%.80q", raw))
		}
		return nil
	}
	var ge struct {
		Error *GraphError `json:"error"`
	}
	if json.Unmarshal(raw, &ge) != nil || ge.Error == nil {
		return &GraphError{Status: resp.StatusCode, Message: fmt.Sprintf("HTTP %d without a Graph error (%.60q)", resp.StatusCode, raw), Transient: resp.StatusCode >= 500}
	}
	ge.Error.Status = resp.StatusCode
	return ge.Error
}

// classify maps a send failure to the dispatcher's classes.
func (a *Adapter) classify(it *crm.OutboxItem, psid string, err error) error {
	what := "messenger send to " + psid
	var ge *GraphError
	if !errors.As(err, &ge) {
		return fmt.Errorf("%s: %w", what, err) // network, context: temporary
	}
	switch {
	case rateLimited(ge.Code) || ge.Status == http.StatusTooManyRequests:
		wait := a.opts.RateLimitWait << min(it.Attempts, 16)
		if wait > a.opts.MaxRateWait || wait <= 0 {
			wait = a.opts.MaxRateWait
		}
		return &bot.RetryAfterError{After: wait, Err: fmt.Errorf("%s: %w", what, err)}
	case ge.Code == codeUnavailable:
		return fmt.Errorf("%s: %w: %w", what, bot.ErrUnreachable, err)
	case ge.Code == codeTokenInvalid:
		a.mu.Lock()
		a.tokenErr = fmt.Errorf("messenger: the Page token was refused (set a new MESSENGER_PAGE_TOKEN): %w", err)
		a.mu.Unlock()
		a.log.Error("MESSENGER PAGE TOKEN REFUSED", "err", err)
		return bot.Permanent(fmt.Errorf("%s: %w", what, err))
	case ge.Code == codePermission && ge.Subcode == subcodeWindow:
		return bot.Permanent(fmt.Errorf("%s: outside the messaging window: %w", what, err))
	case ge.Status >= 500 || ge.Transient || ge.Code == 1 || ge.Code == 2:
		return fmt.Errorf("%s: %w", what, err)
	}
	return bot.Permanent(fmt.Errorf("%s: %w", what, err))
}

func shorten(s string, n int) string {
	r := []rune(strings.TrimSpace(s))
	if len(r) <= n {
		return string(r)
	}
	return string(r[:n-1]) + "…"
}

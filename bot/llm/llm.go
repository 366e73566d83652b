// Package llm is the optional language-model assistant of the bot, on any
// OpenAI-compatible chat completions server (OpenAI, Ollama, vLLM, LM
// Studio) through github.com/sashabaranov/go-openai.
//
// It does two things when the keyword rules are unsure: it classifies the
// message (intent, products, budget, language, sentiment) through structured
// output, and it drafts an answer to questions the rules cannot answer from
// the shop's knowledge, the catalog and the eligible offers. Every draft is
// checked: one that names a price, a discount, a promotion or a code the shop
// did not write is dropped, and the core sends the rule-based answer. The
// model may pick an offer only by id among the eligible ones; the customer
// sees the offer's rendered template, never the model's words about it.
//
// No phone number, email or street address goes into a prompt (Scrub).
package llm

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"
	"unicode"

	openai "github.com/sashabaranov/go-openai"

	"github.com/idicbot/idicbot/bot"
	"github.com/idicbot/idicbot/crm"
)

// Defaults for Options.
const (
	DefaultBaseURL         = "https://api.openai.com/v1"
	DefaultModel           = "gpt-4o-mini"
	DefaultTimeout         = 4 * time.Second
	DefaultMaxRetries      = 2
	DefaultBackoff         = 200 * time.Millisecond
	DefaultTemperature     = 0.2
	DefaultBreakerFailures = 5
	DefaultBreakerCooldown = 30 * time.Second
)

// Options configure an Assistant. Zero values take the defaults above.
type Options struct {
	// APIKey is optional for local servers.
	APIKey string
	// BaseURL is the server's API root, /v1 included
	// ("http://localhost:11434/v1" for Ollama).
	BaseURL string
	Model   string
	// Timeout bounds one Assist call, retries included. The caller's context
	// may end it sooner.
	Timeout time.Duration
	// MaxRetries is how many times a call is retried on 429, 5xx and network
	// errors (default 2; negative: never).
	MaxRetries int
	// Backoff is the wait before the first retry, doubled for each next one.
	Backoff time.Duration
	// Temperature is sent as is. go-openai drops 0 (omitempty), so 0 here
	// means DefaultTemperature; reasoning models (o1, o3, o4, gpt-5) get none.
	Temperature float32
	// Knowledge is the shop's knowledge (configs/knowledge.md): opening
	// hours, shipping, returns, payment, FAQs.
	Knowledge string
	// HTTPClient defaults to a client with no timeout of its own: the
	// context bounds each call.
	HTTPClient *http.Client
	Logger     *slog.Logger
	Now        func() time.Time
	// Sleep waits between retries (tests inject a fast one).
	Sleep func(ctx context.Context, d time.Duration) error
	// BreakerFailures consecutive failed calls open the circuit breaker;
	// after BreakerCooldown one trial call may close it again.
	BreakerFailures int
	BreakerCooldown time.Duration
	// Stream asks for streamed answers (stream: true), for gateways that
	// only stream. The answer is still used only once complete: a stream
	// that ends without a finish reason is a failed call (ErrStreamCut).
	Stream bool
}

// Assistant is a bot.Assistant on an OpenAI-compatible server. It is safe
// for concurrent use.
type Assistant struct {
	client      *openai.Client
	model       string
	timeout     time.Duration
	retries     int
	backoff     time.Duration
	temperature float32
	knowledge   string
	log         *slog.Logger
	now         func() time.Time
	sleep       func(ctx context.Context, d time.Duration) error
	breaker     *breaker
	metrics     *metrics
	stream      bool
}

var _ bot.Assistant = (*Assistant)(nil)

// ErrUnavailable is returned at once while the circuit breaker is open.
var ErrUnavailable = errors.New("llm: unavailable (circuit breaker open)")

// ErrInvalidOutput is wrapped by errors about what the model returned.
var ErrInvalidOutput = errors.New("llm: invalid output")

// New builds an Assistant. It does no I/O.
func New(o Options) *Assistant {
	if o.BaseURL == "" {
		o.BaseURL = DefaultBaseURL
	}
	if o.Model == "" {
		o.Model = DefaultModel
	}
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	switch {
	case o.MaxRetries == 0:
		o.MaxRetries = DefaultMaxRetries
	case o.MaxRetries < 0:
		o.MaxRetries = 0
	}
	if o.Backoff <= 0 {
		o.Backoff = DefaultBackoff
	}
	if o.Temperature <= 0 {
		o.Temperature = DefaultTemperature
	}
	if reasoningModel(o.Model) {
		o.Temperature = 0 // omitted: these models refuse a temperature
	}
	if o.HTTPClient == nil {
		o.HTTPClient = &http.Client{}
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Sleep == nil {
		o.Sleep = sleepCtx
	}
	if o.BreakerFailures <= 0 {
		o.BreakerFailures = DefaultBreakerFailures
	}
	if o.BreakerCooldown <= 0 {
		o.BreakerCooldown = DefaultBreakerCooldown
	}
	cfg := openai.DefaultConfig(o.APIKey)
	cfg.BaseURL = strings.TrimRight(o.BaseURL, "/")
	cfg.HTTPClient = o.HTTPClient
	a := &Assistant{
		client: openai.NewClientWithConfig(cfg), model: o.Model, timeout: o.Timeout, retries: o.MaxRetries,
		backoff: o.Backoff, temperature: o.Temperature, knowledge: strings.TrimSpace(o.Knowledge),
		log: o.Logger, now: o.Now, sleep: o.Sleep, metrics: newMetrics(), stream: o.Stream,
	}
	a.breaker = &breaker{failures: o.BreakerFailures, cooldown: o.BreakerCooldown, now: o.Now,
		onChange: func(s int) { a.metrics.breaker.Set(float64(s)) }}
	return a
}

// Timeout is the bound on one Assist call.
func (a *Assistant) Timeout() time.Duration { return a.timeout }

// BreakerState returns BreakerClosed, BreakerHalfOpen or BreakerOpen.
func (a *Assistant) BreakerState() int { return a.breaker.State() }

func reasoningModel(m string) bool {
	for _, p := range []string{"o1", "o3", "o4", "gpt-5"} {
		if strings.HasPrefix(m, p) {
			return true
		}
	}
	return false
}

// Assist classifies the message and, for a question the rules cannot
// answer, drafts an answer. An error means "no opinion": the core uses the
// rules. A rejected draft is not an error: the understanding is returned
// without an answer.
func (a *Assistant) Assist(ctx context.Context, req bot.AssistRequest) (bot.AssistResult, error) {
	ctx, cancel := context.WithTimeout(ctx, a.timeout)
	defer cancel()
	lang := req.Language
	if lang != "en" {
		lang = "vi"
	}
	text := Scrub(req.Text)
	u, err := a.understand(ctx, req, text)
	if err != nil {
		a.metrics.fallbacks.WithLabelValues("error").Inc()
		return bot.AssistResult{}, err
	}
	res := bot.AssistResult{Understanding: u}
	intent := u.Intent
	if intent == "" {
		intent = req.Rules.Intent
	}
	if !needsAnswer(intent, len(u.Products)+len(req.Rules.Products)) {
		return res, nil
	}
	if u.Language == "vi" || u.Language == "en" {
		lang = u.Language
	}
	answer, offerID, err := a.draft(ctx, req, text, lang)
	if err != nil {
		// The understanding still helps the rules answer.
		a.metrics.fallbacks.WithLabelValues("error").Inc()
		a.log.Warn("llm answer failed; the rules answer", "err", err)
		return res, nil
	}
	if answer == "" {
		a.metrics.fallbacks.WithLabelValues("no_draft").Inc()
		return res, nil
	}
	if why := a.guard(req, lang, answer, offerID); why != "" {
		a.metrics.answers.WithLabelValues("rejected").Inc()
		a.metrics.fallbacks.WithLabelValues("rejected_draft").Inc()
		a.log.Warn("llm draft rejected; the rules answer", "reason", why)
		return res, nil
	}
	a.metrics.answers.WithLabelValues("accepted").Inc()
	res.Answer, res.OfferID = answer, offerID
	return res, nil
}

// needsAnswer reports whether the rules have no good answer for intent: an
// unknown question, or a product or price question about no product.
func needsAnswer(intent string, products int) bool {
	switch intent {
	case bot.IntentUnknown, "":
		return true
	case bot.IntentProduct, bot.IntentPrice:
		return products == 0
	}
	return false
}

// guard returns why a draft may not reach the customer, or "". offerID is
// the eligible offer the draft goes with ("" for none).
func (a *Assistant) guard(req bot.AssistRequest, lang, draft, offerID string) string {
	if !inLanguage(draft, lang) {
		return "draft is not in the customer's language"
	}
	return a.allowedFor(req, lang, offerID).check(draft)
}

// allowedFor collects what a draft may name for this request: the catalog's
// prices, the knowledge's amounts and, when the draft goes with an offer,
// that offer's own amounts, percentages and code. A draft that goes with no
// offer may not talk about one: the customer would read a promise without
// the offer's template.
func (a *Assistant) allowedFor(req bot.AssistRequest, lang, offerID string) *allowed {
	al := newAllowed()
	al.addText(a.knowledge)
	if req.Knowledge != nil {
		al.addText(req.Knowledge.Text())
	}
	products := func(string) (string, int64) { return "", 0 }
	if req.Catalog != nil {
		for _, p := range req.Catalog.Products {
			al.vnd[p.Price] = true
			al.addText(p.Name + " " + p.NameEN + " " + crm.VND(p.Price))
		}
		products = func(id string) (string, int64) {
			if p := req.Catalog.Product(id); p != nil {
				return p.DisplayName(lang), p.Price
			}
			return "", 0
		}
	}
	// The offers' own words, rendered for someone like this customer: the
	// amounts and percentages they name are the shop's.
	c := &crm.Customer{Language: lang, Segment: crm.SegmentAssignment{Name: req.Segment}, Interests: req.Interests}
	now := a.now()
	for _, o := range req.Eligible {
		if o.ID != offerID {
			continue
		}
		al.offer = true
		if o.Code != "" {
			al.codes[strings.ToUpper(o.Code)] = true
		}
		for _, l := range crm.Languages {
			if t, err := o.Render(l, c, products, now); err == nil {
				al.addText(t)
			}
			if t, err := o.RenderDetails(l, c, products, now); err == nil {
				al.addText(t)
			}
		}
	}
	return al
}

// inLanguage reports whether draft reads as lang. Vietnamese is written
// with diacritics on most words; an English draft may still name "Hà Nội".
func inLanguage(draft, lang string) bool {
	words := strings.Fields(draft)
	if len(words) == 0 {
		return true
	}
	vi := 0
	for _, w := range words {
		for _, r := range w {
			if r > unicode.MaxASCII && unicode.IsLetter(r) {
				vi++
				break
			}
		}
	}
	share := float64(vi) / float64(len(words))
	if lang == "en" {
		return share <= 0.3
	}
	return share > 0 || bot.DetectLanguage(draft) != "en"
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// errorf wraps ErrInvalidOutput.
func errorf(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalidOutput, fmt.Sprintf(format, args...))
}

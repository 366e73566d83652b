package llm

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"time"

	openai "github.com/sashabaranov/go-openai"
)

// Failure kinds, as counted in idicbot_llm_failures_total.
const (
	FailTimeout     = "timeout"
	FailCanceled    = "canceled"
	FailRateLimit   = "rate_limit"
	FailServer      = "server"
	FailClient      = "client"
	FailNetwork     = "network"
	FailInvalid     = "invalid_output"
	FailBreakerOpen = "breaker_open"
)

// classify names a failed call and says whether another attempt may help:
// 429, 5xx and network errors are retried; other 4xx (a bad request, a
// wrong key, an unknown model) are not, nor is an expired context. go-openai
// returns *openai.APIError for {"error": …} bodies and *openai.RequestError
// for anything else (vLLM's {"object":"error", …}, an HTML page): both carry
// the status.
func classify(ctx context.Context, err error) (kind string, retry bool) {
	if ctx.Err() != nil || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		if errors.Is(ctx.Err(), context.Canceled) {
			return FailCanceled, false
		}
		return FailTimeout, false
	}
	status := 0
	var apiErr *openai.APIError
	var reqErr *openai.RequestError
	if errors.As(err, &apiErr) {
		status = apiErr.HTTPStatusCode
	}
	if status == 0 && errors.As(err, &reqErr) {
		status = reqErr.HTTPStatusCode
	}
	switch {
	case status == http.StatusTooManyRequests:
		return FailRateLimit, true
	case status >= 500:
		return FailServer, true
	case status >= 400:
		return FailClient, false
	}
	// No status: the connection failed or the body was cut short.
	return FailNetwork, true
}

// StatusError is a failed call's kind and cause, for logs.
type StatusError struct {
	Step string
	Kind string
	Err  error
}

func (e *StatusError) Error() string { return fmt.Sprintf("llm %s: %s: %v", e.Step, e.Kind, e.Err) }
func (e *StatusError) Unwrap() error { return e.Err }

// complete runs one chat completion through the breaker, with retries and
// backoff, and counts what happened.
func (a *Assistant) complete(ctx context.Context, step string, req openai.ChatCompletionRequest) (openai.ChatCompletionResponse, error) {
	if !a.breaker.allow() {
		a.metrics.failures.WithLabelValues(FailBreakerOpen).Inc()
		return openai.ChatCompletionResponse{}, &StatusError{Step: step, Kind: FailBreakerOpen, Err: ErrUnavailable}
	}
	start := time.Now()
	defer func() { a.metrics.latency.WithLabelValues(step).Observe(time.Since(start).Seconds()) }()
	wait := a.backoff
	for attempt := 0; ; attempt++ {
		resp, err := a.client.CreateChatCompletion(ctx, req)
		if err == nil {
			a.metrics.calls.WithLabelValues(step, "ok").Inc()
			a.metrics.tokens.WithLabelValues("prompt").Add(float64(resp.Usage.PromptTokens))
			a.metrics.tokens.WithLabelValues("completion").Add(float64(resp.Usage.CompletionTokens))
			a.breaker.done(true)
			return resp, nil
		}
		a.metrics.calls.WithLabelValues(step, "error").Inc()
		kind, retry := classify(ctx, err)
		a.metrics.failures.WithLabelValues(kind).Inc()
		if kind == FailCanceled {
			// The caller went away: says nothing about the server.
			a.breaker.release()
		}
		if !retry || attempt >= a.retries || !a.timeLeft(ctx, wait) {
			if kind != FailCanceled {
				a.breaker.done(false)
			}
			return openai.ChatCompletionResponse{}, &StatusError{Step: step, Kind: kind, Err: err}
		}
		// Full jitter on the upper half keeps retries of many chats apart.
		d := wait/2 + rand.N(wait/2+1)
		if err := a.sleep(ctx, d); err != nil {
			a.breaker.done(false)
			a.metrics.failures.WithLabelValues(FailTimeout).Inc()
			return openai.ChatCompletionResponse{}, &StatusError{Step: step, Kind: FailTimeout, Err: err}
		}
		wait *= 2
	}
}

// timeLeft reports whether ctx leaves time for a wait and another call.
func (a *Assistant) timeLeft(ctx context.Context, wait time.Duration) bool {
	dl, ok := ctx.Deadline()
	return !ok || time.Until(dl) > wait
}

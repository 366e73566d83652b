package llm

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"sort"
	"strings"
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
		resp, err := a.send(ctx, req)
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

// ErrStreamCut is returned for a streamed answer that ended without a
// finish reason: go-openai reports io.EOF both after [DONE] and when the
// connection is closed early, so a half answer would look complete.
var ErrStreamCut = errors.New("llm: stream ended without a finish reason (cut short)")

// send makes one chat completion call, streamed when Options.Stream asks.
func (a *Assistant) send(ctx context.Context, req openai.ChatCompletionRequest) (openai.ChatCompletionResponse, error) {
	if !a.stream {
		return a.client.CreateChatCompletion(ctx, req)
	}
	return a.streamed(ctx, req)
}

// streamed reads a streamed completion to its end and assembles it into the
// response a non-streamed call returns: content and tool call arguments
// joined, the finish reason, the usage of the last chunk.
func (a *Assistant) streamed(ctx context.Context, req openai.ChatCompletionRequest) (openai.ChatCompletionResponse, error) {
	req.StreamOptions = &openai.StreamOptions{IncludeUsage: true}
	s, err := a.client.CreateChatCompletionStream(ctx, req)
	if err != nil {
		return openai.ChatCompletionResponse{}, err
	}
	defer s.Close()
	var (
		content, refusal strings.Builder
		tools            = map[int]*openai.ToolCall{}
		finish           openai.FinishReason
		resp             openai.ChatCompletionResponse
	)
	for {
		chunk, err := s.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return openai.ChatCompletionResponse{}, err
		}
		resp.ID, resp.Model = chunk.ID, chunk.Model
		if chunk.Usage != nil {
			resp.Usage = *chunk.Usage
		}
		for _, ch := range chunk.Choices {
			if ch.Index != 0 {
				continue
			}
			content.WriteString(ch.Delta.Content)
			refusal.WriteString(ch.Delta.Refusal)
			for _, tc := range ch.Delta.ToolCalls {
				i := 0
				if tc.Index != nil {
					i = *tc.Index
				}
				t := tools[i]
				if t == nil {
					t = &openai.ToolCall{ID: tc.ID, Type: tc.Type, Function: openai.FunctionCall{Name: tc.Function.Name}}
					tools[i] = t
				}
				t.Function.Arguments += tc.Function.Arguments
			}
			if ch.FinishReason != "" {
				finish = ch.FinishReason
			}
		}
	}
	if finish == "" {
		return openai.ChatCompletionResponse{}, ErrStreamCut
	}
	msg := openai.ChatCompletionMessage{Role: openai.ChatMessageRoleAssistant, Content: content.String(), Refusal: refusal.String()}
	idx := make([]int, 0, len(tools))
	for i := range tools {
		idx = append(idx, i)
	}
	sort.Ints(idx)
	for _, i := range idx {
		msg.ToolCalls = append(msg.ToolCalls, *tools[i])
	}
	resp.Choices = []openai.ChatCompletionChoice{{Message: msg, FinishReason: finish}}
	return resp, nil
}

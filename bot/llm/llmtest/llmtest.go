// Package llmtest is a fake OpenAI-compatible chat completions server for
// tests. It parses requests as the real API does and answers with the real
// response shapes: a chat completion with content, a tool call, JSON-schema
// content, OpenAI's {"error": …} body, vLLM's {"object": "error", …} body, a
// slow answer and a body cut short. A request with "stream": true gets the
// same completion as server-sent events (chunks, finish_reason, a usage
// chunk when asked, [DONE]); CutShort then ends the stream halfway, cleanly,
// with no finish_reason and no [DONE], as a proxy that drops it does. Tests script it with a queue of
// responses or a function, and read back the requests it received.
package llmtest

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// Request is one chat completion request as the server received it.
type Request struct {
	Model          string          `json:"model"`
	Messages       []Message       `json:"messages"`
	Temperature    *float64        `json:"temperature"`
	ResponseFormat *ResponseFormat `json:"response_format"`
	Stream         bool            `json:"stream"`
	StreamOptions  *struct {
		IncludeUsage bool `json:"include_usage"`
	} `json:"stream_options"`
	// Raw is the request body.
	Raw    []byte      `json:"-"`
	Header http.Header `json:"-"`
}

// Message is a chat message of a request.
type Message struct {
	Role    string `json:"role"`
	Content string `json:"content"`
}

// ResponseFormat is the structured-output part of a request.
type ResponseFormat struct {
	Type       string `json:"type"`
	JSONSchema *struct {
		Name   string          `json:"name"`
		Schema json.RawMessage `json:"schema"`
		Strict bool            `json:"strict"`
	} `json:"json_schema"`
}

// Schema returns the name of the JSON schema the request asks for, or "".
func (r Request) Schema() string {
	if r.ResponseFormat == nil || r.ResponseFormat.JSONSchema == nil {
		return ""
	}
	return r.ResponseFormat.JSONSchema.Name
}

// Prompt returns every message's content, joined: what the model would see.
func (r Request) Prompt() string {
	var b strings.Builder
	for _, m := range r.Messages {
		b.WriteString(m.Content)
		b.WriteString("\n")
	}
	return b.String()
}

// User returns the last user message.
func (r Request) User() string {
	for i := len(r.Messages) - 1; i >= 0; i-- {
		if r.Messages[i].Role == "user" {
			return r.Messages[i].Content
		}
	}
	return ""
}

// Response is what the server answers to one request. Build it with the
// helpers (Content, JSON, ToolCall, APIError, VLLMError, Slow, CutShort).
type Response struct {
	Status int
	Body   string
	// Slow blocks until the client gives up (its context ends).
	Slow bool
	// CutShort sends half of Body and closes the connection.
	CutShort bool
}

// usage is the token usage reported in every completion (120 prompt, 30
// completion tokens).
var usage = map[string]int{"prompt_tokens": 120, "completion_tokens": 30, "total_tokens": 150}

func completion(message map[string]any, finish string) Response {
	body := map[string]any{
		"id": "chatcmpl-test", "object": "chat.completion", "created": 1762750000, "model": "gpt-4o-mini-2024-07-18",
		"choices": []any{map[string]any{
			"index": 0, "message": message, "logprobs": nil, "finish_reason": finish,
		}},
		"usage":              usage,
		"system_fingerprint": "fp_test",
	}
	b, _ := json.Marshal(body)
	return Response{Status: http.StatusOK, Body: string(b)}
}

// Content is a chat completion whose message content is text.
func Content(text string) Response {
	return completion(map[string]any{"role": "assistant", "content": text, "refusal": nil}, "stop")
}

// JSON is a chat completion whose content is v as JSON, the way a server
// answers a json_schema response format.
func JSON(v any) Response {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return Content(string(b))
}

// ToolCall is a chat completion that calls a function with v as its
// arguments (a JSON string inside the JSON), with no content.
func ToolCall(name string, v any) Response {
	args, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return completion(map[string]any{"role": "assistant", "content": nil, "refusal": nil, "tool_calls": []any{map[string]any{
		"id": "call_test", "type": "function", "function": map[string]any{"name": name, "arguments": string(args)},
	}}}, "tool_calls")
}

// APIError is OpenAI's error body with a status: 429 rate_limit_exceeded,
// 500 server_error, 401 invalid_api_key …
func APIError(status int, typ, code, message string) Response {
	b, _ := json.Marshal(map[string]any{"error": map[string]any{"message": message, "type": typ, "param": nil, "code": code}})
	return Response{Status: status, Body: string(b)}
}

// RateLimited is a 429 as OpenAI sends it.
func RateLimited() Response {
	return APIError(http.StatusTooManyRequests, "requests", "rate_limit_exceeded", "Rate limit reached for gpt-4o-mini on requests per min (RPM): Limit 3, Used 3, Requested 1.")
}

// ServerError is a 500 as OpenAI sends it.
func ServerError() Response {
	return APIError(http.StatusInternalServerError, "server_error", "", "The server had an error while processing your request. Sorry about that!")
}

// VLLMError is vLLM's (and other OpenAI-compatible servers') error body,
// which has no "error" key.
func VLLMError(status int, message string) Response {
	typ := "BadRequestError"
	if status >= 500 {
		typ = "InternalServerError"
	}
	b, _ := json.Marshal(map[string]any{"object": "error", "message": message, "type": typ, "param": nil, "code": status})
	return Response{Status: status, Body: string(b)}
}

// Slow is a response that never comes: the handler blocks until the client
// cancels the request.
func Slow() Response { return Response{Slow: true} }

// CutShort is a completion whose body stops halfway (the connection drops);
// streamed, the stream ends after half of its chunks.
func CutShort(v any) Response {
	r := JSON(v)
	r.CutShort = true
	return r
}

// Server is the fake. Its zero queue answers 500 and fails the test.
type Server struct {
	*httptest.Server
	tb   testing.TB
	done chan struct{}

	mu       sync.Mutex
	queue    []Response
	fn       func(Request) Response
	requests []Request
}

// NewServer starts a fake server, closed when the test ends.
func NewServer(tb testing.TB) *Server {
	s := &Server{tb: tb, done: make(chan struct{})}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	tb.Cleanup(func() {
		close(s.done) // releases Slow handlers whose client never gave up
		s.Close()
	})
	return s
}

// BaseURL is the URL to configure clients with, /v1 included.
func (s *Server) BaseURL() string { return s.URL + "/v1" }

// Enqueue adds responses given in order, one per request.
func (s *Server) Enqueue(rs ...Response) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.queue = append(s.queue, rs...)
}

// Handle answers every request the queue does not with f.
func (s *Server) Handle(f func(Request) Response) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fn = f
}

// Requests returns the requests received so far.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

// Pending returns how many queued responses were not used.
func (s *Server) Pending() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.queue)
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.URL.Path != "/v1/chat/completions" {
		writeResponse(w, APIError(http.StatusNotFound, "invalid_request_error", "unknown_url", fmt.Sprintf("Invalid URL (%s %s)", r.Method, r.URL.Path)))
		return
	}
	raw, err := io.ReadAll(r.Body)
	if err != nil {
		return
	}
	var req Request
	if err := json.Unmarshal(raw, &req); err != nil || !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		writeResponse(w, APIError(http.StatusBadRequest, "invalid_request_error", "", "We could not parse the JSON body of your request."))
		return
	}
	req.Raw, req.Header = raw, r.Header.Clone()
	switch {
	case req.Model == "":
		writeResponse(w, APIError(http.StatusBadRequest, "invalid_request_error", "", "you must provide a model parameter"))
		return
	case len(req.Messages) == 0:
		writeResponse(w, APIError(http.StatusBadRequest, "invalid_request_error", "", "'messages' must contain at least one message"))
		return
	case req.ResponseFormat != nil && req.ResponseFormat.Type == "json_schema" && (req.ResponseFormat.JSONSchema == nil || len(req.ResponseFormat.JSONSchema.Schema) == 0):
		writeResponse(w, APIError(http.StatusBadRequest, "invalid_request_error", "", "Missing required parameter: 'response_format.json_schema'."))
		return
	}
	s.mu.Lock()
	s.requests = append(s.requests, req)
	var resp Response
	switch {
	case len(s.queue) > 0:
		resp, s.queue = s.queue[0], s.queue[1:]
	case s.fn != nil:
		fn := s.fn
		s.mu.Unlock()
		resp = fn(req)
		s.mu.Lock()
	default:
		s.tb.Errorf("llmtest: unexpected request (schema %q): no response scripted", req.Schema())
		resp = ServerError()
	}
	s.mu.Unlock()
	switch {
	case resp.Slow:
		select {
		case <-r.Context().Done():
		case <-s.done:
		}
	case req.Stream && resp.Status == http.StatusOK:
		writeStream(w, req, resp)
	case resp.CutShort:
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Length", fmt.Sprint(len(resp.Body)))
		w.WriteHeader(http.StatusOK)
		_, _ = io.WriteString(w, resp.Body[:len(resp.Body)/2])
		if f, ok := w.(http.Flusher); ok {
			f.Flush()
		}
		// Returning with fewer bytes than Content-Length makes the server
		// close the connection: the client reads an unexpected EOF.
	default:
		writeResponse(w, resp)
	}
}

func writeResponse(w http.ResponseWriter, r Response) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Request-Id", "req_test")
	if r.Status == http.StatusTooManyRequests {
		w.Header().Set("Retry-After", "1")
	}
	if r.Status == 0 {
		r.Status = http.StatusOK
	}
	w.WriteHeader(r.Status)
	_, _ = io.WriteString(w, r.Body)
}

// writeStream sends the completion in r as chat.completion.chunk events:
// the role, the content or tool call arguments in pieces, the finish
// reason, the usage (when the request asks for it) and [DONE]. With
// r.CutShort only the first half of the events is sent.
func writeStream(w http.ResponseWriter, req Request, r Response) {
	var c struct {
		ID      string `json:"id"`
		Created int64  `json:"created"`
		Model   string `json:"model"`
		Choices []struct {
			Message struct {
				Content   *string `json:"content"`
				ToolCalls []struct {
					ID       string `json:"id"`
					Type     string `json:"type"`
					Function struct {
						Name      string `json:"name"`
						Arguments string `json:"arguments"`
					} `json:"function"`
				} `json:"tool_calls"`
			} `json:"message"`
			FinishReason string `json:"finish_reason"`
		} `json:"choices"`
		Usage map[string]int `json:"usage"`
	}
	if err := json.Unmarshal([]byte(r.Body), &c); err != nil || len(c.Choices) == 0 {
		writeResponse(w, r)
		return
	}
	chunk := func(delta map[string]any, finish any) map[string]any {
		return map[string]any{"id": c.ID, "object": "chat.completion.chunk", "created": c.Created, "model": c.Model,
			"choices": []any{map[string]any{"index": 0, "delta": delta, "logprobs": nil, "finish_reason": finish}}}
	}
	ch := c.Choices[0]
	events := []any{chunk(map[string]any{"role": "assistant", "content": ""}, nil)}
	if ch.Message.Content != nil {
		for _, p := range pieces(*ch.Message.Content) {
			events = append(events, chunk(map[string]any{"content": p}, nil))
		}
	}
	for i, tc := range ch.Message.ToolCalls {
		events = append(events, chunk(map[string]any{"tool_calls": []any{map[string]any{"index": i, "id": tc.ID, "type": tc.Type,
			"function": map[string]any{"name": tc.Function.Name, "arguments": ""}}}}, nil))
		for _, p := range pieces(tc.Function.Arguments) {
			events = append(events, chunk(map[string]any{"tool_calls": []any{map[string]any{"index": i, "function": map[string]any{"arguments": p}}}}, nil))
		}
	}
	events = append(events, chunk(map[string]any{}, ch.FinishReason))
	if req.StreamOptions != nil && req.StreamOptions.IncludeUsage {
		events = append(events, map[string]any{"id": c.ID, "object": "chat.completion.chunk", "created": c.Created, "model": c.Model,
			"choices": []any{}, "usage": c.Usage})
	}
	events = append(events, "[DONE]")
	if r.CutShort {
		events = events[:len(events)/2]
	}
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	w.WriteHeader(http.StatusOK)
	f, _ := w.(http.Flusher)
	for _, e := range events {
		b, _ := json.Marshal(e)
		if s, ok := e.(string); ok {
			b = []byte(s)
		}
		_, _ = fmt.Fprintf(w, "data: %s\n\n", b)
		if f != nil {
			f.Flush()
		}
	}
}

// pieces splits s in three, on rune boundaries, as a model streams tokens.
func pieces(s string) []string {
	r := []rune(s)
	if len(r) < 3 {
		return []string{s}
	}
	n := len(r) / 3
	return []string{string(r[:n]), string(r[n : 2*n]), string(r[2*n:])}
}

package bot_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/idicbot/idicbot/bot"
	"github.com/idicbot/idicbot/bot/llm"
	"github.com/idicbot/idicbot/bot/llm/llmtest"
	"github.com/idicbot/idicbot/crm"
)

// newEnvWith is newEnv with an assistant in the core.
func newEnvWith(tb testing.TB, a bot.Assistant, timeout time.Duration) *env {
	tb.Helper()
	return buildEnv(tb, "", func(o *bot.Options) { o.Assistant, o.AssistTimeout = a, timeout })
}

// llmScript feeds the fake server the responses a transcript scripts, per
// step (understanding, answer), and notices calls nobody scripted.
type llmScript struct {
	mu         sync.Mutex
	queue      map[string][]llmtest.Response
	unexpected []string
}

func (s *llmScript) push(schema string, r llmtest.Response) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.queue[schema] = append(s.queue[schema], r)
}

func (s *llmScript) serve(req llmtest.Request) llmtest.Response {
	s.mu.Lock()
	defer s.mu.Unlock()
	q := s.queue[req.Schema()]
	if len(q) == 0 {
		s.unexpected = append(s.unexpected, fmt.Sprintf("%s call for %q", req.Schema(), req.User()))
		return llmtest.ServerError()
	}
	s.queue[req.Schema()] = q[1:]
	return q[0]
}

// check reports scripted responses that were not asked for and calls that
// were not scripted, then forgets them.
func (s *llmScript) check(t *testing.T, after string) {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	for schema, q := range s.queue {
		if len(q) > 0 {
			t.Errorf("after %q: %d scripted %s responses not used (the rules were sure?)", after, len(q), schema)
		}
	}
	for _, u := range s.unexpected {
		t.Errorf("after %q: unscripted %s", after, u)
	}
	s.queue, s.unexpected = map[string][]llmtest.Response{}, nil
}

// LLM modes a conversation is replayed in.
const (
	llmOff     = "off"     // no assistant: the rules answer
	llmOn      = "on"      // the fake server answers as the transcript scripts
	llmFailing = "failing" // the server is slow or fails: the rules answer
)

// TestLLMConversations replays testdata/conversations_llm/NAME.txt three
// times — with the LLM off, on (a fake OpenAI-compatible server answering as
// scripted) and failing (the server times out or answers 500) — and compares
// each run with NAME.MODE.golden. The failing run must read exactly like the
// run with the LLM off. The transcript language is TestConversations' plus:
//
//	@llm understand JSON   the model's understanding of the next message
//	@llm tool JSON         the same, answered as a tool call
//	@llm raw TEXT          the model's raw content for the next understanding
//	@llm answer JSON       the model's draft answer to the next message
//	@show segment          print the customer's segment ("= segment new")
//	@show answers          print how many answers came from the rules and the LLM
//
// go test ./bot -run TestLLMConversations -update rewrites the golden files.
func TestLLMConversations(t *testing.T) {
	files, _ := filepath.Glob("testdata/conversations_llm/*.txt")
	if len(files) == 0 {
		t.Fatal("no transcripts")
	}
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".txt")
		t.Run(name, func(t *testing.T) {
			out := map[string]string{}
			for _, mode := range []string{llmOff, llmOn, llmFailing} {
				t.Run(mode, func(t *testing.T) {
					got := runLLMTranscript(t, f, mode)
					out[mode] = got
					golden := strings.TrimSuffix(f, ".txt") + "." + mode + ".golden"
					if *update {
						if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
							t.Fatal(err)
						}
						return
					}
					want, err := os.ReadFile(golden)
					if err != nil {
						t.Fatalf("%v (run with -update to create it)", err)
					}
					if got != string(want) {
						t.Errorf("%s differs (go test ./bot -run TestLLMConversations -update rewrites it)\n--- got\n%s\n--- want\n%s", golden, got, want)
					}
				})
			}
			if out[llmFailing] != out[llmOff] {
				t.Errorf("with the LLM failing the customer saw something else than with the LLM off:\n--- failing\n%s\n--- off\n%s", out[llmFailing], out[llmOff])
			}
		})
	}
}

func runLLMTranscript(t *testing.T, file, mode string) string {
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	script := &llmScript{queue: map[string][]llmtest.Response{}}
	var e *env
	switch mode {
	case llmOff:
		e = newEnvWith(t, nil, 0)
	case llmOn:
		srv := llmtest.NewServer(t)
		srv.Handle(script.serve)
		a := llm.New(llm.Options{BaseURL: srv.BaseURL(), Timeout: 5 * time.Second, Knowledge: string(mustRead(t, "knowledge.md"))})
		e = newEnvWith(t, a, 5*time.Second)
	case llmFailing:
		// The server is slow (every third call) or answers 500: every call
		// fails, the breaker opens after three, and each message waits at
		// most the short timeout.
		srv := llmtest.NewServer(t)
		var mu sync.Mutex
		n := 0
		srv.Handle(func(llmtest.Request) llmtest.Response {
			mu.Lock()
			defer mu.Unlock()
			n++
			if n%3 == 1 {
				return llmtest.Slow()
			}
			if n%3 == 2 {
				return llmtest.VLLMError(503, "no GPU available")
			}
			return llmtest.ServerError()
		})
		a := llm.New(llm.Options{BaseURL: srv.BaseURL(), Timeout: 100 * time.Millisecond, Backoff: time.Millisecond, BreakerFailures: 3})
		e = newEnvWith(t, a, 100*time.Millisecond)
	}
	var out []string
	user, locale := "s1", ""
	for _, line := range strings.Split(strings.TrimRight(string(data), "\n"), "\n") {
		if strings.HasPrefix(line, "<") || strings.HasPrefix(line, "= ") {
			continue // a transcript is input only: answers are in the golden files
		}
		out = append(out, line)
		switch {
		case strings.HasPrefix(line, "@llm "):
			kind, arg, _ := strings.Cut(strings.TrimPrefix(line, "@llm "), " ")
			if mode != llmOn {
				continue
			}
			var v map[string]any
			if kind != "raw" {
				if err := json.Unmarshal([]byte(arg), &v); err != nil {
					t.Fatalf("%s: %v", line, err)
				}
			}
			switch kind {
			case "understand":
				script.push(llm.UnderstandingSchema, llmtest.JSON(v))
			case "tool":
				script.push(llm.UnderstandingSchema, llmtest.ToolCall("understanding", v))
			case "raw":
				script.push(llm.UnderstandingSchema, llmtest.Content(arg))
			case "answer":
				script.push(llm.AnswerSchema, llmtest.JSON(v))
			default:
				t.Fatalf("unknown %s", line)
			}
		case strings.HasPrefix(line, "@show "):
			out = append(out, show(t, e, user, strings.TrimPrefix(line, "@show ")))
		case strings.HasPrefix(line, "> "):
			_, sent := e.say(bot.Inbound{UserID: user, Text: strings.TrimPrefix(line, "> "), Locale: locale})
			for _, it := range sent {
				for _, l := range strings.Split(it.Text, "\n") {
					out = append(out, "< "+l)
				}
				for _, b := range it.Buttons {
					out = append(out, "<   ["+b.Label+"]")
				}
				if it.RequestPhone {
					out = append(out, "<   [share phone]")
				}
			}
			if mode == llmOn {
				script.check(t, line)
			}
		case strings.HasPrefix(line, "@"):
			directive(t, e, line, &user, &locale)
		}
	}
	return strings.Join(out, "\n") + "\n"
}

func show(t *testing.T, e *env, user, what string) string {
	switch what {
	case "segment":
		return "= segment " + e.customer(crm.ChannelWeb, user).Segment.Name
	case "answers":
		var rules, model int64
		if err := e.db.View(context.Background(), func(tx crm.Tx) error {
			var err error
			if rules, err = tx.Counter("answers:rules"); err != nil {
				return err
			}
			model, err = tx.Counter("answers:llm")
			return err
		}); err != nil {
			t.Fatal(err)
		}
		return fmt.Sprintf("= answers rules %d, llm %d", rules, model)
	}
	t.Fatalf("unknown @show %s", what)
	return ""
}

// staticAssistant answers every call the same way.
type staticAssistant struct{ res bot.AssistResult }

func (s staticAssistant) Assist(context.Context, bot.AssistRequest) (bot.AssistResult, error) {
	return s.res, nil
}

// TestLLMOfferNotEligibleIgnoredByCore: an assistant that names an offer
// the customer may not get (a VIP offer for a new customer) does not make
// the core show it.
func TestLLMOfferNotEligibleIgnoredByCore(t *testing.T) {
	e := newEnvWith(t, staticAssistant{bot.AssistResult{
		Understanding: bot.Understanding{Intent: bot.IntentUnknown, Language: "vi"},
		Answer:        "Shop mở cửa 8:00–21:00 mỗi ngày ạ.",
		OfferID:       "vip-care",
	}}, time.Second)
	_, sent := e.say(bot.Inbound{Text: "cho mình hỏi chút"})
	if len(sent) == 0 || sent[0].Text != "Shop mở cửa 8:00–21:00 mỗi ngày ạ." {
		t.Fatalf("sent %+v", sent)
	}
	for _, it := range sent {
		if it.OfferID == "vip-care" || strings.Contains(it.Text, "VIP15") {
			t.Fatalf("the core showed an offer that is not eligible: %q", it.Text)
		}
	}
}

// txWatch is the core's store, counting the transactions open right now.
type txWatch struct {
	crm.Store
	open atomic.Int32
}

func (w *txWatch) Update(ctx context.Context, fn func(crm.Tx) error) error {
	w.open.Add(1)
	defer w.open.Add(-1)
	return w.Store.Update(ctx, fn)
}

func (w *txWatch) View(ctx context.Context, fn func(crm.Tx) error) error {
	w.open.Add(1)
	defer w.open.Add(-1)
	return w.Store.View(ctx, fn)
}

// llmEnv is a core with the real assistant on a fake server that answers
// every understanding with u and every draft with d, and a store that
// counts open transactions. inTx counts requests that arrived while the
// core held a transaction.
type llmEnv struct {
	*env
	srv   *llmtest.Server
	a     *llm.Assistant
	watch *txWatch
	inTx  atomic.Int32
}

func newLLMEnv(t *testing.T, u, d map[string]any) *llmEnv {
	t.Helper()
	le := &llmEnv{srv: llmtest.NewServer(t)}
	le.srv.Handle(func(req llmtest.Request) llmtest.Response {
		if le.watch.open.Load() > 0 {
			le.inTx.Add(1)
		}
		if req.Schema() == llm.AnswerSchema {
			return llmtest.JSON(d)
		}
		return llmtest.JSON(u)
	})
	le.a = llm.New(llm.Options{BaseURL: le.srv.BaseURL(), Timeout: 5 * time.Second, Knowledge: string(mustRead(t, "knowledge.md"))})
	le.env = buildEnv(t, "", func(o *bot.Options) {
		le.watch = &txWatch{Store: o.Store}
		o.Store, o.Assistant, o.AssistTimeout = le.watch, le.a, 5*time.Second
	})
	return le
}

// TestLLMCallsOutsideTransactions: the core asks the LLM before it opens
// the message's transaction, never while one is open; the customer gets the
// drafted answer.
func TestLLMCallsOutsideTransactions(t *testing.T) {
	answer := "Dạ hiện shop chưa nhận thu cũ đổi mới ạ."
	le := newLLMEnv(t,
		map[string]any{"intent": "unknown", "products": []string{}, "category": "", "budget_vnd": 0, "language": "vi", "sentiment": "neutral"},
		map[string]any{"answer": answer, "offer_id": ""})
	le.say(bot.Inbound{Text: "xin chào"})
	_, sent := le.say(bot.Inbound{Text: "shop có nhận thu cũ đổi mới không?"})
	if len(sent) == 0 || sent[0].Text != answer {
		t.Fatalf("sent %+v, want the drafted answer", sent)
	}
	if got := len(le.srv.Requests()); got != 2 {
		t.Fatalf("%d LLM requests, want understanding and answer", got)
	}
	if got := le.inTx.Load(); got != 0 {
		t.Fatalf("%d LLM requests arrived while the core held a store transaction", got)
	}

	// The watch itself sees a call made inside a transaction.
	if err := le.watch.Update(context.Background(), func(crm.Tx) error {
		_, err := le.a.Assist(context.Background(), bot.AssistRequest{Text: "alo", Language: "vi"})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if le.inTx.Load() == 0 {
		t.Fatal("txWatch did not see a request made inside a transaction")
	}
}

// TestLLMPromptsCarryNoPersonalData: what the core knows about the customer
// (the phone and name of a shared contact, the channel's display name) and
// the address and email they write never reach the LLM server.
func TestLLMPromptsCarryNoPersonalData(t *testing.T) {
	le := newLLMEnv(t,
		map[string]any{"intent": "unknown", "products": []string{}, "category": "", "budget_vnd": 0, "language": "vi", "sentiment": "neutral"},
		map[string]any{"answer": "", "offer_id": ""})
	le.say(bot.Inbound{Kind: crm.KindContact, Name: "Bích Ngọc", Contact: &bot.Contact{Phone: "0912345678", FirstName: "Ngọc", LastName: "Phạm Thị", Self: true}})
	if c := le.customer(crm.ChannelWeb, "s1"); c.Phone == "" {
		t.Fatalf("contact not linked: %+v", c)
	}
	le.say(bot.Inbound{Name: "Bích Ngọc", Text: "giao tới 78 Lý Thường Kiệt, Quận 10 được không, có gì mail ngoc.pham@example.com nhé"})
	le.say(bot.Inbound{Name: "Bích Ngọc", Text: "cho hỏi đổi trả thế nào, nhà mình ở số 5 ngõ 12 Hàng Bài"})
	reqs := le.srv.Requests()
	if len(reqs) < 2 {
		t.Fatalf("%d LLM requests: the test sent nothing to look at", len(reqs))
	}
	for _, r := range reqs {
		body := string(r.Raw)
		for _, pii := range []string{"0912", "345678", "+8491", "Ngọc", "Phạm", "ngoc.pham", "example.com", "78 L", "Thường Kiệt", "Quận 10", "ngõ 12", "số 5"} {
			if strings.Contains(body, pii) {
				t.Errorf("%s request carries %q: %s", r.Schema(), pii, r.User())
			}
		}
	}
}

// TestLLMSentimentRecorded: the sentiment the assistant read is kept on the
// inbound interaction and on the customer (a `sentiment` fact for segment
// rules and offer eligibility), and counted for stats; without one nothing
// changes.
func TestLLMSentimentRecorded(t *testing.T) {
	e := newEnvWith(t, staticAssistant{bot.AssistResult{
		Understanding: bot.Understanding{Intent: bot.IntentUnknown, Language: "vi", Sentiment: "negative"},
	}}, time.Second)
	e.say(bot.Inbound{Text: "giao hàng chậm quá, bực thật"})
	c := e.customer(crm.ChannelWeb, "s1")
	if got, want := c.Sentiment, "negative"; got != want {
		t.Fatalf("customer sentiment = %q, want %q", got, want)
	}
	if got, want := crm.FactsOf(c, time.Now()).Sentiment, "negative"; got != want {
		t.Fatalf("sentiment fact = %q, want %q", got, want)
	}
	its := e.interactions(c.ID)
	if len(its) == 0 || its[0].Direction != crm.Inbound || its[0].Sentiment != "negative" {
		t.Fatalf("first interaction %+v, want the inbound message marked negative", its[0])
	}
	var n int64
	if err := e.db.View(context.Background(), func(tx crm.Tx) (err error) {
		n, err = tx.Counter("sentiment:negative")
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if n != 1 {
		t.Fatalf("sentiment:negative counter = %d, want 1", n)
	}
}

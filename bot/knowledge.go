package bot

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/idicbot/idicbot/crm"
	"github.com/idicbot/idicbot/crm/nlu"
)

// TopicKnowledge is the Notifier topic of a change to the stored knowledge
// entries (the shop's FAQ): every process reloads them
// (KnowledgeAdmin.RunReloads).
const TopicKnowledge = "knowledge"

// Limits of an edit in the admin: enough for a shop's FAQ, small enough
// that the classifier rebuilt at each save stays quick.
const (
	MaxKnowledgeEntries   = 200
	MaxKnowledgeQuestions = 100
	maxQuestionLen        = 300
	maxAnswerLen          = 2000
)

// An intent of the bot claims a question strongly when the classifier of
// the intents alone reads it so from claimActs for the conversations that
// act (a purchase, a complaint, an opt-out, an order change, a person), from
// claimAny for the others: questions about prices or stock are close to
// the FAQ's by nature ("ship bao nhiêu tiền" reads as a price question at
// 0.82), a purchase is not ("mình muốn mua iphone 15": 0.72). An FAQ entry
// teaching such a question would take those messages away from their
// conversation.
const (
	claimActs = 0.7
	claimAny  = 0.9
)

// actingIntents are the classifier's intents that act on the customer or
// the order.
var actingIntents = map[string]bool{
	"buy": true, "complaint": true, "opt_out": true, "opt_in": true, "cancel_order": true, "change_order": true,
	"order_status": true, "handoff": true, "refuse": true,
}

// KnowledgeProblem is one reason an edit of the knowledge entries was
// refused, placed on the entry's field.
type KnowledgeProblem struct {
	// Entry is the entry's place in the list, from 0; ID its id as written.
	Entry int    `json:"entry"`
	ID    string `json:"id,omitempty"`
	// Field is "id", "questions", "answer.vi", "answer.en", "topic.vi" …
	Field string `json:"field"`
	// Line is the question's line in the entry's questions, from 1; 0 when
	// the problem is the field's.
	Line int `json:"line,omitempty"`
	// Code names the problem for a translated message; Params fill it.
	Code    string            `json:"code"`
	Params  map[string]string `json:"params,omitempty"`
	Message string            `json:"message"`
}

// InvalidKnowledgeError refuses an edit of the knowledge entries: every
// problem found. It unwraps to an EINVALID *crm.Error.
type InvalidKnowledgeError struct {
	Problems []KnowledgeProblem
}

func (e *InvalidKnowledgeError) Error() string { return e.domain().Error() }

// Unwrap returns the domain error.
func (e *InvalidKnowledgeError) Unwrap() error { return e.domain() }

func (e *InvalidKnowledgeError) domain() *crm.Error {
	parts := make([]string, 0, len(e.Problems))
	for _, p := range e.Problems {
		where := fmt.Sprintf("entry #%d", p.Entry+1)
		if p.ID != "" {
			where = fmt.Sprintf("entry %q", p.ID)
		}
		if p.Line > 0 {
			parts = append(parts, fmt.Sprintf("%s, %s line %d: %s", where, p.Field, p.Line, p.Message))
		} else {
			parts = append(parts, fmt.Sprintf("%s, %s: %s", where, p.Field, p.Message))
		}
	}
	return crm.Errorf(crm.EINVALID, "The FAQ entries were not saved: %s", strings.Join(parts, "; ")).
		Say("knowledge_invalid", len(e.Problems))
}

// KnowledgeState is the live knowledge: its version (0: the file's), the
// entries and the saved versions, newest first.
type KnowledgeState struct {
	Version int                     `json:"version"`
	Entries []*crm.KnowledgeEntry   `json:"entries"`
	History []*crm.KnowledgeVersion `json:"history"`
}

// KnowledgePreview is what the bot would make of a customer's question with
// the edited entries.
type KnowledgePreview struct {
	// Problems of the edit; the rest is empty when there are any.
	Problems []KnowledgeProblem `json:"problems,omitempty"`
	// Intent is the bot's reading: "faq" for an entry's answer, "clarify"
	// when it would ask whether Guess was meant, another intent of the bot
	// ("price", "complaint" …), or "unknown".
	Intent string `json:"intent"`
	// Entry is the entry answered (Intent "faq"), or asked about
	// (Intent "clarify"); "" for none.
	Entry string `json:"entry,omitempty"`
	// Confidence is the classifier's, 0 to 1; Runner its second guess.
	Confidence float64 `json:"confidence"`
	Runner     string  `json:"runner,omitempty"`
	// Language is the question's, as the bot reads it ("" when it does not
	// tell); Answer the entry's answer by language.
	Language string            `json:"language,omitempty"`
	Answer   map[string]string `json:"answer,omitempty"`
}

// KnowledgeAdminOptions configure a KnowledgeAdmin.
type KnowledgeAdminOptions struct {
	Store crm.KnowledgeVersions
	Core  *Core
	// Intents are the bot's intents (built in and the shop's), without the
	// knowledge entries: the classifier is rebuilt from them and the
	// entries at each save.
	Intents []*nlu.Intent
	// File is the knowledge read at start-up, live while no version is
	// stored.
	File *crm.Knowledge
	Now  func() time.Time
}

// KnowledgeAdmin is the editing of the shop's FAQ (knowledge entries) at
// run time, from the admin page: an edit is checked, stored as a new
// version and live at the next message (the classifier is rebuilt and the
// LLM, when there is one, grounds its answers on the same entries); the
// newest stored version wins over the file at start-up, as with the bot's
// phrases.
type KnowledgeAdmin struct {
	o KnowledgeAdminOptions
	// base is the classifier of the intents alone, which tells which
	// questions an intent of the bot already claims.
	base *nlu.Classifier
	mu   sync.Mutex // one save or reload at a time: version, store, live
	// live is the stored version live in this process (0: the file's); a
	// reload of the same version does not rebuild the classifier.
	live int
}

// NewKnowledgeAdmin returns the editing of the core's knowledge.
func NewKnowledgeAdmin(o KnowledgeAdminOptions) (*KnowledgeAdmin, error) {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.File == nil {
		o.File = &crm.Knowledge{}
	}
	base, err := nlu.New(o.Intents, o.Core.catalog)
	if err != nil {
		return nil, fmt.Errorf("knowledge admin: %w", err)
	}
	return &KnowledgeAdmin{o: o, base: base}, nil
}

// Load makes the newest stored version live, if there is one.
func (a *KnowledgeAdmin) Load(ctx context.Context) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	h, err := a.o.Store.KnowledgeHistory(ctx)
	if err != nil || len(h) == 0 || h[0].Version == a.live {
		return err
	}
	k := &crm.Knowledge{Entries: h[0].Entries}
	cl, err := a.build(k)
	if err != nil {
		return fmt.Errorf("stored FAQ version %d: %w", h[0].Version, err)
	}
	a.o.Core.SetUnderstanding(cl, k)
	a.live = h[0].Version
	return nil
}

// RunReloads makes FAQ entries saved through another process live in this
// one, until ctx ends. Without the core's Notifier it returns at once.
func (a *KnowledgeAdmin) RunReloads(ctx context.Context) {
	n := a.o.Core.notifier
	if n == nil {
		return
	}
	changed, release := n.Subscribe(TopicKnowledge, "")
	defer release()
	for {
		// Also at the start: a save elsewhere before the subscription
		// would otherwise be missed.
		if err := a.Load(ctx); err != nil && ctx.Err() == nil {
			a.o.Core.log.Error("reload FAQ entries saved elsewhere", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-changed:
		}
	}
}

// State returns the live entries and the saved versions.
func (a *KnowledgeAdmin) State(ctx context.Context) (*KnowledgeState, error) {
	h, err := a.o.Store.KnowledgeHistory(ctx)
	if err != nil {
		return nil, err
	}
	st := &KnowledgeState{Entries: a.o.File.Entries, History: h}
	if len(h) > 0 {
		st.Version, st.Entries = h[0].Version, h[0].Entries
	}
	if st.History == nil {
		st.History = []*crm.KnowledgeVersion{}
	}
	if st.Entries == nil {
		st.Entries = []*crm.KnowledgeEntry{}
	}
	return st, nil
}

// Validate lists the problems of the entries, tidied (spaces trimmed,
// blank questions dropped); none means they can be saved.
func (a *KnowledgeAdmin) Validate(entries []*crm.KnowledgeEntry) []KnowledgeProblem {
	return a.validate(tidied(entries))
}

func (a *KnowledgeAdmin) validate(entries []*crm.KnowledgeEntry) []KnowledgeProblem {
	var ps []KnowledgeProblem
	add := func(i int, e *crm.KnowledgeEntry, field string, line int, code, msg string, params map[string]string) {
		p := KnowledgeProblem{Entry: i, Field: field, Line: line, Code: code, Params: params, Message: msg}
		if e != nil {
			p.ID = e.ID
		}
		ps = append(ps, p)
	}
	if len(entries) > MaxKnowledgeEntries {
		add(MaxKnowledgeEntries, nil, "entries", 0, "too_many_entries",
			fmt.Sprintf("at most %d entries", MaxKnowledgeEntries), map[string]string{"max": fmt.Sprint(MaxKnowledgeEntries)})
		return ps
	}
	ids := map[string]int{}
	questions := map[string]string{} // folded question → entry id
	for i, e := range entries {
		if e == nil {
			add(i, nil, "entry", 0, "empty_entry", "the entry is empty", nil)
			continue
		}
		switch prev, dup := ids[e.ID]; {
		case e.ID == "":
			add(i, e, "id", 0, "id_missing", "an id is required (lower-case letters, digits, - and _)", nil)
		case !knowledgeIDOK(e.ID):
			add(i, e, "id", 0, "id_format", "want lower-case letters, digits, - and _ (at most 41)", nil)
		case dup:
			add(i, e, "id", 0, "id_duplicate", fmt.Sprintf("entry #%d has this id already", prev+1), map[string]string{"n": fmt.Sprint(prev + 1)})
		default:
			ids[e.ID] = i
		}
		if len(e.Questions) == 0 {
			add(i, e, "questions", 0, "questions_missing", "at least one question, as customers write it", nil)
		}
		if len(e.Questions) > MaxKnowledgeQuestions {
			add(i, e, "questions", 0, "too_many_questions", fmt.Sprintf("at most %d questions", MaxKnowledgeQuestions),
				map[string]string{"max": fmt.Sprint(MaxKnowledgeQuestions)})
		}
		for j, q := range e.Questions {
			line := j + 1
			key := strings.Join(crm.Words(crm.Fold(q)), " ")
			switch {
			case !utf8.ValidString(q) || utf8.RuneCountInString(q) > maxQuestionLen:
				add(i, e, "questions", line, "question_long", fmt.Sprintf("at most %d characters", maxQuestionLen), map[string]string{"max": fmt.Sprint(maxQuestionLen)})
				continue
			case key == "":
				add(i, e, "questions", line, "question_no_words", "the question has no words", nil)
				continue
			}
			if other, ok := questions[key]; ok && other != e.ID {
				add(i, e, "questions", line, "question_duplicate", fmt.Sprintf("%q is a question of entry %q already", q, other),
					map[string]string{"q": q, "entry": other})
				continue
			}
			// The same question twice in one entry (with and without
			// diacritics) is harmless.
			questions[key] = e.ID
			if in := a.base.Example(q); in != "" {
				add(i, e, "questions", line, "question_intent_example", fmt.Sprintf("%q is an example of the intent %s", q, in),
					map[string]string{"q": q, "intent": in})
				continue
			}
			if r := a.base.Analyze(q); r.Intent != nlu.Unknown && (r.Confidence >= claimAny || actingIntents[r.Intent] && r.Confidence >= claimActs) {
				add(i, e, "questions", line, "question_claimed",
					fmt.Sprintf("%q reads as the intent %s (%.0f%% sure): customers asking it would lose that conversation", q, r.Intent, 100*r.Confidence),
					map[string]string{"q": q, "intent": r.Intent, "pct": fmt.Sprintf("%.0f", 100*r.Confidence)})
			}
		}
		for _, lang := range []string{"vi", "en"} {
			switch ans := e.Answer[lang]; {
			case ans == "":
				add(i, e, "answer."+lang, 0, "answer_missing", "an answer in "+langLabel(lang)+" is required", map[string]string{"lang": lang})
			case !utf8.ValidString(ans) || utf8.RuneCountInString(ans) > maxAnswerLen:
				add(i, e, "answer."+lang, 0, "answer_long", fmt.Sprintf("at most %d characters", maxAnswerLen), map[string]string{"max": fmt.Sprint(maxAnswerLen)})
			}
		}
		for lang := range e.Answer {
			if lang != "vi" && lang != "en" {
				add(i, e, "answer."+lang, 0, "language", "want vi or en", map[string]string{"lang": lang})
			}
		}
		for lang := range e.Topic {
			if lang != "vi" && lang != "en" {
				add(i, e, "topic."+lang, 0, "language", "want vi or en", map[string]string{"lang": lang})
			}
		}
	}
	return ps
}

func langLabel(lang string) string {
	if lang == "en" {
		return "English"
	}
	return "Vietnamese"
}

// knowledgeIDOK mirrors crm.ParseKnowledge's id rule.
func knowledgeIDOK(id string) bool {
	if len(id) > 41 {
		return false
	}
	for i, r := range id {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
		case (r == '-' || r == '_') && i > 0:
		default:
			return false
		}
	}
	return true
}

// tidied copies the entries with their id, questions, answers and topics
// trimmed, blank questions and texts dropped. The entries given are left as
// they are: they may be the live ones.
func tidied(entries []*crm.KnowledgeEntry) []*crm.KnowledgeEntry {
	out := make([]*crm.KnowledgeEntry, len(entries))
	texts := func(m map[string]string) map[string]string {
		var out map[string]string
		for l, s := range m {
			if s = strings.TrimSpace(s); s != "" {
				if out == nil {
					out = map[string]string{}
				}
				out[l] = s
			}
		}
		return out
	}
	for i, e := range entries {
		if e == nil {
			continue
		}
		c := &crm.KnowledgeEntry{ID: strings.TrimSpace(e.ID), Answer: texts(e.Answer), Topic: texts(e.Topic)}
		for _, q := range e.Questions {
			if q = strings.TrimSpace(q); q != "" {
				c.Questions = append(c.Questions, q)
			}
		}
		out[i] = c
	}
	return out
}

// build is the classifier of the intents and the entries.
func (a *KnowledgeAdmin) build(k *crm.Knowledge) (*nlu.Classifier, error) {
	return nlu.New(nlu.Merge(a.o.Intents, nlu.FromKnowledge(k)), a.o.Core.catalog)
}

// checked validates entries and builds their classifier.
func (a *KnowledgeAdmin) checked(entries []*crm.KnowledgeEntry) (*nlu.Classifier, *crm.Knowledge, error) {
	entries = tidied(entries)
	if ps := a.validate(entries); len(ps) > 0 {
		return nil, nil, &InvalidKnowledgeError{Problems: ps}
	}
	k := &crm.Knowledge{Entries: entries}
	cl, err := a.build(k)
	if err != nil {
		return nil, nil, &InvalidKnowledgeError{Problems: []KnowledgeProblem{{Field: "questions", Code: "build", Message: crm.ErrorMessage(err)}}}
	}
	return cl, k, nil
}

// Preview says which entry, with what confidence, the bot would answer
// question with, were the entries live.
func (a *KnowledgeAdmin) Preview(entries []*crm.KnowledgeEntry, question string) (*KnowledgePreview, error) {
	question = strings.TrimSpace(question)
	if question == "" || utf8.RuneCountInString(question) > MaxTextLen {
		return nil, crm.Errorf(crm.EINVALID, "Write a customer's question to try (at most %d characters).", MaxTextLen).Say("knowledge_question", MaxTextLen)
	}
	cl, k, err := a.checked(entries)
	if err != nil {
		var inv *InvalidKnowledgeError
		if errors.As(err, &inv) {
			return &KnowledgePreview{Problems: inv.Problems}, nil
		}
		return nil, err
	}
	u, _ := a.o.Core.understandWith(&understander{classifier: cl, knowledge: k}, Inbound{Kind: crm.KindText, Text: question})
	p := &KnowledgePreview{Intent: u.Intent, Confidence: u.Confidence, Language: u.Language}
	entry := u.Topic
	if u.Intent == IntentClarify {
		entry, _ = strings.CutPrefix(u.Guess, nlu.FAQPrefix)
		if entry == u.Guess {
			entry = ""
		}
	}
	if u.Runner != "" {
		p.Runner = u.Runner
	}
	if e := k.Entry(entry); e != nil {
		p.Entry = e.ID
		p.Answer = map[string]string{"vi": e.AnswerIn("vi"), "en": e.AnswerIn("en")}
	}
	return p, nil
}

// Save stores the entries as the version after expected and makes them
// live: the next message is classified and answered with them.
func (a *KnowledgeAdmin) Save(ctx context.Context, entries []*crm.KnowledgeEntry, expected int, who, origin string) (*crm.KnowledgeVersion, error) {
	cl, k, err := a.checked(entries)
	if err != nil {
		return nil, err
	}
	return a.save(ctx, cl, k, expected, 0, who, origin)
}

// Rollback stores an older version's entries as a new version.
func (a *KnowledgeAdmin) Rollback(ctx context.Context, version, expected int, who, origin string) (*crm.KnowledgeVersion, error) {
	h, err := a.o.Store.KnowledgeHistory(ctx)
	if err != nil {
		return nil, err
	}
	for _, v := range h {
		if v.Version != version {
			continue
		}
		k := &crm.Knowledge{Entries: v.Entries}
		// The version passed the checks when saved; only what the bot needs
		// to run on it is checked again (the intents may have changed).
		cl, err := a.build(k)
		if err != nil {
			return nil, &InvalidKnowledgeError{Problems: []KnowledgeProblem{{Field: "questions", Code: "build", Message: crm.ErrorMessage(err)}}}
		}
		return a.save(ctx, cl, k, expected, version, who, origin)
	}
	return nil, crm.Errorf(crm.ENOTFOUND, "There is no version %d of the FAQ entries.", version).Say("knowledge_no_version", version)
}

func (a *KnowledgeAdmin) save(ctx context.Context, cl *nlu.Classifier, k *crm.Knowledge, expected, from int, who, origin string) (*crm.KnowledgeVersion, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	v := &crm.KnowledgeVersion{Version: expected + 1, Entries: k.Entries, By: who, Origin: origin, At: a.o.Now(), RolledBackFrom: from}
	if err := a.o.Store.SaveKnowledge(ctx, v); err != nil {
		return nil, err
	}
	a.o.Core.SetUnderstanding(cl, k)
	a.live = v.Version
	a.o.Core.publish(ctx, TopicKnowledge)
	return v, nil
}

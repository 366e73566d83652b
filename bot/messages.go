package bot

import (
	"bytes"
	"context"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"

	"github.com/idicbot/idicbot/crm"
)

// A shop words the bot's own phrases in its messages file (messages.yaml,
// the embedded default in configs): the form of address in Vietnamese
// (how the bot calls itself and the customer: mình/bạn, em/anh/chị,
// shop/quý khách) and, per phrase id of replies.go and language, its own
// text. ParseMessages checks the file against the built-in phrases and
// returns only what differs from them, so a shop that changes nothing gets
// exactly the built-in replies, and a phrase added to replies.go is
// editable at once, under its id.

// MessagesFile is the messages file's shape.
type MessagesFile struct {
	// Address is how the Vietnamese phrases speak: Self is the bot ("mình",
	// "em", "shop"), Customer the customer ("bạn", "anh/chị", "quý
	// khách"). The built-in phrases say mình and bạn.
	Address struct {
		Self     string `yaml:"self"`
		Customer string `yaml:"customer"`
	} `yaml:"address"`
	// Phrases are texts by phrase id and language ("vi", "en"). A text
	// keeps the built-in phrase's verbs (%s, %d) in their order: they are
	// what the bot fills in (a name, a price, a code); in such a phrase a
	// percent sign is written %%. A phrase without verbs is shown as
	// written.
	Phrases map[string]map[string]string `yaml:"phrases"`
}

// Built-in words of the form of address (replies.go).
const (
	defaultSelf     = "mình"
	defaultCustomer = "bạn"
)

// PhraseIDs are the ids of the bot's phrases, sorted: what a messages file
// may set.
func PhraseIDs() []string {
	ids := make([]string, 0, len(phrases["vi"]))
	for id := range phrases["vi"] {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}

// ParseMessages reads a messages file and returns the phrases that differ
// from the built-in ones, by language and id (crm.Catalog.Phrases). An
// unknown id or language, or a text whose verbs differ from the built-in
// phrase's, is an EINVALID error that says what is allowed.
func ParseMessages(file string, data []byte) (map[string]map[string]string, error) {
	var f MessagesFile
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil && err.Error() != "EOF" {
		return nil, crm.Errorf(crm.EINVALID, "%s: %v", file, err)
	}
	out := map[string]map[string]string{}
	set := func(lang, id, text string) {
		if text == phrases[lang][id] {
			return
		}
		if out[lang] == nil {
			out[lang] = map[string]string{}
		}
		out[lang][id] = text
	}
	var problems []string
	for _, id := range sortedKeys(f.Phrases) {
		if _, ok := phrases["vi"][id]; !ok {
			problems = append(problems, fmt.Sprintf("phrases: %q is not a phrase of the bot (phrases: %s)", id, strings.Join(PhraseIDs(), ", ")))
			continue
		}
		for _, lang := range sortedKeys(f.Phrases[id]) {
			text := f.Phrases[id][lang]
			def, ok := phrases[lang][id]
			if !ok {
				problems = append(problems, fmt.Sprintf("phrases.%s: %q is not a language of the bot (vi, en)", id, lang))
				continue
			}
			if !utf8.ValidString(text) {
				problems = append(problems, fmt.Sprintf("phrases.%s.%s: not valid UTF-8", id, lang))
				continue
			}
			// A phrase the bot fills in is a format (%% for a percent
			// sign); one it does not is shown as written.
			if got, want := verbs(text), verbs(def); len(want) > 0 && !slices.Equal(got, want) {
				problems = append(problems, fmt.Sprintf("phrases.%s.%s: the text must hold %s in this order (what the bot fills in), it holds %s; the built-in text is %q",
					id, lang, verbList(want), verbList(got), def))
				continue
			}
			set(lang, id, text)
		}
	}
	self, customer := strings.TrimSpace(f.Address.Self), strings.TrimSpace(f.Address.Customer)
	if self == "" {
		self = defaultSelf
	}
	if customer == "" {
		customer = defaultCustomer
	}
	if self != defaultSelf || customer != defaultCustomer {
		// The form of address applies to every Vietnamese phrase the file
		// leaves as built in.
		for id, def := range phrases["vi"] {
			if own, ok := f.Phrases[id]["vi"]; ok && own != def {
				continue
			}
			set("vi", id, readdress(def, self, customer))
		}
	}
	if len(problems) > 0 {
		return nil, crm.Errorf(crm.EINVALID, "%s: %s", file, strings.Join(problems, "; "))
	}
	return out, nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

var verbRE = regexp.MustCompile(`%[-+# 0-9.]*[a-zA-Z%]`)

// verbs lists the formatting verbs of a phrase, %% left out.
func verbs(s string) []string {
	var out []string
	for _, v := range verbRE.FindAllString(s, -1) {
		if v != "%%" {
			out = append(out, v)
		}
	}
	return out
}

func verbList(v []string) string {
	if len(v) == 0 {
		return "no %s or %d"
	}
	return strings.Join(v, " ")
}

// readdress puts the shop's form of address in a built-in Vietnamese
// phrase: the words "mình" (the bot) and "bạn" (the customer), whole words
// only, a capital kept at the start of a sentence.
func readdress(s, self, customer string) string {
	words := map[string]string{defaultSelf: self, defaultCustomer: customer}
	var b strings.Builder
	rs := []rune(s)
	for i := 0; i < len(rs); {
		if !unicode.IsLetter(rs[i]) {
			b.WriteRune(rs[i])
			i++
			continue
		}
		j := i
		for j < len(rs) && unicode.IsLetter(rs[j]) {
			j++
		}
		w := string(rs[i:j])
		if to, ok := words[strings.ToLower(w)]; ok {
			if unicode.IsUpper(rs[i]) {
				r, n := utf8.DecodeRuneInString(to)
				to = string(unicode.ToUpper(r)) + to[n:]
			}
			w = to
		}
		b.WriteString(w)
		i = j
	}
	return b.String()
}

// phrasebook is the shop's phrases over the built-in ones.
type phrasebook map[string]map[string]string

func (p phrasebook) say(lang, key string, args ...any) string {
	if s, ok := p[lang][key]; ok {
		if len(args) == 0 {
			return s
		}
		return fmt.Sprintf(s, args...)
	}
	return say(lang, key, args...)
}

// say is a phrase as the shop words it (its messages file), else as built
// in.
func (t *turn) say(lang, key string, args ...any) string {
	return phrasebook(t.core.catalog.Phrases.Get()).say(lang, key, args...)
}

// offerButtons are an offer's buttons, labelled as the shop words them.
func (t *turn) offerButtons(lang string, o *crm.CompiledOffer) []crm.Button {
	book := phrasebook(t.core.catalog.Phrases.Get())
	return buttonsOf(o, func(key string) string { return book.say(lang, key) })
}

// MessagesEdit is the messages file as the admin page edits it: the form
// of address and the shop's own texts by phrase id and language (a text
// equal to the built-in one, or empty, is not the shop's own).
type MessagesEdit struct {
	Address struct {
		Self     string `json:"self"`
		Customer string `json:"customer"`
	} `json:"address"`
	Phrases map[string]map[string]string `json:"phrases"`
}

// Phrase is one of the bot's phrases as the admin page shows it.
type Phrase struct {
	ID string `json:"id"`
	// Builtin is the text of replies.go, Own the shop's where it wrote
	// one, Said what the bot says with the messages (the live ones, or
	// those previewed), by language.
	Builtin map[string]string `json:"builtin"`
	Own     map[string]string `json:"own,omitempty"`
	Said    map[string]string `json:"said"`
}

// MessagesState is the live messages: their version (0: the file's), the
// form of address, every phrase and the saved versions, newest first.
type MessagesState struct {
	Version int                    `json:"version"`
	Edit    MessagesEdit           `json:"edit"`
	Phrases []Phrase               `json:"phrases"`
	History []*crm.MessagesVersion `json:"history"`
}

// MessagesAdmin is the editing of the bot's phrases at run time (the admin
// page): a save is checked like the file, stored as a new version and
// live at the next message; the newest stored version wins over the file,
// as segment rules do.
type MessagesAdmin struct {
	store    crm.MessagesVersions
	book     *crm.Phrasebook
	fileName string
	fileYAML []byte
	now      func() time.Time
	mu       sync.Mutex // one save at a time: version, store, live
}

// NewMessagesAdmin returns the editing of book, whose versions are kept in
// store; fileName and fileYAML are the messages file read at start-up.
func NewMessagesAdmin(store crm.MessagesVersions, book *crm.Phrasebook, fileName string, fileYAML []byte, now func() time.Time) *MessagesAdmin {
	if now == nil {
		now = time.Now
	}
	return &MessagesAdmin{store: store, book: book, fileName: fileName, fileYAML: fileYAML, now: now}
}

// Load makes the newest stored version live, if there is one.
func (m *MessagesAdmin) Load(ctx context.Context) error {
	h, err := m.store.MessagesHistory(ctx)
	if err != nil || len(h) == 0 {
		return err
	}
	ph, err := ParseMessages(fmt.Sprintf("stored messages version %d", h[0].Version), []byte(h[0].YAML))
	if err != nil {
		return err
	}
	m.book.Set(ph)
	return nil
}

// State returns the live messages.
func (m *MessagesAdmin) State(ctx context.Context) (*MessagesState, error) {
	h, err := m.store.MessagesHistory(ctx)
	if err != nil {
		return nil, err
	}
	name, data, version := m.fileName, m.fileYAML, 0
	if len(h) > 0 {
		name, data, version = fmt.Sprintf("stored messages version %d", h[0].Version), []byte(h[0].YAML), h[0].Version
	}
	var f MessagesFile
	if err := yaml.Unmarshal(data, &f); err != nil {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	e := MessagesEdit{Phrases: f.Phrases}
	e.Address.Self, e.Address.Customer = f.Address.Self, f.Address.Customer
	ph, err := ParseMessages(name, data)
	if err != nil {
		return nil, err
	}
	if h == nil {
		h = []*crm.MessagesVersion{}
	}
	return &MessagesState{Version: version, Edit: e, Phrases: phraseList(e.Phrases, ph), History: h}, nil
}

// yaml is the messages file of an edit: the address and the shop's own
// texts only.
func (e *MessagesEdit) yaml() ([]byte, error) {
	var f MessagesFile
	f.Address.Self, f.Address.Customer = strings.TrimSpace(e.Address.Self), strings.TrimSpace(e.Address.Customer)
	for id, texts := range e.Phrases {
		for lang, text := range texts {
			if strings.TrimSpace(text) == "" || text == phrases[lang][id] {
				continue
			}
			if f.Phrases == nil {
				f.Phrases = map[string]map[string]string{}
			}
			if f.Phrases[id] == nil {
				f.Phrases[id] = map[string]string{}
			}
			f.Phrases[id][lang] = text
		}
	}
	return yaml.Marshal(&f)
}

// Preview checks an edit and returns every phrase as the bot would say it.
func (m *MessagesAdmin) Preview(e *MessagesEdit) ([]Phrase, error) {
	data, err := e.yaml()
	if err != nil {
		return nil, fmt.Errorf("encode the messages: %w", err)
	}
	ph, err := ParseMessages("messages", data)
	if err != nil {
		return nil, err
	}
	return phraseList(e.Phrases, ph), nil
}

// Save stores an edit as the version after expected and makes it live.
func (m *MessagesAdmin) Save(ctx context.Context, e *MessagesEdit, expected int, who, origin string) (*crm.MessagesVersion, error) {
	data, err := e.yaml()
	if err != nil {
		return nil, fmt.Errorf("encode the messages: %w", err)
	}
	return m.save(ctx, data, expected, who, origin)
}

// Rollback stores an older version's messages as a new version.
func (m *MessagesAdmin) Rollback(ctx context.Context, version, expected int, who, origin string) (*crm.MessagesVersion, error) {
	h, err := m.store.MessagesHistory(ctx)
	if err != nil {
		return nil, err
	}
	for _, v := range h {
		if v.Version == version {
			return m.save(ctx, []byte(v.YAML), expected, who, origin)
		}
	}
	return nil, crm.Errorf(crm.ENOTFOUND, "There is no version %d of the bot's phrases.", version).Say("messages_no_version", version)
}

func (m *MessagesAdmin) save(ctx context.Context, data []byte, expected int, who, origin string) (*crm.MessagesVersion, error) {
	ph, err := ParseMessages("messages", data)
	if err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	v := &crm.MessagesVersion{Version: expected + 1, YAML: string(data), By: who, Origin: origin, At: m.now()}
	if err := m.store.SaveMessages(ctx, v); err != nil {
		return nil, err
	}
	m.book.Set(ph)
	return v, nil
}

// phraseList is every phrase with the shop's own texts and what the bot
// says with the phrases ph.
func phraseList(own map[string]map[string]string, ph map[string]map[string]string) []Phrase {
	book := phrasebook(ph)
	out := make([]Phrase, 0, len(phrases["vi"]))
	for _, id := range PhraseIDs() {
		p := Phrase{ID: id, Builtin: map[string]string{}, Said: map[string]string{}}
		for _, lang := range []string{"vi", "en"} {
			p.Builtin[lang] = phrases[lang][id]
			p.Said[lang] = book.text(lang, id)
			if t, ok := own[id][lang]; ok && t != phrases[lang][id] && strings.TrimSpace(t) != "" {
				if p.Own == nil {
					p.Own = map[string]string{}
				}
				p.Own[lang] = t
			}
		}
		out = append(out, p)
	}
	return out
}

// text is a phrase's text, unfilled.
func (p phrasebook) text(lang, key string) string {
	if s, ok := p[lang][key]; ok {
		return s
	}
	if s, ok := phrases[lang][key]; ok {
		return s
	}
	return phrases["vi"][key]
}

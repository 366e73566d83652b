// Package nlu understands customers' messages without a language model: an
// intent learned from example utterances (Vietnamese with and without
// diacritics, chat shorthand, English) by a nearest-neighbour classifier
// over TF-IDF word and character n-grams, and entities (products, phones,
// emails, order references, addresses) read by rules.
//
// The classifier is built at start-up from the examples in a few
// milliseconds; nothing is downloaded and nothing calls the network.
package nlu

import (
	"math"
	"slices"
	"strings"
	"sync"

	"github.com/idicbot/idicbot/crm"
)

// Tokens that stand in for entities in the text the classifier reads, so
// that "giá iPhone 15" teaches "giá Redmi" too.
const (
	tokProduct = "xsp"
	tokNumber  = "xso"
	tokMoney   = "xtien"
	tokPhone   = "xphone"
	tokEmail   = "xemail"
	tokRef     = "xref"
)

// Unknown is the intent of a message the classifier cannot place.
const Unknown = "unknown"

// Classifier finds the intent of a message from examples. It is read-only
// once built and safe for concurrent use.
type Classifier struct {
	catalog  *crm.Catalog
	intents  []string
	vocab    map[uint64]int32
	idf      []float64
	example  []int32 // example → intent
	postings [][]posting
	seen     map[string]string // normalised example → intent
	// sims are the per-example similarity buffers of classify calls, all
	// zero between calls.
	sims sync.Pool
}

type posting struct {
	example int32
	weight  float32
}

// Prediction is what the classifier made of a message.
type Prediction struct {
	Intent string
	// Confidence is the winning intent's similarity to its examples, 0 to 1.
	Confidence float64
	// Runner is the second-best intent and RunnerScore its similarity.
	Runner      string
	RunnerScore float64
}

// Result is a message understood: its intent and its entities.
type Result struct {
	Prediction
	Entities
	// Text is the message as the classifier read it (normalised, entities
	// masked); Negated says a refusal word governs a buying verb ("ko mua
	// đâu", "chưa cần").
	Text    string
	Negated bool
	// Greeted says the message opened with a greeting the intent is not.
	Greeted bool
}

// New builds a classifier from intents. The catalog (may be nil) masks
// product names in examples and messages alike.
func New(intents []*Intent, cat *crm.Catalog) (*Classifier, error) {
	c := &Classifier{catalog: cat, vocab: map[uint64]int32{}, seen: map[string]string{}}
	var docs [][]feature
	df := map[uint64]int{}
	for i, in := range intents {
		c.intents = append(c.intents, in.Name)
		for _, ex := range in.Examples {
			words, _ := c.prepare(ex)
			key := strings.Join(words, " ")
			if prev, ok := c.seen[key]; ok && prev != in.Name {
				return nil, crm.Errorf(crm.EINVALID, "intent example %q is both %s and %s", ex, prev, in.Name)
			}
			c.seen[key] = in.Name
			fs := features(words)
			if len(fs) == 0 {
				continue
			}
			docs = append(docs, fs)
			c.example = append(c.example, int32(i))
			uniq := map[uint64]bool{}
			for _, f := range fs {
				if !uniq[f.h] {
					uniq[f.h] = true
					df[f.h]++
				}
			}
		}
	}
	if len(docs) == 0 {
		return nil, crm.Errorf(crm.EINVALID, "no intent examples")
	}
	n := len(docs)
	c.sims.New = func() any { return &simBuf{sims: make([]float64, n)} }
	names := make([]uint64, 0, len(df))
	for n := range df {
		names = append(names, n)
	}
	slices.Sort(names)
	c.idf = make([]float64, len(names))
	for i, n := range names {
		c.vocab[n] = int32(i)
		c.idf[i] = math.Log(float64(len(docs)+1)/float64(df[n]+1)) + 1
	}
	c.postings = make([][]posting, len(names))
	for d, fs := range docs {
		for _, w := range c.vector(fs) {
			c.postings[w.idx] = append(c.postings[w.idx], posting{example: int32(d), weight: float32(w.w)})
		}
	}
	return c, nil
}

// Intents returns the intents the classifier knows, in the order given.
func (c *Classifier) Intents() []string { return slices.Clone(c.intents) }

// Example returns the intent of an example that reads as text once
// normalised, or "": an evaluation message must not be one.
func (c *Classifier) Example(text string) string {
	words, _ := c.prepare(text)
	return c.seen[strings.Join(words, " ")]
}

// Analyze reads the intent and entities of a message.
func (c *Classifier) Analyze(text string) Result {
	var r Result
	folded := crm.Fold(text)
	digits := countDigits(folded)
	if strings.Contains(text, "@") {
		r.Email = crm.FindEmail(text)
	}
	if digits >= 9 {
		r.Phone = crm.FindPhone(text)
	}
	if mayHaveRef(folded, digits) {
		r.OrderRef = findRef(folded)
	}
	raw := crm.Words(folded)
	if hasAddressCue(raw) {
		r.Address = findAddress(text)
	}
	if c.catalog != nil {
		r.Products = c.catalog.MatchPadded(" " + strings.Join(raw, " ") + " ")
	}
	words, neg := c.prepareFolded(folded, digits)
	r.Text, r.Negated = strings.Join(words, " "), neg
	r.Prediction = tieBreak(c.classify(words), words)
	// "shop ơi có gì dưới 2 triệu không": the greeting opens the question,
	// the question is what to answer.
	if rest := afterGreeting(words); rest != nil && len(rest) < len(words) {
		p := Prediction{Intent: Unknown}
		if len(rest) > 0 {
			p = tieBreak(c.classify(rest), rest)
		}
		switch {
		case p.Intent != Unknown && p.Intent != greeting && p.Confidence >= greetedMin:
			r.Prediction, r.Greeted = p, true
		case !c.Sure(r.Prediction) && !c.Sure(p):
			// "shop ơi cho hỏi xíu": a greeting and nothing the
			// classifier can place; the rule says greeting.
			r.Prediction = Prediction{Intent: greeting, Confidence: MinConfidence, Runner: r.Intent, RunnerScore: r.Confidence}
		}
	}
	return r
}

const greeting = "greeting"

// greetedMin is how sure the classifier must be of what follows a greeting
// to answer it instead of the greeting.
const greetedMin = 0.2

// greetings open a message, as normalised words ("shop ơi" is "shop": the
// particle is dropped); "cho mình hỏi" is skipped with them.
var greetings = [][]string{
	{"xin", "chao"}, {"chao"}, {"hello"}, {"hi"}, {"hey"}, {"alo"}, {"good", "morning"}, {"good", "afternoon"}, {"good", "evening"},
	{"shop"}, {"em"}, {"minh"}, {"chi"}, {"anh"}, {"ban"}, {"da"}, {"vang"}, {"cho", "minh", "hoi"}, {"cho", "em", "hoi"}, {"cho", "hoi"},
	{"cho", "toi", "hoi"}, {"cho", "chi", "hoi"}, {"cho", "anh", "hoi"}, {"hoi", "chut"}, {"there"}, {"ok"},
	{"chut"}, {"xiu"}, {"ti"},
}

// fillers open messages with or without a greeting: they are skipped but
// say nothing of one.
var fillers = map[string]bool{"em": true, "minh": true, "chi": true, "anh": true, "ban": true, "ok": true, "chut": true, "xiu": true, "ti": true}

// afterGreeting returns words without the greeting and filler they open
// with, or nil when they open with none.
func afterGreeting(words []string) []string {
	rest := words
	greeted := false
	for changed := true; changed && len(rest) > 0; {
		changed = false
		for _, g := range greetings {
			if len(rest) >= len(g) && hasPrefix(rest, g) {
				rest = rest[len(g):]
				greeted, changed = greeted || !fillers[g[0]], true
				break
			}
		}
	}
	if !greeted {
		return nil
	}
	return rest
}

// prepare turns a message into the words the classifier reads: entities
// masked, folded, shorthand expanded. It also reports a negated buying verb.
func (c *Classifier) prepare(text string) ([]string, bool) {
	folded := crm.Fold(text)
	return c.prepareFolded(folded, countDigits(folded))
}

// mayHaveRef says whether folded text may hold an order reference: a "#",
// or digits and a word that names an order. Most messages do not, and are
// spared the reference's regular expression.
func mayHaveRef(folded string, digits int) bool {
	if strings.Contains(folded, "#") {
		return true
	}
	return digits >= 3 && (strings.Contains(folded, "don") || strings.Contains(folded, "order") || strings.Contains(folded, "ma "))
}

func countDigits(s string) int {
	n := 0
	for i := 0; i < len(s); i++ {
		if s[i] >= '0' && s[i] <= '9' {
			n++
		}
	}
	return n
}

// prepareFolded is prepare on folded text; digits is how many digits it has
// (0: none, so no phone, reference or amount to mask).
func (c *Classifier) prepareFolded(folded string, digits int) ([]string, bool) {
	// Emails and phones first: "mua.hang@congtyabc.vn" is not "mua".
	if strings.Contains(folded, "@") {
		var b strings.Builder
		for i, f := range strings.Fields(folded) {
			if i > 0 {
				b.WriteByte(' ')
			}
			if strings.Contains(f, "@") && crm.FindEmail(f) != "" {
				b.WriteString(tokEmail)
				continue
			}
			b.WriteString(f)
		}
		folded = b.String()
	}
	if digits >= 9 {
		folded = phoneRe.ReplaceAllString(folded, " "+tokPhone+" ")
	}
	folded = apostrophes.Replace(folded)
	if mayHaveRef(folded, digits) {
		folded = refRe.ReplaceAllStringFunc(folded, func(m string) string {
			if strings.HasPrefix(m, "#") {
				return " " + tokRef + " "
			}
			// "đơn DH1234": keep the word that says it is an order.
			return strings.Fields(m)[0] + " " + tokRef + " "
		})
	}
	padded := " " + strings.Join(crm.Words(folded), " ") + " "
	if c.catalog != nil {
		padded = c.catalog.MaskPadded(padded, tokProduct)
	}
	raw := crm.Words(padded)
	words := make([]string, 0, len(raw))
	for i := 0; i < len(raw); i++ {
		w := raw[i]
		if strings.ContainsAny(w, "0123456789") {
			tok := tokNumber
			if moneyWord(w) {
				tok = tokMoney
			} else if i+1 < len(raw) && moneyUnit[raw[i+1]] {
				tok = tokMoney
				i++
			}
			words = append(words, tok)
			continue
		}
		words = append(words, w)
	}
	words = normalizeWords(words)
	return words, negated(words)
}

// moneyUnit are words after a number that make it an amount of money.
var moneyUnit = map[string]bool{"trieu": true, "tr": true, "cu": true, "nghin": true, "ngan": true, "k": true, "million": true,
	"m": true, "dong": true, "vnd": true, "d": true, "ty": true, "xi": true, "lit": true, "usd": true}

func moneyWord(w string) bool {
	for _, u := range []string{"k", "tr", "trieu", "m", "d", "vnd", "ty", "cu"} {
		if strings.HasSuffix(w, u) && w[0] >= '0' && w[0] <= '9' {
			return true
		}
	}
	return strings.Contains(w, "tr") && w[0] >= '0' && w[0] <= '9' // "1tr5"
}

// Negation words and the buying verbs they turn into a refusal when they
// come just before them ("ko mua", "chưa cần", "thôi không lấy"); a
// "không" after the verb asks a question ("mua được không").
var (
	negWords  = map[string]bool{"khong": true, "chua": true, "thoi": true, "dung": true, "not": true, "no": true, "never": true, "chang": true, "cha": true}
	buyVerbs  = map[string]bool{"mua": true, "lay": true, "can": true, "dat": true, "chot": true, "buy": true, "need": true, "want": true, "order": true, "interested": true, "muon": true, "thich": true}
	negFeat   = "neg_buy"
	negWindow = 3
)

func negated(words []string) bool {
	for i, w := range words {
		if !negWords[w] {
			continue
		}
		for j := i + 1; j < len(words) && j <= i+negWindow; j++ {
			if buyVerbs[words[j]] {
				return true
			}
		}
	}
	return false
}

// stopWords say little of the intent alone (pronouns, particles, English
// function words): they count in bigrams, and a little alone.
var stopWords = map[string]bool{
	"the": true, "a": true, "an": true, "is": true, "are": true, "you": true, "i": true, "my": true, "me": true, "it": true,
	"to": true, "of": true, "for": true, "do": true, "can": true, "this": true, "that": true, "am": true, "be": true, "your": true,
	"shop": true, "minh": true, "em": true, "ban": true, "anh": true, "chi": true, "toi": true, "cho": true, "vay": true,
	"voi": true, "nhe": true, "roi": true, "la": true, "thi": true, "ma": true, "cai": true, "nay": true, "would": true, "like": true, "please": true, "shop_": true,
}

// feature is a hashed n-gram with the weight of its kind; hashing spares a
// string per n-gram (a message has a hundred or so).
type feature struct {
	h uint64
	w float64
}

type weighted struct {
	idx int32
	w   float64
}

// FNV-1a, 64 bits, over a kind byte and the n-gram's bytes.
const (
	fnvOffset = 14695981039346656037
	fnvPrime  = 1099511628211
)

func hashOf(kind byte, parts ...string) uint64 {
	h := uint64(fnvOffset)
	h = (h ^ uint64(kind)) * fnvPrime
	for i, p := range parts {
		if i > 0 {
			h = (h ^ ' ') * fnvPrime
		}
		for j := 0; j < len(p); j++ {
			h = (h ^ uint64(p[j])) * fnvPrime
		}
	}
	return h
}

// hashNgram hashes the n bytes of "<"+w+">" from k, without building it.
func hashNgram(w string, k, n int) uint64 {
	h := uint64(fnvOffset)
	h = (h ^ 'c') * fnvPrime
	for j := k; j < k+n; j++ {
		var b byte
		switch {
		case j == 0:
			b = '<'
		case j == len(w)+1:
			b = '>'
		default:
			b = w[j-1]
		}
		h = (h ^ uint64(b)) * fnvPrime
	}
	return h
}

// features are a message's word unigrams and bigrams and the character
// 3- and 4-grams of each word (typos and missing diacritics keep most of
// them), each with a weight for its kind.
func features(words []string) []feature {
	fs := make([]feature, 0, 16*len(words)+1)
	for i, w := range words {
		if i+1 < len(words) {
			fs = append(fs, feature{hashOf('b', w, words[i+1]), 1})
		}
		if stopWords[w] {
			fs = append(fs, feature{hashOf('w', w), 0.3})
			continue
		}
		fs = append(fs, feature{hashOf('w', w), 1})
		if strings.HasPrefix(w, "x") && (w == tokProduct || w == tokNumber || w == tokMoney || w == tokPhone || w == tokEmail || w == tokRef) {
			continue
		}
		for n := 3; n <= 4; n++ {
			for k := 0; k+n <= len(w)+2; k++ {
				fs = append(fs, feature{hashNgram(w, k, n), 0.35})
			}
		}
	}
	if negated(words) {
		fs = append(fs, feature{hashOf('n', negFeat), 2})
	}
	return fs
}

// vector is fs weighted by tf-idf (sublinear tf), L2-normalised, with
// features the examples never had left out.
func (c *Classifier) vector(fs []feature) []weighted {
	out := make([]weighted, 0, len(fs))
	for _, f := range fs {
		if i, ok := c.vocab[f.h]; ok {
			out = append(out, weighted{i, f.w})
		}
	}
	if len(out) == 0 {
		return nil
	}
	slices.SortFunc(out, func(a, b weighted) int { return int(a.idx) - int(b.idx) })
	// Merge repeats: tf counts them, the kind's weight is the first's.
	merged := out[:0]
	var tf []float64
	for _, w := range out {
		if n := len(merged); n > 0 && merged[n-1].idx == w.idx {
			tf[n-1]++
			continue
		}
		merged = append(merged, w)
		tf = append(tf, 1)
	}
	var norm float64
	for k := range merged {
		w := (1 + math.Log(tf[k])) * c.idf[merged[k].idx] * merged[k].w
		merged[k].w = w
		norm += w * w
	}
	norm = math.Sqrt(norm)
	for k := range merged {
		merged[k].w /= norm
	}
	return merged
}

// simBuf is classify's scratch: a similarity per example, and the
// examples given one.
type simBuf struct {
	sims    []float64
	touched []int32
}

// classify scores each intent by its three nearest examples (cosine,
// weighted 1, ½, ¼), so that one lucky example does not outvote an intent
// many examples agree on.
func (c *Classifier) classify(words []string) Prediction {
	if !slices.ContainsFunc(words, func(w string) bool { return w != tokNumber && w != tokMoney }) {
		return Prediction{Intent: Unknown} // "123": nothing but a number
	}
	q := c.vector(features(words))
	if len(q) == 0 {
		return Prediction{Intent: Unknown}
	}
	buf := c.sims.Get().(*simBuf)
	sims, touched := buf.sims, buf.touched[:0]
	for _, w := range q {
		for _, p := range c.postings[w.idx] {
			if sims[p.example] == 0 {
				touched = append(touched, p.example)
			}
			sims[p.example] += w.w * float64(p.weight)
		}
	}
	top := make([][3]float64, len(c.intents))
	// Only the examples a feature reached: the top three of an intent are
	// the same whatever the order they are met in.
	for _, e := range touched {
		s := sims[e]
		sims[e] = 0
		if s <= 0 {
			continue
		}
		t := &top[c.example[e]]
		switch {
		case s > t[0]:
			t[0], t[1], t[2] = s, t[0], t[1]
		case s > t[1]:
			t[1], t[2] = s, t[1]
		case s > t[2]:
			t[2] = s
		}
	}
	buf.touched = touched
	c.sims.Put(buf)
	best, second := -1, -1
	scores := make([]float64, len(c.intents))
	for i, t := range top {
		scores[i] = (t[0] + 0.5*t[1] + 0.25*t[2]) / 1.75
		switch {
		case best < 0 || scores[i] > scores[best]:
			best, second = i, best
		case second < 0 || scores[i] > scores[second]:
			second = i
		}
	}
	p := Prediction{Intent: c.intents[best], Confidence: scores[best]}
	if second >= 0 {
		p.Runner, p.RunnerScore = c.intents[second], scores[second]
	}
	if p.Confidence <= 0 {
		p.Intent = Unknown
	}
	return p
}

// optOutWords turn offers off ("tắt", "đừng gửi", "stop"); without one, a
// message between opt_in and opt_out asks for offers.
var optOutWords = map[string]bool{"tat": true, "dung": true, "ngung": true, "ngat": true, "huy": true, "stop": true, "unsubscribe": true,
	"unsub": true, "khong": true, "no": true, "not": true, "bo": true, "chan": true, "block": true, "spam": true}

// tieBreak settles by keyword rules what examples cannot: whether offers
// go on or off is one word ("bật" or "tắt" khuyến mãi).
func tieBreak(p Prediction, words []string) Prediction {
	if p.Intent == "refuse" && objectsToPrice(words) {
		// "mắc quá, ko mua đâu": a refusal because of the price, which
		// cheaper products may still answer.
		p.Intent, p.Runner, p.RunnerScore = "price_objection", "refuse", p.Confidence
		return p
	}
	if p.Intent == "refuse" && p.Runner == "opt_out" && p.RunnerScore >= 0.9*p.Confidence && stopsMessages(words) {
		// "mình không mua nữa, đừng nhắn nữa": the refusal ends with
		// asking for no more messages.
		p.Intent, p.Runner = "opt_out", "refuse"
		p.Confidence, p.RunnerScore = p.RunnerScore, p.Confidence
		return p
	}
	if p.Intent == "opt_out" && !optOutCue(words) {
		// Turning offers off takes words that say so; "can I send it
		// back if I don't like it" does not.
		p.Intent, p.Confidence, p.Runner, p.RunnerScore = p.Runner, p.RunnerScore, "opt_out", p.Confidence
		if p.Intent == "" {
			p.Intent = Unknown
		}
		return p
	}
	if p.Intent != "opt_in" && p.Intent != "opt_out" {
		return p
	}
	off := false
	for i, w := range words {
		// A closing "không" asks a question ("gửi khuyến mãi không").
		off = off || optOutWords[w] && (w != "khong" || i < len(words)-1)
	}
	switch {
	case p.Intent == "opt_in" && off:
		p.Intent, p.Runner, p.RunnerScore = "opt_out", "opt_in", p.Confidence
	case p.Intent == "opt_out" && !off && p.Runner == "opt_in":
		p.Intent, p.Runner = "opt_in", "opt_out"
		p.Confidence, p.RunnerScore = p.RunnerScore, p.Confidence
	}
	return p
}

// optOutCues are the words (and pairs) without which no message turns
// offers off.
var (
	optOutCueWords = map[string]bool{"stop": true, "unsubscribe": true, "unsub": true, "opt": true, "dung": true, "ngung": true, "tat": true,
		"huy": true, "spam": true, "phien": true, "block": true, "chan": true, "ngat": true}
	optOutCuePairs = [][2]string{{"not", "send"}, {"no", "more"}, {"khong", "nhan"}, {"khong", "muon"}, {"khong", "can"}, {"bo", "theo"}, {"not", "want"}}
)

// stopsMessages reports words asking for no more messages: "đừng nhắn",
// "đừng gửi", "stop", "unsubscribe".
func stopsMessages(words []string) bool {
	for i, w := range words {
		switch w {
		case "stop", "unsubscribe", "unsub", "spam":
			return true
		case "dung", "ngung":
			if i+1 < len(words) && (words[i+1] == "nhan" || words[i+1] == "gui" || words[i+1] == "spam") {
				return true
			}
		}
	}
	return false
}

func optOutCue(words []string) bool {
	for i, w := range words {
		if optOutCueWords[w] {
			return true
		}
		if i+1 < len(words) {
			for _, p := range optOutCuePairs {
				if w == p[0] && words[i+1] == p[1] {
					return true
				}
			}
		}
	}
	return false
}

// objectsToPrice reports words that say the price is too high: "mắc",
// "chát", "đắt quá" ("đặt" folds to the same "dat", so "dat" needs the word
// after it), "expensive".
func objectsToPrice(words []string) bool {
	for i, w := range words {
		switch w {
		case "mac", "chat", "expensive", "pricey", "costly":
			return true
		case "dat":
			if i+1 < len(words) && (words[i+1] == "qua" || words[i+1] == "the" || words[i+1] == "vay" || words[i+1] == "vl" || words[i+1] == "wa") {
				return true
			}
		}
	}
	return false
}

// MinConfidence is how sure the classifier must be for the bot to act on
// its intent; below it the bot asks a short question or offers a person.
const MinConfidence = 0.3

// SureMargin is how far ahead of the runner-up a guess below SureAlone must
// be: "hàng" alone reads as warranty and as buying nearly alike.
const (
	SureMargin = 0.02
	SureAlone  = 0.5
)

// Sure reports whether p is confident enough to act on.
func (c *Classifier) Sure(p Prediction) bool {
	if p.Intent == Unknown || p.Confidence < MinConfidence {
		return false
	}
	return p.Confidence >= SureAlone || p.Confidence-p.RunnerScore >= SureMargin
}

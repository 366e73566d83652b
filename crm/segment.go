package crm

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/vm"
	"go.yaml.in/yaml/v3"
)

// Default segment names. Rule files may define others.
const (
	SegmentBusiness  = "business"
	SegmentVIP       = "vip"
	SegmentAtRisk    = "at_risk"
	SegmentLoyal     = "loyal"
	SegmentPotential = "potential"
	SegmentNew       = "new"
)

// Facts is what segment rules and offer eligibility expressions see of a
// customer. Field names in expressions are the expr tags.
type Facts struct {
	DaysSinceFirstContact float64  `expr:"days_since_first_contact"`
	DaysSinceLastMessage  float64  `expr:"days_since_last_message"`
	DaysSinceLastOrder    float64  `expr:"days_since_last_order"` // 0 without orders
	OrderCount            int      `expr:"order_count"`
	TotalSpent            float64  `expr:"total_spent"` // VND
	AvgOrderValue         float64  `expr:"avg_order_value"`
	AvgOrderIntervalDays  float64  `expr:"avg_order_interval_days"` // 0 with < 2 orders
	Messages30d           int      `expr:"messages_30d"`
	Interests             []string `expr:"interests"`
	// Bought are the products of the customer's order lines: `"iphone-15"
	// in bought && !("op-lung-ip15" in bought)` targets the next stage.
	Bought         []string `expr:"bought"`
	Tags           []string `expr:"tags"`
	IsBusiness     bool     `expr:"is_business"`
	OptedOut       bool     `expr:"opted_out"`
	HasPhone       bool     `expr:"has_phone"`
	Segment        string   `expr:"segment"` // current segment (offers)
	Language       string   `expr:"language"`
	Source         string   `expr:"source"`
	OffersAccepted int      `expr:"offers_accepted"`
	// Sentiment is the latest the LLM read ("positive", "neutral",
	// "negative"), "" without an LLM.
	Sentiment string `expr:"sentiment"`
}

// FactsOf computes a customer's facts at now.
func FactsOf(c *Customer, now time.Time) Facts {
	s := &c.Stats
	f := Facts{
		OrderCount:           s.Orders,
		TotalSpent:           float64(s.TotalSpent),
		AvgOrderValue:        float64(s.AvgOrderValue()),
		AvgOrderIntervalDays: math.Round(s.AvgOrderIntervalDays()*10) / 10,
		Messages30d:          s.Messages30d(now),
		Interests:            append([]string{}, c.Interests...),
		Bought:               append([]string{}, c.Bought...),
		Tags:                 append([]string{}, c.Tags...),
		IsBusiness:           c.IsBusiness,
		OptedOut:             c.Consent.OptedOut,
		HasPhone:             c.Phone != "",
		Segment:              c.Segment.Name,
		Language:             c.Language,
		Source:               c.Source,
		OffersAccepted:       s.OffersTaken,
		Sentiment:            c.Sentiment,
	}
	first := s.FirstSeen
	if first.IsZero() {
		first = c.CreatedAt
	}
	f.DaysSinceFirstContact = days(now, first)
	f.DaysSinceLastMessage = days(now, s.LastSeen)
	if s.Orders > 0 {
		f.DaysSinceLastOrder = days(now, s.LastOrder)
	}
	return f
}

func days(now, t time.Time) float64 {
	if t.IsZero() || now.Before(t) {
		return 0
	}
	return math.Floor(now.Sub(t).Hours()/24*10) / 10
}

// SegmentRule is one rule of a segments file.
type SegmentRule struct {
	Name        string            `yaml:"name" json:"name"`
	Label       map[string]string `yaml:"label,omitempty" json:"label,omitempty"`
	Description string            `yaml:"description,omitempty" json:"description,omitempty"`
	Rule        string            `yaml:"rule" json:"rule"`
	program     *vm.Program
}

// Segments is a compiled, ordered rule set: the first rule that matches is
// the customer's segment. The last rule should match everyone.
type Segments struct {
	Rules []*SegmentRule
}

type segmentsFile struct {
	Segments []*SegmentRule `yaml:"segments"`
}

// ParseSegments compiles a segments file. Errors name the file, the rule and
// the reason, so a bad rule stops start-up with a message a user can act on.
func ParseSegments(file string, data []byte) (*Segments, error) {
	var f segmentsFile
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil {
		return nil, Errorf(EINVALID, "%s: %v", file, err)
	}
	return NewSegments(file, f.Segments)
}

// NewSegments compiles rules; file names the source in error messages.
func NewSegments(file string, rules []*SegmentRule) (*Segments, error) {
	if len(rules) == 0 {
		return nil, Errorf(EINVALID, "%s: no segments defined", file)
	}
	seen := map[string]bool{}
	out := &Segments{}
	for i, r := range rules {
		if r == nil || r.Name == "" {
			return nil, Errorf(EINVALID, "%s: segment #%d: name is required", file, i+1)
		}
		if seen[r.Name] {
			return nil, Errorf(EINVALID, "%s: segment %q: defined twice", file, r.Name)
		}
		seen[r.Name] = true
		prog, err := CompileRule(r.Rule)
		if err != nil {
			return nil, Errorf(EINVALID, "%s: segment %q: rule %q: %v", file, r.Name, r.Rule, err)
		}
		cp := *r
		cp.program = prog
		out.Rules = append(out.Rules, &cp)
	}
	return out, nil
}

// CompileRule compiles a boolean expression over Facts.
func CompileRule(src string) (*vm.Program, error) {
	if src == "" {
		return nil, fmt.Errorf("empty rule")
	}
	return expr.Compile(src, expr.Env(Facts{}), expr.AsBool())
}

// EvalRule runs a compiled rule on facts.
func EvalRule(p *vm.Program, f Facts) (bool, error) {
	r := ruleRun{facts: f}
	return r.eval(p)
}

// ruleRun runs rules on one customer's facts with one machine, the facts
// boxed once for all of them: a turn runs the segment rules and the offers'
// eligibility, and a fresh machine and a boxed copy of the facts for each
// rule were most of their allocations.
type ruleRun struct {
	facts Facts
	boxed any
	m     vm.VM
}

func (r *ruleRun) eval(p *vm.Program) (bool, error) {
	if p == nil {
		return false, errors.New("program is nil") // as expr.Run says it
	}
	if r.boxed == nil {
		r.boxed = r.facts
	}
	v, err := r.m.Run(p, r.boxed)
	if err != nil {
		return false, err
	}
	b, _ := v.(bool)
	return b, nil
}

// Names returns the segment names in rule order.
func (s *Segments) Names() []string {
	out := make([]string, len(s.Rules))
	for i, r := range s.Rules {
		out[i] = r.Name
	}
	return out
}

// Rule returns the named rule, or nil.
func (s *Segments) Rule(name string) *SegmentRule {
	for _, r := range s.Rules {
		if r.Name == name {
			return r
		}
	}
	return nil
}

// Classify returns the segment the rules put c in at now. A rule that fails
// at run time is skipped (and reported in err) so one bad rule cannot stop
// the conversation; with no match the last segment is used.
func (s *Segments) Classify(c *Customer, now time.Time) (SegmentAssignment, error) {
	run := ruleRun{facts: FactsOf(c, now)}
	var firstErr error
	for _, r := range s.Rules {
		ok, err := run.eval(r.program)
		if err != nil {
			if firstErr == nil {
				firstErr = fmt.Errorf("segment %q: %w", r.Name, err)
			}
			continue
		}
		if ok {
			return SegmentAssignment{Name: r.Name, Rule: r.Rule, Since: now}, firstErr
		}
	}
	last := s.Rules[len(s.Rules)-1]
	return SegmentAssignment{Name: last.Name, Rule: last.Rule, Since: now}, firstErr
}

// Apply classifies c and updates its segment; it returns the change, or nil
// when the customer stays where they were (Since is then kept).
func (s *Segments) Apply(c *Customer, now time.Time, cause string) *SegmentChange {
	a, _ := s.Classify(c, now)
	if a.Name == c.Segment.Name {
		c.Segment.Rule = a.Rule
		return nil
	}
	ch := &SegmentChange{CustomerID: c.ID, Time: now, From: c.Segment.Name, To: a.Name, Rule: a.Rule, Cause: cause}
	c.Segment = a
	return ch
}

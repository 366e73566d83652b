package bot

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/idicbot/idicbot/crm"
	"go.yaml.in/yaml/v3"
)

// segmentsDoc is the segments.yaml shape.
type segmentsDoc struct {
	Segments []*crm.SegmentRule `yaml:"segments"`
}

// SegmentInfo is one segment as an admin sees it.
type SegmentInfo struct {
	Name        string            `json:"name"`
	Label       map[string]string `json:"label,omitempty"`
	Description string            `json:"description,omitempty"`
	Rule        string            `json:"rule"`
	// Position is the rule's place in evaluation order (1 first).
	Position int `json:"position"`
	// Count is the number of customers in the segment now.
	Count int64 `json:"count"`
}

// SegmentRuleChange records one saved rule change.
type SegmentRuleChange = crm.SegmentRuleChange

// SegmentAdmin is the editing of segment rules: listing with counts,
// history, previews and saves with conflict checks. It is a use case of its
// own beside the conversation (Core), which only reads the live rules; a
// save makes the new rules live here (makeLive), moves every customer the
// new rules place elsewhere (sweep) and tells other processes (publish).
type SegmentAdmin struct {
	store    crm.Store
	segments interface{ Load() *crm.Segments }
	now      func() time.Time
	log      *slog.Logger
	// makeLive replaces the live rules old by next; when they are no longer
	// old (another save or a reload came first), it loads the stored ones.
	makeLive func(ctx context.Context, old, next *crm.Segments) error
	sweep    func(ctx context.Context) (int, error)
	publish  func(ctx context.Context, topic string)
}

// SegmentAdmin returns the segment-rule editing of the core's store, whose
// saves make rules live in c and sweep c's customers.
func (c *Core) SegmentAdmin() *SegmentAdmin {
	return &SegmentAdmin{store: c.store, segments: &c.segments, now: c.now, log: c.log,
		makeLive: c.swapSegments, sweep: c.Sweep, publish: c.publish}
}

// LoadSegmentRules makes the stored rule set live when an admin has edited
// the rules before; without one the rules from the file given to New stay.
// Call it once after New, before serving; RunReloads calls it again when
// another process saved rules.
func (c *Core) LoadSegmentRules(ctx context.Context) error {
	c.reload.Lock()
	defer c.reload.Unlock()
	var data []byte
	if err := c.store.View(ctx, func(tx crm.Tx) error {
		var err error
		data, err = tx.SegmentRules()
		return err
	}); err != nil {
		return fmt.Errorf("load segment rules: %w", err)
	}
	if data == nil {
		return nil
	}
	segs, err := crm.ParseSegments("stored segment rules", data)
	if err != nil {
		return fmt.Errorf("load segment rules: %w", err)
	}
	c.segments.Store(segs)
	return nil
}

// swapSegments makes next the live rules if old still is, under the reload
// lock; otherwise another save or a reload swapped them since old was read,
// and the store has the newest set.
func (c *Core) swapSegments(ctx context.Context, old, next *crm.Segments) error {
	c.reload.Lock()
	swapped := c.segments.CompareAndSwap(old, next)
	c.reload.Unlock()
	if swapped {
		return nil
	}
	return c.LoadSegmentRules(ctx)
}

// SegmentList returns the live segments in rule order with their counts.
func (c *SegmentAdmin) SegmentList(ctx context.Context) ([]*SegmentInfo, error) {
	segs := c.segments.Load()
	var out []*SegmentInfo
	err := c.store.View(ctx, func(tx crm.Tx) error {
		out = out[:0]
		for i, r := range segs.Rules {
			n, err := tx.SegmentCount(r.Name)
			if err != nil {
				return err
			}
			out = append(out, &SegmentInfo{Name: r.Name, Label: r.Label, Description: r.Description, Rule: r.Rule, Position: i + 1, Count: n})
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list segments: %w", err)
	}
	return out, nil
}

// SegmentHistory returns the recorded rule changes, newest first.
func (c *SegmentAdmin) SegmentHistory(ctx context.Context) ([]SegmentRuleChange, error) {
	var hist []SegmentRuleChange
	err := c.store.View(ctx, func(tx crm.Tx) error {
		var err error
		hist, err = readSegmentHistory(tx)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("segment history: %w", err)
	}
	out := make([]SegmentRuleChange, len(hist))
	for i, h := range hist {
		out[len(hist)-1-i] = h
	}
	return out, nil
}

func readSegmentHistory(tx crm.Settings) ([]SegmentRuleChange, error) {
	return tx.SegmentRuleChanges()
}

// withRule returns a copy of the rule set with segment name's rule
// replaced, compiled. A rule that does not compile is EINVALID with the
// reason.
func withRule(segs *crm.Segments, name, rule string) (*crm.Segments, error) {
	if segs.Rule(name) == nil {
		return nil, crm.Errorf(crm.ENOTFOUND, "Segment %q not found.", name)
	}
	rule = strings.TrimSpace(rule)
	if rule == "" {
		return nil, crm.Errorf(crm.EINVALID, "segment %s: rule is required", name)
	}
	if _, err := crm.CompileRule(rule); err != nil {
		p := crm.RuleProblem("rule", err)
		if p.Line > 0 {
			return nil, crm.Errorf(crm.EINVALID, "segment %s: rule line %d column %d: %s", name, p.Line, p.Column, p.Message)
		}
		return nil, crm.Errorf(crm.EINVALID, "segment %s: rule: %s", name, p.Message)
	}
	rules := make([]*crm.SegmentRule, len(segs.Rules))
	for i, r := range segs.Rules {
		cp := &crm.SegmentRule{Name: r.Name, Label: r.Label, Description: r.Description, Rule: r.Rule}
		if r.Name == name {
			cp.Rule = rule
		}
		rules[i] = cp
	}
	return crm.NewSegments("segment rules", rules)
}

// SegmentPreview says what a new rule would do to the customers now.
type SegmentPreview struct {
	Segment string `json:"segment"`
	Rule    string `json:"rule"`
	// Current is how many customers the live rules put in the segment;
	// After how many the new rule would.
	Current int `json:"current"`
	After   int `json:"after"`
	// In and Out count the customers who would move into and out of it.
	In  int `json:"in"`
	Out int `json:"out"`
	// Moves counts every move "from → to" the change would cause (a
	// customer leaving the segment lands in another one).
	Moves map[string]int `json:"moves"`
	// Customers is the number of customers evaluated.
	Customers int `json:"customers"`
}

// PreviewSegmentRule evaluates a new rule for segment name over every
// customer, without changing anything.
func (c *SegmentAdmin) PreviewSegmentRule(ctx context.Context, name, rule string) (*SegmentPreview, error) {
	cur := c.segments.Load()
	next, err := withRule(cur, name, rule)
	if err != nil {
		return nil, err
	}
	now := c.now()
	p := &SegmentPreview{Segment: name, Rule: strings.TrimSpace(rule), Moves: map[string]int{}}
	err = c.store.View(ctx, func(tx crm.Tx) error {
		return tx.ForEachCustomer(func(cu *crm.Customer) error {
			p.Customers++
			a, _ := cur.Classify(cu, now)
			b, _ := next.Classify(cu, now)
			if a.Name == name {
				p.Current++
			}
			if b.Name == name {
				p.After++
			}
			if a.Name != b.Name {
				p.Moves[a.Name+" → "+b.Name]++
				switch name {
				case a.Name:
					p.Out++
				case b.Name:
					p.In++
				}
			}
			return ctx.Err()
		})
	})
	if err != nil {
		return nil, fmt.Errorf("preview segment %s: %w", name, err)
	}
	return p, nil
}

// SegmentSave is the result of SaveSegmentRule.
type SegmentSave struct {
	Segment *SegmentInfo `json:"segment"`
	// Moved is how many customers moved segment when the new rules were
	// applied to everyone.
	Moved int `json:"moved"`
}

// SaveSegmentRule replaces segment name's rule. expectedRule is the rule
// the edit started from: if the stored rule differs, someone else changed
// it and the save is refused with ECONFLICT. The new rule set is stored,
// made live for the next event, recorded with who and when, and applied to
// every customer at once (a sweep).
func (c *SegmentAdmin) SaveSegmentRule(ctx context.Context, name, rule, expectedRule, who, origin string) (*SegmentSave, error) {
	live := c.segments.Load()
	if _, err := withRule(live, name, rule); err != nil {
		return nil, err
	}
	rule = strings.TrimSpace(rule)
	var next *crm.Segments
	changed := false
	err := c.store.Update(ctx, func(tx crm.Tx) error {
		next, changed = nil, false
		// The stored rules are the truth when there are some: another
		// admin's save of another segment must not be lost.
		base := live
		if data, err := tx.SegmentRules(); err != nil {
			return err
		} else if data != nil {
			if base, err = crm.ParseSegments("stored segment rules", data); err != nil {
				return err
			}
		}
		r := base.Rule(name)
		if r == nil {
			return crm.Errorf(crm.ENOTFOUND, "Segment %q not found.", name)
		}
		if strings.TrimSpace(r.Rule) != strings.TrimSpace(expectedRule) {
			return crm.Errorf(crm.ECONFLICT, "The rule of segment %q was changed meanwhile: it is now %q. Reload and apply your change again.", name, r.Rule)
		}
		if r.Rule == rule {
			next = base
			return nil
		}
		var err error
		if next, err = withRule(base, name, rule); err != nil {
			return err
		}
		data, err := segmentsYAML(next)
		if err != nil {
			return err
		}
		if err := tx.PutSegmentRules(data); err != nil {
			return err
		}
		hist, err := readSegmentHistory(tx)
		if err != nil {
			return err
		}
		hist = append(hist, SegmentRuleChange{Time: c.now(), By: who, Origin: origin, Segment: name, From: r.Rule, To: rule})
		changed = true
		return tx.PutSegmentRuleChanges(hist)
	})
	if err != nil {
		return nil, fmt.Errorf("save segment %s: %w", name, err)
	}
	res := &SegmentSave{}
	if changed {
		if err := c.makeLive(ctx, live, next); err != nil {
			return nil, err
		}
		c.publish(ctx, TopicSegments)
		c.log.Info("segment rule saved", "segment", name, "by", who, "origin", origin)
		moved, err := c.sweep(ctx)
		if err != nil {
			return nil, err
		}
		res.Moved = moved
		if err := c.store.Update(ctx, func(tx crm.Tx) error {
			hist, err := readSegmentHistory(tx)
			if err != nil || len(hist) == 0 {
				return err
			}
			last := &hist[len(hist)-1]
			if last.Segment != name || last.To != rule {
				return nil
			}
			last.Moved = moved
			return tx.PutSegmentRuleChanges(hist)
		}); err != nil {
			return nil, fmt.Errorf("save segment %s: %w", name, err)
		}
	}
	list, err := c.SegmentList(ctx)
	if err != nil {
		return nil, err
	}
	for _, s := range list {
		if s.Name == name {
			res.Segment = s
		}
	}
	return res, nil
}

// segmentsYAML writes a rule set in the segments.yaml shape.
func segmentsYAML(s *crm.Segments) ([]byte, error) {
	doc := segmentsDoc{}
	for _, r := range s.Rules {
		doc.Segments = append(doc.Segments, &crm.SegmentRule{Name: r.Name, Label: r.Label, Description: r.Description, Rule: r.Rule})
	}
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(doc); err != nil {
		return nil, err
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

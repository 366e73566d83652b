package bot

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/idicbot/idicbot/crm"
)

// Conversation returns the interactions of the chat of the customer known
// on a channel as userID — that chat's only, even when the customer was
// merged with others — both directions, oldest first, with id > after (at
// most limit; 0 means all). An unknown user has an empty conversation.
func (c *Core) Conversation(ctx context.Context, ch crm.Channel, userID string, after crm.ID, limit int) ([]*crm.Interaction, error) {
	var out []*crm.Interaction
	err := c.store.View(ctx, func(tx crm.Tx) error {
		cust, err := tx.FindCustomerByIdentity(ch, userID)
		if err != nil || cust == nil {
			return err
		}
		all, err := tx.Interactions(cust.ID, after, 0)
		if err != nil {
			return err
		}
		chat := userID
		if id := cust.Identity(ch, userID); id != nil && id.ChatID != "" {
			chat = id.ChatID
		}
		// A merged customer's history holds other channels and other
		// chats too (another web chat session, another device): show this
		// chat's conversation only. A web chat session reads nothing but
		// its own messages.
		for _, it := range all {
			if it.Channel == ch && it.ChatID == chat {
				out = append(out, it)
				if limit > 0 && len(out) == limit {
					break
				}
			}
		}
		return nil
	})
	return out, err
}

// Sweep recomputes every customer's segment at now, for customers whose
// situation changed only with time (loyal → at_risk). It returns how many
// customers moved.
func (c *Core) Sweep(ctx context.Context) (int, error) {
	segs := c.segments.Load()
	now := c.now()
	var moved []crm.ID
	err := c.store.View(ctx, func(tx crm.Tx) error {
		return tx.ForEachCustomer(func(cust *crm.Customer) error {
			if a, _ := segs.Classify(cust, now); a.Name != cust.Segment.Name {
				moved = append(moved, cust.ID)
			}
			return ctx.Err()
		})
	})
	if err != nil {
		return 0, fmt.Errorf("sweep: %w", err)
	}
	n := 0
	for start := 0; start < len(moved); start += 500 {
		batch := moved[start:min(start+500, len(moved))]
		var changes []*crm.SegmentChange
		err := c.store.Update(ctx, func(tx crm.Tx) error {
			changes = changes[:0]
			for _, id := range batch {
				cust, err := tx.Customer(id)
				if err != nil {
					return err
				}
				mv, err := moveSegment(tx, segs, cust, now, "sweep")
				if err != nil {
					return err
				}
				if mv == nil {
					continue
				}
				if err := tx.PutCustomer(cust); err != nil {
					return err
				}
				changes = append(changes, mv)
			}
			return nil
		})
		if err != nil {
			return n, fmt.Errorf("sweep: %w", err)
		}
		n += len(changes)
		c.countMoves(changes...)
	}
	if n > 0 {
		c.log.Info("segment sweep moved customers", "moved", n)
	}
	return n, nil
}

// RunSweeps sweeps every interval until ctx ends.
func (c *Core) RunSweeps(ctx context.Context, every time.Duration) {
	if every <= 0 {
		return
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if _, err := c.Sweep(ctx); err != nil && ctx.Err() == nil {
				c.log.Error("segment sweep", "err", err)
			}
		}
	}
}

func addCounter(tx crm.Tx, now time.Time, name string, n int64) error {
	return addCounterOf(tx, now, n, name)
}

// addCounterOf is addCounter of the name its parts make ("msg_in:", "web"):
// the per-day name ("d:20260102:msg_in:web") is built in one allocation
// and the total's name is its tail, where a concatenated name took one more
// on every message.
func addCounterOf(tx crm.Tx, now time.Time, n int64, parts ...string) error {
	var buf [96]byte
	day := append(buf[:0], "d:"...)
	day = now.UTC().AppendFormat(day, "20060102")
	day = append(day, ':')
	at := len(day)
	for _, p := range parts {
		day = append(day, p...)
	}
	s := string(day)
	if err := tx.AddCounter(s[at:], n); err != nil {
		return err
	}
	return tx.AddCounter(s, n)
}

// SendAsAgent sends a message a human wrote to a customer on the channel they
// last wrote from. It goes through the outbox like any reply.
func (c *Core) SendAsAgent(ctx context.Context, customer crm.ID, author, text string) (*crm.OutboxItem, error) {
	return c.SendAsAgentOnce(ctx, customer, author, text, "")
}

// agentMessages is the dedupe space of SendAsAgentOnce's keys.
const agentMessages crm.Channel = "agent"

// SendAsAgentOnce is SendAsAgent for a message its source may deliver more
// than once (Slack retries events, across our restarts too): key is the
// message's id at the source ("slack:<channel>:<ts>"), recorded in the same
// transaction, so a second delivery sends nothing and returns (nil, nil).
// An empty key sends every time.
func (c *Core) SendAsAgentOnce(ctx context.Context, customer crm.ID, author, text, key string) (*crm.OutboxItem, error) {
	text = strings.TrimSpace(text)
	if text == "" {
		return nil, crm.Errorf(crm.EINVALID, "message is empty")
	}
	var items []*crm.OutboxItem
	now := c.now()
	err := c.store.Update(ctx, func(tx crm.Tx) error {
		items = items[:0]
		if key != "" {
			if _, seen, err := tx.SeenMessage(agentMessages, key); err != nil || seen {
				return err
			}
		}
		cust, err := tx.Customer(customer)
		if err != nil {
			return err
		}
		id := lastReachable(tx, cust)
		if id == nil {
			return crm.Errorf(crm.EUNAVAILABLE, "%s cannot be reached on any channel", cust.DisplayName())
		}
		if err := c.enqueue(tx, cust, id.Channel, id.UserID, id.ChatID, now, outMessage{Text: text, Kind: crm.KindAgent, Author: author}, &items); err != nil {
			return err
		}
		if key != "" {
			if err := tx.MarkMessage(agentMessages, key, items[0].InteractionID); err != nil {
				return err
			}
		}
		return tx.PutCustomer(cust)
	})
	if err != nil {
		return nil, err
	}
	if len(items) == 0 {
		return nil, nil // delivered before
	}
	if c.disp != nil {
		c.disp.Enqueue(items...)
	}
	return items[0], nil
}

// lastReachable picks the identity the customer wrote from last, among the
// reachable ones.
func lastReachable(tx crm.Tx, cust *crm.Customer) *crm.Identity {
	recent, _ := tx.RecentInteractions(cust.ID, 20)
	for i := len(recent) - 1; i >= 0; i-- {
		if recent[i].Direction != crm.Inbound {
			continue
		}
		for j := range cust.Identities {
			id := &cust.Identities[j]
			if id.Channel == recent[i].Channel && !id.Unreachable {
				return id
			}
		}
	}
	for j := range cust.Identities {
		if !cust.Identities[j].Unreachable {
			return &cust.Identities[j]
		}
	}
	return nil
}

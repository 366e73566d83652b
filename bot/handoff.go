package bot

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/idicbot/idicbot/crm"
)

// This file holds a conversation handed to a person and back: the core's
// side of a handoff (the thread a rep tool discusses it in, taking and
// releasing it, the recent messages a rep reads to pick it up). They belong
// to the conversation, not to the reps' operations (Reps): while a rep has
// it, Handle sends that customer nothing automatic.

// SetHandoffThread records where a tool discusses a customer's handoff (for
// Slack "channel:ts") and makes it findable with CustomerByHandoffThread.
// It fails with ECONFLICT when the customer has no active handoff.
func (c *Core) SetHandoffThread(ctx context.Context, id crm.ID, thread string) (*crm.Customer, error) {
	if thread == "" {
		return nil, crm.Errorf(crm.EINVALID, "empty thread")
	}
	now := c.now()
	var cust *crm.Customer
	err := c.store.Update(ctx, func(tx crm.Tx) error {
		cu, err := tx.Customer(id)
		if err != nil {
			return err
		}
		if !cu.Handoff.Active {
			return crm.Errorf(crm.ECONFLICT, "%s is not waiting for a human any more.", cu.DisplayName()).Say("handoff_not_waiting", cu.DisplayName())
		}
		cu.Handoff.Thread = thread
		cu.UpdatedAt = now
		if err := tx.PutHandoffThread(thread, cu.ID); err != nil {
			return err
		}
		cust = cu
		return tx.PutCustomer(cu)
	})
	if err != nil {
		return nil, fmt.Errorf("set handoff thread of %d: %w", id, err)
	}
	return cust, nil
}

// CustomerByHandoffThread returns the customer whose active handoff is
// discussed in thread, or nil.
func (c *Core) CustomerByHandoffThread(ctx context.Context, thread string) (*crm.Customer, error) {
	var cust *crm.Customer
	err := c.store.View(ctx, func(tx crm.Tx) error {
		id, err := tx.HandoffThread(thread)
		if err != nil || id == 0 {
			return err
		}
		cu, err := tx.Customer(id)
		if crm.ErrorCode(err) == crm.ENOTFOUND {
			return nil
		} else if err != nil {
			return err
		}
		if cu.Handoff.Active && cu.Handoff.Thread == thread {
			cust = cu
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("handoff thread: %w", err)
	}
	return cust, nil
}

// TakeHandoff gives a customer's conversation to agent: from then on the bot
// sends that customer nothing automatic. Taking it again is a no-op; a
// conversation another agent has is an ECONFLICT error. A customer who did
// not ask for a human can be taken too (a rep steps in).
func (c *Core) TakeHandoff(ctx context.Context, id crm.ID, agent string) (*crm.Customer, error) {
	if agent == "" {
		return nil, crm.Errorf(crm.EINVALID, "agent is required")
	}
	now := c.now()
	var cu *crm.Customer
	err := c.store.Update(ctx, func(tx crm.Tx) error {
		cu = nil
		cust, err := tx.Customer(id)
		if err != nil {
			return err
		}
		h := &cust.Handoff
		if h.Active && h.Agent != "" && h.Agent != agent {
			return crm.Errorf(crm.ECONFLICT, "%s is already talking with %s.", AgentName(h.Agent), cust.DisplayName()).Say("handoff_taken", AgentName(h.Agent), cust.DisplayName())
		}
		if !h.Active {
			h.Active, h.RequestedAt, h.Thread = true, now, ""
			if err := tx.AppendEvent(&crm.Event{CustomerID: cust.ID, Time: now, Kind: crm.EventHandoff, Cause: "rep"}); err != nil {
				return err
			}
		}
		h.Agent, h.TakenAt = agent, now
		cust.UpdatedAt = now
		cu = cust
		return tx.PutCustomer(cust)
	})
	if err != nil {
		return nil, fmt.Errorf("take handoff of %d: %w", id, err)
	}
	return cu, nil
}

// ReleaseHandoff returns a customer to the bot. agent must be the one who
// has the conversation (or anyone while nobody took it); an empty agent
// releases regardless of who has it (admins). It returns the handoff as it
// was, so the caller can update the thread.
func (c *Core) ReleaseHandoff(ctx context.Context, id crm.ID, agent string) (crm.Handoff, error) {
	var before crm.Handoff
	now := c.now()
	err := c.store.Update(ctx, func(tx crm.Tx) error {
		cu, err := tx.Customer(id)
		if err != nil {
			return err
		}
		before = cu.Handoff
		h := cu.Handoff
		if !h.Active {
			return crm.Errorf(crm.ECONFLICT, "%s is already with the bot.", cu.DisplayName()).Say("handoff_with_bot", cu.DisplayName())
		}
		if agent != "" && h.Agent != "" && h.Agent != agent {
			return crm.Errorf(crm.ECONFLICT, "%s has this conversation; only they (or an admin) can hand it back.", AgentName(h.Agent)).Say("handoff_not_yours", AgentName(h.Agent))
		}
		if h.Thread != "" {
			if err := tx.PutHandoffThread(h.Thread, 0); err != nil {
				return err
			}
		}
		if err := tx.AppendEvent(&crm.Event{CustomerID: cu.ID, Time: now, Kind: crm.EventHandoffEnd, Cause: "released"}); err != nil {
			return err
		}
		cu.Handoff = crm.Handoff{}
		cu.UpdatedAt = now
		return tx.PutCustomer(cu)
	})
	if err != nil {
		return crm.Handoff{}, fmt.Errorf("release handoff of %d: %w", id, err)
	}
	return before, nil
}

// AgentName returns the display form of an agent reference: Slack agents
// ("slack:U123") as a Slack mention, others as they are.
func AgentName(agent string) string {
	if u, ok := strings.CutPrefix(agent, "slack:"); ok {
		return "<@" + u + ">"
	}
	return agent
}

// RecentWindow is how far back HandoffConversation looks.
const RecentWindow = 8

// HandoffConversation returns the customer and their last n interactions,
// oldest first: what a rep needs to pick up a handed-off conversation.
func (c *Core) HandoffConversation(ctx context.Context, id crm.ID, n int) (*crm.Customer, []*crm.Interaction, error) {
	if n <= 0 {
		n = RecentWindow
	}
	var cust *crm.Customer
	var recent []*crm.Interaction
	err := c.store.View(ctx, func(tx crm.Tx) error {
		var err error
		if cust, err = tx.Customer(id); err != nil {
			return err
		}
		recent, err = tx.RecentInteractions(cust.ID, n)
		return err
	})
	if err != nil {
		return nil, nil, fmt.Errorf("handoff conversation of %d: %w", id, err)
	}
	return cust, recent, nil
}

// Now returns the core's clock, so tools show times consistent with the data.
func (c *Core) Now() time.Time { return c.now() }

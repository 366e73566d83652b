package slack

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/idicbot/idicbot/crm"
)

// A phone or email a customer types is a claim; reps turn claims into
// identity on their own word, after a call or an order: /crm verify makes a
// customer's typed phone and email proven, /crm merge joins two records of
// one person. Both take customer ids only, so that exactly the records the
// rep looked at change.

// customerIDArg reads "42" or "#42".
func customerIDArg(s, sub string) (crm.ID, error) {
	n, err := strconv.ParseUint(strings.TrimPrefix(s, "#"), 10, 64)
	if err != nil || n == 0 {
		return 0, crm.Errorf(crm.EINVALID, "%q is not a customer id (find it with /crm find). Usage: /crm %s", s, builtins[sub].usage)
	}
	return crm.ID(n), nil
}

func (a *Adapter) cmdVerify(ctx context.Context, req Request) (*Reply, error) {
	if len(req.Args) != 1 {
		return nil, usageErr("verify")
	}
	id, err := customerIDArg(req.Args[0], "verify")
	if err != nil {
		return nil, err
	}
	cu, err := a.reps.ConfirmClaims(ctx, id, req.Agent)
	if err != nil {
		return nil, err
	}
	var what []string
	if cu.Phone != "" {
		what = append(what, "phone "+escape(cu.Phone))
	}
	if cu.Email != "" {
		what = append(what, "email "+escape(cu.Email))
	}
	return &Reply{Text: fmt.Sprintf("✅ %s (#%d): %s confirmed by <@%s>.", escape(cu.DisplayName()), cu.ID, strings.Join(what, ", "), req.UserID)}, nil
}

func (a *Adapter) cmdMerge(ctx context.Context, req Request) (*Reply, error) {
	if len(req.Args) != 2 {
		return nil, usageErr("merge")
	}
	keep, err := customerIDArg(req.Args[0], "merge")
	if err != nil {
		return nil, err
	}
	from, err := customerIDArg(req.Args[1], "merge")
	if err != nil {
		return nil, err
	}
	cu, err := a.reps.MergeCustomers(ctx, keep, from, req.Agent)
	if err != nil {
		return nil, err
	}
	return &Reply{Text: fmt.Sprintf("🔗 #%d is now part of %s (#%d): %d channel identities, %d messages, %d orders. Merged by <@%s>.",
		from, escape(cu.DisplayName()), cu.ID, len(cu.Identities), cu.Stats.MessagesIn, cu.Stats.Orders, req.UserID)}, nil
}

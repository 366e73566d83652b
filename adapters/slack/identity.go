package slack

import (
	"context"
	"strconv"
	"strings"

	"github.com/idicbot/idicbot/crm"
	"github.com/idicbot/idicbot/i18n"
)

// A phone or email a customer types is a claim; reps turn claims into
// identity on their own word, after a call or an order: /crm verify makes a
// customer's typed phone and email proven, /crm merge joins two records of
// one person. Both take customer ids only, so that exactly the records the
// rep looked at change.

// customerIDArg reads "42" or "#42".
func customerIDArg(t *i18n.Printer, s, sub string) (crm.ID, error) {
	n, err := strconv.ParseUint(strings.TrimPrefix(s, "#"), 10, 64)
	if err != nil || n == 0 {
		return 0, crm.Errorf(crm.EINVALID, "%s", t.T("verify.bad", s, t.T("usage."+sub)))
	}
	return crm.ID(n), nil
}

func (a *Adapter) cmdVerify(ctx context.Context, req Request) (*Reply, error) {
	if len(req.Args) != 1 {
		return nil, a.usageErr(req.T, "verify")
	}
	id, err := customerIDArg(req.T, req.Args[0], "verify")
	if err != nil {
		return nil, err
	}
	cu, err := a.reps.ConfirmClaims(ctx, id, req.Agent)
	if err != nil {
		return nil, err
	}
	t := req.T
	var what []string
	if cu.Phone != "" {
		what = append(what, t.T("verify.phone", escape(crm.DisplayPhone(cu.Phone))))
	}
	if cu.Email != "" {
		what = append(what, t.T("verify.email", escape(cu.Email)))
	}
	return &Reply{Text: t.T("verify.done", escape(a.view(t).who(cu)), strings.Join(what, ", "), req.UserID)}, nil
}

func (a *Adapter) cmdMerge(ctx context.Context, req Request) (*Reply, error) {
	if len(req.Args) != 2 {
		return nil, a.usageErr(req.T, "merge")
	}
	keep, err := customerIDArg(req.T, req.Args[0], "merge")
	if err != nil {
		return nil, err
	}
	from, err := customerIDArg(req.T, req.Args[1], "merge")
	if err != nil {
		return nil, err
	}
	cu, err := a.reps.MergeCustomers(ctx, keep, from, req.Agent)
	if err != nil {
		return nil, err
	}
	t := req.T
	counts := strings.Join([]string{t.T("n.identities", len(cu.Identities)), t.T("n.messages", cu.Stats.MessagesIn), t.T("n.orders", cu.Stats.Orders)}, ", ")
	return &Reply{Text: t.T("merge.done", num(from), escape(a.view(t).who(cu)), counts, req.UserID)}, nil
}

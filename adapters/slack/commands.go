package slack

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	slackapi "github.com/slack-go/slack"

	"github.com/idicbot/idicbot/bot"
	"github.com/idicbot/idicbot/crm"
	"github.com/idicbot/idicbot/i18n"
)

// builtin is a /crm subcommand of the adapter itself. Its usage and help
// are the messages "usage.<name>" and "help.<name>".
type builtin struct {
	need role
}

// builtinOrder is the order of the help text.
var builtinOrder = []string{"find", "customer", "segment", "stats", "order", "note", "tag", "untag", "release", "verify", "merge", "lang"}

var builtins = map[string]builtin{
	"find":     {roleRep},
	"customer": {roleRep},
	"segment":  {roleRep},
	"stats":    {roleRep},
	"order":    {roleRep},
	"note":     {roleRep},
	"tag":      {roleRep},
	"untag":    {roleRep},
	"release":  {roleRep},
	"verify":   {roleRep},
	"merge":    {roleRep},
	// Anyone in a served workspace may choose the language they read.
	"lang": {roleNone},
}

// builtinRun returns the function of a built-in subcommand.
func (a *Adapter) builtinRun(sub string) func(ctx context.Context, req Request) (*Reply, error) {
	switch sub {
	case "find":
		return a.cmdFind
	case "customer":
		return a.cmdCustomer
	case "segment":
		return a.cmdSegment
	case "stats":
		return a.cmdStats
	case "order":
		return a.cmdOrder
	case "note":
		return a.cmdNote
	case "tag":
		return a.cmdTag
	case "untag":
		return a.cmdUntag
	case "release":
		return a.cmdRelease
	case "verify":
		return a.cmdVerify
	case "merge":
		return a.cmdMerge
	case "lang":
		return a.cmdLang
	}
	return nil
}

// command answers one /crm call. The returned message is the immediate
// answer (HTTP body or Socket Mode ack payload); slow work answers later
// through response_url. key is the request's replay key (Request.Key): a
// replay within ReplayWindow is answered and changes nothing.
func (a *Adapter) command(cmd slackapi.SlashCommand, key string) *slackapi.Msg {
	t := a.printerFor(a.ctx, cmd.TeamID, cmd.UserID)
	if !a.firstTime(key, "command", cmd.UserID, cmd.TeamID) {
		return ephemeral(t.T("cmd.replayed"))
	}
	// Slack sends &, < and > as entities and may wrap what it recognizes
	// (an email, a link) in its markup: read the text as the rep typed it.
	text := plainText(cmd.Text)
	words := strings.Fields(text)
	public := false
	if n := len(words); n > 0 && strings.EqualFold(words[n-1], "public") {
		public = true
		words = words[:n-1]
		text = strings.TrimSpace(text[:len(text)-len("public")])
	}
	if !a.teamAllowed(cmd.TeamID) {
		a.log.Warn("slack: refused a command from a workspace that is not served", "team", cmd.TeamID, "user", cmd.UserID)
		return ephemeral(t.T("cmd.team"))
	}
	sub := "help"
	if len(words) > 0 {
		sub = strings.ToLower(words[0])
		text = strings.TrimSpace(text[len(words[0]):])
		words = words[1:]
	}
	req := Request{TeamID: cmd.TeamID, ChannelID: cmd.ChannelID, UserID: cmd.UserID, UserName: cmd.UserName,
		Agent: agentOf(cmd.UserID), Args: words, Rest: text, TriggerID: cmd.TriggerID, Key: key, T: t}
	var need role
	var run func(ctx context.Context, req Request) (*Reply, error)
	a.mu.Lock()
	extra, isExtra := a.extra[sub]
	a.mu.Unlock()
	if b, ok := builtins[sub]; ok {
		need = b.need
		run = a.builtinRun(sub)
	} else if isExtra {
		need = roleRep
		if extra.Admin {
			need = roleAdmin
		}
		run = extra.Run
	} else if sub == "help" {
		return a.toMsg(a.help(t), public)
	} else {
		return ephemeral(t.T("cmd.unknown", escape(sub)))
	}
	return a.run(cmd, sub, req, need, public, run)
}

// run executes a subcommand in a bounded slot. If it has not finished
// within InlineWait, Slack gets an "on it" answer at once and the result is
// posted to response_url when ready.
func (a *Adapter) run(cmd slackapi.SlashCommand, sub string, req Request, need role, public bool,
	fn func(ctx context.Context, req Request) (*Reply, error)) *slackapi.Msg {
	select {
	case a.slots <- struct{}{}:
	default:
		return ephemeral(req.T.T("cmd.busy"))
	}
	done := make(chan *slackapi.Msg, 1)
	a.commands.Add(1)
	go func() {
		defer a.commands.Done()
		defer func() { <-a.slots }()
		ctx, cancel := context.WithTimeout(a.ctx, a.opts.CommandTimeout)
		defer cancel()
		done <- a.execute(ctx, sub, req, need, public, fn)
	}()
	timer := time.NewTimer(a.opts.InlineWait)
	defer timer.Stop()
	select {
	case msg := <-done:
		return msg
	case <-timer.C:
	}
	a.commands.Add(1)
	go func() {
		defer a.commands.Done()
		msg := <-done
		ctx, cancel := context.WithTimeout(context.WithoutCancel(a.ctx), DefaultRequestTimeout)
		defer cancel()
		a.postResponse(ctx, cmd.ResponseURL, msg)
	}()
	return ephemeral(req.T.T("cmd.working", escape(sub)))
}

// execute checks the user's role and runs the subcommand.
func (a *Adapter) execute(ctx context.Context, sub string, req Request, need role, public bool,
	fn func(ctx context.Context, req Request) (*Reply, error)) (msg *slackapi.Msg) {
	defer func() {
		if r := recover(); r != nil {
			a.log.Error("slack: subcommand panicked", "subcommand", sub, "panic", r)
			msg = ephemeral(req.T.T("cmd.failed"))
		}
	}()
	if need > roleNone {
		if got := a.roleOf(ctx, req.UserID); got < need {
			a.log.Warn("slack: refused a subcommand", "subcommand", sub, "user", req.UserID, "team", req.TeamID, "needs", roleName(need))
			return ephemeral(refusal(req.T, sub, need))
		}
	}
	reply, err := fn(ctx, req)
	if err != nil {
		return a.errorMsg(req.T, sub, err)
	}
	if reply == nil {
		reply = &Reply{Text: req.T.T("cmd.done")}
	}
	return a.toMsg(reply, public || reply.Public)
}

func roleName(r role) string {
	switch r {
	case roleAdmin:
		return "admin"
	case roleRep:
		return "rep"
	}
	return "anyone"
}

func refusal(t *i18n.Printer, sub string, need role) string {
	if need == roleAdmin {
		return t.T("cmd.admins", escape(sub))
	}
	return t.T("cmd.reps", escape(sub))
}

// errorMsg maps a domain error to an ephemeral answer; only internal errors
// are logged as errors.
func (a *Adapter) errorMsg(t *i18n.Printer, sub string, err error) *slackapi.Msg {
	if crm.ErrorCode(err) == crm.EINTERNAL {
		a.log.Error("slack: subcommand failed", "subcommand", sub, "err", crm.MaskText(err.Error()))
		return ephemeral(t.T("cmd.failed"))
	}
	return ephemeral("⚠️ " + escape(errText(t, err)))
}

// errText is a domain error's message in the reader's language when the
// catalog has its phrase ("err.<phrase>"), else as the core wrote it.
func errText(t *i18n.Printer, err error) string {
	if p, args := crm.ErrorPhrase(err); p != "" && catalog.Has("err."+p) {
		return t.T("err."+p, args...)
	}
	return crm.ErrorMessage(err)
}

func ephemeral(text string) *slackapi.Msg {
	return &slackapi.Msg{ResponseType: slackapi.ResponseTypeEphemeral, Text: text}
}

func (a *Adapter) toMsg(r *Reply, public bool) *slackapi.Msg {
	m := &slackapi.Msg{ResponseType: slackapi.ResponseTypeEphemeral, Text: r.Text}
	if public {
		m.ResponseType = slackapi.ResponseTypeInChannel
	}
	if len(r.Blocks) > 0 {
		m.Blocks = slackapi.Blocks{BlockSet: r.Blocks}
	}
	return m
}

// agentOf is how a Slack user is recorded as an agent or author.
func agentOf(user string) string { return "slack:" + user }

// usageErr is the usage of a subcommand with usage and help messages
// ("usage.<sub>") as an EINVALID error.
func (a *Adapter) usageErr(t *i18n.Printer, sub string) error {
	return crm.Errorf(crm.EINVALID, "%s", t.T("cmd.usage", t.T("usage."+sub)))
}

// help lists the subcommands with examples.
func (a *Adapter) help(t *i18n.Printer) *Reply {
	var lines []string
	for _, name := range builtinOrder {
		lines = append(lines, fmt.Sprintf("• `/crm %s` — %s", t.T("usage."+name), t.T("help."+name)))
	}
	a.mu.Lock()
	var extra []Subcommand
	for _, sc := range a.extra {
		extra = append(extra, sc)
	}
	a.mu.Unlock()
	sort.Slice(extra, func(i, j int) bool { return extra[i].Name < extra[j].Name })
	for _, sc := range extra {
		usage, help := sc.Usage, sc.Help
		if usage == "" {
			usage = sc.Name
		}
		// A subcommand whose texts are in the catalog is shown in the
		// reader's language.
		if catalog.Has("usage." + sc.Name) {
			usage, help = t.T("usage."+sc.Name), t.T("help."+sc.Name)
		}
		admin := ""
		if sc.Admin {
			admin = t.T("help.admins")
		}
		lines = append(lines, fmt.Sprintf("• `/crm %s` — %s%s", usage, help, admin))
	}
	lines = append(lines, "• `/crm help` — "+t.T("help.self"))
	foot := t.T("help.foot")
	text := "*idicbot /crm*\n" + strings.Join(lines, "\n") + "\n" + foot
	return &Reply{Text: text, Blocks: []slackapi.Block{
		section(t.T("help.title") + "\n" + strings.Join(lines, "\n")),
		contextBlock(foot),
	}}
}

func (a *Adapter) cmdFind(ctx context.Context, req Request) (*Reply, error) {
	if req.Rest == "" {
		return nil, a.usageErr(req.T, "find")
	}
	found, total, err := a.reps.FindCustomersCounted(ctx, req.Rest)
	if err != nil {
		return nil, err
	}
	t := req.T
	switch {
	case len(found) == 0:
		return &Reply{Text: t.T("find.none", escape(req.Rest))}, nil
	case len(found) == 1 && total == 1:
		card, err := a.reps.CustomerCard(ctx, found[0].ID)
		if err != nil {
			return nil, err
		}
		return a.view(t).renderCard(card, ""), nil
	}
	title, hint := t.T("find.many", total, escape(req.Rest)), t.T("find.hint")
	switch {
	case total > bot.MaxFindCount:
		title, hint = t.T("find.atLeast", bot.MaxFindCount, escape(req.Rest), len(found)), t.T("find.narrow")
	case total > len(found):
		title, hint = t.T("find.shown", total, escape(req.Rest), len(found)), t.T("find.narrow")
	}
	return a.view(t).renderList(title, found, hint), nil
}

func (a *Adapter) cmdCustomer(ctx context.Context, req Request) (*Reply, error) {
	if req.Rest == "" {
		return nil, a.usageErr(req.T, "customer")
	}
	cu, err := a.reps.ResolveCustomer(ctx, req.Rest)
	if err != nil {
		return nil, err
	}
	card, err := a.reps.CustomerCard(ctx, cu.ID)
	if err != nil {
		return nil, err
	}
	return a.view(req.T).renderCard(card, ""), nil
}

// SegmentPageSize is how many customers one /crm segment page shows.
const SegmentPageSize = 10

func (a *Adapter) cmdSegment(ctx context.Context, req Request) (*Reply, error) {
	if len(req.Args) == 0 || len(req.Args) > 2 {
		return nil, a.usageErr(req.T, "segment")
	}
	page := 1
	if len(req.Args) == 2 {
		n, err := strconv.Atoi(req.Args[1])
		if err != nil || n < 1 {
			return nil, crm.Errorf(crm.EINVALID, "%s", req.T.T("segment.page", req.Args[0]))
		}
		page = n
	}
	p, err := a.reps.SegmentPage(ctx, req.Args[0], page, SegmentPageSize)
	if err != nil {
		return nil, err
	}
	return a.view(req.T).renderSegment(p), nil
}

func (a *Adapter) cmdStats(ctx context.Context, req Request) (*Reply, error) {
	days := 1
	if len(req.Args) > 1 {
		return nil, a.usageErr(req.T, "stats")
	}
	if len(req.Args) == 1 {
		arg := strings.ToLower(req.Args[0])
		switch {
		case arg == "today":
		case strings.HasSuffix(arg, "d"):
			n, err := strconv.Atoi(strings.TrimSuffix(arg, "d"))
			if err != nil || n < 1 || n > 366 {
				return nil, a.usageErr(req.T, "stats")
			}
			days = n
		default:
			return nil, a.usageErr(req.T, "stats")
		}
	}
	st, err := a.reps.Stats(ctx, days)
	if err != nil {
		return nil, err
	}
	r := a.view(req.T).renderStats(st)
	if err := a.addCampaignStats(ctx, r, days); err != nil {
		return nil, err
	}
	return r, nil
}

func (a *Adapter) cmdOrder(ctx context.Context, req Request) (*Reply, error) {
	if len(req.Args) < 2 {
		return nil, a.usageErr(req.T, "order")
	}
	cu, err := a.reps.ResolveCustomer(ctx, req.Args[0])
	if err != nil {
		return nil, err
	}
	// The amount is the longest run of words from the second that is one
	// ("1,5tr", "500 nghìn", "2 triệu đồng"); the words after it are the note.
	used := 0
	var amount int64
	for n := min(len(req.Args), 4); n > 2 && used == 0; n-- {
		if v, err := crm.ParseAmount(strings.Join(req.Args[1:n], " ")); err == nil {
			amount, used = v, n
		}
	}
	if used == 0 {
		v, err := crm.ParseAmount(req.Args[1])
		if err != nil {
			return nil, err
		}
		amount, used = v, 2
	}
	note := restAfter(req.Rest, used)
	before := cu.Segment.Name
	// The request's key as the order's Ref, in the order's transaction: a
	// replay that reaches here (after a restart emptied the replay memory)
	// records nothing.
	ref := ""
	if req.Key != "" {
		ref = "slack:" + req.Key
	}
	cu, mv, added, err := a.reps.RecordOrder(ctx, crm.Order{CustomerID: cu.ID, Amount: amount, Note: note, Source: req.Agent, Ref: ref}, "order")
	if err != nil {
		return nil, err
	}
	v := a.view(req.T)
	if !added {
		text := v.t.T("order.again", escape(v.who(cu)))
		return &Reply{Text: text, Blocks: []slackapi.Block{section(text)}}, nil
	}
	banner := v.t.T("order.done", crm.VND(amount), escape(v.who(cu)), req.UserID)
	if mv != nil {
		banner += "\n" + v.t.T("seg.moved", escape(v.seg(mv.From)), escape(v.seg(mv.To)))
	} else {
		banner += "\n" + v.t.T("seg.same", escape(v.seg(before)))
	}
	card, err := a.reps.CustomerCard(ctx, cu.ID)
	if err != nil {
		return nil, err
	}
	return v.renderCard(card, banner), nil
}

func (a *Adapter) cmdNote(ctx context.Context, req Request) (*Reply, error) {
	if len(req.Args) < 2 {
		return nil, a.usageErr(req.T, "note")
	}
	cu, err := a.reps.ResolveCustomer(ctx, req.Args[0])
	if err != nil {
		return nil, err
	}
	cu, err = a.reps.AddNote(ctx, cu.ID, req.Agent, restAfter(req.Rest, 1))
	if err != nil {
		return nil, err
	}
	v := a.view(req.T)
	text := v.t.T("note.done", escape(v.who(cu)), len(cu.Notes))
	return &Reply{Text: text, Blocks: []slackapi.Block{section(text)}}, nil
}

func (a *Adapter) cmdTag(ctx context.Context, req Request) (*Reply, error) {
	return a.tag(ctx, req, true)
}
func (a *Adapter) cmdUntag(ctx context.Context, req Request) (*Reply, error) {
	return a.tag(ctx, req, false)
}

func (a *Adapter) tag(ctx context.Context, req Request, add bool) (*Reply, error) {
	sub := "untag"
	if add {
		sub = "tag"
	}
	if len(req.Args) != 2 {
		return nil, a.usageErr(req.T, sub)
	}
	cu, err := a.reps.ResolveCustomer(ctx, req.Args[0])
	if err != nil {
		return nil, err
	}
	var mv *crm.SegmentChange
	if add {
		cu, mv, err = a.reps.Tag(ctx, cu.ID, req.Args[1])
	} else {
		cu, mv, err = a.reps.Untag(ctx, cu.ID, req.Args[1])
	}
	if err != nil {
		return nil, err
	}
	v := a.view(req.T)
	id := "tag.done"
	if !add {
		id = "untag.done"
	}
	text := v.t.T(id, escape(v.who(cu)), escape(strings.ToLower(req.Args[1])), escape(v.orNone(strings.Join(cu.Tags, ", "))))
	if mv != nil {
		text += "\n" + v.t.T("seg.moved", escape(v.seg(mv.From)), escape(v.seg(mv.To)))
	}
	return &Reply{Text: text, Blocks: []slackapi.Block{section(text)}}, nil
}

func (a *Adapter) cmdRelease(ctx context.Context, req Request) (*Reply, error) {
	if len(req.Args) != 1 {
		return nil, a.usageErr(req.T, "release")
	}
	cu, err := a.reps.ResolveCustomer(ctx, req.Args[0])
	if err != nil {
		return nil, err
	}
	if err := a.release(ctx, cu.ID, req.UserID); err != nil {
		return nil, err
	}
	text := req.T.T("release.done", escape(a.view(req.T).who(cu)))
	return &Reply{Text: text, Blocks: []slackapi.Block{section(text)}}, nil
}

// restAfter returns text after its first n words, spacing kept.
func restAfter(text string, n int) string {
	t := strings.TrimSpace(text)
	for range n {
		i := strings.IndexFunc(t, func(r rune) bool { return r == ' ' || r == '\t' || r == '\n' })
		if i < 0 {
			return ""
		}
		t = strings.TrimSpace(t[i:])
	}
	return t
}

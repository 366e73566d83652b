package slack

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	slackapi "github.com/slack-go/slack"

	"github.com/idicbot/idicbot/crm"
)

// builtin is a /crm subcommand of the adapter itself.
type builtin struct {
	usage string
	help  string
	need  role
}

// builtinOrder is the order of the help text.
var builtinOrder = []string{"find", "customer", "segment", "stats", "order", "note", "tag", "untag", "release", "verify", "merge"}

var builtins = map[string]builtin{
	"find":     {"find <phone | name | email | @telegram | id>", "look a customer up: `/crm find 0912 345 678`, `/crm find nguyen van a`, `/crm find @lan_shop`", roleRep},
	"customer": {"customer <id>", "a customer's card: value, segment, last messages, offers, notes: `/crm customer 42`", roleRep},
	"segment":  {"segment <name> [page]", "a segment's customers, most valuable first: `/crm segment vip`, `/crm segment at_risk 2`", roleRep},
	"stats":    {"stats [today | 7d | 30d]", "customers per segment, messages, offers and conversion: `/crm stats 7d`", roleRep},
	"order":    {"order <customer> <amount> [note]", "record a sale (1500000, 1.500.000, 1,5tr, 1.5m, 500k): `/crm order 42 1,5tr áo dài`", roleRep},
	"note":     {"note <customer> <text>", "leave a note: `/crm note 42 prefers calls after 6pm`", roleRep},
	"tag":      {"tag <customer> <tag>", "tag a customer: `/crm tag 42 wholesale`", roleRep},
	"untag":    {"untag <customer> <tag>", "remove a tag: `/crm untag 42 wholesale`", roleRep},
	"release":  {"release <customer>", "hand a customer's conversation back to the bot: `/crm release 42`", roleRep},
	"verify":   {"verify <id>", "confirm the phone/email a customer typed, after calling them: `/crm verify 42`", roleRep},
	"merge":    {"merge <id to keep> <id to fold in>", "one person, two records (checked by a call or an order): `/crm merge 42 57`", roleRep},
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
	}
	return nil
}

// command answers one /crm call. The returned message is the immediate
// answer (HTTP body or Socket Mode ack payload); slow work answers later
// through response_url. key is the request's replay key (Request.Key): a
// replay within ReplayWindow is answered and changes nothing.
func (a *Adapter) command(cmd slackapi.SlashCommand, key string) *slackapi.Msg {
	if !a.firstTime(key, "command", cmd.UserID, cmd.TeamID) {
		return ephemeral("This request was already handled; sending it again changes nothing.")
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
		return ephemeral("This Slack workspace is not connected to this idicbot.")
	}
	sub := "help"
	if len(words) > 0 {
		sub = strings.ToLower(words[0])
		text = strings.TrimSpace(text[len(words[0]):])
		words = words[1:]
	}
	req := Request{TeamID: cmd.TeamID, ChannelID: cmd.ChannelID, UserID: cmd.UserID, UserName: cmd.UserName,
		Agent: agentOf(cmd.UserID), Args: words, Rest: text, TriggerID: cmd.TriggerID, Key: key}
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
		return a.toMsg(a.help(), public)
	} else {
		return ephemeral(fmt.Sprintf("I don't know `/crm %s`. Try `/crm help`.", escape(sub)))
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
		return ephemeral("idicbot is busy with other commands; try again in a moment.")
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
	return ephemeral(fmt.Sprintf("⏳ Working on `/crm %s`…", escape(sub)))
}

// execute checks the user's role and runs the subcommand.
func (a *Adapter) execute(ctx context.Context, sub string, req Request, need role, public bool,
	fn func(ctx context.Context, req Request) (*Reply, error)) (msg *slackapi.Msg) {
	defer func() {
		if r := recover(); r != nil {
			a.log.Error("slack: subcommand panicked", "subcommand", sub, "panic", r)
			msg = ephemeral("Something went wrong; the error was logged.")
		}
	}()
	if need > roleNone {
		if got := a.roleOf(ctx, req.UserID); got < need {
			a.log.Warn("slack: refused a subcommand", "subcommand", sub, "user", req.UserID, "team", req.TeamID, "needs", roleName(need))
			return ephemeral(refusal(sub, need))
		}
	}
	reply, err := fn(ctx, req)
	if err != nil {
		return a.errorMsg(sub, err)
	}
	if reply == nil {
		reply = &Reply{Text: "Done."}
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

func refusal(sub string, need role) string {
	if need == roleAdmin {
		return fmt.Sprintf("🚫 `/crm %s` is for idicbot admins only. Ask an admin to add your Slack user id to SLACK_ADMIN_IDS.", escape(sub))
	}
	return fmt.Sprintf("🚫 `/crm %s` shows or changes customer data, so it is for sales reps only. Ask an admin to add your Slack user id to SLACK_REP_IDS or you to the reps user group.", escape(sub))
}

// errorMsg maps a domain error to an ephemeral answer; only internal errors
// are logged as errors.
func (a *Adapter) errorMsg(sub string, err error) *slackapi.Msg {
	if crm.ErrorCode(err) == crm.EINTERNAL {
		a.log.Error("slack: subcommand failed", "subcommand", sub, "err", crm.MaskText(err.Error()))
		return ephemeral("Something went wrong; the error was logged.")
	}
	return ephemeral("⚠️ " + escape(crm.ErrorMessage(err)))
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

func usageErr(sub string) error {
	b := builtins[sub]
	return crm.Errorf(crm.EINVALID, "Usage: /crm %s", b.usage)
}

// help lists the subcommands with examples.
func (a *Adapter) help() *Reply {
	var lines []string
	for _, name := range builtinOrder {
		b := builtins[name]
		lines = append(lines, fmt.Sprintf("• `/crm %s` — %s", b.usage, b.help))
	}
	a.mu.Lock()
	var extra []Subcommand
	for _, sc := range a.extra {
		extra = append(extra, sc)
	}
	a.mu.Unlock()
	sort.Slice(extra, func(i, j int) bool { return extra[i].Name < extra[j].Name })
	for _, sc := range extra {
		usage := sc.Usage
		if usage == "" {
			usage = sc.Name
		}
		admin := ""
		if sc.Admin {
			admin = " _(admins)_"
		}
		lines = append(lines, fmt.Sprintf("• `/crm %s` — %s%s", usage, sc.Help, admin))
	}
	lines = append(lines, "• `/crm help` — this list")
	foot := "Answers are only visible to you; add `public` at the end to share one in the channel (`/crm stats 7d public`). <customer> is a customer id, a phone number without spaces, an email or @telegram username."
	text := "*idicbot /crm*\n" + strings.Join(lines, "\n") + "\n" + foot
	return &Reply{Text: text, Blocks: []slackapi.Block{
		section("*idicbot `/crm` — what you can do*\n" + strings.Join(lines, "\n")),
		contextBlock(foot),
	}}
}

func (a *Adapter) cmdFind(ctx context.Context, req Request) (*Reply, error) {
	if req.Rest == "" {
		return nil, usageErr("find")
	}
	found, err := a.reps.FindCustomers(ctx, req.Rest)
	if err != nil {
		return nil, err
	}
	switch len(found) {
	case 0:
		text := fmt.Sprintf("No customer matches “%s”.", escape(req.Rest))
		return &Reply{Text: text}, nil
	case 1:
		card, err := a.reps.CustomerCard(ctx, found[0].ID)
		if err != nil {
			return nil, err
		}
		return renderCard(card, a.core.Now(), ""), nil
	}
	return renderList(fmt.Sprintf("%d customers match “%s”", len(found), escape(req.Rest)), found, a.core.Now(),
		"Open one with `/crm customer <id>`."), nil
}

func (a *Adapter) cmdCustomer(ctx context.Context, req Request) (*Reply, error) {
	if req.Rest == "" {
		return nil, usageErr("customer")
	}
	cu, err := a.reps.ResolveCustomer(ctx, req.Rest)
	if err != nil {
		return nil, err
	}
	card, err := a.reps.CustomerCard(ctx, cu.ID)
	if err != nil {
		return nil, err
	}
	return renderCard(card, a.core.Now(), ""), nil
}

// SegmentPageSize is how many customers one /crm segment page shows.
const SegmentPageSize = 10

func (a *Adapter) cmdSegment(ctx context.Context, req Request) (*Reply, error) {
	if len(req.Args) == 0 || len(req.Args) > 2 {
		return nil, usageErr("segment")
	}
	page := 1
	if len(req.Args) == 2 {
		n, err := strconv.Atoi(req.Args[1])
		if err != nil || n < 1 {
			return nil, crm.Errorf(crm.EINVALID, "The page is a number from 1: /crm segment %s 2", req.Args[0])
		}
		page = n
	}
	p, err := a.reps.SegmentPage(ctx, req.Args[0], page, SegmentPageSize)
	if err != nil {
		return nil, err
	}
	return renderSegment(p, a.core.Now()), nil
}

func (a *Adapter) cmdStats(ctx context.Context, req Request) (*Reply, error) {
	days := 1
	if len(req.Args) > 1 {
		return nil, usageErr("stats")
	}
	if len(req.Args) == 1 {
		arg := strings.ToLower(req.Args[0])
		switch {
		case arg == "today":
		case strings.HasSuffix(arg, "d"):
			n, err := strconv.Atoi(strings.TrimSuffix(arg, "d"))
			if err != nil || n < 1 || n > 366 {
				return nil, usageErr("stats")
			}
			days = n
		default:
			return nil, usageErr("stats")
		}
	}
	st, err := a.reps.Stats(ctx, days)
	if err != nil {
		return nil, err
	}
	r := renderStats(st)
	if err := a.addCampaignStats(ctx, r, days); err != nil {
		return nil, err
	}
	return r, nil
}

func (a *Adapter) cmdOrder(ctx context.Context, req Request) (*Reply, error) {
	if len(req.Args) < 2 {
		return nil, usageErr("order")
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
	if !added {
		text := fmt.Sprintf("This order for %s (#%d) was already recorded by this request; nothing changed.", escape(cu.DisplayName()), cu.ID)
		return &Reply{Text: text, Blocks: []slackapi.Block{section(text)}}, nil
	}
	banner := fmt.Sprintf("✅ Order of %s recorded for %s (#%d) by <@%s>.", crm.VND(amount), escape(cu.DisplayName()), cu.ID, req.UserID)
	if mv != nil {
		banner += fmt.Sprintf("\n📈 Segment changed: *%s* → *%s*.", escape(orNone(mv.From)), escape(mv.To))
	} else {
		banner += fmt.Sprintf("\nSegment unchanged: *%s*.", escape(orNone(before)))
	}
	card, err := a.reps.CustomerCard(ctx, cu.ID)
	if err != nil {
		return nil, err
	}
	return renderCard(card, a.core.Now(), banner), nil
}

func (a *Adapter) cmdNote(ctx context.Context, req Request) (*Reply, error) {
	if len(req.Args) < 2 {
		return nil, usageErr("note")
	}
	cu, err := a.reps.ResolveCustomer(ctx, req.Args[0])
	if err != nil {
		return nil, err
	}
	cu, err = a.reps.AddNote(ctx, cu.ID, req.Agent, restAfter(req.Rest, 1))
	if err != nil {
		return nil, err
	}
	text := fmt.Sprintf("📝 Note added to %s (#%d). They have %d note(s).", escape(cu.DisplayName()), cu.ID, len(cu.Notes))
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
		return nil, usageErr(sub)
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
	verb := "Tagged"
	if !add {
		verb = "Untagged"
	}
	text := fmt.Sprintf("🏷️ %s %s (#%d) `%s`. Tags: %s.", verb, escape(cu.DisplayName()), cu.ID, escape(strings.ToLower(req.Args[1])), escape(orNone(strings.Join(cu.Tags, ", "))))
	if mv != nil {
		text += fmt.Sprintf("\n📈 Segment changed: *%s* → *%s*.", escape(orNone(mv.From)), escape(mv.To))
	}
	return &Reply{Text: text, Blocks: []slackapi.Block{section(text)}}, nil
}

func (a *Adapter) cmdRelease(ctx context.Context, req Request) (*Reply, error) {
	if len(req.Args) != 1 {
		return nil, usageErr("release")
	}
	cu, err := a.reps.ResolveCustomer(ctx, req.Args[0])
	if err != nil {
		return nil, err
	}
	if err := a.release(ctx, cu.ID, req.UserID); err != nil {
		return nil, err
	}
	text := fmt.Sprintf("↩️ %s (#%d) is back with the bot.", escape(cu.DisplayName()), cu.ID)
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

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

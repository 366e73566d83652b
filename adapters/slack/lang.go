package slack

import (
	"context"
	"strings"
	"sync"

	"github.com/idicbot/idicbot/crm"
	"github.com/idicbot/idicbot/i18n"
)

// catalog holds the adapter's texts; built once, it is read-only.
var catalog = i18n.MustCatalog(messages)

// Keys of the language choices in crm.LangPrefs.
func userLangKey(user string) string { return "slack:" + user }
func teamLangKey(team string) string { return "slack-team:" + team }

// memLangPrefs keeps language choices in memory when no store is given
// (Options.Prefs): they last until the process ends.
type memLangPrefs struct {
	mu sync.Mutex
	m  map[string]string
}

var _ crm.LangPrefs = (*memLangPrefs)(nil)

func (p *memLangPrefs) Lang(_ context.Context, who string) (string, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.m[who], nil
}

func (p *memLangPrefs) SetLang(_ context.Context, who, lang string) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.m == nil {
		p.m = map[string]string{}
	}
	if lang == "" {
		delete(p.m, who)
	} else {
		p.m[who] = lang
	}
	return nil
}

// printerFor is the language a user reads: their own choice, else their
// workspace's, else Options.Lang (Vietnamese unless set).
func (a *Adapter) printerFor(ctx context.Context, team, user string) *i18n.Printer {
	for _, key := range []string{userLangKey(user), teamLangKey(team)} {
		if strings.HasSuffix(key, ":") {
			continue
		}
		l, err := a.prefs.Lang(ctx, key)
		if err != nil {
			a.log.WarnContext(ctx, "slack: read a language choice", "who", key, "err", err)
			break
		}
		if p, ok := i18n.Parse(l); ok {
			return catalog.Printer(p)
		}
	}
	return catalog.Printer(a.lang)
}

// channelPrinter is the language of what the bot posts in a channel (the
// handoff cards): the workspace's.
func (a *Adapter) channelPrinter(ctx context.Context) *i18n.Printer {
	a.mu.Lock()
	team := a.homeTeam
	a.mu.Unlock()
	return a.printerFor(ctx, team, "")
}

// view is how answers are rendered for t's reader now.
func (a *Adapter) view(t *i18n.Printer) view {
	return view{t: t, now: a.core.Now(), segs: a.reps.Segments()}
}

// cmdLang is /crm lang [vi|en] [workspace]: shows or sets the language the
// user (or, for admins, the workspace) reads idicbot in.
func (a *Adapter) cmdLang(ctx context.Context, req Request) (*Reply, error) {
	if len(req.Args) == 0 {
		return &Reply{Text: req.T.T("lang.now")}, nil
	}
	if len(req.Args) > 2 {
		return nil, a.usageErr(req.T, "lang")
	}
	l, ok := i18n.Parse(req.Args[0])
	if !ok {
		return nil, crm.Errorf(crm.EINVALID, "%s", req.T.T("lang.bad"))
	}
	t := catalog.Printer(l)
	if len(req.Args) == 2 {
		if w := strings.ToLower(req.Args[1]); w != "workspace" && w != "team" {
			return nil, a.usageErr(req.T, "lang")
		}
		if a.roleOf(ctx, req.UserID) < roleAdmin {
			return nil, crm.Errorf(crm.EFORBIDDEN, "%s", req.T.T("lang.teamAdmins"))
		}
		if err := a.prefs.SetLang(ctx, teamLangKey(req.TeamID), string(l)); err != nil {
			return nil, err
		}
		return &Reply{Text: t.T("lang.team")}, nil
	}
	if err := a.prefs.SetLang(ctx, userLangKey(req.UserID), string(l)); err != nil {
		return nil, err
	}
	return &Reply{Text: t.T("lang.set")}, nil
}

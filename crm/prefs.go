package crm

import "context"

// LangPrefs keeps the language each person who runs the shop reads idicbot
// in (owners and reps, never customers): a Slack user ("slack:U123"), a
// Slack workspace ("slack-team:T123"). The value is a language code ("vi",
// "en"); "" means no choice, so the default applies.
type LangPrefs interface {
	// Lang returns the language chosen by who, "" if none.
	Lang(ctx context.Context, who string) (string, error)
	// SetLang records who's choice; "" forgets it.
	SetLang(ctx context.Context, who, lang string) error
}

// LangChoices lists every choice a LangPrefs holds, for a copy of the shop
// to another store (idicbot migrate-store).
type LangChoices interface {
	// LangChoices returns who → language code.
	LangChoices(ctx context.Context) (map[string]string, error)
}

package bot_test

import (
	"context"
	"strings"
	"testing"

	"github.com/idicbot/idicbot/bot"
	"github.com/idicbot/idicbot/bot/bottest"
	"github.com/idicbot/idicbot/configs"
	"github.com/idicbot/idicbot/crm"
)

// The shipped messages file changes nothing: the golden transcripts hold.
func TestDefaultMessagesChangeNothing(t *testing.T) {
	data, err := configs.Files.ReadFile("messages.yaml")
	if err != nil {
		t.Fatal(err)
	}
	got, err := bot.ParseMessages("configs/messages.yaml", data)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 0 {
		t.Fatalf("the default messages file changes phrases: %v", got)
	}
}

func TestParseMessagesRefuses(t *testing.T) {
	for _, tt := range []struct{ name, file, want string }{
		{"unknown phrase", "phrases: {helo: {vi: chào}}", `"helo" is not a phrase of the bot (phrases: accepted, `},
		{"unknown language", "phrases: {thanks: {fr: merci}}", `"fr" is not a language of the bot`},
		{"a verb lost", `phrases: {greeting: {vi: "Xin chào!"}}`, "must hold %s %s in this order"},
		{"verbs swapped", `phrases: {code_wrong: {vi: "Sai mã, còn %s lần"}}`, "must hold %d"},
		{"a percent sign in a format", `phrases: {accepted: {vi: "Giảm 10% với ưu đãi %s"}}`, "must hold %s"},
		{"unknown key", "adress: {self: em}", "field adress not found"},
	} {
		_, err := bot.ParseMessages("messages.yaml", []byte(tt.file))
		if err == nil || crm.ErrorCode(err) != crm.EINVALID || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), "messages.yaml") {
			t.Errorf("%s: err = %v, want EINVALID naming the file and %q", tt.name, err, tt.want)
		}
	}
}

// A shop that addresses customers as anh/chị and the bot as em, with its
// own thank-you in English: the bot says so; other phrases stay built in.
func TestMessagesFormOfAddress(t *testing.T) {
	file := `
address: {self: em, customer: anh/chị}
phrases:
  thanks:
    en: "You're most welcome, 100%!"
  btn_accept:
    vi: "🎁 Lấy mã"
`
	ph, err := bot.ParseMessages("messages.yaml", []byte(file))
	if err != nil {
		t.Fatal(err)
	}
	e := bottest.NewCore(t, bottest.CoreOptions(func(o *bot.Options) {
		cat := *o.Catalog
		cat.Phrases = crm.NewPhrasebook(ph)
		o.Catalog = &cat
	}))
	ctx := context.Background()
	reply := func(user, text string) string {
		t.Helper()
		if _, err := e.Core.Handle(ctx, bot.Inbound{Channel: crm.ChannelWeb, UserID: user, MessageID: user + text, Text: text}); err != nil {
			t.Fatal(err)
		}
		if err := e.Disp.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, it := range e.Rec.Take() {
			out = append(out, it.Text)
			for _, b := range it.Buttons {
				out = append(out, "["+b.Label+"]")
			}
		}
		return strings.Join(out, "\n")
	}
	hello := reply("w1", "xin chào")
	for _, want := range []string{"Xin chào anh/chị! Em là trợ lý của", "Anh/chị muốn xem sản phẩm", "[🎁 Lấy mã]"} {
		if !strings.Contains(hello, want) {
			t.Fatalf("greeting %q lacks %q", hello, want)
		}
	}
	if got := reply("w1", "asdfgh qwerty"); !strings.HasPrefix(got, "Em chưa hiểu ý anh/chị lắm.") {
		t.Fatalf("unknown = %q", got)
	}
	if got := reply("w2", "thank you"); !strings.Contains(got, "You're most welcome, 100%!") {
		t.Fatalf("English thanks = %q", got)
	}
}

// The admin page's editing: a save is live at the next message, stored as
// a version that wins over the file after a restart; a stale save is a
// conflict; a rollback restores an older version as a new one.
func TestMessagesAdmin(t *testing.T) {
	book := crm.NewPhrasebook(nil)
	e := bottest.NewCore(t, bottest.CoreOptions(func(o *bot.Options) {
		cat := *o.Catalog
		cat.Phrases = book
		o.Catalog = &cat
	}))
	ctx := context.Background()
	file, _ := configs.Files.ReadFile("messages.yaml")
	m := bot.NewMessagesAdmin(e.DB, book, "configs/messages.yaml", file, e.Now)
	say := func(user, text string) string {
		t.Helper()
		if _, err := e.Core.Handle(ctx, bot.Inbound{Channel: crm.ChannelWeb, UserID: user, MessageID: user + text, Text: text}); err != nil {
			t.Fatal(err)
		}
		if err := e.Disp.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, it := range e.Rec.Take() {
			out = append(out, it.Text)
		}
		return strings.Join(out, "\n")
	}
	st, err := m.State(ctx)
	if err != nil || st.Version != 0 || len(st.Phrases) != len(bot.PhraseIDs()) {
		t.Fatalf("state of the file = %+v, %v", st, err)
	}
	var edit bot.MessagesEdit
	edit.Address.Self, edit.Address.Customer = "em", "anh/chị"
	edit.Phrases = map[string]map[string]string{
		"thanks":  {"vi": "Dạ không có chi ạ!", "en": ""}, // empty: the built-in text
		"unknown": {"vi": "Mình chưa hiểu ý bạn lắm."},    // the shop's own: not readdressed
	}
	prev, err := m.Preview(&edit)
	if err != nil {
		t.Fatal(err)
	}
	said := map[string]map[string]string{}
	for _, p := range prev {
		said[p.ID] = p.Said
	}
	if got := said["thanks"]["vi"]; got != "Dạ không có chi ạ!" {
		t.Fatalf("preview of thanks = %q", got)
	}
	if got := said["handoff"]["vi"]; !strings.HasPrefix(got, "Em đã báo nhân viên") {
		t.Fatalf("preview of handoff with em/anh-chị = %q", got)
	}
	if got := say("w1", "cảm ơn"); strings.Contains(got, "Dạ không có chi") {
		t.Fatalf("a preview changed the bot: %q", got)
	}
	v, err := m.Save(ctx, &edit, 0, "Lan", "web")
	if err != nil || v.Version != 1 {
		t.Fatalf("save = %+v, %v", v, err)
	}
	if got := say("w2", "cảm ơn"); got != "Dạ không có chi ạ!" {
		t.Fatalf("after the save the bot says %q", got)
	}
	if got := say("w2", "asdfgh qwerty"); !strings.HasPrefix(got, "Mình chưa hiểu ý bạn lắm.") {
		t.Fatalf("the shop's own unknown = %q", got)
	}
	if _, err := m.Save(ctx, &edit, 0, "An", "web"); crm.ErrorCode(err) != crm.ECONFLICT {
		t.Fatalf("a stale save: %v, want a conflict", err)
	}
	edit.Phrases["greeting"] = map[string]string{"vi": "Chào!"}
	if _, err := m.Save(ctx, &edit, 1, "Lan", "web"); crm.ErrorCode(err) != crm.EINVALID || !strings.Contains(err.Error(), "phrases.greeting.vi") {
		t.Fatalf("a greeting without its %%s: %v, want EINVALID naming it", err)
	}

	// A restart: the file says nothing, the stored version wins.
	book2 := crm.NewPhrasebook(nil)
	if err := bot.NewMessagesAdmin(e.DB, book2, "configs/messages.yaml", file, e.Now).Load(ctx); err != nil {
		t.Fatal(err)
	}
	if got := book2.Get()["vi"]["thanks"]; got != "Dạ không có chi ạ!" {
		t.Fatalf("after a restart thanks = %q", got)
	}

	// Back to the file's wording, as version 2.
	if _, err := m.Save(ctx, &bot.MessagesEdit{}, 1, "Lan", "web"); err != nil {
		t.Fatal(err)
	}
	if got := say("w3", "cảm ơn"); !strings.HasPrefix(got, "Không có gì ạ!") {
		t.Fatalf("built-in thanks = %q", got)
	}
	v, err = m.Rollback(ctx, 1, 2, "Lan", "web")
	if err != nil || v.Version != 3 {
		t.Fatalf("rollback = %+v, %v", v, err)
	}
	if got := say("w3", "cảm ơn nha"); got != "Dạ không có chi ạ!" {
		t.Fatalf("after the rollback = %q", got)
	}
	st, err = m.State(ctx)
	if err != nil || st.Version != 3 || len(st.History) != 3 || st.Edit.Address.Self != "em" || st.History[0].By != "Lan" {
		t.Fatalf("state = %+v, %v", st, err)
	}
}

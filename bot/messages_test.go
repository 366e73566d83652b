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
		cat.Phrases = ph
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

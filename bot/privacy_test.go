package bot_test

import (
	"bytes"
	"context"
	"os"
	"testing"

	"github.com/idicbot/idicbot/bot"
	"github.com/idicbot/idicbot/crm"
)

// TestPrivacy_ExportThenErase runs a Telegram customer through the core,
// exports them, erases them, and checks that their phone, name, Telegram id
// and a message text are gone from the data file's bytes, that the export
// shows the erasure and no personal data, and that the same Telegram user
// writing again is a new customer.
func TestPrivacy_ExportThenErase(t *testing.T) {
	e := newEnv(t, "")
	ctx := context.Background()
	const (
		user  = "731942685"
		name  = "Đặng Thuỳ Dương"
		phone = "+84935117204"
		text  = "cho mình hỏi ốp lưng màu tím than còn không"
	)
	tg := bot.Inbound{Channel: crm.ChannelTelegram, UserID: user, ChatID: user, Name: name, Locale: "vi"}
	in := tg
	in.Text = "xin chào"
	e.say(in)
	in = tg
	in.Kind, in.Contact = crm.KindContact, &bot.Contact{Phone: phone, Self: true}
	e.say(in)
	in = tg
	in.Text = text
	e.say(in)
	c := e.customer(crm.ChannelTelegram, user)
	if c == nil || c.Phone != phone {
		t.Fatalf("customer %+v: the contact did not take", c)
	}

	p := bot.NewPrivacy(e.db, e.db, e.clock.Now)
	x, err := p.Export(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, i := range x.Interactions {
		found = found || i.Text == text
	}
	if !found || x.Customer.Name != name || len(x.Customer.Identities) != 1 {
		t.Fatalf("export %+v lacks the customer's data", x.Customer)
	}

	secrets := []string{name, phone, user, text}
	data, err := os.ReadFile(e.db.Path())
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range secrets {
		if !bytes.Contains(data, []byte(s)) {
			t.Fatalf("%q not in the file before the erase: the scan below cannot fail", s)
		}
	}

	if _, err := p.Erase(ctx, c.ID, "admin:owner"); err != nil {
		t.Fatal(err)
	}
	if data, err = os.ReadFile(e.db.Path()); err != nil {
		t.Fatal(err)
	}
	for _, s := range secrets {
		if bytes.Contains(data, []byte(s)) {
			t.Errorf("%q is still in the file after the erase", s)
		}
	}
	x, err = p.Export(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if x.Erasure == nil || x.Erasure.By != "admin:owner" || x.Customer.Name != "" || len(x.Customer.Identities) != 0 {
		t.Fatalf("export after erase: customer %+v, erasure %+v", x.Customer, x.Erasure)
	}
	if _, err := p.Erase(ctx, c.ID, "admin:owner"); crm.ErrorCode(err) != crm.ECONFLICT {
		t.Fatalf("second erase: %v, want already erased", err)
	}
	if _, err := p.Erase(ctx, 987654, "admin:owner"); crm.ErrorCode(err) != crm.ENOTFOUND {
		t.Fatalf("erase of an unknown id: %v, want not found", err)
	}
	if _, err := p.Erase(ctx, c.ID, " "); crm.ErrorCode(err) != crm.EINVALID {
		t.Fatalf("erase without who: %v", err)
	}

	in = tg
	in.Text = "xin chào lần nữa"
	e.say(in)
	if again := e.customer(crm.ChannelTelegram, user); again == nil || again.ID == c.ID {
		t.Fatalf("the same Telegram user writing again: %+v, want a new customer", again)
	}
}

package bot_test

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/idicbot/idicbot/bot"
	"github.com/idicbot/idicbot/crm"
)

const (
	victimPhone   = "0987654321"
	victimE164    = "+84987654321"
	victimAddress = "giao giúp mình tới 12 Lý Thường Kiệt nhé"
)

// victimOn makes a customer who proved victimPhone on ch through the
// channel's own flow, gave a name, and wrote an address; it returns the
// customer and the identity's user id.
func (e *env) victimOn(t *testing.T, ch crm.Channel) (*crm.Customer, string) {
	t.Helper()
	user := "victim-" + string(ch)
	ctx := context.Background()
	switch ch {
	case crm.ChannelZalo:
		// Zalo's consent flow: the request-user-info form.
		if _, err := e.core.SubmitInfo(ctx, bot.Inbound{Channel: ch, UserID: user, MessageID: user + "-form",
			Contact: &bot.Contact{Phone: "84987654321", FirstName: "Lan Nguyễn", Address: "12 Lý Thường Kiệt"}}); err != nil {
			t.Fatal(err)
		}
		if err := e.disp.Flush(ctx); err != nil {
			t.Fatal(err)
		}
	default:
		// Telegram's contact with the sender's own user id; Messenger's
		// user_phone_number quick reply.
		e.say(bot.Inbound{Channel: ch, UserID: user, Name: "Lan Nguyễn", Kind: crm.KindContact,
			Contact: &bot.Contact{Phone: victimPhone, FirstName: "Lan", LastName: "Nguyễn", Self: true}})
	}
	e.say(bot.Inbound{Channel: ch, UserID: user, Text: victimAddress})
	e.rec.Take()
	v := e.customer(ch, user)
	if v.Phone != victimE164 {
		t.Fatalf("victim on %s: phone %q, want it proven", ch, v.Phone)
	}
	return v, user
}

var sixDigits = regexp.MustCompile(`\b[0-9]{6}\b`)

// split separates what was sent to the attacker from what was sent to
// anyone else.
func split(items []*crm.OutboxItem, ch crm.Channel, user string) (mine, others []*crm.OutboxItem) {
	for _, it := range items {
		if it.Channel == ch && it.UserID == user {
			mine = append(mine, it)
		} else {
			others = append(others, it)
		}
	}
	return mine, others
}

func texts(items []*crm.OutboxItem) string {
	var b strings.Builder
	for _, it := range items {
		b.WriteString(it.Text)
		b.WriteString("\n")
		for _, btn := range it.Buttons {
			b.WriteString(btn.Label + " " + btn.Payload + "\n")
		}
	}
	return b.String()
}

// Typing another customer's phone number, on any channel, reveals nothing
// of them and merges nothing; the one who holds the number gets a one-time
// code on their own verified channel, and only that code, typed back,
// joins the two.
func TestTakeoverByTypedPhoneOnEveryChannelPair(t *testing.T) {
	victims := []crm.Channel{crm.ChannelTelegram, crm.ChannelZalo, "messenger"}
	attackers := []crm.Channel{crm.ChannelWeb, crm.ChannelTelegram, crm.ChannelZalo, "messenger", crm.ChannelConsole}
	for _, vch := range victims {
		for _, ach := range attackers {
			t.Run(fmt.Sprintf("%s victim, %s stranger", vch, ach), func(t *testing.T) {
				e := newEnv(t, "")
				victim, vuser := e.victimOn(t, vch)
				auser := "stranger-" + string(ach)

				_, out := e.say(bot.Inbound{Channel: ach, UserID: auser, Text: "số mình là " + victimPhone})
				mine, others := split(out, ach, auser)
				stranger := e.customer(ach, auser)
				if stranger.ID == victim.ID {
					t.Fatalf("typing the number merged the stranger into the victim")
				}
				if stranger.Phone != "" || stranger.Claims.Phone != victimE164 {
					t.Fatalf("stranger: phone %q claim %q, want only a claim", stranger.Phone, stranger.Claims.Phone)
				}
				for _, leak := range []string{"Lan", "Lý Thường Kiệt", "VIP"} {
					if strings.Contains(texts(mine), leak) {
						t.Fatalf("the stranger was told %q:\n%s", leak, texts(mine))
					}
				}
				// The holder gets one code, on their own channel.
				if len(others) != 1 || others[0].Channel != vch || others[0].UserID != vuser || !sixDigits.MatchString(others[0].Text) {
					t.Fatalf("want one code to the victim on %s, got %d items: %s", vch, len(others), texts(others))
				}
				code := sixDigits.FindString(others[0].Text)

				// A greeting now is the stranger's own, not the victim's.
				_, out = e.say(bot.Inbound{Channel: ach, UserID: auser, Text: "xin chào"})
				if got := texts(out); strings.Contains(got, "Lan") {
					t.Fatalf("the stranger was greeted by the victim's name: %s", got)
				}
				conv, err := e.core.Conversation(context.Background(), ach, auser, 0, 0)
				if err != nil {
					t.Fatal(err)
				}
				for _, it := range conv {
					if it.CustomerID == victim.ID || strings.Contains(it.Text, "Lý Thường Kiệt") || it.ChatID != auser {
						t.Fatalf("the stranger's conversation shows the victim's: %+v", it)
					}
				}

				// Guessing: five wrong codes end the verification.
				wrong := "000000"
				if code == wrong {
					wrong = "111111"
				}
				for i := 0; i < 5; i++ {
					e.say(bot.Inbound{Channel: ach, UserID: auser, Text: wrong})
				}
				_, out = e.say(bot.Inbound{Channel: ach, UserID: auser, Text: code})
				if got := texts(out); strings.Contains(got, "Đã xác nhận") {
					t.Fatalf("the right code after five wrong ones was answered %q", got)
				}
				if s := e.customer(ach, auser); s.ID == victim.ID {
					t.Fatal("guessing merged the stranger into the victim")
				}
				if v := e.customer(vch, vuser); len(v.Identities) != 1 || v.Name != victim.Name {
					t.Fatalf("the victim's record changed: %+v", v)
				}
			})
		}
	}
}

// The one who holds the number types the code sent to their verified
// channel: the two customers become one, and a web chat session still reads
// only its own messages.
func TestVerifiedMergeByOneTimeCode(t *testing.T) {
	for _, vch := range []crm.Channel{crm.ChannelTelegram, crm.ChannelZalo, "messenger"} {
		t.Run(string(vch), func(t *testing.T) {
			e := newEnv(t, "")
			victim, _ := e.victimOn(t, vch)
			_, out := e.say(bot.Inbound{Channel: crm.ChannelWeb, UserID: "sess-1", Text: victimPhone})
			_, others := split(out, crm.ChannelWeb, "sess-1")
			code := sixDigits.FindString(texts(others))
			if code == "" {
				t.Fatalf("no code sent: %s", texts(out))
			}
			// A second claim within the interval sends no second code.
			_, out = e.say(bot.Inbound{Channel: crm.ChannelWeb, UserID: "sess-2", Text: victimPhone})
			if _, others := split(out, crm.ChannelWeb, "sess-2"); len(others) != 0 {
				t.Fatalf("a second code within minutes: %s", texts(others))
			}
			_, out = e.say(bot.Inbound{Channel: crm.ChannelWeb, UserID: "sess-1", Text: "mã " + code})
			if got := texts(out); !strings.Contains(got, "Đã xác nhận") {
				t.Fatalf("the right code was answered %q", got)
			}
			web := e.customer(crm.ChannelWeb, "sess-1")
			if web.ID != victim.ID || len(web.Identities) != 2 || web.Phone != victimE164 || web.Verify != nil {
				t.Fatalf("after the code: %+v", web)
			}
			conv, err := e.core.Conversation(context.Background(), crm.ChannelWeb, "sess-1", 0, 0)
			if err != nil {
				t.Fatal(err)
			}
			if len(conv) == 0 {
				t.Fatal("the session's own messages are gone")
			}
			for _, it := range conv {
				if it.Channel != crm.ChannelWeb || it.ChatID != "sess-1" {
					t.Fatalf("the web session reads another chat's message: %+v", it)
				}
			}
			// The code is spent.
			e.say(bot.Inbound{Channel: crm.ChannelWeb, UserID: "sess-3", Text: "xin chào"})
			_, out = e.say(bot.Inbound{Channel: crm.ChannelWeb, UserID: "sess-3", Text: code})
			if e.customer(crm.ChannelWeb, "sess-3").ID == victim.ID {
				t.Fatalf("a spent code merged another session: %s", texts(out))
			}
		})
	}
}

// A code expires after ten minutes.
func TestOneTimeCodeExpires(t *testing.T) {
	e := newEnv(t, "")
	victim, _ := e.victimOn(t, crm.ChannelTelegram)
	_, out := e.say(bot.Inbound{Channel: crm.ChannelWeb, UserID: "s", Text: victimPhone})
	_, others := split(out, crm.ChannelWeb, "s")
	code := sixDigits.FindString(texts(others))
	e.clock.Add(11 * time.Minute)
	_, out = e.say(bot.Inbound{Channel: crm.ChannelWeb, UserID: "s", Text: code})
	if got := texts(out); !strings.Contains(got, "hết hạn") {
		t.Fatalf("an expired code was answered %q", got)
	}
	if e.customer(crm.ChannelWeb, "s").ID == victim.ID {
		t.Fatal("an expired code merged")
	}
}

// A typed email is a claim too, and a number nobody holds sends no code.
func TestTypedEmailAndUnknownNumber(t *testing.T) {
	e := newEnv(t, "")
	_, out := e.say(bot.Inbound{Channel: crm.ChannelWeb, UserID: "s", Text: "email mình là mua.hang@congtyabc.vn, sđt 0912345678"})
	if len(out) == 0 {
		t.Fatal("no reply")
	}
	for _, it := range out {
		if it.UserID != "s" {
			t.Fatalf("a message to someone else: %+v", it)
		}
	}
	c := e.customer(crm.ChannelWeb, "s")
	if c.Email != "" || c.Claims.Email != "mua.hang@congtyabc.vn" || c.Claims.Phone != "+84912345678" || c.Verify != nil {
		t.Fatalf("claims: %+v %+v", c.Claims, c.Verify)
	}
}

// A button payload is a request, not a right: an offer counts only when it
// was shown to this customer, is live, and they may still take it.
func TestForgedOfferButtons(t *testing.T) {
	e := newEnv(t, "")
	ctx := context.Background()
	for i := 0; i < 6; i++ {
		_, out := e.say(bot.Inbound{UserID: fmt.Sprintf("forger-%d", i), Kind: crm.KindButton, Payload: "offer:vip-care:accept"})
		if got := texts(out); strings.Contains(got, "VIP15") || !strings.Contains(got, "không áp dụng") {
			t.Fatalf("a forged accept was answered %q", got)
		}
		if c := e.customer(crm.ChannelWeb, fmt.Sprintf("forger-%d", i)); c.Offers["vip-care"] != nil || c.Stats.OffersTaken != 0 {
			t.Fatalf("a forged accept changed the customer's offer stats: %+v", c.Offers)
		}
	}
	for _, action := range []string{"more", "decline"} {
		e.say(bot.Inbound{UserID: "forger-0", Kind: crm.KindButton, Payload: "offer:vip-care:" + action})
	}
	if err := e.db.View(ctx, func(tx crm.Tx) error {
		for _, kind := range []string{crm.OfferAccepted, crm.OfferDeclined, crm.OfferMore} {
			if n, err := tx.Counter("offer:vip-care:" + kind); err != nil || n != 0 {
				t.Errorf("counter %s = %d (%v), want 0", kind, n, err)
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}

	// Shown, then accepted: it counts, once.
	_, out := e.say(bot.Inbound{UserID: "real", Text: "xin chào"})
	if !strings.Contains(texts(out), "offer:welcome-new:accept") {
		t.Fatalf("the greeting showed no welcome offer: %s", texts(out))
	}
	_, out = e.say(bot.Inbound{UserID: "real", Kind: crm.KindButton, Payload: "offer:welcome-new:accept"})
	if got := texts(out); !strings.Contains(got, "WELCOME10") {
		t.Fatalf("a real accept was answered %q", got)
	}
	// Someone who opted out cannot take it any more.
	e.say(bot.Inbound{UserID: "real", Text: "STOP"})
	_, out = e.say(bot.Inbound{UserID: "real", Kind: crm.KindButton, Payload: "offer:welcome-new:accept"})
	if got := texts(out); strings.Contains(got, "WELCOME10") {
		t.Fatalf("an opted-out customer took the offer: %q", got)
	}
	if c := e.customer(crm.ChannelWeb, "real"); c.Offers["welcome-new"].Accepted != 1 || c.Stats.OffersTaken != 1 {
		t.Fatalf("offer stats: %+v, taken %d", c.Offers["welcome-new"], c.Stats.OffersTaken)
	}
}

// A rep merges two web chat sessions of one person: each session still
// reads only its own messages; a rep confirms a typed phone.
func TestRepMergeKeepsSessionsApart(t *testing.T) {
	e := newEnv(t, "")
	ctx := context.Background()
	e.say(bot.Inbound{UserID: "sess-a", Text: "giao giúp mình tới 12 Lý Thường Kiệt nhé, sđt 0912345678"})
	e.say(bot.Inbound{UserID: "sess-b", Text: "xin chào"})
	a, b := e.customer(crm.ChannelWeb, "sess-a"), e.customer(crm.ChannelWeb, "sess-b")
	if _, err := e.core.Reps().MergeCustomers(ctx, a.ID, a.ID, "U1"); crm.ErrorCode(err) != crm.EINVALID {
		t.Fatalf("merging a customer with itself: %v", err)
	}
	m, err := e.core.Reps().MergeCustomers(ctx, a.ID, b.ID, "U1")
	if err != nil {
		t.Fatal(err)
	}
	if e.customer(crm.ChannelWeb, "sess-b").ID != a.ID || len(m.Identities) != 2 {
		t.Fatalf("after the merge: %+v", m)
	}
	conv, err := e.core.Conversation(ctx, crm.ChannelWeb, "sess-b", 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(conv) == 0 {
		t.Fatal("session b lost its messages")
	}
	for _, it := range conv {
		if it.ChatID != "sess-b" || strings.Contains(it.Text, "Lý Thường Kiệt") {
			t.Fatalf("session b reads session a's message: %+v", it)
		}
	}
	c, err := e.core.Reps().ConfirmClaims(ctx, a.ID, "U1")
	if err != nil || c.Phone != "+84912345678" || c.Claims.Phone != "" {
		t.Fatalf("confirm: %+v, %v", c, err)
	}
	// Another customer claiming the same number is told to merge instead.
	e.say(bot.Inbound{UserID: "sess-c", Text: "0912345678"})
	other := e.customer(crm.ChannelWeb, "sess-c")
	if _, err := e.core.Reps().ConfirmClaims(ctx, other.ID, "U1"); crm.ErrorCode(err) != crm.ECONFLICT {
		t.Fatalf("confirming a number another customer holds: %v", err)
	}
}

// Reps find a customer by the number they typed (unverified), after the
// one proven to hold it.
func TestRepsFindClaimedNumbers(t *testing.T) {
	e := newEnv(t, "")
	victim, _ := e.victimOn(t, crm.ChannelTelegram)
	e.say(bot.Inbound{UserID: "web-1", Text: "sđt mình 0987 654 321"})
	web := e.customer(crm.ChannelWeb, "web-1")
	found, err := e.core.Reps().FindCustomers(context.Background(), "0987654321")
	if err != nil {
		t.Fatal(err)
	}
	if len(found) != 2 || found[0].ID != victim.ID || found[1].ID != web.ID {
		t.Fatalf("found %d customers, want the holder then the claimant", len(found))
	}
	// A new claim replaces the old one in the index.
	e.say(bot.Inbound{UserID: "web-1", Text: "à nhầm, số mình là 0912 345 678"})
	if found, _ := e.core.Reps().FindCustomers(context.Background(), "0987654321"); len(found) != 1 {
		t.Fatalf("the old claim still finds the customer: %d found", len(found))
	}
	if found, _ := e.core.Reps().FindCustomers(context.Background(), "0912345678"); len(found) != 1 || found[0].ID != web.ID {
		t.Fatalf("the new claim does not find the customer")
	}
}

// One asker has at most one code pending: typing a second holder's number
// right after the first sends nothing to the second.
func TestOneCodePendingPerAsker(t *testing.T) {
	e := newEnv(t, "")
	e.victimOn(t, crm.ChannelTelegram)
	e.say(bot.Inbound{Channel: crm.ChannelZalo, UserID: "z-2", Kind: crm.KindContact, Contact: &bot.Contact{Phone: "0912345678", Self: true}})
	e.rec.Take()
	_, out := e.say(bot.Inbound{UserID: "asker", Text: victimPhone})
	if _, others := split(out, crm.ChannelWeb, "asker"); len(others) != 1 {
		t.Fatalf("first claim: %d codes sent, want 1", len(others))
	}
	_, out = e.say(bot.Inbound{UserID: "asker", Text: "0912345678"})
	if _, others := split(out, crm.ChannelWeb, "asker"); len(others) != 0 {
		t.Fatalf("a second holder got a code while the first was pending: %s", texts(others))
	}
}

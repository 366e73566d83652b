package main

import (
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/idicbot/idicbot/adapters/telegram/telegramtest"
	"github.com/idicbot/idicbot/crm"
)

// rawConversation is GET /webchat/messages as the browser receives it.
func rawConversation(t *testing.T, base, session string) string {
	t.Helper()
	resp, err := http.Get(base + "/webchat/messages?session=" + session + "&after=0")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("GET conversation: %d %v", resp.StatusCode, err)
	}
	return string(b)
}

// The attack of issue 14, end to end through the real program: a Telegram
// customer shares her own contact and an address; a stranger on the web chat
// types her number, forges an offer button and guesses codes. Nothing of hers
// reaches the stranger and nothing merges; she gets a one-time code on
// her own Telegram.
func TestTakeoverAttemptEndToEnd(t *testing.T) {
	srv := telegramtest.New(t)
	s := startTelegramMain(t, srv, t.TempDir(), nil, nil)
	s.stopOnCleanup(t)
	base := s.m.URL()

	lan := telegramtest.User{ID: 7000001, FirstName: "Lan", LastName: "Nguyễn", LanguageCode: "vi"}
	srv.UserText(lan, "xin chào")
	s.settled(lan, 1)
	srv.UserContact(lan, "84987654321", true)
	s.settled(lan, 2)
	srv.UserText(lan, "giao giúp mình tới 12 Lý Thường Kiệt nhé")
	victim := s.settled(lan, 3)
	if victim.Phone != "+84987654321" {
		t.Fatalf("victim phone %q", victim.Phone)
	}
	before := len(sentTo(srv, lan.ID))

	post := func(session, id, field, value string) {
		t.Helper()
		body := `{"session":"` + session + `","id":"` + id + `","` + field + `":"` + value + `"}`
		if code, resp := postJSON(t, base+"/webchat/messages", body); code != 200 {
			t.Fatalf("post %s: %d %s", body, code, resp)
		}
	}

	// The stranger.
	post("stranger1", "m1", "text", "0987654321")
	post("stranger1", "m2", "text", "xin chào")
	post("stranger1", "m3", "payload", "offer:vip-care:accept")
	post("stranger1", "g1", "text", "123456") // a guess (five end the code: see bot's tests)
	got := rawConversation(t, base, "stranger1")
	for _, leak := range []string{"Lan", "Lý Thường Kiệt", "VIP15", strconv.FormatInt(lan.ID, 10), "Đã xác nhận"} {
		if strings.Contains(got, leak) {
			t.Fatalf("the stranger's web chat shows %q:\n%s", leak, got)
		}
	}
	if c := s.customer(crm.ChannelWeb, "stranger1"); c == nil || c.ID == victim.ID || c.Phone != "" {
		t.Fatalf("stranger record: %+v", c)
	}
	if c := s.tgCustomer(lan); len(c.Identities) != 1 || c.Offers["vip-care"] != nil {
		t.Fatalf("the victim's record changed: %+v", c)
	}
	// Lan, and only Lan, was told that someone typed her number.
	waitFor(t, "a one-time code on Telegram", func() bool {
		for _, m := range sentTo(srv, lan.ID)[before:] {
			if regexp.MustCompile(`\b[0-9]{6}\b`).MatchString(m.Text) {
				return true
			}
		}
		return false
	})
}

// The verified merge end to end: the first claimant types the code sent to
// the Telegram account that proved the number.
func TestVerifiedMergeEndToEnd(t *testing.T) {
	srv := telegramtest.New(t)
	s := startTelegramMain(t, srv, t.TempDir(), nil, nil)
	s.stopOnCleanup(t)
	base := s.m.URL()

	lan := telegramtest.User{ID: 7000002, FirstName: "Lan", LanguageCode: "vi"}
	srv.UserContact(lan, "84987654321", true)
	s.settled(lan, 1)
	srv.UserText(lan, "giao giúp mình tới 12 Lý Thường Kiệt nhé")
	victim := s.settled(lan, 2)
	before := len(sentTo(srv, lan.ID))

	if code, resp := postJSON(t, base+"/webchat/messages", `{"session":"lanweb","id":"m1","text":"0987654321"}`); code != 200 {
		t.Fatalf("post: %d %s", code, resp)
	}
	var code string
	waitFor(t, "a one-time code on Telegram", func() bool {
		for _, m := range sentTo(srv, lan.ID)[before:] {
			if c := regexp.MustCompile(`\b[0-9]{6}\b`).FindString(m.Text); c != "" {
				code = c
				return true
			}
		}
		return false
	})
	if code2, resp := postJSON(t, base+"/webchat/messages", `{"session":"lanweb","id":"m2","text":"`+code+`"}`); code2 != 200 {
		t.Fatalf("post code: %d %s", code2, resp)
	}
	got := rawConversation(t, base, "lanweb")
	if !strings.Contains(got, "Đã xác nhận") {
		t.Fatalf("the code was not accepted:\n%s", got)
	}
	if strings.Contains(got, "Lý Thường Kiệt") {
		t.Fatalf("the web session reads the Telegram conversation:\n%s", got)
	}
	if c := s.customer(crm.ChannelWeb, "lanweb"); c == nil || c.ID != victim.ID || len(c.Identities) != 2 {
		t.Fatalf("after the code: %+v", c)
	}
}

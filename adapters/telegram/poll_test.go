package telegram

import (
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/idicbot/idicbot/adapters/telegram/telegramtest"
	"github.com/idicbot/idicbot/bot"
	"github.com/idicbot/idicbot/crm"
)

func TestPollingHandlesAndConfirms(t *testing.T) {
	srv := telegramtest.New(t)
	h := newFakeHandler()
	lan := telegramtest.User{ID: 1111111, FirstName: "Lan", LanguageCode: "vi"}
	srv.UserText(lan, "/start fb_ad-42")
	srv.UserText(lan, "xin chào")
	photo := srv.UserPhoto(lan)

	openAdapter(t, h, testOptions(srv))
	eventually(t, "three updates committed", func() bool { return len(h.Committed()) == 3 })
	eventually(t, "offset confirmed", func() bool { return srv.Confirmed() == photo.UpdateID+1 })

	got := h.Committed()
	if got[0].Command != "start" || got[0].Source != "fb_ad-42" || got[0].Locale != "vi" {
		t.Fatalf("first inbound %+v, want /start with source fb_ad-42", got[0])
	}
	if got[1].Text != "xin chào" || got[2].Kind != crm.KindPhoto {
		t.Fatalf("inbounds %+v", got)
	}

	// Long polling removes any webhook before its first getUpdates.
	calls := srv.Calls("")
	var methods []string
	for _, c := range calls[:3] {
		methods = append(methods, c.Method)
	}
	if fmt.Sprint(methods) != "[getMe deleteWebhook getUpdates]" {
		t.Fatalf("first calls %v", methods)
	}
	if dw := srv.Calls("deleteWebhook")[0]; dw.Params["drop_pending_updates"] == "true" {
		t.Fatal("deleteWebhook dropped pending updates")
	}
}

func TestCallbackQueryAnsweredAfterCommit(t *testing.T) {
	srv := telegramtest.New(t)
	h := newFakeHandler()
	release := make(chan struct{})
	started := make(chan struct{}, 1)
	h.decide = func(in bot.Inbound, _ int) error {
		if in.Kind == crm.KindButton {
			started <- struct{}{}
			<-release
		}
		return nil
	}
	lan := telegramtest.User{ID: 1111111, FirstName: "Lan"}
	press := srv.PressButton(lan, "offer:o1:accept")
	openAdapter(t, h, testOptions(srv))

	<-started
	if n := len(srv.Answered()); n != 0 {
		t.Fatalf("%d callback queries answered before the commit", n)
	}
	close(release)
	eventually(t, "callback query answered", func() bool { return len(srv.Answered()) == 1 })
	if got := srv.Answered()[0]; got != press.QueryID {
		t.Fatalf("answered %q, want %q", got, press.QueryID)
	}
	if c := h.Committed(); len(c) != 1 || c[0].Payload != "offer:o1:accept" || c[0].MessageID != "c:"+press.QueryID {
		t.Fatalf("committed %+v", c)
	}
}

func TestPerChatOrderUnderConcurrency(t *testing.T) {
	srv := telegramtest.New(t)
	h := newFakeHandler()
	const chats, perChat = 6, 25
	users := make([]telegramtest.User, chats)
	for i := range users {
		users[i] = telegramtest.User{ID: int64(5000 + i), FirstName: "U" + strconv.Itoa(i)}
	}
	// Interleave the chats as Telegram would deliver them.
	for n := 0; n < perChat; n++ {
		for _, u := range users {
			srv.UserText(u, strconv.Itoa(n))
		}
	}
	opts := testOptions(srv)
	opts.Workers = 4
	openAdapter(t, h, opts)
	eventually(t, "all updates committed", func() bool { return len(h.Committed()) == chats*perChat })

	next := map[string]int{}
	for _, in := range h.Committed() {
		if want := strconv.Itoa(next[in.ChatID]); in.Text != want {
			t.Fatalf("chat %s: got message %q, want %q: out of order", in.ChatID, in.Text, want)
		}
		next[in.ChatID]++
	}
	h.mu.Lock()
	overlap := h.overlap
	h.mu.Unlock()
	if overlap {
		t.Fatal("two updates of one chat were handled at the same time")
	}
}

// Different chats are handled at the same time: each of two chats' first
// update waits until the other one has started.
func TestChatsHandledInParallel(t *testing.T) {
	srv := telegramtest.New(t)
	h := newFakeHandler()
	var wg sync.WaitGroup
	wg.Add(2)
	bothStarted := make(chan struct{})
	go func() { wg.Wait(); close(bothStarted) }()
	h.decide = func(in bot.Inbound, attempt int) error {
		if attempt == 1 {
			wg.Done()
			<-bothStarted
		}
		return nil
	}
	srv.UserText(telegramtest.User{ID: 1, FirstName: "A"}, "a")
	srv.UserText(telegramtest.User{ID: 2, FirstName: "B"}, "b")
	openAdapter(t, h, testOptions(srv))
	eventually(t, "both chats committed", func() bool { return len(h.Committed()) == 2 })
}

func TestFailedUpdateIsRedeliveredAndHoldsTheOffset(t *testing.T) {
	srv := telegramtest.New(t)
	h := newFakeHandler()
	a := telegramtest.User{ID: 1, FirstName: "A"}
	b := telegramtest.User{ID: 2, FirstName: "B"}
	srv.UserText(a, "a1")
	bad := srv.UserText(a, "a2")
	b1 := srv.UserText(b, "b1")
	after := srv.UserText(a, "a3")
	badID := "m:1:" + strconv.Itoa(bad.MessageID)
	h.decide = func(in bot.Inbound, attempt int) error {
		if in.MessageID == badID && attempt <= 2 {
			return errStore
		}
		return nil
	}
	openAdapter(t, h, testOptions(srv))
	eventually(t, "all committed", func() bool { return len(h.Committed()) == 4 })
	eventually(t, "offset confirmed", func() bool { return srv.Confirmed() == after.UpdateID+1 })

	var chatA []string
	for _, in := range h.Committed() {
		if in.ChatID == "1" {
			chatA = append(chatA, in.Text)
		}
	}
	if fmt.Sprint(chatA) != "[a1 a2 a3]" {
		t.Fatalf("chat A committed %v, want [a1 a2 a3]", chatA)
	}
	if n := h.Tries(badID); n != 3 {
		t.Fatalf("failing update tried %d times, want 3", n)
	}
	// The offset stopped at the failed update until it succeeded, and the
	// other chat's update, committed meanwhile, was not handled again.
	var offsets []int64
	for _, c := range srv.Calls("getUpdates") {
		o, _ := strconv.ParseInt(c.Params["offset"], 10, 64)
		offsets = append(offsets, o)
	}
	held := 0
	for i, o := range offsets {
		if i > 0 && o < offsets[i-1] {
			t.Fatalf("offset went back: %v", offsets)
		}
		if o == bad.UpdateID {
			held++
		}
	}
	if held < 2 {
		t.Fatalf("getUpdates asked %d times from the failed update %d, want 2 (one per failure): offsets %v", held, bad.UpdateID, offsets)
	}
	if n := h.Tries("m:2:" + strconv.Itoa(b1.MessageID)); n != 1 {
		t.Fatalf("other chat's update handled %d times, want 1", n)
	}
}

// TestRefusedUpdateIsSkipped: an event the core refuses for good (EINVALID)
// is logged and confirmed instead of blocking its chat and the offset.
func TestRefusedUpdateIsSkipped(t *testing.T) {
	srv := telegramtest.New(t)
	h := newFakeHandler()
	a := telegramtest.User{ID: 1, FirstName: "A"}
	bad := srv.UserText(a, "refused")
	next := srv.UserText(a, "next")
	h.decide = func(in bot.Inbound, attempt int) error {
		if in.Text == "refused" {
			return crm.Errorf(crm.EINVALID, "text is refused")
		}
		return nil
	}
	openAdapter(t, h, testOptions(srv))
	eventually(t, "offset confirmed", func() bool { return srv.Confirmed() == next.UpdateID+1 })
	if n := h.Tries("m:1:" + strconv.Itoa(bad.MessageID)); n != 1 {
		t.Fatalf("refused update tried %d times, want 1", n)
	}
	if got := h.Committed(); len(got) != 1 || got[0].Text != "next" {
		t.Fatalf("committed %+v, want the next message", got)
	}
}

func TestPanickingUpdateSkippedAfterThreeAttempts(t *testing.T) {
	srv := telegramtest.New(t)
	h := newFakeHandler()
	a := telegramtest.User{ID: 1, FirstName: "A"}
	poison := srv.UserText(a, "boom")
	next := srv.UserText(a, "still here")
	poisonID := "m:1:" + strconv.Itoa(poison.MessageID)
	h.decide = func(in bot.Inbound, _ int) error {
		if in.MessageID == poisonID {
			panic("template exploded")
		}
		return nil
	}
	openAdapter(t, h, testOptions(srv))
	eventually(t, "next message committed", func() bool { return len(h.Committed()) == 1 })
	eventually(t, "offset past both", func() bool { return srv.Confirmed() == next.UpdateID+1 })
	if n := h.Tries(poisonID); n != maxPanics {
		t.Fatalf("panicking update tried %d times, want %d", n, maxPanics)
	}
	if got := h.Committed()[0].Text; got != "still here" {
		t.Fatalf("committed %q", got)
	}
}

func TestCloseWaitsForInFlightHandling(t *testing.T) {
	srv := telegramtest.New(t)
	h := newFakeHandler()
	started := make(chan struct{})
	release := make(chan struct{})
	h.decide = func(bot.Inbound, int) error {
		close(started)
		<-release
		return nil
	}
	srv.UserText(telegramtest.User{ID: 1, FirstName: "A"}, "slow")
	ad, err := New(h, testOptions(srv))
	if err != nil {
		t.Fatal(err)
	}
	if err := ad.Open(t.Context()); err != nil {
		t.Fatal(err)
	}
	<-started
	var released atomic.Bool
	early := make(chan bool, 1)
	go func() { _ = ad.Close(); early <- !released.Load() }()
	time.Sleep(20 * time.Millisecond) // give a wrong Close the chance to return early
	released.Store(true)
	close(release)
	if <-early {
		t.Fatal("Close returned while an update was being handled")
	}
	if len(h.Committed()) != 1 {
		t.Fatal("in-flight update not committed")
	}
	// The handled update is confirmed on the way out, so a restart does
	// not receive it again.
	if srv.Pending() != 0 {
		t.Fatalf("%d updates still pending after Close", srv.Pending())
	}
}

func TestPollingSurvivesGetUpdatesErrors(t *testing.T) {
	srv := telegramtest.New(t)
	h := newFakeHandler()
	srv.Fail("getUpdates",
		telegramtest.Fault{Code: 502, Body: "<html><body><h1>502 Bad Gateway</h1></body></html>"},
		telegramtest.Fault{Code: 500},
		telegramtest.Fault{Code: 409},
	)
	srv.UserText(telegramtest.User{ID: 1, FirstName: "A"}, "hi")
	openAdapter(t, h, testOptions(srv))
	eventually(t, "update committed after errors", func() bool { return len(h.Committed()) == 1 })
}

package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/idicbot/idicbot/adapters/telegram/telegramtest"
	"github.com/idicbot/idicbot/crm"
)

// testClock is a clock the test moves.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) Now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *testClock) Set(t time.Time) { c.mu.Lock(); defer c.mu.Unlock(); c.t = t }

// The birthday journey through the real program and a fake Telegram Bot
// API: at 09:00 shop time the customer whose birthday it is gets the wish
// once; the one whose birthday is tomorrow and the one who said stop get
// nothing.
func TestBirthdayJourneyOverTelegram(t *testing.T) {
	ict, err := time.LoadLocation("Asia/Ho_Chi_Minh")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	journeys := `journeys:
  - id: birthday
    name: Sinh nhật
    kind: birthday
    at: "09:00"
    text:
      vi: "Chúc mừng sinh nhật! Shop tặng bạn mã SN10."
      en: "Happy birthday! Code SN10 is yours."
`
	if err := os.WriteFile(filepath.Join(dir, "journeys.yaml"), []byte(journeys), 0o600); err != nil {
		t.Fatal(err)
	}
	clock := &testClock{t: time.Date(2026, 3, 10, 8, 0, 0, 0, ict)}
	srv := telegramtest.New(t)
	s := startServeWith(t, dir, map[string]string{"TELEGRAM_BOT_TOKEN": srv.Token, "TELEGRAM_API_URL": srv.URL()},
		telegramTestConfig+"journeys_file: journeys.yaml\n", func(m *Main) { m.Now = clock.Now })
	s.srv = srv
	s.stopOnCleanup(t)

	lan := telegramtest.User{ID: 6000001, FirstName: "Lan", LanguageCode: "vi"}
	binh := telegramtest.User{ID: 6000002, FirstName: "Bình", LanguageCode: "vi"}
	chi := telegramtest.User{ID: 6000003, FirstName: "Chi", LanguageCode: "vi"}
	for _, u := range []telegramtest.User{lan, binh, chi} {
		srv.UserText(u, "xin chào")
		s.settled(u, 1)
	}
	srv.UserText(chi, "stop")
	s.settled(chi, 2)
	ctx := context.Background()
	if err := s.m.DB.Update(ctx, func(tx crm.Tx) error {
		for _, u := range []telegramtest.User{lan, binh, chi} {
			c, err := tx.Customer(s.tgCustomer(u).ID)
			if err != nil {
				return err
			}
			bd := time.Date(1995, 3, 10, 0, 0, 0, 0, time.UTC)
			if u.ID == binh.ID {
				bd = bd.AddDate(0, 0, 1)
			}
			c.Birthday = &bd
			if err := tx.PutCustomer(c); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	s.flush()
	before := map[int64]int{}
	for _, u := range []telegramtest.User{lan, binh, chi} {
		before[u.ID] = len(sentTo(srv, u.ID))
	}
	tick := func(at time.Time) {
		t.Helper()
		clock.Set(at)
		if err := s.m.Outreach.Tick(ctx); err != nil {
			t.Fatal(err)
		}
		s.m.Dispatcher.Enqueue(&crm.OutboxItem{}) // the clock moved: claim what is due
		s.flush()
	}
	tick(time.Date(2026, 3, 10, 8, 59, 0, 0, ict))
	for _, u := range []telegramtest.User{lan, binh, chi} {
		if n := len(sentTo(srv, u.ID)); n != before[u.ID] {
			t.Fatalf("%s got %d messages before 09:00", u.FirstName, n-before[u.ID])
		}
	}
	tick(time.Date(2026, 3, 10, 9, 0, 0, 0, ict))
	tick(time.Date(2026, 3, 10, 14, 0, 0, 0, ict)) // and again later: nothing more
	got := sentTo(srv, lan.ID)[before[lan.ID]:]
	if len(got) != 1 || !strings.Contains(got[0].Text, "Chúc mừng sinh nhật") || !strings.Contains(got[0].Text, "STOP") {
		t.Fatalf("Lan got %+v, want the wish once, with the way out", got)
	}
	for _, u := range []telegramtest.User{binh, chi} {
		if n := len(sentTo(srv, u.ID)); n != before[u.ID] {
			t.Fatalf("%s got %d messages, want none", u.FirstName, n-before[u.ID])
		}
	}
	p, err := s.m.Outreach.Progress(ctx, "j-birthday-20260310")
	if err != nil {
		t.Fatal(err)
	}
	if p.Sent != 1 || p.Skipped[crm.SkipOptedOut] != 1 {
		t.Fatalf("occurrence sent %d skipped %v, want 1 sent and 1 opted out", p.Sent, p.Skipped)
	}
}

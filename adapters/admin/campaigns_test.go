package admin_test

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/idicbot/idicbot/adapters/admin"
	"github.com/idicbot/idicbot/bot"
	"github.com/idicbot/idicbot/bot/bottest"
	"github.com/idicbot/idicbot/crm"
)

// A campaign through the API: preview (who is skipped and why, samples),
// a test send, create, live progress until done, measures.
func TestCampaignAPI(t *testing.T) {
	ict := time.FixedZone("ICT", 7*3600)
	kit := bottest.NewCore(t, bottest.StartAt(time.Date(2026, 3, 10, 10, 0, 0, 0, ict)))
	ctx := context.Background()
	var ids []crm.ID
	for i, text := range []string{"xin chào", "hello there", "stop"} {
		res, err := kit.Core.Handle(ctx, bot.Inbound{Channel: crm.ChannelTelegram, UserID: string(rune('a' + i)),
			ChatID: string(rune('a' + i)), MessageID: "m" + text, Text: text})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, res.CustomerID)
	}
	if err := kit.Disp.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	kit.Rec.Take()
	out := kit.Core.Outreach(bot.OutreachOptions{Location: ict, Journeys: []bot.Journey{{ID: "birthday", Kind: bot.JourneyBirthday, Offer: "birthday"}}})
	mux := http.NewServeMux()
	admin.New(kit.Core, admin.Options{Token: token, Now: kit.Now, Logger: slog.New(slog.DiscardHandler), Campaigns: out}).Routes(mux)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	e := &env{t: t, db: kit.DB, core: kit.Core, srv: srv}

	var journeys []bot.Journey
	if code := e.call("GET", "/api/admin/journeys", nil, &journeys); code != http.StatusOK || len(journeys) != 1 || journeys[0].Offer != "birthday" {
		t.Fatalf("journeys: %d %+v", code, journeys)
	}
	body := map[string]any{"id": "spring", "name": "Spring sale", "text": map[string]string{"vi": "Giảm 20% tuần này.", "en": "20% off this week."}}
	var prev struct {
		Audience int64             `json:"audience"`
		Send     map[string]int64  `json:"send_per_channel"`
		Skipped  map[string]int64  `json:"skipped"`
		Names    []map[string]any  `json:"skipped_customers"`
		Samples  map[string]string `json:"samples"`
	}
	if code := e.call("POST", "/api/admin/campaigns/preview", body, &prev); code != http.StatusOK {
		t.Fatalf("preview: %d", code)
	}
	if prev.Audience != 3 || prev.Send["telegram"] != 2 || prev.Skipped[crm.SkipOptedOut] != 1 || len(prev.Names) != 1 {
		t.Fatalf("preview %+v, want 3 in the audience, 2 on Telegram, the one who said stop skipped", prev)
	}
	if !strings.Contains(prev.Samples["vi"], "Giảm 20%") || !strings.Contains(prev.Samples["en"], "Reply STOP") {
		t.Fatalf("samples %v, want both languages with the way out", prev.Samples)
	}
	if sent := kit.Rec.Take(); len(sent) != 0 {
		t.Fatalf("the preview sent %d messages", len(sent))
	}

	test := map[string]any{"name": "Spring sale", "text": body["text"], "customer_id": ids[0]}
	if code := e.call("POST", "/api/admin/campaigns/test", test, nil); code != http.StatusAccepted {
		t.Fatalf("test send: %d", code)
	}
	if err := kit.Disp.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if sent := kit.Rec.Take(); len(sent) != 1 || sent[0].CustomerID != ids[0] {
		t.Fatalf("test send delivered %v, want one message to the chosen customer", sent)
	}

	var view struct {
		Status    string           `json:"status"`
		Sent      int64            `json:"sent"`
		Queued    int64            `json:"queued"`
		Skipped   map[string]int64 `json:"skipped"`
		Remaining int64            `json:"remaining"`
		Stats     *struct {
			Delivered int64 `json:"delivered"`
		} `json:"stats"`
	}
	if code := e.call("POST", "/api/admin/campaigns", body, &view); code != http.StatusCreated || view.Status != crm.CampaignScheduled {
		t.Fatalf("create: %d %+v", code, view)
	}
	if code := e.call("POST", "/api/admin/campaigns", body, nil); code != http.StatusConflict {
		t.Fatalf("create twice: %d, want 409", code)
	}
	if err := out.Tick(ctx); err != nil {
		t.Fatal(err)
	}
	kit.Disp.Enqueue(&crm.OutboxItem{})
	if err := kit.Disp.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if code := e.call("GET", "/api/admin/campaigns/spring", nil, &view); code != http.StatusOK {
		t.Fatalf("get: %d", code)
	}
	if view.Status != crm.CampaignDone || view.Queued != 2 || view.Sent != 2 || view.Skipped[crm.SkipOptedOut] != 1 ||
		view.Remaining != 0 || view.Stats == nil || view.Stats.Delivered != 2 {
		t.Fatalf("after the run %+v, want done, 2 queued and sent, 1 opted out, nothing remaining, 2 delivered", view)
	}
	if code := e.call("POST", "/api/admin/campaigns/spring/cancel", nil, &view); code != http.StatusOK || view.Status != crm.CampaignCancelled {
		t.Fatalf("cancel: %d %+v", code, view)
	}
	if code := e.call("POST", "/api/admin/campaigns/spring/resume", nil, nil); code != http.StatusConflict {
		t.Fatalf("resume a cancelled campaign: %d, want 409", code)
	}
}

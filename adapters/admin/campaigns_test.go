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

// The page's needs: the shop's zone and quiet hours, a start time given as
// a shop wall time (whatever the server's zone), and the list with each
// campaign's measures.
func TestCampaignAPIShopTime(t *testing.T) {
	ict := time.FixedZone("ICT", 7*3600)
	kit := bottest.NewCore(t, bottest.StartAt(time.Date(2026, 3, 10, 10, 0, 0, 0, time.UTC)))
	ctx := context.Background()
	if _, err := kit.Core.Handle(ctx, bot.Inbound{Channel: crm.ChannelTelegram, UserID: "a", ChatID: "a", MessageID: "m1", Text: "xin chào"}); err != nil {
		t.Fatal(err)
	}
	if err := kit.Disp.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	kit.Rec.Take()
	out := kit.Core.Outreach(bot.OutreachOptions{Location: ict})
	mux := http.NewServeMux()
	admin.New(kit.Core, admin.Options{Token: token, Now: kit.Now, Logger: slog.New(slog.DiscardHandler), Campaigns: out}).Routes(mux)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	e := &env{t: t, db: kit.DB, core: kit.Core, srv: srv}

	var set struct {
		Zone   string `json:"timezone"`
		Offset int    `json:"offset_minutes"`
		Now    string `json:"now_local"`
		From   string `json:"quiet_from"`
		Until  string `json:"quiet_until"`
	}
	if code := e.call("GET", "/api/admin/outreach", nil, &set); code != http.StatusOK || set.Zone != "ICT" || set.Offset != 420 ||
		set.Now != "2026-03-10T17:00" || set.From != "21:00" || set.Until != "08:00" {
		t.Fatalf("outreach settings: %d %+v, want ICT +07:00, 17:00 local, quiet 21:00–08:00", code, set)
	}

	body := map[string]any{"id": "tet", "name": "Tết", "text": map[string]string{"vi": "Chúc mừng năm mới"}, "at_local": "2026-03-11T09:00"}
	var view struct {
		Status string    `json:"status"`
		At     time.Time `json:"at"`
	}
	if code := e.call("POST", "/api/admin/campaigns", body, &view); code != http.StatusCreated {
		t.Fatalf("create: %d", code)
	}
	if want := time.Date(2026, 3, 11, 9, 0, 0, 0, ict); !view.At.Equal(want) || view.Status != crm.CampaignScheduled {
		t.Fatalf("scheduled %v (%s), want %v shop time, scheduled", view.At, view.Status, want)
	}
	for _, bad := range []map[string]any{
		{"id": "x1", "text": map[string]string{"vi": "a"}, "at_local": "11/03/2026 9h"},
		{"id": "x2", "text": map[string]string{"vi": "a"}, "at_local": "2026-03-11T09:00", "at": "2026-03-11T09:00:00+07:00"},
	} {
		if code := e.call("POST", "/api/admin/campaigns", bad, nil); code != http.StatusBadRequest {
			t.Fatalf("create with %v: %d, want 400", bad, code)
		}
	}

	body = map[string]any{"id": "now", "name": "Now", "text": map[string]string{"vi": "Giảm 10%"}}
	if code := e.call("POST", "/api/admin/campaigns", body, nil); code != http.StatusCreated {
		t.Fatalf("create now: %d", code)
	}
	if err := out.Tick(ctx); err != nil {
		t.Fatal(err)
	}
	kit.Disp.Enqueue(&crm.OutboxItem{})
	if err := kit.Disp.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	type row struct {
		ID    string `json:"id"`
		Stats *struct {
			Delivered int64 `json:"delivered"`
		} `json:"stats"`
	}
	var plain, full []row
	if code := e.call("GET", "/api/admin/campaigns", nil, &plain); code != http.StatusOK || len(plain) != 2 || plain[0].Stats != nil {
		t.Fatalf("list: %d %+v, want 2 without measures", code, plain)
	}
	if code := e.call("GET", "/api/admin/campaigns?stats=1", nil, &full); code != http.StatusOK || len(full) != 2 {
		t.Fatalf("list with stats: %d %+v", code, full)
	}
	got := map[string]int64{}
	for _, r := range full {
		if r.Stats == nil {
			t.Fatalf("%s has no measures", r.ID)
		}
		got[r.ID] = r.Stats.Delivered
	}
	if got["now"] != 1 || got["tet"] != 0 {
		t.Fatalf("delivered %v, want now 1, tet 0", got)
	}
}

// Journeys edited through the API: added, replaced, refused when invalid
// or when someone saved meanwhile, deleted; saved in the store, so a new
// process (a fresh Outreach on the same file) runs the edited ones.
func TestJourneyAPI(t *testing.T) {
	ict := time.FixedZone("ICT", 7*3600)
	kit := bottest.NewCore(t, bottest.StartAt(time.Date(2026, 3, 10, 10, 0, 0, 0, ict)))
	opts := bot.OutreachOptions{Location: ict, JourneyStore: kit.DB,
		Journeys: []bot.Journey{{ID: "birthday", Name: "Sinh nhật", Kind: bot.JourneyBirthday, Offer: "birthday"}}}
	out := kit.Core.Outreach(opts)
	mux := http.NewServeMux()
	admin.New(kit.Core, admin.Options{Token: token, Now: kit.Now, Logger: slog.New(slog.DiscardHandler), Campaigns: out}).Routes(mux)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	e := &env{t: t, db: kit.DB, core: kit.Core, srv: srv}

	var set struct {
		Editable bool `json:"journeys_editable"`
		Version  int  `json:"journeys_version"`
	}
	if code := e.call("GET", "/api/admin/outreach", nil, &set); code != http.StatusOK || !set.Editable || set.Version != 0 {
		t.Fatalf("outreach: %d %+v, want editable at version 0", code, set)
	}
	payday := map[string]any{"id": "payday", "name": "Ngày lương", "kind": "payday", "days": 3, "at": "10:30",
		"audience": map[string]any{"segments": []string{"loyal"}, "rule": "total_spent > 1000000"},
		"text":     map[string]string{"vi": "Lương về, giảm 10%!"}, "version": 0}
	var res struct {
		Version  int           `json:"version"`
		Journeys []bot.Journey `json:"journeys"`
	}
	if code := e.call("PUT", "/api/admin/journeys/payday", payday, &res); code != http.StatusOK || res.Version != 1 || len(res.Journeys) != 2 {
		t.Fatalf("add: %d %+v", code, res)
	}
	if code := e.call("PUT", "/api/admin/journeys/payday", payday, nil); code != http.StatusConflict {
		t.Fatalf("a save from version 0 after version 1: %d, want 409", code)
	}
	payday["version"], payday["days"] = 1, 0
	if code := e.call("PUT", "/api/admin/journeys/payday", payday, nil); code != http.StatusUnprocessableEntity {
		t.Fatalf("0 days: %d, want 422", code)
	}
	payday["days"], payday["kind"] = 5, "weekly"
	if code := e.call("PUT", "/api/admin/journeys/payday", payday, nil); code != http.StatusUnprocessableEntity {
		t.Fatalf("an unknown kind: %d, want 422", code)
	}
	payday["kind"] = "payday"
	if code := e.call("PUT", "/api/admin/journeys/other", payday, nil); code != http.StatusBadRequest {
		t.Fatalf("a body for another id: %d, want 400", code)
	}
	if code := e.call("PUT", "/api/admin/journeys/payday", payday, &res); code != http.StatusOK || res.Version != 2 {
		t.Fatalf("replace: %d %+v", code, res)
	}
	if code := e.call("DELETE", "/api/admin/journeys/nope?version=2", nil, nil); code != http.StatusNotFound {
		t.Fatalf("delete an unknown journey: %d, want 404", code)
	}
	if code := e.call("DELETE", "/api/admin/journeys/birthday?version=2", nil, &res); code != http.StatusOK || res.Version != 3 ||
		len(res.Journeys) != 1 || res.Journeys[0].ID != "payday" || res.Journeys[0].Days != 5 {
		t.Fatalf("delete: %d %+v", code, res)
	}

	// A new process reads the saved journeys over its file's.
	again := kit.Core.Outreach(opts)
	if err := again.LoadJourneys(context.Background()); err != nil {
		t.Fatal(err)
	}
	js := again.Journeys()
	if len(js) != 1 || js[0].ID != "payday" || js[0].At != "10:30" || js[0].Audience.Rule != "total_spent > 1000000" || again.JourneysVersion() != 3 {
		t.Fatalf("after a restart the journeys are %+v (version %d), want the saved payday one (version 3)", js, again.JourneysVersion())
	}

	// Without a store, journeys come from the file only.
	fileOnly := kit.Core.Outreach(bot.OutreachOptions{Location: ict})
	mux = http.NewServeMux()
	admin.New(kit.Core, admin.Options{Token: token, Now: kit.Now, Logger: slog.New(slog.DiscardHandler), Campaigns: fileOnly}).Routes(mux)
	srv2 := httptest.NewServer(mux)
	t.Cleanup(srv2.Close)
	e2 := &env{t: t, db: kit.DB, core: kit.Core, srv: srv2}
	payday["version"] = 0
	if code := e2.call("PUT", "/api/admin/journeys/payday", payday, nil); code != http.StatusBadRequest {
		t.Fatalf("edit without a store: %d, want 400", code)
	}
}

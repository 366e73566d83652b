package admin_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/idicbot/idicbot/adapters/admin"
	"github.com/idicbot/idicbot/adapters/internal/axetest"
	"github.com/idicbot/idicbot/adapters/webchat/webchattest"
	"github.com/idicbot/idicbot/bot"
	"github.com/idicbot/idicbot/bot/bottest"
	"github.com/idicbot/idicbot/crm"
)

// TestBrowserCampaigns uses the campaigns view as an owner would on a
// phone (390×844), in Vietnamese: the journeys listed, a campaign made from
// the form (audience from the pick-lists, its own text), previewed (who
// would get it per channel, who is skipped and why, the text per
// language), tried on one customer, started after a confirmation, and its
// progress followed live until it is done, with its measures; the view as
// cards with nothing off screen, and axe finds no serious or critical
// violation, in Vietnamese and in English.
func TestBrowserCampaigns(t *testing.T) {
	ict := time.FixedZone("ICT", 7*3600)
	kit := bottest.NewCore(t, bottest.StartAt(time.Date(2026, 3, 10, 10, 0, 0, 0, ict)))
	bg := context.Background()
	var ids []crm.ID
	for i, text := range []string{"xin chào", "mình muốn mua áo", "stop"} {
		res, err := kit.Core.Handle(bg, bot.Inbound{Channel: crm.ChannelTelegram, UserID: fmt.Sprint("u", i),
			ChatID: fmt.Sprint("u", i), MessageID: fmt.Sprint("m", i), Text: text})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, res.CustomerID)
	}
	if err := kit.Disp.Flush(bg); err != nil {
		t.Fatal(err)
	}
	kit.Rec.Take()
	out := kit.Core.Outreach(bot.OutreachOptions{Location: ict, JourneyStore: kit.DB, Journeys: []bot.Journey{
		{ID: "birthday", Name: "Chúc mừng sinh nhật", Kind: bot.JourneyBirthday, Offer: "birthday"}}})
	mux := http.NewServeMux()
	admin.New(kit.Core, admin.Options{Token: token, Now: kit.Now, Logger: slog.New(slog.DiscardHandler), Campaigns: out}).Routes(mux)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)

	ctx := webchattest.NewBrowser(t)
	p := browserPage{t, ctx}
	eval1, waitText, do, sideways := p.eval, p.waitText, p.do, p.sideways

	do("log in",
		chromedp.EmulateViewport(390, 844),
		chromedp.Navigate(srv.URL+"/admin"),
		chromedp.WaitVisible(chromedp.CSS(`html[lang="vi"] #token`)),
		chromedp.SendKeys(chromedp.CSS("#token"), token),
		chromedp.Submit(chromedp.CSS("#login")),
		chromedp.WaitVisible(chromedp.CSS("#nav-campaigns")),
		chromedp.Click(chromedp.CSS("#nav-campaigns")),
		chromedp.WaitVisible(chromedp.CSS(`#journeys tr[data-journey="birthday"]`)))
	waitText("#nav-campaigns", "Chiến dịch")
	waitText("#no-campaigns", "Chưa có chiến dịch nào")
	waitText(`#journeys tr[data-journey="birthday"]`, "Sinh nhật, lúc 09:00")
	waitText(`#journeys tr[data-journey="birthday"]`, "0 lần chạy")
	waitText("#campaigns-view", "21:00–08:00")
	axetest.Check(t, ctx, "campaigns, empty (vi)")

	// A new campaign: every segment but one, a condition from the
	// pick-lists, its own text.
	do("open the form", chromedp.Click(chromedp.CSS("#new-campaign")), chromedp.WaitVisible(chromedp.CSS("#c-name")))
	do("fill the form",
		fill("#c-name", "Xả hàng cuối tuần"), fill("#c-id", "weekend"),
		fill("#camp-builder-fact", "order_count"), fill("#camp-builder-op", "=="), fill("#camp-builder-value", "0"),
		chromedp.Click(chromedp.CSS("#camp-builder-add")),
		chromedp.Click(chromedp.CSS("#c-msg-text")),
		fill("#c-text-vi", "Cuối tuần giảm 15% mọi mẫu áo."),
		fill("#c-text-en", "15% off every shirt this weekend."))
	if got := eval1(`document.getElementById('c-rule').value`); got != "order_count == 0" {
		t.Fatalf("the rule from the pick-lists = %q", got)
	}
	sideways("the form")
	do("preview", chromedp.Click(chromedp.CSS("#c-preview")))
	waitText("#c-audience", "3 khách trong đối tượng")
	waitText("#c-send", "telegram 2")
	waitText("#c-skip", "đã từ chối nhận tin 1")
	waitText("#c-sample-vi", "Cuối tuần giảm 15% mọi mẫu áo.")
	waitText("#c-sample-en", "15% off every shirt this weekend.")
	if sent := kit.Rec.Take(); len(sent) != 0 {
		t.Fatalf("the preview sent %d messages", len(sent))
	}
	sideways("the preview")
	axetest.Check(t, ctx, "new campaign with its preview (vi)")

	// A test send to the customer who said stop is refused, in plain words.
	do("find the opted-out customer", fill("#c-customer-q", fmt.Sprint(ids[2])), chromedp.WaitVisible(chromedp.CSS("#c-customer-hits .c-hit")),
		chromedp.Click(chromedp.CSS("#c-customer-hits .c-hit")), chromedp.Click(chromedp.CSS("#c-test")))
	waitText("#c-error", fmt.Sprintf("Không gửi thử được: khách #%d đã từ chối nhận tin.", ids[2]))

	// A test send to the first customer, found by id.
	do("find a customer", fill("#c-customer-q", fmt.Sprint(ids[0])), chromedp.WaitVisible(chromedp.CSS("#c-customer-hits .c-hit")),
		chromedp.Click(chromedp.CSS("#c-customer-hits .c-hit")))
	waitText("#c-test", fmt.Sprintf("Gửi thử cho (không tên) #%d", ids[0]))
	do("test send", chromedp.Click(chromedp.CSS("#c-test")), chromedp.WaitVisible(chromedp.CSS("#c-test-done")))
	waitText("#c-test-done", "Cuối tuần giảm 15%")
	if err := kit.Disp.Flush(bg); err != nil {
		t.Fatal(err)
	}
	if sent := kit.Rec.Take(); len(sent) != 1 || sent[0].CustomerID != ids[0] || !strings.Contains(sent[0].Text, "giảm 15%") {
		t.Fatalf("the test send delivered %+v, want one message to customer %d", sent, ids[0])
	}

	// Start: one press asks, the second starts.
	do("start once", chromedp.Click(chromedp.CSS("#c-start")))
	waitText("#c-start", "Gửi cho cả đối tượng?")
	if list, err := out.ListCampaigns(bg); err != nil || len(list) != 0 {
		t.Fatalf("one press made campaigns %v (%v)", list, err)
	}
	do("start twice", chromedp.Click(chromedp.CSS("#c-start")), chromedp.WaitVisible(chromedp.CSS(`#campaigns tr[data-campaign="weekend"]`)))
	waitText(`#campaigns tr[data-campaign="weekend"] .progress-text`, "đã gửi 0")
	waitText(`#campaigns tr[data-campaign="weekend"] .badge`, "đã lên lịch")

	// The outreach loop expands it and the dispatcher sends: the page,
	// refreshing by itself, follows.
	if err := out.Tick(bg); err != nil {
		t.Fatal(err)
	}
	kit.Disp.Enqueue(&crm.OutboxItem{})
	if err := kit.Disp.Flush(bg); err != nil {
		t.Fatal(err)
	}
	row := `#campaigns tr[data-campaign="weekend"]`
	waitText(row+" .progress-text", "đã gửi 2 · bỏ qua 1 · lỗi 0 · còn lại 0")
	waitText(row+" .badge", "đã xong")
	waitText(row, "đã từ chối nhận tin 1")
	waitText(row+" .camp-measures", "đã nhận 2")
	waitText(row, "tạo 10:00") // shop time, whatever the browser's zone
	waitText(row+" .camp-measures", "0\u00a0₫")
	if got := eval1(`getComputedStyle(document.querySelector('` + row + `')).display`); got != "block" {
		t.Fatalf("a campaign row displays as %q on a phone, want a card (block)", got)
	}
	sideways("the campaign list")
	axetest.Check(t, ctx, "campaigns with progress (vi)")

	// A campaign for later, at a shop time: scheduled; pause asks first,
	// resume, cancel asks first.
	do("a campaign for later", eval(`location.hash = "#/campaigns/new"`), chromedp.WaitVisible(chromedp.CSS("#c-name")),
		fill("#c-name", "Tết"), fill("#c-id", "tet"), chromedp.Click(chromedp.CSS("#c-msg-text")), fill("#c-text-vi", "Chúc mừng năm mới!"),
		chromedp.Click(chromedp.CSS("#c-when-at")), fill("#c-at", "2026-03-12T09:00"))
	waitText("#c-start", "Lên lịch")
	do("schedule", chromedp.Click(chromedp.CSS("#c-start")), chromedp.Click(chromedp.CSS("#c-start")),
		chromedp.WaitVisible(chromedp.CSS(`#campaigns tr[data-campaign="tet"]`)))
	tet := `#campaigns tr[data-campaign="tet"]`
	waitText(tet, "bắt đầu 09:00")
	waitText(tet, "12/3/2026")
	if p, err := out.Progress(bg, "tet"); err != nil || !p.At.Equal(time.Date(2026, 3, 12, 9, 0, 0, 0, ict)) {
		t.Fatalf("tet starts %v (%v), want 09:00 shop time on the 12th", p, err)
	}
	do("pause once", chromedp.Click(chromedp.CSS(tet+" .camp-pause")))
	waitText(tet+" .camp-pause", "Tạm dừng thật?")
	if p, _ := out.Progress(bg, "tet"); p.Status != crm.CampaignScheduled {
		t.Fatalf("one press made tet %s", p.Status)
	}
	do("pause twice", chromedp.Click(chromedp.CSS(tet+" .camp-pause")))
	waitText(tet+" .badge", "tạm dừng")
	do("resume", chromedp.Click(chromedp.CSS(tet+" .camp-resume")))
	waitText(tet+" .badge", "đã lên lịch")
	do("cancel", chromedp.Click(chromedp.CSS(tet+" .camp-cancel")))
	waitText(tet+" .camp-cancel", "Huỷ thật?")
	do("cancel twice", chromedp.Click(chromedp.CSS(tet+" .camp-cancel")))
	waitText(tet+" .badge", "đã huỷ")
	if p, _ := out.Progress(bg, "tet"); p.Status != crm.CampaignCancelled {
		t.Fatalf("tet is %s after cancel, want cancelled", p.Status)
	}

	// A journey made on the page: a win-back three days after a customer
	// turns at_risk; then the birthday journey turned off.
	do("new journey", chromedp.Click(chromedp.CSS("#new-journey")), chromedp.WaitVisible(chromedp.CSS("#j-name")))
	shown := func(id string) string {
		return eval1(`getComputedStyle(document.getElementById(` + jsString(id) + `)).display`)
	}
	if d, s, a := shown("j-days-box"), shown("j-segment-box"), shown("j-at-box"); d != "none" || s != "none" || a == "none" {
		t.Fatalf("a birthday journey shows days %s, segment %s, time %s; want only the time", d, s, a)
	}
	do("fill the journey",
		fill("#j-name", "Mời quay lại"), fill("#j-id", "winback"), fill("#j-kind", "segment_entry"),
		fill("#j-segment", "at_risk"), fill("#j-days", "3"), fill("#j-at", "10:30"),
		chromedp.Click(chromedp.CSS("#j-msg-text")), fill("#j-text-vi", "Lâu rồi không gặp, tặng bạn mã QUAYLAI."))
	if d, s, h := shown("j-days-box"), shown("j-segment-box"), shown("j-hours-box"); d == "none" || s == "none" || h != "none" {
		t.Fatalf("a segment-entry journey shows days %s, segment %s, hours %s; want days and segment", d, s, h)
	}
	sideways("the journey form")
	axetest.Check(t, ctx, "journey form (vi)")
	do("save the journey", chromedp.Click(chromedp.CSS("#j-save")), chromedp.WaitVisible(chromedp.CSS(`#journeys tr[data-journey="winback"]`)))
	waitText(`#journeys tr[data-journey="winback"]`, "3 ngày sau khi vào nhóm")
	waitText(`#journeys tr[data-journey="winback"]`, "lúc 10:30")
	waitText("#journeys-source", "phiên bản 1")
	if js := out.Journeys(); len(js) != 2 || js[1].ID != "winback" || js[1].Segment != "at_risk" || js[1].Days != 3 || js[1].Text["vi"] == "" {
		t.Fatalf("the journeys after the save: %+v", js)
	}
	do("edit birthday", chromedp.Click(chromedp.CSS(`#journeys tr[data-journey="birthday"] .j-edit`)), chromedp.WaitVisible(chromedp.CSS("#j-off")),
		chromedp.Click(chromedp.CSS("#j-off")), chromedp.Click(chromedp.CSS("#j-save")),
		chromedp.WaitVisible(chromedp.CSS(`#journeys tr[data-journey="birthday"]`)))
	waitText(`#journeys tr[data-journey="birthday"] .badge`, "đang tắt")
	if js := out.Journeys(); !js[0].Off || js[0].Offer != "birthday" {
		t.Fatalf("birthday after turning it off: %+v", js[0])
	}
	do("delete winback", chromedp.Click(chromedp.CSS(`#journeys tr[data-journey="winback"] .j-edit`)), chromedp.WaitVisible(chromedp.CSS("#j-delete")),
		chromedp.Click(chromedp.CSS("#j-delete")))
	waitText("#j-delete", "Xoá thật?")
	if len(out.Journeys()) != 2 {
		t.Fatal("one press deleted the journey")
	}
	do("delete twice", chromedp.Click(chromedp.CSS("#j-delete")), chromedp.WaitVisible(chromedp.CSS(`#journeys tr[data-journey="birthday"]`)))
	if js := out.Journeys(); len(js) != 1 {
		t.Fatalf("after the delete: %+v", js)
	}

	// English on request.
	do("English", chromedp.Click(chromedp.CSS("#lang-switch")), chromedp.WaitVisible(chromedp.CSS(`html[lang="en"] `+row)))
	waitText(row+" .progress-text", "sent 2 · skipped 1 · failed 0 · remaining 0")
	waitText(`#journeys tr[data-journey="birthday"]`, "Birthday, at 09:00")
	// The tick at 10:00 also made today's birthday run (nobody's birthday).
	waitText(`#journeys tr[data-journey="birthday"]`, "1 run ·")
	axetest.Check(t, ctx, "campaigns with progress (en)")
	do("the form in English", eval(`location.hash = "#/campaigns/new"`), chromedp.WaitVisible(chromedp.CSS("#c-name")),
		fill("#c-name", "One"), chromedp.Click(chromedp.CSS("#c-msg-text")), fill("#c-text-en", "Hi"),
		fill("#camp-builder-fact", "opted_out"), fill("#camp-builder-op", "true"), chromedp.Click(chromedp.CSS("#camp-builder-add")),
		chromedp.Click(chromedp.CSS("#c-preview")))
	waitText("#c-audience", "1 customer in the audience")
	axetest.Check(t, ctx, "new campaign with its preview (en)")

	// A long list shows the newest 30 and a button for more.
	have, err := out.ListCampaigns(bg)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 31 - len(have) {
		if _, err := out.CreateCampaign(bg, &crm.Campaign{ID: fmt.Sprint("bulk", i), Name: "Bulk", Text: map[string]string{"vi": "x"},
			At: time.Date(2026, 4, 1, 9, 0, 0, 0, ict)}, "test"); err != nil {
			t.Fatal(err)
		}
	}
	do("a long list", eval(`location.hash = "#/campaigns"`), chromedp.WaitVisible(chromedp.CSS("#c-more")))
	waitText("#c-more", "Show more (1 more)")
	if got := eval1(`String(document.querySelectorAll('#campaigns tbody tr').length)`); got != "30" {
		t.Fatalf("the list shows %s campaigns, want 30", got)
	}
	do("more", chromedp.Click(chromedp.CSS("#c-more")))
	if got := eval1(`String(document.querySelectorAll('#campaigns tbody tr').length) + String(!!document.getElementById('c-more'))`); got != "31false" {
		t.Fatalf("after more: %s, want 31 rows and no button", got)
	}
}

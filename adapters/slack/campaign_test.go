package slack_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/idicbot/idicbot/bot"
	"github.com/idicbot/idicbot/crm"
)

// /crm campaign: admins only; preview, start, progress with results,
// pause of an unknown campaign answered plainly; in Vietnamese, and in
// English for an admin who chose it (/crm lang en).
func TestCrmCampaign(t *testing.T) {
	e := newEnv(t, false)
	o := e.core.Outreach(bot.OutreachOptions{QuietFrom: -1, QuietUntil: -1})
	if err := e.a.RegisterCampaignCommands(o); err != nil {
		t.Fatal(err)
	}
	e.flush()
	contains(t, "by a rep", e.crm(repUser, "campaign list").all(), "chỉ dành cho quản trị viên")
	contains(t, "empty list", e.crm(adminUser, "campaign list").all(), "Chưa có chiến dịch nào")

	reachable, total := 0, 0
	perSegment := map[string]int{}
	if err := e.db.View(context.Background(), func(tx crm.Tx) error {
		return tx.ForEachCustomer(func(c *crm.Customer) error {
			total++
			perSegment[c.Segment.Name]++
			for _, id := range c.Identities {
				if id.Channel == crm.ChannelTelegram || id.Channel == crm.ChannelWeb {
					reachable++
					break
				}
			}
			return nil
		})
	}); err != nil {
		t.Fatal(err)
	}
	got := e.crm(adminUser, "campaign preview all Giảm giá 10% cuối tuần").all()
	contains(t, "preview", got, fmt.Sprintf("*Xem trước*: %d khách trong đối tượng.", total), "Sẽ gửi: ", "*Mẫu (tiếng Việt)*: Giảm giá 10% cuối tuần", "Nhắn STOP")
	if sent := e.flush(); len(sent) != 0 {
		t.Fatalf("a preview sent %d messages", len(sent))
	}
	contains(t, "new", e.crm(adminUser, "campaign new weekend all Giảm giá 10% cuối tuần").all(), "Chiến dịch `weekend` bắt đầu ngay")
	if err := o.Tick(context.Background()); err != nil {
		t.Fatal(err)
	}
	e.disp.Enqueue(&crm.OutboxItem{})
	sent := e.flush()
	if len(sent) != reachable || reachable == 0 {
		t.Fatalf("the campaign sent %d, want one per reachable customer (%d)", len(sent), reachable)
	}
	for _, it := range sent {
		contains(t, "message", it.Text, "Giảm giá 10% cuối tuần", "STOP")
	}
	contains(t, "progress", e.crm(adminUser, "campaign weekend").all(), "(`weekend`, chiến dịch) · gửi cho mọi khách",
		fmt.Sprintf("đã xong: đã gửi %d · bỏ qua 0 · lỗi 0 · còn lại 0", reachable), fmt.Sprintf("Đã nhận %d", reachable), "từ chối nhận tin 0")
	contains(t, "list", e.crm(adminUser, "campaign list").all(), "• `weekend` weekend — đã xong: đã gửi")
	contains(t, "unknown", e.crm(adminUser, "campaign pause nope").all(), "nope")
	contains(t, "stats", e.crm(repUser, "stats").all(), "*Chiến dịch và hành trình*:", fmt.Sprintf("đã nhận %d", reachable))
	contains(t, "to a segment", e.crm(adminUser, "campaign new vipthanks vip Cảm ơn bạn").all(), "Chiến dịch `vipthanks` bắt đầu ngay")
	contains(t, "segment label", e.crm(adminUser, "campaign vipthanks").all(), "gửi cho Khách VIP", "đã lên lịch")
	contains(t, "paused", e.crm(adminUser, "campaign pause vipthanks").all(), "Chiến dịch `vipthanks`: tạm dừng.")
	contains(t, "usage", e.crm(adminUser, "campaign pause").all(), "Cách dùng: /crm campaign pause &lt;mã&gt;")

	// The same in English, with English plurals.
	contains(t, "lang", e.crm(adminUser, "lang en").all(), "English")
	contains(t, "preview en", e.crm(adminUser, "campaign preview all Hello").all(),
		fmt.Sprintf("*Preview*: %d customers in the audience.", total), "Would send: ", "*Sample (Vietnamese)*: Hello")
	for seg, n := range perSegment {
		if n == 1 && seg != "" {
			contains(t, "one customer", e.crm(adminUser, "campaign preview "+seg+" Hi").all(), "*Preview*: 1 customer in the audience.")
			break
		}
	}
	contains(t, "progress en", e.crm(adminUser, "campaign weekend").all(), "(`weekend`, campaign) · to every customer",
		fmt.Sprintf("done: sent %d · skipped 0 · failed 0 · remaining 0", reachable), fmt.Sprintf("Delivered %d", reachable), "opt-outs 0")
	contains(t, "stats en", e.crm(adminUser, "stats").all(), "*Campaigns and journeys*:", fmt.Sprintf("delivered %d", reachable))
}

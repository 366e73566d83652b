package slack_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/idicbot/idicbot/bot"
	"github.com/idicbot/idicbot/crm"
)

// /crm campaign: admins only; preview, start, progress with results,
// pause of an unknown campaign answered plainly.
func TestCrmCampaign(t *testing.T) {
	e := newEnv(t, false)
	o := e.core.Outreach(bot.OutreachOptions{QuietFrom: -1, QuietUntil: -1})
	if err := e.a.RegisterCampaignCommands(o); err != nil {
		t.Fatal(err)
	}
	e.flush()
	contains(t, "by a rep", e.crm(repUser, "campaign list").all(), "chỉ dành cho quản trị viên")
	contains(t, "empty list", e.crm(adminUser, "campaign list").all(), "No campaigns yet")

	reachable := 0
	if err := e.db.View(context.Background(), func(tx crm.Tx) error {
		return tx.ForEachCustomer(func(c *crm.Customer) error {
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
	contains(t, "preview", got, "Audience", "Giảm giá 10% cuối tuần", "Nhắn STOP")
	if sent := e.flush(); len(sent) != 0 {
		t.Fatalf("a preview sent %d messages", len(sent))
	}
	contains(t, "new", e.crm(adminUser, "campaign new weekend all Giảm giá 10% cuối tuần").all(), "Campaign `weekend` starts now")
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
	contains(t, "progress", e.crm(adminUser, "campaign weekend").all(),
		"done: sent "+fmt.Sprint(reachable), fmt.Sprintf("Delivered %d", reachable), "opt-outs 0")
	contains(t, "unknown", e.crm(adminUser, "campaign pause nope").all(), "not found")
	contains(t, "stats", e.crm(repUser, "stats").all(), "Campaigns and journeys", fmt.Sprintf("delivered %d", reachable))
}

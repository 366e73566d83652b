package bot_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"testing"

	"github.com/idicbot/idicbot/bot"
	"github.com/idicbot/idicbot/bot/bottest"
	"github.com/idicbot/idicbot/crm"
)

const crashCustomers, crashPage = 1000, 50

// TestCampaignCrashChild is not a test on its own: TestCampaignCrash runs
// the test binary again with IDICBOT_CAMPAIGN_CRASH_DIR set, and this
// process then dies (os.Exit, no cleanup, no Close) right after the
// fifth page of the campaign's expansion commits.
func TestCampaignCrashChild(t *testing.T) {
	dir := os.Getenv("IDICBOT_CAMPAIGN_CRASH_DIR")
	if dir == "" {
		t.Skip("helper process for TestCampaignCrash")
	}
	k := bottest.NewCore(t, bottest.InDir(dir), bottest.NoDispatcher())
	pages := 0
	o := k.Core.Outreach(bot.OutreachOptions{PageSize: crashPage, QuietFrom: -1, QuietUntil: -1, AfterPage: func(string) {
		if pages++; pages == 5 {
			os.Exit(3)
		}
	}})
	err := o.Tick(context.Background())
	t.Fatalf("child did not crash: %v", err)
}

// A process killed in the middle of a campaign's expansion, restarted:
// every customer gets the campaign once, nobody twice, nobody skipped.
func TestCampaignCrash(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	{
		k := bottest.NewCore(t, bottest.InDir(dir), bottest.NoDispatcher())
		err := k.DB.Update(ctx, func(tx crm.Tx) error {
			for i := range crashCustomers {
				u := fmt.Sprint(5000 + i)
				c := &crm.Customer{Name: "Khách " + u, Language: "vi", CreatedAt: k.Now(),
					Identities: []crm.Identity{{Channel: crm.ChannelTelegram, UserID: u, ChatID: u, FirstSeen: k.Now()}}}
				if err := tx.PutCustomer(c); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		o := k.Core.Outreach(bot.OutreachOptions{})
		if _, err := o.CreateCampaign(ctx, &crm.Campaign{ID: "flash", Name: "Flash sale",
			Text: map[string]string{"vi": "Giảm 50% hôm nay."}}, "owner"); err != nil {
			t.Fatal(err)
		}
		k.Close()
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestCampaignCrashChild$")
	cmd.Env = append(os.Environ(), "IDICBOT_CAMPAIGN_CRASH_DIR="+dir)
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 3 {
		t.Fatalf("child should die with code 3 mid-campaign: %v\n%s", err, out)
	}

	k := bottest.NewCore(t, bottest.InDir(dir))
	o := k.Core.Outreach(bot.OutreachOptions{PageSize: crashPage, QuietFrom: -1, QuietUntil: -1})
	p, err := o.Progress(ctx, "flash")
	if err != nil {
		t.Fatal(err)
	}
	if p.Status != crm.CampaignRunning || p.Queued != 5*crashPage {
		t.Fatalf("after the crash: %s with %d queued, want running with the 5 committed pages", p.Status, p.Queued)
	}
	if err := o.Tick(ctx); err != nil {
		t.Fatal(err)
	}
	k.Disp.Enqueue(&crm.OutboxItem{})
	if err := k.Disp.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	got := map[crm.ID]int{}
	for _, it := range k.Rec.Take() {
		got[it.CustomerID]++
	}
	doubles, skipped := 0, 0
	for id := crm.ID(1); id <= crashCustomers; id++ {
		switch got[id] {
		case 0:
			skipped++
		case 1:
		default:
			doubles++
		}
	}
	if doubles != 0 || skipped != 0 || len(got) != crashCustomers {
		t.Fatalf("%d customers reached, %d twice, %d skipped; want %d, 0, 0", len(got), doubles, skipped, crashCustomers)
	}
	if p, err = o.Progress(ctx, "flash"); err != nil {
		t.Fatal(err)
	}
	if p.Status != crm.CampaignDone || p.Queued != crashCustomers || p.Sent != crashCustomers {
		t.Fatalf("progress %s queued %d sent %d, want done, %d, %d", p.Status, p.Queued, p.Sent, crashCustomers, crashCustomers)
	}
}

package bot_test

import (
	"bufio"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/idicbot/idicbot/bot"
	"github.com/idicbot/idicbot/crm"
)

// TestEvalHarm sends the evaluation set's messages whose misreading hurts
// (crm/nlu/testdata/eval.tsv) to the whole core, each from a new customer,
// and checks what the customer gets: no offer to a complaint or after an
// opt-out phrase, no opt-out on an order question, no purchase flow after a
// refusal or a price objection.
func TestEvalHarm(t *testing.T) {
	f, err := os.Open("../crm/nlu/testdata/eval.tsv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	e := newEnv(t, "")
	sc := bufio.NewScanner(f)
	checked := 0
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		cols := strings.Split(line, "\t")
		want, text := cols[0], cols[1]
		switch want {
		case "complaint", "opt_out", "cancel_order", "change_order", "order_status", "refuse", "price_objection":
		default:
			continue
		}
		checked++
		user := fmt.Sprintf("eval-%d", n)
		res, sent := e.say(bot.Inbound{UserID: user, Text: text})
		c := e.customer(crm.ChannelWeb, user)
		var offered bool
		var texts []string
		for _, it := range sent {
			offered = offered || it.OfferID != ""
			texts = append(texts, it.Text)
		}
		reply := strings.Join(texts, " | ")
		switch want {
		case "complaint", "opt_out":
			if offered {
				t.Errorf("eval.tsv:%d %s %q (read %s): an offer was sent: %s", n, want, text, res.Intent, reply)
			}
		case "cancel_order", "change_order", "order_status":
			if c.Consent.OptedOut {
				t.Errorf("eval.tsv:%d %s %q (read %s): offers were turned off: %s", n, want, text, res.Intent, reply)
			}
		case "refuse", "price_objection":
			if res.Intent == bot.IntentBuy || c.Dialog == "order_phone" || strings.Contains(reply, "Tuyệt vời") || strings.HasPrefix(reply, "Great") {
				t.Errorf("eval.tsv:%d %s %q (read %s): a purchase flow: %s", n, want, text, res.Intent, reply)
			}
		}
	}
	if checked < 100 {
		t.Fatalf("checked %d messages, want the set's harmful kinds (over 100)", checked)
	}
}

package bot_test

import (
	"strings"
	"testing"

	"github.com/idicbot/idicbot/bot"
	"github.com/idicbot/idicbot/crm"
	"github.com/idicbot/idicbot/crm/nlu"
)

// A deep link's source code is shown by the label the shop gave it, and
// never raw.
func TestStartSourceLabel(t *testing.T) {
	e := buildEnv(t, "", func(o *bot.Options) {
		o.SourceLabels = map[string]map[string]string{"ad_tet2027": {"vi": "chương trình Tết 2027", "en": "our Tết campaign"}}
	})
	_, sent := e.say(bot.Inbound{UserID: "a", Command: "start", Source: "ad_tet2027"})
	if len(sent) == 0 || !strings.HasPrefix(sent[0].Text, "Cảm ơn bạn đã ghé Cửa hàng An Phát qua chương trình Tết 2027!") {
		t.Fatalf("labelled source: %+v", sent)
	}
	_, sent = e.say(bot.Inbound{UserID: "b", Command: "start", Source: "fb_ad-42"})
	if len(sent) == 0 || strings.Contains(sent[0].Text, "fb_ad-42") || !strings.HasPrefix(sent[0].Text, "Cảm ơn bạn đã ghé Cửa hàng An Phát!") {
		t.Fatalf("unlabelled source: %q", sent[0].Text)
	}
}

// English customers read products by their English names in offers too.
func TestEnglishOfferNamesProductInEnglish(t *testing.T) {
	e := newEnv(t, "")
	_, sent := e.say(bot.Inbound{UserID: "a", Text: "how much are the airpods", Locale: "en"})
	var offer string
	for _, it := range sent {
		if it.OfferID != "" {
			offer = it.Text
		}
	}
	if !strings.Contains(offer, "AirPods Pro 2 earbuds") || strings.Contains(offer, "Tai nghe") {
		t.Fatalf("offer %q, want the English product name", offer)
	}
}

// The shop's knowledge can be swapped at run time with the classifier that
// learned its questions: the next message is answered from the new entries.
func TestSetUnderstanding(t *testing.T) {
	e := newEnv(t, "")
	k, err := crm.ParseKnowledge("k.yaml", []byte("entries:\n  - id: tradein\n    questions: [thu cũ đổi mới không, nhận máy cũ không, trade in my old phone]\n    answer: {vi: Shop nhận thu cũ đổi mới., en: We take trade-ins.}\n"))
	if err != nil {
		t.Fatal(err)
	}
	d := e.kit.Defaults
	cl, err := nlu.New(nlu.Merge(d.Intents, nlu.FromKnowledge(k)), d.Catalog)
	if err != nil {
		t.Fatal(err)
	}
	_, before := e.say(bot.Inbound{UserID: "a", Text: "shop có thu cũ đổi mới không"})
	e.core.SetUnderstanding(cl, k)
	_, after := e.say(bot.Inbound{UserID: "a", Text: "shop có thu cũ đổi mới không"})
	if len(before) == 0 || before[0].Text == "Shop nhận thu cũ đổi mới." || len(after) == 0 || after[0].Text != "Shop nhận thu cũ đổi mới." {
		t.Fatalf("before %q, after %q", texts(before), texts(after))
	}
}

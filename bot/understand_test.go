package bot_test

import (
	"strings"
	"testing"

	"github.com/idicbot/idicbot/bot"
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

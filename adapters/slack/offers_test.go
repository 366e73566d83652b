package slack_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/idicbot/idicbot/adapters/slack"
	"github.com/idicbot/idicbot/adapters/slack/slacktest"
	"github.com/idicbot/idicbot/bot"
	"github.com/idicbot/idicbot/crm"
)

// The shipped welcome offer as a brand-new web chat customer gets it.
const (
	welcomeVI   = "🎁 Chào mừng bạn! Giảm 10% cho đơn hàng đầu tiên với mã WELCOME10."
	salesChan   = "C0SALES01" // the channel commandBody's commands come from
	form        = "application/x-www-form-urlencoded"
	quickWait   = 5 * time.Second
	welcomeID   = "welcome-new"
	vipOfferID  = "vip-care"
	welcomeName = "Quà chào mừng khách mới"
)

// seedOffers stores the shipped offers (version 1, from the seed) and makes
// them live.
func seedOffers(t *testing.T, e *env) {
	t.Helper()
	ctx := context.Background()
	now := time.Now()
	offers, err := crm.ParseOffers("offers.yaml", mustRead(t, "offers.yaml"), e.core.Segments().Names(), now)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.db.Update(ctx, func(tx crm.Tx) error {
		for _, o := range offers {
			cp := *o
			cp.Version, cp.UpdatedAt, cp.UpdatedBy, cp.Origin = 1, now, "idicbot", bot.OriginSeed
			if err := tx.PutOffer(&cp); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if err := e.core.LoadOffers(ctx); err != nil {
		t.Fatal(err)
	}
}

func (e *env) offer(id string) *crm.Offer {
	e.t.Helper()
	v, err := e.core.OfferAdmin().GetOffer(context.Background(), id)
	if err != nil {
		e.t.Fatal(err)
	}
	return v.Offer
}

// greet is a first message from a new web chat customer; it returns the
// texts the bot sent them.
func (e *env) greet(user string) string {
	e.t.Helper()
	_, sent := e.say(crm.ChannelWeb, user, "xin chào")
	var out []string
	for _, it := range sent {
		out = append(out, it.Text)
	}
	return strings.Join(out, "\n")
}

// interact posts a signed interaction payload and returns the answer.
func (e *env) interact(payload []byte) (int, string) {
	e.t.Helper()
	status, body := e.post(slack.InteractionsPath, form, []byte(url.Values{"payload": {string(payload)}}.Encode()), nil)
	return status, string(body)
}

// offerClick is a block_actions payload for a click on an offer card
// button; its response_url is the fake's.
func (e *env) offerClick(user, actionID, offerID, responseID string) []byte {
	p := map[string]any{
		"type": "block_actions", "token": "legacy", "api_app_id": "A0IDIC001", "trigger_id": "9.8.click",
		"team":         map[string]any{"id": slacktest.TeamID, "domain": "idic-test"},
		"user":         map[string]any{"id": user, "username": "u-" + user, "name": "u-" + user, "team_id": slacktest.TeamID},
		"container":    map[string]any{"type": "message", "message_ts": "1767225600.000900", "channel_id": salesChan, "is_ephemeral": true},
		"channel":      map[string]any{"id": salesChan, "name": "sales"},
		"response_url": e.fake.ResponseURL(responseID),
		"actions": []map[string]any{{
			"action_id": actionID, "block_id": "offer_actions", "value": offerID, "type": "button",
			"text": map[string]any{"type": "plain_text", "text": "button"}, "action_ts": "1767225601.000001",
		}},
	}
	data, _ := json.Marshal(p)
	return data
}

// viewSubmission is the payload Slack posts when user presses Save in the
// opened view with the given text in each language's field.
func viewSubmission(user string, v slacktest.View, texts map[string]string) []byte {
	values := map[string]any{}
	for lang, text := range texts {
		values[slack.OfferTemplateBlock+lang] = map[string]any{
			slack.OfferTemplateAction: map[string]any{"type": "plain_text_input", "value": text},
		}
	}
	p := map[string]any{
		"type": "view_submission", "token": "legacy", "api_app_id": "A0IDIC001", "trigger_id": "7.7.submit",
		"team": map[string]any{"id": slacktest.TeamID, "domain": "idic-test"},
		"user": map[string]any{"id": user, "username": "u-" + user, "name": "u-" + user, "team_id": slacktest.TeamID},
		"view": map[string]any{
			"id": v.ID, "team_id": slacktest.TeamID, "type": "modal", "blocks": v.Blocks, "title": v.Title,
			"private_metadata": v.PrivateMetadata, "callback_id": v.CallbackID, "hash": v.Hash,
			"state": map[string]any{"values": values}, "root_view_id": v.ID, "app_id": "A0IDIC001", "bot_id": slacktest.BotID,
		},
		"response_urls": []any{}, "is_enterprise_install": false,
	}
	data, _ := json.Marshal(p)
	return data
}

// lastView is the view most recently opened with views.open.
func (e *env) lastView() slacktest.View {
	e.t.Helper()
	views := e.fake.OpenedViews()
	if len(views) == 0 {
		e.t.Fatal("no views.open call")
	}
	return views[len(views)-1]
}

// submitErrors decodes a response_action errors answer.
func submitErrors(t *testing.T, body string) map[string]string {
	t.Helper()
	var r struct {
		ResponseAction string            `json:"response_action"`
		Errors         map[string]string `json:"errors"`
	}
	if err := json.Unmarshal([]byte(body), &r); err != nil || r.ResponseAction != "errors" || len(r.Errors) == 0 {
		t.Fatalf("want response_action errors, got %q (%v)", body, err)
	}
	return r.Errors
}

// responses returns the bodies posted to a response_url id.
func (e *env) responses(id string) []string {
	var out []string
	for _, c := range e.fake.Calls("response_url") {
		if c.Form.Get("id") == id {
			out = append(out, string(c.Body))
		}
	}
	return out
}

func (e *env) waitResponse(id string) map[string]any {
	e.t.Helper()
	eventually(e.t, "answer on response_url "+id, func() bool { return len(e.responses(id)) > 0 })
	var m map[string]any
	body := e.responses(id)[0]
	if err := json.Unmarshal([]byte(body), &m); err != nil {
		e.t.Fatalf("response_url body %s: %v", body, err)
	}
	m["all"] = body
	return m
}

// TestOfferSlack runs the admins' offer commands over signed HTTP requests
// against one core and the fake Slack.
func TestOfferSlack(t *testing.T) {
	e := newEnv(t, false)
	seedOffers(t, e)
	ctx := context.Background()

	if got := e.greet("w-first"); !strings.Contains(got, welcomeVI) {
		t.Fatalf("a new customer got %q, want the welcome offer", got)
	}

	// In Vietnamese, the default: the list and a card, whose Pause asks
	// first. The rest of this test reads the answers in English.
	vi := e.crm(adminUser, "offers").all()
	contains(t, "vi list", vi, "Ưu đãi (8)", "`welcome-new`", "🟢 đang chạy", "nhóm Khách mới", "ưu tiên 10", "luôn luôn",
		"hiện 1 · nhận 0 (0%)", "nhóm Khách VIP", "/crm offer <mã>")
	viCard := e.crm(adminUser, "offer welcome-new")
	contains(t, "vi card", viCard.all(), "Ưu đãi: "+welcomeName, "*Nhóm khách nhận*\nKhách mới", "*Nút bấm*\nnhận, xem thêm, từ chối", "⏸️ Tạm dừng")
	contains(t, "vi pause asks", viCard.raw, `"confirm":{"title":{"type":"plain_text","text":"Tạm dừng ưu đãi?"`)
	e.crm(adminUser, "lang en")

	t.Run("list", func(t *testing.T) {
		a := e.crm(adminUser, "offers")
		if a.ResponseType != "ephemeral" || len(a.Blocks) == 0 {
			t.Fatalf("offers: %s", a.raw)
		}
		all := a.all()
		contains(t, "list", all, "Offers (8)", "`welcome-new`", welcomeName, "🟢 active", "segments New", "priority 10", "always",
			"shown 1 · accepted 0 (0%)", "`vip-care`", "segments VIP", "priority 25", "/crm offer <id>")
		if i, j := strings.Index(a.Text, "interest-promo"), strings.Index(a.Text, "welcome-new"); i < 0 || j < i {
			t.Fatalf("offers not listed by id:\n%s", a.Text)
		}
		contains(t, "alias", e.crm(adminUser, "offer list").Text, "Offers (8)")
	})

	t.Run("card", func(t *testing.T) {
		a := e.crm(adminUser, "offer welcome-new")
		contains(t, "card", a.all(), "Offer: "+welcomeName, "`welcome-new`", "🟢 active", "Target segments", "new", "Priority", "10",
			"at most once per 30 days, 2 times in all", "WELCOME10", "accept, more, decline", "Eligibility",
			"Template (vi)", "🎁 Chào mừng {{.FirstName}}!", "Template (en)", "🎁 Welcome!", "Details (vi)", "{{vnd 500000}}",
			"shown 1 · accepted 0 · declined 0 · ordered 0 · conversion 0.0%", "Last versions", "v1", "idicbot (seed)", "created",
			slack.ActionOfferPause, slack.ActionOfferPreview, slack.ActionOfferEdit)
		lacks(t, "card of an active offer", a.all(), slack.ActionOfferActivate)
		contains(t, "unknown", e.crm(adminUser, "offer nope").Text, "⚠️", "nope")
		contains(t, "usage", e.crm(adminUser, "offer").Text, "Usage: /crm offer")
		contains(t, "usage pause", e.crm(adminUser, "offer pause").Text, "Usage: /crm offer pause")
	})

	t.Run("pause and activate", func(t *testing.T) {
		a := e.crm(adminUser, "offer pause welcome-new")
		contains(t, "paused", a.all(), "paused offer `welcome-new` (now version 2)", "customers no longer see it", "⏸️ paused",
			slack.ActionOfferActivate)
		o := e.offer(welcomeID)
		if o.Status != crm.OfferPaused || o.Version != 2 || o.UpdatedBy != "slack:"+adminUser || o.Origin != bot.OriginSlack {
			t.Fatalf("stored %s v%d by %q from %q", o.Status, o.Version, o.UpdatedBy, o.Origin)
		}
		contains(t, "history", a.all(), "v2", "<@"+adminUser+"> (slack)", "status active → paused")
		if got := e.greet("w-after-pause"); strings.Contains(got, "WELCOME10") {
			t.Fatalf("a paused offer was shown: %q", got)
		}
		contains(t, "again", e.crm(adminUser, "offer pause welcome-new").Text, "already *⏸️ paused* (version 2)")

		// Activate with the card's button: the card is redrawn in place.
		e.fake.Reset()
		if status, body := e.interact(e.offerClick(adminUser, slack.ActionOfferActivate, welcomeID, "act1")); status != http.StatusOK || body != "" {
			t.Fatalf("click: %d %q", status, body)
		}
		r := e.waitResponse("act1")
		if r["replace_original"] != true || r["response_type"] != "ephemeral" {
			t.Fatalf("activate answer: %s", r["all"])
		}
		contains(t, "activated", r["all"].(string), "activated offer `welcome-new` (now version 3)", "🟢 active", slack.ActionOfferPause)
		if o := e.offer(welcomeID); o.Status != crm.OfferActive || o.Version != 3 || o.UpdatedBy != "slack:"+adminUser {
			t.Fatalf("after activate: %s v%d by %s", o.Status, o.Version, o.UpdatedBy)
		}
		if got := e.greet("w-after-activate"); !strings.Contains(got, welcomeVI) {
			t.Fatalf("after activation a new customer got %q", got)
		}

		// An offer that no longer validates is not activated: the reasons
		// come back and it stays paused.
		old := e.offer(welcomeID)
		old.ID, old.Name, old.Status = "old-promo", "Old promo", crm.OfferPaused
		past := time.Now().Add(-48 * time.Hour)
		old.Validity.Until = &past
		if _, err := e.core.OfferAdmin().SaveOffer(ctx, old, 0, "test", bot.OriginAPI); err != nil {
			t.Fatal(err)
		}
		a = e.crm(adminUser, "offer activate old-promo")
		contains(t, "refused activation", a.all(), "was *not* activated", "stays ⏸️ paused", "validity.until", "in the past", "/crm offer edit old-promo")
		if o := e.offer("old-promo"); o.Status != crm.OfferPaused || o.Version != 1 {
			t.Fatalf("refused activation stored %s v%d", o.Status, o.Version)
		}
		// The same refusal from the button leaves the card alone.
		if status, _ := e.interact(e.offerClick(adminUser, slack.ActionOfferActivate, "old-promo", "act2")); status != http.StatusOK {
			t.Fatalf("click status %d", status)
		}
		r = e.waitResponse("act2")
		if r["replace_original"] != false {
			t.Fatalf("a refused activation replaced the card: %s", r["all"])
		}
		contains(t, "refused by button", r["all"].(string), "not* activated", "in the past")
	})

	t.Run("preview", func(t *testing.T) {
		a := e.crm(adminUser, "offer preview welcome-new")
		contains(t, "segment preview", a.all(), "Preview: "+welcomeName, "A sample New customer", "would be shown now: *yes*",
			"*vi*: 🎁 Chào mừng", "WELCOME10", "*en*: 🎁 Welcome! Get 10% off your first order with code WELCOME10.",
			"buttons:", "tell me more →", slack.ActionOfferEdit)
		lacks(t, "segment preview", a.all(), "{{", "⚠️")

		// A real customer by @username, phone and id.
		for _, ref := range []string{"@lan_shop", "0912345678", e.id("lan")} {
			a = e.crm(adminUser, "offer preview vip-care "+ref)
			contains(t, "customer preview "+ref, a.all(), "#"+e.id("lan")+" Nguyễn Thị Lan", "segment Loyal",
				"👑 Lan ơi", "VIP15", "would be shown now: *no*")
		}
		a = e.crm(adminUser, "offer preview vip-care "+e.id("vana"))
		contains(t, "vip preview", a.all(), "Nguyễn Văn A", "segment VIP", "would be shown now: *yes*", "25.000.000")
		contains(t, "ambiguous", e.crm(adminUser, "offer preview vip-care nguyen").Text, `2 customers match "nguyen"`)

		// From the card's Preview button.
		if status, _ := e.interact(e.offerClick(adminUser, slack.ActionOfferPreview, vipOfferID, "prev1")); status != http.StatusOK {
			t.Fatalf("click status %d", status)
		}
		r := e.waitResponse("prev1")
		contains(t, "preview button", r["all"].(string), "A sample VIP customer", "VIP15")
		if r["replace_original"] != false {
			t.Fatal("preview replaced the card")
		}
	})

	t.Run("edit", func(t *testing.T) {
		e.fake.Reset()
		cur := e.offer(welcomeID)
		a := e.crm(adminUser, "offer edit welcome-new")
		contains(t, "edit answer", a.Text, "Editing the templates of `welcome-new` (version 3)")
		v := e.lastView()
		if !strings.HasPrefix(v.TriggerID, "1.2.") || v.CallbackID != slack.OfferEditCallback || v.Type != "modal" || v.ID == "" {
			t.Fatalf("views.open: %+v", v)
		}
		var md map[string]any
		if err := json.Unmarshal([]byte(v.PrivateMetadata), &md); err != nil {
			t.Fatalf("private_metadata %q: %v", v.PrivateMetadata, err)
		}
		if md["offer"] != welcomeID || md["version"] != float64(cur.Version) || md["channel"] != salesChan {
			t.Fatalf("private_metadata = %v", md)
		}
		var blocks []map[string]any
		if err := json.Unmarshal(v.Blocks, &blocks); err != nil {
			t.Fatal(err)
		}
		inputs := map[string]map[string]any{}
		for _, b := range blocks {
			if b["type"] == "input" {
				inputs[b["block_id"].(string)] = b["element"].(map[string]any)
			}
		}
		for _, lang := range crm.Languages {
			el := inputs[slack.OfferTemplateBlock+lang]
			if el == nil || el["type"] != "plain_text_input" || el["multiline"] != true || el["action_id"] != slack.OfferTemplateAction ||
				el["initial_value"] != cur.Templates[lang] {
				t.Fatalf("input for %s: %v", lang, el)
			}
		}

		// The card's Edit template button opens it with the click's trigger.
		if status, _ := e.interact(e.offerClick(adminUser, slack.ActionOfferEdit, welcomeID, "edit1")); status != http.StatusOK {
			t.Fatalf("click status %d", status)
		}
		eventually(t, "second views.open", func() bool { return len(e.fake.OpenedViews()) == 2 })
		if v2 := e.lastView(); v2.TriggerID != "9.8.click" || !strings.Contains(v2.PrivateMetadata, `"channel":"`+salesChan+`"`) {
			t.Fatalf("button views.open: %+v", v2)
		}
		contains(t, "no trigger", e.crm(adminUser, "offer edit nope").Text, "⚠️")
	})

	t.Run("save", func(t *testing.T) {
		e.fake.Reset()
		e.crm(adminUser, "offer edit welcome-new")
		v := e.lastView()
		from := e.offer(welcomeID)
		newVI := "🎁 Chào {{.FirstName}}! Tuần này giảm 20% với mã {{.Code}}."
		status, body := e.interact(viewSubmission(adminUser, v, map[string]string{"vi": newVI, "en": from.Templates["en"]}))
		if status != http.StatusOK || body != "" {
			t.Fatalf("submit: %d %q, want an empty 200", status, body)
		}
		o := e.offer(welcomeID)
		if o.Version != from.Version+1 || o.Templates["vi"] != newVI || o.Templates["en"] != from.Templates["en"] ||
			o.UpdatedBy != "slack:"+adminUser || o.Origin != bot.OriginSlack || o.Status != crm.OfferActive {
			t.Fatalf("stored v%d %q by %q from %q (%s)", o.Version, o.Templates["vi"], o.UpdatedBy, o.Origin, o.Status)
		}
		if got := e.greet("w-after-edit"); !strings.Contains(got, "🎁 Chào bạn! Tuần này giảm 20% với mã WELCOME10.") {
			t.Fatalf("the next message got %q", got)
		}
		conf := e.fake.Wait("chat.postEphemeral", 1, quickWait)[0]
		if conf.Form.Get("channel") != salesChan || conf.Form.Get("user") != adminUser {
			t.Fatalf("confirmation to %s/%s", conf.Form.Get("channel"), conf.Form.Get("user"))
		}
		contains(t, "confirmation", callText(conf), fmt.Sprintf("saved as version %d", o.Version))
		hist := e.crm(adminUser, "offer welcome-new").all()
		contains(t, "history", hist, fmt.Sprintf("v%d", o.Version), "changed templates.vi")
	})

	t.Run("bad template", func(t *testing.T) {
		e.crm(adminUser, "offer edit welcome-new")
		v := e.lastView()
		before := e.offer(welcomeID)
		_, body := e.interact(viewSubmission(adminUser, v, map[string]string{
			"vi": "Chào {{.FirstName}}\nmã {{.Code}",
			"en": "Hi\n\n{{.Nickname}}",
		}))
		errs := submitErrors(t, body)
		if vi := errs[slack.OfferTemplateBlock+"vi"]; !strings.HasPrefix(vi, "line 2: ") {
			t.Fatalf("vi error %q, want line 2", vi)
		}
		if en := errs[slack.OfferTemplateBlock+"en"]; !strings.HasPrefix(en, "line 3: there is no field .Nickname") {
			t.Fatalf("en error %q", en)
		}
		if after := e.offer(welcomeID); after.Version != before.Version || after.Templates["vi"] != before.Templates["vi"] {
			t.Fatalf("a refused template was stored: v%d", after.Version)
		}
		// Both languages emptied: the offer needs at least one.
		_, body = e.interact(viewSubmission(adminUser, v, map[string]string{"vi": " ", "en": ""}))
		contains(t, "no template", submitErrors(t, body)[slack.OfferTemplateBlock+"vi"], "at least one language")
	})

	t.Run("conflict", func(t *testing.T) {
		e.crm(adminUser, "offer edit welcome-new")
		v := e.lastView()
		// Someone else saves from the admin page meanwhile.
		other := e.offer(welcomeID)
		other.Templates["en"] = "🎁 Hello! 15% off with {{.Code}}."
		saved, err := e.core.OfferAdmin().SaveOffer(ctx, other, other.Version, "admin-page", bot.OriginWeb)
		if err != nil {
			t.Fatal(err)
		}
		_, body := e.interact(viewSubmission(adminUser, v, map[string]string{"vi": "Mine {{.Code}}", "en": "Mine too"}))
		msg := submitErrors(t, body)[slack.OfferTemplateBlock+"vi"]
		contains(t, "conflict", msg, "someone saved this offer", "admin-page", fmt.Sprintf("version %d", saved.Version), "open the editor again")
		if o := e.offer(welcomeID); o.Version != saved.Version || o.Templates["en"] != other.Templates["en"] {
			t.Fatalf("the conflicting edit overwrote: v%d %q", o.Version, o.Templates["en"])
		}
	})

	t.Run("refused for non-admins", func(t *testing.T) {
		before := e.offer(welcomeID)
		for _, text := range []string{"offers", "offer welcome-new", "offer pause welcome-new", "offer preview welcome-new", "offer edit welcome-new"} {
			a := e.crm(repUser, text)
			contains(t, "rep "+text, a.Text, "🚫", "chỉ dành cho quản trị viên", "SLACK_ADMIN_IDS")
			lacks(t, "rep "+text, a.all(), "WELCOME10", welcomeName)
		}
		e.fake.Reset()
		for i, act := range []string{slack.ActionOfferPause, slack.ActionOfferPreview, slack.ActionOfferEdit} {
			id := fmt.Sprintf("rep%d", i)
			if status, _ := e.interact(e.offerClick(repUser, act, welcomeID, id)); status != http.StatusOK {
				t.Fatalf("click status %d", status)
			}
			r := e.waitResponse(id)
			contains(t, "rep click "+act, r["all"].(string), "chỉ dành cho quản trị viên")
			lacks(t, "rep click "+act, r["all"].(string), "WELCOME10")
		}
		if n := len(e.fake.OpenedViews()); n != 0 {
			t.Fatalf("a rep's click opened %d views", n)
		}
		// A submission from a non-admin (say, a forwarded window) saves nothing.
		e.crm(adminUser, "offer edit welcome-new")
		_, body := e.interact(viewSubmission(repUser, e.lastView(), map[string]string{"vi": "Hacked {{.Code}}", "en": "Hacked"}))
		contains(t, "rep submit", submitErrors(t, body)[slack.OfferTemplateBlock+"vi"], "Chỉ quản trị viên idicbot mới sửa được ưu đãi")
		if o := e.offer(welcomeID); o.Version != before.Version || o.Status != crm.OfferActive {
			t.Fatalf("a rep changed the offer: v%d %s", o.Version, o.Status)
		}
	})
}

// TestOfferSlackSocketMode checks that a view_submission over Socket Mode
// is answered on the ack: response_action errors, or nothing on success.
func TestOfferSlackSocketMode(t *testing.T) {
	e := newEnv(t, true)
	seedOffers(t, e)
	e.fake.WaitConnected(quickWait)
	if err := e.db.SetLang(context.Background(), "slack:"+adminUser, "en"); err != nil {
		t.Fatal(err)
	}
	cmd := func(user, text string) map[string]any {
		return map[string]any{"token": "legacy", "team_id": slacktest.TeamID, "channel_id": salesChan, "user_id": user,
			"command": "/crm", "text": text, "trigger_id": "5.5.sock", "response_url": e.fake.ResponseURL("cmd")}
	}
	ack := e.fake.WaitAck(e.fake.Send("slash_commands", cmd(adminUser, "offer edit vip-care")), quickWait)
	contains(t, "edit ack", string(ack.Payload), "Editing the templates of `vip-care`")
	v := e.lastView()
	if v.TriggerID != "5.5.sock" {
		t.Fatalf("views.open trigger %q", v.TriggerID)
	}
	submit := func(texts map[string]string) slacktest.Ack {
		var p map[string]any
		if err := json.Unmarshal(viewSubmission(adminUser, v, texts), &p); err != nil {
			t.Fatal(err)
		}
		return e.fake.WaitAck(e.fake.Send("interactive", p), quickWait)
	}
	bad := submit(map[string]string{"vi": "ok {{.Code}}", "en": "{{if}}"})
	errs := submitErrors(t, string(bad.Payload))
	contains(t, "socket errors", errs[slack.OfferTemplateBlock+"en"], "line 1: ")
	good := submit(map[string]string{"vi": "👑 VIP {{.FirstName}}: {{.Code}}", "en": "👑 VIP: {{.Code}}"})
	if len(good.Payload) != 0 && string(good.Payload) != "null" {
		t.Fatalf("success ack payload %s, want none (closes the modal)", good.Payload)
	}
	if o := e.offer(vipOfferID); o.Version != 2 || o.Templates["vi"] != "👑 VIP {{.FirstName}}: {{.Code}}" || o.UpdatedBy != "slack:"+adminUser || o.Origin != bot.OriginSlack {
		t.Fatalf("stored v%d %q by %q from %q", o.Version, o.Templates["vi"], o.UpdatedBy, o.Origin)
	}
	ack = e.fake.WaitAck(e.fake.Send("slash_commands", cmd(repUser, "offers")), quickWait)
	contains(t, "socket refusal", string(ack.Payload), "chỉ dành cho quản trị viên")
}

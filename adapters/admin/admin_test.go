package admin_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/idicbot/idicbot/adapters/admin"
	"github.com/idicbot/idicbot/adapters/webchat"
	"github.com/idicbot/idicbot/bot"
	"github.com/idicbot/idicbot/bot/bottest"
	"github.com/idicbot/idicbot/configs"
	"github.com/idicbot/idicbot/crm"
	"github.com/idicbot/idicbot/crm/boltstore"
)

const token = "test-admin-token-0123456789"

// env is a core on a real bbolt file with the shipped configs, served with
// the admin routes and the web chat routes on one test server.
type env struct {
	t    testing.TB
	db   *boltstore.DB
	core *bot.Core
	srv  *httptest.Server
	seq  int
}

func newEnv(tb testing.TB) *env {
	tb.Helper()
	// No dispatcher: replies stay in the outbox; the clock stands still.
	// The bot's phrases live in a phrasebook the admin's saves swap.
	book := crm.NewPhrasebook(nil)
	kit := bottest.NewCore(tb, bottest.NoDispatcher(), bottest.CoreOptions(func(o *bot.Options) {
		cat := *o.Catalog
		cat.Phrases = book
		o.Catalog = &cat
	}))
	db, core, now := kit.DB, kit.Core, kit.Now
	file, err := configs.Files.ReadFile("messages.yaml")
	if err != nil {
		tb.Fatal(err)
	}
	faq, err := bot.NewKnowledgeAdmin(bot.KnowledgeAdminOptions{Store: db, Core: core, Intents: kit.Defaults.Intents,
		File: kit.Defaults.Knowledge, Now: now})
	if err != nil {
		tb.Fatal(err)
	}
	mux := http.NewServeMux()
	webchat.New(core, webchat.Options{Now: now}).Routes(mux)
	admin.New(core, admin.Options{Token: token, Backup: db.Backup, Now: now, Logger: slog.New(slog.DiscardHandler),
		Messages: bot.NewMessagesAdmin(db, book, "configs/messages.yaml", file, now), Knowledge: faq}).Routes(mux)
	srv := httptest.NewServer(mux)
	tb.Cleanup(srv.Close)
	return &env{t: tb, db: db, core: core, srv: srv}
}

// call makes an API request with the bearer token and decodes the JSON answer.
func (e *env) call(method, path string, body any, out any) int {
	e.t.Helper()
	return e.callAuth("Bearer "+token, method, path, body, out)
}

func (e *env) callAuth(auth, method, path string, body any, out any) int {
	e.t.Helper()
	var r io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		r = strings.NewReader(b)
	default:
		data, err := json.Marshal(b)
		if err != nil {
			e.t.Fatal(err)
		}
		r = bytes.NewReader(data)
	}
	req, err := http.NewRequest(method, e.srv.URL+path, r)
	if err != nil {
		e.t.Fatal(err)
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	req.Header.Set(admin.UserHeader, "lan")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			e.t.Fatalf("%s %s: %d %s: %v", method, path, resp.StatusCode, data, err)
		}
	}
	return resp.StatusCode
}

// apiError is the JSON error shape.
type apiError struct {
	Error struct {
		Code     string             `json:"code"`
		Message  string             `json:"message"`
		Problems []bot.OfferProblem `json:"problems"`
	} `json:"error"`
}

type offerResp struct {
	Offer bot.OfferView `json:"offer"`
}

func (e *env) getOffer(id string) *bot.OfferView {
	e.t.Helper()
	var r offerResp
	if st := e.call("GET", "/api/admin/offers/"+id, nil, &r); st != 200 {
		e.t.Fatalf("get %s: %d", id, st)
	}
	return &r.Offer
}

// chat sends a web chat message as session and returns the bot's replies.
func (e *env) chat(session, text string) []string {
	e.t.Helper()
	e.seq++
	body := fmt.Sprintf(`{"session":%q,"id":"m%d","text":%q}`, session, e.seq, text)
	resp, err := http.Post(e.srv.URL+"/webchat/messages", "application/json", strings.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		e.t.Fatalf("post message: %d", resp.StatusCode)
	}
	resp, err = http.Get(e.srv.URL + "/webchat/messages?session=" + session)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	var got struct {
		Messages []webchat.Message `json:"messages"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&got); err != nil {
		e.t.Fatal(err)
	}
	var out []string
	for _, m := range got.Messages {
		if m.Dir == "out" {
			out = append(out, m.Text)
		}
	}
	return out
}

func has(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

const welcomeVI = "🎁 Chào mừng bạn! Giảm 10% cho đơn hàng đầu tiên với mã WELCOME10."

func TestUnauthorized(t *testing.T) {
	e := newEnv(t)
	n := 0
	for _, auth := range []string{"", "Bearer wrong", "Bearer " + token + "x", "Basic " + token, "Bearer"} {
		for _, req := range []struct{ method, path string }{
			{"GET", "/api/admin/offers"}, {"GET", "/api/admin/offers/welcome-new"}, {"POST", "/api/admin/offers/welcome-new/pause"},
			{"GET", "/api/admin/backup"}, {"GET", "/api/admin/segments"}, {"GET", "/api/admin/nothing"},
		} {
			// Each from an address of its own, which the brake on wrong
			// tokens has not seen (see TestBrakePerAddress).
			n++
			r := httptest.NewRequest(req.method, req.path, nil)
			if auth != "" {
				r.Header.Set("Authorization", auth)
			}
			w := e.serveFrom(fmt.Sprintf("192.0.2.%d", n), r)
			var er apiError
			if err := json.Unmarshal(w.Body.Bytes(), &er); err != nil || w.Code != 401 || er.Error.Code != "unauthorized" || er.Error.Message == "" {
				t.Fatalf("%q %s %s: %d %s", auth, req.method, req.path, w.Code, w.Body)
			}
		}
	}
	if o := e.getOffer("welcome-new"); o.Status != crm.OfferActive || o.Version != 1 {
		t.Fatalf("an unauthorized request changed the offer: %+v", o.Offer)
	}
}

func TestOfferAPI(t *testing.T) {
	e := newEnv(t)
	var list struct {
		Offers []bot.OfferView `json:"offers"`
	}
	if st := e.call("GET", "/api/admin/offers", nil, &list); st != 200 || len(list.Offers) != 8 {
		t.Fatalf("list: %d, %d offers", st, len(list.Offers))
	}

	// Edit: PUT the GET answer back with a change; the next message uses it.
	if got := e.chat("before", "xin chào"); !has(got, welcomeVI) {
		t.Fatalf("before: %q", got)
	}
	if st := e.call("GET", "/api/admin/offers", nil, &list); st != 200 {
		t.Fatalf("list: %d", st)
	}
	for _, v := range list.Offers {
		if v.ID == "welcome-new" && (v.Stats.Shown != 1 || v.Stats.Accepted != 0 || v.Status != "active" ||
			!slices.Equal(v.Segments, []string{"new"}) || v.Priority != 10 || v.Version != 1) {
			t.Fatalf("listed welcome-new after one chat: %+v %+v", v.Offer, v.Stats)
		}
	}
	o := e.getOffer("welcome-new")
	o.Templates["vi"] = "🎁 {{.FirstName}} ơi, tuần lễ vàng: giảm 25% với mã {{.Code}}!"
	var saved offerResp
	if st := e.call("PUT", "/api/admin/offers/welcome-new", o, &saved); st != 200 || saved.Offer.Version != 2 || saved.Offer.UpdatedBy != "lan" || saved.Offer.Origin != "api" {
		t.Fatalf("put: %d %+v", st, saved.Offer.Offer)
	}
	if got := e.chat("after", "xin chào"); !has(got, "🎁 bạn ơi, tuần lễ vàng: giảm 25% với mã WELCOME10!") {
		t.Fatalf("the next message after the save got %q", got)
	}

	// Pause and activate.
	if st := e.call("POST", "/api/admin/offers/welcome-new/pause", nil, &saved); st != 200 || saved.Offer.Status != "paused" || saved.Offer.Version != 3 {
		t.Fatalf("pause: %d %+v", st, saved.Offer.Offer)
	}
	if got := e.chat("paused", "xin chào"); len(got) != 1 {
		t.Fatalf("a paused offer was shown: %q", got)
	}
	if st := e.call("POST", "/api/admin/offers/welcome-new/activate", nil, &saved); st != 200 || saved.Offer.Status != "active" || saved.Offer.Version != 4 {
		t.Fatalf("activate: %d %+v", st, saved.Offer.Offer)
	}

	// Versions, diff, rollback.
	var vs struct {
		Versions []bot.OfferVersion `json:"versions"`
	}
	if st := e.call("GET", "/api/admin/offers/welcome-new/versions", nil, &vs); st != 200 || len(vs.Versions) != 4 {
		t.Fatalf("versions: %d %d", st, len(vs.Versions))
	}
	if v := vs.Versions[2]; v.Version != 2 || v.UpdatedBy != "lan" || v.Origin != "api" || v.Change != "changed templates.vi" {
		t.Fatalf("version 2 entry: %+v %q", v.Offer, v.Change)
	}
	var d bot.OfferDiff
	if st := e.call("GET", "/api/admin/offers/welcome-new/diff?from=1&to=2", nil, &d); st != 200 || !strings.Contains(d.Unified, "+   vi: \"🎁 {{.FirstName}} ơi") {
		t.Fatalf("diff: %d\n%s", st, d.Unified)
	}
	if st := e.call("GET", "/api/admin/offers/welcome-new/diff", nil, &d); st != 200 || d.From != 3 || d.To != 4 || !strings.Contains(d.Unified, "+ status: active") {
		t.Fatalf("default diff: %d %+v", st, d)
	}
	if st := e.call("GET", "/api/admin/offers/welcome-new/diff?from=x", nil, nil); st != 400 {
		t.Fatalf("bad from: %d", st)
	}
	if st := e.call("POST", "/api/admin/offers/welcome-new/rollback", map[string]int{"version": 1}, &saved); st != 200 || saved.Offer.Version != 5 {
		t.Fatalf("rollback: %d %+v", st, saved.Offer.Offer)
	}
	if got := e.chat("rolled", "xin chào"); !has(got, welcomeVI) {
		t.Fatalf("after rollback: %q", got)
	}
	var er apiError
	if st := e.call("POST", "/api/admin/offers/welcome-new/rollback", map[string]int{"version": 42}, &er); st != 404 || er.Error.Code != "not_found" {
		t.Fatalf("rollback to a missing version: %d %+v", st, er)
	}

	// Create; creating it again is a conflict; an unknown offer is 404.
	n := map[string]any{"id": "flash", "name": "Flash sale", "status": "active", "segments": []string{"new"}, "priority": 99,
		"templates": map[string]string{"vi": "⚡ Flash sale cho {{.FirstName}}!", "en": "⚡ Flash sale, {{.FirstName}}!"}}
	if st := e.call("POST", "/api/admin/offers", n, &saved); st != 201 || saved.Offer.Version != 1 {
		t.Fatalf("create: %d %+v", st, saved.Offer.Offer)
	}
	if st := e.call("POST", "/api/admin/offers", n, &er); st != 409 || er.Error.Code != "conflict" {
		t.Fatalf("create twice: %d %+v", st, er)
	}
	if got := e.chat("flash", "xin chào"); !has(got, "⚡ Flash sale cho bạn!") {
		t.Fatalf("the new offer is not used: %q", got)
	}
	if st := e.call("GET", "/api/admin/offers/nope", nil, &er); st != 404 || er.Error.Code != "not_found" {
		t.Fatalf("get missing: %d %+v", st, er)
	}
	// Malformed bodies are 400.
	if st := e.call("PUT", "/api/admin/offers/flash", `{"id":"flash",`, &er); st != 400 || er.Error.Code != "invalid" {
		t.Fatalf("malformed: %d %+v", st, er)
	}
	if st := e.call("PUT", "/api/admin/offers/flash", map[string]any{"id": "flash", "nmae": "x", "version": 1}, &er); st != 400 {
		t.Fatalf("unknown field: %d %+v", st, er)
	}
	if st := e.call("PUT", "/api/admin/offers/flash", map[string]any{"id": "other", "version": 1}, &er); st != 400 {
		t.Fatalf("id mismatch: %d %+v", st, er)
	}
	if st := e.call("PUT", "/api/admin/offers/flash", n, &er); st != 400 || !strings.Contains(er.Error.Message, "version") {
		t.Fatalf("put without version: %d %+v", st, er)
	}
}

func TestMethodNotAllowed(t *testing.T) {
	e := newEnv(t)
	tests := []struct {
		method, path string
		status       int
		allow        string
	}{
		{"DELETE", "/api/admin/offers/welcome-new", 405, "GET, PUT"},
		{"GET", "/api/admin/offers/welcome-new/pause", 405, "POST"},
		{"PATCH", "/api/admin/segments/vip", 405, "PUT"},
		{"PUT", "/api/admin/offers", 405, "GET, POST"},
		{"GET", "/api/admin/offers/welcome-new/nothing", 404, ""},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			req, _ := http.NewRequest(tt.method, e.srv.URL+tt.path, nil)
			req.Header.Set("Authorization", "Bearer "+token)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var er apiError
			if err := json.NewDecoder(resp.Body).Decode(&er); err != nil {
				t.Fatalf("%d: not a JSON error: %v", resp.StatusCode, err)
			}
			if resp.StatusCode != tt.status || resp.Header.Get("Allow") != tt.allow || er.Error.Message == "" {
				t.Fatalf("%d Allow %q %+v, want %d Allow %q", resp.StatusCode, resp.Header.Get("Allow"), er, tt.status, tt.allow)
			}
		})
	}
	if o := e.getOffer("welcome-new"); o.Version != 1 {
		t.Fatalf("a refused method changed the offer: v%d", o.Version)
	}
}

func TestOfferRefused(t *testing.T) {
	e := newEnv(t)
	tests := []struct {
		name  string
		edit  func(o *bot.OfferView)
		field string
		line  int
		in    string
	}{
		{"bad template", func(o *bot.OfferView) { o.Templates["vi"] = "Chào {{.FirstName}}\n{{if .Code}}mã {{.Code}}" }, "templates.vi", 2, "unexpected EOF"},
		{"missing field on render", func(o *bot.OfferView) { o.Templates["en"] = "Hi {{.FirstName}},\nyour {{.Discount}}" }, "templates.en", 2, "no field .Discount"},
		{"bad eligibility", func(o *bot.OfferView) { o.Eligibility = "total_spent >> 5" }, "eligibility", 1, ""},
		{"until before from", func(o *bot.OfferView) {
			from, until := time.Date(2026, 12, 10, 0, 0, 0, 0, time.UTC), time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
			o.Validity.From, o.Validity.Until = &from, &until
		}, "validity.until", 0, "after validity.from"},
		{"negative cap", func(o *bot.OfferView) { o.CapDays = -7 }, "cap_days", 0, "negative"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := e.getOffer("welcome-new")
			tt.edit(o)
			var er apiError
			if st := e.call("PUT", "/api/admin/offers/welcome-new", o, &er); st != 422 || er.Error.Code != "invalid" {
				t.Fatalf("put: %d %+v", st, er)
			}
			p := er.Error.Problems
			if len(p) == 0 || p[0].Field != tt.field || p[0].Line != tt.line || !strings.Contains(p[0].Message, tt.in) {
				t.Fatalf("problems = %+v, want %s line %d %q", p, tt.field, tt.line, tt.in)
			}
			if !strings.Contains(er.Error.Message, tt.field) {
				t.Fatalf("message %q does not name the field", er.Error.Message)
			}
		})
	}
	if o := e.getOffer("welcome-new"); o.Version != 1 {
		t.Fatalf("a refused change was stored: version %d", o.Version)
	}
	if got := e.chat("s", "xin chào"); !has(got, welcomeVI) {
		t.Fatalf("the previous version is not live: %q", got)
	}
}

func TestOfferConflict(t *testing.T) {
	e := newEnv(t)
	a, b := e.getOffer("winback"), e.getOffer("winback")
	a.Code, b.Code = "BACK1", "BACK2"
	if st := e.call("PUT", "/api/admin/offers/winback", a, nil); st != 200 {
		t.Fatalf("first save: %d", st)
	}
	var er apiError
	if st := e.call("PUT", "/api/admin/offers/winback", b, &er); st != 409 || er.Error.Code != "conflict" || !strings.Contains(er.Error.Message, "version 2") {
		t.Fatalf("second save from the same version: %d %+v", st, er)
	}
	if o := e.getOffer("winback"); o.Code != "BACK1" || o.Version != 2 {
		t.Fatalf("stored %s v%d", o.Code, o.Version)
	}
}

func TestPreviewAPI(t *testing.T) {
	e := newEnv(t)
	e.chat("mai", "xin chào")
	var cs struct {
		Customers []struct {
			ID      crm.ID `json:"id"`
			Segment string `json:"segment"`
		} `json:"customers"`
	}
	if st := e.call("GET", "/api/admin/customers?q=1", nil, &cs); st != 200 || len(cs.Customers) != 1 || cs.Customers[0].Segment != "new" {
		t.Fatalf("customers: %d %+v", st, cs)
	}
	o := e.getOffer("vip-care")
	o.Templates["vi"] = "👑 {{.FirstName}}: {{vnd .TotalSpent}}"
	var p bot.OfferPreview
	if st := e.call("POST", "/api/admin/offers/preview", map[string]any{"offer": o}, &p); st != 200 {
		t.Fatalf("preview: %d", st)
	}
	if !p.Customer.Sample || p.Customer.Segment != "vip" || p.Texts[0].Text != "👑 An: 32.000.000 ₫" || len(p.Problems) != 0 {
		t.Fatalf("sample preview = %+v", p)
	}
	if p.Texts[1].Lang != "en" || !strings.Contains(p.Texts[1].Text, "VIP15") || len(p.Texts[1].Buttons) != 3 {
		t.Fatalf("en preview = %+v", p.Texts[1])
	}
	o.Templates["en"] = "{{.Oops}}"
	if st := e.call("POST", "/api/admin/offers/preview", map[string]any{"offer": o, "customer_id": cs.Customers[0].ID}, &p); st != 200 {
		t.Fatalf("preview for a customer: %d", st)
	}
	if p.Customer.Sample || p.Customer.Segment != "new" || p.Texts[0].Text != "👑 bạn: 0 ₫" || p.Eligible {
		t.Fatalf("customer preview = %+v", p)
	}
	if len(p.Problems) != 1 || p.Problems[0].Field != "templates.en" || p.Texts[1].Error == nil {
		t.Fatalf("problems = %+v / %+v", p.Problems, p.Texts[1])
	}
	var er apiError
	if st := e.call("POST", "/api/admin/offers/preview", map[string]any{"offer": o, "segment": "whales"}, &er); st != 404 {
		t.Fatalf("unknown segment: %d %+v", st, er)
	}
	if st := e.call("POST", "/api/admin/offers/preview", map[string]any{}, &er); st != 400 {
		t.Fatalf("no offer: %d %+v", st, er)
	}
}

func TestSegmentsAPI(t *testing.T) {
	e := newEnv(t)
	e.chat("a", "xin chào")
	e.chat("b", "xin chào")
	var list struct {
		Segments []bot.SegmentInfo       `json:"segments"`
		History  []bot.SegmentRuleChange `json:"history"`
	}
	if st := e.call("GET", "/api/admin/segments", nil, &list); st != 200 || len(list.Segments) != 6 || list.Segments[5].Name != "new" || list.Segments[5].Count != 2 {
		t.Fatalf("segments: %d %+v", st, list)
	}
	old := list.Segments[4].Rule // potential
	rule := "order_count == 0 && messages_30d >= 1"
	var p bot.SegmentPreview
	if st := e.call("POST", "/api/admin/segments/potential/preview", map[string]string{"rule": rule}, &p); st != 200 || p.In != 2 || p.Out != 0 || p.After != 2 {
		t.Fatalf("preview: %d %+v", st, p)
	}
	var er apiError
	if st := e.call("POST", "/api/admin/segments/potential/preview", map[string]string{"rule": "messages_30d >="}, &er); st != 422 || er.Error.Code != "invalid" {
		t.Fatalf("bad rule: %d %+v", st, er)
	}
	if st := e.call("PUT", "/api/admin/segments/potential", map[string]string{"rule": rule}, &er); st != 400 {
		t.Fatalf("save without expected_rule: %d", st)
	}
	var res bot.SegmentSave
	if st := e.call("PUT", "/api/admin/segments/potential", map[string]string{"rule": rule, "expected_rule": old}, &res); st != 200 || res.Moved != 2 || res.Segment.Count != 2 {
		t.Fatalf("save: %d %+v", st, res)
	}
	if st := e.call("PUT", "/api/admin/segments/potential", map[string]string{"rule": "false", "expected_rule": old}, &er); st != 409 {
		t.Fatalf("stale save: %d %+v", st, er)
	}
	if st := e.call("GET", "/api/admin/segments", nil, &list); st != 200 || len(list.History) != 1 || list.History[0].By != "lan" || list.Segments[4].Count != 2 {
		t.Fatalf("after save: %+v", list)
	}
}

func TestImportExportBackup(t *testing.T) {
	e := newEnv(t)
	resp, err := http.NewRequest("GET", e.srv.URL+"/api/admin/export", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Header.Set("Authorization", "Bearer "+token)
	r, err := http.DefaultClient.Do(resp)
	if err != nil {
		t.Fatal(err)
	}
	data, _ := io.ReadAll(r.Body)
	r.Body.Close()
	if r.StatusCode != 200 || !strings.Contains(string(data), "id: welcome-new") {
		t.Fatalf("export: %d\n%s", r.StatusCode, data)
	}
	changed := strings.Replace(string(data), "code: VIP15", "code: VIP20", 1)
	var rep bot.OfferImportReport
	if st := e.call("POST", "/api/admin/import?dry_run=1", changed, &rep); st != 200 || !rep.DryRun || len(rep.Updated) != 1 {
		t.Fatalf("dry run: %d %+v", st, rep)
	}
	if e.getOffer("vip-care").Code != "VIP15" {
		t.Fatal("the dry run changed the offer")
	}
	var er apiError
	bad := strings.Replace(changed, "priority: 10", "priority: 10\n    cap_days: -1", 1)
	if st := e.call("POST", "/api/admin/import", bad, &er); st != 422 {
		t.Fatalf("bad import: %d %+v", st, er)
	}
	if e.getOffer("vip-care").Code != "VIP15" {
		t.Fatal("a refused import changed an offer")
	}
	// Each problem of a refused file names its offer and field, as a save's do.
	er = apiError{}
	bad = strings.Replace(changed, "cap_days: 14", "cap_days: -14", 1)
	bad = strings.Replace(bad, "{{.FirstName}} ơi, là khách VIP", "{{.FirstName}} ơi,\\nlà {{.Tier}} VIP", 1)
	if st := e.call("POST", "/api/admin/import?dry_run=1", bad, &er); st != 422 || er.Error.Code != "invalid" {
		t.Fatalf("bad file: %d %+v", st, er)
	}
	if p := er.Error.Problems; len(p) != 2 || p[0].Offer != "loyal-points" || p[0].Field != "cap_days" ||
		p[1].Offer != "vip-care" || p[1].Field != "templates.vi" || p[1].Line != 2 || !strings.Contains(p[1].Message, "no field .Tier") {
		t.Fatalf("problems of a bad file = %#v", p)
	}
	if msg := er.Error.Message; !strings.Contains(msg, "offer loyal-points: cap_days: must not be negative") || !strings.Contains(msg, "offer vip-care: templates.vi line 2") {
		t.Fatalf("message of a bad file = %q", msg)
	}
	if st := e.call("POST", "/api/admin/import", changed, &rep); st != 200 || rep.DryRun || strings.Join(rep.Updated, ",") != "vip-care" {
		t.Fatalf("import: %d %+v", st, rep)
	}
	if o := e.getOffer("vip-care"); o.Code != "VIP20" || o.Origin != "file" {
		t.Fatalf("imported: %+v", o.Offer)
	}

	req, _ := http.NewRequest("GET", e.srv.URL+"/api/admin/backup", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	r, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	backup, _ := io.ReadAll(r.Body)
	r.Body.Close()
	if r.StatusCode != 200 || len(backup) < 4096 || !strings.Contains(r.Header.Get("Content-Disposition"), "idicbot-") {
		t.Fatalf("backup: %d, %d bytes, %q", r.StatusCode, len(backup), r.Header.Get("Content-Disposition"))
	}
	// The copy opens as a database holding the offers.
	path := filepath.Join(t.TempDir(), "copy.db")
	if err := writeFile(path, backup); err != nil {
		t.Fatal(err)
	}
	cp, err := boltstore.Open(path, boltstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer cp.Close()
	if err := cp.View(context.Background(), func(tx crm.Tx) error {
		o, err := tx.Offer("vip-care")
		if err == nil && o.Code != "VIP20" {
			err = fmt.Errorf("backup holds %s", o.Code)
		}
		return err
	}); err != nil {
		t.Fatal(err)
	}
}

// browserSession is a logged-in page session: its cookie jar and CSRF token.
type browserSession struct {
	client *http.Client
	csrf   string
}

var csrfMeta = regexp.MustCompile(`<meta name="csrf-token" content="([^"]+)">`)

func (e *env) login(tb testing.TB) *browserSession {
	tb.Helper()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar}
	resp, err := c.PostForm(e.srv.URL+"/admin/login", url.Values{"token": {token}, "name": {"Lan"}})
	if err != nil {
		tb.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	m := csrfMeta.FindSubmatch(page)
	if resp.StatusCode != 200 || m == nil {
		tb.Fatalf("login: %d\n%s", resp.StatusCode, page)
	}
	u, _ := url.Parse(e.srv.URL)
	ck := jar.Cookies(u)
	if len(ck) != 1 || ck[0].Name != admin.CookieName {
		tb.Fatalf("cookies = %+v", ck)
	}
	return &browserSession{client: c, csrf: string(m[1])}
}

func (s *browserSession) do(tb testing.TB, method, url string, headers map[string]string) int {
	tb.Helper()
	req, _ := http.NewRequest(method, url, nil)
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := s.client.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func TestPageLoginAndCSRF(t *testing.T) {
	e := newEnv(t)
	// The login cookie's attributes.
	resp, err := (&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).
		PostForm(e.srv.URL+"/admin/login", url.Values{"token": {token}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	sc := resp.Header.Get("Set-Cookie")
	if resp.StatusCode != 303 || !strings.Contains(sc, "HttpOnly") || !strings.Contains(sc, "SameSite=Strict") {
		t.Fatalf("login: %d %q", resp.StatusCode, sc)
	}
	// A wrong token and a cross-site login are refused.
	resp, _ = http.PostForm(e.srv.URL+"/admin/login", url.Values{"token": {"nope"}})
	resp.Body.Close()
	if resp.StatusCode != 401 || resp.Header.Get("Set-Cookie") != "" {
		t.Fatalf("wrong token: %d", resp.StatusCode)
	}
	req, _ := http.NewRequest("POST", e.srv.URL+"/admin/login", strings.NewReader(url.Values{"token": {token}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", "https://evil.example")
	resp, _ = http.DefaultClient.Do(req)
	resp.Body.Close()
	if resp.StatusCode != 403 || resp.Header.Get("Set-Cookie") != "" {
		t.Fatalf("cross-site login: %d", resp.StatusCode)
	}

	s := e.login(t)
	pause := e.srv.URL + "/api/admin/offers/winback/pause"
	if st := s.do(t, "GET", e.srv.URL+"/api/admin/offers", nil); st != 200 {
		t.Fatalf("session read: %d", st)
	}
	if st := s.do(t, "POST", pause, nil); st != 403 {
		t.Fatalf("state change without the CSRF token: %d", st)
	}
	if st := s.do(t, "POST", pause, map[string]string{admin.CSRFHeader: "forged"}); st != 403 {
		t.Fatalf("wrong CSRF token: %d", st)
	}
	if st := s.do(t, "POST", pause, map[string]string{admin.CSRFHeader: s.csrf, "Origin": "https://evil.example"}); st != 403 {
		t.Fatalf("cross-origin with the token: %d", st)
	}
	if st := s.do(t, "POST", pause, map[string]string{admin.CSRFHeader: s.csrf, "Sec-Fetch-Site": "cross-site"}); st != 403 {
		t.Fatalf("cross-site fetch with the token: %d", st)
	}
	if o := e.getOffer("winback"); o.Status != "active" {
		t.Fatal("a refused request paused the offer")
	}
	if st := s.do(t, "POST", pause, map[string]string{admin.CSRFHeader: s.csrf, "Origin": e.srv.URL}); st != 200 {
		t.Fatalf("same-origin with the token: %d", st)
	}
	if o := e.getOffer("winback"); o.Status != "paused" || o.UpdatedBy != "Lan" || o.Origin != "web" {
		t.Fatalf("paused by the page: %+v", o.Offer)
	}
	// Logout needs the token too, then the session is gone.
	if st := s.do(t, "POST", e.srv.URL+"/admin/logout", nil); st != 403 {
		t.Fatalf("logout without token: %d", st)
	}
	req, _ = http.NewRequest("POST", e.srv.URL+"/admin/logout", strings.NewReader(url.Values{"csrf": {s.csrf}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err = s.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if st := s.do(t, "GET", e.srv.URL+"/api/admin/offers", nil); st != 401 {
		t.Fatalf("after logout: %d", st)
	}
}

func TestAdminOff(t *testing.T) {
	mux := http.NewServeMux()
	admin.Off(mux)
	srv := httptest.NewServer(mux)
	defer srv.Close()
	for _, path := range []string{"/admin", "/api/admin/offers", "/admin/login"} {
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 503 || !strings.Contains(string(body), admin.TokenEnv) {
			t.Fatalf("%s: %d %s", path, resp.StatusCode, body)
		}
	}
	// An empty token configured means nobody gets in.
	e := newEnv(t)
	mux = http.NewServeMux()
	admin.New(e.core, admin.Options{Logger: slog.New(slog.DiscardHandler)}).Routes(mux)
	srv2 := httptest.NewServer(mux)
	defer srv2.Close()
	req, _ := http.NewRequest("GET", srv2.URL+"/api/admin/offers", nil)
	req.Header.Set("Authorization", "Bearer ")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 401 {
		t.Fatalf("empty token: %d", resp.StatusCode)
	}
}

func writeFile(path string, data []byte) error { return os.WriteFile(path, data, 0o600) }

// A JSON body that is not valid text (invalid UTF-8, an unpaired surrogate
// escape) is refused with 400 and a reason, not saved with U+FFFD in it.
func TestAPIRefusesInvalidText(t *testing.T) {
	e := newEnv(t)
	for _, body := range []string{`{"name":"Ưu đãi \ud800"}`, "{\"name\":\"\xff\"}"} {
		var out struct {
			Error struct{ Message string } `json:"error"`
		}
		st := e.call("POST", "/api/admin/offers", body, &out)
		if st != http.StatusBadRequest || !strings.Contains(out.Error.Message, "UTF-8") && !strings.Contains(out.Error.Message, "surrogate") {
			t.Fatalf("%q: status %d (%s), want 400 naming the bad text", body, st, out.Error.Message)
		}
	}
}

package admin_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"image/png"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/idicbot/idicbot/adapters/admin"
	"github.com/idicbot/idicbot/adapters/webchat/webchattest"
	"github.com/idicbot/idicbot/bot"
	"github.com/idicbot/idicbot/bot/bottest"
	"github.com/idicbot/idicbot/bot/report"
	"github.com/idicbot/idicbot/crm"
)

// reportEnv is an admin with reports over a core in which a web chat
// customer saw the welcome offer and ordered 1.250.000 ₫ through it, and
// a second customer wrote two days earlier.
func reportEnv(t *testing.T) *env {
	t.Helper()
	kit := bottest.NewCore(t, bottest.NoDispatcher())
	ctx := context.Background()
	kit.Clock.Set(bottest.Start.Add(-48 * time.Hour))
	if _, err := kit.Core.Handle(ctx, bot.Inbound{Channel: crm.ChannelWeb, UserID: "w-early", MessageID: "e1", Kind: crm.KindText, Text: "xin chào", Time: kit.Now()}); err != nil {
		t.Fatal(err)
	}
	kit.Clock.Set(bottest.Start)
	res, err := kit.Core.Handle(ctx, bot.Inbound{Channel: crm.ChannelWeb, UserID: "w-lan", MessageID: "m1", Kind: crm.KindText, Text: "xin chào", Time: kit.Now()})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, _, err := kit.Core.Reps().RecordOrder(ctx, crm.Order{CustomerID: res.CustomerID, Amount: 1_250_000, OfferID: "welcome-new"}, "rep"); err != nil {
		t.Fatal(err)
	}
	loc, _ := time.LoadLocation(report.DefaultZone)
	reps := report.New(kit.DB, loc, kit.Now, func() []string { return kit.Core.Segments().Names() })
	mux := http.NewServeMux()
	admin.New(kit.Core, admin.Options{Token: token, Now: kit.Now, Logger: slog.New(slog.DiscardHandler), Reports: reps}).Routes(mux)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return &env{t: t, db: kit.DB, core: kit.Core, srv: srv}
}

func (e *env) get(path string, auth bool) (*http.Response, []byte) {
	e.t.Helper()
	req, _ := http.NewRequest("GET", e.srv.URL+path, nil)
	if auth {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := (&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, body
}

func TestReportAPI(t *testing.T) {
	e := reportEnv(t)
	var rep report.Report
	if st := e.call("GET", "/api/admin/reports?days=7", nil, &rep); st != 200 {
		t.Fatalf("GET /api/admin/reports: %d", st)
	}
	if rep.Sales.Revenue != 1_250_000 || rep.Customers.New != 2 || rep.Period.Days() != 7 || rep.Zone != "Asia/Ho_Chi_Minh" {
		t.Fatalf("report: revenue %d, new %d, %d days, zone %s; want 1.250.000, 2, 7, Asia/Ho_Chi_Minh",
			rep.Sales.Revenue, rep.Customers.New, rep.Period.Days(), rep.Zone)
	}
	var welcome *report.FunnelRow
	for i, f := range rep.Funnel.ByOffer {
		if f.Offer == "welcome-new" {
			welcome = &rep.Funnel.ByOffer[i]
		}
	}
	if welcome == nil || welcome.Shown != 2 || welcome.Ordered != 1 || welcome.Revenue != 1_250_000 {
		t.Fatalf("funnel of welcome-new = %+v, want shown 2 (both customers), ordered 1, 1.250.000", welcome)
	}
	// One day, from–to: only the order's day.
	if st := e.call("GET", "/api/admin/reports?from=2026-11-08&to=2026-11-08", nil, &rep); st != 200 || rep.Sales.Revenue != 0 || rep.Customers.New != 1 {
		t.Fatalf("8 Nov alone: %d, revenue %d, new %d; want 200, 0, 1", st, rep.Sales.Revenue, rep.Customers.New)
	}

	resp, body := e.get("/api/admin/reports/funnel.csv?days=7", true)
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/csv") ||
		!strings.Contains(resp.Header.Get("Content-Disposition"), "idicbot-funnel-") {
		t.Fatalf("funnel.csv: %d %v", resp.StatusCode, resp.Header)
	}
	rows, err := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(body, []byte("\ufeff")))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if rows[0][0] != "Ưu đãi" || !containsRow(rows, []string{"welcome-new", "", "", "2", "0", "1", "1250000"}) ||
		!containsRow(rows, []string{"", "new", "", "2", "0", "1", "1250000"}) {
		t.Fatalf("funnel.csv = %q", rows)
	}
	resp, body = e.get("/api/admin/reports/revenue.png?days=7", true)
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "image/png" {
		t.Fatalf("revenue.png: %d %s", resp.StatusCode, body)
	}
	if _, err := png.Decode(bytes.NewReader(body)); err != nil {
		t.Fatalf("revenue.png: %v", err)
	}
	resp, body = e.get("/api/admin/reports/cohorts.svg?days=7&lang=en", true)
	if resp.StatusCode != 200 || !bytes.Contains(body, []byte("Retention by first-order month")) {
		t.Fatalf("cohorts.svg: %d %.200s", resp.StatusCode, body)
	}

	for _, tt := range []struct {
		path   string
		auth   bool
		status int
	}{
		{"/api/admin/reports?days=7", false, 401},
		{"/api/admin/reports/funnel.csv", false, 401},
		{"/api/admin/reports?days=0", true, 400},
		{"/api/admin/reports?days=abc", true, 400},
		{"/api/admin/reports?from=2026-11-10&to=2026-11-01", true, 400},
		{"/api/admin/reports/secrets.csv", true, 404},
		{"/admin/dashboard", false, 303},
	} {
		if resp, body := e.get(tt.path, tt.auth); resp.StatusCode != tt.status {
			t.Errorf("GET %s: %d %s, want %d", tt.path, resp.StatusCode, body, tt.status)
		}
	}
}

func containsRow(rows [][]string, want []string) bool {
	for _, r := range rows {
		if strings.Join(r, "\x00") == strings.Join(want, "\x00") {
			return true
		}
	}
	return false
}

// TestBrowserDashboard logs in, opens the dashboard, sees every chart drawn
// under the page's CSP and the figures, changes the period and sees the
// charts of the new one.
func TestBrowserDashboard(t *testing.T) {
	e := reportEnv(t)
	ctx := webchattest.NewBrowser(t)
	// The session of a login (POST /admin/login, as the login form sends
	// it), given to the browser: the dashboard does not depend on the
	// admin page's markup.
	form := strings.NewReader(url.Values{"token": {token}, "name": {"Lan"}}.Encode())
	req, _ := http.NewRequest("POST", e.srv.URL+"/admin/login", form)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", e.srv.URL)
	resp, err := (&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	var session *http.Cookie
	for _, c := range resp.Cookies() {
		if c.Name == admin.CookieName {
			session = c
		}
	}
	if session == nil {
		t.Fatalf("login: %d, no session cookie", resp.StatusCode)
	}
	httpOnly := true
	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Call(ctx, network.SetCookie, network.SetCookieParams{Name: session.Name, Value: session.Value, URL: e.srv.URL, HTTPOnly: &httpOnly}); err != nil {
		t.Fatalf("give the browser the session: %v", err)
	}
	if err := chromedp.Do(ctx,
		chromedp.Navigate(e.srv.URL+"/admin/dashboard"),
		chromedp.WaitVisible(chromedp.CSS(`#charts figure[data-chart="cohorts"] svg`)),
	); err != nil {
		t.Fatalf("open the dashboard: %v", err)
	}
	// Each chart has a size (drawn, not blocked) and the stylesheet applies.
	type state struct {
		Range  string   `json:"range"`
		Charts []string `json:"charts"`
		Widths []int    `json:"widths"`
		Grid   string   `json:"grid"`
		KPI    string   `json:"kpi"`
	}
	read := func() state {
		t.Helper()
		s, err := chromedp.Run(ctx, chromedp.Evaluate[state](`(() => ({
			range: document.getElementById("range").textContent,
			charts: [...document.querySelectorAll("#charts svg")].map((s) => s.getAttribute("aria-label")),
			widths: [...document.querySelectorAll("#charts svg")].map((s) => Math.round(s.getBoundingClientRect().width)),
			grid: getComputedStyle(document.getElementById("kpis")).display,
			kpi: document.querySelector("#kpis .kpi .v").textContent,
		}))()`))
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	s := read()
	want := []string{"Doanh thu theo ngày (₫)", "Khách mới theo ngày", "Phễu ưu đãi: đã xem → nhận → đặt hàng", "Quy mô phân khúc", "Giữ chân theo tháng mua đầu (tỷ lệ mua lại)"}
	if strings.Join(s.Charts, "|") != strings.Join(want, "|") {
		t.Fatalf("charts = %q, want %q", s.Charts, want)
	}
	for i, w := range s.Widths {
		if w < 200 {
			t.Fatalf("chart %q is %d px wide, want it drawn", s.Charts[i], w)
		}
	}
	if s.Grid != "grid" || !strings.Contains(s.Range, "2026-10-12 – 2026-11-10") || s.KPI != "1.250.000 ₫" {
		t.Fatalf("dashboard: range %q, kpis display %q, revenue %q; want 30 days to 10 Nov, grid, 1.250.000 ₫", s.Range, s.Grid, s.KPI)
	}
	// Seven days: the page reloads with the new period.
	if err := chromedp.Do(ctx,
		eval(`(() => { const d = document.getElementById("days"); d.value = "7"; d.dispatchEvent(new Event("change")); })()`),
	); err != nil {
		t.Fatalf("choose 7 days: %v", err)
	}
	if err := chromedp.Do(ctx,
		chromedp.WaitReady(chromedp.CSS(`#days option[value="7"][selected]`)),
		chromedp.WaitVisible(chromedp.CSS(`#charts figure[data-chart="revenue"] svg`)),
	); err != nil {
		t.Fatalf("the period did not change: %v", err)
	}
	if s := read(); !strings.Contains(s.Range, "2026-11-04 – 2026-11-10") {
		t.Fatalf("after choosing 7 days the range is %q", s.Range)
	}
	if s := read(); len(s.Charts) != 5 || s.KPI != "1.250.000 ₫" {
		t.Fatalf("after the change: %d charts, revenue %q", len(s.Charts), s.KPI)
	}
	// The labels of the revenue chart are the seven days.
	labels, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll('#charts figure[data-chart="revenue"] text').length`))
	if err != nil || labels < 7 {
		t.Fatalf("revenue chart texts: %d, %v", labels, err)
	}
}

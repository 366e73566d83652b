package slack_test

import (
	"bytes"
	"image/png"
	"strings"
	"testing"
	"time"

	"github.com/idicbot/idicbot/adapters/slack/slacktest"
	"github.com/idicbot/idicbot/bot/report"
)

func reportEnv(t *testing.T) *env {
	t.Helper()
	e := newEnv(t, false)
	loc, err := time.LoadLocation(report.DefaultZone)
	if err != nil {
		t.Fatal(err)
	}
	r := report.New(e.db, loc, time.Now, func() []string { return e.core.Segments().Names() })
	if err := e.a.RegisterReportCommands(r); err != nil {
		t.Fatal(err)
	}
	return e
}

// TestReportCommand: /crm report in Vietnamese by default, in English on
// request, with the seeded orders (1.500.000 + 2.500.000 + 25.000.000 +
// 300.000 ₫ today), for admins only.
func TestReportCommand(t *testing.T) {
	e := reportEnv(t)
	a := e.crm(adminUser, "report 7d")
	contains(t, "/crm report 7d", a.all(), "Báo cáo", "Doanh thu*: 29.300.000 ₫", "Đơn hàng: 4", "kỳ trước 0 ₫", "Asia/Ho_Chi_Minh",
		"Rời bỏ", "Giá trị khách hàng", "#3 Nguyễn Văn A")
	if a.ResponseType != "ephemeral" {
		t.Errorf("the report is %q, want ephemeral", a.ResponseType)
	}
	en := e.crm(adminUser, "report 30d en")
	contains(t, "/crm report 30d en", en.all(), "Reports", "Revenue*: 29.300.000 ₫", "Orders: 4", "Churn", "Customer value")
	lacks(t, "/crm report 30d en", en.all(), "Doanh thu")

	bad := e.crm(adminUser, "report yesterday")
	contains(t, "/crm report yesterday", bad.all(), "Cách dùng: /crm report [7d")
	help := e.crm(adminUser, "help")
	contains(t, "/crm help", help.all(), "/crm report [7d | 30d | 90d | <từ ngày> <đến ngày>] [charts] [en]", "số liệu của shop so với kỳ trước")
	// An admin who reads idicbot in English gets the report in English.
	e.crm(adminUser, "lang en")
	contains(t, "/crm report 7d after /crm lang en", e.crm(adminUser, "report 7d").all(), "Revenue*: 29.300.000 ₫")
	if rep := e.crm(repUser, "report 7d"); strings.Contains(rep.all(), "29.300.000") {
		t.Fatalf("a rep who is not an admin sees the report: %s", rep.all())
	}
}

// TestReportCharts: "charts" posts each chart to the channel as a PNG
// through Slack's upload flow.
func TestReportCharts(t *testing.T) {
	e := reportEnv(t)
	a := e.crm(adminUser, "report 7d charts")
	contains(t, "/crm report 7d charts", a.all(), "Doanh thu")
	e.fake.Wait("files.completeUploadExternal", 5, 10*time.Second)
	files := e.fake.Files()
	if len(files) != 5 {
		t.Fatalf("%d files shared, want 5 charts", len(files))
	}
	for _, f := range files {
		if f.Channel != "C0SALES01" || !strings.HasSuffix(f.Name, ".png") || f.Title == "" {
			t.Errorf("file %+v, want a titled PNG in C0SALES01", f)
		}
		if _, err := png.Decode(bytes.NewReader(f.Data)); err != nil {
			t.Errorf("%s: not a PNG: %v", f.Name, err)
		}
	}
	if calls := e.fake.Calls("files.getUploadURLExternal"); len(calls) != 5 || calls[0].Token != slacktest.BotToken {
		t.Fatalf("upload URL calls: %d", len(calls))
	}
}

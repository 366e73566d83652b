// Package reportview turns a report (bot/report) into what people read:
// words in Vietnamese or English, charts (adapters/internal/chart) and CSV
// tables. The admin dashboard and Slack's /crm report share it, so the
// same figure has the same name everywhere.
package reportview

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/idicbot/idicbot/adapters/internal/chart"
	"github.com/idicbot/idicbot/bot/report"
	"github.com/idicbot/idicbot/crm"
)

// Lang returns "en" for English and "vi" (the default) otherwise.
func Lang(s string) string {
	if strings.HasPrefix(strings.ToLower(strings.TrimSpace(s)), "en") {
		return "en"
	}
	return "vi"
}

var words = map[string][2]string{ // key → {vi, en}
	"title":         {"Báo cáo", "Reports"},
	"period":        {"Kỳ", "Period"},
	"previous":      {"kỳ trước", "previous period"},
	"revenue":       {"Doanh thu", "Revenue"},
	"orders":        {"Đơn hàng", "Orders"},
	"new":           {"Khách mới", "New customers"},
	"churn":         {"Rời bỏ (thân thiết/VIP → nguy cơ)", "Churn (loyal/VIP → at risk)"},
	"winback":       {"Quay lại (nguy cơ → mua lại)", "Win-back (at risk → ordered again)"},
	"bot":           {"Bot trả lời", "Answered by the bot"},
	"person":        {"Chuyển cho người", "Handed to a person"},
	"human":         {"Thời gian người trả lời (trung vị / p90)", "People's response time (median / p90)"},
	"funnel":        {"Phễu ưu đãi: đã xem → nhận → đặt hàng", "Offer funnel: shown → accepted → ordered"},
	"shown":         {"Đã xem", "Shown"},
	"accepted":      {"Nhận", "Accepted"},
	"ordered":       {"Đặt hàng", "Ordered"},
	"offer":         {"Ưu đãi", "Offer"},
	"segment":       {"Phân khúc", "Segment"},
	"channel":       {"Kênh", "Channel"},
	"source":        {"Nguồn", "Source"},
	"day":           {"Ngày", "Day"},
	"week":          {"Tuần", "Week"},
	"revenue_day":   {"Doanh thu theo ngày", "Revenue per day"},
	"new_day":       {"Khách mới theo ngày", "New customers per day"},
	"segments":      {"Quy mô phân khúc", "Segment sizes"},
	"flows":         {"Dịch chuyển phân khúc", "Segment flows"},
	"from":          {"Từ", "From"},
	"to":            {"Sang", "To"},
	"count":         {"Số lượng", "Count"},
	"cohorts":       {"Giữ chân theo tháng mua đầu (tỷ lệ mua lại)", "Retention by first-order month (share ordering again)"},
	"cohort":        {"Tháng mua đầu", "First order"},
	"size":          {"Số khách", "Customers"},
	"value":         {"Giá trị khách hàng (CLV 12 tháng tới)", "Customer value (CLV, next 12 months)"},
	"clv":           {"CLV", "CLV"},
	"average":       {"Trung bình", "Average"},
	"top":           {"Khách giá trị nhất", "Most valuable customers"},
	"customer":      {"Khách", "Customer"},
	"spent":         {"Đã chi", "Spent"},
	"alive":         {"Khả năng còn mua", "Still buying"},
	"expected":      {"Đơn kỳ vọng", "Expected orders"},
	"response":      {"Phản hồi tin nhắn khách", "Answers to customers' messages"},
	"messages":      {"Tin khách gửi", "Customer messages"},
	"campaigns":     {"Chiến dịch: tỷ lệ trả lời trong 48 giờ", "Campaigns: reply rate within 48 h"},
	"campaign":      {"Chiến dịch", "Campaign"},
	"sent":          {"Đã gửi", "Sent"},
	"replied":       {"Trả lời", "Replied"},
	"rate":          {"Tỷ lệ", "Rate"},
	"rev_segment":   {"Doanh thu theo phân khúc", "Revenue per segment"},
	"none":          {"(không có)", "(none)"},
	"downloads":     {"Tải CSV", "CSV downloads"},
	"method":        {"Phương pháp", "Method"},
	"precomputed":   {"Ngày đã tổng hợp sẵn / đọc từ nhật ký", "Days from rollups / read from the log"},
	"zone":          {"Múi giờ", "Time zone"},
	"days":          {"ngày", "days"},
	"apply":         {"Xem", "Show"},
	"last":          {"gần nhất", "last"},
	"customers_new": {"Khách mới theo kênh", "New customers by channel"},
}

// T returns the word for key in lang.
func T(lang, key string) string {
	w, ok := words[key]
	if !ok {
		return key
	}
	if lang == "en" {
		return w[1]
	}
	return w[0]
}

// Method states the customer value model in lang.
func Method(lang string) string {
	if lang == "en" {
		return report.MethodTextEN
	}
	return report.MethodText
}

// Percent writes a share as "66,7%" (vi) or "66.7%" (en).
func Percent(lang string, x float64) string {
	s := strconv.FormatFloat(math.Round(x*1000)/10, 'f', 1, 64) + "%"
	if lang != "en" {
		s = strings.Replace(s, ".", ",", 1)
	}
	return s
}

// Duration writes seconds as "10 phút", "1 giờ 5 phút", "45 giây".
func Duration(lang string, secs int64) string {
	d := time.Duration(secs) * time.Second
	unit := func(vi, en string) string {
		if lang == "en" {
			return en
		}
		return vi
	}
	switch {
	case d >= time.Hour:
		return fmt.Sprintf("%d %s %d %s", int(d.Hours()), unit("giờ", "h"), int(d.Minutes())%60, unit("phút", "min"))
	case d >= time.Minute:
		return fmt.Sprintf("%d %s", int(d.Minutes()), unit("phút", "min"))
	}
	return fmt.Sprintf("%d %s", secs, unit("giây", "s"))
}

// Change writes cur against prev: "+25,0%" or "mới" when prev is 0.
func Change(lang string, cur, prev float64) string {
	if prev == 0 {
		if cur == 0 {
			return "±0"
		}
		return map[bool]string{true: "new", false: "mới"}[lang == "en"]
	}
	d := (cur - prev) / prev
	sign := "+"
	if d < 0 {
		sign = ""
	}
	return sign + Percent(lang, d)
}

// Name writes a segment, channel or source, "(không có)" when empty.
func Name(lang, s string) string {
	if s == "" {
		return T(lang, "none")
	}
	return s
}

// ChartNames are the charts of a report, in the order they are shown.
var ChartNames = []string{"revenue", "new_customers", "funnel", "segments", "cohorts"}

// Chart returns the chart name of rep, false when there is none by that
// name.
func Chart(rep *report.Report, name, lang string) (chart.Chart, bool) {
	days := func(vals []report.DayValue) ([]string, []float64) {
		var labels []string
		var v []float64
		for _, d := range vals {
			labels = append(labels, d.Day[5:]) // MM-DD
			v = append(v, float64(d.Value))
		}
		return labels, v
	}
	switch name {
	case "revenue":
		l, v := days(rep.Sales.PerDay)
		return &chart.Line{Title: T(lang, "revenue_day") + " (₫)", Labels: l, Series: []chart.Series{{Name: T(lang, "revenue"), Values: v}}}, true
	case "new_customers":
		l, v := days(rep.Customers.PerDay)
		return &chart.Bars{Title: T(lang, "new_day"), Labels: l, Series: []chart.Series{{Name: T(lang, "new"), Values: v}}}, true
	case "funnel":
		b := &chart.Bars{Title: T(lang, "funnel"), Series: []chart.Series{{Name: T(lang, "shown")}, {Name: T(lang, "accepted")}, {Name: T(lang, "ordered")}}}
		for i, f := range rep.Funnel.ByOffer {
			if i == 8 {
				break
			}
			b.Labels = append(b.Labels, f.Offer)
			b.Series[0].Values = append(b.Series[0].Values, float64(f.Shown))
			b.Series[1].Values = append(b.Series[1].Values, float64(f.Accepted))
			b.Series[2].Values = append(b.Series[2].Values, float64(f.Ordered))
		}
		return b, true
	case "segments":
		l := &chart.Line{Title: T(lang, "segments")}
		for _, d := range rep.Segments.Days {
			l.Labels = append(l.Labels, d[5:])
		}
		for i, n := range rep.Segments.Names {
			s := chart.Series{Name: n}
			for _, v := range rep.Segments.Sizes[i] {
				s.Values = append(s.Values, float64(v))
			}
			l.Series = append(l.Series, s)
		}
		return l, true
	case "cohorts":
		h := &chart.Heat{Title: T(lang, "cohorts")}
		n := len(rep.Cohorts)
		for k := range n {
			h.Cols = append(h.Cols, "+"+strconv.Itoa(k))
		}
		for _, c := range rep.Cohorts {
			h.Rows = append(h.Rows, c.Month)
			share, text := make([]float64, n), make([]string, n)
			for k := range n {
				share[k] = math.NaN()
				if k < len(c.Active) && c.Size > 0 {
					share[k] = c.Retention(k)
					text[k] = strconv.FormatFloat(math.Round(c.Retention(k)*100), 'f', 0, 64) + "%"
				}
			}
			h.Share, h.Text = append(h.Share, share), append(h.Text, text)
		}
		return h, true
	}
	return nil, false
}

// TableNames are the CSV tables of a report.
var TableNames = []string{"sales", "funnel", "new_customers", "segments", "flows", "cohorts", "value", "top", "response", "campaigns"}

// Table returns table name of rep as CSV records (a header row first),
// false when there is none by that name. Amounts are whole đồng; shares
// are fractions (0.25), for spreadsheets.
func Table(rep *report.Report, name, lang string) ([][]string, bool) {
	i64 := func(v int64) string { return strconv.FormatInt(v, 10) }
	f := func(v float64) string { return strconv.FormatFloat(v, 'f', 4, 64) }
	switch name {
	case "sales":
		out := [][]string{{T(lang, "day"), T(lang, "revenue")}}
		for _, d := range rep.Sales.PerDay {
			out = append(out, []string{d.Day, i64(d.Value)})
		}
		return out, true
	case "funnel":
		out := [][]string{{T(lang, "offer"), T(lang, "segment"), T(lang, "channel"), T(lang, "shown"), T(lang, "accepted"), T(lang, "ordered"), T(lang, "revenue")}}
		add := func(rows []report.FunnelRow) {
			for _, r := range rows {
				out = append(out, []string{r.Offer, r.Segment, string(r.Channel), i64(r.Shown), i64(r.Accepted), i64(r.Ordered), i64(r.Revenue)})
			}
		}
		add(rep.Funnel.ByOffer)
		add(rep.Funnel.BySegment)
		add(rep.Funnel.ByChannel)
		return out, true
	case "new_customers":
		out := [][]string{{T(lang, "day"), T(lang, "new")}}
		for _, d := range rep.Customers.PerDay {
			out = append(out, []string{d.Day, i64(d.Value)})
		}
		for _, c := range rep.Customers.ByChannel {
			out = append(out, []string{T(lang, "channel") + ": " + c.Name, i64(c.Count)})
		}
		for _, c := range rep.Customers.BySource {
			out = append(out, []string{T(lang, "source") + ": " + c.Name, i64(c.Count)})
		}
		return out, true
	case "segments":
		out := [][]string{append([]string{T(lang, "day")}, rep.Segments.Names...)}
		for j, d := range rep.Segments.Days {
			row := []string{d}
			for i := range rep.Segments.Names {
				row = append(row, i64(rep.Segments.Sizes[i][j]))
			}
			out = append(out, row)
		}
		return out, true
	case "flows":
		out := [][]string{{T(lang, "from"), T(lang, "to"), T(lang, "count")}}
		for _, fl := range rep.Segments.Flows {
			out = append(out, []string{fl.From, fl.To, i64(fl.Count)})
		}
		return out, true
	case "cohorts":
		head := []string{T(lang, "cohort"), T(lang, "size")}
		for k := range rep.Cohorts {
			head = append(head, "+"+strconv.Itoa(k))
		}
		out := [][]string{head}
		for _, c := range rep.Cohorts {
			row := []string{c.Month, i64(c.Size)}
			for k := range c.Active {
				row = append(row, f(c.Retention(k)))
			}
			out = append(out, row)
		}
		return out, true
	case "value":
		out := [][]string{{T(lang, "segment"), T(lang, "size"), T(lang, "clv"), T(lang, "average")}}
		for _, s := range rep.Value.Segments {
			out = append(out, []string{s.Segment, i64(s.Customers), i64(s.CLV), i64(s.Average)})
		}
		return out, true
	case "top":
		out := [][]string{{"id", T(lang, "customer"), T(lang, "segment"), T(lang, "spent"), T(lang, "orders"), T(lang, "alive"), T(lang, "expected"), T(lang, "clv")}}
		for _, c := range rep.Value.Top {
			out = append(out, []string{i64(int64(c.ID)), c.Name, c.Segment, i64(c.Spent), strconv.Itoa(c.Orders), f(c.Value.Alive), f(c.Value.ExpectedOrders), i64(c.Value.CLV)})
		}
		return out, true
	case "response":
		r := rep.Response
		return [][]string{
			{"figure", "value", "previous"},
			{"messages_in", i64(r.MessagesIn), i64(r.PrevMessagesIn)},
			{"bot_answered", i64(r.BotAnswered), i64(r.PrevBotAnswered)},
			{"to_person", i64(r.ToPerson), i64(r.PrevToPerson)},
			{"human_replies", i64(r.HumanReplies), ""},
			{"human_median_s", i64(r.HumanMedian), ""},
			{"human_p90_s", i64(r.HumanP90), ""},
		}, true
	case "campaigns":
		out := [][]string{{T(lang, "campaign"), T(lang, "sent"), T(lang, "replied"), T(lang, "rate")}}
		for _, c := range rep.Response.Campaigns {
			out = append(out, []string{c.Campaign, i64(c.Sent), i64(c.Replied), f(ratio(c.Replied, c.Sent))})
		}
		return out, true
	}
	return nil, false
}

func ratio(a, b int64) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

// Ratio is a/b, 0 when b is 0.
func Ratio(a, b int64) float64 { return ratio(a, b) }

// VND writes an amount the shop's way.
func VND(v int64) string { return crm.VND(v) }

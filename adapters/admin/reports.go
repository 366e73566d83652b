package admin

import (
	"bytes"
	"context"
	"embed"
	"encoding/csv"
	"html/template"
	"net/http"
	"strconv"
	"strings"

	"github.com/idicbot/idicbot/adapters/internal/chart"
	rv "github.com/idicbot/idicbot/adapters/internal/reportview"
	"github.com/idicbot/idicbot/bot/report"
	"github.com/idicbot/idicbot/crm"
)

// Reports computes the owner's reports; *report.Service implements it.
type Reports interface {
	LastDays(n int) (report.Period, error)
	Between(from, to string) (report.Period, error)
	Report(ctx context.Context, p report.Period) (*report.Report, error)
}

var _ Reports = (*report.Service)(nil)

//go:embed dashboard.html dashboard.css dashboard.js
var dashboardAssets embed.FS

var dashboardPage = template.Must(template.New("dashboard.html").Funcs(template.FuncMap{
	"pct":    rv.Percent,
	"vnd":    rv.VND,
	"dur":    rv.Duration,
	"name":   rv.Name,
	"method": rv.Method,
	"t":      rv.T,
	"ratio": func(a, b int64) float64 {
		return rv.Ratio(a, b)
	},
}).ParseFS(dashboardAssets, "dashboard.html"))

// reportRoutes serves the dashboard page (GET /admin/dashboard, for a
// logged-in session), the report as JSON (GET /api/admin/reports), its
// tables as CSV and its charts as SVG or PNG (GET
// /api/admin/reports/{file}: funnel.csv, revenue.png…). Each takes the
// period as ?days=N (the last N days, today included; 30 by default) or
// ?from=YYYY-MM-DD&to=YYYY-MM-DD, and ?lang=en for English.
func (s *Server) reportRoutes(mux *http.ServeMux, api func(string, apiHandler)) {
	if s.opts.Reports == nil {
		return
	}
	mux.HandleFunc("GET /admin/dashboard", s.handleDashboard)
	mux.HandleFunc("GET /admin/dashboard/assets/{file}", handleDashboardAsset)
	api("GET /api/admin/reports", s.reportJSON)
	api("GET /api/admin/reports/{file}", s.reportFile)
}

// reportPeriod reads the period of a request; a bad one is a bad request
// (400).
func (s *Server) reportPeriod(r *http.Request) (report.Period, error) {
	p, err := s.parsePeriod(r)
	if err != nil {
		return p, badRequestf(crm.ErrorMessage(err))
	}
	return p, nil
}

func (s *Server) parsePeriod(r *http.Request) (report.Period, error) {
	q := r.URL.Query()
	if from, to := q.Get("from"), q.Get("to"); from != "" || to != "" {
		return s.opts.Reports.Between(from, to)
	}
	days := 30
	if d := q.Get("days"); d != "" {
		n, err := strconv.Atoi(d)
		if err != nil {
			return report.Period{}, crm.Errorf(crm.EINVALID, "days must be a number of days, not %q.", d)
		}
		days = n
	}
	return s.opts.Reports.LastDays(days)
}

func (s *Server) reportJSON(w http.ResponseWriter, r *http.Request, _ caller) error {
	p, err := s.reportPeriod(r)
	if err != nil {
		return err
	}
	rep, err := s.opts.Reports.Report(r.Context(), p)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, rep)
	return nil
}

func (s *Server) reportFile(w http.ResponseWriter, r *http.Request, _ caller) error {
	file := r.PathValue("file")
	name, ext, _ := strings.Cut(file, ".")
	lang := rv.Lang(r.URL.Query().Get("lang"))
	p, err := s.reportPeriod(r)
	if err != nil {
		return err
	}
	rep, err := s.opts.Reports.Report(r.Context(), p)
	if err != nil {
		return err
	}
	base := "idicbot-" + name + "-" + p.From.Format("2006-01-02") + "_" + p.To.AddDate(0, 0, -1).Format("2006-01-02")
	switch ext {
	case "csv":
		rows, ok := rv.Table(rep, name, lang)
		if !ok {
			break
		}
		var b bytes.Buffer
		b.WriteString("\ufeff") // spreadsheets read the file as UTF-8
		cw := csv.NewWriter(&b)
		if err := cw.WriteAll(rows); err != nil {
			return err
		}
		w.Header().Set("Content-Type", "text/csv; charset=utf-8")
		w.Header().Set("Content-Disposition", `attachment; filename="`+base+`.csv"`)
		_, _ = w.Write(b.Bytes())
		return nil
	case "svg", "png":
		ch, ok := rv.Chart(rep, name, lang)
		if !ok {
			break
		}
		if ext == "svg" {
			w.Header().Set("Content-Type", "image/svg+xml")
			w.Header().Set("Content-Security-Policy", "default-src 'none'")
			_, _ = w.Write(chart.SVG(ch))
			return nil
		}
		img, err := chart.PNG(ch)
		if err != nil {
			return err
		}
		w.Header().Set("Content-Type", "image/png")
		_, _ = w.Write(img)
		return nil
	}
	return crm.Errorf(crm.ENOTFOUND, "No report file %q: tables are %s (.csv), charts %s (.svg or .png).",
		file, strings.Join(rv.TableNames, ", "), strings.Join(rv.ChartNames, ", "))
}

// kpi is one headline figure with the previous period's.
type kpi struct {
	Label, Value, Prev, Change string
}

type namedChart struct {
	Name string
	SVG  template.HTML
}

type dashboard struct {
	Lang    string
	Rep     *report.Report
	Days    int
	From    string
	To      string
	Query   string
	Other   string // the query for the page in the other language
	KPIs    []kpi
	Charts  []namedChart
	Tables  []string
	Periods []int
	Error   string
}

func (s *Server) handleDashboard(w http.ResponseWriter, r *http.Request) {
	securityHeaders(w)
	if s.session(r) == nil {
		http.Redirect(w, r, "/admin", http.StatusSeeOther)
		return
	}
	lang := rv.Lang(r.URL.Query().Get("lang"))
	d := &dashboard{Lang: lang, Tables: rv.TableNames, Periods: []int{7, 30, 90, 365}}
	status := http.StatusOK
	p, err := s.parsePeriod(r)
	var rep *report.Report
	if err == nil {
		rep, err = s.opts.Reports.Report(r.Context(), p)
	}
	if err != nil {
		if crm.ErrorCode(err) == crm.EINTERNAL {
			s.log.Error("dashboard", "err", err)
			status = http.StatusInternalServerError
		} else {
			status = http.StatusBadRequest
		}
		d.Error = crm.ErrorMessage(err)
	} else {
		d.fill(rep, lang)
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	if err := dashboardPage.Execute(w, d); err != nil {
		s.log.Error("dashboard template", "err", err)
	}
}

func (d *dashboard) fill(rep *report.Report, lang string) {
	d.Rep = rep
	d.Days = rep.Period.Days()
	d.From, d.To = rep.Period.From.Format("2006-01-02"), rep.Period.To.AddDate(0, 0, -1).Format("2006-01-02")
	d.Query = "from=" + d.From + "&to=" + d.To + "&lang=" + lang
	other := "en"
	if lang == "en" {
		other = "vi"
	}
	d.Other = "from=" + d.From + "&to=" + d.To + "&lang=" + other
	num := func(v int64) string { return strconv.FormatInt(v, 10) }
	sg, resp := rep.Segments, rep.Response
	d.KPIs = []kpi{
		{rv.T(lang, "revenue"), rv.VND(rep.Sales.Revenue), rv.VND(rep.Sales.PrevRevenue), rv.Change(lang, float64(rep.Sales.Revenue), float64(rep.Sales.PrevRevenue))},
		{rv.T(lang, "orders"), num(rep.Sales.Orders), num(rep.Sales.PrevOrders), rv.Change(lang, float64(rep.Sales.Orders), float64(rep.Sales.PrevOrders))},
		{rv.T(lang, "new"), num(rep.Customers.New), num(rep.Customers.PrevNew), rv.Change(lang, float64(rep.Customers.New), float64(rep.Customers.PrevNew))},
		{rv.T(lang, "churn"), rv.Percent(lang, sg.ChurnRate()) + " (" + num(sg.Churned) + "/" + num(sg.ChurnBase) + ")",
			rv.Percent(lang, sg.PrevChurnRate()), ""},
		{rv.T(lang, "winback"), rv.Percent(lang, sg.WinBackRate()) + " (" + num(sg.WonBack) + "/" + num(sg.WinBackBase) + ")",
			rv.Percent(lang, rv.Ratio(sg.PrevWonBack, sg.PrevWinBackBase)), ""},
		{rv.T(lang, "bot"), rv.Percent(lang, rv.Ratio(resp.BotAnswered, resp.MessagesIn)),
			rv.Percent(lang, rv.Ratio(resp.PrevBotAnswered, resp.PrevMessagesIn)), ""},
		{rv.T(lang, "person"), rv.Percent(lang, rv.Ratio(resp.ToPerson, resp.MessagesIn)),
			rv.Percent(lang, rv.Ratio(resp.PrevToPerson, resp.PrevMessagesIn)), ""},
		{rv.T(lang, "human"), rv.Duration(lang, resp.HumanMedian) + " / " + rv.Duration(lang, resp.HumanP90), "", ""},
	}
	for _, n := range rv.ChartNames {
		if ch, ok := rv.Chart(rep, n, lang); ok {
			d.Charts = append(d.Charts, namedChart{Name: n, SVG: template.HTML(chart.SVG(ch))}) // #nosec G203 -- drawn by chart.SVG, every text escaped
		}
	}
}

func handleDashboardAsset(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("file")
	var ctype string
	switch name {
	case "dashboard.js":
		ctype = "text/javascript; charset=utf-8"
	case "dashboard.css":
		ctype = "text/css; charset=utf-8"
	default:
		http.NotFound(w, r)
		return
	}
	data, err := dashboardAssets.ReadFile(name)
	if err != nil {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", ctype)
	w.Header().Set("X-Content-Type-Options", "nosniff")
	_, _ = w.Write(data)
}

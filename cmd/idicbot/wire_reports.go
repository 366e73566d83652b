package main

import (
	"context"
	"net/http"
)

// wireReports runs the reports' background refresh (closed days rolled up,
// the day's customer value), so that the first dashboard of a big shop does
// not pay for it.
func (m *Main) wireReports(_ context.Context, _ *http.ServeMux) error {
	m.Reports.SetLogger(m.Log)
	m.parts = append(m.parts, part{name: "reports", start: m.Reports.Open, stop: m.Reports.Close})
	return nil
}

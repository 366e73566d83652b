package bot

import (
	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the core's Prometheus instruments. A nil *Metrics records
// nothing, so tests and tools need not register any.
type Metrics struct {
	MessagesIn     *prometheus.CounterVec
	MessagesOut    *prometheus.CounterVec
	SendErrors     *prometheus.CounterVec
	Pipeline       prometheus.Histogram
	OutboxDepth    prometheus.Gauge
	SegmentChanges *prometheus.CounterVec
	OffersShown    *prometheus.CounterVec
	OffersAccepted *prometheus.CounterVec
	Duplicates     *prometheus.CounterVec
}

// NewMetrics creates and registers the core's metrics.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		MessagesIn:     prometheus.NewCounterVec(prometheus.CounterOpts{Name: "idicbot_messages_in_total", Help: "Inbound customer events by channel."}, []string{"channel"}),
		MessagesOut:    prometheus.NewCounterVec(prometheus.CounterOpts{Name: "idicbot_messages_out_total", Help: "Messages delivered by channel."}, []string{"channel"}),
		SendErrors:     prometheus.NewCounterVec(prometheus.CounterOpts{Name: "idicbot_send_errors_total", Help: "Send failures by channel and kind (temporary, rate_limited, permanent)."}, []string{"channel", "kind"}),
		Pipeline:       prometheus.NewHistogram(prometheus.HistogramOpts{Name: "idicbot_pipeline_seconds", Help: "Time from receiving an inbound event to its commit.", Buckets: prometheus.ExponentialBuckets(0.0005, 2, 14)}),
		OutboxDepth:    prometheus.NewGauge(prometheus.GaugeOpts{Name: "idicbot_outbox_depth", Help: "Outbox items waiting to be sent."}),
		SegmentChanges: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "idicbot_segment_changes_total", Help: "Customers moved between segments."}, []string{"from", "to"}),
		OffersShown:    prometheus.NewCounterVec(prometheus.CounterOpts{Name: "idicbot_offers_shown_total", Help: "Offers shown by offer id."}, []string{"offer"}),
		OffersAccepted: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "idicbot_offers_accepted_total", Help: "Offers accepted by offer id."}, []string{"offer"}),
		Duplicates:     prometheus.NewCounterVec(prometheus.CounterOpts{Name: "idicbot_duplicates_total", Help: "Redelivered inbound events ignored by channel."}, []string{"channel"}),
	}
	if reg != nil {
		reg.MustRegister(m.MessagesIn, m.MessagesOut, m.SendErrors, m.Pipeline, m.OutboxDepth, m.SegmentChanges, m.OffersShown, m.OffersAccepted, m.Duplicates)
	}
	return m
}

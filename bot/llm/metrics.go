package llm

import "github.com/prometheus/client_golang/prometheus"

// metrics are the assistant's Prometheus instruments. They exist from New on
// (so they count in tests); Register exposes them.
type metrics struct {
	calls     *prometheus.CounterVec
	latency   *prometheus.HistogramVec
	failures  *prometheus.CounterVec
	tokens    *prometheus.CounterVec
	fallbacks *prometheus.CounterVec
	answers   *prometheus.CounterVec
	breaker   prometheus.Gauge
}

func newMetrics() *metrics {
	return &metrics{
		calls: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "idicbot_llm_calls_total",
			Help: "Chat completion calls to the LLM by step (understand, answer) and result (ok, error)."}, []string{"step", "result"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "idicbot_llm_call_seconds",
			Help: "Latency of one LLM step, retries included.", Buckets: prometheus.ExponentialBuckets(0.05, 2, 9)}, []string{"step"}),
		failures: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "idicbot_llm_failures_total",
			Help: "LLM failures by kind: timeout, rate_limit, server, client, network, invalid_output, breaker_open."}, []string{"kind"}),
		tokens: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "idicbot_llm_tokens_total",
			Help: "Tokens used, as reported by the server, by type (prompt, completion)."}, []string{"type"}),
		fallbacks: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "idicbot_llm_fallbacks_total",
			Help: "Messages answered by the rules instead of the LLM, by reason (error, rejected_draft, no_draft)."}, []string{"reason"}),
		answers: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "idicbot_llm_drafts_total",
			Help: "Answer drafts by outcome (accepted, rejected)."}, []string{"outcome"}),
		breaker: prometheus.NewGauge(prometheus.GaugeOpts{Name: "idicbot_llm_breaker_state",
			Help: "Circuit breaker state: 0 closed, 1 half-open, 2 open."}),
	}
}

// Register exposes the assistant's metrics on reg.
func (a *Assistant) Register(reg prometheus.Registerer) {
	m := a.metrics
	reg.MustRegister(m.calls, m.latency, m.failures, m.tokens, m.fallbacks, m.answers, m.breaker)
}

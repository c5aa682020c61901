package caddymodule

import (
	"errors"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/credgate/credgate/gateway"
)

// metrics are credgate's Prometheus metrics, registered in Caddy's metrics
// registry, so the metrics handler and the admin /metrics endpoint serve
// them with Caddy's own.
type metrics struct {
	refreshes     *prometheus.CounterVec
	links         *prometheus.CounterVec
	marks         *prometheus.CounterVec
	sweepAccounts *prometheus.GaugeVec
	sweepSuccess  *prometheus.GaugeVec
}

func newMetrics(registry *prometheus.Registry) (*metrics, error) {
	m := &metrics{
		refreshes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "credgate",
			Name:      "token_refreshes_total",
			Help:      "Token refresh attempts by app, trigger (call, sweep) and result (refreshed, failed, rejected, skipped).",
		}, []string{"app", "trigger", "result"}),
		links: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "credgate",
			Name:      "account_links_total",
			Help:      "OAuth callbacks by app and result (linked, failed, declined, invalid_state).",
		}, []string{"app", "result"}),
		marks: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "credgate",
			Name:      "reauthorizations_required_total",
			Help:      "Accounts marked for reauthorization by app and reason (api_error, refresh_rejected).",
		}, []string{"app", "reason"}),
		sweepAccounts: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Namespace: "credgate",
			Name:      "sweep_accounts",
			Help:      "Accounts in the last background sweep by app and outcome (checked, refreshed, failed, expired).",
		}, []string{"app", "outcome"}),
		sweepSuccess: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Namespace: "credgate",
			Name:      "sweep_last_success_timestamp_seconds",
			Help:      "Unix time of the last background sweep that listed every account, by app.",
		}, []string{"app"}),
	}
	if registry == nil {
		return m, nil
	}

	var err error
	if m.refreshes, err = register(registry, m.refreshes); err != nil {
		return nil, err
	}
	if m.links, err = register(registry, m.links); err != nil {
		return nil, err
	}
	if m.marks, err = register(registry, m.marks); err != nil {
		return nil, err
	}
	if m.sweepAccounts, err = register(registry, m.sweepAccounts); err != nil {
		return nil, err
	}
	if m.sweepSuccess, err = register(registry, m.sweepSuccess); err != nil {
		return nil, err
	}
	return m, nil
}

// register adds a collector to the registry, or returns the one already
// registered under the same name.
func register[T prometheus.Collector](registry *prometheus.Registry, collector T) (T, error) {
	err := registry.Register(collector)
	var already prometheus.AlreadyRegisteredError
	if errors.As(err, &already) {
		if existing, ok := already.ExistingCollector.(T); ok {
			return existing, nil
		}
	}
	return collector, err
}

// TokenRefresh implements gateway.Metrics.
func (m *metrics) TokenRefresh(app, trigger, result string) {
	m.refreshes.WithLabelValues(app, trigger, result).Inc()
}

// AccountLink implements gateway.Metrics.
func (m *metrics) AccountLink(app, result string) {
	m.links.WithLabelValues(app, result).Inc()
}

// AccountMarked implements gateway.Metrics.
func (m *metrics) AccountMarked(app, reason string) {
	m.marks.WithLabelValues(app, reason).Inc()
}

// sweepFinished records the counts of one background sweep.
func (m *metrics) sweepFinished(app string, result gateway.SweepResult, listed bool) {
	if m == nil {
		return
	}
	m.sweepAccounts.WithLabelValues(app, "checked").Set(float64(result.Checked))
	m.sweepAccounts.WithLabelValues(app, "refreshed").Set(float64(result.Refreshed))
	m.sweepAccounts.WithLabelValues(app, "failed").Set(float64(result.Failed))
	m.sweepAccounts.WithLabelValues(app, "expired").Set(float64(result.Expired))
	if listed {
		m.sweepSuccess.WithLabelValues(app).Set(float64(time.Now().Unix()))
	}
}

// Interface guards
var _ gateway.Metrics = (*metrics)(nil)

package caddymodule

import (
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/credgate/credgate/gateway"
)

func TestMetricsCount(t *testing.T) {
	registry := prometheus.NewRegistry()
	m, err := newMetrics(registry)
	if err != nil {
		t.Fatalf("newMetrics: %v", err)
	}

	m.TokenRefresh("instagram", "call", "refreshed")
	m.TokenRefresh("instagram", "sweep", "failed")
	m.AccountLink("instagram", "linked")
	m.AccountMarked("instagram", "api_error")
	m.sweepFinished("instagram", gateway.SweepResult{Checked: 3, Refreshed: 1}, true)

	want := `
# HELP credgate_token_refreshes_total Token refresh attempts by app, trigger (call, sweep) and result (refreshed, failed, rejected, skipped).
# TYPE credgate_token_refreshes_total counter
credgate_token_refreshes_total{app="instagram",result="failed",trigger="sweep"} 1
credgate_token_refreshes_total{app="instagram",result="refreshed",trigger="call"} 1
`
	if err := testutil.GatherAndCompare(registry, strings.NewReader(want), "credgate_token_refreshes_total"); err != nil {
		t.Error(err)
	}
	if got := testutil.ToFloat64(m.sweepAccounts.WithLabelValues("instagram", "checked")); got != 3 {
		t.Errorf("sweep_accounts checked = %v, want 3", got)
	}
	if got := testutil.ToFloat64(m.sweepSuccess.WithLabelValues("instagram")); got == 0 {
		t.Error("sweep_last_success_timestamp_seconds was not set")
	}
}

// A config reload provisions the app again with the same registry: the
// metrics already registered are reused, not an error.
func TestMetricsRegisterTwice(t *testing.T) {
	registry := prometheus.NewRegistry()
	first, err := newMetrics(registry)
	if err != nil {
		t.Fatalf("first newMetrics: %v", err)
	}
	second, err := newMetrics(registry)
	if err != nil {
		t.Fatalf("second newMetrics: %v", err)
	}

	second.AccountLink("instagram", "linked")
	if got := testutil.ToFloat64(first.links.WithLabelValues("instagram", "linked")); got != 1 {
		t.Errorf("links counted through the second = %v in the first, want 1", got)
	}
}

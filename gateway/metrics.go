package gateway

import "errors"

// Metrics receives counts of the gateway's token work, for monitoring: a
// rising count of failed refreshes is the early sign of tokens about to
// expire. A nil Config.Metrics counts nothing.
type Metrics interface {
	// TokenRefresh counts one refresh attempt. trigger is "call" or
	// "sweep". result is "refreshed" or "failed", "rejected" when the
	// provider reported the token dead, "skipped" when another instance
	// held the lease, and "backoff" while a recent failure is waited out.
	TokenRefresh(app, trigger, result string)

	// AccountLink counts one callback. result is "linked", "failed",
	// "declined" or "invalid_state".
	AccountLink(app, result string)

	// AccountMarked counts an account marked for reauthorization. reason
	// is "api_error" or "refresh_rejected".
	AccountMarked(app, reason string)
}

type noMetrics struct{}

func (noMetrics) TokenRefresh(string, string, string) {}
func (noMetrics) AccountLink(string, string)          {}
func (noMetrics) AccountMarked(string, string)        {}

// refreshResult names the outcome of g.refresh for Metrics.
func (g *Gateway) refreshResult(err error) string {
	switch {
	case err == nil:
		return "refreshed"
	case errors.Is(err, errRefreshBackoff):
		return "backoff"
	case isRefreshInProgress(err):
		return "skipped"
	case g.isReauthorizationError(err):
		return "rejected"
	default:
		return "failed"
	}
}

package oauthflow

import "time"

// RefreshPolicy decides what to do with a stored token.
type RefreshPolicy struct {
	Window time.Duration // refresh when expiry is this close
	MinAge time.Duration // never refresh a younger token
}

// Decision is the outcome of RefreshPolicy.Decide.
type Decision int

// The decisions of RefreshPolicy.Decide.
const (
	// Fresh is a token whose expiry is further away than the window.
	Fresh Decision = iota

	// RefreshDue is a token inside the window and old enough to refresh.
	RefreshDue

	// TooYoungToRefresh is a token inside the window but younger than
	// MinAge, which the provider would reject.
	TooYoungToRefresh

	// Expired is a token at or past its expiry. It cannot be refreshed, and
	// the user must link the account again.
	Expired
)

// String returns the snake_case name of the decision, for logs.
func (d Decision) String() string {
	switch d {
	case Fresh:
		return "fresh"
	case RefreshDue:
		return "refresh_due"
	case TooYoungToRefresh:
		return "too_young_to_refresh"
	case Expired:
		return "expired"
	default:
		return "unknown"
	}
}

// Decide classifies a token issued at issuedAt and expiring at expiresAt:
// Expired when now >= expiresAt, Fresh when more than Window remains,
// TooYoungToRefresh when it is younger than MinAge, and RefreshDue otherwise.
func (p RefreshPolicy) Decide(now, issuedAt, expiresAt time.Time) Decision {
	if !now.Before(expiresAt) {
		return Expired
	}
	if expiresAt.Sub(now) > p.Window {
		return Fresh
	}
	if now.Sub(issuedAt) < p.MinAge {
		return TooYoungToRefresh
	}
	return RefreshDue
}

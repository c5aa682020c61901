package oauthflow

import (
	"testing"
	"time"
)

func TestRefreshPolicyDecide(t *testing.T) {
	policy := RefreshPolicy{Window: 15 * 24 * time.Hour, MinAge: 24 * time.Hour}
	issuedAt := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	lifetime := 60 * 24 * time.Hour
	expiresAt := issuedAt.Add(lifetime)

	tests := []struct {
		name      string
		now       time.Time
		expiresAt time.Time
		expected  Decision
	}{
		{name: "just issued", now: issuedAt, expiresAt: expiresAt, expected: Fresh},
		{name: "one second outside window", now: expiresAt.Add(-policy.Window - time.Second), expiresAt: expiresAt, expected: Fresh},
		{name: "exactly at window", now: expiresAt.Add(-policy.Window), expiresAt: expiresAt, expected: RefreshDue},
		{name: "inside window", now: expiresAt.Add(-time.Hour), expiresAt: expiresAt, expected: RefreshDue},
		{name: "one second before expiry", now: expiresAt.Add(-time.Second), expiresAt: expiresAt, expected: RefreshDue},
		{name: "exactly at expiry", now: expiresAt, expiresAt: expiresAt, expected: Expired},
		{name: "after expiry", now: expiresAt.Add(time.Hour), expiresAt: expiresAt, expected: Expired},

		// a short-lived token lands inside the window at once
		{name: "short token exactly 24h old", now: issuedAt.Add(24 * time.Hour), expiresAt: issuedAt.Add(48 * time.Hour), expected: RefreshDue},
		{name: "short token 1s short of 24h", now: issuedAt.Add(24*time.Hour - time.Second), expiresAt: issuedAt.Add(48 * time.Hour), expected: TooYoungToRefresh},
		{name: "short token just issued", now: issuedAt, expiresAt: issuedAt.Add(48 * time.Hour), expected: TooYoungToRefresh},
		{name: "young token at expiry", now: issuedAt.Add(time.Hour), expiresAt: issuedAt.Add(time.Hour), expected: Expired},
	}
	for _, test := range tests {
		t.Run(test.name, func(t *testing.T) {
			if got := policy.Decide(test.now, issuedAt, test.expiresAt); got != test.expected {
				t.Errorf("Decide = %v, expected %v", got, test.expected)
			}
		})
	}
}

func TestDecisionString(t *testing.T) {
	expected := map[Decision]string{
		Fresh:             "fresh",
		RefreshDue:        "refresh_due",
		TooYoungToRefresh: "too_young_to_refresh",
		Expired:           "expired",
		Decision(99):      "unknown",
	}
	for decision, name := range expected {
		if got := decision.String(); got != name {
			t.Errorf("Decision(%d).String() = %q, expected %q", int(decision), got, name)
		}
	}
}

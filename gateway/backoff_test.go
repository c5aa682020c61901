package gateway_test

import (
	"net/http"
	"testing"
	"time"
)

// A refresh the provider keeps rejecting is not sent on every call: after
// a failure the account waits a minute, then twice as long after the next.
func TestRefreshBackoffAfterFailure(t *testing.T) {
	h := newHarness(t)
	h.seedAccount(t, testStoredToken, 50*day, 10*day)
	h.instagram.setRefresh(http.StatusInternalServerError, 0)

	serveOK := func() {
		t.Helper()
		if rec := h.serve(request(http.MethodGet, "/me", "", "")); rec.Code != http.StatusOK {
			t.Fatalf("status = %d, want 200; body %s", rec.Code, rec.Body)
		}
	}

	serveOK()
	serveOK()
	serveOK()
	if n := len(h.instagram.refreshedTokens()); n != 1 {
		t.Fatalf("refresh requests after 3 calls = %d, want 1", n)
	}
	if n := len(h.logs.find(t, "token refresh failed")); n != 1 {
		t.Errorf("error log lines = %d, want 1 for the one refresh sent", n)
	}

	h.clock.Advance(61 * time.Second)
	serveOK()
	if n := len(h.instagram.refreshedTokens()); n != 2 {
		t.Fatalf("refresh requests after the first wait = %d, want 2", n)
	}

	// the second failure waits two minutes
	h.clock.Advance(61 * time.Second)
	serveOK()
	if n := len(h.instagram.refreshedTokens()); n != 2 {
		t.Errorf("refresh requests within the doubled wait = %d, want 2", n)
	}

	// a refresh that goes through ends the waiting
	h.instagram.setRefresh(0, 0)
	h.clock.Advance(2 * time.Minute)
	serveOK()
	if stored := h.store.account(testKey()); stored.AccessToken != testRefreshedToken {
		t.Error("the refreshed token was not stored after the wait")
	}
}

package gateway_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/credgate/credgate/gateway"
	"github.com/credgate/credgate/vault"
)

// Another instance holds a live refresh lease: this one must not refresh
// too, and the call goes on with the current token.
func TestRefreshSkippedWhileLeased(t *testing.T) {
	h := newHarness(t)
	account := h.seedAccount(t, testStoredToken, 50*day, 10*day)
	account.RefreshLeaseHolder = "another-instance"
	account.RefreshLeaseUntil = h.clock.Now().Add(time.Minute)
	h.store.seed(t, testKey(), account)

	rec := h.serve(request(http.MethodGet, "/me", "", ""))

	if rec.Code != http.StatusOK {
		t.Fatalf("status = %d, want 200; body %s", rec.Code, rec.Body)
	}
	if n := len(h.instagram.refreshedTokens()); n != 0 {
		t.Errorf("refresh requests = %d, want 0 while another instance holds the lease", n)
	}
	if got := h.upstream.onlyCall(t).Header.Get("Authorization"); got != "Bearer "+testStoredToken {
		t.Errorf("the call did not use the current token")
	}
	if entries := h.logs.find(t, "token refresh failed"); len(entries) != 0 {
		t.Errorf("a held lease was logged as a failed refresh")
	}
}

// A lease whose holder died ends by itself, and the next call refreshes.
func TestRefreshTakesOverExpiredLease(t *testing.T) {
	h := newHarness(t)
	account := h.seedAccount(t, testStoredToken, 50*day, 10*day)
	account.RefreshLeaseHolder = "a-dead-instance"
	account.RefreshLeaseUntil = h.clock.Now().Add(-time.Second)
	h.store.seed(t, testKey(), account)

	rec := h.serve(request(http.MethodGet, "/me", "", ""))

	if rec.Code != http.StatusOK {
		t.Fatalf("status = %d, want 200; body %s", rec.Code, rec.Body)
	}
	if n := len(h.instagram.refreshedTokens()); n != 1 {
		t.Fatalf("refresh requests = %d, want 1", n)
	}
	stored := h.store.account(testKey())
	if stored.AccessToken != testRefreshedToken {
		t.Error("the refreshed token was not stored")
	}
	if stored.RefreshLeaseHolder != "" || !stored.RefreshLeaseUntil.IsZero() {
		t.Errorf("the lease was not released: holder %q until %s", stored.RefreshLeaseHolder, stored.RefreshLeaseUntil)
	}
}

// A failed refresh releases the lease, so the next try need not wait.
func TestRefreshFailureReleasesLease(t *testing.T) {
	h := newHarness(t)
	h.seedAccount(t, testStoredToken, 50*day, 10*day)
	h.instagram.setRefresh(http.StatusInternalServerError, 0)

	rec := h.serve(request(http.MethodGet, "/me", "", ""))

	if rec.Code != http.StatusOK {
		t.Fatalf("status = %d, want 200; body %s", rec.Code, rec.Body)
	}
	stored := h.store.account(testKey())
	if stored.AccessToken != testStoredToken {
		t.Error("the stored token changed after a failed refresh")
	}
	if stored.RefreshLeaseHolder != "" || !stored.RefreshLeaseUntil.IsZero() {
		t.Errorf("the lease was not released: holder %q until %s", stored.RefreshLeaseHolder, stored.RefreshLeaseUntil)
	}
}

// Two gateways sharing one store play two instances: concurrent calls on
// both refresh the token once.
func TestRefreshOnceAcrossInstances(t *testing.T) {
	h := newHarness(t)
	h.seedAccount(t, testStoredToken, 50*day, 10*day)
	h.instagram.setRefresh(0, 100*time.Millisecond) // succeed, slowly
	other := h.secondGateway(t)

	done := make(chan int, 10)
	for i := range 10 {
		go func() {
			if i%2 == 0 {
				done <- h.serve(request(http.MethodGet, "/me", "", "")).Code
				return
			}
			done <- h.serveWith(other, request(http.MethodGet, "/me", "", "")).Code
		}()
	}
	for range 10 {
		if code := <-done; code != http.StatusOK {
			t.Errorf("status = %d, want 200", code)
		}
	}

	if n := len(h.instagram.refreshedTokens()); n != 1 {
		t.Errorf("refresh requests = %d, want 1 across both instances", n)
	}
	if stored := h.store.account(testKey()); stored.AccessToken != testRefreshedToken {
		t.Error("the refreshed token was not stored")
	}
}

// A refresh rejected with error 190 means the token is dead: the account
// is marked, so the next call gets 401 with a consent URL at once.
func TestRefreshRejectedMarksAccount(t *testing.T) {
	h := newHarness(t)
	h.seedAccount(t, testStoredToken, 50*day, 10*day)
	h.instagram.setRefreshError(http.StatusBadRequest,
		`{"error":{"message":"Error validating access token: The session has been invalidated because the user changed their password.","type":"OAuthException","code":190,"error_subcode":460,"fbtrace_id":"AbC"}}`)

	rec := h.serve(request(http.MethodGet, "/me", "", ""))

	decodeError(t, rec, http.StatusUnauthorized, gateway.CodeReauthorizationRequired)
	if n := len(h.upstream.recorded()); n != 0 {
		t.Errorf("upstream calls = %d, want 0 with a token the refresh showed dead", n)
	}
	stored := h.store.account(testKey())
	if stored.Status != vault.StatusReauthorizationRequired {
		t.Fatalf("status = %q, want %q", stored.Status, vault.StatusReauthorizationRequired)
	}
	if !strings.Contains(stored.StatusReason, "code 190") {
		t.Errorf("status_reason %q does not name the error code", stored.StatusReason)
	}
	if stored.RefreshLeaseHolder != "" {
		t.Errorf("the lease was not released")
	}

	rec = h.serve(request(http.MethodGet, "/me", "", ""))
	reply := decodeError(t, rec, http.StatusUnauthorized, gateway.CodeReauthorizationRequired)
	if reply.Error.AuthorizeURL == "" {
		t.Error("the 401 reply has no authorize_url")
	}
	if n := len(h.upstream.recorded()); n != 0 {
		t.Errorf("upstream calls after the mark = %d, want 0", n)
	}
	if n := len(h.instagram.refreshedTokens()); n != 1 {
		t.Errorf("refresh requests = %d, want 1: a marked account is not refreshed again", n)
	}
}

// A refresh that runs out of time still releases its lease: the release
// gets a time of its own rather than the spent refresh timeout.
func TestRefreshTimeoutReleasesLease(t *testing.T) {
	h := newHarness(t)
	h.seedAccount(t, testStoredToken, 50*day, 10*day)
	h.instagram.setRefresh(0, 300*time.Millisecond) // slower than the timeout
	config := h.config
	config.RefreshTimeout = 50 * time.Millisecond
	g, err := gateway.New(config)
	if err != nil {
		t.Fatalf("gateway.New: %v", err)
	}

	rec := h.serveWith(g, request(http.MethodGet, "/me", "", ""))

	if rec.Code != http.StatusOK {
		t.Fatalf("status = %d, want 200; body %s", rec.Code, rec.Body)
	}
	stored := h.store.account(testKey())
	if stored.RefreshLeaseHolder != "" || !stored.RefreshLeaseUntil.IsZero() {
		t.Errorf("the lease was not released: holder %q until %s", stored.RefreshLeaseHolder, stored.RefreshLeaseUntil)
	}
	if n := len(h.logs.find(t, "releasing refresh lease failed")); n != 0 {
		t.Errorf("the release failed %d times", n)
	}
}

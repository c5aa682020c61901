package gateway_test

import (
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/credgate/credgate/gateway"
	"github.com/credgate/credgate/vault"
)

const day = 24 * time.Hour

// graph190 is a Graph API reply for a revoked or expired token.
const graph190 = `{"error":{"message":"Error validating access token: The session has been invalidated because the user changed their password.","type":"OAuthException","code":190,"error_subcode":460,"fbtrace_id":"AbCdEf123"}}`

// checkConsentError checks that an error reply carries a consent URL for
// testOwner.
func checkConsentError(t *testing.T, h *harness, reply errorReply) {
	t.Helper()

	if reply.Error.AuthorizeURL == "" {
		t.Fatal("error reply has no authorize_url")
	}
	claims := checkConsentURL(t, h, reply.Error.AuthorizeURL)
	if claims.Owner != testOwner {
		t.Errorf("authorize_url state owner = %q, want %q", claims.Owner, testOwner)
	}
	if claims.Tenant != gateway.DefaultTenant {
		t.Errorf("authorize_url state tenant = %q, want %q", claims.Tenant, gateway.DefaultTenant)
	}
}

func TestCallAccountNotLinked(t *testing.T) {
	h := newHarness(t)

	rec := h.serve(request(http.MethodGet, "/me", "", ""))

	reply := decodeError(t, rec, http.StatusNotFound, gateway.CodeAccountNotLinked)
	checkConsentError(t, h, reply)
	if !strings.Contains(reply.Error.Message, testOwner) {
		t.Errorf("message %q does not name the owner", reply.Error.Message)
	}
	if n := len(h.upstream.recorded()); n != 0 {
		t.Errorf("upstream calls = %d, want 0", n)
	}
}

func TestCallExpiredTokenNeedsReauthorization(t *testing.T) {
	h := newHarness(t)
	h.seedAccount(t, testStoredToken, 61*day, -time.Hour)

	rec := h.serve(request(http.MethodGet, "/me", "", ""))

	reply := decodeError(t, rec, http.StatusUnauthorized, gateway.CodeReauthorizationRequired)
	checkConsentError(t, h, reply)
	if !strings.Contains(reply.Error.Message, "expired") {
		t.Errorf("message %q does not say the token expired", reply.Error.Message)
	}
	if n := len(h.upstream.recorded()); n != 0 {
		t.Errorf("upstream calls = %d, want 0", n)
	}
	if n := len(h.instagram.refreshedTokens()); n != 0 {
		t.Errorf("refresh requests = %d, want 0 for an expired token", n)
	}
	if strings.Contains(rec.Body.String(), testStoredToken) {
		t.Error("the reply contains the stored token")
	}
}

func TestCallRefreshesTokenInWindow(t *testing.T) {
	h := newHarness(t)
	h.seedAccount(t, testStoredToken, 50*day, 10*day)
	now := h.clock.Now()

	rec := h.serve(request(http.MethodGet, "/me", "", ""))

	if rec.Code != http.StatusOK {
		t.Fatalf("status = %d, want 200; body %s", rec.Code, rec.Body)
	}
	refreshed := h.instagram.refreshedTokens()
	if len(refreshed) != 1 {
		t.Fatalf("refresh requests = %d, want 1", len(refreshed))
	}
	if refreshed[0] != testStoredToken {
		t.Error("the refresh request did not carry the stored token")
	}

	account := h.store.account(testKey())
	if account.AccessToken != testRefreshedToken {
		t.Error("the refreshed token was not stored")
	}
	if !account.IssuedAt.Equal(now) {
		t.Errorf("issued_at = %s, want %s", account.IssuedAt, now)
	}
	if want := now.Add(tokenLifetime * time.Second); !account.ExpiresAt.Equal(want) {
		t.Errorf("expires_at = %s, want %s", account.ExpiresAt, want)
	}
	if !account.RefreshedAt.Equal(now) {
		t.Errorf("refreshed_at = %s, want %s", account.RefreshedAt, now)
	}
	if account.UserID != testUserID || account.Username != testUsername {
		t.Errorf("identity changed to %q/%q during the refresh", account.UserID, account.Username)
	}
	if account.Status != vault.StatusActive {
		t.Errorf("status = %q, want %q", account.Status, vault.StatusActive)
	}

	call := h.upstream.onlyCall(t)
	if got := call.Header.Get("Authorization"); got != "Bearer "+testRefreshedToken {
		t.Error("the upstream call did not carry the refreshed token")
	}
	if logged := h.logs.find(t, "token refreshed"); len(logged) != 1 {
		t.Errorf("log has %d \"token refreshed\" entries, want 1", len(logged))
	}
	h.assertNoSecrets(t, "log", h.logs.String())
}

func TestCallConcurrentRefreshOnce(t *testing.T) {
	h := newHarness(t)
	h.seedAccount(t, testStoredToken, 50*day, 10*day)
	h.instagram.setRefresh(0, 100*time.Millisecond)

	const calls = 20
	statuses := make([]int, calls)
	var start, done sync.WaitGroup
	start.Add(1)
	for i := range calls {
		done.Add(1)
		go func() {
			defer done.Done()
			start.Wait()
			statuses[i] = h.serve(request(http.MethodGet, "/me", "", "")).Code
		}()
	}
	start.Done()
	done.Wait()

	for i, status := range statuses {
		if status != http.StatusOK {
			t.Errorf("call %d: status = %d, want 200", i, status)
		}
	}
	if n := len(h.instagram.refreshedTokens()); n != 1 {
		t.Errorf("refresh requests = %d, want exactly 1", n)
	}
	upstreamCalls := h.upstream.recorded()
	if len(upstreamCalls) != calls {
		t.Fatalf("upstream calls = %d, want %d", len(upstreamCalls), calls)
	}
	for i, call := range upstreamCalls {
		if call.Header.Get("Authorization") != "Bearer "+testRefreshedToken {
			t.Errorf("upstream call %d did not carry the refreshed token", i)
		}
	}
	if account := h.store.account(testKey()); account.AccessToken != testRefreshedToken {
		t.Error("the refreshed token was not stored")
	}
}

func TestCallSkipsRefreshOfYoungToken(t *testing.T) {
	h := newHarness(t)
	h.seedAccount(t, testStoredToken, 23*time.Hour, 2*day)

	rec := h.serve(request(http.MethodGet, "/me", "", ""))

	if rec.Code != http.StatusOK {
		t.Fatalf("status = %d, want 200; body %s", rec.Code, rec.Body)
	}
	if n := len(h.instagram.refreshedTokens()); n != 0 {
		t.Errorf("refresh requests = %d, want 0 for a token younger than 24 h", n)
	}
	call := h.upstream.onlyCall(t)
	if call.Header.Get("Authorization") != "Bearer "+testStoredToken {
		t.Error("the upstream call did not carry the stored token")
	}
}

func TestCallSkipsRefreshOutsideWindow(t *testing.T) {
	h := newHarness(t)
	h.seedAccount(t, testStoredToken, 30*day, 16*day)

	rec := h.serve(request(http.MethodGet, "/me", "", ""))

	if rec.Code != http.StatusOK {
		t.Fatalf("status = %d, want 200; body %s", rec.Code, rec.Body)
	}
	if n := len(h.instagram.refreshedTokens()); n != 0 {
		t.Errorf("refresh requests = %d, want 0 outside the 15-day window", n)
	}
}

func TestCallRefreshFailureUsesOldToken(t *testing.T) {
	h := newHarness(t)
	h.seedAccount(t, testStoredToken, 50*day, 10*day)
	h.instagram.setRefresh(http.StatusInternalServerError, 0)

	rec := h.serve(request(http.MethodGet, "/me", "", ""))

	if rec.Code != http.StatusOK {
		t.Fatalf("status = %d, want 200; body %s", rec.Code, rec.Body)
	}
	call := h.upstream.onlyCall(t)
	if call.Header.Get("Authorization") != "Bearer "+testStoredToken {
		t.Error("the upstream call did not carry the old token")
	}
	if account := h.store.account(testKey()); account.AccessToken != testStoredToken || account.Status != vault.StatusActive {
		t.Error("a failed refresh changed the stored account")
	}

	failures := h.logs.find(t, "token refresh failed")
	if len(failures) != 1 {
		t.Fatalf("log has %d \"token refresh failed\" entries, want 1", len(failures))
	}
	entry := failures[0]
	if entry["level"] != "error" {
		t.Errorf("log level = %v, want error", entry["level"])
	}
	if entry["tenant"] != gateway.DefaultTenant {
		t.Errorf("log tenant = %v, want %s", entry["tenant"], gateway.DefaultTenant)
	}
	if entry["owner"] != testOwner {
		t.Errorf("log owner = %v, want %s", entry["owner"], testOwner)
	}
	if entry["app"] != "instagram" {
		t.Errorf("log app = %v, want instagram", entry["app"])
	}
	if text, _ := entry["error"].(string); !strings.Contains(text, "500") {
		t.Errorf("log error %q does not give the provider status", text)
	}
	h.assertNoSecrets(t, "log", h.logs.String())
}

// graphErrorReply returns an Upstream reply that writes body with status,
// gzip-encoded when compress is true.
func graphErrorReply(status int, body string, compress bool) func(http.ResponseWriter, *http.Request) error {
	return func(w http.ResponseWriter, r *http.Request) error {
		w.Header().Set("Content-Type", "application/json")
		if !compress {
			w.WriteHeader(status)
			_, _ = w.Write([]byte(body))
			return nil
		}

		var buf bytes.Buffer
		zw := gzip.NewWriter(&buf)
		_, _ = zw.Write([]byte(body))
		_ = zw.Close()
		w.Header().Set("Content-Encoding", "gzip")
		w.WriteHeader(status)
		_, _ = w.Write(buf.Bytes())
		return nil
	}
}

func TestCallRevokedTokenMarksAccount(t *testing.T) {
	for _, compress := range []bool{false, true} {
		t.Run(fmt.Sprintf("gzip %t", compress), func(t *testing.T) {
			h := linkedHarness(t)
			h.upstream.setReply(graphErrorReply(http.StatusBadRequest, graph190, compress))

			first := h.serve(request(http.MethodGet, "/me", "", ""))

			if first.Code != http.StatusBadRequest {
				t.Errorf("first call: status = %d, want the upstream 400", first.Code)
			}
			if !compress && first.Body.String() != graph190 {
				t.Errorf("first call: body = %s, want the upstream reply unchanged", first.Body)
			}
			account := h.store.account(testKey())
			if account.Status != vault.StatusReauthorizationRequired {
				t.Fatalf("status = %q, want %q", account.Status, vault.StatusReauthorizationRequired)
			}
			if !strings.Contains(account.StatusReason, "190") {
				t.Errorf("status reason %q does not give the error code", account.StatusReason)
			}
			if marked := h.logs.find(t, "account needs reauthorization"); len(marked) != 1 {
				t.Errorf("log has %d \"account needs reauthorization\" entries, want 1", len(marked))
			}

			second := h.serve(request(http.MethodGet, "/me", "", ""))

			reply := decodeError(t, second, http.StatusUnauthorized, gateway.CodeReauthorizationRequired)
			checkConsentError(t, h, reply)
			if n := len(h.upstream.recorded()); n != 1 {
				t.Errorf("upstream calls = %d, want only the first", n)
			}
			h.assertNoSecrets(t, "log", h.logs.String())
		})
	}
}

func TestCallOtherErrorsKeepAccount(t *testing.T) {
	tests := []struct {
		name   string
		status int
		body   string
	}{
		{name: "invalid parameter", status: http.StatusBadRequest, body: `{"error":{"message":"Invalid parameter","type":"OAuthException","code":100}}`},
		{name: "throttled", status: http.StatusForbidden, body: `{"error":{"message":"Application request limit reached","type":"OAuthException","code":4}}`},
		{name: "not JSON", status: http.StatusBadGateway, body: `<html>bad gateway</html>`},
		{name: "190 on success status", status: http.StatusOK, body: graph190},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := linkedHarness(t)
			h.upstream.setReply(graphErrorReply(tt.status, tt.body, false))

			rec := h.serve(request(http.MethodGet, "/me", "", ""))

			if rec.Code != tt.status {
				t.Errorf("status = %d, want the upstream %d", rec.Code, tt.status)
			}
			if account := h.store.account(testKey()); account.Status != vault.StatusActive {
				t.Errorf("status = %q, want %q", account.Status, vault.StatusActive)
			}
		})
	}
}

func TestCallRevokedReplyKeepsNewerToken(t *testing.T) {
	h := linkedHarness(t)
	h.upstream.setReply(func(w http.ResponseWriter, r *http.Request) error {
		// the owner links again while the call with the old token runs
		relinked := h.store.account(testKey())
		relinked.AccessToken = testLongToken
		relinked.LinkedAt = h.clock.Now()
		h.store.seed(t, testKey(), relinked)
		return graphErrorReply(http.StatusBadRequest, graph190, false)(w, r)
	})

	rec := h.serve(request(http.MethodGet, "/me", "", ""))

	if rec.Code != http.StatusBadRequest {
		t.Errorf("status = %d, want the upstream 400", rec.Code)
	}
	account := h.store.account(testKey())
	if account.AccessToken != testLongToken {
		t.Error("the newer token was replaced")
	}
	if account.Status != vault.StatusActive {
		t.Errorf("status = %q, want %q: the 190 was for the old token", account.Status, vault.StatusActive)
	}
}

func TestCallRevokedReplyRacesWithWriter(t *testing.T) {
	h := linkedHarness(t)
	h.upstream.setReply(graphErrorReply(http.StatusBadRequest, graph190, false))

	// another instance re-links between the mark's read and its write, so
	// the check-and-set write conflicts and the mark must re-read
	var once sync.Once
	h.store.setBeforeWrite(func() {
		once.Do(func() {
			relinked := h.store.account(testKey())
			relinked.AccessToken = testLongToken
			h.store.seed(t, testKey(), relinked)
		})
	})

	rec := h.serve(request(http.MethodGet, "/me", "", ""))

	if rec.Code != http.StatusBadRequest {
		t.Errorf("status = %d, want the upstream 400", rec.Code)
	}
	account := h.store.account(testKey())
	if account.AccessToken != testLongToken {
		t.Error("the newer token was replaced")
	}
	if account.Status != vault.StatusActive {
		t.Errorf("status = %q, want %q: the 190 was for the old token", account.Status, vault.StatusActive)
	}
}

func TestCallRefreshRacesWithRelink(t *testing.T) {
	h := newHarness(t)
	h.seedAccount(t, testStoredToken, 50*day, 10*day)

	// the owner links again while the refresh request is in flight
	var once sync.Once
	h.store.setBeforeWrite(func() {
		once.Do(func() {
			relinked := h.store.account(testKey())
			relinked.AccessToken = testLongToken
			relinked.IssuedAt = h.clock.Now()
			relinked.ExpiresAt = h.clock.Now().Add(60 * day)
			relinked.LinkedAt = h.clock.Now()
			h.store.seed(t, testKey(), relinked)
		})
	})

	rec := h.serve(request(http.MethodGet, "/me", "", ""))

	if rec.Code != http.StatusOK {
		t.Fatalf("status = %d, want 200; body %s", rec.Code, rec.Body)
	}
	if account := h.store.account(testKey()); account.AccessToken != testLongToken {
		t.Error("the refresh overwrote the token of the newer link")
	}
}

func TestCallStoreUnavailable(t *testing.T) {
	h := linkedHarness(t)
	h.store.setFailure(fmt.Errorf("read account instagram/default/owner-1: request timed out: %w", vault.ErrUnavailable))

	rec := h.serve(request(http.MethodGet, "/me", "", ""))

	decodeError(t, rec, http.StatusServiceUnavailable, gateway.CodeCredentialStoreUnavailable)
	if n := len(h.upstream.recorded()); n != 0 {
		t.Errorf("upstream calls = %d, want 0", n)
	}
	if logged := h.logs.find(t, "reading credential failed"); len(logged) != 1 {
		t.Errorf("log has %d \"reading credential failed\" entries, want 1", len(logged))
	}
}

func TestCallUpstreamFailure(t *testing.T) {
	tests := []struct {
		name   string
		err    error
		status int
		code   string
	}{
		{name: "timeout", err: &gateway.UpstreamError{Status: http.StatusGatewayTimeout, Err: errors.New("context deadline exceeded")}, status: http.StatusGatewayTimeout, code: gateway.CodeUpstreamTimeout},
		{name: "bad gateway", err: &gateway.UpstreamError{Status: http.StatusBadGateway, Err: errors.New("connection refused")}, status: http.StatusBadGateway, code: gateway.CodeUpstreamUnavailable},
		{name: "wrapped timeout", err: fmt.Errorf("proxy: %w", &gateway.UpstreamError{Status: http.StatusGatewayTimeout}), status: http.StatusGatewayTimeout, code: gateway.CodeUpstreamTimeout},
		{name: "plain error", err: errors.New("dial failed"), status: http.StatusBadGateway, code: gateway.CodeUpstreamUnavailable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := linkedHarness(t)
			h.upstream.setReply(func(http.ResponseWriter, *http.Request) error { return tt.err })

			rec := h.serve(request(http.MethodGet, "/me", "", ""))

			decodeError(t, rec, tt.status, tt.code)
			failures := h.logs.find(t, "upstream request failed")
			if len(failures) != 1 {
				t.Fatalf("log has %d \"upstream request failed\" entries, want 1", len(failures))
			}
			if failures[0]["function"] != "INSTAGRAM__GET_USER_PROFILE" {
				t.Errorf("log function = %v, want INSTAGRAM__GET_USER_PROFILE", failures[0]["function"])
			}
			if account := h.store.account(testKey()); account.Status != vault.StatusActive {
				t.Errorf("status = %q, want %q", account.Status, vault.StatusActive)
			}
		})
	}
}

func TestUpstreamErrorMessage(t *testing.T) {
	cause := errors.New("context deadline exceeded")
	err := &gateway.UpstreamError{Status: http.StatusGatewayTimeout, Err: cause}

	if !errors.Is(err, cause) {
		t.Error("UpstreamError does not unwrap to its cause")
	}
	if !strings.Contains(err.Error(), "504") {
		t.Errorf("error %q does not give the status", err)
	}
}

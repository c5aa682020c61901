package e2e

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

const rfc3339 = time.RFC3339

// TestTokenLifecycle walks one account through the token's life: expired,
// due for refresh, too young to refresh, and revoked (Graph error 190).
func TestTokenLifecycle(t *testing.T) {
	s := newStack(t)
	g := s.startGateway()
	s.link(g, "carol")
	token := s.recordStoredToken("carol")
	now := time.Now().UTC()

	t.Run("expired token answers 401 without an upstream call", func(t *testing.T) {
		s.patchAccount("carol", map[string]any{"expires_at": now.Add(-time.Hour).Format(rfc3339)})
		s.ig.ResetRequests()

		resp := s.do("GET", g.base+"/me", ownerHeader("carol"), nil)
		if resp.status != http.StatusUnauthorized {
			t.Fatalf("status %d, want 401: %s", resp.status, resp.body)
		}
		if code := resp.errorCode(t); code != "reauthorization_required" {
			t.Errorf("error code = %q, want reauthorization_required", code)
		}
		checkAuthorizeURL(t, s, resp.errorField(t, "authorize_url"))
		if n := len(s.ig.Requests()); n != 0 {
			t.Errorf("the local Instagram server received %d requests, want 0", n)
		}
	})

	t.Run("token due for refresh is refreshed before the call", func(t *testing.T) {
		issued := now.Add(-50 * 24 * time.Hour)
		expires := now.Add(10 * 24 * time.Hour)
		s.patchAccount("carol", map[string]any{"issued_at": issued.Format(rfc3339), "expires_at": expires.Format(rfc3339)})
		if err := s.ig.SetToken(token, issued, expires); err != nil {
			t.Fatalf("SetToken: %v", err)
		}
		s.ig.ResetRequests()

		resp := s.do("GET", g.base+"/me", ownerHeader("carol"), nil)
		if resp.status != http.StatusOK {
			t.Fatalf("status %d, want 200: %s", resp.status, resp.body)
		}
		if n := len(s.requestsTo("refresh")); n != 1 {
			t.Fatalf("refresh requests = %d, want 1", n)
		}
		account := s.readAccount("carol")
		newToken := s.recordStoredToken("carol")
		if got := parseTime(t, account, "expires_at"); got.Sub(now) < 59*24*time.Hour {
			t.Errorf("expires_at after refresh = %v, want about 60 days from now", got)
		}
		if got := parseTime(t, account, "issued_at"); got.Before(now.Add(-time.Minute)) {
			t.Errorf("issued_at after refresh = %v, want now", got)
		}
		if account["refreshed_at"] == "" {
			t.Errorf("refreshed_at is empty after a refresh")
		}
		calls := s.upstreamCalls()
		if len(calls) != 1 || calls[0].Authorization != "Bearer "+newToken {
			t.Errorf("the API call did not use the refreshed token")
		}
		token = newToken
	})

	t.Run("token younger than 24 hours is never sent to refresh", func(t *testing.T) {
		issued := now.Add(-2 * time.Hour)
		expires := now.Add(5 * 24 * time.Hour)
		s.patchAccount("carol", map[string]any{"issued_at": issued.Format(rfc3339), "expires_at": expires.Format(rfc3339)})
		if err := s.ig.SetToken(token, issued, expires); err != nil {
			t.Fatalf("SetToken: %v", err)
		}
		s.ig.ResetRequests()

		resp := s.do("GET", g.base+"/me", ownerHeader("carol"), nil)
		if resp.status != http.StatusOK {
			t.Fatalf("status %d, want 200: %s", resp.status, resp.body)
		}
		if n := len(s.requestsTo("refresh")); n != 0 {
			t.Errorf("refresh requests = %d, want 0 for a token 2 hours old", n)
		}
	})

	t.Run("failed refresh of a valid token does not fail the call", func(t *testing.T) {
		// the store records 30 days of age, but the provider issued the
		// token 2 hours ago and rejects the refresh
		s.patchAccount("carol", map[string]any{"issued_at": now.Add(-30 * 24 * time.Hour).Format(rfc3339)})
		s.ig.ResetRequests()

		resp := s.do("GET", g.base+"/me", ownerHeader("carol"), nil)
		if resp.status != http.StatusOK {
			t.Fatalf("status %d, want 200: %s", resp.status, resp.body)
		}
		if n := len(s.requestsTo("refresh")); n != 1 {
			t.Errorf("refresh requests = %d, want 1", n)
		}
		if got := s.recordStoredToken("carol"); got != token {
			t.Errorf("the stored token changed after a failed refresh")
		}
		log := readFile(g.logPath)
		if !strings.Contains(log, `"token refresh failed"`) || !strings.Contains(log, `"owner":"carol"`) {
			t.Errorf("no error log line for the failed refresh naming the owner")
		}
	})

	t.Run("Graph error 190 marks the account for reauthorization", func(t *testing.T) {
		if err := s.ig.RevokeToken(token); err != nil {
			t.Fatalf("RevokeToken: %v", err)
		}
		s.patchAccount("carol", map[string]any{"issued_at": now.Add(-2 * time.Hour).Format(rfc3339)})
		s.ig.ResetRequests()

		// the call that meets the 190 gets the API's reply unchanged
		resp := s.do("GET", g.base+"/me", ownerHeader("carol"), nil)
		if resp.status != http.StatusBadRequest || !strings.Contains(string(resp.body), `"code":190`) {
			t.Fatalf("status %d, want the API's 400 with code 190: %s", resp.status, resp.body)
		}
		if status := s.readAccount("carol")["status"]; status != "reauthorization_required" {
			t.Errorf("stored status = %v, want reauthorization_required", status)
		}

		// the next call gets 401 at once
		s.ig.ResetRequests()
		resp = s.do("GET", g.base+"/me", ownerHeader("carol"), nil)
		if resp.status != http.StatusUnauthorized {
			t.Fatalf("status %d, want 401: %s", resp.status, resp.body)
		}
		checkAuthorizeURL(t, s, resp.errorField(t, "authorize_url"))
		if n := len(s.ig.Requests()); n != 0 {
			t.Errorf("the local Instagram server received %d requests, want 0", n)
		}
	})

	t.Run("linking again restores the account", func(t *testing.T) {
		s.link(g, "carol")
		s.ig.ResetRequests()
		resp := s.do("GET", g.base+"/me", ownerHeader("carol"), nil)
		if resp.status != http.StatusOK {
			t.Fatalf("status %d, want 200: %s", resp.status, resp.body)
		}
	})

	t.Run("metrics count what happened", func(t *testing.T) {
		resp := s.do("GET", strings.TrimSuffix(g.base, "/instagram")+"/metrics", nil, nil)
		if resp.status != http.StatusOK {
			t.Fatalf("GET /metrics: status %d", resp.status)
		}
		for _, line := range []string{
			`credgate_token_refreshes_total{app="instagram",result="refreshed",trigger="call"} 1`,
			`credgate_token_refreshes_total{app="instagram",result="failed",trigger="call"} 1`,
			`credgate_account_links_total{app="instagram",result="linked"} 2`,
			`credgate_reauthorizations_required_total{app="instagram",reason="api_error"} 1`,
		} {
			if !strings.Contains(string(resp.body), line) {
				t.Errorf("metrics lack %s", line)
			}
		}
	})
}

// checkAuthorizeURL checks that a re-authorize link is a ready consent URL
// for the local server, and records its state as a secret.
func checkAuthorizeURL(t *testing.T, s *stack, authURL string) {
	t.Helper()
	if !strings.HasPrefix(authURL, s.igURL+"/oauth/authorize?") {
		t.Fatalf("authorize_url = %q, want the consent page of the local server", authURL)
	}
	s.recordStateOf(authURL)
	for _, part := range []string{"client_id=" + clientID, "response_type=code", "state=", "scope=instagram_business_basic%2C"} {
		if !strings.Contains(authURL, part) {
			t.Errorf("authorize_url lacks %q", part)
		}
	}
}

// TestTokenCache checks that a gateway with token_cache_ttl reuses what it
// read, and still returns 401 at once after its own call met error 190.
func TestTokenCache(t *testing.T) {
	s := newStack(t)
	g := s.startGatewayWith(gatewayOptions{cacheTTL: "10m"})
	s.link(g, "paula")
	token := s.recordStoredToken("paula")

	if resp := s.do("GET", g.base+"/me", ownerHeader("paula"), nil); resp.status != http.StatusOK {
		t.Fatalf("first call: status %d: %s", resp.status, resp.body)
	}

	// the cached account is used: an expiry written behind the gateway's
	// back is not seen within the TTL
	s.patchAccount("paula", map[string]any{"expires_at": time.Now().Add(-time.Hour).UTC().Format(rfc3339)})
	if resp := s.do("GET", g.base+"/me", ownerHeader("paula"), nil); resp.status != http.StatusOK {
		t.Fatalf("cached call: status %d, want 200 from the cached account: %s", resp.status, resp.body)
	}
	s.patchAccount("paula", map[string]any{"expires_at": time.Now().Add(50 * 24 * time.Hour).UTC().Format(rfc3339)})

	// error 190 goes through the cache at once
	if err := s.ig.RevokeToken(token); err != nil {
		t.Fatalf("RevokeToken: %v", err)
	}
	if resp := s.do("GET", g.base+"/me", ownerHeader("paula"), nil); resp.status != http.StatusBadRequest {
		t.Fatalf("call with a revoked token: status %d, want the API's 400: %s", resp.status, resp.body)
	}
	s.ig.ResetRequests()
	resp := s.do("GET", g.base+"/me", ownerHeader("paula"), nil)
	if resp.status != http.StatusUnauthorized {
		t.Fatalf("call after error 190: status %d, want 401: %s", resp.status, resp.body)
	}
	if n := len(s.ig.Requests()); n != 0 {
		t.Errorf("the local Instagram server received %d requests, want 0", n)
	}
}

// TestBackgroundRefresh checks that a token due for refresh is refreshed
// without any call, and that a token too young to refresh is left alone.
func TestBackgroundRefresh(t *testing.T) {
	s := newStack(t)
	g := s.startGatewayWith(gatewayOptions{interval: "1s"})
	now := time.Now().UTC()

	s.link(g, "quinn")
	s.link(g, "rosa")
	s.link(g, "uma")
	due := s.recordStoredToken("quinn")
	young := s.recordStoredToken("rosa")
	revoked := s.recordStoredToken("uma")

	issued := now.Add(-50 * 24 * time.Hour)
	expires := now.Add(10 * 24 * time.Hour)
	for owner, token := range map[string]string{"quinn": due, "uma": revoked} {
		s.patchAccount(owner, map[string]any{"issued_at": issued.Format(rfc3339), "expires_at": expires.Format(rfc3339)})
		if err := s.ig.SetToken(token, issued, expires); err != nil {
			t.Fatalf("SetToken: %v", err)
		}
	}
	// uma's token was revoked (a password change): its refresh gets 190
	if err := s.ig.RevokeToken(revoked); err != nil {
		t.Fatalf("RevokeToken: %v", err)
	}
	s.patchAccount("rosa", map[string]any{"expires_at": now.Add(5 * 24 * time.Hour).Format(rfc3339)})
	s.ig.ResetRequests()

	// the first sweep runs one interval after start
	deadline := time.Now().Add(15 * time.Second)
	for s.readAccount("quinn")["refreshed_at"] == "" {
		if time.Now().After(deadline) {
			t.Fatalf("quinn's token was not refreshed within 15 s; caddy log:\n%s", s.secrets.mask(readFile(g.logPath)))
		}
		time.Sleep(200 * time.Millisecond)
	}
	s.recordStoredToken("quinn")

	for s.readAccount("uma")["status"] != "reauthorization_required" {
		if time.Now().After(deadline) {
			t.Fatalf("uma's revoked token was not marked within 15 s")
		}
		time.Sleep(200 * time.Millisecond)
	}

	refreshes := s.requestsTo("refresh")
	if len(refreshes) != 2 {
		t.Errorf("refresh requests = %d, want 2 (quinn's and uma's)", len(refreshes))
	}
	for _, r := range refreshes {
		if strings.Contains(r.RawQuery, young) {
			t.Errorf("the token younger than 24 hours was sent to refresh")
		}
	}
	if n := len(s.upstreamCalls()); n != 0 {
		t.Errorf("API calls = %d, want 0: the refresh needs no call", n)
	}
	log := readFile(g.logPath)
	if !strings.Contains(log, `"background token refresh sweep finished"`) {
		t.Errorf("no log line for the finished sweep")
	}
	if strings.Contains(log, `"removing expired state markers failed"`) {
		t.Errorf("the sweep failed to remove expired state markers:\n%s", s.secrets.mask(log))
	}
}

// TestRefreshOnceAcrossInstances sends concurrent calls for one account due
// for refresh to two gateways sharing the Vault: the refresh lease in the
// account lets exactly one of them refresh.
func TestRefreshOnceAcrossInstances(t *testing.T) {
	s := newStack(t)
	first := s.startGateway()
	second := s.startGateway()
	s.link(first, "sara")
	token := s.recordStoredToken("sara")

	now := time.Now().UTC()
	issued := now.Add(-50 * 24 * time.Hour)
	expires := now.Add(10 * 24 * time.Hour)
	s.patchAccount("sara", map[string]any{"issued_at": issued.Format(rfc3339), "expires_at": expires.Format(rfc3339)})
	if err := s.ig.SetToken(token, issued, expires); err != nil {
		t.Fatalf("SetToken: %v", err)
	}
	s.ig.ResetRequests()

	statuses := make(chan int, 20)
	for i := range 20 {
		g := first
		if i%2 == 1 {
			g = second
		}
		go func() {
			statuses <- s.do("GET", g.base+"/me", ownerHeader("sara"), nil).status
		}()
	}
	for range 20 {
		if status := <-statuses; status != http.StatusOK {
			t.Errorf("status %d, want 200", status)
		}
	}

	if n := len(s.requestsTo("refresh")); n != 1 {
		t.Errorf("refresh requests = %d, want 1 across both instances", n)
	}
	account := s.readAccount("sara")
	s.recordStoredToken("sara")
	if account["refreshed_at"] == "" {
		t.Errorf("refreshed_at is empty: the refresh was not stored")
	}
	if account["refresh_lease_holder"] != "" {
		t.Errorf("refresh_lease_holder = %v, want the lease released", account["refresh_lease_holder"])
	}
}

package gateway_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/credgate/credgate/gateway"
	"github.com/credgate/credgate/oauthflow"
	"github.com/credgate/credgate/vault"
)

// checkConsentURL checks the parameters of a consent URL and returns the
// verified claims of its state.
func checkConsentURL(t *testing.T, h *harness, consentURL string) *oauthflow.StateClaims {
	t.Helper()

	u, err := url.Parse(consentURL)
	if err != nil {
		t.Fatalf("consent URL %q does not parse: %v", consentURL, err)
	}
	if got, want := u.Scheme+"://"+u.Host+u.Path, h.instagram.URL+"/oauth/authorize"; got != want {
		t.Errorf("consent URL endpoint = %q, want %q", got, want)
	}
	query := u.Query()
	if got := query.Get("client_id"); got != testClientID {
		t.Errorf("client_id = %q, want %q", got, testClientID)
	}
	if got := query.Get("redirect_uri"); got != testRedirectURL {
		t.Errorf("redirect_uri = %q, want %q", got, testRedirectURL)
	}
	if got := query.Get("response_type"); got != "code" {
		t.Errorf("response_type = %q, want code", got)
	}
	if got, want := query.Get("scope"), strings.Join(testScopes, ","); got != want {
		t.Errorf("scope = %q, want the comma-separated %q", got, want)
	}

	state := h.stateOf(t, consentURL)
	claims, err := h.signer.Verify(state)
	if err != nil {
		t.Fatalf("the state of the consent URL does not verify: %v", err)
	}
	return claims
}

func TestAuthorizeReturnsJSON(t *testing.T) {
	h := newHarness(t)

	r := httptest.NewRequest(http.MethodGet, "/oauth/authorize?owner="+testOwner, nil)
	r.Header.Set("Accept", "text/html;q=0.9, application/json")
	rec := h.serve(r)

	if rec.Code != http.StatusOK {
		t.Fatalf("status = %d, want 200; body %s", rec.Code, rec.Body)
	}
	if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("Content-Type = %q, want application/json", ct)
	}
	if cc := rec.Header().Get("Cache-Control"); cc != "no-store" {
		t.Errorf("Cache-Control = %q, want no-store", cc)
	}
	var reply struct {
		AuthorizationURL string `json:"authorization_url"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &reply); err != nil {
		t.Fatalf("decoding the reply: %v; body %s", err, rec.Body)
	}

	claims := checkConsentURL(t, h, reply.AuthorizationURL)
	if claims.App != "instagram" {
		t.Errorf("state app = %q, want instagram", claims.App)
	}
	if claims.Tenant != gateway.DefaultTenant {
		t.Errorf("state tenant = %q, want %q", claims.Tenant, gateway.DefaultTenant)
	}
	if claims.Owner != testOwner {
		t.Errorf("state owner = %q, want %q", claims.Owner, testOwner)
	}
	if claims.ReturnTo != "" {
		t.Errorf("state return_to = %q, want empty", claims.ReturnTo)
	}
}

func TestAuthorizeRedirectsBrowser(t *testing.T) {
	for _, accept := range []string{"", "text/html,application/xhtml+xml,*/*;q=0.8", "application/json;q=0, text/html"} {
		t.Run("accept "+accept, func(t *testing.T) {
			h := newHarness(t)

			r := httptest.NewRequest(http.MethodGet, "/oauth/authorize?owner="+testOwner, nil)
			if accept != "" {
				r.Header.Set("Accept", accept)
			}
			rec := h.serve(r)

			if rec.Code != http.StatusFound {
				t.Fatalf("status = %d, want 302; body %s", rec.Code, rec.Body)
			}
			if cc := rec.Header().Get("Cache-Control"); cc != "no-store" {
				t.Errorf("Cache-Control = %q, want no-store", cc)
			}
			claims := checkConsentURL(t, h, rec.Header().Get("Location"))
			if claims.Owner != testOwner {
				t.Errorf("state owner = %q, want %q", claims.Owner, testOwner)
			}
		})
	}
}

func TestAuthorizeTakesOwnerFromResolver(t *testing.T) {
	h := newHarness(t)

	r := httptest.NewRequest(http.MethodGet, "/oauth/authorize", nil)
	r.Header.Set("Accept", "application/json")
	r.Header.Set(ownerHeader, "header-owner")
	r.Header.Set(tenantHeader, "tenant-7")
	rec := h.serve(r)

	if rec.Code != http.StatusOK {
		t.Fatalf("status = %d, want 200; body %s", rec.Code, rec.Body)
	}
	var reply struct {
		AuthorizationURL string `json:"authorization_url"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &reply); err != nil {
		t.Fatalf("decoding the reply: %v", err)
	}
	claims := checkConsentURL(t, h, reply.AuthorizationURL)
	if claims.Owner != "header-owner" {
		t.Errorf("state owner = %q, want header-owner", claims.Owner)
	}
	if claims.Tenant != "tenant-7" {
		t.Errorf("state tenant = %q, want tenant-7", claims.Tenant)
	}
}

func TestAuthorizeRejectsBadAccount(t *testing.T) {
	tests := []struct {
		name   string
		query  string
		tenant string
		code   string
	}{
		{name: "missing owner", query: "", code: gateway.CodeMissingOwner},
		{name: "owner with slash", query: "owner=a%2Fb", code: gateway.CodeInvalidAccountID},
		{name: "owner dot dot", query: "owner=..", code: gateway.CodeInvalidAccountID},
		{name: "owner reserved prefix", query: "owner=_states", code: gateway.CodeInvalidAccountID},
		{name: "owner too long", query: "owner=" + strings.Repeat("a", 129), code: gateway.CodeInvalidAccountID},
		{name: "tenant with slash", query: "owner=" + testOwner, tenant: "a/b", code: gateway.CodeInvalidAccountID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)

			r := httptest.NewRequest(http.MethodGet, "/oauth/authorize?"+tt.query, nil)
			r.Header.Set("Accept", "application/json")
			if tt.tenant != "" {
				r.Header.Set(tenantHeader, tt.tenant)
			}
			rec := h.serve(r)

			reply := decodeError(t, rec, http.StatusBadRequest, tt.code)
			if reply.Error.Message == "" {
				t.Error("error message is empty")
			}
		})
	}
}

func TestAuthorizeMissingOwnerNamesSource(t *testing.T) {
	h := newHarness(t)

	rec := h.serve(httptest.NewRequest(http.MethodGet, "/oauth/authorize", nil))

	reply := decodeError(t, rec, http.StatusBadRequest, gateway.CodeMissingOwner)
	if !strings.Contains(reply.Error.Message, ownerHeader) {
		t.Errorf("message %q does not name the %s header", reply.Error.Message, ownerHeader)
	}
	if !strings.Contains(reply.Error.Message, "?owner=") {
		t.Errorf("message %q does not name the owner query parameter", reply.Error.Message)
	}
}

func TestAuthorizeRejectsPost(t *testing.T) {
	h := newHarness(t)

	rec := h.serve(httptest.NewRequest(http.MethodPost, "/oauth/authorize?owner="+testOwner, nil))

	decodeError(t, rec, http.StatusMethodNotAllowed, gateway.CodeMethodNotAllowed)
	if allow := rec.Header().Get("Allow"); !strings.Contains(allow, "GET") {
		t.Errorf("Allow = %q, want it to list GET", allow)
	}
}

func TestAuthorizeReturnToAllowList(t *testing.T) {
	tests := []struct {
		returnTo string
		allowed  bool
	}{
		{returnTo: "https://app.example.com/ok", allowed: true},
		{returnTo: "https://app.example.com/ok/", allowed: true},
		{returnTo: "https://app.example.com/ok/settings?tab=instagram", allowed: true},
		{returnTo: "https://APP.example.com/ok/done", allowed: true},

		// prefix confusion on the host and on the path
		{returnTo: "https://app.example.com.evil.test/", allowed: false},
		{returnTo: "https://app.example.com.evil.test/ok", allowed: false},
		{returnTo: "https://app.example.com/okay", allowed: false},
		{returnTo: "https://app.example.com/", allowed: false},
		{returnTo: "https://evil.test/ok", allowed: false},
		{returnTo: "https://app.example.com@evil.test/ok", allowed: false},
		{returnTo: "https://user@app.example.com/ok", allowed: false},

		// another scheme or port, or no host at all
		{returnTo: "http://app.example.com/ok", allowed: false},
		{returnTo: "https://app.example.com:8443/ok", allowed: false},
		{returnTo: "//app.example.com/ok", allowed: false},
		{returnTo: "/ok", allowed: false},
		{returnTo: "javascript:alert(1)", allowed: false},

		// dot segments leave the allowed path once the browser resolves them
		{returnTo: "https://app.example.com/ok/../admin", allowed: false},
		{returnTo: "https://app.example.com/ok/%2e%2e/admin", allowed: false},
		{returnTo: `https://app.example.com/ok/..\admin`, allowed: false},
	}
	for _, tt := range tests {
		t.Run(tt.returnTo, func(t *testing.T) {
			h := newHarness(t)

			query := url.Values{"owner": {testOwner}, "return_to": {tt.returnTo}}
			r := httptest.NewRequest(http.MethodGet, "/oauth/authorize?"+query.Encode(), nil)
			r.Header.Set("Accept", "application/json")
			rec := h.serve(r)

			if !tt.allowed {
				reply := decodeError(t, rec, http.StatusBadRequest, gateway.CodeReturnToNotAllowed)
				if reply.Error.AuthorizeURL != "" {
					t.Errorf("rejected return_to still got a consent URL")
				}
				return
			}
			if rec.Code != http.StatusOK {
				t.Fatalf("status = %d, want 200; body %s", rec.Code, rec.Body)
			}
			var reply struct {
				AuthorizationURL string `json:"authorization_url"`
			}
			if err := json.Unmarshal(rec.Body.Bytes(), &reply); err != nil {
				t.Fatalf("decoding the reply: %v", err)
			}
			claims := checkConsentURL(t, h, reply.AuthorizationURL)
			if claims.ReturnTo != tt.returnTo {
				t.Errorf("state return_to = %q, want %q", claims.ReturnTo, tt.returnTo)
			}
		})
	}
}

func TestCallbackStoresAccount(t *testing.T) {
	h := newHarness(t)
	state := h.authorize(t, testOwner, "")
	h.clock.Advance(2 * time.Minute)
	linkedAt := h.clock.Now()

	rec := h.callback(url.Values{"code": {testCode}, "state": {state}})

	if rec.Code != http.StatusOK {
		t.Fatalf("status = %d, want 200; body %s", rec.Code, rec.Body)
	}
	body := rec.Body.String()
	if !strings.Contains(body, "Account linked") {
		t.Errorf("page does not say the account is linked: %s", body)
	}
	if !strings.Contains(body, "@"+testUsername) {
		t.Errorf("page does not name @%s: %s", testUsername, body)
	}
	if !strings.Contains(body, testUserID) {
		t.Errorf("page does not show the user id %s: %s", testUserID, body)
	}
	if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
		t.Errorf("Content-Type = %q, want text/html", ct)
	}
	if cc := rec.Header().Get("Cache-Control"); cc != "no-store" {
		t.Errorf("Cache-Control = %q, want no-store", cc)
	}
	if rp := rec.Header().Get("Referrer-Policy"); rp != "no-referrer" {
		t.Errorf("Referrer-Policy = %q, want no-referrer", rp)
	}

	account := h.store.account(testKey())
	if account == nil {
		t.Fatal("no account stored")
	}
	if account.AccessToken != testLongToken {
		t.Errorf("stored token is not the long-lived token")
	}
	if account.TokenType != "bearer" {
		t.Errorf("token type = %q, want bearer", account.TokenType)
	}
	if account.UserID != testUserID {
		t.Errorf("user id = %q, want exactly %q", account.UserID, testUserID)
	}
	if account.Username != testUsername {
		t.Errorf("username = %q, want %q", account.Username, testUsername)
	}
	if want := linkedAt.Add(tokenLifetime * time.Second); !account.ExpiresAt.Equal(want) {
		t.Errorf("expires_at = %s, want %s", account.ExpiresAt, want)
	}
	if !account.IssuedAt.Equal(linkedAt) {
		t.Errorf("issued_at = %s, want %s", account.IssuedAt, linkedAt)
	}
	if !account.LinkedAt.Equal(linkedAt) {
		t.Errorf("linked_at = %s, want %s", account.LinkedAt, linkedAt)
	}
	if !account.RefreshedAt.IsZero() {
		t.Errorf("refreshed_at = %s, want zero before the first refresh", account.RefreshedAt)
	}
	if !slices.Equal(account.Scopes, testScopes) {
		t.Errorf("scopes = %q, want %q", account.Scopes, testScopes)
	}
	if account.Status != vault.StatusActive {
		t.Errorf("status = %q, want %q", account.Status, vault.StatusActive)
	}

	if codes := h.instagram.codes(); !slices.Equal(codes, []string{testCode}) {
		t.Errorf("code exchange received %d codes, want the one code once", len(codes))
	}
	if n := h.instagram.count("/access_token"); n != 1 {
		t.Errorf("long-lived exchange requests = %d, want 1", n)
	}
	if n := h.instagram.count("/v23.0/me"); n != 1 {
		t.Errorf("identity requests = %d, want 1", n)
	}
	if linked := h.logs.find(t, "account linked"); len(linked) != 1 {
		t.Errorf("log has %d \"account linked\" entries, want 1", len(linked))
	} else if linked[0]["user_id"] != testUserID {
		t.Errorf("log user_id = %v, want %s", linked[0]["user_id"], testUserID)
	}
	h.assertNoSecrets(t, "page", body)
	h.assertNoSecrets(t, "log", h.logs.String())
}

func TestCallbackRedirectsToReturnTo(t *testing.T) {
	h := newHarness(t)
	returnTo := testReturnPrefix + "/linked?from=instagram"
	state := h.authorize(t, testOwner, returnTo)

	rec := h.callback(url.Values{"code": {testCode}, "state": {state}})

	if rec.Code != http.StatusFound {
		t.Fatalf("status = %d, want 302; body %s", rec.Code, rec.Body)
	}
	if location := rec.Header().Get("Location"); location != returnTo {
		t.Errorf("Location = %q, want %q", location, returnTo)
	}
	if account := h.store.account(testKey()); account == nil || account.AccessToken != testLongToken {
		t.Error("the account was not stored before the redirect")
	}
	h.assertNoSecrets(t, "Location", rec.Header().Get("Location"))
	h.assertNoSecrets(t, "page", rec.Body.String())
}

func TestCallbackStripsCodeSuffix(t *testing.T) {
	h := newHarness(t)
	state := h.authorize(t, testOwner, "")

	// a pasted callback URL may carry the #_ fragment inside the code
	rec := h.callback(url.Values{"code": {testCode + "#_"}, "state": {state}})

	if rec.Code != http.StatusOK {
		t.Fatalf("status = %d, want 200; body %s", rec.Code, rec.Body)
	}
	codes := h.instagram.codes()
	if len(codes) != 1 {
		t.Fatalf("code exchange requests = %d, want 1", len(codes))
	}
	if codes[0] != testCode {
		t.Errorf("the code exchange received a code with %d bytes, want the %d bytes without #_", len(codes[0]), len(testCode))
	}
	if h.store.account(testKey()) == nil {
		t.Error("no account stored")
	}
}

func TestCallbackRejectsReplayedState(t *testing.T) {
	h := newHarness(t)
	state := h.authorize(t, testOwner, "")
	query := url.Values{"code": {testCode}, "state": {state}}

	first := h.callback(query)
	if first.Code != http.StatusOK {
		t.Fatalf("first callback: status = %d, want 200; body %s", first.Code, first.Body)
	}
	writes := h.store.writeCount()
	exchanges := len(h.instagram.codes())

	second := h.callback(query)

	if second.Code != http.StatusBadRequest {
		t.Errorf("replayed callback: status = %d, want 400", second.Code)
	}
	if !strings.Contains(second.Body.String(), "already used") {
		t.Errorf("replayed callback page does not say the request was used: %s", second.Body)
	}
	if got := h.store.writeCount(); got != writes {
		t.Errorf("store writes after the replay = %d, want still %d", got, writes)
	}
	if got := len(h.instagram.codes()); got != exchanges {
		t.Errorf("code exchanges after the replay = %d, want still %d", got, exchanges)
	}
	h.assertNoSecrets(t, "page", second.Body.String())
	h.assertNoSecrets(t, "log", h.logs.String())
}

func TestCallbackRejectsBadState(t *testing.T) {
	tests := []struct {
		name     string
		state    func(t *testing.T, h *harness) string
		wantText string
	}{
		{
			name:     "missing",
			state:    func(*testing.T, *harness) string { return "" },
			wantText: "invalid",
		},
		{
			name:     "not a JWT",
			state:    func(*testing.T, *harness) string { return "not-a-signed-state" },
			wantText: "invalid",
		},
		{
			name: "signed with another key",
			state: func(t *testing.T, h *harness) string {
				forger, err := oauthflow.NewStateSigner([]byte("another-state-key-of-32-bytes-or-more"), 0)
				if err != nil {
					t.Fatalf("creating the forging signer: %v", err)
				}
				forger.Now = h.clock.Now
				state, _, err := forger.Issue("instagram", gateway.DefaultTenant, testOwner, "")
				if err != nil {
					t.Fatalf("issuing the forged state: %v", err)
				}
				h.rememberSecret(state)
				return state
			},
			wantText: "invalid",
		},
		{
			name: "expired",
			state: func(t *testing.T, h *harness) string {
				state := h.authorize(t, testOwner, "")
				h.clock.Advance(11 * time.Minute)
				return state
			},
			wantText: "expired",
		},
		{
			name: "issued for another app",
			state: func(t *testing.T, h *harness) string {
				state, _, err := h.signer.Issue("threads", gateway.DefaultTenant, testOwner, "")
				if err != nil {
					t.Fatalf("issuing the state: %v", err)
				}
				h.rememberSecret(state)
				return state
			},
			wantText: "another app",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			query := url.Values{"code": {testCode}}
			if state := tt.state(t, h); state != "" {
				query.Set("state", state)
			}

			rec := h.callback(query)

			if rec.Code != http.StatusBadRequest {
				t.Errorf("status = %d, want 400", rec.Code)
			}
			if !strings.Contains(rec.Body.String(), tt.wantText) {
				t.Errorf("page does not contain %q: %s", tt.wantText, rec.Body)
			}
			if h.store.account(testKey()) != nil {
				t.Error("an account was stored")
			}
			if n := len(h.instagram.codes()); n != 0 {
				t.Errorf("code exchange requests = %d, want 0", n)
			}
			h.assertNoSecrets(t, "page", rec.Body.String())
			h.assertNoSecrets(t, "log", h.logs.String())
		})
	}
}

func TestCallbackAccessDenied(t *testing.T) {
	h := newHarness(t)
	state := h.authorize(t, testOwner, "")

	rec := h.callback(url.Values{
		"error":             {"access_denied"},
		"error_reason":      {"user_denied"},
		"error_description": {"Permissions error"},
		"state":             {state},
	})

	if rec.Code != http.StatusForbidden {
		t.Errorf("status = %d, want 403", rec.Code)
	}
	if !strings.Contains(rec.Body.String(), "declined") {
		t.Errorf("page does not say access was declined: %s", rec.Body)
	}
	if h.store.account(testKey()) != nil {
		t.Error("an account was stored")
	}
	if n := len(h.instagram.codes()); n != 0 {
		t.Errorf("code exchange requests = %d, want 0", n)
	}
	h.assertNoSecrets(t, "page", rec.Body.String())
	h.assertNoSecrets(t, "log", h.logs.String())
}

func TestCallbackProviderError(t *testing.T) {
	h := newHarness(t)

	rec := h.callback(url.Values{"error": {"server_error"}})

	if rec.Code != http.StatusBadGateway {
		t.Errorf("status = %d, want 502", rec.Code)
	}
	if !strings.Contains(rec.Body.String(), "server_error") {
		t.Errorf("page does not name the provider error: %s", rec.Body)
	}
	if h.store.account(testKey()) != nil {
		t.Error("an account was stored")
	}
}

func TestCallbackExchangeFailure(t *testing.T) {
	h := newHarness(t)
	h.instagram.setFailCodeExchange(true)
	state := h.authorize(t, testOwner, "")

	rec := h.callback(url.Values{"code": {testCode}, "state": {state}})

	if rec.Code != http.StatusBadGateway {
		t.Errorf("status = %d, want 502", rec.Code)
	}
	body := rec.Body.String()
	if !strings.Contains(body, "code exchange") {
		t.Errorf("page does not name the failed step: %s", body)
	}
	if !strings.Contains(body, "Nothing was linked") {
		t.Errorf("page does not say nothing was linked: %s", body)
	}
	if h.store.account(testKey()) != nil {
		t.Error("an account was stored")
	}
	if n := h.instagram.count("/access_token"); n != 0 {
		t.Errorf("long-lived exchange requests = %d, want 0 after a failed code exchange", n)
	}
	if failed := h.logs.find(t, "callback failed"); len(failed) != 1 {
		t.Errorf("log has %d \"callback failed\" entries, want 1", len(failed))
	} else if failed[0]["step"] != "code exchange" {
		t.Errorf("log step = %v, want code exchange", failed[0]["step"])
	}

	// the fake echoes the code in its error message
	h.assertNoSecrets(t, "page", body)
	h.assertNoSecrets(t, "log", h.logs.String())
}

func TestCallbackFailedStep(t *testing.T) {
	tests := []struct {
		name     string
		path     string
		mode     string
		wantStep string
	}{
		{name: "long-lived exchange rejected", path: "/access_token", mode: breakGraphError, wantStep: "long-lived token exchange"},
		{name: "long-lived exchange connection lost", path: "/access_token", mode: breakConnection, wantStep: "long-lived token exchange"},
		{name: "identity rejected", path: "/v23.0/me", mode: breakGraphError, wantStep: "account lookup"},
		{name: "code exchange connection lost", path: "/oauth/access_token", mode: breakConnection, wantStep: "code exchange"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			h.instagram.breakPath(tt.path, tt.mode)
			state := h.authorize(t, testOwner, "")

			rec := h.callback(url.Values{"code": {testCode}, "state": {state}})

			if rec.Code != http.StatusBadGateway {
				t.Errorf("status = %d, want 502", rec.Code)
			}
			if !strings.Contains(rec.Body.String(), tt.wantStep+" failed") {
				t.Errorf("page does not name the step %q: %s", tt.wantStep, rec.Body)
			}
			if h.store.account(testKey()) != nil {
				t.Error("an account was stored")
			}
			failed := h.logs.find(t, "callback failed")
			if len(failed) != 1 {
				t.Fatalf("log has %d \"callback failed\" entries, want 1", len(failed))
			}
			if failed[0]["step"] != tt.wantStep {
				t.Errorf("log step = %v, want %s", failed[0]["step"], tt.wantStep)
			}

			// a transport error names the request URL, whose query carries
			// the client secret and the short-lived token
			h.assertNoSecrets(t, "page", rec.Body.String())
			h.assertNoSecrets(t, "log", h.logs.String())
		})
	}
}

func TestCallbackStoreWriteFails(t *testing.T) {
	h := newHarness(t)
	h.store.setWriteFailure(fmt.Errorf("write account: vault returned 503 Service Unavailable: %w", vault.ErrUnavailable))
	state := h.authorize(t, testOwner, "")

	rec := h.callback(url.Values{"code": {testCode}, "state": {state}})

	if rec.Code != http.StatusServiceUnavailable {
		t.Errorf("status = %d, want 503", rec.Code)
	}
	body := rec.Body.String()
	if !strings.Contains(body, "storing the account failed") {
		t.Errorf("page does not name the failed step: %s", body)
	}
	if !strings.Contains(body, "credential store is unavailable") {
		t.Errorf("page does not say the store is unavailable: %s", body)
	}
	if h.store.account(testKey()) != nil {
		t.Error("an account was stored")
	}
	h.assertNoSecrets(t, "page", body)
	h.assertNoSecrets(t, "log", h.logs.String())
}

func TestCallbackMissingCode(t *testing.T) {
	h := newHarness(t)
	state := h.authorize(t, testOwner, "")

	rec := h.callback(url.Values{"state": {state}})

	if rec.Code != http.StatusBadRequest {
		t.Errorf("status = %d, want 400", rec.Code)
	}
	if !strings.Contains(rec.Body.String(), "no code") {
		t.Errorf("page does not say the code is missing: %s", rec.Body)
	}
	if h.store.account(testKey()) != nil {
		t.Error("an account was stored")
	}
}

func TestCallbackStoreUnavailable(t *testing.T) {
	h := newHarness(t)
	state := h.authorize(t, testOwner, "")
	h.store.setFailure(fmt.Errorf("write state marker: request timed out: %w", vault.ErrUnavailable))

	rec := h.callback(url.Values{"code": {testCode}, "state": {state}})

	if rec.Code != http.StatusServiceUnavailable {
		t.Errorf("status = %d, want 503", rec.Code)
	}
	if n := len(h.instagram.codes()); n != 0 {
		t.Errorf("code exchange requests = %d, want 0 while the state cannot be spent", n)
	}
	h.assertNoSecrets(t, "page", rec.Body.String())
	h.assertNoSecrets(t, "log", h.logs.String())
}

func TestCallbackReplacesRevokedAccount(t *testing.T) {
	h := newHarness(t)
	old := h.seedAccount(t, testStoredToken, 40*24*time.Hour, 20*24*time.Hour)
	old.Status = vault.StatusReauthorizationRequired
	old.StatusReason = "Instagram error code 190"
	old.RefreshedAt = h.clock.Now().Add(-time.Hour)
	h.store.seed(t, testKey(), old)
	state := h.authorize(t, testOwner, "")

	rec := h.callback(url.Values{"code": {testCode}, "state": {state}})

	if rec.Code != http.StatusOK {
		t.Fatalf("status = %d, want 200; body %s", rec.Code, rec.Body)
	}
	account := h.store.account(testKey())
	if account.AccessToken != testLongToken {
		t.Error("the new token did not replace the revoked one")
	}
	if account.Status != vault.StatusActive {
		t.Errorf("status = %q, want %q", account.Status, vault.StatusActive)
	}
	if account.StatusReason != "" {
		t.Errorf("status reason = %q, want empty", account.StatusReason)
	}
	if !account.RefreshedAt.IsZero() {
		t.Errorf("refreshed_at = %s, want zero for a new link", account.RefreshedAt)
	}
}

func TestCallbackRejectsPost(t *testing.T) {
	h := newHarness(t)

	rec := h.serve(httptest.NewRequest(http.MethodPost, "/oauth/callback", nil))

	if rec.Code != http.StatusMethodNotAllowed {
		t.Errorf("status = %d, want 405", rec.Code)
	}
	if allow := rec.Header().Get("Allow"); allow != "GET" {
		t.Errorf("Allow = %q, want GET", allow)
	}
}

func TestUnknownOAuthEndpoint(t *testing.T) {
	h := newHarness(t)

	rec := h.serve(request(http.MethodGet, "/oauth/token", "", ""))

	decodeError(t, rec, http.StatusNotFound, gateway.CodeUnknownRoute)
	if n := len(h.upstream.recorded()); n != 0 {
		t.Errorf("upstream calls = %d, want 0", n)
	}
}

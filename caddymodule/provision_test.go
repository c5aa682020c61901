package caddymodule

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"

	"github.com/credgate/credgate/oauthflow"
	"github.com/credgate/credgate/vault"
)

const (
	testStateKey     = "state-key-for-the-caddymodule-tests-5c81"
	testVaultToken   = "hvs.test-vault-token-0d4e"
	testClientSecret = "literal-client-secret-77a0"
)

// newCaddyContext returns a Caddy context without a loaded config, which
// is enough for App.Provision and for the checks of Handler.Provision that
// run before it looks up the credgate app.
func newCaddyContext(t *testing.T) caddy.Context {
	t.Helper()
	ctx, cancel := caddy.NewContext(caddy.Context{Context: context.Background()})
	t.Cleanup(cancel)
	return ctx
}

// freeLoopbackAddress returns an http URL of a loopback port that nothing
// listens on.
func freeLoopbackAddress(t *testing.T) string {
	t.Helper()

	listener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("finding a free port: %v", err)
	}
	address := "http://" + listener.Addr().String()
	if err := listener.Close(); err != nil {
		t.Fatalf("closing the probe listener: %v", err)
	}
	return address
}

// fakeVault records the requests of a Vault client and replies to each
// with 404, as KV version 2 does for a missing secret.
type fakeVault struct {
	*httptest.Server

	mu       sync.Mutex
	requests []*http.Request
}

func newFakeVault(t *testing.T) *fakeVault {
	t.Helper()

	fake := &fakeVault{}
	fake.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fake.mu.Lock()
		fake.requests = append(fake.requests, r.Clone(context.Background()))
		fake.mu.Unlock()

		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusNotFound)
		_, _ = w.Write([]byte(`{"errors":[]}`))
	}))
	t.Cleanup(fake.Close)
	return fake
}

func (f *fakeVault) recorded() []*http.Request {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]*http.Request(nil), f.requests...)
}

func TestAppProvisionDoesNotContactVault(t *testing.T) {
	app := &App{
		Vault:    &VaultConfig{Address: freeLoopbackAddress(t), Token: testVaultToken},
		StateKey: testStateKey,
	}

	started := time.Now()
	err := app.Provision(newCaddyContext(t))
	elapsed := time.Since(started)

	if err != nil {
		t.Fatalf("Provision: %v", err)
	}
	if elapsed > 2*time.Second {
		t.Errorf("Provision took %s, want well under 2s without Vault", elapsed)
	}
	if app.store == nil {
		t.Error("Provision built no credential store")
	}
	if app.states == nil {
		t.Error("Provision built no state signer")
	}
}

func TestAppProvisionResolvesPlaceholders(t *testing.T) {
	fake := newFakeVault(t)
	t.Setenv("CREDGATE_TEST_VAULT_ADDR", fake.URL)
	t.Setenv("CREDGATE_TEST_VAULT_TOKEN", testVaultToken)
	t.Setenv("CREDGATE_TEST_NAMESPACE", "team-a")
	t.Setenv("CREDGATE_TEST_STATE_KEY", testStateKey)
	app := &App{
		Vault: &VaultConfig{
			Address:   "{env.CREDGATE_TEST_VAULT_ADDR}",
			Token:     "{env.CREDGATE_TEST_VAULT_TOKEN}",
			Namespace: "{env.CREDGATE_TEST_NAMESPACE}",
		},
		StateKey: "{env.CREDGATE_TEST_STATE_KEY}",
	}

	if err := app.Provision(newCaddyContext(t)); err != nil {
		t.Fatalf("Provision: %v", err)
	}
	if n := len(fake.recorded()); n != 0 {
		t.Errorf("Provision sent %d requests to Vault, want 0", n)
	}

	// the signer uses the resolved key: a state signed with it verifies
	signer, err := oauthflow.NewStateSigner([]byte(testStateKey), 0)
	if err != nil {
		t.Fatalf("creating the reference signer: %v", err)
	}
	state, _, err := signer.Issue("instagram", "default", "owner-1", "")
	if err != nil {
		t.Fatalf("issuing a state: %v", err)
	}
	if _, err := app.states.Verify(state); err != nil {
		t.Errorf("a state signed with the resolved key does not verify: %v", err)
	}

	// the store sends the resolved token and namespace
	_, _, err = app.store.Get(context.Background(), vault.Key{App: "instagram", Tenant: "default", Owner: "owner-1"})
	if !errors.Is(err, vault.ErrNotFound) {
		t.Fatalf("Get against the fake Vault: %v, want ErrNotFound", err)
	}
	requests := fake.recorded()
	if len(requests) != 1 {
		t.Fatalf("Vault requests = %d, want 1", len(requests))
	}
	if requests[0].Header.Get("X-Vault-Token") != testVaultToken {
		t.Error("the Vault request did not carry the resolved token")
	}
	if got := requests[0].Header.Get("X-Vault-Namespace"); got != "team-a" {
		t.Errorf("X-Vault-Namespace = %q, want team-a", got)
	}
	if got, want := requests[0].URL.Path, "/v1/secret/data/credgate/instagram/default/owner-1"; got != want {
		t.Errorf("Vault request path = %q, want %q", got, want)
	}
}

func TestAppProvisionErrors(t *testing.T) {
	address := freeLoopbackAddress(t)
	tests := []struct {
		name       string
		app        App
		wantText   []string
		secretText string
	}{
		{
			name:       "short state key",
			app:        App{Vault: &VaultConfig{Address: address, Token: testVaultToken}, StateKey: "too-short-key-41ac"},
			wantText:   []string{"state_key", "18 bytes", "at least 32 bytes"},
			secretText: "too-short-key-41ac",
		},
		{
			name:       "short state key from placeholder",
			app:        App{Vault: &VaultConfig{Address: address, Token: testVaultToken}, StateKey: "{env.CREDGATE_TEST_SHORT_KEY}"},
			wantText:   []string{"state_key", "at least 32 bytes"},
			secretText: "short-from-env-9b",
		},
		{
			name:     "missing state key",
			app:      App{Vault: &VaultConfig{Address: address, Token: testVaultToken}},
			wantText: []string{"state_key", "0 bytes"},
		},
		{
			name:     "missing vault block",
			app:      App{StateKey: testStateKey},
			wantText: []string{"vault block is missing"},
		},
		{
			name:     "missing vault address",
			app:      App{Vault: &VaultConfig{Token: testVaultToken}, StateKey: testStateKey},
			wantText: []string{"vault address is empty"},
		},
		{
			name:     "missing vault token",
			app:      App{Vault: &VaultConfig{Address: address}, StateKey: testStateKey},
			wantText: []string{"vault token is empty"},
		},
		{
			name:     "unset token variable",
			app:      App{Vault: &VaultConfig{Address: address, Token: "{env.CREDGATE_TEST_UNSET_TOKEN}"}, StateKey: testStateKey},
			wantText: []string{"vault token", "could not be resolved"},
		},
		{
			name:       "invalid vault address",
			app:        App{Vault: &VaultConfig{Address: "vault.internal:8200", Token: testVaultToken}, StateKey: testStateKey},
			wantText:   []string{"vault", "vault.internal:8200"},
			secretText: testVaultToken,
		},
		{
			name:       "token with newline",
			app:        App{Vault: &VaultConfig{Address: address, Token: testVaultToken + "\n"}, StateKey: testStateKey},
			wantText:   []string{"token"},
			secretText: testVaultToken,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("CREDGATE_TEST_SHORT_KEY", "short-from-env-9b")
			app := tt.app

			err := app.Provision(newCaddyContext(t))

			if err == nil {
				t.Fatal("Provision returned no error")
			}
			for _, text := range tt.wantText {
				if !strings.Contains(err.Error(), text) {
					t.Errorf("error %q does not contain %q", err, text)
				}
			}
			if tt.secretText != "" && strings.Contains(err.Error(), tt.secretText) {
				t.Errorf("error %q echoes the secret", err)
			}
		})
	}
}

func TestAppProvisionTokenCache(t *testing.T) {
	tests := []struct {
		name   string
		ttl    time.Duration
		cached bool
	}{
		{name: "no cache by default", ttl: 0, cached: false},
		{name: "cache with a ttl", ttl: 30 * time.Second, cached: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			app := &App{
				Vault:         &VaultConfig{Address: freeLoopbackAddress(t), Token: testVaultToken},
				StateKey:      testStateKey,
				TokenCacheTTL: caddy.Duration(tt.ttl),
			}

			if err := app.Provision(newCaddyContext(t)); err != nil {
				t.Fatalf("Provision: %v", err)
			}

			_, cached := app.store.(*vault.CachedStore)
			if cached != tt.cached {
				t.Errorf("store is %T, want cached = %t", app.store, tt.cached)
			}
		})
	}
}

func TestAppProvisionRejectsNegativeCacheTTL(t *testing.T) {
	app := &App{
		Vault:         &VaultConfig{Address: freeLoopbackAddress(t), Token: testVaultToken},
		StateKey:      testStateKey,
		TokenCacheTTL: caddy.Duration(-time.Second),
	}

	err := app.Provision(newCaddyContext(t))

	if err == nil || !strings.Contains(err.Error(), "token_cache_ttl") {
		t.Errorf("Provision = %v, want an error naming token_cache_ttl", err)
	}
}

// validHandler returns handler settings that pass every check before the
// credgate app lookup.
func validHandler() Handler {
	return Handler{
		App:          "instagram",
		ClientID:     "1184756399218845",
		ClientSecret: testClientSecret,
		RedirectURL:  "https://gateway.example.com/instagram/oauth/callback",
	}
}

func TestHandlerProvisionErrors(t *testing.T) {
	tests := []struct {
		name     string
		change   func(h *Handler)
		wantText []string
	}{
		{
			name:     "unknown app",
			change:   func(h *Handler) { h.App = "tiktok" },
			wantText: []string{`"tiktok"`, "instagram"},
		},
		{
			name:     "unset client secret variable",
			change:   func(h *Handler) { h.ClientSecret = "{env.CREDGATE_TEST_UNSET_SECRET}" },
			wantText: []string{"client_secret {env.CREDGATE_TEST_UNSET_SECRET} is empty"},
		},
		{
			name:     "empty client id",
			change:   func(h *Handler) { h.ClientID = "{env.CREDGATE_TEST_UNSET_ID}" },
			wantText: []string{"client_id {env.CREDGATE_TEST_UNSET_ID} is empty"},
		},
		{
			name:     "relative redirect url",
			change:   func(h *Handler) { h.RedirectURL = "/instagram/oauth/callback" },
			wantText: []string{"redirect_url", "absolute"},
		},
		{
			name:     "graph url with another scheme",
			change:   func(h *Handler) { h.GraphURL = "ftp://127.0.0.1:9803" },
			wantText: []string{"graph_url"},
		},
		{
			name:     "token url with query",
			change:   func(h *Handler) { h.TokenURL = "http://127.0.0.1:9803/token?x=1" },
			wantText: []string{"token_url", "query"},
		},
		{
			name:     "unknown scope",
			change:   func(h *Handler) { h.Scopes = []string{"instagram_business_basic", "business_basic"} },
			wantText: []string{`"business_basic"`, "instagram_business_manage_comments"},
		},
		{
			name:     "required scope missing",
			change:   func(h *Handler) { h.Scopes = []string{"instagram_business_content_publish"} },
			wantText: []string{"instagram_business_basic"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := validHandler()
			tt.change(&h)

			err := h.Provision(newCaddyContext(t))

			if err == nil {
				t.Fatal("Provision returned no error")
			}
			for _, text := range tt.wantText {
				if !strings.Contains(err.Error(), text) {
					t.Errorf("error %q does not contain %q", err, text)
				}
			}
			if strings.Contains(err.Error(), testClientSecret) {
				t.Errorf("error %q contains the client secret", err)
			}
		})
	}
}

func TestHandlerValidate(t *testing.T) {
	h := validHandler()
	if err := h.Validate(); err != nil {
		t.Errorf("Validate of valid settings: %v", err)
	}

	h = validHandler()
	h.App = ""
	if err := h.Validate(); err == nil || !strings.Contains(err.Error(), "instagram") {
		t.Errorf("Validate without app = %v, want an error listing instagram", err)
	}

	h = validHandler()
	h.RefreshWindow = caddy.Duration(-time.Hour)
	if err := h.Validate(); err == nil || !strings.Contains(err.Error(), "refresh_window") {
		t.Errorf("Validate with a negative refresh_window = %v, want an error naming it", err)
	}
}

func TestHandlerResolvesAccount(t *testing.T) {
	tests := []struct {
		name       string
		tenant     string
		owner      string
		header     http.Header
		wantTenant string
		wantOwner  string
	}{
		{
			name:       "defaults",
			tenant:     defaultTenant,
			owner:      defaultOwner,
			header:     http.Header{"X-Linked-Account-Owner": {"owner-1"}},
			wantTenant: "",
			wantOwner:  "owner-1",
		},
		{
			name:       "custom headers",
			tenant:     "{http.request.header.X-Tenant}",
			owner:      "{http.request.header.X-Owner}",
			header:     http.Header{"X-Tenant": {"tenant-7"}, "X-Owner": {"owner-2"}, "X-Linked-Account-Owner": {"ignored"}},
			wantTenant: "tenant-7",
			wantOwner:  "owner-2",
		},
		{
			name:       "no owner header",
			tenant:     defaultTenant,
			owner:      defaultOwner,
			header:     http.Header{},
			wantTenant: "",
			wantOwner:  "",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := Handler{Tenant: tt.tenant, Owner: tt.owner}
			r := httptest.NewRequest(http.MethodGet, "/me", nil)
			r.Header = tt.header
			repl := caddyhttp.NewTestReplacer(r)
			r = r.WithContext(context.WithValue(r.Context(), caddy.ReplacerCtxKey, repl))

			tenant, owner := h.account(r)

			if tenant != tt.wantTenant {
				t.Errorf("tenant = %q, want %q", tenant, tt.wantTenant)
			}
			if owner != tt.wantOwner {
				t.Errorf("owner = %q, want %q", owner, tt.wantOwner)
			}
		})
	}
}

func TestHandlerResolvesNoAccountWithoutReplacer(t *testing.T) {
	h := Handler{Tenant: defaultTenant, Owner: defaultOwner}
	r := httptest.NewRequest(http.MethodGet, "/me", nil)
	r.Header.Set("X-Linked-Account-Owner", "owner-1")

	tenant, owner := h.account(r)

	if tenant != "" || owner != "" {
		t.Errorf("account without a replacer = %q, %q, want empty", tenant, owner)
	}
}

func TestMountPathFromRedirectURL(t *testing.T) {
	tests := []struct {
		redirectURL string
		want        string
		ok          bool
	}{
		{"https://gateway.example.com/instagram/oauth/callback", "/instagram", true},
		{"https://gateway.example.com/apis/instagram/oauth/callback", "/apis/instagram", true},
		{"https://gateway.example.com/oauth/callback", "", true},
		{"https://gateway.example.com/instagram/callback", "", false},
		{"https://gateway.example.com/instagram/oauth/callback/", "", false},
		{"://invalid", "", false},
	}
	for _, tt := range tests {
		got, ok := mountPath(tt.redirectURL)
		if got != tt.want || ok != tt.ok {
			t.Errorf("mountPath(%q) = %q, %v, want %q, %v", tt.redirectURL, got, ok, tt.want, tt.ok)
		}
	}
}

func TestHandlerStripsMountPath(t *testing.T) {
	tests := []struct {
		name        string
		mountPath   string
		target      string
		wantPath    string
		wantEscaped string
		wantQuery   string
	}{
		{name: "callback", mountPath: "/instagram", target: "/instagram/oauth/callback?code=c&state=s", wantPath: "/oauth/callback", wantEscaped: "/oauth/callback", wantQuery: "code=c&state=s"},
		{name: "mount point itself", mountPath: "/instagram", target: "/instagram", wantPath: "/", wantEscaped: "/"},
		{name: "escaped id", mountPath: "/instagram", target: "/instagram/..%2Fme/comments", wantPath: "/../me/comments", wantEscaped: "/..%2Fme/comments"},
		{name: "already stripped by handle_path", mountPath: "/instagram", target: "/oauth/callback", wantPath: "/oauth/callback", wantEscaped: "/oauth/callback"},
		{name: "longer first segment", mountPath: "/instagram", target: "/instagramx/me", wantPath: "/instagramx/me", wantEscaped: "/instagramx/me"},
		{name: "mounted at the root", mountPath: "", target: "/me", wantPath: "/me", wantEscaped: "/me"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := Handler{mountPath: tt.mountPath}
			r := httptest.NewRequest(http.MethodGet, tt.target, nil)
			original := r.URL.String()

			stripped := h.stripMountPath(r)

			if stripped.URL.Path != tt.wantPath {
				t.Errorf("path = %q, want %q", stripped.URL.Path, tt.wantPath)
			}
			if got := stripped.URL.EscapedPath(); got != tt.wantEscaped {
				t.Errorf("escaped path = %q, want %q", got, tt.wantEscaped)
			}
			if stripped.URL.RawQuery != tt.wantQuery {
				t.Errorf("query = %q, want %q", stripped.URL.RawQuery, tt.wantQuery)
			}
			if r.URL.String() != original {
				t.Errorf("the original request URL changed to %q", r.URL)
			}
		})
	}
}

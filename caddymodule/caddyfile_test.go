package caddymodule

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	"github.com/caddyserver/caddy/v2/caddyconfig/httpcaddyfile"
)

func TestHandlerCaddyfileAllSubdirectives(t *testing.T) {
	d := caddyfile.NewTestDispenser(`credgate instagram {
		client_id      1184756399218845
		client_secret  {env.INSTAGRAM_CLIENT_SECRET}
		redirect_url   https://gateway.example.com/instagram/oauth/callback
		scopes         instagram_business_basic instagram_business_manage_comments instagram_business_manage_insights
		tenant         {http.auth.user.id}
		owner          {http.request.header.X-Owner}
		refresh_window 240h
		authorize_url  http://127.0.0.1:9801/oauth/authorize
		token_url      http://127.0.0.1:9801/oauth/access_token
		graph_url      http://127.0.0.1:9801
	}`)

	var h Handler
	if err := h.UnmarshalCaddyfile(d); err != nil {
		t.Fatalf("UnmarshalCaddyfile: %v", err)
	}

	checks := []struct{ field, got, want string }{
		{"app", h.App, "instagram"},
		{"client_id", h.ClientID, "1184756399218845"},
		{"client_secret", h.ClientSecret, "{env.INSTAGRAM_CLIENT_SECRET}"},
		{"redirect_url", h.RedirectURL, "https://gateway.example.com/instagram/oauth/callback"},
		{"tenant", h.Tenant, "{http.auth.user.id}"},
		{"owner", h.Owner, "{http.request.header.X-Owner}"},
		{"authorize_url", h.AuthorizeURL, "http://127.0.0.1:9801/oauth/authorize"},
		{"token_url", h.TokenURL, "http://127.0.0.1:9801/oauth/access_token"},
		{"graph_url", h.GraphURL, "http://127.0.0.1:9801"},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %q, want %q", c.field, c.got, c.want)
		}
	}
	wantScopes := []string{"instagram_business_basic", "instagram_business_manage_comments", "instagram_business_manage_insights"}
	if !slices.Equal(h.Scopes, wantScopes) {
		t.Errorf("scopes = %q, want %q", h.Scopes, wantScopes)
	}
	if got := time.Duration(h.RefreshWindow); got != 240*time.Hour {
		t.Errorf("refresh_window = %s, want 240h", got)
	}
}

func TestHandlerCaddyfileMinimal(t *testing.T) {
	d := caddyfile.NewTestDispenser(`credgate instagram {
		client_id 1184756399218845
		client_secret {env.INSTAGRAM_CLIENT_SECRET}
		redirect_url https://gateway.example.com/instagram/oauth/callback
	}`)

	var h Handler
	if err := h.UnmarshalCaddyfile(d); err != nil {
		t.Fatalf("UnmarshalCaddyfile: %v", err)
	}
	if h.Scopes != nil {
		t.Errorf("scopes = %q, want none so the app default applies", h.Scopes)
	}
	if h.RefreshWindow != 0 {
		t.Errorf("refresh_window = %s, want 0 so the app default applies", time.Duration(h.RefreshWindow))
	}
	if h.Tenant != "" || h.Owner != "" {
		t.Errorf("tenant, owner = %q, %q, want empty so Provision sets the defaults", h.Tenant, h.Owner)
	}
}

func TestHandlerCaddyfileErrors(t *testing.T) {
	const required = `
		client_id 1184756399218845
		client_secret {env.INSTAGRAM_CLIENT_SECRET}
		redirect_url https://gateway.example.com/instagram/oauth/callback`

	tests := []struct {
		name     string
		input    string
		wantText []string
	}{
		{
			name:     "unknown subdirective",
			input:    "credgate instagram {" + required + "\n\t\tclient_secrett x\n\t}",
			wantText: []string{`"client_secrett"`, "Testfile:5"},
		},
		{
			name:     "missing client_id",
			input:    "credgate instagram {\n\t\tclient_secret s\n\t\tredirect_url https://gateway.example.com/oauth/callback\n\t}",
			wantText: []string{"client_id is required", "Testfile:1"},
		},
		{
			name:     "redirect_url without the callback path",
			input:    "credgate instagram {\n\t\tredirect_url https://gateway.example.com/instagram/callback\n\t}",
			wantText: []string{"must end with /oauth/callback", "Testfile:2"},
		},
		{
			name:     "unknown scope",
			input:    "credgate instagram {\n\t\tscopes instagram_business_basic business_basic\n\t}",
			wantText: []string{`unknown scope "business_basic"`, "Testfile:2"},
		},
		{
			name:     "comma-separated scopes",
			input:    "credgate instagram {\n\t\tscopes instagram_business_basic,instagram_business_content_publish\n\t}",
			wantText: []string{"separate scopes with spaces", "Testfile:2"},
		},
		{
			name:     "refresh_window longer than a token lives",
			input:    "credgate instagram {\n\t\trefresh_window 2000h\n\t}",
			wantText: []string{"refresh_window 2000h0m0s must be shorter than 1416h0m0s", "Testfile:2"},
		},
		{
			name:     "missing client_secret",
			input:    "credgate instagram {\n\t\tclient_id 1\n\t\tredirect_url https://gateway.example.com/oauth/callback\n\t}",
			wantText: []string{"client_secret is required"},
		},
		{
			name:     "missing redirect_url",
			input:    "credgate instagram {\n\t\tclient_id 1\n\t\tclient_secret s\n\t}",
			wantText: []string{"redirect_url is required"},
		},
		{
			name:     "no block",
			input:    "credgate instagram",
			wantText: []string{"client_id is required"},
		},
		{
			name:     "unknown app",
			input:    "credgate tiktok {" + required + "\n\t}",
			wantText: []string{`"tiktok"`, "instagram", "Testfile:1"},
		},
		{
			name:     "no app",
			input:    "credgate",
			wantText: []string{"app name", "instagram"},
		},
		{
			name:     "second app argument",
			input:    "credgate instagram threads {" + required + "\n\t}",
			wantText: []string{"wrong argument count"},
		},
		{
			name:     "refresh_window not a duration",
			input:    "credgate instagram {" + required + "\n\t\trefresh_window soon\n\t}",
			wantText: []string{"refresh_window", `"soon"`, "Testfile:5"},
		},
		{
			name:     "refresh_window zero",
			input:    "credgate instagram {" + required + "\n\t\trefresh_window 0s\n\t}",
			wantText: []string{"refresh_window", "positive"},
		},
		{
			name:     "refresh_window negative",
			input:    "credgate instagram {" + required + "\n\t\trefresh_window -24h\n\t}",
			wantText: []string{"refresh_window", "positive"},
		},
		{
			name:     "scopes without arguments",
			input:    "credgate instagram {" + required + "\n\t\tscopes\n\t}",
			wantText: []string{"wrong argument count", "Testfile:5"},
		},
		{
			name:     "client_id without value",
			input:    "credgate instagram {\n\t\tclient_id\n\t}",
			wantText: []string{"wrong argument count", "Testfile:2"},
		},
		{
			name:     "client_id with two values",
			input:    "credgate instagram {\n\t\tclient_id 1 2\n\t}",
			wantText: []string{"wrong argument count", "Testfile:2"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var h Handler
			err := h.UnmarshalCaddyfile(caddyfile.NewTestDispenser(tt.input))

			if err == nil {
				t.Fatal("UnmarshalCaddyfile returned no error")
			}
			for _, text := range tt.wantText {
				if !strings.Contains(err.Error(), text) {
					t.Errorf("error %q does not contain %q", err, text)
				}
			}
		})
	}
}

func TestHandlerCaddyfileErrorHidesSecret(t *testing.T) {
	const secret = "literal-client-secret-3e9a"
	d := caddyfile.NewTestDispenser("credgate instagram {\n\t\tclient_secret " + secret + "\n\t\tbogus 1\n\t}")

	var h Handler
	err := h.UnmarshalCaddyfile(d)

	if err == nil {
		t.Fatal("UnmarshalCaddyfile returned no error")
	}
	if strings.Contains(err.Error(), secret) {
		t.Errorf("error %q contains the client secret", err)
	}
}

func TestGlobalOptionVaultBlock(t *testing.T) {
	d := caddyfile.NewTestDispenser(`credgate {
		vault {
			address   http://127.0.0.1:8200
			token     {env.VAULT_TOKEN}
			namespace team-a
			mount     kv
			prefix    gateways/credgate
			timeout   5s
			ca_cert /etc/vault/ca.pem
			client_cert /etc/vault/client.pem
			client_key /etc/vault/client-key.pem
			tls_server_name vault.internal
		}
		state_key       {env.CREDGATE_STATE_KEY}
		allow_return_to https://app.example.com/ok https://admin.example.com/
		allow_return_to http://127.0.0.1:3000/
		token_cache_ttl 30s
	}`)

	var app App
	if err := app.UnmarshalCaddyfile(d); err != nil {
		t.Fatalf("UnmarshalCaddyfile: %v", err)
	}

	if app.Vault == nil {
		t.Fatal("vault block was not read")
	}
	checks := []struct{ field, got, want string }{
		{"vault address", app.Vault.Address, "http://127.0.0.1:8200"},
		{"vault token", app.Vault.Token, "{env.VAULT_TOKEN}"},
		{"vault namespace", app.Vault.Namespace, "team-a"},
		{"vault mount", app.Vault.Mount, "kv"},
		{"vault prefix", app.Vault.Prefix, "gateways/credgate"},
		{"state_key", app.StateKey, "{env.CREDGATE_STATE_KEY}"},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %q, want %q", c.field, c.got, c.want)
		}
	}
	if got := time.Duration(app.Vault.Timeout); got != 5*time.Second {
		t.Errorf("vault timeout = %s, want 5s", got)
	}
	if app.Vault.CACert != "/etc/vault/ca.pem" || app.Vault.ClientCert != "/etc/vault/client.pem" ||
		app.Vault.ClientKey != "/etc/vault/client-key.pem" || app.Vault.TLSServerName != "vault.internal" {
		t.Errorf("vault TLS options = %q, %q, %q, %q", app.Vault.CACert, app.Vault.ClientCert, app.Vault.ClientKey, app.Vault.TLSServerName)
	}
	if got := time.Duration(app.TokenCacheTTL); got != 30*time.Second {
		t.Errorf("token_cache_ttl = %s, want 30s", got)
	}
	wantAllow := []string{"https://app.example.com/ok", "https://admin.example.com/", "http://127.0.0.1:3000/"}
	if !slices.Equal(app.AllowReturnTo, wantAllow) {
		t.Errorf("allow_return_to = %q, want %q", app.AllowReturnTo, wantAllow)
	}
}

func TestGlobalOptionBuildsApp(t *testing.T) {
	d := caddyfile.NewTestDispenser(`credgate {
		vault {
			address http://127.0.0.1:8200
			token {env.VAULT_TOKEN}
		}
		state_key {env.CREDGATE_STATE_KEY}
	}`)

	value, err := parseGlobalOption(d, nil)
	if err != nil {
		t.Fatalf("parseGlobalOption: %v", err)
	}

	app, ok := value.(httpcaddyfile.App)
	if !ok {
		t.Fatalf("parseGlobalOption returned %T, want httpcaddyfile.App", value)
	}
	if app.Name != "credgate" {
		t.Errorf("app name = %q, want credgate", app.Name)
	}
	var decoded App
	if err := json.Unmarshal(app.Value, &decoded); err != nil {
		t.Fatalf("app value is not the App JSON: %v", err)
	}
	if decoded.Vault == nil || decoded.Vault.Address != "http://127.0.0.1:8200" {
		t.Errorf("app value = %s, want the vault address", app.Value)
	}
	if decoded.StateKey != "{env.CREDGATE_STATE_KEY}" {
		t.Errorf("state_key = %q, want the placeholder kept for Provision", decoded.StateKey)
	}
}

func TestGlobalOptionErrors(t *testing.T) {
	tests := []struct {
		name     string
		input    string
		wantText []string
	}{
		{
			name:     "unknown option",
			input:    "credgate {\n\t\tstate_keys abc\n\t}",
			wantText: []string{`"state_keys"`, "Testfile:2"},
		},
		{
			name:     "unknown vault option",
			input:    "credgate {\n\t\tvault {\n\t\t\taddres http://127.0.0.1:8200\n\t\t}\n\t}",
			wantText: []string{`"addres"`, "Testfile:3"},
		},
		{
			name:     "vault option without value",
			input:    "credgate {\n\t\tvault {\n\t\t\ttoken\n\t\t}\n\t}",
			wantText: []string{"wrong argument count", "Testfile:3"},
		},
		{
			name:     "vault timeout not a duration",
			input:    "credgate {\n\t\tvault {\n\t\t\ttimeout soon\n\t\t}\n\t}",
			wantText: []string{"timeout", `"soon"`},
		},
		{
			name:     "vault with an argument",
			input:    "credgate {\n\t\tvault http://127.0.0.1:8200\n\t}",
			wantText: []string{"wrong argument count"},
		},
		{
			name:     "argument after credgate",
			input:    "credgate extra {\n\t}",
			wantText: []string{"wrong argument count"},
		},
		{
			name:     "state_key literal too short",
			input:    "credgate {\n\t\tvault {\n\t\t\taddress http://127.0.0.1:8200\n\t\t}\n\t\tstate_key too-short-key-41ac\n\t}",
			wantText: []string{"state_key is 18 bytes", "at least 32 bytes", "Testfile:5"},
		},
		{
			name:     "state_key with two values",
			input:    "credgate {\n\t\tstate_key {env.A} {env.B}\n\t}",
			wantText: []string{"wrong argument count"},
		},
		{
			name:     "token_cache_ttl not a duration",
			input:    "credgate {\n\t\ttoken_cache_ttl soon\n\t}",
			wantText: []string{"token_cache_ttl", `"soon"`, "Testfile:2"},
		},
		{
			name:     "token_cache_ttl negative",
			input:    "credgate {\n\t\ttoken_cache_ttl -5s\n\t}",
			wantText: []string{"token_cache_ttl", `"-5s"`},
		},
		{
			name:     "token_cache_ttl without value",
			input:    "credgate {\n\t\ttoken_cache_ttl\n\t}",
			wantText: []string{"wrong argument count"},
		},
		{
			name:     "token_cache_ttl with two values",
			input:    "credgate {\n\t\ttoken_cache_ttl 5s 10s\n\t}",
			wantText: []string{"wrong argument count"},
		},
		{
			name:     "state_key without value",
			input:    "credgate {\n\t\tstate_key\n\t}",
			wantText: []string{"wrong argument count"},
		},
		{
			name:     "allow_return_to without value",
			input:    "credgate {\n\t\tallow_return_to\n\t}",
			wantText: []string{"wrong argument count"},
		},
		{
			name:     "allow_return_to relative",
			input:    "credgate {\n\t\tallow_return_to /after-link\n\t}",
			wantText: []string{"allow_return_to", `"/after-link"`, "Testfile:2"},
		},
		{
			name:     "allow_return_to other scheme",
			input:    "credgate {\n\t\tallow_return_to ftp://app.example.com/\n\t}",
			wantText: []string{"allow_return_to", "ftp://app.example.com/"},
		},
		{
			name:     "allow_return_to with query",
			input:    "credgate {\n\t\tallow_return_to https://app.example.com/?next=1\n\t}",
			wantText: []string{"allow_return_to", "without query"},
		},
		{
			name:     "allow_return_to second value bad",
			input:    "credgate {\n\t\tallow_return_to https://app.example.com/ https://user@app.example.com/\n\t}",
			wantText: []string{"allow_return_to", "https://user@app.example.com/"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var app App
			err := app.UnmarshalCaddyfile(caddyfile.NewTestDispenser(tt.input))

			if err == nil {
				t.Fatal("UnmarshalCaddyfile returned no error")
			}
			for _, text := range tt.wantText {
				if !strings.Contains(err.Error(), text) {
					t.Errorf("error %q does not contain %q", err, text)
				}
			}
		})
	}
}

func TestGlobalOptionStateKeyErrorHidesKey(t *testing.T) {
	const key = "short-state-key-93c1"
	d := caddyfile.NewTestDispenser("credgate {\n\t\tstate_key " + key + "\n\t}")

	var app App
	err := app.UnmarshalCaddyfile(d)

	if err == nil {
		t.Fatal("UnmarshalCaddyfile returned no error")
	}
	if strings.Contains(err.Error(), key) {
		t.Errorf("error %q echoes the state key", err)
	}
}

func TestGlobalOptionStateKeyPlaceholder(t *testing.T) {
	// a placeholder is shorter than 32 bytes but is resolved in Provision
	d := caddyfile.NewTestDispenser("credgate {\n\t\tstate_key {env.K}\n\t}")

	var app App
	if err := app.UnmarshalCaddyfile(d); err != nil {
		t.Fatalf("UnmarshalCaddyfile: %v", err)
	}
	if app.StateKey != "{env.K}" {
		t.Errorf("state_key = %q, want {env.K}", app.StateKey)
	}
}

func TestDescribeSource(t *testing.T) {
	tests := []struct{ placeholder, want string }{
		{defaultOwner, "the X-Linked-Account-Owner request header"},
		{"{http.request.header.X-Owner}", "the X-Owner request header"},
		{defaultTenant, "the value of {http.auth.user.id}"},
	}
	for _, tt := range tests {
		if got := describeSource(tt.placeholder); got != tt.want {
			t.Errorf("describeSource(%q) = %q, want %q", tt.placeholder, got, tt.want)
		}
	}
}

func TestModulesRegistered(t *testing.T) {
	for _, id := range []string{"credgate", "http.handlers.credgate"} {
		if _, err := caddy.GetModule(id); err != nil {
			t.Errorf("module %s is not registered: %v", id, err)
		}
	}
}

package caddymodule

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/caddyserver/caddy/v2/caddyconfig"
	_ "github.com/caddyserver/caddy/v2/caddyconfig/httpcaddyfile"
)

const adaptGlobalOptions = `{
	credgate {
		vault {
			address http://127.0.0.1:8200
			token {env.VAULT_TOKEN}
			mount kv
			prefix gateways/credgate
			timeout 5s
		}
		state_key {env.CREDGATE_STATE_KEY}
		allow_return_to https://app.example.com/ok
		token_cache_ttl 30s
	}
}
`

const adaptHandler = `credgate instagram {
			client_id 1184756399218845
			client_secret {env.INSTAGRAM_CLIENT_SECRET}
			redirect_url https://gateway.example.com/instagram/oauth/callback
			scopes instagram_business_basic instagram_business_manage_comments
			refresh_window 240h
		}`

// adapt turns a Caddyfile into the JSON config and fails on any error or
// warning.
func adapt(t *testing.T, caddyfileText string) map[string]any {
	t.Helper()

	adapter := caddyconfig.GetAdapter("caddyfile")
	if adapter == nil {
		t.Fatal("the caddyfile adapter is not registered")
	}
	out, warnings, err := adapter.Adapt([]byte(caddyfileText), nil)
	if err != nil {
		t.Fatalf("adapting the Caddyfile: %v", err)
	}
	for _, w := range warnings {
		t.Errorf("adapt warning: %s", w)
	}

	var config map[string]any
	if err := json.Unmarshal(out, &config); err != nil {
		t.Fatalf("adapted config is not JSON: %v", err)
	}
	return config
}

// findHandlers returns every object in v whose "handler" member is name,
// in document order.
func findHandlers(v any, name string) []map[string]any {
	var found []map[string]any
	switch node := v.(type) {
	case map[string]any:
		if node["handler"] == name {
			found = append(found, node)
		}
		keys := make([]string, 0, len(node))
		for key := range node {
			keys = append(keys, key)
		}
		slices.Sort(keys)
		for _, key := range keys {
			found = append(found, findHandlers(node[key], name)...)
		}
	case []any:
		for _, item := range node {
			found = append(found, findHandlers(item, name)...)
		}
	}
	return found
}

func TestAdaptCaddyfile(t *testing.T) {
	config := adapt(t, adaptGlobalOptions+`
http://127.0.0.1:8080 {
	handle_path /instagram/* {
		`+adaptHandler+`
	}
}
`)

	handlers := findHandlers(config, "credgate")
	if len(handlers) != 1 {
		t.Fatalf("found %d credgate handlers, want 1", len(handlers))
	}
	handler := handlers[0]
	wantStrings := map[string]string{
		"app":           "instagram",
		"client_id":     "1184756399218845",
		"client_secret": "{env.INSTAGRAM_CLIENT_SECRET}",
		"redirect_url":  "https://gateway.example.com/instagram/oauth/callback",
	}
	for field, want := range wantStrings {
		if got := handler[field]; got != want {
			t.Errorf("handler %s = %v, want %q", field, got, want)
		}
	}
	scopes, _ := json.Marshal(handler["scopes"])
	if string(scopes) != `["instagram_business_basic","instagram_business_manage_comments"]` {
		t.Errorf("handler scopes = %s", scopes)
	}
	if got := handler["refresh_window"]; got != float64(240*3600*1e9) {
		t.Errorf("handler refresh_window = %v, want 240h in nanoseconds", got)
	}
	for _, absent := range []string{"tenant", "owner", "authorize_url", "token_url", "graph_url"} {
		if _, ok := handler[absent]; ok {
			t.Errorf("handler has %s, which the Caddyfile did not set", absent)
		}
	}

	// handle_path strips the prefix before the handler runs
	if rewrites := findHandlers(config, "rewrite"); len(rewrites) != 1 || rewrites[0]["strip_path_prefix"] != "/instagram" {
		t.Errorf("rewrite handlers = %v, want one that strips /instagram", rewrites)
	}

	apps, _ := config["apps"].(map[string]any)
	app, ok := apps["credgate"].(map[string]any)
	if !ok {
		t.Fatalf("config has no apps.credgate object: %v", config["apps"])
	}
	if app["state_key"] != "{env.CREDGATE_STATE_KEY}" {
		t.Errorf("apps.credgate.state_key = %v, want the placeholder", app["state_key"])
	}
	if got := app["token_cache_ttl"]; got != float64(30e9) {
		t.Errorf("apps.credgate.token_cache_ttl = %v, want 30s in nanoseconds", got)
	}
	allow, _ := json.Marshal(app["allow_return_to"])
	if string(allow) != `["https://app.example.com/ok"]` {
		t.Errorf("apps.credgate.allow_return_to = %s", allow)
	}
	vault, ok := app["vault"].(map[string]any)
	if !ok {
		t.Fatalf("apps.credgate has no vault object: %v", app)
	}
	wantVault := map[string]any{
		"address": "http://127.0.0.1:8200",
		"token":   "{env.VAULT_TOKEN}",
		"mount":   "kv",
		"prefix":  "gateways/credgate",
		"timeout": float64(5e9),
	}
	for field, want := range wantVault {
		if got := vault[field]; got != want {
			t.Errorf("apps.credgate.vault.%s = %v, want %v", field, got, want)
		}
	}
	if _, ok := vault["namespace"]; ok {
		t.Error("apps.credgate.vault has a namespace, which the Caddyfile did not set")
	}
}

func TestAdaptHandleWithoutRewrite(t *testing.T) {
	config := adapt(t, adaptGlobalOptions+`
http://127.0.0.1:8080 {
	handle /instagram/* {
		`+adaptHandler+`
	}
}
`)

	if n := len(findHandlers(config, "credgate")); n != 1 {
		t.Errorf("found %d credgate handlers, want 1", n)
	}
	if n := len(findHandlers(config, "rewrite")); n != 0 {
		t.Errorf("found %d rewrite handlers, want none under handle", n)
	}
}

func TestAdaptHandlerOutsideRoute(t *testing.T) {
	config := adapt(t, adaptGlobalOptions+`
http://127.0.0.1:8080 {
	reverse_proxy /other/* 127.0.0.1:9802
	`+strings.ReplaceAll(adaptHandler, "\n\t\t", "\n\t")+`
	respond /health 200
}
`)

	if n := len(findHandlers(config, "credgate")); n != 1 {
		t.Fatalf("found %d credgate handlers, want 1", n)
	}
	out, err := json.Marshal(config)
	if err != nil {
		t.Fatalf("encoding the config: %v", err)
	}
	text := string(out)
	credgateAt := strings.Index(text, `"handler":"credgate"`)
	proxyAt := strings.Index(text, `"handler":"reverse_proxy"`)
	if proxyAt < 0 {
		t.Fatal("config has no reverse_proxy handler")
	}
	if credgateAt > proxyAt {
		t.Error("credgate is ordered after reverse_proxy, want before")
	}
}

func TestAdaptRejectsBadHandler(t *testing.T) {
	adapter := caddyconfig.GetAdapter("caddyfile")
	_, _, err := adapter.Adapt([]byte(adaptGlobalOptions+`
http://127.0.0.1:8080 {
	credgate instagram {
		client_id 1184756399218845
		bogus_option 1
	}
}
`), nil)

	if err == nil {
		t.Fatal("Adapt returned no error")
	}
	if !strings.Contains(err.Error(), `"bogus_option"`) {
		t.Errorf("error %q does not name the subdirective", err)
	}
	if !strings.Contains(err.Error(), "Caddyfile:") {
		t.Errorf("error %q does not give the file and line", err)
	}
}

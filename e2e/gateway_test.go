// Package e2e runs the real parts together: a dev-mode Vault, Caddy built
// with credgate by xcaddy (bin/caddy), and the local Instagram-compatible
// server. `make test` builds the binaries first.
package e2e

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os/exec"
	"reflect"
	"strings"
	"testing"
	"time"
)

// functionCall is one call made both ways: by route and by function name.
type functionCall struct {
	name string

	// route mode
	method, path, query string
	body                string

	// function mode
	args string

	// what the local server must receive
	upstreamMethod string
	upstreamPath   string
	upstreamQuery  url.Values
	upstreamBody   string
}

var allFunctionCalls = []functionCall{
	{
		name: "INSTAGRAM__MEDIA_CONTAINER_CREATE", method: "POST", path: "/me/media",
		query:          `image_url=https%3A%2F%2Fcdn.example.test%2Fa.jpg&caption=hello&is_carousel_item=false&user_tags=%5B%7B%22username%22%3A%22bob%22%2C%22x%22%3A0.5%2C%22y%22%3A0.25%7D%5D`,
		args:           `{"query":{"image_url":"https://cdn.example.test/a.jpg","caption":"hello","is_carousel_item":false,"user_tags":[{"username":"bob","x":0.5,"y":0.25}]}}`,
		upstreamMethod: "POST", upstreamPath: "/v23.0/me/media",
		upstreamQuery: url.Values{"image_url": {"https://cdn.example.test/a.jpg"}, "caption": {"hello"}, "is_carousel_item": {"false"}, "user_tags": {`[{"username":"bob","x":0.5,"y":0.25}]`}},
	},
	{
		name: "INSTAGRAM__MEDIA_CONTAINER_PUBLISH", method: "POST", path: "/me/media_publish", query: "creation_id=17889455560051444",
		args:           `{"query":{"creation_id":"17889455560051444"}}`,
		upstreamMethod: "POST", upstreamPath: "/v23.0/me/media_publish", upstreamQuery: url.Values{"creation_id": {"17889455560051444"}},
	},
	{
		name: "INSTAGRAM__GET_USER_PROFILE", method: "GET", path: "/me", query: "fields=user_id%2Cusername",
		args:           `{"query":{"fields":"user_id,username"}}`,
		upstreamMethod: "GET", upstreamPath: "/v23.0/me", upstreamQuery: url.Values{"fields": {"user_id,username"}},
	},
	{
		name: "INSTAGRAM__GET_USER_MEDIA", method: "GET", path: "/me/media", query: "fields=id%2Ccaption&limit=5",
		args:           `{"path":{"ig_id":"me"},"query":{"fields":"id,caption","limit":5}}`,
		upstreamMethod: "GET", upstreamPath: "/v23.0/me/media", upstreamQuery: url.Values{"fields": {"id,caption"}, "limit": {"5"}},
	},
	{
		name: "INSTAGRAM__GET_CONVERSATIONS", method: "GET", path: "/27640875392278831/conversations", query: "platform=instagram&limit=2",
		args:           `{"path":{"ig_id":"27640875392278831"},"query":{"platform":"instagram","limit":2}}`,
		upstreamMethod: "GET", upstreamPath: "/v23.0/27640875392278831/conversations", upstreamQuery: url.Values{"platform": {"instagram"}, "limit": {"2"}},
	},
	{
		name: "INSTAGRAM__GET_CONVERSATION_MESSAGES", method: "GET", path: "/aWdfZAG06MTpJR01lc3NhZA", query: "fields=messages",
		args:           `{"path":{"conversation_id":"aWdfZAG06MTpJR01lc3NhZA"},"query":{"fields":"messages"}}`,
		upstreamMethod: "GET", upstreamPath: "/v23.0/aWdfZAG06MTpJR01lc3NhZA", upstreamQuery: url.Values{"fields": {"messages"}},
	},
	{
		name: "INSTAGRAM__GET_MESSAGE_INFO", method: "GET", path: "/aWdfZAG1faXRlbTox", query: "fields=id%2Cmessage",
		args:           `{"path":{"message_id":"aWdfZAG1faXRlbTox"},"query":{"fields":"id,message"}}`,
		upstreamMethod: "GET", upstreamPath: "/v23.0/aWdfZAG1faXRlbTox", upstreamQuery: url.Values{"fields": {"id,message"}},
	},
	{
		name: "INSTAGRAM__GET_CONTAINER_STATUS", method: "GET", path: "/17889455560051444", query: "fields=status_code",
		args:           `{"path":{"ig_container_id":"17889455560051444"},"query":{"fields":"status_code"}}`,
		upstreamMethod: "GET", upstreamPath: "/v23.0/17889455560051444", upstreamQuery: url.Values{"fields": {"status_code"}},
	},
	{
		name: "INSTAGRAM__GET_MEDIA_COMMENTS", method: "GET", path: "/17895695668004550/comments", query: "fields=id%2Ctext&limit=3",
		args:           `{"path":{"ig_media_id":"17895695668004550"},"query":{"fields":"id,text","limit":3}}`,
		upstreamMethod: "GET", upstreamPath: "/v23.0/17895695668004550/comments", upstreamQuery: url.Values{"fields": {"id,text"}, "limit": {"3"}},
	},
	{
		name: "INSTAGRAM__REPLY_TO_COMMENT", method: "POST", path: "/17858893269000001/replies", body: `{"message":"thanks!"}`,
		args:           `{"path":{"ig_comment_id":"17858893269000001"},"body":{"message":"thanks!"}}`,
		upstreamMethod: "POST", upstreamPath: "/v23.0/17858893269000001/replies", upstreamQuery: url.Values{}, upstreamBody: `{"message":"thanks!"}`,
	},
	{
		name: "INSTAGRAM__SEND_PRIVATE_REPLY", method: "POST", path: "/me/messages", body: `{"recipient":{"comment_id":"17858893269000001"},"message":{"text":"hi there"}}`,
		args:           `{"path":{"ig_id":"me"},"body":{"recipient":{"comment_id":"17858893269000001"},"message":{"text":"hi there"}}}`,
		upstreamMethod: "POST", upstreamPath: "/v23.0/me/messages", upstreamQuery: url.Values{}, upstreamBody: `{"recipient":{"comment_id":"17858893269000001"},"message":{"text":"hi there"}}`,
	},
	{
		name: "INSTAGRAM__GET_MEDIA_INSIGHTS", method: "GET", path: "/17895695668004550/insights", query: "metric=reach%2Clikes&period=lifetime",
		args:           `{"path":{"instagram_media_id":"17895695668004550"},"query":{"metric":"reach,likes","period":"lifetime"}}`,
		upstreamMethod: "GET", upstreamPath: "/v23.0/17895695668004550/insights", upstreamQuery: url.Values{"metric": {"reach,likes"}, "period": {"lifetime"}},
	},
	{
		name: "INSTAGRAM__GET_ACCOUNT_INSIGHTS", method: "GET", path: "/27640875392278831/insights", query: "metric=reach&period=day&since=1764000000&until=1764600000",
		args:           `{"path":{"ig_account_id":"27640875392278831"},"query":{"metric":"reach","period":"day","since":1764000000,"until":1764600000}}`,
		upstreamMethod: "GET", upstreamPath: "/v23.0/27640875392278831/insights", upstreamQuery: url.Values{"metric": {"reach"}, "period": {"day"}, "since": {"1764000000"}, "until": {"1764600000"}},
	},
	{
		name: "INSTAGRAM__GET_MEDIA_DETAILS", method: "GET", path: "/17895695668004550", query: "fields=caption%2Cmedia_type",
		args:           `{"path":{"ig_media_id":"17895695668004550"},"query":{"fields":"caption,media_type"}}`,
		upstreamMethod: "GET", upstreamPath: "/v23.0/17895695668004550", upstreamQuery: url.Values{"fields": {"caption,media_type"}},
	},
	{
		name: "INSTAGRAM__HIDE_UNHIDE_COMMENT", method: "POST", path: "/17858893269000001", query: "hide=true",
		args:           `{"path":{"ig_comment_id":"17858893269000001"},"query":{"hide":true}}`,
		upstreamMethod: "POST", upstreamPath: "/v23.0/17858893269000001", upstreamQuery: url.Values{"hide": {"true"}},
	},
	{
		name: "INSTAGRAM__DELETE_COMMENT", method: "DELETE", path: "/17858893269000001",
		args:           `{"path":{"ig_comment_id":"17858893269000001"}}`,
		upstreamMethod: "DELETE", upstreamPath: "/v23.0/17858893269000001", upstreamQuery: url.Values{},
	},
	{
		name: "INSTAGRAM__GET_COMMENT_DETAILS", method: "GET", path: "/17858893269000001", query: "fields=text%2Chidden",
		args:           `{"path":{"ig_comment_id":"17858893269000001"},"query":{"fields":"text,hidden"}}`,
		upstreamMethod: "GET", upstreamPath: "/v23.0/17858893269000001", upstreamQuery: url.Values{"fields": {"text,hidden"}},
	},
	{
		name: "INSTAGRAM__ENABLE_DISABLE_COMMENTS", method: "POST", path: "/17895695668004550", query: "comment_enabled=false",
		args:           `{"path":{"ig_media_id":"17895695668004550"},"query":{"comment_enabled":false}}`,
		upstreamMethod: "POST", upstreamPath: "/v23.0/17895695668004550", upstreamQuery: url.Values{"comment_enabled": {"false"}},
	},
}

func TestLinkAndCallAllFunctions(t *testing.T) {
	s := newStack(t)
	g := s.startGateway()

	// the function list
	resp := s.do("GET", g.base+"/functions", nil, nil)
	if resp.status != http.StatusOK {
		t.Fatalf("GET /functions: status %d: %s", resp.status, resp.body)
	}
	var tools []struct {
		Type     string `json:"type"`
		Function struct {
			Name       string          `json:"name"`
			Parameters json.RawMessage `json:"parameters"`
		} `json:"function"`
	}
	if err := json.Unmarshal(resp.body, &tools); err != nil {
		t.Fatalf("GET /functions is not a JSON array of tools: %v", err)
	}
	if len(tools) != 18 {
		t.Errorf("GET /functions lists %d functions, want 18", len(tools))
	}

	// link
	linkedAt := time.Now().UTC()
	page := s.link(g, "alice")
	if !strings.Contains(string(page.body), "@credgate_demo") {
		t.Errorf("linked page does not name the account: %s", page.body)
	}

	// the stored secret
	account := s.readAccount("alice")
	token, _ := account["access_token"].(string)
	if !strings.HasPrefix(token, "IGAA") {
		t.Errorf("access_token %q... does not look like an Instagram token", token[:min(4, len(token))])
	}
	if account["token_type"] != "bearer" {
		t.Errorf("token_type = %v, want bearer", account["token_type"])
	}
	if account["user_id"] != s.ig.Account().UserID {
		t.Errorf("user_id = %v, want %s (exact digits from /me)", account["user_id"], s.ig.Account().UserID)
	}
	if account["username"] != "credgate_demo" {
		t.Errorf("username = %v, want credgate_demo", account["username"])
	}
	if account["status"] != "active" {
		t.Errorf("status = %v, want active", account["status"])
	}
	if account["refreshed_at"] != "" {
		t.Errorf("refreshed_at = %v, want empty before any refresh", account["refreshed_at"])
	}
	scopes, _ := account["scopes"].([]any)
	if len(scopes) == 0 {
		t.Errorf("scopes = %v, want the granted scopes", account["scopes"])
	}
	expiresAt := parseTime(t, account, "expires_at")
	issuedAt := parseTime(t, account, "issued_at")
	parseTime(t, account, "linked_at")
	if d := expiresAt.Sub(linkedAt); d < 59*24*time.Hour || d > 60*24*time.Hour+time.Minute {
		t.Errorf("expires_at is %v after linking, want about 60 days", d)
	}
	if d := issuedAt.Sub(linkedAt); d < -time.Second || d > time.Minute {
		t.Errorf("issued_at is %v after the start of linking, want within a minute", d)
	}

	for _, call := range allFunctionCalls {
		t.Run(call.name+"/route", func(t *testing.T) {
			s.ig.ResetRequests()
			target := g.base + call.path
			if call.query != "" {
				target += "?" + call.query
			}
			header := ownerHeader("alice")
			var body []byte
			if call.body != "" {
				body = []byte(call.body)
				header["Content-Type"] = "application/json"
			}
			// credentials of the client's own must never reach the API
			header["Authorization"] = "Bearer client-own-token"
			resp := s.do(call.method, target, header, body)
			checkUpstreamCall(t, s, call, resp, token)
		})
		t.Run(call.name+"/function", func(t *testing.T) {
			s.ig.ResetRequests()
			resp := s.do("POST", g.base+"/functions/"+call.name, ownerHeader("alice"), []byte(call.args))
			checkUpstreamCall(t, s, call, resp, token)
		})
	}
}

func checkUpstreamCall(t *testing.T, s *stack, call functionCall, resp *response, token string) {
	t.Helper()
	if resp.status != http.StatusOK {
		t.Fatalf("status %d, want 200: %s", resp.status, resp.body)
	}
	if resp.header.Get("X-App-Usage") == "" {
		t.Errorf("the X-App-Usage header of the API reply did not reach the client")
	}

	calls := s.upstreamCalls()
	if len(calls) != 1 {
		t.Fatalf("the API received %d calls, want 1", len(calls))
	}
	got := calls[0]
	if got.Method != call.upstreamMethod {
		t.Errorf("upstream method = %s, want %s", got.Method, call.upstreamMethod)
	}
	if got.Path != call.upstreamPath {
		t.Errorf("upstream path = %s, want %s", got.Path, call.upstreamPath)
	}

	query, err := url.ParseQuery(got.RawQuery)
	if err != nil {
		t.Fatalf("upstream query %q: %v", got.RawQuery, err)
	}
	if !reflect.DeepEqual(query, call.upstreamQuery) {
		t.Errorf("upstream query = %v, want %v", query, call.upstreamQuery)
	}
	if call.upstreamBody != "" && !jsonEqual(got.Body, call.upstreamBody) {
		t.Errorf("upstream body = %s, want %s", got.Body, call.upstreamBody)
	}
	if call.upstreamBody == "" && got.Body != "" {
		t.Errorf("upstream body = %q, want none", got.Body)
	}

	if got.Authorization != "Bearer "+token {
		t.Errorf("upstream Authorization is not the stored token as a Bearer credential")
	}
}

func jsonEqual(a, b string) bool {
	var va, vb any
	if json.Unmarshal([]byte(a), &va) != nil || json.Unmarshal([]byte(b), &vb) != nil {
		return false
	}
	return reflect.DeepEqual(va, vb)
}

func parseTime(t *testing.T, account map[string]any, field string) time.Time {
	t.Helper()
	raw, _ := account[field].(string)
	parsed, err := time.Parse(time.RFC3339, raw)
	if err != nil {
		t.Errorf("%s = %q, want an RFC 3339 time: %v", field, raw, err)
		return time.Time{}
	}
	if parsed.Location() != time.UTC {
		t.Errorf("%s = %q, want UTC", field, raw)
	}
	return parsed
}

// TestJSONConfig runs the gateway from a JSON config like the README's:
// link an account and call a function by route and by name.
func TestJSONConfig(t *testing.T) {
	s := newStack(t)
	g := s.startGatewayWith(gatewayOptions{json: true})
	s.link(g, "tomas")
	token := s.recordStoredToken("tomas")

	for _, call := range allFunctionCalls {
		if call.name != "INSTAGRAM__GET_USER_MEDIA" {
			continue
		}
		s.ig.ResetRequests()
		resp := s.do(call.method, g.base+call.path+"?"+call.query, ownerHeader("tomas"), nil)
		checkUpstreamCall(t, s, call, resp, token)

		s.ig.ResetRequests()
		resp = s.do("POST", g.base+"/functions/"+call.name, ownerHeader("tomas"), []byte(call.args))
		checkUpstreamCall(t, s, call, resp, token)
	}
}

// TestTenantsFromBasicAuth runs the README's authentication example: the
// authenticated user is the tenant, clients without credentials are
// rejected, and the end user's browser reaches the callback without any.
func TestTenantsFromBasicAuth(t *testing.T) {
	s := newStack(t)
	hash, err := exec.Command(s.caddyBin, "hash-password", "--plaintext", "service-password-1").Output()
	if err != nil {
		t.Fatalf("caddy hash-password: %v", err)
	}
	auth := fmt.Sprintf("\t\t@clients not path /instagram/oauth/callback\n\t\tbasic_auth @clients {\n\t\t\tbilling-service %s\n\t\t\tsupport-service %s\n\t\t}",
		strings.TrimSpace(string(hash)), strings.TrimSpace(string(hash)))
	g := s.startGatewayWith(gatewayOptions{clientAuth: auth})
	s.secrets.add("service-password-1")

	withUser := func(user string) map[string]string {
		credentials := base64.StdEncoding.EncodeToString([]byte(user + ":service-password-1"))
		return map[string]string{"Authorization": "Basic " + credentials, "Accept": "application/json", "X-Linked-Account-Owner": "shop"}
	}

	// no credentials: basic_auth rejects before credgate
	if resp := s.do("GET", g.base+"/me", ownerHeader("shop"), nil); resp.status != http.StatusUnauthorized {
		t.Errorf("call without credentials: status %d, want 401", resp.status)
	}

	// the billing service links its "shop"; the browser needs no credentials
	resp := s.do("GET", g.base+"/oauth/authorize?owner=shop", withUser("billing-service"), nil)
	authURL, _ := resp.json(t)["authorization_url"].(string)
	if authURL == "" {
		t.Fatalf("authorize: status %d: %s", resp.status, resp.body)
	}
	s.recordStateOf(authURL)
	callback := s.consent(authURL)
	if resp := s.do("GET", callback, nil, nil); resp.status != http.StatusOK {
		t.Fatalf("callback without credentials: status %d: %s", resp.status, resp.body)
	}

	secret, err := s.vault.KVv2("secret").Get(t.Context(), "credgate/instagram/billing-service/shop")
	if err != nil {
		t.Fatalf("the account is not stored under the tenant billing-service: %v", err)
	}
	token, _ := secret.Data["access_token"].(string)
	s.secrets.add(token)

	// the same owner name under another tenant is another account
	if resp := s.do("GET", g.base+"/me", withUser("billing-service"), nil); resp.status != http.StatusOK {
		t.Errorf("billing-service call: status %d: %s", resp.status, resp.body)
	}
	resp = s.do("GET", g.base+"/me", withUser("support-service"), nil)
	if resp.status != http.StatusNotFound || resp.errorCode(t) != "account_not_linked" {
		t.Errorf("support-service call: status %d, want 404 account_not_linked: %s", resp.status, resp.body)
	}

	// the client's Basic credentials never reach the API
	for _, call := range s.upstreamCalls() {
		if strings.HasPrefix(call.Authorization, "Basic ") {
			t.Errorf("the client's Basic credentials reached the API")
		}
	}
}

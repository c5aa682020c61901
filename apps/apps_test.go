package apps

import (
	"encoding/json"
	"errors"
	"io/fs"
	"net/url"
	"strings"
	"testing"
	"time"
)

func loadInstagram(t *testing.T) *App {
	t.Helper()
	app, err := Load("instagram")
	if err != nil {
		t.Fatalf("Load(instagram): %v", err)
	}
	return app
}

func TestLoadInstagram(t *testing.T) {
	app := loadInstagram(t)

	if got := len(app.Functions); got != 18 {
		t.Errorf("functions = %d, want 18", got)
	}
	if app.APIVersion != "v23.0" {
		t.Errorf("api_version = %q, want v23.0", app.APIVersion)
	}
	if app.Refresh == nil || time.Duration(app.Refresh.MinTokenAge) != 24*time.Hour {
		t.Errorf("refresh min_token_age is not 24h: %+v", app.Refresh)
	}
	if time.Duration(app.Refresh.DefaultWindow) != 360*time.Hour {
		t.Errorf("refresh default_window = %v, want 360h", time.Duration(app.Refresh.DefaultWindow))
	}
	if app.LongLivedExchange == nil || app.LongLivedExchange.Query["grant_type"] != "ig_exchange_token" {
		t.Errorf("long_lived_exchange grant_type is not ig_exchange_token: %+v", app.LongLivedExchange)
	}
	for _, name := range []string{"INSTAGRAM__MEDIA_CONTAINER_CREATE", "INSTAGRAM__ENABLE_DISABLE_COMMENTS", "INSTAGRAM__SEND_PRIVATE_REPLY"} {
		if app.Function(name) == nil {
			t.Errorf("function %s is missing", name)
		}
	}
}

func TestLoadUnknownApp(t *testing.T) {
	for _, name := range []string{"tiktok", "../instagram", "Instagram", ""} {
		_, err := Load(name)
		if err == nil {
			t.Errorf("Load(%q) succeeded, want an error", name)
			continue
		}
		if !strings.Contains(err.Error(), "known apps are instagram") {
			t.Errorf("Load(%q) error %q does not list the known apps", name, err)
		}
	}
}

func TestMatchRoute(t *testing.T) {
	app := loadInstagram(t)
	tests := []struct {
		method string
		path   string
		want   []string
		params map[string]string
	}{
		{"GET", "/me", []string{"INSTAGRAM__GET_USER_PROFILE"}, nil},
		{"GET", "/me/media", []string{"INSTAGRAM__GET_USER_MEDIA"}, map[string]string{"ig_id": "me"}},
		{"POST", "/me/media", []string{"INSTAGRAM__MEDIA_CONTAINER_CREATE"}, nil},
		{"POST", "/me/media_publish", []string{"INSTAGRAM__MEDIA_CONTAINER_PUBLISH"}, nil},
		{"GET", "/17841400000000001/conversations", []string{"INSTAGRAM__GET_CONVERSATIONS"}, map[string]string{"ig_id": "17841400000000001"}},
		{"GET", "/123", []string{
			"INSTAGRAM__GET_CONVERSATION_MESSAGES", "INSTAGRAM__GET_MESSAGE_INFO", "INSTAGRAM__GET_CONTAINER_STATUS",
			"INSTAGRAM__GET_MEDIA_DETAILS", "INSTAGRAM__GET_COMMENT_DETAILS",
		}, nil},
		{"POST", "/123", []string{"INSTAGRAM__HIDE_UNHIDE_COMMENT", "INSTAGRAM__ENABLE_DISABLE_COMMENTS"}, nil},
		{"DELETE", "/123", []string{"INSTAGRAM__DELETE_COMMENT"}, map[string]string{"ig_comment_id": "123"}},
		{"GET", "/a%2Fb/comments", []string{"INSTAGRAM__GET_MEDIA_COMMENTS"}, map[string]string{"ig_media_id": "a/b"}},
		{"GET", "/1/2/3/4", nil, nil},
		{"PUT", "/me", nil, nil},
		{"GET", "/", nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			segments, err := SplitPath(tt.path)
			if err != nil {
				t.Fatalf("SplitPath: %v", err)
			}
			matches := app.MatchRoute(tt.method, segments)
			var names []string
			for _, m := range matches {
				names = append(names, m.Function.Name)
			}
			if strings.Join(names, ",") != strings.Join(tt.want, ",") {
				t.Fatalf("matches = %v, want %v", names, tt.want)
			}
			for name, want := range tt.params {
				if got := matches[0].Path[name]; got != want {
					t.Errorf("path %s = %v, want %q", name, got, want)
				}
			}
		})
	}
}

func TestValidate(t *testing.T) {
	app := loadInstagram(t)
	tests := []struct {
		name     string
		function string
		args     string
		problems []string
	}{
		{"valid media list", "INSTAGRAM__GET_USER_MEDIA", `{"path":{"ig_id":"me"},"query":{"limit":10,"fields":"id"}}`, nil},
		{"integer written as 10.0", "INSTAGRAM__GET_USER_MEDIA", `{"path":{"ig_id":"me"},"query":{"limit":10.0}}`, nil},
		{"fraction", "INSTAGRAM__GET_USER_MEDIA", `{"path":{"ig_id":"me"},"query":{"limit":1.5}}`, []string{"query.limit"}},
		{"limit as string", "INSTAGRAM__GET_USER_MEDIA", `{"path":{"ig_id":"me"},"query":{"limit":"ten"}}`, []string{"query.limit"}},
		{"missing path", "INSTAGRAM__GET_USER_MEDIA", `{}`, []string{"path.ig_id is required"}},
		{"missing query", "INSTAGRAM__HIDE_UNHIDE_COMMENT", `{"path":{"ig_comment_id":"1"}}`, []string{"query.hide is required"}},
		{"missing required query", "INSTAGRAM__MEDIA_CONTAINER_CREATE", `{"query":{"caption":"x"}}`, []string{"query.image_url is required"}},
		{"unknown parameter", "INSTAGRAM__GET_USER_PROFILE", `{"query":{"feilds":"id"}}`, []string{"query.feilds is not a parameter"}},
		{"enum", "INSTAGRAM__GET_MEDIA_INSIGHTS", `{"path":{"instagram_media_id":"1"},"query":{"period":"year"}}`, []string{"query.period"}},
		{"bool as string", "INSTAGRAM__HIDE_UNHIDE_COMMENT", `{"path":{"ig_comment_id":"1"},"query":{"hide":"yes"}}`, []string{"query.hide"}},
		{"dot-dot id", "INSTAGRAM__GET_MEDIA_DETAILS", `{"path":{"ig_media_id":".."}}`, []string{`path.ig_media_id: ".." is not a valid id`}},
		{"empty id", "INSTAGRAM__GET_MEDIA_DETAILS", `{"path":{"ig_media_id":""}}`, []string{"path.ig_media_id"}},
		{"nested body", "INSTAGRAM__SEND_PRIVATE_REPLY", `{"path":{"ig_id":"me"},"body":{"recipient":{},"message":{"text":"hi"}}}`, []string{"body.recipient.comment_id is required"}},
		{"user tags", "INSTAGRAM__MEDIA_CONTAINER_CREATE", `{"query":{"image_url":"https://example.com/a.jpg","user_tags":[{"username":"a","x":0.5,"y":0.5}]}}`, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fn := app.Function(tt.function)
			args := decodeArgs(t, tt.args)
			err := fn.Validate(args)
			if len(tt.problems) == 0 {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			var argErr *ArgumentError
			if !errors.As(err, &argErr) {
				t.Fatalf("Validate error = %v, want *ArgumentError", err)
			}
			for _, want := range tt.problems {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not mention %q", err, want)
				}
			}
		})
	}
}

func decodeArgs(t *testing.T, raw string) Arguments {
	t.Helper()
	obj, err := DecodeJSONObject([]byte(raw))
	if err != nil {
		t.Fatalf("decoding %s: %v", raw, err)
	}
	var args Arguments
	if v, ok := obj["path"].(map[string]any); ok {
		args.Path = v
	}
	if v, ok := obj["query"].(map[string]any); ok {
		args.Query = v
	}
	if v, ok := obj["body"].(map[string]any); ok {
		args.Body = v
	}
	return args
}

func TestBuildRequestEscapesPathParameters(t *testing.T) {
	app := loadInstagram(t)
	fn := app.Function("INSTAGRAM__GET_MEDIA_COMMENTS")
	tests := []struct {
		id      string
		rawPath string
	}{
		{"17895695668004550", "/v23.0/17895695668004550/comments"},
		{"../me", "/v23.0/..%2Fme/comments"},
		{"a/b", "/v23.0/a%2Fb/comments"},
		{"1?x=2", "/v23.0/1%3Fx=2/comments"},
		{"50%", "/v23.0/50%25/comments"},
		{"#frag", "/v23.0/%23frag/comments"},
	}
	for _, tt := range tests {
		t.Run(tt.id, func(t *testing.T) {
			req, err := fn.BuildRequest(app.APIVersion, Arguments{Path: map[string]any{"ig_media_id": tt.id}})
			if err != nil {
				t.Fatalf("BuildRequest: %v", err)
			}
			if req.RawPath != tt.rawPath {
				t.Errorf("RawPath = %q, want %q", req.RawPath, tt.rawPath)
			}
			u := url.URL{Path: req.Path, RawPath: req.RawPath}
			if u.EscapedPath() != tt.rawPath {
				t.Errorf("URL.EscapedPath() = %q, want %q: Path and RawPath disagree", u.EscapedPath(), tt.rawPath)
			}
			if req.RawQuery != "" {
				t.Errorf("RawQuery = %q, want empty", req.RawQuery)
			}
		})
	}
}

func TestBuildRequestEncodesValues(t *testing.T) {
	app := loadInstagram(t)

	media := app.Function("INSTAGRAM__GET_USER_MEDIA")
	req, err := media.BuildRequest(app.APIVersion, decodeArgs(t, `{"path":{"ig_id":"me"},"query":{"limit":10.0,"after":"QVFI"}}`))
	if err != nil {
		t.Fatalf("BuildRequest: %v", err)
	}
	if req.RawQuery != "after=QVFI&limit=10" {
		t.Errorf("RawQuery = %q, want after=QVFI&limit=10", req.RawQuery)
	}

	create := app.Function("INSTAGRAM__MEDIA_CONTAINER_CREATE")
	req, err = create.BuildRequest(app.APIVersion, decodeArgs(t, `{"query":{"image_url":"https://e.test/a.jpg","is_carousel_item":false,"user_tags":[{"username":"bob","x":0.25,"y":0.75}]}}`))
	if err != nil {
		t.Fatalf("BuildRequest: %v", err)
	}
	query, _ := url.ParseQuery(req.RawQuery)
	if got := query.Get("is_carousel_item"); got != "false" {
		t.Errorf("is_carousel_item = %q, want false", got)
	}
	if got := query.Get("user_tags"); got != `[{"username":"bob","x":0.25,"y":0.75}]` {
		t.Errorf("user_tags = %q, want one JSON value", got)
	}
	if req.Path != "/v23.0/me/media" || req.Method != "POST" {
		t.Errorf("request = %s %s, want POST /v23.0/me/media", req.Method, req.Path)
	}

	reply := app.Function("INSTAGRAM__REPLY_TO_COMMENT")
	req, err = reply.BuildRequest(app.APIVersion, decodeArgs(t, `{"path":{"ig_comment_id":"9"},"body":{"message":"thanks"}}`))
	if err != nil {
		t.Fatalf("BuildRequest: %v", err)
	}
	var body map[string]string
	if err := json.Unmarshal(req.Body, &body); err != nil || body["message"] != "thanks" {
		t.Errorf("body = %s, want {\"message\":\"thanks\"}", req.Body)
	}
}

func TestReadQueryTypes(t *testing.T) {
	app := loadInstagram(t)
	fn := app.Function("INSTAGRAM__GET_ACCOUNT_INSIGHTS")

	values, _ := url.ParseQuery("metric=reach&since=1700000000&until=1700086400")
	args, err := fn.ReadQuery(values)
	if err != nil {
		t.Fatalf("ReadQuery: %v", err)
	}
	if args["since"] != json.Number("1700000000") {
		t.Errorf("since = %#v, want json.Number", args["since"])
	}
	if err := fn.Validate(Arguments{Path: map[string]any{"ig_account_id": "me"}, Query: args}); err != nil {
		t.Errorf("Validate: %v", err)
	}

	tests := []struct {
		function string
		query    string
		want     string
	}{
		{"INSTAGRAM__GET_ACCOUNT_INSIGHTS", "metric=reach&until=10.0", `query.until: "10.0" is not an integer`},
		{"INSTAGRAM__GET_ACCOUNT_INSIGHTS", "metric=reach&metric=views", "query.metric is given 2 times"},
		{"INSTAGRAM__HIDE_UNHIDE_COMMENT", "hide=yes", `query.hide: "yes" is not a boolean; write true or false`},
		{"INSTAGRAM__MEDIA_CONTAINER_CREATE", "image_url=x&user_tags=bob", `query.user_tags: "bob" is not a JSON array`},
		{"INSTAGRAM__GET_USER_MEDIA", "limit=" + strings.Repeat("9", 100), `"... is out of the range of a 64-bit integer`},
		{"INSTAGRAM__GET_USER_MEDIA", "limit=ten", `query.limit: "ten" is not an integer; write digits only`},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			values, _ := url.ParseQuery(tt.query)
			_, err := app.Function(tt.function).ReadQuery(values)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("ReadQuery error = %v, want one containing %q", err, tt.want)
			}
		})
	}
}

// A provider with the same token pattern is data only: this Threads-like
// app loads with the same code.
func TestParseThreadsLikeApp(t *testing.T) {
	appJSON := `{
		"name": "threads", "display_name": "Threads",
		"authorize_url": "https://threads.net/oauth/authorize",
		"token_url": "https://graph.threads.net/oauth/access_token",
		"api_base_url": "https://graph.threads.net", "api_version": "v1.0",
		"scope_separator": ",", "default_scopes": ["threads_basic"],
		"long_lived_exchange": {"method": "GET", "path": "/access_token",
			"query": {"grant_type": "th_exchange_token", "client_secret": "{client_secret}", "access_token": "{access_token}"}},
		"refresh": {"method": "GET", "path": "/refresh_access_token",
			"query": {"grant_type": "th_refresh_token", "access_token": "{access_token}"}, "min_token_age": "24h", "default_window": "360h"},
		"identity": {"path": "/me", "query": {"fields": "id,username"}, "user_id_field": "id", "username_field": "username"},
		"credential": {"header": "Authorization", "scheme": "Bearer", "strip_query": ["access_token"]},
		"reauthorization_error_codes": [190]
	}`
	functionsJSON := `[{"name": "THREADS__GET_PROFILE", "description": "Get the profile.", "method": "GET", "path": "/me",
		"parameters": {"type": "object", "properties": {"query": {"type": "object", "properties": {"fields": {"type": "string"}}, "additionalProperties": false}}, "additionalProperties": false}}]`

	app, err := Parse("threads", []byte(appJSON), []byte(functionsJSON))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	if app.Refresh.Query["grant_type"] != "th_refresh_token" {
		t.Errorf("refresh grant_type = %q", app.Refresh.Query["grant_type"])
	}
	if len(app.MatchRoute("GET", []string{"me"})) != 1 {
		t.Errorf("GET /me does not match THREADS__GET_PROFILE")
	}
}

func TestParseRejectsBadData(t *testing.T) {
	appJSON, err := fs.ReadFile(builtin, "instagram/app.json")
	if err != nil {
		t.Fatal(err)
	}
	fn := func(name, method, path, params string) string {
		return `[{"name":"` + name + `","description":"d","method":"` + method + `","path":"` + path + `","parameters":` + params + `}]`
	}
	pathParams := `{"type":"object","properties":{"path":{"type":"object","properties":{"id":{"type":"string"}},"required":["id"]}}}`
	tests := []struct {
		name      string
		functions string
		want      string
	}{
		{"bad name", fn("bad name", "GET", "/{id}", pathParams), "function name"},
		{"bad method", fn("F", "FETCH", "/{id}", pathParams), "method"},
		{"undeclared path parameter", fn("F", "GET", "/{other}", pathParams), "does not declare"},
		{"unused path parameter", fn("F", "GET", "/me", pathParams), "does not use"},
		{"unknown section", fn("F", "GET", "/me", `{"type":"object","properties":{"header":{"type":"object"}}}`), "unknown section"},
		{"invalid schema", fn("F", "GET", "/me", `{"type":"object","properties":{"query":{"type":"object","properties":{"n":{"type":"integer","minimum":"one"}}}}}`), "not a valid JSON Schema"},
		{"unknown field", `[{"name":"F","method":"GET","path":"/me","parameters":{"type":"object"},"extra":1}]`, "unknown field"},
		{"duplicate", `[` + strings.Trim(fn("F", "GET", "/me", `{"type":"object"}`), "[]") + `,` + strings.Trim(fn("F", "GET", "/me", `{"type":"object"}`), "[]") + `]`, "declared twice"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("instagram", appJSON, []byte(tt.functions))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Parse error = %v, want one containing %q", err, tt.want)
			}
		})
	}
}

// BenchmarkRouteToRequest measures the per-request work of route mode:
// matching, reading the query, schema validation and building the request.
func BenchmarkRouteToRequest(b *testing.B) {
	app, err := Load("instagram")
	if err != nil {
		b.Fatal(err)
	}
	segments, _ := SplitPath("/me/media")
	query, _ := url.ParseQuery("fields=id,caption&limit=10")

	b.ReportAllocs()
	for b.Loop() {
		match := app.MatchRoute("GET", segments)[0]
		q, err := match.Function.ReadQuery(query)
		if err != nil {
			b.Fatal(err)
		}
		args := Arguments{Path: match.Path, Query: q}
		if err := match.Function.Validate(args); err != nil {
			b.Fatal(err)
		}
		if _, err := match.Function.BuildRequest(app.APIVersion, args); err != nil {
			b.Fatal(err)
		}
	}
}

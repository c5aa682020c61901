package gateway_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/credgate/credgate/gateway"
)

// linkedHarness returns a harness whose testOwner has a fresh token.
func linkedHarness(t *testing.T) *harness {
	t.Helper()
	h := newHarness(t)
	h.seedAccount(t, testStoredToken, time.Hour, 50*24*time.Hour)
	return h
}

func TestRouteUnknown(t *testing.T) {
	tests := []struct{ method, target string }{
		{http.MethodGet, "/nope/a/b/c"},
		{http.MethodPut, "/me"},
		{http.MethodGet, "/"},
		{http.MethodDelete, "/123/comments"},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.target, func(t *testing.T) {
			h := linkedHarness(t)

			rec := h.serve(request(tt.method, tt.target, "", ""))

			decodeError(t, rec, http.StatusNotFound, gateway.CodeUnknownRoute)
			if n := len(h.upstream.recorded()); n != 0 {
				t.Errorf("upstream calls = %d, want 0", n)
			}
		})
	}
}

func TestRouteRejectsInvalidArguments(t *testing.T) {
	tests := []struct {
		name        string
		method      string
		target      string
		contentType string
		body        string
		wantText    []string
	}{
		{
			name:     "missing required query parameter",
			method:   http.MethodPost,
			target:   "/me/media?caption=hello",
			wantText: []string{"query.image_url", "required"},
		},
		{
			name:     "integer written as float",
			method:   http.MethodGet,
			target:   "/me/media?limit=10.0",
			wantText: []string{"query.limit"},
		},
		{
			name:     "unknown query parameter",
			method:   http.MethodGet,
			target:   "/me?fields=user_id&debug=all",
			wantText: []string{"query.debug"},
		},
		{
			name:     "parameter given twice",
			method:   http.MethodGet,
			target:   "/me?fields=user_id&fields=username",
			wantText: []string{"query.fields", "2 times"},
		},
		{
			name:     "enum value",
			method:   http.MethodGet,
			target:   "/17841400000000000/conversations?platform=messenger",
			wantText: []string{"query.platform"},
		},
		{
			name:     "dot dot id",
			method:   http.MethodGet,
			target:   "/%2E%2E/comments",
			wantText: []string{"path.ig_media_id"},
		},
		{
			name:        "missing body member",
			method:      http.MethodPost,
			target:      "/178000/replies",
			contentType: "application/json",
			body:        `{}`,
			wantText:    []string{"body.message", "required"},
		},
		{
			name:        "body not JSON",
			method:      http.MethodPost,
			target:      "/178000/replies",
			contentType: "application/json",
			body:        `{"message":`,
			wantText:    []string{"body"},
		},
		{
			name:        "unsupported content type",
			method:      http.MethodPost,
			target:      "/178000/replies",
			contentType: "text/plain",
			body:        "thanks",
			wantText:    []string{"text/plain"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := linkedHarness(t)

			rec := h.serve(request(tt.method, tt.target, tt.contentType, tt.body))

			reply := decodeError(t, rec, http.StatusBadRequest, gateway.CodeInvalidArguments)
			for _, text := range tt.wantText {
				if !strings.Contains(reply.Error.Message, text) {
					t.Errorf("message %q does not contain %q", reply.Error.Message, text)
				}
			}
			if n := len(h.upstream.recorded()); n != 0 {
				t.Errorf("upstream calls = %d, want 0", n)
			}
		})
	}
}

func TestRoutePicksFunctionByArguments(t *testing.T) {
	tests := []struct {
		target    string
		wantQuery string
	}{
		{target: "/123?hide=true", wantQuery: "hide=true"},
		{target: "/123?hide=false", wantQuery: "hide=false"},
		{target: "/123?comment_enabled=false", wantQuery: "comment_enabled=false"},
	}
	for _, tt := range tests {
		t.Run(tt.target, func(t *testing.T) {
			h := linkedHarness(t)

			rec := h.serve(request(http.MethodPost, tt.target, "", ""))

			if rec.Code != http.StatusOK {
				t.Fatalf("status = %d, want 200; body %s", rec.Code, rec.Body)
			}
			call := h.upstream.onlyCall(t)
			if call.Method != http.MethodPost {
				t.Errorf("upstream method = %s, want POST", call.Method)
			}
			if call.EscapedPath != "/v23.0/123" {
				t.Errorf("upstream path = %q, want /v23.0/123", call.EscapedPath)
			}
			if call.RawQuery != tt.wantQuery {
				t.Errorf("upstream query = %q, want %q", call.RawQuery, tt.wantQuery)
			}
		})
	}
}

func TestRouteAmbiguousListsBothFunctions(t *testing.T) {
	h := linkedHarness(t)

	rec := h.serve(request(http.MethodPost, "/123", "", ""))

	reply := decodeError(t, rec, http.StatusBadRequest, gateway.CodeInvalidArguments)
	for _, name := range []string{"INSTAGRAM__HIDE_UNHIDE_COMMENT", "INSTAGRAM__ENABLE_DISABLE_COMMENTS"} {
		if !strings.Contains(reply.Error.Message, name) {
			t.Errorf("message %q does not name %s", reply.Error.Message, name)
		}
	}
	if n := len(h.upstream.recorded()); n != 0 {
		t.Errorf("upstream calls = %d, want 0", n)
	}
}

func TestRouteEscapesIDAsOneSegment(t *testing.T) {
	tests := []struct {
		target   string
		wantPath string
	}{
		{target: "/..%2Fme/comments", wantPath: "/v23.0/..%2Fme/comments"},
		{target: "/a%2Fb/comments", wantPath: "/v23.0/a%2Fb/comments"},
		{target: "/1%3Fx=2/comments", wantPath: "/v23.0/1%3Fx=2/comments"},
		{target: "/1%23frag/comments", wantPath: "/v23.0/1%23frag/comments"},
	}
	for _, tt := range tests {
		t.Run(tt.target, func(t *testing.T) {
			h := linkedHarness(t)

			rec := h.serve(request(http.MethodGet, tt.target, "", ""))

			if rec.Code != http.StatusOK {
				t.Fatalf("status = %d, want 200; body %s", rec.Code, rec.Body)
			}
			call := h.upstream.onlyCall(t)
			if call.EscapedPath != tt.wantPath {
				t.Errorf("upstream escaped path = %q, want %q", call.EscapedPath, tt.wantPath)
			}
			if call.RawQuery != "" {
				t.Errorf("upstream query = %q, want empty", call.RawQuery)
			}
		})
	}
}

func TestRouteReplacesClientCredentials(t *testing.T) {
	h := linkedHarness(t)
	r := request(http.MethodGet, "/me?fields=user_id,username&access_token="+testClientToken, "", "")
	r.Header.Set("Authorization", "Bearer "+testClientToken)
	r.Header.Set("Proxy-Authorization", "Basic dXNlcjpwYXNz")
	r.Header.Set("Cookie", "session=client-cookie")

	rec := h.serve(r)

	if rec.Code != http.StatusOK {
		t.Fatalf("status = %d, want 200; body %s", rec.Code, rec.Body)
	}
	call := h.upstream.onlyCall(t)
	if got := call.Header.Values("Authorization"); len(got) != 1 || got[0] != "Bearer "+testStoredToken {
		t.Errorf("upstream Authorization is not exactly the stored token (%d values)", len(got))
	}
	if call.Header.Get("Proxy-Authorization") != "" {
		t.Error("upstream request still has Proxy-Authorization")
	}
	if call.Header.Get("Cookie") != "" {
		t.Error("upstream request still has the client's Cookie")
	}
	query, err := url.ParseQuery(call.RawQuery)
	if err != nil {
		t.Fatalf("upstream query does not parse: %v", err)
	}
	if query.Has("access_token") {
		t.Error("upstream query still has access_token")
	}
	if got := query.Get("fields"); got != "user_id,username" {
		t.Errorf("upstream fields = %q, want user_id,username", got)
	}
	if call.EscapedPath != "/v23.0/me" {
		t.Errorf("upstream path = %q, want /v23.0/me", call.EscapedPath)
	}
	h.assertNoSecrets(t, "log", h.logs.String())
}

func TestRoutePassesBody(t *testing.T) {
	tests := []struct {
		name        string
		contentType string
		body        string
	}{
		{name: "json", contentType: "application/json", body: `{"message":"Thanks for the comment!"}`},
		{name: "json with charset", contentType: "application/json; charset=utf-8", body: `{"message":"Thanks for the comment!"}`},
		{name: "form", contentType: "application/x-www-form-urlencoded", body: "message=Thanks+for+the+comment%21"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := linkedHarness(t)

			rec := h.serve(request(http.MethodPost, "/178000/replies", tt.contentType, tt.body))

			if rec.Code != http.StatusOK {
				t.Fatalf("status = %d, want 200; body %s", rec.Code, rec.Body)
			}
			call := h.upstream.onlyCall(t)
			if call.EscapedPath != "/v23.0/178000/replies" {
				t.Errorf("upstream path = %q, want /v23.0/178000/replies", call.EscapedPath)
			}
			if ct := call.Header.Get("Content-Type"); ct != "application/json" {
				t.Errorf("upstream Content-Type = %q, want application/json", ct)
			}
			var body map[string]any
			if err := json.Unmarshal(call.Body, &body); err != nil {
				t.Fatalf("upstream body is not JSON: %v: %s", err, call.Body)
			}
			if body["message"] != "Thanks for the comment!" {
				t.Errorf("upstream body message = %v, want the client's message", body["message"])
			}
			if len(body) != 1 {
				t.Errorf("upstream body has %d members, want 1: %s", len(body), call.Body)
			}
		})
	}
}

func TestRouteSendsIntegersAsIntegers(t *testing.T) {
	h := linkedHarness(t)

	rec := h.serve(request(http.MethodGet, "/me/media?limit=10&fields=id,caption", "", ""))

	if rec.Code != http.StatusOK {
		t.Fatalf("status = %d, want 200; body %s", rec.Code, rec.Body)
	}
	call := h.upstream.onlyCall(t)
	if call.EscapedPath != "/v23.0/me/media" {
		t.Errorf("upstream path = %q, want /v23.0/me/media", call.EscapedPath)
	}
	query, _ := url.ParseQuery(call.RawQuery)
	if got := query.Get("limit"); got != "10" {
		t.Errorf("upstream limit = %q, want 10", got)
	}
}

func TestRoutePassesReplyThrough(t *testing.T) {
	h := linkedHarness(t)
	h.upstream.setReply(func(w http.ResponseWriter, r *http.Request) error {
		w.Header().Set("X-App-Usage", `{"call_count":28,"total_cputime":25,"total_time":25}`)
		writeReply(w, http.StatusOK, `{"user_id":"17841400000000000","username":"shop.example"}`)
		return nil
	})

	rec := h.serve(request(http.MethodGet, "/me", "", ""))

	if rec.Code != http.StatusOK {
		t.Errorf("status = %d, want 200", rec.Code)
	}
	if got := rec.Body.String(); got != `{"user_id":"17841400000000000","username":"shop.example"}` {
		t.Errorf("body = %s, want the upstream reply unchanged", got)
	}
	if got := rec.Header().Get("X-App-Usage"); got == "" {
		t.Error("the X-App-Usage header of the upstream reply is missing")
	}
}

func TestFunctionList(t *testing.T) {
	h := newHarness(t)

	rec := h.serve(request(http.MethodGet, "/functions", "", ""))

	if rec.Code != http.StatusOK {
		t.Fatalf("status = %d, want 200; body %s", rec.Code, rec.Body)
	}
	var tools []map[string]json.RawMessage
	if err := json.Unmarshal(rec.Body.Bytes(), &tools); err != nil {
		t.Fatalf("reply is not a JSON array of objects: %v", err)
	}
	if len(tools) != 18 {
		t.Errorf("functions = %d, want 18", len(tools))
	}

	names := make(map[string]bool)
	for i, tool := range tools {
		if len(tool) != 2 {
			t.Errorf("entry %d has %d members, want type and function", i, len(tool))
		}
		var kind string
		if err := json.Unmarshal(tool["type"], &kind); err != nil || kind != "function" {
			t.Errorf("entry %d: type = %s, want \"function\"", i, tool["type"])
		}
		var fn struct {
			Name        string          `json:"name"`
			Description string          `json:"description"`
			Parameters  json.RawMessage `json:"parameters"`
		}
		if err := json.Unmarshal(tool["function"], &fn); err != nil {
			t.Errorf("entry %d: function is not an object: %v", i, err)
			continue
		}
		if !strings.HasPrefix(fn.Name, "INSTAGRAM__") {
			t.Errorf("entry %d: name = %q, want an INSTAGRAM__ name", i, fn.Name)
		}
		if fn.Description == "" {
			t.Errorf("%s: description is empty", fn.Name)
		}
		if fn.Name == "INSTAGRAM__GET_USER_MEDIA" && !strings.HasSuffix(fn.Description, " Route: GET /{ig_id}/media.") {
			t.Errorf("%s: description %q does not end with the route", fn.Name, fn.Description)
		}
		var schema struct {
			Type string `json:"type"`
		}
		if err := json.Unmarshal(fn.Parameters, &schema); err != nil || schema.Type != "object" {
			t.Errorf("%s: parameters are not an object schema: %s", fn.Name, fn.Parameters)
		}
		names[fn.Name] = true
	}
	for _, name := range []string{"INSTAGRAM__GET_USER_PROFILE", "INSTAGRAM__REPLY_TO_COMMENT", "INSTAGRAM__ENABLE_DISABLE_COMMENTS"} {
		if !names[name] {
			t.Errorf("function list has no %s", name)
		}
	}
	if n := len(h.upstream.recorded()); n != 0 {
		t.Errorf("upstream calls = %d, want 0", n)
	}
}

func TestFunctionListRejectsPost(t *testing.T) {
	h := newHarness(t)

	rec := h.serve(request(http.MethodPost, "/functions", "application/json", "{}"))

	decodeError(t, rec, http.StatusMethodNotAllowed, gateway.CodeMethodNotAllowed)
}

func TestFunctionCall(t *testing.T) {
	tests := []struct {
		name      string
		function  string
		body      string
		wantPath  string
		wantQuery url.Values
		wantBody  string
	}{
		{
			name:      "query arguments",
			function:  "INSTAGRAM__GET_USER_MEDIA",
			body:      `{"path":{"ig_id":"17841400000000000"},"query":{"limit":10,"fields":"id,caption"}}`,
			wantPath:  "/v23.0/17841400000000000/media",
			wantQuery: url.Values{"limit": {"10"}, "fields": {"id,caption"}},
		},
		{
			name:      "integer written as float",
			function:  "INSTAGRAM__GET_USER_MEDIA",
			body:      `{"path":{"ig_id":"me"},"query":{"limit":10.0}}`,
			wantPath:  "/v23.0/me/media",
			wantQuery: url.Values{"limit": {"10"}},
		},
		{
			name:      "boolean",
			function:  "INSTAGRAM__HIDE_UNHIDE_COMMENT",
			body:      `{"path":{"ig_comment_id":"178000"},"query":{"hide":true}}`,
			wantPath:  "/v23.0/178000",
			wantQuery: url.Values{"hide": {"true"}},
		},
		{
			name:      "array as one JSON value",
			function:  "INSTAGRAM__MEDIA_CONTAINER_CREATE",
			body:      `{"query":{"image_url":"https://cdn.example.com/a.jpg","user_tags":[{"username":"friend","x":0.5,"y":0.25}]}}`,
			wantPath:  "/v23.0/me/media",
			wantQuery: url.Values{"image_url": {"https://cdn.example.com/a.jpg"}, "user_tags": {`[{"username":"friend","x":0.5,"y":0.25}]`}},
		},
		{
			name:      "body arguments",
			function:  "INSTAGRAM__REPLY_TO_COMMENT",
			body:      `{"path":{"ig_comment_id":"178000"},"body":{"message":"Thanks!"}}`,
			wantPath:  "/v23.0/178000/replies",
			wantQuery: url.Values{},
			wantBody:  `{"message":"Thanks!"}`,
		},
		{
			name:      "escaped id",
			function:  "INSTAGRAM__GET_MEDIA_DETAILS",
			body:      `{"path":{"ig_media_id":"../me?x=1"}}`,
			wantPath:  "/v23.0/..%2Fme%3Fx=1",
			wantQuery: url.Values{},
		},
		{
			name:      "client token stripped",
			function:  "INSTAGRAM__GET_USER_PROFILE",
			body:      `{"query":{"access_token":"` + testClientToken + `","fields":"user_id"}}`,
			wantPath:  "/v23.0/me",
			wantQuery: url.Values{"fields": {"user_id"}},
		},
		{
			name:      "empty body",
			function:  "INSTAGRAM__GET_USER_PROFILE",
			body:      "",
			wantPath:  "/v23.0/me",
			wantQuery: url.Values{},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := linkedHarness(t)
			r := request(http.MethodPost, "/functions/"+tt.function, "application/json", tt.body)
			r.Header.Set("Authorization", "Bearer "+testClientToken)

			rec := h.serve(r)

			if rec.Code != http.StatusOK {
				t.Fatalf("status = %d, want 200; body %s", rec.Code, rec.Body)
			}
			call := h.upstream.onlyCall(t)
			if call.EscapedPath != tt.wantPath {
				t.Errorf("upstream path = %q, want %q", call.EscapedPath, tt.wantPath)
			}
			query, err := url.ParseQuery(call.RawQuery)
			if err != nil {
				t.Fatalf("upstream query does not parse: %v", err)
			}
			if got, want := query.Encode(), tt.wantQuery.Encode(); got != want {
				t.Errorf("upstream query = %q, want %q", got, want)
			}
			if string(call.Body) != tt.wantBody {
				t.Errorf("upstream body = %q, want %q", call.Body, tt.wantBody)
			}
			if got := call.Header.Get("Authorization"); got != "Bearer "+testStoredToken {
				t.Error("upstream Authorization is not the stored token")
			}
			h.assertNoSecrets(t, "log", h.logs.String())
		})
	}
}

func TestFunctionCallErrors(t *testing.T) {
	tests := []struct {
		name     string
		method   string
		function string
		body     string
		status   int
		code     string
		wantText string
	}{
		{name: "unknown function", method: http.MethodPost, function: "NOPE", body: `{}`, status: http.StatusNotFound, code: gateway.CodeUnknownFunction, wantText: "NOPE"},
		{name: "GET on a function", method: http.MethodGet, function: "INSTAGRAM__GET_USER_PROFILE", status: http.StatusMethodNotAllowed, code: gateway.CodeMethodNotAllowed, wantText: "POST"},
		{name: "bad JSON", method: http.MethodPost, function: "INSTAGRAM__GET_USER_PROFILE", body: `{"query":`, status: http.StatusBadRequest, code: gateway.CodeInvalidArguments, wantText: "JSON"},
		{name: "body not an object", method: http.MethodPost, function: "INSTAGRAM__GET_USER_PROFILE", body: `[1,2]`, status: http.StatusBadRequest, code: gateway.CodeInvalidArguments, wantText: "object"},
		{name: "section not an object", method: http.MethodPost, function: "INSTAGRAM__GET_USER_PROFILE", body: `{"query":"fields=id"}`, status: http.StatusBadRequest, code: gateway.CodeInvalidArguments, wantText: "query"},
		{name: "unknown section", method: http.MethodPost, function: "INSTAGRAM__GET_USER_PROFILE", body: `{"headers":{}}`, status: http.StatusBadRequest, code: gateway.CodeInvalidArguments, wantText: "headers"},
		{name: "trailing data", method: http.MethodPost, function: "INSTAGRAM__GET_USER_PROFILE", body: `{} {}`, status: http.StatusBadRequest, code: gateway.CodeInvalidArguments, wantText: "JSON"},
		{name: "missing required", method: http.MethodPost, function: "INSTAGRAM__REPLY_TO_COMMENT", body: `{"path":{"ig_comment_id":"178000"}}`, status: http.StatusBadRequest, code: gateway.CodeInvalidArguments, wantText: "body"},
		{name: "wrong type", method: http.MethodPost, function: "INSTAGRAM__GET_USER_MEDIA", body: `{"path":{"ig_id":"me"},"query":{"limit":"ten"}}`, status: http.StatusBadRequest, code: gateway.CodeInvalidArguments, wantText: "query.limit"},
		{name: "fractional integer", method: http.MethodPost, function: "INSTAGRAM__GET_USER_MEDIA", body: `{"path":{"ig_id":"me"},"query":{"limit":10.5}}`, status: http.StatusBadRequest, code: gateway.CodeInvalidArguments, wantText: "query.limit"},
		{name: "dot dot id", method: http.MethodPost, function: "INSTAGRAM__GET_MEDIA_DETAILS", body: `{"path":{"ig_media_id":".."}}`, status: http.StatusBadRequest, code: gateway.CodeInvalidArguments, wantText: "path.ig_media_id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := linkedHarness(t)

			rec := h.serve(request(tt.method, "/functions/"+tt.function, "application/json", tt.body))

			reply := decodeError(t, rec, tt.status, tt.code)
			if !strings.Contains(reply.Error.Message, tt.wantText) {
				t.Errorf("message %q does not contain %q", reply.Error.Message, tt.wantText)
			}
			if n := len(h.upstream.recorded()); n != 0 {
				t.Errorf("upstream calls = %d, want 0", n)
			}
		})
	}
}

func TestFunctionCallRejectsLargeBody(t *testing.T) {
	h := linkedHarness(t)
	body := `{"body":{"message":"` + strings.Repeat("a", 1<<20) + `"}}`

	rec := h.serve(request(http.MethodPost, "/functions/INSTAGRAM__REPLY_TO_COMMENT", "application/json", body))

	decodeError(t, rec, http.StatusRequestEntityTooLarge, gateway.CodeRequestTooLarge)
	if n := len(h.upstream.recorded()); n != 0 {
		t.Errorf("upstream calls = %d, want 0", n)
	}
}

func TestCallRequiresOwner(t *testing.T) {
	h := linkedHarness(t)
	r := request(http.MethodGet, "/me", "", "")
	r.Header.Del(ownerHeader)

	rec := h.serve(r)

	reply := decodeError(t, rec, http.StatusBadRequest, gateway.CodeMissingOwner)
	if !strings.Contains(reply.Error.Message, ownerHeader) {
		t.Errorf("message %q does not name the %s header", reply.Error.Message, ownerHeader)
	}
	if n := len(h.upstream.recorded()); n != 0 {
		t.Errorf("upstream calls = %d, want 0", n)
	}
}

func TestCallRejectsInvalidOwner(t *testing.T) {
	h := linkedHarness(t)
	r := request(http.MethodGet, "/me", "", "")
	r.Header.Set(ownerHeader, "../other")

	rec := h.serve(r)

	decodeError(t, rec, http.StatusBadRequest, gateway.CodeInvalidAccountID)
	if n := len(h.upstream.recorded()); n != 0 {
		t.Errorf("upstream calls = %d, want 0", n)
	}
}

// Only a few standard headers reach the API: the headers that name the
// tenant and owner, and any internal header, stay with the gateway.
func TestRouteStripsAccountHeaders(t *testing.T) {
	h := linkedHarness(t)
	r := request(http.MethodGet, "/me", "", "")
	r.Header.Set(tenantHeader, "default")
	r.Header.Set("X-Internal-Api-Key", "internal-key-1")
	r.Header.Set("User-Agent", "billing-service/1.0")

	rec := h.serve(r)

	if rec.Code != http.StatusOK {
		t.Fatalf("status = %d, want 200; body %s", rec.Code, rec.Body)
	}
	call := h.upstream.onlyCall(t)
	if call.Header.Get("X-Internal-Api-Key") != "" {
		t.Error("an internal client header reached the upstream request")
	}
	if got := call.Header.Get("User-Agent"); got != "billing-service/1.0" {
		t.Errorf("upstream User-Agent = %q, want the client's", got)
	}
	if call.Header.Get(ownerHeader) != "" {
		t.Errorf("upstream request still has the %s header", ownerHeader)
	}
	if call.Header.Get(tenantHeader) != "" {
		t.Errorf("upstream request still has the %s header", tenantHeader)
	}
}

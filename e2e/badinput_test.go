package e2e

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/credgate/credgate/oauthflow"
)

// TestBadInputCausesNoUpstreamCall sends requests the gateway must reject
// and checks the documented error and that the API saw nothing.
func TestBadInputCausesNoUpstreamCall(t *testing.T) {
	s := newStack(t)
	g := s.startGateway()
	s.link(g, "dave")

	tests := []struct {
		name    string
		method  string
		path    string
		header  map[string]string
		body    string
		status  int
		code    string
		mention string
	}{
		{"unknown route", "GET", "/nothing/here/at/all", ownerHeader("dave"), "", 404, "unknown_route", "GET /nothing/here/at/all"},
		{"unknown gateway endpoint", "GET", "/oauth/token", ownerHeader("dave"), "", 404, "unknown_route", "/oauth/token"},
		{"unknown function", "POST", "/functions/INSTAGRAM__NOPE", ownerHeader("dave"), "{}", 404, "unknown_function", "INSTAGRAM__NOPE"},
		{"function by GET", "GET", "/functions/INSTAGRAM__GET_USER_PROFILE", ownerHeader("dave"), "", 405, "method_not_allowed", "POST"},
		{"missing parameter", "POST", "/me/media?caption=x", ownerHeader("dave"), "", 400, "invalid_arguments", "query.image_url is required"},
		{"missing parameter by function", "POST", "/functions/INSTAGRAM__MEDIA_CONTAINER_PUBLISH", ownerHeader("dave"), `{"query":{}}`, 400, "invalid_arguments", "query.creation_id is required"},
		{"mistyped integer", "GET", "/me/media?limit=ten", ownerHeader("dave"), "", 400, "invalid_arguments", "query.limit"},
		{"float for an integer", "GET", "/me/media?limit=10.0", ownerHeader("dave"), "", 400, "invalid_arguments", "query.limit"},
		{"mistyped boolean", "POST", "/functions/INSTAGRAM__HIDE_UNHIDE_COMMENT", ownerHeader("dave"), `{"path":{"ig_comment_id":"1"},"query":{"hide":"yes"}}`, 400, "invalid_arguments", "query.hide"},
		{"unknown parameter", "GET", "/me?feilds=id", ownerHeader("dave"), "", 400, "invalid_arguments", "query.feilds is not a parameter"},
		{"enum", "GET", "/1/insights?period=year", ownerHeader("dave"), "", 400, "invalid_arguments", "query.period"},
		{"shared template fits none", "POST", "/17858893269000001", ownerHeader("dave"), "", 400, "invalid_arguments", "INSTAGRAM__HIDE_UNHIDE_COMMENT"},
		{"dot-dot segment", "GET", "/x/../comments", ownerHeader("dave"), "", 404, "unknown_route", ""},
		{"dot-dot id by function", "POST", "/functions/INSTAGRAM__GET_MEDIA_COMMENTS", ownerHeader("dave"), `{"path":{"ig_media_id":".."}}`, 400, "invalid_arguments", "path.ig_media_id"},
		{"bad JSON body", "POST", "/functions/INSTAGRAM__GET_USER_PROFILE", ownerHeader("dave"), `{"query":`, 400, "invalid_arguments", "JSON"},
		{"no owner", "GET", "/me", nil, "", 400, "missing_owner", "X-Linked-Account-Owner"},
		{"owner with a slash", "GET", "/me", ownerHeader("a/b"), "", 400, "invalid_account_id", `"a/b"`},
		{"owner dot-dot", "GET", "/me", ownerHeader(".."), "", 400, "invalid_account_id", "owner"},
		{"owner not linked", "GET", "/me", ownerHeader("erin"), "", 404, "account_not_linked", "erin"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s.ig.ResetRequests()
			var body []byte
			if tt.body != "" {
				body = []byte(tt.body)
			}
			resp := s.do(tt.method, g.base+tt.path, tt.header, body)
			if resp.status != tt.status {
				t.Fatalf("status %d, want %d: %s", resp.status, tt.status, resp.body)
			}
			if code := resp.errorCode(t); code != tt.code {
				t.Errorf("error code = %q, want %q", code, tt.code)
			}
			if message := resp.errorField(t, "message"); !strings.Contains(message, tt.mention) {
				t.Errorf("error message %q does not mention %q", message, tt.mention)
			}
			if n := len(s.ig.Requests()); n != 0 {
				t.Errorf("the local Instagram server received %d requests, want 0", n)
			}
		})
	}

	t.Run("not linked answer carries an authorize URL", func(t *testing.T) {
		resp := s.do("GET", g.base+"/me", ownerHeader("erin"), nil)
		checkAuthorizeURL(t, s, resp.errorField(t, "authorize_url"))
	})
}

// TestPathParametersStayInOneSegment sends ids that would change the
// upstream path or query if they were not escaped.
func TestPathParametersStayInOneSegment(t *testing.T) {
	s := newStack(t)
	g := s.startGateway()
	s.link(g, "frank")

	tests := []struct {
		name     string
		path     string
		args     string
		upstream string
	}{
		{"escaped dot-dot slash", "/..%2Fme/comments", `{"path":{"ig_media_id":"../me"}}`, "/v23.0/..%2Fme/comments"},
		{"escaped slash", "/a%2Fb/comments", `{"path":{"ig_media_id":"a/b"}}`, "/v23.0/a%2Fb/comments"},
		{"escaped question mark", "/1%3Fx=2/comments", `{"path":{"ig_media_id":"1?x=2"}}`, "/v23.0/1%3Fx=2/comments"},
	}
	for _, tt := range tests {
		for _, mode := range []string{"route", "function"} {
			if mode == "route" && strings.Contains(tt.name, "dot-dot") {
				// Caddy's path matcher cleans the unescaped path, so
				// /instagram/..%2Fme/comments never reaches the handler
				continue
			}
			t.Run(tt.name+"/"+mode, func(t *testing.T) {
				s.ig.ResetRequests()
				var resp *response
				if mode == "route" {
					resp = s.do("GET", g.base+tt.path, ownerHeader("frank"), nil)
				} else {
					resp = s.do("POST", g.base+"/functions/INSTAGRAM__GET_MEDIA_COMMENTS", ownerHeader("frank"), []byte(tt.args))
				}
				calls := s.upstreamCalls()
				if len(calls) != 1 {
					t.Fatalf("upstream calls = %d, want 1 (status %d: %s)", len(calls), resp.status, resp.body)
				}
				if calls[0].Path != tt.upstream {
					t.Errorf("upstream path = %s, want %s", calls[0].Path, tt.upstream)
				}
				if calls[0].RawQuery != "" {
					t.Errorf("upstream query = %q, want none", calls[0].RawQuery)
				}
			})
		}
	}

	t.Run("client access_token parameter is dropped", func(t *testing.T) {
		s.ig.ResetRequests()
		resp := s.do("GET", g.base+"/me?access_token=client-own-token&fields=username", ownerHeader("frank"), nil)
		if resp.status != http.StatusOK {
			t.Fatalf("status %d: %s", resp.status, resp.body)
		}
		calls := s.upstreamCalls()
		if len(calls) != 1 || strings.Contains(calls[0].RawQuery, "access_token") {
			t.Errorf("upstream query = %q, want no access_token", calls[0].RawQuery)
		}
	})
}

// TestLinkingGuards covers the callback's checks: replayed, forged and
// expired state, a declined consent, return_to and the #_ code suffix.
func TestLinkingGuards(t *testing.T) {
	s := newStack(t)
	first := s.startGateway()
	second := s.startGateway()

	t.Run("state works once across instances", func(t *testing.T) {
		callback := s.consent(s.authorize(first, "gina", ""))
		if resp := s.do("GET", callback, nil, nil); resp.status != http.StatusOK {
			t.Fatalf("first callback: status %d: %s", resp.status, resp.body)
		}
		versionBefore := s.readAccount("gina")["linked_at"]

		for _, g := range []*gatewayInstance{first, second} {
			resp := s.do("GET", strings.Replace(callback, first.base, g.base, 1), nil, nil)
			if resp.status != http.StatusBadRequest {
				t.Errorf("replayed callback: status %d, want 400", resp.status)
			}
			if !strings.Contains(string(resp.body), "already used") {
				t.Errorf("replayed callback page does not say the request was already used: %s", resp.body)
			}
		}
		if s.readAccount("gina")["linked_at"] != versionBefore {
			t.Errorf("a replayed callback changed the stored account")
		}
	})

	t.Run("forged state", func(t *testing.T) {
		forger, err := oauthflow.NewStateSigner([]byte("another-key-of-at-least-32-bytes-long!!"), 0)
		if err != nil {
			t.Fatal(err)
		}
		state, _, _ := forger.Issue("instagram", "default", "henry", "")
		resp := s.do("GET", first.base+"/oauth/callback?code=AQxyz123456&state="+url.QueryEscape(state), nil, nil)
		if resp.status != http.StatusBadRequest || !strings.Contains(string(resp.body), "invalid") {
			t.Errorf("forged state: status %d, want 400 with an invalid-request page: %s", resp.status, resp.body)
		}
		checkNotStored(t, s, "henry")
	})

	t.Run("expired state", func(t *testing.T) {
		signer, err := oauthflow.NewStateSigner([]byte(stateKey), 0)
		if err != nil {
			t.Fatal(err)
		}
		signer.Now = func() time.Time { return time.Now().Add(-20 * time.Minute) }
		state, _, _ := signer.Issue("instagram", "default", "ivan", "")
		resp := s.do("GET", first.base+"/oauth/callback?code=AQxyz123456&state="+url.QueryEscape(state), nil, nil)
		if resp.status != http.StatusBadRequest || !strings.Contains(string(resp.body), "expired") {
			t.Errorf("expired state: status %d, want 400 with an expired page: %s", resp.status, resp.body)
		}
		checkNotStored(t, s, "ivan")
	})

	t.Run("consent declined", func(t *testing.T) {
		authURL := s.authorize(first, "judy", "")
		state := queryOf(t, authURL).Get("state")
		resp := s.do("GET", first.base+"/oauth/callback?error=access_denied&error_reason=user_denied&error_description=Permissions+error&state="+url.QueryEscape(state), nil, nil)
		if resp.status != http.StatusForbidden || !strings.Contains(string(resp.body), "declined") {
			t.Errorf("declined consent: status %d, want 403 with a declined page: %s", resp.status, resp.body)
		}
		checkNotStored(t, s, "judy")
	})

	t.Run("return_to outside the allowed prefixes", func(t *testing.T) {
		for _, target := range []string{"https://evil.test/", "https://app.example.test.evil.test/done", "https://app.example.test/donezo"} {
			resp := s.do("GET", first.base+"/oauth/authorize?owner=kim&return_to="+url.QueryEscape(target), map[string]string{"Accept": "application/json"}, nil)
			if resp.status != http.StatusBadRequest || resp.errorCode(t) != "return_to_not_allowed" {
				t.Errorf("return_to %s: status %d, want 400 return_to_not_allowed: %s", target, resp.status, resp.body)
			}
		}
	})

	t.Run("allowed return_to gets the redirect", func(t *testing.T) {
		target := returnPrefix + "/linked?tab=accounts"
		callback := s.consent(s.authorize(first, "kim", target))
		resp := s.do("GET", callback, nil, nil)
		if resp.status != http.StatusFound || resp.header.Get("Location") != target {
			t.Errorf("callback: status %d, Location %q, want 302 to %s", resp.status, resp.header.Get("Location"), target)
		}
		s.recordStoredToken("kim")
	})

	t.Run("code with the #_ suffix", func(t *testing.T) {
		callback := s.consent(s.authorize(first, "leo", ""))
		u, err := url.Parse(callback)
		if err != nil {
			t.Fatal(err)
		}
		query := u.Query()
		query.Set("code", query.Get("code")+"#_")
		u.RawQuery = query.Encode()
		u.Fragment = ""
		resp := s.do("GET", u.String(), nil, nil)
		if resp.status != http.StatusOK {
			t.Fatalf("callback with code#_: status %d: %s", resp.status, resp.body)
		}
		s.recordStoredToken("leo")
	})

	t.Run("authorize redirects a browser", func(t *testing.T) {
		resp := s.do("GET", first.base+"/oauth/authorize?owner=mia", nil, nil)
		if resp.status != http.StatusFound {
			t.Fatalf("status %d, want 302: %s", resp.status, resp.body)
		}
		checkAuthorizeURL(t, s, resp.header.Get("Location"))
	})

	if n := len(s.upstreamCalls()) - countIdentityCalls(s); n != 0 {
		t.Errorf("linking made %d API calls besides /me", n)
	}
}

func countIdentityCalls(s *stack) int {
	n := 0
	for _, r := range s.upstreamCalls() {
		if strings.HasSuffix(r.Path, "/me") {
			n++
		}
	}
	return n
}

func checkNotStored(t *testing.T, s *stack, owner string) {
	t.Helper()
	secret, err := s.vault.KVv2("secret").Get(t.Context(), secretPath(owner))
	if err == nil && secret != nil {
		t.Errorf("an account was stored for %s", owner)
	}
}

func queryOf(t *testing.T, rawURL string) url.Values {
	t.Helper()
	u, err := url.Parse(rawURL)
	if err != nil {
		t.Fatal(err)
	}
	return u.Query()
}

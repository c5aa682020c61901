package igserver

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestGraphVersions(t *testing.T) {
	tests := []struct {
		path   string
		wantOK bool
	}{
		{"/v21.0/me", true},
		{"/v22.0/me", true},
		{"/v23.0/me", true},
		{"/v24.0/me", true},
		{"/v25.0/me", true},
		{"/v20.0/me", false},
		{"/v26.0/me", false},
		{"/v23/me", false},
		{"/me", false},
		{"/", false},
	}

	f := newFixture(t, Options{})
	token := f.longToken()
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			rec := f.graph(http.MethodGet, tt.path, token, "")

			if tt.wantOK {
				if rec.Code != http.StatusOK {
					t.Errorf("status = %d, want 200; body %s", rec.Code, rec.Body)
				}
				return
			}
			e := graphErrorOf(t, rec)
			if e.Code != 100 || !strings.Contains(e.Message, "Unsupported API version") {
				t.Errorf("error = %+v, want code 100 Unsupported API version", e)
			}
		})
	}
}

func TestGraphTokenSources(t *testing.T) {
	tests := []struct {
		name    string
		request func(f *fixture, token string) *http.Request
	}{
		{"bearer header", func(_ *fixture, token string) *http.Request {
			r, _ := http.NewRequest(http.MethodGet, "/v23.0/me", nil)
			r.Header.Set("Authorization", "Bearer "+token)
			return r
		}},
		{"lowercase bearer", func(_ *fixture, token string) *http.Request {
			r, _ := http.NewRequest(http.MethodGet, "/v23.0/me", nil)
			r.Header.Set("Authorization", "bearer "+token)
			return r
		}},
		{"query parameter", func(_ *fixture, token string) *http.Request {
			r, _ := http.NewRequest(http.MethodGet, "/v23.0/me?access_token="+url.QueryEscape(token), nil)
			return r
		}},
		{"form body", func(_ *fixture, token string) *http.Request {
			r, _ := http.NewRequest(http.MethodPost, "/v23.0/me/media", strings.NewReader(
				url.Values{"access_token": {token}, "image_url": {"https://img.invalid/a.jpg"}}.Encode()))
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			return r
		}},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, Options{})
			token := f.longToken()
			rec := newRecorder()

			f.srv.ServeHTTP(rec, tt.request(f, token))

			if rec.Code != http.StatusOK {
				t.Errorf("status = %d, want 200; body %s", rec.Code, rec.Body)
			}
		})
	}
}

func TestGraphTokenErrors(t *testing.T) {
	tests := []struct {
		name        string
		token       func(f *fixture) string
		wantSubcode int
	}{
		{"missing", func(*fixture) string { return "" }, 0},
		{"unknown", func(*fixture) string { return "IGAAnot-issued-by-this-server-000000000000" }, 0},
		{"revoked", func(f *fixture) string {
			token := f.longToken()
			if err := f.srv.RevokeToken(token); err != nil {
				f.t.Fatal(err)
			}
			return token
		}, 460},
		{"expired", func(f *fixture) string {
			token := f.longToken()
			f.clock.Advance(61 * 24 * time.Hour)
			return token
		}, 463},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, Options{})
			token := tt.token(f)

			var rec = f.do(http.MethodGet, "/v23.0/me?fields=user_id", "")
			if token != "" {
				rec = f.graph(http.MethodGet, "/v23.0/me?fields=user_id", token, "")
			}

			e := graphErrorOf(t, rec)
			if e.Code != 190 || e.Type != "OAuthException" || subcodeOf(e) != tt.wantSubcode {
				t.Errorf("error = %+v subcode %d, want OAuthException 190 subcode %d", e, subcodeOf(e), tt.wantSubcode)
			}
			if !strings.Contains(rec.Body.String(), `"error_subcode":`) {
				t.Errorf("body has no error_subcode: %s", rec.Body)
			}
			if rec.Header().Get("WWW-Authenticate") == "" {
				t.Error("no WWW-Authenticate header on a token error")
			}
			if token != "" && strings.Contains(rec.Body.String(), token) {
				t.Errorf("error reply contains the token: %s", rec.Body)
			}
		})
	}
}

func TestGraphUsageHeaders(t *testing.T) {
	f := newFixture(t, Options{})
	token := f.longToken()

	var previous int
	for i, rec := range []*responseRecorder{
		f.graph(http.MethodGet, "/v23.0/me", token, ""),
		f.graph(http.MethodGet, "/v23.0/me", "IGAAbad", ""),
		f.graph(http.MethodGet, "/v23.0/nothing/here/at/all", token, ""),
	} {
		var app appUsage
		if err := json.Unmarshal([]byte(rec.Header().Get("X-App-Usage")), &app); err != nil {
			t.Fatalf("call %d: X-App-Usage %q: %v", i, rec.Header().Get("X-App-Usage"), err)
		}
		if app.CallCount <= previous {
			t.Errorf("call %d: call_count = %d, want more than %d", i, app.CallCount, previous)
		}
		previous = app.CallCount

		var business map[string][]businessUsage
		if err := json.Unmarshal([]byte(rec.Header().Get("X-Business-Use-Case-Usage")), &business); err != nil {
			t.Fatalf("call %d: X-Business-Use-Case-Usage %q: %v", i, rec.Header().Get("X-Business-Use-Case-Usage"), err)
		}
		entries := business["27640875392278831"]
		if len(entries) != 1 || entries[0].Type != "instagram" || entries[0].CallCount != app.CallCount {
			t.Errorf("call %d: business usage = %+v", i, business)
		}
	}
}

func TestGraphUsageStaysBelowLimit(t *testing.T) {
	f := newFixture(t, Options{})
	token := f.longToken()

	var rec *responseRecorder
	for range 120 {
		rec = f.graph(http.MethodGet, "/v23.0/me", token, "")
	}

	var app appUsage
	if err := json.Unmarshal([]byte(rec.Header().Get("X-App-Usage")), &app); err != nil {
		t.Fatal(err)
	}
	if app.CallCount > maxUsagePercent || app.TotalCPUTime > maxUsagePercent || app.TotalTime > maxUsagePercent {
		t.Errorf("usage = %+v, want each at most %d", app, maxUsagePercent)
	}
}

func TestGraphMe(t *testing.T) {
	tests := []struct {
		query string
		want  string
	}{
		{"?fields=user_id,username", `{"id":"9876543210123456","user_id":"27640875392278831","username":"credgate_demo"}`},
		{"?fields=username", `{"id":"9876543210123456","username":"credgate_demo"}`},
		{"", `{"id":"9876543210123456"}`},
		{"?fields=account_type,media_count", `{"account_type":"BUSINESS","id":"9876543210123456","media_count":3}`},
	}

	f := newFixture(t, Options{})
	token := f.longToken()
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			rec := f.graph(http.MethodGet, "/v23.0/me"+tt.query, token, "")

			if rec.Code != http.StatusOK {
				t.Fatalf("status = %d; body %s", rec.Code, rec.Body)
			}
			if got := rec.Body.String(); got != tt.want {
				t.Errorf("body = %s, want %s", got, tt.want)
			}
			if got := f.lastRequest().Function; got != fnGetUserProfile {
				t.Errorf("Function = %q, want %q", got, fnGetUserProfile)
			}
		})
	}
}

func TestGraphMeUnknownField(t *testing.T) {
	f := newFixture(t, Options{})

	e := graphErrorOf(t, f.graph(http.MethodGet, "/v23.0/me?fields=user_id,email", f.longToken(), ""))

	if e.Code != 100 || !strings.Contains(e.Message, "(email)") {
		t.Errorf("error = %+v, want code 100 naming email", e)
	}
}

func TestGraphRecordsRequests(t *testing.T) {
	f := newFixture(t, Options{})
	token := f.longToken()
	f.srv.ResetRequests()

	f.graph(http.MethodPost, "/v23.0/17850000000000001/replies?x=1", token, "message=hi")

	requests := f.srv.Requests()
	if len(requests) != 1 {
		t.Fatalf("recorded %d requests, want 1", len(requests))
	}
	got := requests[0]
	want := Request{
		Time:          f.clock.Now(),
		Method:        http.MethodPost,
		Path:          "/v23.0/17850000000000001/replies",
		RawQuery:      "x=1",
		Body:          "message=hi",
		ContentType:   "application/x-www-form-urlencoded",
		Authorization: "Bearer " + token,
		Endpoint:      "graph_api",
		Function:      fnReplyToComment,
	}
	if got != want {
		t.Errorf("recorded %+v\nwant %+v", got, want)
	}

	f.srv.ResetRequests()
	if n := len(f.srv.Requests()); n != 0 {
		t.Errorf("after ResetRequests: %d requests", n)
	}
}

func TestRequestEndpoints(t *testing.T) {
	f := newFixture(t, Options{})
	long := f.longToken()
	f.clock.Advance(25 * time.Hour)
	f.refresh(long)
	f.graph(http.MethodGet, "/v23.0/me", long, "")
	f.do(http.MethodGet, "/__igserver/account", "")

	var got []string
	for _, r := range f.srv.Requests() {
		got = append(got, r.Endpoint)
	}
	want := "authorize,code_exchange,long_lived_exchange,refresh,graph_api"
	if strings.Join(got, ",") != want {
		t.Errorf("endpoints = %v, want %s (admin calls not recorded)", got, want)
	}
}

func TestGraphEscapedSlashInID(t *testing.T) {
	f := newFixture(t, Options{})
	token := f.longToken()
	messageID := fixtureMessageIDs[1] // contains a slash
	escaped := url.PathEscape(messageID)

	rec := f.graph(http.MethodGet, "/v23.0/"+escaped+"?fields=message,from", token, "")

	if rec.Code != http.StatusOK {
		t.Fatalf("status = %d; body %s", rec.Code, rec.Body)
	}
	var reply map[string]any
	decodeJSON(t, rec, &reply)
	if reply["id"] != messageID {
		t.Errorf("id = %v, want %q", reply["id"], messageID)
	}
	recorded := f.lastRequest()
	if recorded.Path != "/v23.0/"+escaped || !strings.Contains(recorded.Path, "%2F") {
		t.Errorf("recorded path = %q, want it with %%2F kept", recorded.Path)
	}
	if recorded.Function != fnGetMessageInfo {
		t.Errorf("Function = %q, want %q", recorded.Function, fnGetMessageInfo)
	}

	// unescaped, the slash splits the id into two segments
	e := graphErrorOf(t, f.graph(http.MethodGet, "/v23.0/"+messageID+"?fields=message", token, ""))
	if e.Code != 100 {
		t.Errorf("unescaped id: code %d, want 100", e.Code)
	}
}

func TestGraphRejectsBracketParams(t *testing.T) {
	f := newFixture(t, Options{})
	query := url.Values{"image_url": {"https://img.invalid/a.jpg"}, "user_tags[0][username]": {"someone"}}

	e := graphErrorOf(t, f.graph(http.MethodPost, "/v23.0/me/media?"+query.Encode(), f.longToken(), ""))

	if e.Code != 100 || !strings.Contains(e.Message, "user_tags[0][username]") {
		t.Errorf("error = %+v, want code 100 naming the param", e)
	}
}

func TestGraphConcurrentCalls(t *testing.T) {
	f := newFixture(t, Options{})
	token := f.longToken()
	f.srv.ResetRequests()

	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			req := newRequest(http.MethodPost, "/v23.0/me/media?image_url=https%3A%2F%2Fimg.invalid%2Fa.jpg", token)
			rec := newRecorder()
			f.srv.ServeHTTP(rec, req)
			if rec.Code != http.StatusOK {
				t.Errorf("status = %d; body %s", rec.Code, rec.Body)
			}
		})
	}
	wg.Wait()

	if n := len(f.srv.Requests()); n != 20 {
		t.Errorf("recorded %d requests, want 20", n)
	}
	if len(f.srv.containers) != 20 {
		t.Errorf("created %d containers, want 20", len(f.srv.containers))
	}
}

func TestGraphAccountIDReadsAccount(t *testing.T) {
	f := newFixture(t, Options{})
	token := f.longToken()

	for _, id := range []string{"27640875392278831", "9876543210123456"} {
		rec := f.graph(http.MethodGet, "/v23.0/"+id+"?fields=user_id,username", token, "")

		want := `{"id":"9876543210123456","user_id":"27640875392278831","username":"credgate_demo"}`
		if got := rec.Body.String(); got != want {
			t.Errorf("GET /%s = %s, want %s", id, got, want)
		}
		if got := f.lastRequest().Function; got != fnGenericGet {
			t.Errorf("GET /%s: Function = %q, want %q", id, got, fnGenericGet)
		}
	}
}

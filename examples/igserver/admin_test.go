package igserver

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"
)

// httpFixture runs a Server on a loopback listener, as the gateway's
// end-to-end test does with the binary.
type httpFixture struct {
	t      *testing.T
	srv    *Server
	base   string
	client *http.Client
}

func newHTTPFixture(t *testing.T, opts Options) *httpFixture {
	t.Helper()

	opts.ClientID = testClientID
	opts.ClientSecret = testClientSecret
	srv := New(opts)
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)

	client := ts.Client()
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &httpFixture{t: t, srv: srv, base: ts.URL, client: client}
}

// call sends a request and returns the status and body.
func (f *httpFixture) call(method, path, contentType, body string) (int, string) {
	f.t.Helper()
	status, reply, _ := f.callWithHeader(method, path, contentType, body)
	return status, reply
}

// callWithHeader sends a request without following redirects and returns
// the status, body and header.
func (f *httpFixture) callWithHeader(method, path, contentType, body string) (int, string, http.Header) {
	f.t.Helper()

	req, err := http.NewRequest(method, f.base+path, strings.NewReader(body))
	if err != nil {
		f.t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := f.client.Do(req)
	if err != nil {
		f.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()

	data, err := io.ReadAll(resp.Body)
	if err != nil {
		f.t.Fatal(err)
	}
	return resp.StatusCode, string(data), resp.Header
}

func TestAdminLoginOverHTTP(t *testing.T) {
	f := newHTTPFixture(t, Options{})

	// turn on auto-approve and the data shape through the control
	status, body := f.call(http.MethodPost, "/__igserver/config", "application/json", `{"token_shape":"data","auto_approve":true}`)
	if status != http.StatusOK || body != `{"auto_approve":true,"token_shape":"data"}` {
		t.Fatalf("config: status %d, body %s", status, body)
	}

	// log in
	status, _, header := f.callWithHeader(http.MethodGet, "/oauth/authorize?"+authorizeQuery(allScopes).Encode(), "", "")
	if status != http.StatusFound {
		t.Fatalf("authorize: status %d", status)
	}
	redirect, err := url.Parse(header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	status, body = f.call(http.MethodPost, "/oauth/access_token", "application/x-www-form-urlencoded",
		exchangeForm(redirect.Query().Get("code")).Encode())
	if status != http.StatusOK || !strings.HasPrefix(body, `{"data":[{"access_token":"IGAA`) {
		t.Fatalf("code exchange: status %d, body %s", status, body)
	}

	// the request log shows both calls
	status, body = f.call(http.MethodGet, "/__igserver/requests", "", "")
	var requests []Request
	if err := json.Unmarshal([]byte(body), &requests); err != nil || status != http.StatusOK {
		t.Fatalf("requests: status %d, body %s, error %v", status, body, err)
	}
	if len(requests) != 2 || requests[0].Endpoint != "authorize" || requests[1].Endpoint != "code_exchange" {
		t.Errorf("requests = %+v, want authorize then code_exchange", requests)
	}
	if !strings.Contains(body, `"raw_query":`) || !strings.Contains(body, `"content_type":"application/x-www-form-urlencoded"`) {
		t.Errorf("requests JSON lacks the documented keys: %s", body)
	}

	// clearing the log
	if status, _ := f.call(http.MethodDelete, "/__igserver/requests", "", ""); status != http.StatusNoContent {
		t.Errorf("clear requests: status %d, want 204", status)
	}
	if _, body := f.call(http.MethodGet, "/__igserver/requests", "", ""); body != "[]" {
		t.Errorf("requests after clearing = %s, want []", body)
	}
}

func TestAdminTokens(t *testing.T) {
	f := newHTTPFixture(t, Options{AutoApprove: true})
	clock := &fakeClock{now: time.Now()}
	fx := &fixture{t: t, srv: f.srv, clock: clock}
	long := fx.longToken()
	now := time.Now().UTC()

	// backdate so the token can be refreshed
	setBody, _ := json.Marshal(map[string]string{
		"access_token": long,
		"issued_at":    now.Add(-48 * time.Hour).Format(time.RFC3339),
		"expires_at":   now.Add(10 * 24 * time.Hour).Format(time.RFC3339),
	})
	if status, body := f.call(http.MethodPost, "/__igserver/tokens", "application/json", string(setBody)); status != http.StatusNoContent {
		t.Fatalf("set token: status %d, body %s", status, body)
	}
	query := url.Values{"grant_type": {"ig_refresh_token"}, "access_token": {long}}
	if status, body := f.call(http.MethodGet, "/refresh_access_token?"+query.Encode(), "", ""); status != http.StatusOK {
		t.Errorf("refresh after backdating: status %d, body %s", status, body)
	}

	// revoke it
	revokeBody, _ := json.Marshal(map[string]string{"access_token": long})
	if status, body := f.call(http.MethodPost, "/__igserver/revoke", "application/json", string(revokeBody)); status != http.StatusNoContent {
		t.Fatalf("revoke: status %d, body %s", status, body)
	}
	status, body := f.call(http.MethodGet, "/v23.0/me?access_token="+url.QueryEscape(long), "", "")
	if status != http.StatusBadRequest || !strings.Contains(body, `"error_subcode":460`) {
		t.Errorf("revoked token: status %d, body %s, want subcode 460", status, body)
	}
}

func TestAdminErrors(t *testing.T) {
	tests := []struct {
		name       string
		method     string
		path       string
		body       string
		wantStatus int
	}{
		{"unknown token", http.MethodPost, "/__igserver/tokens", `{"access_token":"IGAAx","issued_at":"2026-01-01T00:00:00Z","expires_at":"2026-02-01T00:00:00Z"}`, http.StatusNotFound},
		{"missing times", http.MethodPost, "/__igserver/tokens", `{"access_token":"IGAAx"}`, http.StatusBadRequest},
		{"bad time", http.MethodPost, "/__igserver/tokens", `{"access_token":"IGAAx","issued_at":"yesterday","expires_at":"2026-02-01T00:00:00Z"}`, http.StatusBadRequest},
		{"revoke unknown", http.MethodPost, "/__igserver/revoke", `{"access_token":"IGAAx"}`, http.StatusNotFound},
		{"revoke empty", http.MethodPost, "/__igserver/revoke", `{}`, http.StatusBadRequest},
		{"bad shape", http.MethodPost, "/__igserver/config", `{"token_shape":"nested"}`, http.StatusBadRequest},
		{"misspelt setting", http.MethodPost, "/__igserver/config", `{"autoapprove":true}`, http.StatusBadRequest},
		{"get config", http.MethodGet, "/__igserver/config", "", http.StatusMethodNotAllowed},
		{"post account", http.MethodPost, "/__igserver/account", "{}", http.StatusMethodNotAllowed},
		{"unknown control", http.MethodGet, "/__igserver/nothing", "", http.StatusNotFound},
	}

	f := newHTTPFixture(t, Options{})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, body := f.call(tt.method, tt.path, "application/json", tt.body)

			if status != tt.wantStatus {
				t.Errorf("status = %d, want %d; body %s", status, tt.wantStatus, body)
			}
			var reply map[string]string
			if err := json.Unmarshal([]byte(body), &reply); err != nil || reply["error"] == "" {
				t.Errorf("body = %s, want a JSON error", body)
			}
		})
	}
}

func TestAdminAccount(t *testing.T) {
	f := newHTTPFixture(t, Options{})

	status, body := f.call(http.MethodGet, "/__igserver/account", "", "")

	want := `{"user_id":"27640875392278831","app_scoped_id":"9876543210123456","username":"credgate_demo"}`
	if status != http.StatusOK || body != want {
		t.Errorf("account: status %d, body %s, want %s", status, body, want)
	}
	if got := f.srv.Account(); got.UserID != "27640875392278831" || got.AppScopedID != "9876543210123456" || got.Username != "credgate_demo" {
		t.Errorf("Account() = %+v", got)
	}
}

func TestSetTokenShape(t *testing.T) {
	f := newFixture(t, Options{})

	if err := f.srv.SetTokenShape("nested"); err == nil {
		t.Error("SetTokenShape(nested): no error")
	}
	if err := f.srv.SetTokenShape(TokenShapeData); err != nil {
		t.Fatalf("SetTokenShape(data): %v", err)
	}
	rec := f.do(http.MethodPost, "/oauth/access_token", exchangeForm(f.code("instagram_business_basic")).Encode())
	if !strings.HasPrefix(rec.Body.String(), `{"data":[`) {
		t.Errorf("reply after switching to data = %s", rec.Body)
	}
}

func TestNewPanicsOnInvalidOptions(t *testing.T) {
	tests := []struct {
		name string
		opts Options
	}{
		{"no client id", Options{ClientSecret: "s"}},
		{"no client secret", Options{ClientID: "c"}},
		{"bad shape", Options{ClientID: "c", ClientSecret: "s", TokenShape: "nested"}},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Error("New did not panic")
				}
			}()
			New(tt.opts)
		})
	}
}

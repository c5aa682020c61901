package igserver

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

const (
	testClientID     = "test-client-id"
	testClientSecret = "test-client-secret"
	testRedirectURI  = "http://127.0.0.1:8080/callback"
	allScopes        = "instagram_business_basic,instagram_business_content_publish," +
		"instagram_business_manage_messages,instagram_business_manage_comments,instagram_business_manage_insights"
)

// fakeClock is a settable clock for Options.Now.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// fixture is a Server with a fake clock, called through ServeHTTP.
type fixture struct {
	t     *testing.T
	srv   *Server
	clock *fakeClock
}

func newFixture(t *testing.T, opts Options) *fixture {
	t.Helper()

	clock := &fakeClock{now: time.Date(2026, time.March, 1, 12, 0, 0, 0, time.UTC)}
	if opts.ClientID == "" {
		opts.ClientID = testClientID
	}
	if opts.ClientSecret == "" {
		opts.ClientSecret = testClientSecret
	}
	opts.Now = clock.Now

	return &fixture{t: t, srv: New(opts), clock: clock}
}

// do sends a request. headers are name, value pairs. A body without a
// Content-Type header is sent as a form.
func (f *fixture) do(method, target, body string, headers ...string) *httptest.ResponseRecorder {
	f.t.Helper()

	req := httptest.NewRequest(method, target, strings.NewReader(body))
	if body != "" {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}

	rec := httptest.NewRecorder()
	f.srv.ServeHTTP(rec, req)
	return rec
}

// graph sends a Graph API call with the token in the Authorization header.
func (f *fixture) graph(method, target, token string, body string, headers ...string) *httptest.ResponseRecorder {
	f.t.Helper()
	return f.do(method, target, body, append([]string{"Authorization", "Bearer " + token}, headers...)...)
}

func authorizeQuery(scope string) url.Values {
	return url.Values{
		"client_id":     {testClientID},
		"redirect_uri":  {testRedirectURI},
		"response_type": {"code"},
		"scope":         {scope},
		"state":         {"state-123"},
	}
}

// code approves a login for scope and returns the code from the redirect,
// without the "#_" fragment.
func (f *fixture) code(scope string) string {
	f.t.Helper()

	form := authorizeQuery(scope)
	form.Set("decision", "approve")
	rec := f.do(http.MethodPost, "/oauth/authorize", form.Encode())
	if rec.Code != http.StatusFound {
		f.t.Fatalf("approve: status %d, body %s", rec.Code, rec.Body)
	}

	location, err := url.Parse(rec.Header().Get("Location"))
	if err != nil {
		f.t.Fatalf("approve: invalid Location: %v", err)
	}
	return location.Query().Get("code")
}

func exchangeForm(code string) url.Values {
	return url.Values{
		"client_id":     {testClientID},
		"client_secret": {testClientSecret},
		"grant_type":    {"authorization_code"},
		"redirect_uri":  {testRedirectURI},
		"code":          {code},
	}
}

// shortToken logs in with scope and returns the short-lived token.
func (f *fixture) shortToken(scope string) string {
	f.t.Helper()

	rec := f.do(http.MethodPost, "/oauth/access_token", exchangeForm(f.code(scope)).Encode())
	if rec.Code != http.StatusOK {
		f.t.Fatalf("code exchange: status %d, body %s", rec.Code, rec.Body)
	}
	var reply struct {
		AccessToken string `json:"access_token"`
	}
	decodeJSON(f.t, rec, &reply)
	return reply.AccessToken
}

// longToken logs in with every scope and returns a long-lived token.
func (f *fixture) longToken() string {
	f.t.Helper()

	rec := f.exchange(f.shortToken(allScopes))
	if rec.Code != http.StatusOK {
		f.t.Fatalf("long-lived exchange: status %d, body %s", rec.Code, rec.Body)
	}
	var reply longLivedReply
	decodeJSON(f.t, rec, &reply)
	return reply.AccessToken
}

func (f *fixture) exchange(short string) *httptest.ResponseRecorder {
	f.t.Helper()
	query := url.Values{"grant_type": {"ig_exchange_token"}, "client_secret": {testClientSecret}, "access_token": {short}}
	return f.do(http.MethodGet, "/access_token?"+query.Encode(), "")
}

func (f *fixture) refresh(long string) *httptest.ResponseRecorder {
	f.t.Helper()
	query := url.Values{"grant_type": {"ig_refresh_token"}, "access_token": {long}}
	return f.do(http.MethodGet, "/refresh_access_token?"+query.Encode(), "")
}

func decodeJSON(t *testing.T, rec *httptest.ResponseRecorder, v any) {
	t.Helper()
	if err := json.Unmarshal(rec.Body.Bytes(), v); err != nil {
		t.Fatalf("decode reply %q: %v", rec.Body.String(), err)
	}
}

// graphErrorOf decodes a Graph API error envelope and checks its status.
func graphErrorOf(t *testing.T, rec *httptest.ResponseRecorder) graphErrorBody {
	t.Helper()

	if rec.Code != http.StatusBadRequest {
		t.Fatalf("status = %d, want 400; body %s", rec.Code, rec.Body)
	}
	var envelope struct {
		Error *graphErrorBody `json:"error"`
	}
	decodeJSON(t, rec, &envelope)
	if envelope.Error == nil {
		t.Fatalf("reply has no error envelope: %s", rec.Body)
	}
	if envelope.Error.FBTraceID == "" {
		t.Errorf("error has no fbtrace_id: %s", rec.Body)
	}
	return *envelope.Error
}

func subcodeOf(e graphErrorBody) int {
	if e.ErrorSubcode == nil {
		return -1
	}
	return *e.ErrorSubcode
}

// lastRequest returns the most recent recorded request.
func (f *fixture) lastRequest() Request {
	f.t.Helper()
	requests := f.srv.Requests()
	if len(requests) == 0 {
		f.t.Fatal("no request recorded")
	}
	return requests[len(requests)-1]
}

type responseRecorder = httptest.ResponseRecorder

func newRecorder() *httptest.ResponseRecorder {
	return httptest.NewRecorder()
}

// newRequest returns a Graph API request with the token as a Bearer header.
func newRequest(method, target, token string) *http.Request {
	req := httptest.NewRequest(method, target, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	return req
}

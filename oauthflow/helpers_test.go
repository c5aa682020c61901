package oauthflow

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

// Values the tests look for in error text, which must never contain them.
const (
	testClientID     = "1234567890"
	testClientSecret = "client-secret-5f2c9e"
	testRedirectURL  = "https://gateway.example/oauth/callback"
	testCode         = "auth-code-91ab47"
	testShortToken   = "IGAAshort-token-3d8f"
	testLongToken    = "IGAAlong-token-7c1e"
	testState        = "state-value-0b6a"
)

// capturedRequest is what the fake provider received.
type capturedRequest struct {
	Method   string
	Path     string
	Query    url.Values
	PostForm url.Values
	Header   http.Header
}

// fakeProvider is a loopback HTTP server that records requests and replies
// with a handler chosen by the test.
type fakeProvider struct {
	*httptest.Server

	mu       sync.Mutex
	requests []capturedRequest
}

// newFakeProvider starts a loopback server that replies to every request with
// reply and closes it when the test ends.
func newFakeProvider(t *testing.T, reply http.HandlerFunc) *fakeProvider {
	t.Helper()

	fake := &fakeProvider{}
	fake.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil {
			t.Errorf("fake provider: parsing form: %v", err)
		}

		fake.mu.Lock()
		fake.requests = append(fake.requests, capturedRequest{
			Method:   r.Method,
			Path:     r.URL.Path,
			Query:    r.URL.Query(),
			PostForm: r.PostForm,
			Header:   r.Header.Clone(),
		})
		fake.mu.Unlock()

		reply(w, r)
	}))
	t.Cleanup(fake.Close)
	return fake
}

// jsonReply returns a handler that writes body with status.
func jsonReply(status int, body string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
	}
}

// lastRequest returns the latest recorded request and fails the test when
// there is none.
func (f *fakeProvider) lastRequest(t *testing.T) capturedRequest {
	t.Helper()

	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.requests) == 0 {
		t.Fatal("fake provider received no request")
	}
	return f.requests[len(f.requests)-1]
}

func (f *fakeProvider) requestCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.requests)
}

// instagramProvider returns a Provider with Instagram's data, pointed at
// baseURL for the token URL and the API host.
func instagramProvider(baseURL string) *Provider {
	return &Provider{
		Name:           "instagram",
		ClientID:       testClientID,
		ClientSecret:   testClientSecret,
		RedirectURL:    testRedirectURL,
		Scopes:         []string{"instagram_business_basic", "instagram_business_content_publish"},
		ScopeSeparator: ",",
		AuthorizeURL:   "https://www.instagram.com/oauth/authorize",
		TokenURL:       baseURL + "/oauth/access_token",
		APIBaseURL:     baseURL,
		APIVersion:     "v23.0",
		CodeSuffix:     "#_",
		LongLivedExchange: &TokenRequest{
			Method: "GET",
			Path:   "/access_token",
			Query: map[string]string{
				"grant_type":    "ig_exchange_token",
				"client_secret": "{client_secret}",
				"access_token":  "{access_token}",
			},
		},
		Refresh: &TokenRequest{
			Method: "GET",
			Path:   "/refresh_access_token",
			Query: map[string]string{
				"grant_type":   "ig_refresh_token",
				"access_token": "{access_token}",
			},
		},
		Identity: &IdentityRequest{
			Path:          "/me",
			Query:         map[string]string{"fields": "user_id,username"},
			UserIDField:   "user_id",
			UsernameField: "username",
		},
	}
}

// steppingClock returns a clock that starts at start and advances by step
// on every call, so a test can tell the request start from the reply time.
func steppingClock(start time.Time, step time.Duration) func() time.Time {
	var mu sync.Mutex
	next := start
	return func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		current := next
		next = next.Add(step)
		return current
	}
}

// assertNoSecrets fails the test when text contains a secret, a code, a
// token or a state.
func assertNoSecrets(t *testing.T, text string) {
	t.Helper()

	for _, secret := range []string{testClientSecret, testCode, testShortToken, testLongToken, testState} {
		if strings.Contains(text, secret) {
			t.Errorf("error text contains secret %q: %s", secret, text)
		}
	}
}

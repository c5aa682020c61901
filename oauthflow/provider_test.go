package oauthflow

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"
)

func TestAuthorizationURLParameters(t *testing.T) {
	provider := instagramProvider("http://127.0.0.1:1")

	consentURL, err := url.Parse(provider.AuthorizationURL(testState))
	if err != nil {
		t.Fatalf("parsing authorization URL: %v", err)
	}

	if got := consentURL.Scheme + "://" + consentURL.Host + consentURL.Path; got != "https://www.instagram.com/oauth/authorize" {
		t.Errorf("endpoint = %q, expected the AuthorizeURL", got)
	}
	query := consentURL.Query()
	expected := map[string]string{
		"client_id":     testClientID,
		"redirect_uri":  testRedirectURL,
		"response_type": "code",
		"scope":         "instagram_business_basic,instagram_business_content_publish",
		"state":         testState,
	}
	for name, value := range expected {
		if got := query.Get(name); got != value {
			t.Errorf("%s = %q, expected %q", name, got, value)
		}
	}
}

func TestAuthorizationURLKeepsQuery(t *testing.T) {
	provider := instagramProvider("http://127.0.0.1:1")
	provider.AuthorizeURL = "https://www.instagram.com/oauth/authorize?enable_fb_login=0&force_authentication=1"

	consentURL, err := url.Parse(provider.AuthorizationURL("a b&c=d"))
	if err != nil {
		t.Fatalf("parsing authorization URL: %v", err)
	}

	query := consentURL.Query()
	if got := query.Get("enable_fb_login"); got != "0" {
		t.Errorf("enable_fb_login = %q, expected the configured 0", got)
	}
	if got := query.Get("force_authentication"); got != "1" {
		t.Errorf("force_authentication = %q, expected the configured 1", got)
	}
	if got := query.Get("state"); got != "a b&c=d" {
		t.Errorf("state = %q, expected it escaped and intact", got)
	}
	if got := query.Get("client_id"); got != testClientID {
		t.Errorf("client_id = %q, expected %q", got, testClientID)
	}
}

func TestAuthorizationURLSpaceSeparator(t *testing.T) {
	provider := &Provider{
		ClientID:     "client",
		RedirectURL:  testRedirectURL,
		Scopes:       []string{"openid", "profile"},
		AuthorizeURL: "https://auth.example/authorize",
	}

	consentURL, err := url.Parse(provider.AuthorizationURL("s"))
	if err != nil {
		t.Fatalf("parsing authorization URL: %v", err)
	}
	if got := consentURL.Query().Get("scope"); got != "openid profile" {
		t.Errorf("scope = %q, expected the RFC 6749 space separator", got)
	}
}

func TestAuthorizationURLWithoutScopes(t *testing.T) {
	provider := &Provider{ClientID: "client", AuthorizeURL: "https://auth.example/authorize"}

	consentURL, err := url.Parse(provider.AuthorizationURL("s"))
	if err != nil {
		t.Fatalf("parsing authorization URL: %v", err)
	}
	if consentURL.Query().Has("scope") {
		t.Errorf("scope is present without scopes: %s", consentURL)
	}
}

// appData is the part of apps/<name>/app.json that fills a Provider.
type appData struct {
	Name                      string           `json:"name"`
	APIVersion                string           `json:"api_version"`
	ScopeSeparator            string           `json:"scope_separator"`
	DefaultScopes             []string         `json:"default_scopes"`
	CodeSuffix                string           `json:"code_suffix"`
	LongLivedExchange         *TokenRequest    `json:"long_lived_exchange"`
	Refresh                   *TokenRequest    `json:"refresh"`
	Identity                  *IdentityRequest `json:"identity"`
	ReauthorizationErrorCodes []int            `json:"reauthorization_error_codes"`
}

// TestInstagramAppDataFlow runs the whole link flow with the shipped
// Instagram app data against a local Instagram-compatible server, so a
// change to app.json that breaks the flow fails here.
func TestInstagramAppDataFlow(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("..", "apps", "instagram", "app.json"))
	if err != nil {
		t.Fatalf("reading app data: %v", err)
	}
	var app appData
	if err := json.Unmarshal(raw, &app); err != nil {
		t.Fatalf("decoding app data: %v", err)
	}

	var refreshCalls atomic.Int32
	fake := newFakeProvider(t, func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.Method == http.MethodPost && r.URL.Path == "/oauth/access_token" &&
			r.PostForm.Get("code") == testCode && r.PostForm.Get("client_secret") == testClientSecret:
			jsonReply(http.StatusOK, `{"access_token":"`+testShortToken+`","user_id":27640875392278831,"permissions":["instagram_business_basic"]}`)(w, r)
		case r.URL.Path == "/access_token" && r.URL.Query().Get("grant_type") == "ig_exchange_token" &&
			r.URL.Query().Get("access_token") == testShortToken && r.URL.Query().Get("client_secret") == testClientSecret:
			jsonReply(http.StatusOK, `{"access_token":"`+testLongToken+`","token_type":"bearer","expires_in":5183944}`)(w, r)
		case r.URL.Path == "/v23.0/me" && r.Header.Get("Authorization") == "Bearer "+testLongToken:
			jsonReply(http.StatusOK, `{"user_id":"27640875392278831","username":"shop","id":"999"}`)(w, r)
		case r.URL.Path == "/refresh_access_token" && r.URL.Query().Get("grant_type") == "ig_refresh_token" &&
			r.URL.Query().Get("access_token") == testLongToken:
			if refreshCalls.Add(1) == 1 {
				jsonReply(http.StatusOK, `{"access_token":"`+testLongToken+`","token_type":"bearer","expires_in":"5183944"}`)(w, r)
				return
			}
			jsonReply(http.StatusBadRequest, `{"error":{"message":"Error validating access token: Session has expired","type":"OAuthException","code":190,"error_subcode":0,"fbtrace_id":"AbC"}}`)(w, r)
		default:
			jsonReply(http.StatusNotFound, `{"error":{"message":"unexpected request","type":"GraphMethodException","code":100}}`)(w, r)
		}
	})

	provider := &Provider{
		Name:              app.Name,
		ClientID:          testClientID,
		ClientSecret:      testClientSecret,
		RedirectURL:       testRedirectURL,
		Scopes:            app.DefaultScopes,
		ScopeSeparator:    app.ScopeSeparator,
		AuthorizeURL:      "https://www.instagram.com/oauth/authorize",
		TokenURL:          fake.URL + "/oauth/access_token",
		APIBaseURL:        fake.URL,
		APIVersion:        app.APIVersion,
		CodeSuffix:        app.CodeSuffix,
		LongLivedExchange: app.LongLivedExchange,
		Refresh:           app.Refresh,
		Identity:          app.Identity,
	}
	ctx := context.Background()

	// code → short-lived → long-lived → identity
	short, err := provider.ExchangeCode(ctx, testCode+"#_")
	if err != nil {
		t.Fatalf("ExchangeCode: %v", err)
	}
	if short.UserID != "27640875392278831" {
		t.Errorf("short token user_id = %q, expected 27640875392278831", short.UserID)
	}
	long, err := provider.ExchangeLongLived(ctx, short.AccessToken)
	if err != nil {
		t.Fatalf("ExchangeLongLived: %v", err)
	}
	if long.AccessToken != testLongToken {
		t.Errorf("long-lived access token = %q, expected %q", long.AccessToken, testLongToken)
	}
	identity, err := provider.FetchIdentity(ctx, long.AccessToken)
	if err != nil {
		t.Fatalf("FetchIdentity: %v", err)
	}
	if identity.UserID != "27640875392278831" || identity.Username != "shop" {
		t.Errorf("identity = %+v, expected user_id 27640875392278831 and username shop", identity)
	}

	// a refresh, then a refresh of an expired token
	if _, err := provider.RefreshToken(ctx, long.AccessToken); err != nil {
		t.Fatalf("first RefreshToken: %v", err)
	}
	_, err = provider.RefreshToken(ctx, long.AccessToken)
	providerError, ok := errors.AsType[*ProviderError](err)
	if !ok {
		t.Fatalf("second RefreshToken error = %v, expected a *ProviderError", err)
	}
	if !providerError.RequiresReauthorization(app.ReauthorizationErrorCodes) {
		t.Errorf("code 190 subcode 0 does not require reauthorization with codes %v", app.ReauthorizationErrorCodes)
	}
}

// TestThreadsAppData drives the same code with Threads data: other grant
// types on another host, no Instagram branch involved.
func TestThreadsAppData(t *testing.T) {
	fake := newFakeProvider(t, jsonReply(http.StatusOK, `{"access_token":"THQVJ-new","token_type":"bearer","expires_in":5184000}`))
	provider := &Provider{
		Name:         "threads",
		ClientID:     testClientID,
		ClientSecret: testClientSecret,
		TokenURL:     fake.URL + "/oauth/access_token",
		APIBaseURL:   fake.URL,
		APIVersion:   "v1.0",
		LongLivedExchange: &TokenRequest{
			Method: "GET",
			Path:   "/access_token",
			Query: map[string]string{
				"grant_type":    "th_exchange_token",
				"client_secret": "{client_secret}",
				"access_token":  "{access_token}",
			},
		},
		Refresh: &TokenRequest{
			Method: "GET",
			Path:   "/refresh_access_token",
			Query: map[string]string{
				"grant_type":   "th_refresh_token",
				"access_token": "{access_token}",
			},
		},
	}
	ctx := context.Background()

	if _, err := provider.ExchangeLongLived(ctx, testShortToken); err != nil {
		t.Fatalf("ExchangeLongLived: %v", err)
	}
	exchange := fake.lastRequest(t)
	expectedExchange := url.Values{
		"grant_type":    {"th_exchange_token"},
		"client_secret": {testClientSecret},
		"access_token":  {testShortToken},
	}
	if exchange.Path != "/access_token" {
		t.Errorf("exchange path = %q, expected /access_token", exchange.Path)
	}
	assertValues(t, "exchange query", exchange.Query, expectedExchange)

	if _, err := provider.RefreshToken(ctx, testLongToken); err != nil {
		t.Fatalf("RefreshToken: %v", err)
	}
	refresh := fake.lastRequest(t)
	if refresh.Path != "/refresh_access_token" {
		t.Errorf("refresh path = %q, expected /refresh_access_token", refresh.Path)
	}
	assertValues(t, "refresh query", refresh.Query, url.Values{
		"grant_type":   {"th_refresh_token"},
		"access_token": {testLongToken},
	})
}

// TestFacebookAppData drives the same code with Facebook data: a versioned
// path and the token in a parameter named fb_exchange_token.
func TestFacebookAppData(t *testing.T) {
	fake := newFakeProvider(t, jsonReply(http.StatusOK, `{"access_token":"EAAB-long","token_type":"bearer","expires_in":5183999}`))
	provider := &Provider{
		Name:         "facebook",
		ClientID:     testClientID,
		ClientSecret: testClientSecret,
		APIBaseURL:   fake.URL,
		APIVersion:   "v23.0",
		LongLivedExchange: &TokenRequest{
			Method: "GET",
			Path:   "/v23.0/oauth/access_token",
			Query: map[string]string{
				"grant_type":        "fb_exchange_token",
				"client_id":         "{client_id}",
				"client_secret":     "{client_secret}",
				"fb_exchange_token": "{access_token}",
			},
		},
	}

	token, err := provider.ExchangeLongLived(context.Background(), testShortToken)
	if err != nil {
		t.Fatalf("ExchangeLongLived: %v", err)
	}
	if token.AccessToken != "EAAB-long" {
		t.Errorf("access token = %q, expected EAAB-long", token.AccessToken)
	}

	request := fake.lastRequest(t)
	if request.Path != "/v23.0/oauth/access_token" {
		t.Errorf("path = %q, expected /v23.0/oauth/access_token", request.Path)
	}
	assertValues(t, "query", request.Query, url.Values{
		"grant_type":        {"fb_exchange_token"},
		"client_id":         {testClientID},
		"client_secret":     {testClientSecret},
		"fb_exchange_token": {testShortToken},
	})

	_, err = provider.RefreshToken(context.Background(), "EAAB-long")
	if !errors.Is(err, errors.ErrUnsupported) {
		t.Errorf("RefreshToken without a refresh request = %v, expected errors.ErrUnsupported", err)
	}
}

// assertValues fails the test unless got contains exactly the expected
// values. The source names the query or form in failure messages.
func assertValues(t *testing.T, source string, got, expected url.Values) {
	t.Helper()

	for name, values := range expected {
		if got.Get(name) != values[0] || len(got[name]) != 1 {
			t.Errorf("%s %s = %q, expected %q", source, name, got[name], values)
		}
	}
	for name := range got {
		if _, ok := expected[name]; !ok {
			t.Errorf("%s has unexpected parameter %s", source, name)
		}
	}
}

func TestProviderNowIsUTC(t *testing.T) {
	zone := time.FixedZone("UTC+5", 5*60*60)
	provider := &Provider{Now: func() time.Time { return time.Date(2026, 3, 1, 12, 0, 0, 0, zone) }}

	if got := provider.now().Location(); got != time.UTC {
		t.Errorf("now() location = %v, expected UTC", got)
	}
}

package oauthflow

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestExchangeCodeFlatReply(t *testing.T) {
	fake := newFakeProvider(t, jsonReply(http.StatusOK,
		`{"access_token":"`+testShortToken+`","user_id":27640875392278831,"permissions":["instagram_business_basic","instagram_business_content_publish"]}`))
	provider := instagramProvider(fake.URL)

	token, err := provider.ExchangeCode(context.Background(), testCode)
	if err != nil {
		t.Fatalf("ExchangeCode: %v", err)
	}

	if token.AccessToken != testShortToken {
		t.Errorf("access token = %q, expected %q", token.AccessToken, testShortToken)
	}
	if token.UserID != "27640875392278831" {
		t.Errorf("user_id = %q, expected the exact digits 27640875392278831", token.UserID)
	}
	expectedPermissions := []string{"instagram_business_basic", "instagram_business_content_publish"}
	if !slices.Equal(token.Permissions, expectedPermissions) {
		t.Errorf("permissions = %q, expected %q", token.Permissions, expectedPermissions)
	}
}

func TestExchangeCodeDataReply(t *testing.T) {
	fake := newFakeProvider(t, jsonReply(http.StatusOK,
		`{"data":[{"access_token":"`+testShortToken+`","user_id":"27640875392278831","permissions":"instagram_business_basic, instagram_business_manage_messages"}]}`))
	provider := instagramProvider(fake.URL)

	token, err := provider.ExchangeCode(context.Background(), testCode)
	if err != nil {
		t.Fatalf("ExchangeCode: %v", err)
	}

	if token.AccessToken != testShortToken {
		t.Errorf("access token = %q, expected %q", token.AccessToken, testShortToken)
	}
	if token.UserID != "27640875392278831" {
		t.Errorf("user_id = %q, expected the exact digits 27640875392278831", token.UserID)
	}
	expectedPermissions := []string{"instagram_business_basic", "instagram_business_manage_messages"}
	if !slices.Equal(token.Permissions, expectedPermissions) {
		t.Errorf("permissions = %q, expected %q", token.Permissions, expectedPermissions)
	}
}

func TestExchangeCodeUserIDForms(t *testing.T) {
	tests := []struct {
		name     string
		userID   string
		expected string
	}{
		{name: "number above 2^53", userID: `27640875392278831`, expected: "27640875392278831"},
		{name: "string above 2^53", userID: `"27640875392278831"`, expected: "27640875392278831"},
		{name: "small number", userID: `42`, expected: "42"},
		{name: "absent", userID: ``, expected: ""},
	}
	for _, test := range tests {
		t.Run(test.name, func(t *testing.T) {
			body := `{"access_token":"` + testShortToken + `"}`
			if test.userID != "" {
				body = `{"access_token":"` + testShortToken + `","user_id":` + test.userID + `}`
			}
			fake := newFakeProvider(t, jsonReply(http.StatusOK, body))

			token, err := instagramProvider(fake.URL).ExchangeCode(context.Background(), testCode)
			if err != nil {
				t.Fatalf("ExchangeCode: %v", err)
			}
			if token.UserID != test.expected {
				t.Errorf("user_id = %q, expected %q", token.UserID, test.expected)
			}
		})
	}
}

func TestExchangeCodeInvalidReplies(t *testing.T) {
	tests := []struct {
		name string
		body string
	}{
		{name: "no access_token", body: `{"user_id":1,"permissions":[]}`},
		{name: "empty access_token", body: `{"access_token":"","user_id":1}`},
		{name: "empty data", body: `{"data":[]}`},
		{name: "data without access_token", body: `{"data":[{"user_id":"1"}]}`},
		{name: "fractional user_id", body: `{"access_token":"t","user_id":1.5e16}`},
		{name: "negative user_id", body: `{"access_token":"t","user_id":-5}`},
		{name: "user_id object", body: `{"access_token":"t","user_id":{}}`},
		{name: "permissions number", body: `{"access_token":"t","permissions":5}`},
		{name: "not JSON", body: `access_token=t`},
		{name: "JSON null", body: `null`},
	}
	for _, test := range tests {
		t.Run(test.name, func(t *testing.T) {
			fake := newFakeProvider(t, jsonReply(http.StatusOK, test.body))

			token, err := instagramProvider(fake.URL).ExchangeCode(context.Background(), testCode)
			if err == nil {
				t.Fatalf("ExchangeCode = %+v, expected an error", token)
			}
			if !strings.HasPrefix(err.Error(), "instagram code exchange failed: ") {
				t.Errorf("error = %q, expected the provider and endpoint names first", err)
			}
		})
	}
}

func TestExchangeCodeRequest(t *testing.T) {
	fake := newFakeProvider(t, jsonReply(http.StatusOK, `{"access_token":"`+testShortToken+`","user_id":1}`))
	provider := instagramProvider(fake.URL)

	if _, err := provider.ExchangeCode(context.Background(), testCode); err != nil {
		t.Fatalf("ExchangeCode: %v", err)
	}

	request := fake.lastRequest(t)
	if request.Method != http.MethodPost {
		t.Errorf("method = %s, expected POST", request.Method)
	}
	if request.Path != "/oauth/access_token" {
		t.Errorf("path = %q, expected /oauth/access_token", request.Path)
	}
	if got := request.Header.Get("Content-Type"); got != "application/x-www-form-urlencoded" {
		t.Errorf("Content-Type = %q, expected a form", got)
	}
	if got := request.Header.Get("Authorization"); got != "" {
		t.Errorf("Authorization header = %q, expected credentials only in the form body", got)
	}
	if len(request.Query) != 0 {
		t.Errorf("query = %q, expected none", request.Query)
	}
	assertValues(t, "form", request.PostForm, url.Values{
		"client_id":     {testClientID},
		"client_secret": {testClientSecret},
		"grant_type":    {"authorization_code"},
		"redirect_uri":  {testRedirectURL},
		"code":          {testCode},
	})
}

func TestExchangeCodeSuffix(t *testing.T) {
	tests := []struct {
		name     string
		code     string
		expected string
	}{
		{name: "suffix stripped", code: testCode + "#_", expected: testCode},
		{name: "no suffix unchanged", code: testCode, expected: testCode},
		{name: "suffix inside unchanged", code: "ab#_cd", expected: "ab#_cd"},
		{name: "only one suffix stripped", code: "ab#_#_", expected: "ab#_"},
	}
	for _, test := range tests {
		t.Run(test.name, func(t *testing.T) {
			fake := newFakeProvider(t, jsonReply(http.StatusOK, `{"access_token":"t"}`))

			if _, err := instagramProvider(fake.URL).ExchangeCode(context.Background(), test.code); err != nil {
				t.Fatalf("ExchangeCode: %v", err)
			}
			if got := fake.lastRequest(t).PostForm.Get("code"); got != test.expected {
				t.Errorf("code sent = %q, expected %q", got, test.expected)
			}
		})
	}
}

func TestExchangeCodeEmpty(t *testing.T) {
	fake := newFakeProvider(t, jsonReply(http.StatusOK, `{"access_token":"t"}`))

	for _, code := range []string{"", "#_"} {
		if _, err := instagramProvider(fake.URL).ExchangeCode(context.Background(), code); err == nil {
			t.Errorf("ExchangeCode(%q) succeeded, expected an error", code)
		}
	}
	if count := fake.requestCount(); count != 0 {
		t.Errorf("provider received %d requests, expected none for an empty code", count)
	}
}

func TestExchangeCodeProviderError(t *testing.T) {
	fake := newFakeProvider(t, jsonReply(http.StatusBadRequest,
		`{"error_type":"OAuthException","code":400,"error_message":"Matching code was not found or was already used"}`))

	_, err := instagramProvider(fake.URL).ExchangeCode(context.Background(), testCode)

	providerError, ok := errors.AsType[*ProviderError](err)
	if !ok {
		t.Fatalf("error = %v, expected a *ProviderError", err)
	}
	expected := "instagram code exchange failed: HTTP 400, OAuthException code 400: Matching code was not found or was already used"
	if providerError.Error() != expected {
		t.Errorf("error = %q, expected %q", providerError.Error(), expected)
	}
	if providerError.Endpoint != EndpointCodeExchange {
		t.Errorf("endpoint = %q, expected %q", providerError.Endpoint, EndpointCodeExchange)
	}
	assertNoSecrets(t, err.Error())
}

func TestExchangeLongLivedRequest(t *testing.T) {
	fake := newFakeProvider(t, jsonReply(http.StatusOK, `{"access_token":"`+testLongToken+`","token_type":"bearer","expires_in":5183944}`))
	provider := instagramProvider(fake.URL)
	start := time.Date(2026, 3, 1, 12, 0, 0, 0, time.FixedZone("UTC+2", 2*60*60))
	provider.Now = steppingClock(start, 3*time.Second)

	token, err := provider.ExchangeLongLived(context.Background(), testShortToken)
	if err != nil {
		t.Fatalf("ExchangeLongLived: %v", err)
	}

	// the reply
	if token.AccessToken != testLongToken {
		t.Errorf("access token = %q, expected %q", token.AccessToken, testLongToken)
	}
	if token.TokenType != "bearer" {
		t.Errorf("token type = %q, expected bearer", token.TokenType)
	}
	expectedExpiry := start.Add(5183944 * time.Second).UTC()
	if !token.ExpiresAt.Equal(expectedExpiry) || token.ExpiresAt.Location() != time.UTC {
		t.Errorf("ExpiresAt = %v, expected request start + expires_in = %v in UTC", token.ExpiresAt, expectedExpiry)
	}
	expectedIssue := start.Add(3 * time.Second).UTC()
	if !token.IssuedAt.Equal(expectedIssue) || token.IssuedAt.Location() != time.UTC {
		t.Errorf("IssuedAt = %v, expected the reply time %v in UTC", token.IssuedAt, expectedIssue)
	}

	// the request
	request := fake.lastRequest(t)
	if request.Method != http.MethodGet {
		t.Errorf("method = %s, expected GET", request.Method)
	}
	if request.Path != "/access_token" {
		t.Errorf("path = %q, expected the unversioned /access_token", request.Path)
	}
	assertValues(t, "query", request.Query, url.Values{
		"grant_type":    {"ig_exchange_token"},
		"client_secret": {testClientSecret},
		"access_token":  {testShortToken},
	})
}

func TestRefreshTokenRequest(t *testing.T) {
	fake := newFakeProvider(t, jsonReply(http.StatusOK, `{"access_token":"`+testLongToken+`","token_type":"bearer","expires_in":5183944}`))

	if _, err := instagramProvider(fake.URL).RefreshToken(context.Background(), testLongToken); err != nil {
		t.Fatalf("RefreshToken: %v", err)
	}

	request := fake.lastRequest(t)
	if request.Path != "/refresh_access_token" {
		t.Errorf("path = %q, expected /refresh_access_token", request.Path)
	}
	assertValues(t, "query", request.Query, url.Values{
		"grant_type":   {"ig_refresh_token"},
		"access_token": {testLongToken},
	})
}

func TestTokenRequestPostForm(t *testing.T) {
	fake := newFakeProvider(t, jsonReply(http.StatusOK, `{"access_token":"new","token_type":"bearer","expires_in":3600}`))
	provider := instagramProvider(fake.URL)
	provider.Refresh = &TokenRequest{
		Method: "POST",
		Path:   "/oauth/token",
		Query: map[string]string{
			"grant_type":    "refresh_token",
			"client_id":     "{client_id}",
			"client_secret": "{client_secret}",
			"refresh_token": "{access_token}",
			"redirect_uri":  "{redirect_uri}",
		},
	}

	if _, err := provider.RefreshToken(context.Background(), testLongToken); err != nil {
		t.Fatalf("RefreshToken: %v", err)
	}

	request := fake.lastRequest(t)
	if request.Method != http.MethodPost {
		t.Errorf("method = %s, expected POST", request.Method)
	}
	if len(request.Query) != 0 {
		t.Errorf("query = %q, expected the parameters only in the body", request.Query)
	}
	assertValues(t, "form", request.PostForm, url.Values{
		"grant_type":    {"refresh_token"},
		"client_id":     {testClientID},
		"client_secret": {testClientSecret},
		"refresh_token": {testLongToken},
		"redirect_uri":  {testRedirectURL},
	})
}

func TestTokenReplyExpiresIn(t *testing.T) {
	tests := []struct {
		name     string
		body     string
		expected time.Duration // 0 means an error is expected
	}{
		{name: "number", body: `{"access_token":"a","token_type":"bearer","expires_in":5183944}`, expected: 5183944 * time.Second},
		{name: "numeric string", body: `{"access_token":"a","token_type":"bearer","expires_in":"5183944"}`, expected: 5183944 * time.Second},
		{name: "missing", body: `{"access_token":"a","token_type":"bearer"}`},
		{name: "null", body: `{"access_token":"a","expires_in":null}`},
		{name: "zero", body: `{"access_token":"a","expires_in":0}`},
		{name: "zero string", body: `{"access_token":"a","expires_in":"0"}`},
		{name: "negative", body: `{"access_token":"a","expires_in":-60}`},
		{name: "fraction", body: `{"access_token":"a","expires_in":3600.5}`},
		{name: "not numeric", body: `{"access_token":"a","expires_in":"soon"}`},
		{name: "overflow", body: `{"access_token":"a","expires_in":99999999999999999999}`},
		{name: "no access_token", body: `{"token_type":"bearer","expires_in":3600}`},
		{name: "access_token number", body: `{"access_token":5,"expires_in":3600}`},
	}
	for _, test := range tests {
		t.Run(test.name, func(t *testing.T) {
			fake := newFakeProvider(t, jsonReply(http.StatusOK, test.body))
			provider := instagramProvider(fake.URL)
			start := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
			provider.Now = func() time.Time { return start }

			token, err := provider.RefreshToken(context.Background(), testLongToken)
			if test.expected == 0 {
				if err == nil {
					t.Fatalf("RefreshToken = %+v, expected an error", token)
				}
				assertNoSecrets(t, err.Error())
				return
			}
			if err != nil {
				t.Fatalf("RefreshToken: %v", err)
			}
			if got := token.ExpiresAt.Sub(start); got != test.expected {
				t.Errorf("lifetime = %v, expected %v", got, test.expected)
			}
		})
	}
}

func TestTokenRequestNotConfigured(t *testing.T) {
	provider := instagramProvider("http://127.0.0.1:1")
	provider.LongLivedExchange = nil
	provider.Refresh = nil

	_, err := provider.ExchangeLongLived(context.Background(), testShortToken)
	if !errors.Is(err, errors.ErrUnsupported) {
		t.Errorf("ExchangeLongLived error = %v, expected errors.ErrUnsupported", err)
	}
	_, err = provider.RefreshToken(context.Background(), testLongToken)
	if !errors.Is(err, errors.ErrUnsupported) {
		t.Errorf("RefreshToken error = %v, expected errors.ErrUnsupported", err)
	}
	if err != nil && !strings.Contains(err.Error(), "refresh") {
		t.Errorf("error = %q, expected it to name the refresh request", err)
	}
}

func TestTokenRequestInvalidData(t *testing.T) {
	tests := []struct {
		name       string
		modify     func(*Provider)
		emptyToken bool
	}{
		{name: "unknown placeholder", modify: func(p *Provider) { p.Refresh.Query["access_token"] = "{acess_token}" }},
		{name: "unsupported method", modify: func(p *Provider) { p.Refresh.Method = "PUT" }},
		{name: "relative base URL", modify: func(p *Provider) { p.APIBaseURL = "graph.instagram.com" }},
		{name: "unparsable base URL", modify: func(p *Provider) { p.APIBaseURL = "http://[::1" }},
		{name: "empty token", modify: func(p *Provider) {}, emptyToken: true},
	}
	for _, test := range tests {
		t.Run(test.name, func(t *testing.T) {
			fake := newFakeProvider(t, jsonReply(http.StatusOK, `{"access_token":"a","expires_in":60}`))
			provider := instagramProvider(fake.URL)
			test.modify(provider)

			token := testLongToken
			if test.emptyToken {
				token = ""
			}
			if _, err := provider.RefreshToken(context.Background(), token); err == nil {
				t.Error("RefreshToken succeeded, expected an error")
			}
			if count := fake.requestCount(); count != 0 {
				t.Errorf("provider received %d requests, expected none", count)
			}
		})
	}
}

func TestTokenRequestGraphError(t *testing.T) {
	fake := newFakeProvider(t, jsonReply(http.StatusBadRequest,
		`{"error":{"message":"Error validating access token","type":"OAuthException","code":190,"error_subcode":463,"fbtrace_id":"A1b2C3"}}`))

	_, err := instagramProvider(fake.URL).ExchangeLongLived(context.Background(), testShortToken)

	providerError, ok := errors.AsType[*ProviderError](err)
	if !ok {
		t.Fatalf("error = %v, expected a *ProviderError", err)
	}
	expected := "instagram long-lived exchange failed: HTTP 400, OAuthException code 190 subcode 463: Error validating access token"
	if err.Error() != expected {
		t.Errorf("error = %q, expected %q", err, expected)
	}
	if providerError.TraceID != "A1b2C3" {
		t.Errorf("trace id = %q, expected A1b2C3", providerError.TraceID)
	}
	if !providerError.RequiresReauthorization([]int{190}) {
		t.Error("code 190 does not require reauthorization")
	}
}

func TestTokenRequestErrorWithOKStatus(t *testing.T) {
	fake := newFakeProvider(t, jsonReply(http.StatusOK,
		`{"error":{"message":"Please reduce the amount of data","type":"OAuthException","code":4}}`))

	_, err := instagramProvider(fake.URL).RefreshToken(context.Background(), testLongToken)

	providerError, ok := errors.AsType[*ProviderError](err)
	if !ok {
		t.Fatalf("error = %v, expected a *ProviderError", err)
	}
	if !providerError.Temporary() {
		t.Error("throttling code 4 is not temporary")
	}
}

// TestErrorsRedactEchoedSecrets covers a provider or proxy that copies the
// request URL or the token into its error reply.
func TestErrorsRedactEchoedSecrets(t *testing.T) {
	echoURL := func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusBadGateway)
		_, _ = io.WriteString(w, "<html><body><h1>Bad gateway</h1><p>upstream failed for "+r.URL.String()+"</p></body></html>")
	}
	echoToken := func(w http.ResponseWriter, r *http.Request) {
		jsonReply(http.StatusBadRequest, `{"error":{"message":"token `+r.URL.Query().Get("access_token")+` with secret `+
			r.URL.Query().Get("client_secret")+` is invalid","type":"OAuthException","code":190}}`)(w, r)
	}
	echoForm := func(w http.ResponseWriter, r *http.Request) {
		jsonReply(http.StatusBadRequest, `{"error":"invalid_grant","error_description":"code `+r.PostForm.Get("code")+
			` for secret `+r.PostForm.Get("client_secret")+` rejected"}`)(w, r)
	}

	tests := []struct {
		name    string
		handler http.HandlerFunc
		call    func(*Provider) error
	}{
		{name: "html page with url", handler: echoURL, call: func(p *Provider) error {
			_, err := p.ExchangeLongLived(context.Background(), testShortToken)
			return err
		}},
		{name: "json message with token", handler: echoToken, call: func(p *Provider) error {
			_, err := p.RefreshToken(context.Background(), testLongToken)
			return err
		}},
		{name: "code exchange form", handler: echoForm, call: func(p *Provider) error {
			_, err := p.ExchangeCode(context.Background(), testCode)
			return err
		}},
	}
	for _, test := range tests {
		t.Run(test.name, func(t *testing.T) {
			fake := newFakeProvider(t, test.handler)

			err := test.call(instagramProvider(fake.URL))
			if err == nil {
				t.Fatal("call succeeded, expected an error")
			}
			assertNoSecrets(t, err.Error())
			if !strings.Contains(err.Error(), redactedMarker) {
				t.Errorf("error = %q, expected the redaction marker where the secret was", err)
			}
		})
	}
}

func TestReplyTooLarge(t *testing.T) {
	fake := newFakeProvider(t, jsonReply(http.StatusOK, `{"access_token":"`+strings.Repeat("a", maxReplyBytes)+`"}`))

	_, err := instagramProvider(fake.URL).ExchangeCode(context.Background(), testCode)
	if err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Errorf("error = %v, expected a reply size error", err)
	}
}

func TestRequestErrorOmitsURL(t *testing.T) {
	// a server that is closed at once gives a loopback address that
	// refuses connections
	closed := newFakeProvider(t, jsonReply(http.StatusOK, `{}`))
	closed.Close()

	provider := instagramProvider(closed.URL)
	provider.Identity.Query["debug"] = "{client_secret}"
	ctx := context.Background()

	calls := map[string]func() error{
		EndpointCodeExchange: func() error {
			_, err := provider.ExchangeCode(ctx, testCode)
			return err
		},
		EndpointLongLivedExchange: func() error {
			_, err := provider.ExchangeLongLived(ctx, testShortToken)
			return err
		},
		EndpointRefresh: func() error {
			_, err := provider.RefreshToken(ctx, testLongToken)
			return err
		},
		EndpointIdentity: func() error {
			_, err := provider.FetchIdentity(ctx, testLongToken)
			return err
		},
	}
	for endpoint, call := range calls {
		t.Run(endpoint, func(t *testing.T) {
			err := call()

			requestError, ok := errors.AsType[*RequestError](err)
			if !ok {
				t.Fatalf("error = %v, expected a *RequestError", err)
			}
			if requestError.Endpoint != endpoint {
				t.Errorf("endpoint = %q, expected %q", requestError.Endpoint, endpoint)
			}
			if _, ok := errors.AsType[*url.Error](err); ok {
				t.Errorf("error chain still holds a *url.Error: %v", err)
			}
			text := err.Error()
			assertNoSecrets(t, text)
			for _, fragment := range []string{"?", "grant_type", "access_token", "/oauth/", "/me"} {
				if strings.Contains(text, fragment) {
					t.Errorf("error = %q, contains %q from the request URL", text, fragment)
				}
			}
			if !strings.HasPrefix(text, "instagram "+endpoint+" request failed: ") {
				t.Errorf("error = %q, expected the provider and endpoint names first", text)
			}
		})
	}
}

func TestRequestErrorContext(t *testing.T) {
	fake := newFakeProvider(t, jsonReply(http.StatusOK, `{}`))
	provider := instagramProvider(fake.URL)

	expired, cancelExpired := context.WithDeadline(context.Background(), time.Unix(0, 0))
	defer cancelExpired()
	_, err := provider.RefreshToken(expired, testLongToken)
	requestError, ok := errors.AsType[*RequestError](err)
	if !ok {
		t.Fatalf("error = %v, expected a *RequestError", err)
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("error = %v, expected it to wrap context.DeadlineExceeded", err)
	}
	if !requestError.Timeout() {
		t.Error("Timeout() = false for an exceeded deadline")
	}
	if requestError.Op != "Get" {
		t.Errorf("op = %q, expected Get", requestError.Op)
	}
	assertNoSecrets(t, err.Error())

	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = provider.ExchangeLongLived(cancelled, testShortToken)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("error = %v, expected it to wrap context.Canceled", err)
	}
	if requestError, ok := errors.AsType[*RequestError](err); !ok || requestError.Timeout() {
		t.Errorf("error = %v, expected a *RequestError that is not a timeout", err)
	}
	assertNoSecrets(t, err.Error())
}

package oauthflow

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"testing"
)

func TestFetchIdentityRequest(t *testing.T) {
	fake := newFakeProvider(t, jsonReply(http.StatusOK, `{"user_id":27640875392278831,"username":"shop","id":"1790"}`))

	identity, err := instagramProvider(fake.URL).FetchIdentity(context.Background(), testLongToken)
	if err != nil {
		t.Fatalf("FetchIdentity: %v", err)
	}

	// the reply
	if identity.UserID != "27640875392278831" {
		t.Errorf("user_id = %q, expected the exact digits 27640875392278831", identity.UserID)
	}
	if identity.Username != "shop" {
		t.Errorf("username = %q, expected shop", identity.Username)
	}

	// the request
	request := fake.lastRequest(t)
	if request.Method != http.MethodGet {
		t.Errorf("method = %s, expected GET", request.Method)
	}
	if request.Path != "/v23.0/me" {
		t.Errorf("path = %q, expected the versioned /v23.0/me", request.Path)
	}
	if got := request.Header.Get("Authorization"); got != "Bearer "+testLongToken {
		t.Errorf("Authorization = %q, expected the bearer token", got)
	}
	assertValues(t, "query", request.Query, url.Values{"fields": {"user_id,username"}})
}

func TestFetchIdentityFields(t *testing.T) {
	tests := []struct {
		name         string
		body         string
		userID       string
		username     string
		expectsError bool
	}{
		{name: "string id", body: `{"user_id":"27640875392278831","username":"shop"}`, userID: "27640875392278831", username: "shop"},
		{name: "no username", body: `{"user_id":"17"}`, userID: "17"},
		{name: "no user_id", body: `{"username":"shop","id":"17"}`, expectsError: true},
		{name: "fractional user_id", body: `{"user_id":1.7e16,"username":"shop"}`, expectsError: true},
		{name: "username number", body: `{"user_id":"17","username":5}`, expectsError: true},
		{name: "array reply", body: `[{"user_id":"17"}]`, expectsError: true},
	}
	for _, test := range tests {
		t.Run(test.name, func(t *testing.T) {
			fake := newFakeProvider(t, jsonReply(http.StatusOK, test.body))

			identity, err := instagramProvider(fake.URL).FetchIdentity(context.Background(), testLongToken)
			if test.expectsError {
				if err == nil {
					t.Fatalf("FetchIdentity = %+v, expected an error", identity)
				}
				assertNoSecrets(t, err.Error())
				return
			}
			if err != nil {
				t.Fatalf("FetchIdentity: %v", err)
			}
			if identity.UserID != test.userID || identity.Username != test.username {
				t.Errorf("identity = %+v, expected user_id %q and username %q", identity, test.userID, test.username)
			}
		})
	}
}

func TestFetchIdentityOtherFieldNames(t *testing.T) {
	fake := newFakeProvider(t, jsonReply(http.StatusOK, `{"id":"1234","name":"Shop Page"}`))
	provider := instagramProvider(fake.URL)
	provider.APIVersion = ""
	provider.Identity = &IdentityRequest{
		Path:          "/me",
		Query:         map[string]string{"fields": "id,name"},
		UserIDField:   "id",
		UsernameField: "name",
	}

	identity, err := provider.FetchIdentity(context.Background(), testLongToken)
	if err != nil {
		t.Fatalf("FetchIdentity: %v", err)
	}
	if identity.UserID != "1234" || identity.Username != "Shop Page" {
		t.Errorf("identity = %+v, expected id 1234 and name Shop Page", identity)
	}
	if path := fake.lastRequest(t).Path; path != "/me" {
		t.Errorf("path = %q, expected /me without a version", path)
	}
}

func TestFetchIdentityProviderError(t *testing.T) {
	fake := newFakeProvider(t, jsonReply(http.StatusUnauthorized,
		`{"error":{"message":"Error validating access token: The session has been invalidated","type":"OAuthException","code":190,"error_subcode":460}}`))

	_, err := instagramProvider(fake.URL).FetchIdentity(context.Background(), testLongToken)

	providerError, ok := errors.AsType[*ProviderError](err)
	if !ok {
		t.Fatalf("error = %v, expected a *ProviderError", err)
	}
	if providerError.Endpoint != EndpointIdentity {
		t.Errorf("endpoint = %q, expected %q", providerError.Endpoint, EndpointIdentity)
	}
	if !providerError.RequiresReauthorization([]int{190}) {
		t.Error("code 190 subcode 460 does not require reauthorization")
	}
	assertNoSecrets(t, err.Error())
}

func TestFetchIdentityNotConfigured(t *testing.T) {
	provider := instagramProvider("http://127.0.0.1:1")
	provider.Identity = nil

	_, err := provider.FetchIdentity(context.Background(), testLongToken)
	if !errors.Is(err, errors.ErrUnsupported) {
		t.Errorf("error = %v, expected errors.ErrUnsupported", err)
	}

	provider.Identity = &IdentityRequest{Path: "/me"}
	if _, err := provider.FetchIdentity(context.Background(), testLongToken); err == nil {
		t.Error("FetchIdentity without user_id_field succeeded, expected an error")
	}
	if _, err := instagramProvider("http://127.0.0.1:1").FetchIdentity(context.Background(), ""); err == nil {
		t.Error("FetchIdentity with an empty token succeeded, expected an error")
	}
}

// Package oauthflow runs the OAuth steps of one provider: the consent URL,
// the authorization-code exchange, the long-lived exchange, refresh and the
// identity lookup. It also signs the OAuth state and decides when a stored
// token is due for refresh.
//
// Provider quirks come from app data (TokenRequest, IdentityRequest,
// CodeSuffix, ScopeSeparator), so Instagram, Threads and Facebook differ only
// in the values they put into a Provider. The package has no Caddy types.
package oauthflow

import (
	"net/http"
	"strings"
	"time"

	"golang.org/x/oauth2"
)

// Endpoint names used in errors, in ProviderError.Endpoint and in
// RequestError.Endpoint.
const (
	EndpointCodeExchange      = "code exchange"
	EndpointLongLivedExchange = "long-lived exchange"
	EndpointRefresh           = "refresh"
	EndpointIdentity          = "identity"
)

// defaultHTTPTimeout bounds each provider call when Provider.HTTPClient is nil.
const defaultHTTPTimeout = 30 * time.Second

// defaultHTTPClient is shared by every Provider without its own HTTPClient.
var defaultHTTPClient = &http.Client{Timeout: defaultHTTPTimeout}

// TokenRequest is one provider token call described by app data
// (app.json "long_lived_exchange" and "refresh"). Query values may contain
// the placeholders {client_id}, {client_secret}, {access_token} and
// {redirect_uri}, replaced at call time.
type TokenRequest struct {
	// Method is GET or POST, and empty means GET. A GET sends the
	// parameters in the query string and a POST sends them as a form body.
	Method string `json:"method"`

	// Path is relative to Provider.APIBaseURL and unversioned.
	Path string `json:"path"`

	// Query holds the request parameters, with placeholders in the values.
	Query map[string]string `json:"query,omitempty"`
}

// IdentityRequest describes the call that names the linked account.
type IdentityRequest struct {
	// Path is relative to APIBaseURL + "/" + APIVersion.
	Path string `json:"path"`

	// Query holds the request parameters, with the same placeholders as
	// TokenRequest.Query. The token itself goes in the Authorization header.
	Query map[string]string `json:"query,omitempty"`

	// UserIDField names the reply field with the account id. Its value may
	// be a JSON number or string, and its digits are kept exactly.
	UserIDField string `json:"user_id_field"`

	// UsernameField names the reply field with the account name.
	UsernameField string `json:"username_field"`
}

// Provider talks to one OAuth provider for one client registration.
// A Provider is safe for concurrent use as long as its fields are not changed.
type Provider struct {
	// Name starts every error message, for example "instagram". Empty
	// leaves errors without a provider name.
	Name string

	ClientID       string
	ClientSecret   string
	RedirectURL    string
	Scopes         []string
	ScopeSeparator string // "," for Instagram, or empty for the RFC 6749 space

	AuthorizeURL string
	TokenURL     string
	APIBaseURL   string
	APIVersion   string

	CodeSuffix string // "#_": stripped from a code that ends with it

	LongLivedExchange *TokenRequest // nil: the code exchange already gives the stored token
	Refresh           *TokenRequest // nil: tokens cannot be refreshed
	Identity          *IdentityRequest

	HTTPClient *http.Client     // nil: a client with a 30 s timeout
	Now        func() time.Time // nil: time.Now
}

// ShortToken is the reply of the authorization-code exchange.
type ShortToken struct {
	AccessToken string
	UserID      string // exact decimal digits, never through float64, or empty when the reply has none
	Permissions []string
}

// Token is a token with a known lifetime, from the long-lived exchange or a refresh.
type Token struct {
	AccessToken string
	TokenType   string
	IssuedAt    time.Time // when the reply arrived (UTC)
	ExpiresAt   time.Time // request start + expires_in (UTC)
}

// Identity names the linked account.
type Identity struct {
	UserID   string
	Username string
}

// AuthorizationURL returns the consent URL that the browser opens. The URL
// carries client_id, redirect_uri, response_type=code, the scopes joined by
// ScopeSeparator and state, after any query that AuthorizeURL already has.
func (p *Provider) AuthorizationURL(state string) string {
	// x/oauth2 joins Config.Scopes with spaces, so the scope goes in as a
	// plain parameter and Config.Scopes stays empty.
	config := &oauth2.Config{
		ClientID:    p.ClientID,
		RedirectURL: p.RedirectURL,
		Endpoint:    oauth2.Endpoint{AuthURL: p.AuthorizeURL},
	}

	var options []oauth2.AuthCodeOption
	if len(p.Scopes) > 0 {
		options = append(options, oauth2.SetAuthURLParam("scope", strings.Join(p.Scopes, p.scopeSeparator())))
	}

	return config.AuthCodeURL(state, options...)
}

func (p *Provider) scopeSeparator() string {
	if p.ScopeSeparator == "" {
		return " "
	}
	return p.ScopeSeparator
}

func (p *Provider) httpClient() *http.Client {
	if p.HTTPClient != nil {
		return p.HTTPClient
	}
	return defaultHTTPClient
}

// now returns the current time in UTC from the Now seam.
func (p *Provider) now() time.Time {
	if p.Now != nil {
		return p.Now().UTC()
	}
	return time.Now().UTC()
}

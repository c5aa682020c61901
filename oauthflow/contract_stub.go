package oauthflow

// CONTRACT STUB: the helper that owns this package replaces this file with
// real implementations split by concept (state.go, provider.go, errors.go,
// policy.go). Exported names and signatures below are the contract the
// gateway core codes against; do not change them without telling the lead.

import (
	"context"
	"net/http"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// TokenRequest is one provider token call described by app data
// (app.json "long_lived_exchange" and "refresh"). Query values may contain
// the placeholders {client_id}, {client_secret}, {access_token} and
// {redirect_uri}, replaced at call time.
type TokenRequest struct {
	Method string            `json:"method"`
	Path   string            `json:"path"` // relative to Provider.APIBaseURL, unversioned
	Query  map[string]string `json:"query,omitempty"`
}

// IdentityRequest describes the call that names the linked account.
type IdentityRequest struct {
	Path          string            `json:"path"` // relative to APIBaseURL + "/" + APIVersion
	Query         map[string]string `json:"query,omitempty"`
	UserIDField   string            `json:"user_id_field"`
	UsernameField string            `json:"username_field"`
}

// Provider talks to one OAuth provider for one client registration.
type Provider struct {
	ClientID       string
	ClientSecret   string
	RedirectURL    string
	Scopes         []string
	ScopeSeparator string // "," for Instagram

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
	UserID      string // exact decimal digits, never through float64
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

func (p *Provider) AuthorizationURL(state string) string                               { panic("stub") }
func (p *Provider) ExchangeCode(ctx context.Context, code string) (*ShortToken, error) { panic("stub") }
func (p *Provider) ExchangeLongLived(ctx context.Context, shortToken string) (*Token, error) {
	panic("stub")
}
func (p *Provider) RefreshToken(ctx context.Context, token string) (*Token, error) { panic("stub") }
func (p *Provider) FetchIdentity(ctx context.Context, token string) (*Identity, error) {
	panic("stub")
}

// ProviderError is an error reply from the provider, parsed from any of the
// shapes: flat {"error_type","code","error_message"}, the Graph envelope
// {"error":{"message","type","code","error_subcode","fbtrace_id"}}, and
// RFC 6749 {"error","error_description"}.
type ProviderError struct {
	Endpoint   string // "code exchange", "long-lived exchange", "refresh", "identity"
	StatusCode int
	Type       string
	Code       int
	Subcode    int
	Message    string
	TraceID    string
}

func (e *ProviderError) Error() string { panic("stub") }

// ParseProviderError parses an error body; it never returns nil.
func ParseProviderError(endpoint string, status int, body []byte) *ProviderError { panic("stub") }

// StateClaims is the payload of the signed OAuth state.
type StateClaims struct {
	App      string `json:"app"`
	Tenant   string `json:"tenant"`
	Owner    string `json:"owner"`
	ReturnTo string `json:"return_to,omitempty"`
	jwt.RegisteredClaims
}

type StateSigner struct{}

func NewStateSigner(key []byte, ttl time.Duration) (*StateSigner, error) { panic("stub") }
func (s *StateSigner) Issue(app, tenant, owner, returnTo string) (string, *StateClaims, error) {
	panic("stub")
}
func (s *StateSigner) Verify(state string) (*StateClaims, error) { panic("stub") }

// RefreshPolicy decides what to do with a stored token.
type RefreshPolicy struct {
	Window time.Duration // refresh when expiry is this close
	MinAge time.Duration // never refresh a younger token
}

type Decision int

const (
	Fresh Decision = iota
	RefreshDue
	TooYoungToRefresh
	Expired
)

func (p RefreshPolicy) Decide(now, issuedAt, expiresAt time.Time) Decision { panic("stub") }

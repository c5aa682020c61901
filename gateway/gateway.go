// Package gateway is the credential-injecting gateway without Caddy types.
// It serves the OAuth linking endpoints, maps client requests to declared
// API functions and keeps each linked account's token alive in the
// credential store. The prepared upstream request goes to an Upstream,
// which is Caddy's reverse proxy in production.
package gateway

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"go.uber.org/zap"
	"golang.org/x/sync/singleflight"

	"github.com/credgate/credgate/apps"
	"github.com/credgate/credgate/oauthflow"
	"github.com/credgate/credgate/vault"
)

// DefaultTenant is the tenant of requests whose tenant value is empty.
const DefaultTenant = "default"

// maxBodyBytes bounds a client request body; API arguments are small.
const maxBodyBytes = 1 << 20

// CredentialStore keeps linked accounts. *vault.Store implements it.
type CredentialStore interface {
	Get(ctx context.Context, key vault.Key) (*vault.Account, int, error)
	Put(ctx context.Context, key vault.Key, a *vault.Account, version int) (int, error)
	Update(ctx context.Context, key vault.Key, fn func(cur *vault.Account) (*vault.Account, error)) (*vault.Account, error)
	ConsumeState(ctx context.Context, id string, expiresAt time.Time) error
}

// Upstream sends a prepared request to the API and writes the reply to w
// unchanged. It returns *UpstreamError when no reply arrived.
type Upstream func(w http.ResponseWriter, r *http.Request) error

// AccountResolver returns the tenant and owner values for a request. An
// empty tenant means DefaultTenant; an empty owner means none was sent.
type AccountResolver func(r *http.Request) (tenant, owner string)

// Config is everything a Gateway needs.
type Config struct {
	App      *apps.App
	Provider *oauthflow.Provider
	Store    CredentialStore
	States   *oauthflow.StateSigner
	Refresh  oauthflow.RefreshPolicy
	Upstream Upstream
	Accounts AccountResolver

	// OwnerSource names where the owner comes from, for error messages,
	// such as "the X-Linked-Account-Owner header".
	OwnerSource string

	// AllowReturnTo lists URL prefixes the callback may redirect to.
	AllowReturnTo []string

	// RefreshTimeout bounds one refresh call; default 30 s.
	RefreshTimeout time.Duration

	// Metrics receives counts of refreshes, links and reauthorization
	// marks. Nil counts nothing.
	Metrics Metrics

	Logger *zap.Logger
	Now    func() time.Time
}

// Gateway serves one app at one mount point.
type Gateway struct {
	cfg    Config
	log    *zap.Logger
	now    func() time.Time
	allow  []*url.URL
	flight singleflight.Group

	// instanceID names this gateway as the holder of refresh leases.
	instanceID string

	backoff refreshBackoff
}

// New checks cfg and builds a Gateway.
func New(cfg Config) (*Gateway, error) {
	if cfg.App == nil || cfg.Provider == nil || cfg.Store == nil || cfg.States == nil || cfg.Upstream == nil || cfg.Accounts == nil {
		return nil, errors.New("gateway config needs App, Provider, Store, States, Upstream and Accounts")
	}

	instanceID, err := randomInstanceID()
	if err != nil {
		return nil, err
	}
	g := &Gateway{cfg: cfg, log: cfg.Logger, now: cfg.Now, instanceID: instanceID}
	if g.log == nil {
		g.log = zap.NewNop()
	}
	if g.now == nil {
		g.now = time.Now
	}
	if g.cfg.Metrics == nil {
		g.cfg.Metrics = noMetrics{}
	}
	if g.cfg.RefreshTimeout <= 0 {
		g.cfg.RefreshTimeout = 30 * time.Second
	}
	if g.cfg.OwnerSource == "" {
		g.cfg.OwnerSource = "the owner value"
	}

	for _, prefix := range cfg.AllowReturnTo {
		u, err := ParseReturnToPrefix(prefix)
		if err != nil {
			return nil, err
		}
		g.allow = append(g.allow, u)
	}
	return g, nil
}

// randomInstanceID returns 96 random bits, hex-encoded.
func randomInstanceID() (string, error) {
	b := make([]byte, 12)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("generating the gateway instance id: %w", err)
	}
	return hex.EncodeToString(b), nil
}

// AppName returns the name of the gateway's app, such as "instagram".
func (g *Gateway) AppName() string { return g.cfg.App.Name }

// ServeHTTP dispatches on the path relative to the mount point: the
// gateway's own endpoints first, then any other path as an API route.
func (g *Gateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	path := r.URL.Path
	switch {
	case path == "/oauth/authorize":
		g.serveAuthorize(w, r)
	case path == "/oauth/callback":
		g.serveCallback(w, r)
	case strings.HasPrefix(path, "/oauth/"):
		writeError(w, newError(http.StatusNotFound, CodeUnknownRoute,
			"%s is not a gateway endpoint; use /oauth/authorize or /oauth/callback", path))
	case path == "/functions":
		g.serveFunctionList(w, r)
	case strings.HasPrefix(path, "/functions/"):
		g.serveFunctionCall(w, r, strings.TrimPrefix(path, "/functions/"))
	default:
		g.serveRoute(w, r)
	}
}

// ParseReturnToPrefix checks one allow_return_to entry: an absolute http or
// https URL with a host, no query and no fragment.
func ParseReturnToPrefix(prefix string) (*url.URL, error) {
	u, err := url.Parse(prefix)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return nil, fmt.Errorf("invalid allow_return_to %q: use an absolute http or https URL prefix without query or fragment, such as https://app.example.com/", prefix)
	}
	if u.Path == "" {
		u.Path = "/"
	}
	return u, nil
}

// returnToAllowed reports whether target starts with an allowed prefix:
// the same scheme and host, and a path under the prefix's path at a
// segment boundary, so https://app.example.com/ok does not allow
// https://app.example.com/okay or https://app.example.com.evil.test/.
// Targets with dot segments or backslashes are rejected, because browsers
// resolve /ok/../admin, /ok/%2e%2e/admin and /ok/..\admin to /admin.
func (g *Gateway) returnToAllowed(target string) bool {
	if strings.Contains(target, `\`) {
		return false
	}
	u, err := url.Parse(target)
	if err != nil || u.User != nil || u.Host == "" || u.Opaque != "" {
		return false
	}
	path := u.EscapedPath()
	if path == "" {
		path = "/"
	}
	if hasDotSegment(path) {
		return false
	}
	for _, prefix := range g.allow {
		if !strings.EqualFold(u.Scheme, prefix.Scheme) || !strings.EqualFold(u.Host, prefix.Host) {
			continue
		}
		prefixPath := prefix.EscapedPath()
		if path == prefixPath || strings.HasSuffix(prefixPath, "/") && strings.HasPrefix(path, prefixPath) ||
			strings.HasPrefix(path, prefixPath+"/") {
			return true
		}
	}
	return false
}

// hasDotSegment reports whether an escaped path has a "." or ".." segment,
// percent-encoded or not, or a segment a browser would decode to one.
func hasDotSegment(escapedPath string) bool {
	decoded, err := url.PathUnescape(escapedPath)
	if err != nil {
		return true
	}
	for _, segment := range strings.FieldsFunc(decoded, func(r rune) bool { return r == '/' || r == '\\' }) {
		if segment == "." || segment == ".." {
			return true
		}
	}
	return false
}

// accountKey resolves and validates the account a request acts for.
func (g *Gateway) accountKey(r *http.Request, owner string) (vault.Key, *Error) {
	tenant, resolvedOwner := g.cfg.Accounts(r)
	if owner == "" {
		owner = resolvedOwner
	}
	if tenant == "" {
		tenant = DefaultTenant
	}
	if owner == "" {
		return vault.Key{}, newError(http.StatusBadRequest, CodeMissingOwner,
			"no linked account owner in the request: set %s", g.cfg.OwnerSource)
	}
	if err := vault.ValidateSegment("tenant", tenant); err != nil {
		return vault.Key{}, newError(http.StatusBadRequest, CodeInvalidAccountID, "%v", err)
	}
	if err := vault.ValidateSegment("owner", owner); err != nil {
		return vault.Key{}, newError(http.StatusBadRequest, CodeInvalidAccountID, "%v", err)
	}
	return vault.Key{App: g.cfg.App.Name, Tenant: tenant, Owner: owner}, nil
}

// authorizeURL returns a consent URL with a fresh state for key.
func (g *Gateway) authorizeURL(key vault.Key, returnTo string) (string, error) {
	state, _, err := g.cfg.States.Issue(key.App, key.Tenant, key.Owner, returnTo)
	if err != nil {
		return "", fmt.Errorf("issuing state: %w", err)
	}
	return g.cfg.Provider.AuthorizationURL(state), nil
}

// accountLogFields identifies an account in log entries. None is secret.
func accountLogFields(key vault.Key) []zap.Field {
	return []zap.Field{
		zap.String("app", key.App),
		zap.String("tenant", key.Tenant),
		zap.String("owner", key.Owner),
	}
}

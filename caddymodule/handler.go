package caddymodule

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp/reverseproxy"

	"github.com/credgate/credgate/apps"
	"github.com/credgate/credgate/gateway"
	"github.com/credgate/credgate/oauthflow"
)

func init() {
	caddy.RegisterModule(Handler{})
}

// Default placeholders that name the account a request acts for.
const (
	defaultTenant = "{http.auth.user.id}"
	defaultOwner  = "{http.request.header.X-Linked-Account-Owner}"
)

// Handler serves one provider app where it is mounted. It serves the OAuth
// linking endpoints /oauth/authorize and /oauth/callback, and the function
// list and calls under /functions. Every other path is an API route that
// is validated, given the linked account's token and proxied upstream. Paths
// are relative to the mount point, which the handler reads from the path of
// redirect_url (/instagram for .../instagram/oauth/callback) and strips
// itself. Mount it with handle rather than handle_path: the rewrite of
// handle_path logs the whole request URI at debug level, and the callback's
// URI carries the authorization code and state.
//
// It needs the credgate app in the global options.
type Handler struct {
	// App names the built-in provider app, such as "instagram". Required.
	App string `json:"app,omitempty"`

	// ClientID is the OAuth client id of the provider app. Required.
	ClientID string `json:"client_id,omitempty"`

	// ClientSecret is the OAuth client secret. Required. Use a placeholder
	// such as {env.INSTAGRAM_CLIENT_SECRET} rather than a literal value.
	ClientSecret string `json:"client_secret,omitempty"`

	// RedirectURL is this handler's callback URL as registered with the
	// provider: the mount point followed by /oauth/callback. Required.
	RedirectURL string `json:"redirect_url,omitempty"`

	// Scopes requested at consent. Default: the app's default scopes
	// (instagram_business_basic for Instagram). Each must be a scope the
	// provider accepts, and the app's required scopes must be included.
	Scopes []string `json:"scopes,omitempty"`

	// Tenant is a placeholder for the tenant a request belongs to, the
	// first level of account isolation. An empty value means "default".
	// Default: {http.auth.user.id}, the user an authentication handler
	// such as basic_auth or forward_auth set.
	Tenant string `json:"tenant,omitempty"`

	// Owner is a placeholder for the linked account a request acts for
	// within its tenant. Default: {http.request.header.X-Linked-Account-Owner}.
	// The authorize endpoint also takes it from its owner query parameter.
	Owner string `json:"owner,omitempty"`

	// RefreshWindow is how long before expiry a token is refreshed on use.
	// Default: the app's window, 360h (15 days) for Instagram.
	RefreshWindow caddy.Duration `json:"refresh_window,omitempty"`

	// AuthorizeURL overrides the app's consent page URL, for a local test
	// server. Default: the app's (https://www.instagram.com/oauth/authorize).
	AuthorizeURL string `json:"authorize_url,omitempty"`

	// TokenURL overrides the app's code exchange URL. Default: the app's
	// (https://api.instagram.com/oauth/access_token).
	TokenURL string `json:"token_url,omitempty"`

	// GraphURL overrides the app's API base URL, used for API calls and the
	// token exchange and refresh. Default: the app's
	// (https://graph.instagram.com).
	GraphURL string `json:"graph_url,omitempty"`

	// UpstreamTimeout is how long an API call may wait for the response
	// headers before the client gets 504 upstream_timeout. Default: 60s.
	UpstreamTimeout caddy.Duration `json:"upstream_timeout,omitempty"`

	gateway *gateway.Gateway
	proxy   *reverseproxy.Handler
	shared  *App

	// mountPath is the path prefix the handler is mounted at, from
	// redirect_url; basePath is the path of graph_url.
	mountPath string
	basePath  string
}

// CaddyModule returns the Caddy module information.
func (Handler) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{
		ID:  "http.handlers.credgate",
		New: func() caddy.Module { return new(Handler) },
	}
}

// Provision loads the app data, resolves secrets and builds the gateway and
// its reverse proxy.
func (h *Handler) Provision(ctx caddy.Context) error {
	repl := caddy.NewReplacer()

	// load app data
	app, err := apps.Load(h.App)
	if err != nil {
		return err
	}

	// resolve settings
	clientSecret, err := repl.ReplaceOrErr(h.ClientSecret, true, true)
	if err != nil || clientSecret == "" {
		return fmt.Errorf("credgate %s: client_secret %s is empty; set it, for example client_secret {env.INSTAGRAM_CLIENT_SECRET}", h.App, placeholderName(h.ClientSecret))
	}
	clientID := repl.ReplaceAll(h.ClientID, "")
	if clientID == "" && h.ClientID != "" {
		return fmt.Errorf("credgate %s: client_id %s is empty; set the variable it names", h.App, placeholderName(h.ClientID))
	}
	redirectURL := repl.ReplaceAll(h.RedirectURL, "")
	authorizeURL := firstNonEmpty(repl.ReplaceAll(h.AuthorizeURL, ""), app.AuthorizeURL)
	tokenURL := firstNonEmpty(repl.ReplaceAll(h.TokenURL, ""), app.TokenURL)
	graphURL := firstNonEmpty(repl.ReplaceAll(h.GraphURL, ""), app.APIBaseURL)
	if err := checkSettings(app, clientID, redirectURL, authorizeURL, tokenURL, graphURL); err != nil {
		return fmt.Errorf("credgate %s: %w", h.App, err)
	}
	scopes, err := checkScopes(app, h.Scopes)
	if err != nil {
		return fmt.Errorf("credgate %s: %w", h.App, err)
	}
	h.mountPath, _ = mountPath(redirectURL)
	if h.Tenant == "" {
		h.Tenant = defaultTenant
	}
	if h.Owner == "" {
		h.Owner = defaultOwner
	}

	// get the shared app
	appModule, err := ctx.App("credgate")
	if err != nil {
		return fmt.Errorf("credgate %s: loading the credgate app: %w", h.App, err)
	}
	shared := appModule.(*App)

	// set up the reverse proxy
	upstream, _ := url.Parse(graphURL)
	h.basePath = strings.TrimSuffix(upstream.EscapedPath(), "/")
	timeout := time.Duration(h.UpstreamTimeout)
	if timeout == 0 {
		timeout = defaultResponseHeaderTimeout
	}
	h.proxy, err = newReverseProxy(ctx, upstream, timeout)
	if err != nil {
		return fmt.Errorf("credgate %s: setting up the reverse proxy to %s: %w", h.App, graphURL, err)
	}

	// set up the gateway
	provider := &oauthflow.Provider{
		Name:              app.DisplayName,
		ClientID:          clientID,
		ClientSecret:      clientSecret,
		RedirectURL:       redirectURL,
		Scopes:            scopes,
		ScopeSeparator:    app.ScopeSeparator,
		AuthorizeURL:      authorizeURL,
		TokenURL:          tokenURL,
		APIBaseURL:        graphURL,
		APIVersion:        app.APIVersion,
		CodeSuffix:        app.CodeSuffix,
		LongLivedExchange: app.LongLivedExchange,
		Identity:          app.Identity,
	}
	policy := oauthflow.RefreshPolicy{Window: time.Duration(h.RefreshWindow)}
	if app.Refresh != nil {
		provider.Refresh = &app.Refresh.TokenRequest
		policy.MinAge = time.Duration(app.Refresh.MinTokenAge)
		if policy.Window == 0 {
			policy.Window = time.Duration(app.Refresh.DefaultWindow)
		}
		if err := app.Refresh.CheckWindow(policy.Window); err != nil {
			return fmt.Errorf("credgate %s: %w", h.App, err)
		}
	}
	h.gateway, err = gateway.New(gateway.Config{
		App:           app,
		Provider:      provider,
		Store:         shared.store,
		States:        shared.states,
		Refresh:       policy,
		Upstream:      h.forward,
		Accounts:      h.account,
		OwnerSource:   describeSource(h.Owner),
		AllowReturnTo: shared.AllowReturnTo,
		Metrics:       shared.gatewayMetrics(),
		Logger:        ctx.Logger(),
	})
	if err != nil {
		return fmt.Errorf("credgate %s: %w", h.App, err)
	}
	h.shared = shared
	shared.register(h.gateway)
	return nil
}

// Validate checks the settings that need no placeholder resolution.
func (h *Handler) Validate() error {
	if h.App == "" {
		return fmt.Errorf("credgate: app is missing; name one of %s", strings.Join(apps.Names(), ", "))
	}
	if h.RefreshWindow < 0 {
		return fmt.Errorf("credgate %s: refresh_window must not be negative", h.App)
	}
	if h.UpstreamTimeout < 0 {
		return fmt.Errorf("credgate %s: upstream_timeout must not be negative", h.App)
	}
	return nil
}

// Cleanup stops the reverse proxy and the background refresh of this
// handler's accounts.
func (h *Handler) Cleanup() error {
	if h.shared != nil && h.gateway != nil {
		h.shared.unregister(h.gateway)
	}
	if h.proxy != nil {
		return h.proxy.Cleanup()
	}
	return nil
}

// ServeHTTP implements caddyhttp.MiddlewareHandler. It writes the response
// to every request itself and never calls next.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request, _ caddyhttp.Handler) error {
	h.gateway.ServeHTTP(w, h.stripMountPath(r))
	return nil
}

// stripMountPath returns r with the mount path removed from its URL. A
// path without the prefix, as handle_path leaves it, is returned as is.
func (h *Handler) stripMountPath(r *http.Request) *http.Request {
	if h.mountPath == "" {
		return r
	}
	rest, ok := strings.CutPrefix(r.URL.Path, h.mountPath)
	if !ok || (rest != "" && rest[0] != '/') {
		return r
	}
	if rest == "" {
		rest = "/"
	}

	u := *r.URL
	u.Path = rest
	u.RawPath = ""
	if escaped, ok := strings.CutPrefix(r.URL.RawPath, h.mountPath); ok {
		u.RawPath = escaped
	}
	stripped := r.WithContext(r.Context())
	stripped.URL = &u
	return stripped
}

// account resolves the tenant and owner placeholders for r.
func (h *Handler) account(r *http.Request) (string, string) {
	repl, ok := r.Context().Value(caddy.ReplacerCtxKey).(*caddy.Replacer)
	if !ok {
		return "", ""
	}
	return repl.ReplaceAll(h.Tenant, ""), repl.ReplaceAll(h.Owner, "")
}

// forward sends a prepared request through Caddy's reverse proxy.
func (h *Handler) forward(w http.ResponseWriter, r *http.Request) error {
	if h.basePath != "" {
		r.URL.Path = h.basePath + r.URL.Path
		if r.URL.RawPath != "" {
			r.URL.RawPath = h.basePath + r.URL.RawPath
		}
	}

	err := h.proxy.ServeHTTP(w, r, caddyhttp.HandlerFunc(func(http.ResponseWriter, *http.Request) error { return nil }))
	if err == nil {
		return nil
	}
	status := http.StatusBadGateway
	var handlerErr caddyhttp.HandlerError
	if errors.As(err, &handlerErr) && handlerErr.StatusCode != 0 {
		status = handlerErr.StatusCode
	}
	return &gateway.UpstreamError{Status: status, Err: err}
}

func checkSettings(app *apps.App, clientID, redirectURL, authorizeURL, tokenURL, graphURL string) error {
	if clientID == "" {
		return fmt.Errorf("client_id is missing; set the OAuth client id of your %s app", app.DisplayName)
	}
	if err := checkRedirectURL(app, redirectURL); err != nil {
		return err
	}
	for name, value := range map[string]string{"authorize_url": authorizeURL, "token_url": tokenURL, "graph_url": graphURL} {
		if err := apps.ValidateBaseURL(value); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
	}
	return nil
}

func checkScopes(app *apps.App, scopes []string) ([]string, error) {
	if len(scopes) == 0 {
		return app.DefaultScopes, nil
	}
	for _, scope := range scopes {
		if !app.IsKnownScope(scope) {
			return nil, fmt.Errorf("unknown scope %q; %s accepts %s", scope, app.DisplayName, strings.Join(app.KnownScopes, ", "))
		}
	}
	for _, required := range app.RequiredScopes {
		if !slices.Contains(scopes, required) {
			return nil, fmt.Errorf("scopes must include %s", required)
		}
	}
	return scopes, nil
}

// callbackPath is the callback's path relative to the mount point.
const callbackPath = "/oauth/callback"

// mountPath reads the mount point from the callback URL: the path before
// /oauth/callback, "" for a handler mounted at the root. ok is false when
// the URL does not end with /oauth/callback.
func mountPath(redirectURL string) (prefix string, ok bool) {
	u, err := url.Parse(redirectURL)
	if err != nil {
		return "", false
	}
	prefix, ok = strings.CutSuffix(u.Path, callbackPath)
	if !ok {
		return "", false
	}
	return prefix, true
}

// checkRedirectURL requires an absolute http or https URL whose path is
// the mount point followed by /oauth/callback.
func checkRedirectURL(app *apps.App, redirectURL string) error {
	redirect, err := url.Parse(redirectURL)
	if redirectURL == "" || err != nil || (redirect.Scheme != "http" && redirect.Scheme != "https") || redirect.Host == "" {
		return fmt.Errorf("redirect_url %q must be the absolute URL of this handler's %s, as registered with %s", redirectURL, callbackPath, app.DisplayName)
	}
	if _, ok := mountPath(redirectURL); !ok {
		return fmt.Errorf("redirect_url %q must end with %s after the path the handler is mounted at, such as https://gw.example.com/instagram%s for handle /instagram/*", redirectURL, callbackPath, callbackPath)
	}
	return nil
}

// placeholderName returns a config value for an error message when it is
// a single placeholder, such as {env.INSTAGRAM_CLIENT_ID}, and "" for a
// literal value, which may be a secret.
func placeholderName(value string) string {
	if strings.HasPrefix(value, "{") && strings.HasSuffix(value, "}") && strings.Count(value, "{") == 1 {
		return value
	}
	return ""
}

var headerPlaceholder = regexp.MustCompile(`^\{http\.request\.header\.([A-Za-z0-9-]+)\}$`)

// describeSource names a placeholder for error messages.
func describeSource(placeholder string) string {
	if m := headerPlaceholder.FindStringSubmatch(placeholder); m != nil {
		return "the " + m[1] + " request header"
	}
	return "the value of " + placeholder
}

func firstNonEmpty(values ...string) string {
	for _, v := range values {
		if v != "" {
			return v
		}
	}
	return ""
}

// Interface guards
var (
	_ caddy.Provisioner           = (*Handler)(nil)
	_ caddy.Validator             = (*Handler)(nil)
	_ caddy.CleanerUpper          = (*Handler)(nil)
	_ caddyhttp.MiddlewareHandler = (*Handler)(nil)
)

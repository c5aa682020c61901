// Package apps loads the provider descriptions that drive the gateway: one
// folder per app with app.json (OAuth endpoints, scopes, API version, token
// lifecycle rules) and functions.json (the API functions a client may call,
// with JSON Schema parameters). Provider quirks live in this data, so a new
// provider with the same token pattern needs a new folder, not new code.
package apps

import (
	"bytes"
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"net/url"
	"path"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/credgate/credgate/oauthflow"
)

//go:embed */app.json */functions.json
var builtin embed.FS

// App is one provider description.
type App struct {
	// Name is the app identifier, equal to its folder name.
	Name string `json:"name"`

	// DisplayName is the provider name shown to end users.
	DisplayName string `json:"display_name"`

	// Description is a one-line summary of what the app gives access to.
	Description string `json:"description,omitempty"`

	// AuthorizeURL is the consent page the end user is sent to.
	AuthorizeURL string `json:"authorize_url"`

	// TokenURL exchanges an authorization code for a token.
	TokenURL string `json:"token_url"`

	// APIBaseURL is the API host, without the version.
	APIBaseURL string `json:"api_base_url"`

	// APIVersion is the version prefix of every function path. Clients
	// cannot choose another one.
	APIVersion string `json:"api_version"`

	// ScopeSeparator joins scopes in the authorization URL.
	ScopeSeparator string `json:"scope_separator"`

	// DefaultScopes are requested when the operator names none.
	DefaultScopes []string `json:"default_scopes"`

	// RequiredScopes must be part of every scope list.
	RequiredScopes []string `json:"required_scopes,omitempty"`

	// KnownScopes are all scopes the provider accepts. Empty allows any.
	KnownScopes []string `json:"known_scopes,omitempty"`

	// CodeSuffix is stripped from the end of an authorization code.
	CodeSuffix string `json:"code_suffix,omitempty"`

	// LongLivedExchange swaps the code-exchange token for a long-lived one.
	LongLivedExchange *oauthflow.TokenRequest `json:"long_lived_exchange,omitempty"`

	// Refresh extends a token's life.
	Refresh *RefreshRule `json:"refresh,omitempty"`

	// Identity names the linked account.
	Identity *oauthflow.IdentityRequest `json:"identity"`

	// Credential is the rule for putting a token on an upstream request.
	Credential CredentialRule `json:"credential"`

	// ReauthorizationErrorCodes are provider error codes meaning the token
	// is dead (expired, revoked or invalid) and the user must link again.
	ReauthorizationErrorCodes []int `json:"reauthorization_error_codes,omitempty"`

	// Functions are the declared API functions, in file order.
	Functions []*Function `json:"-"`

	functionsByName map[string]*Function
}

// RefreshRule is the refresh request and the limits on when it may be sent.
type RefreshRule struct {
	oauthflow.TokenRequest

	// MinTokenAge is the minimum token age the provider accepts for a
	// refresh.
	MinTokenAge Duration `json:"min_token_age,omitempty"`

	// DefaultWindow is how long before expiry a refresh starts, unless the
	// operator sets refresh_window.
	DefaultWindow Duration `json:"default_window,omitempty"`

	// TokenLifetime is the lifetime of a new or refreshed token. A refresh
	// window must be shorter than it minus MinTokenAge, or every call would
	// refresh.
	TokenLifetime Duration `json:"token_lifetime,omitempty"`
}

// CheckWindow checks that a refresh window leaves a token time to age: a
// window of at least the token lifetime minus the minimum age would ask
// for a refresh on every call once a token is old enough.
func (r *RefreshRule) CheckWindow(window time.Duration) error {
	if r.TokenLifetime == 0 {
		return nil
	}
	limit := time.Duration(r.TokenLifetime) - time.Duration(r.MinTokenAge)
	if window >= limit {
		return fmt.Errorf("refresh_window %v must be shorter than %v (the token lifetime %v minus the minimum age %v); the default is %v",
			window, limit, time.Duration(r.TokenLifetime), time.Duration(r.MinTokenAge), time.Duration(r.DefaultWindow))
	}
	return nil
}

// CredentialRule is the rule for putting a token on an upstream request.
type CredentialRule struct {
	// Header carries the token, "Authorization" for a bearer token.
	Header string `json:"header"`

	// Scheme goes before the token in Header, such as "Bearer".
	Scheme string `json:"scheme,omitempty"`

	// StripQuery names query parameters that could carry a client's own
	// token; they are removed from every client request.
	StripQuery []string `json:"strip_query,omitempty"`
}

// Duration is a time.Duration written as a Go duration string ("24h").
type Duration time.Duration

// UnmarshalJSON parses a duration string such as "24h" or "360h".
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("duration must be a string such as \"24h\": %w", err)
	}
	parsed, err := time.ParseDuration(s)
	if err != nil {
		return err
	}
	if parsed < 0 {
		return fmt.Errorf("duration %q must not be negative", s)
	}
	*d = Duration(parsed)
	return nil
}

// MarshalJSON writes the duration as a Go duration string.
func (d Duration) MarshalJSON() ([]byte, error) {
	return json.Marshal(time.Duration(d).String())
}

var appNamePattern = regexp.MustCompile(`^[a-z][a-z0-9_-]{0,62}$`)

// Names lists the built-in apps.
func Names() []string {
	entries, err := fs.ReadDir(builtin, ".")
	if err != nil {
		return nil
	}
	var names []string
	for _, e := range entries {
		if e.IsDir() {
			names = append(names, e.Name())
		}
	}
	sort.Strings(names)
	return names
}

// Load reads, validates and compiles the built-in app with this name.
func Load(name string) (*App, error) {
	if !appNamePattern.MatchString(name) {
		return nil, fmt.Errorf("unknown app %q: known apps are %s", name, strings.Join(Names(), ", "))
	}
	appJSON, err := fs.ReadFile(builtin, path.Join(name, "app.json"))
	if err != nil {
		return nil, fmt.Errorf("unknown app %q: known apps are %s", name, strings.Join(Names(), ", "))
	}
	functionsJSON, err := fs.ReadFile(builtin, path.Join(name, "functions.json"))
	if err != nil {
		return nil, fmt.Errorf("app %q: reading functions.json: %w", name, err)
	}
	return Parse(name, appJSON, functionsJSON)
}

// Parse validates and compiles an app from the contents of its app.json and
// functions.json.
func Parse(name string, appJSON, functionsJSON []byte) (*App, error) {
	var app App
	if err := decodeStrict(appJSON, &app); err != nil {
		return nil, fmt.Errorf("app %q: invalid app.json: %w", name, err)
	}
	if app.Name != name {
		return nil, fmt.Errorf("app %q: app.json names %q; the name must equal the folder name", name, app.Name)
	}
	if err := app.validate(); err != nil {
		return nil, fmt.Errorf("app %q: invalid app.json: %w", name, err)
	}

	var functions []*Function
	if err := decodeStrict(functionsJSON, &functions); err != nil {
		return nil, fmt.Errorf("app %q: invalid functions.json: %w", name, err)
	}
	app.functionsByName = make(map[string]*Function, len(functions))
	for i, fn := range functions {
		if err := fn.compile(name); err != nil {
			return nil, fmt.Errorf("app %q: functions.json entry %d: %w", name, i, err)
		}
		if _, dup := app.functionsByName[fn.Name]; dup {
			return nil, fmt.Errorf("app %q: function %s is declared twice", name, fn.Name)
		}
		app.functionsByName[fn.Name] = fn
	}
	app.Functions = functions
	return &app, nil
}

// Function returns the function with this name, or nil.
func (a *App) Function(name string) *Function {
	return a.functionsByName[name]
}

// IsKnownScope reports whether the provider accepts scope.
func (a *App) IsKnownScope(scope string) bool {
	if len(a.KnownScopes) == 0 {
		return true
	}
	for _, known := range a.KnownScopes {
		if known == scope {
			return true
		}
	}
	return false
}

func (a *App) validate() error {
	for field, value := range map[string]string{
		"authorize_url": a.AuthorizeURL,
		"token_url":     a.TokenURL,
		"api_base_url":  a.APIBaseURL,
	} {
		if err := ValidateBaseURL(value); err != nil {
			return fmt.Errorf("%s: %w", field, err)
		}
	}
	if a.APIVersion == "" || strings.Contains(a.APIVersion, "/") {
		return fmt.Errorf("api_version %q must be one non-empty path segment such as \"v23.0\"", a.APIVersion)
	}
	if a.ScopeSeparator == "" {
		a.ScopeSeparator = " "
	}
	if len(a.DefaultScopes) == 0 {
		return fmt.Errorf("default_scopes must name at least one scope")
	}
	if a.Identity == nil || a.Identity.Path == "" || a.Identity.UserIDField == "" {
		return fmt.Errorf("identity needs path and user_id_field")
	}
	if a.Credential.Header == "" {
		return fmt.Errorf("credential.header is missing, such as \"Authorization\"")
	}
	if a.Refresh != nil && (a.Refresh.Path == "" || a.Refresh.Method == "") {
		return fmt.Errorf("refresh needs method and path")
	}
	if a.LongLivedExchange != nil && (a.LongLivedExchange.Path == "" || a.LongLivedExchange.Method == "") {
		return fmt.Errorf("long_lived_exchange needs method and path")
	}
	return nil
}

// ValidateBaseURL checks that raw is an absolute http or https URL with a
// host and no query or fragment, as authorize, token and API URLs must be.
func ValidateBaseURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("invalid URL %q: %w", raw, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return fmt.Errorf("invalid URL %q: the scheme must be http or https", raw)
	}
	if u.Host == "" {
		return fmt.Errorf("invalid URL %q: the host is missing", raw)
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return fmt.Errorf("invalid URL %q: remove the query and fragment", raw)
	}
	return nil
}

// decodeStrict decodes JSON and rejects unknown fields, so that a typo in
// app data fails at provision instead of being ignored.
func decodeStrict(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	return dec.Decode(v)
}

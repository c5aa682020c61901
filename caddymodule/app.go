// Package caddymodule registers credgate with Caddy: the app "credgate",
// configured in the global options, and the HTTP handler
// "http.handlers.credgate" with its Caddyfile directive. It only translates
// configuration; the gateway itself lives in packages without Caddy types.
package caddymodule

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/caddyserver/caddy/v2"
	"go.uber.org/zap"

	"github.com/credgate/credgate/gateway"
	"github.com/credgate/credgate/oauthflow"
	"github.com/credgate/credgate/vault"
)

func init() {
	caddy.RegisterModule(App{})
}

// minStateKeyBytes is the shortest accepted state signing key: 256 bits,
// the size of an HS256 output.
const minStateKeyBytes = 32

// App holds what every credgate handler of a Caddy instance shares: the
// Vault connection, the key that signs OAuth state and the URLs the OAuth
// callback may redirect to.
type App struct {
	// Vault is the credential store connection. Required.
	Vault *VaultConfig `json:"vault,omitempty"`

	// StateKey signs the OAuth state parameter (HS256). It must be at least
	// 32 bytes, and the same on every instance that shares the Vault, so a
	// callback can land on any of them. Use a placeholder such as
	// {env.CREDGATE_STATE_KEY} or {file./run/secrets/state_key} rather
	// than writing the key into the config. Required.
	StateKey string `json:"state_key,omitempty"`

	// AllowReturnTo lists URL prefixes the OAuth callback may redirect the
	// end user to after linking (the return_to parameter of the authorize
	// endpoint). A prefix matches the same scheme and host, and paths at or
	// below its path. Empty allows no redirect: the callback then shows a
	// small page saying which account was linked.
	AllowReturnTo []string `json:"allow_return_to,omitempty"`

	// TokenCacheTTL is how long an account read from Vault is reused by
	// every credgate handler of this Caddy instance before Vault is read
	// again. Writes of this instance (links, refreshes, reauthorization
	// marks) are seen at once. Writes of other instances are seen after at
	// most this long, and meanwhile the old token, still valid, is used. A
	// cache also
	// keeps calls working through Vault outages shorter than the TTL.
	// Default 0: every call reads Vault.
	TokenCacheTTL caddy.Duration `json:"token_cache_ttl,omitempty"`

	// RefreshInterval is how often every linked account is checked in the
	// background and its token refreshed when it is due, so that idle
	// accounts keep working. The first check runs one interval
	// after start, or after a minute if the interval is longer. Default: 1h.
	RefreshInterval caddy.Duration `json:"refresh_interval,omitempty"`

	// DisableBackgroundRefresh turns the background check off, so tokens
	// are refreshed only when a call needs them. The token of an idle
	// account then expires after 60 days.
	DisableBackgroundRefresh bool `json:"disable_background_refresh,omitempty"`

	store   gateway.CredentialStore
	vault   *vault.Store
	states  *oauthflow.StateSigner
	logger  *zap.Logger
	metrics *metrics

	handlers *gatewaySet
	cancel   context.CancelFunc
	done     chan struct{}
}

// gatewaySet is the gateways of the handlers provisioned with one App.
type gatewaySet struct {
	mu       sync.Mutex
	gateways map[*gateway.Gateway]bool
}

// VaultConfig is the connection to HashiCorp Vault's KV version 2 engine.
// Nothing is read from VAULT_* environment variables unless the config
// names them through placeholders, such as {env.VAULT_TOKEN}.
type VaultConfig struct {
	// Address is the Vault server URL, such as https://vault.internal:8200.
	// Required.
	Address string `json:"address,omitempty"`

	// Token is the Vault token. It needs read, create and update on
	// <mount>/data/<prefix>/*, and list and delete on
	// <mount>/metadata/<prefix>/* (delete removes expired state markers).
	// Prefer {env.VAULT_TOKEN} or {file.PATH} to a literal value.
	Token string `json:"token,omitempty"`

	// Namespace is the Vault Enterprise namespace. Default: none.
	Namespace string `json:"namespace,omitempty"`

	// Mount is the path of the KV version 2 secrets engine. Default: secret.
	Mount string `json:"mount,omitempty"`

	// Prefix is the path under the mount where credgate keeps its secrets:
	// linked accounts at <prefix>/<app>/<tenant>/<owner>. Default: credgate.
	Prefix string `json:"prefix,omitempty"`

	// Timeout bounds each Vault request, retries included. Default (and
	// 0): 10s.
	Timeout caddy.Duration `json:"timeout,omitempty"`

	// CACert is the path of a PEM file with the CA certificates that sign
	// Vault's certificate. Default: the system's roots.
	CACert string `json:"ca_cert,omitempty"`

	// ClientCert and ClientKey are the paths of a PEM client certificate
	// and its key, for a Vault that requires TLS client authentication.
	ClientCert string `json:"client_cert,omitempty"`
	ClientKey  string `json:"client_key,omitempty"`

	// TLSServerName is the name checked against Vault's certificate when
	// it differs from the host in Address.
	TLSServerName string `json:"tls_server_name,omitempty"`
}

// CaddyModule returns the Caddy module information.
func (App) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{
		ID:  "credgate",
		New: func() caddy.Module { return new(App) },
	}
}

// Provision resolves placeholders and builds the Vault client and the state
// signer. It does not contact Vault, because Caddy provisions on
// `caddy validate` too and Vault may be briefly down; Vault errors are
// reported on requests instead.
func (a *App) Provision(ctx caddy.Context) error {
	repl := caddy.NewReplacer()

	// set up the credential store
	if a.Vault == nil {
		return fmt.Errorf("credgate: the vault block is missing from the credgate global options; set at least vault { address … token … }")
	}
	address, err := repl.ReplaceOrErr(a.Vault.Address, true, true)
	if err != nil {
		return fmt.Errorf("credgate: vault address: %w", err)
	}
	token, err := repl.ReplaceOrErr(a.Vault.Token, true, true)
	if err != nil {
		return fmt.Errorf("credgate: vault token %s is empty or could not be resolved; check that its variable or file exists", placeholderName(a.Vault.Token))
	}
	if address == "" {
		return fmt.Errorf("credgate: vault address is empty; set it, for example address {env.VAULT_ADDR}")
	}
	if token == "" {
		return fmt.Errorf("credgate: vault token is empty; set it, for example token {env.VAULT_TOKEN}")
	}
	store, err := vault.New(vault.Config{
		Address:   address,
		Token:     token,
		Namespace: repl.ReplaceAll(a.Vault.Namespace, ""),
		Mount:     a.Vault.Mount,
		Prefix:    a.Vault.Prefix,
		Timeout:   time.Duration(a.Vault.Timeout),

		CACert:        repl.ReplaceAll(a.Vault.CACert, ""),
		ClientCert:    repl.ReplaceAll(a.Vault.ClientCert, ""),
		ClientKey:     repl.ReplaceAll(a.Vault.ClientKey, ""),
		TLSServerName: repl.ReplaceAll(a.Vault.TLSServerName, ""),
	})
	if err != nil {
		return fmt.Errorf("credgate: vault: %w", err)
	}
	a.store = store
	a.vault = store
	if a.TokenCacheTTL < 0 {
		return fmt.Errorf("credgate: token_cache_ttl must not be negative")
	}
	if a.TokenCacheTTL > 0 {
		a.store = vault.NewCachedStore(store, time.Duration(a.TokenCacheTTL))
	}

	// set up the state signer
	stateKey, err := repl.ReplaceOrErr(a.StateKey, true, true)
	if err != nil {
		return fmt.Errorf("credgate: state_key %s is empty or could not be resolved; check that its variable or file exists", placeholderName(a.StateKey))
	}
	if len(stateKey) < minStateKeyBytes {
		return fmt.Errorf("credgate: state_key is %d bytes; it must be at least %d bytes (for example the output of `openssl rand -base64 48`)", len(stateKey), minStateKeyBytes)
	}
	a.states, err = oauthflow.NewStateSigner([]byte(stateKey), 0)
	if err != nil {
		return fmt.Errorf("credgate: state_key: %w", err)
	}

	// set up the background refresh
	if a.RefreshInterval < 0 {
		return fmt.Errorf("credgate: refresh_interval must not be negative")
	}
	if a.RefreshInterval == 0 {
		a.RefreshInterval = caddy.Duration(defaultRefreshInterval)
	}
	a.logger = ctx.Logger()
	a.metrics, err = newMetrics(ctx.GetMetricsRegistry())
	if err != nil {
		return fmt.Errorf("credgate: registering metrics: %w", err)
	}
	a.handlers = &gatewaySet{gateways: make(map[*gateway.Gateway]bool)}
	return nil
}

// defaultRefreshInterval is the default of App.RefreshInterval. With the
// default 15-day refresh window, an hourly check leaves hundreds of tries
// before a token expires.
const defaultRefreshInterval = time.Hour

// Start starts the background refresh.
func (a *App) Start() error {
	if a.DisableBackgroundRefresh {
		a.logger.Info("background token refresh disabled")
		return nil
	}
	ctx, cancel := context.WithCancel(context.Background())
	a.cancel = cancel
	a.done = make(chan struct{})
	go a.refreshLoop(ctx)
	return nil
}

// Stop stops the background refresh and waits for a running sweep to end.
func (a *App) Stop() error {
	if a.cancel == nil {
		return nil
	}
	a.cancel()
	<-a.done
	return nil
}

// gatewayMetrics returns the metrics for the gateways, or nil before
// Provision registered them.
func (a *App) gatewayMetrics() gateway.Metrics {
	if a.metrics == nil {
		return nil
	}
	return a.metrics
}

// register adds a handler's gateway to the background refresh.
func (a *App) register(g *gateway.Gateway) {
	a.handlers.mu.Lock()
	defer a.handlers.mu.Unlock()
	a.handlers.gateways[g] = true
}

// unregister removes a gateway registered by register.
func (a *App) unregister(g *gateway.Gateway) {
	a.handlers.mu.Lock()
	defer a.handlers.mu.Unlock()
	delete(a.handlers.gateways, g)
}

func (a *App) refreshLoop(ctx context.Context) {
	defer close(a.done)

	interval := time.Duration(a.RefreshInterval)
	timer := time.NewTimer(min(interval, time.Minute))
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-timer.C:
		}
		a.sweep(ctx)
		timer.Reset(interval)
	}
}

// sweep runs one background check over the accounts of every handler, then
// removes the markers of expired OAuth states.
func (a *App) sweep(ctx context.Context) {
	a.handlers.mu.Lock()
	gateways := make([]*gateway.Gateway, 0, len(a.handlers.gateways))
	for g := range a.handlers.gateways {
		gateways = append(gateways, g)
	}
	a.handlers.mu.Unlock()
	if len(gateways) == 0 {
		return
	}

	for _, g := range gateways {
		start := time.Now()
		result, err := g.Sweep(ctx, a.vault)
		fields := []zap.Field{
			zap.String("app", g.AppName()),
			zap.Int("checked", result.Checked),
			zap.Int("refreshed", result.Refreshed),
			zap.Int("failed", result.Failed),
			zap.Int("expired", result.Expired),
			zap.Duration("duration", time.Since(start)),
		}
		a.metrics.sweepFinished(g.AppName(), result, err == nil)
		if err != nil {
			a.logger.Error("background token refresh sweep failed", append(fields, zap.Error(err))...)
			continue
		}
		a.logger.Info("background token refresh sweep finished", fields...)
	}

	removed, err := a.vault.RemoveExpiredStates(ctx, time.Now())
	if err != nil {
		a.logger.Error("removing expired state markers failed", zap.Int("removed", removed), zap.Error(err))
		return
	}
	if removed > 0 {
		a.logger.Info("removed expired state markers", zap.Int("removed", removed))
	}
}

// Interface guards
var (
	_ caddy.App         = (*App)(nil)
	_ caddy.Provisioner = (*App)(nil)
)

// checkReturnToPrefix checks an allow_return_to entry the way the gateway
// reads it.
func checkReturnToPrefix(prefix string) error {
	_, err := gateway.ParseReturnToPrefix(prefix)
	return err
}

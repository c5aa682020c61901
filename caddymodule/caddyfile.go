package caddymodule

import (
	"fmt"
	"strings"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	"github.com/caddyserver/caddy/v2/caddyconfig/httpcaddyfile"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"

	"github.com/credgate/credgate/apps"
)

func init() {
	httpcaddyfile.RegisterGlobalOption("credgate", parseGlobalOption)
	httpcaddyfile.RegisterHandlerDirective("credgate", parseHandlerDirective)
	httpcaddyfile.RegisterDirectiveOrder("credgate", httpcaddyfile.Before, "reverse_proxy")
}

// parseGlobalOption sets up the credgate app from the global options:
//
//	{
//		credgate {
//			vault {
//				address   <url>
//				token     <token>
//				namespace <namespace>
//				mount     <kv-v2 mount>     # default secret
//				prefix    <path prefix>     # default credgate
//				timeout   <duration>        # default 10s
//				ca_cert   <pem file>        # default: system roots
//				client_cert <pem file>
//				client_key  <pem file>
//				tls_server_name <name>
//			}
//			state_key       <at least 32 bytes>
//			allow_return_to <url prefix...>
//			token_cache_ttl <duration>          # default 0: no cache
//			refresh_interval <duration>|off     # default 1h
//		}
//	}
//
// allow_return_to takes one or more prefixes and may be repeated.
func parseGlobalOption(d *caddyfile.Dispenser, _ any) (any, error) {
	app := new(App)
	if err := app.UnmarshalCaddyfile(d); err != nil {
		return nil, err
	}
	return httpcaddyfile.App{
		Name:  "credgate",
		Value: caddyconfig.JSON(app, nil),
	}, nil
}

// UnmarshalCaddyfile reads the credgate global option block; see
// parseGlobalOption for the syntax.
func (a *App) UnmarshalCaddyfile(d *caddyfile.Dispenser) error {
	d.Next() // consume option name
	if d.NextArg() {
		return d.ArgErr()
	}

	for d.NextBlock(0) {
		switch d.Val() {
		case "vault":
			if d.NextArg() {
				return d.ArgErr()
			}
			if a.Vault == nil {
				a.Vault = new(VaultConfig)
			}
			if err := a.Vault.unmarshalCaddyfile(d); err != nil {
				return err
			}

		case "state_key":
			key, err := singleArg(d)
			if err != nil {
				return err
			}
			a.StateKey = key
			// a placeholder is checked once Provision resolves it
			if !strings.Contains(a.StateKey, "{") && len(a.StateKey) < minStateKeyBytes {
				return d.Errf("state_key is %d bytes; it must be at least %d bytes (for example the output of `openssl rand -base64 48`)", len(a.StateKey), minStateKeyBytes)
			}

		case "allow_return_to":
			args := d.RemainingArgs()
			if len(args) == 0 {
				return d.ArgErr()
			}
			for _, prefix := range args {
				if err := checkReturnToPrefix(prefix); err != nil {
					return d.Errf("%v", err)
				}
			}
			a.AllowReturnTo = append(a.AllowReturnTo, args...)

		case "token_cache_ttl":
			value, err := singleArg(d)
			if err != nil {
				return err
			}
			dur, err := caddy.ParseDuration(value)
			if err != nil || dur < 0 {
				return d.Errf("invalid token_cache_ttl %q: use a duration such as 30s, or 0 for no cache", value)
			}
			a.TokenCacheTTL = caddy.Duration(dur)

		case "refresh_interval":
			value, err := singleArg(d)
			if err != nil {
				return err
			}
			if value == "off" {
				a.DisableBackgroundRefresh = true
				continue
			}
			dur, err := caddy.ParseDuration(value)
			if err != nil || dur <= 0 {
				return d.Errf("invalid refresh_interval %q: use a positive duration such as 1h, or off", value)
			}
			a.RefreshInterval = caddy.Duration(dur)

		default:
			return d.Errf("unrecognized credgate option %q; use vault, state_key, allow_return_to, token_cache_ttl or refresh_interval", d.Val())
		}
	}
	return nil
}

func (v *VaultConfig) unmarshalCaddyfile(d *caddyfile.Dispenser) error {
	for nesting := d.Nesting(); d.NextBlock(nesting); {
		name := d.Val()
		value, err := singleArg(d)
		if err != nil {
			return err
		}

		switch name {
		case "address":
			v.Address = value
		case "token":
			v.Token = value
		case "namespace":
			v.Namespace = value
		case "mount":
			v.Mount = value
		case "prefix":
			v.Prefix = value
		case "timeout":
			dur, err := caddy.ParseDuration(value)
			if err != nil {
				return d.Errf("invalid vault timeout %q: %v", value, err)
			}
			v.Timeout = caddy.Duration(dur)
		case "ca_cert":
			v.CACert = value
		case "client_cert":
			v.ClientCert = value
		case "client_key":
			v.ClientKey = value
		case "tls_server_name":
			v.TLSServerName = value
		default:
			return d.Errf("unrecognized vault option %q; use address, token, namespace, mount, prefix, timeout, ca_cert, client_cert, client_key or tls_server_name", name)
		}
	}
	return nil
}

func parseHandlerDirective(h httpcaddyfile.Helper) (caddyhttp.MiddlewareHandler, error) {
	handler := new(Handler)
	err := handler.UnmarshalCaddyfile(h.Dispenser)
	return handler, err
}

// UnmarshalCaddyfile sets up the handler from Caddyfile tokens. Syntax:
//
//	credgate <app> {
//		client_id      <id>
//		client_secret  <secret>
//		redirect_url   <url of this handler's /oauth/callback>
//		scopes         <scope...>
//		tenant         <placeholder>   # default {http.auth.user.id}
//		owner          <placeholder>   # default {http.request.header.X-Linked-Account-Owner}
//		refresh_window <duration>      # default 360h for Instagram
//		authorize_url  <url>
//		token_url      <url>
//		graph_url      <url>
//		upstream_timeout <duration>    # default 60s
//	}
//
// client_id, client_secret and redirect_url are required. Mount the handler
// with handle at the path of redirect_url before /oauth/callback, such as
// handle /instagram/* for .../instagram/oauth/callback.
func (h *Handler) UnmarshalCaddyfile(d *caddyfile.Dispenser) error {
	d.Next() // consume directive name
	file, line := d.File(), d.Line()
	if !d.NextArg() {
		return d.Errf("credgate needs an app name, one of %s", strings.Join(apps.Names(), ", "))
	}
	h.App = d.Val()
	app, err := apps.Load(h.App)
	if err != nil {
		return d.Errf("%v", err)
	}
	if d.NextArg() {
		return d.ArgErr()
	}

	for d.NextBlock(0) {
		name := d.Val()
		if name == "scopes" {
			h.Scopes = d.RemainingArgs()
			if len(h.Scopes) == 0 {
				return d.ArgErr()
			}
			if _, err := checkScopes(app, h.Scopes); err != nil {
				return d.Errf("%v; separate scopes with spaces", err)
			}
			continue
		}
		value, err := singleArg(d)
		if err != nil {
			return err
		}

		switch name {
		case "client_id":
			h.ClientID = value
		case "client_secret":
			h.ClientSecret = value
		case "redirect_url":
			h.RedirectURL = value
			if !strings.Contains(value, "{") {
				if err := checkRedirectURL(app, value); err != nil {
					return d.Errf("%v", err)
				}
			}
		case "tenant":
			h.Tenant = value
		case "owner":
			h.Owner = value
		case "refresh_window":
			dur, err := caddy.ParseDuration(value)
			if err != nil || dur <= 0 {
				return d.Errf("invalid refresh_window %q: use a positive duration such as 360h", value)
			}
			if app.Refresh != nil {
				if err := app.Refresh.CheckWindow(dur); err != nil {
					return d.Errf("%v", err)
				}
			}
			h.RefreshWindow = caddy.Duration(dur)
		case "authorize_url":
			h.AuthorizeURL = value
		case "token_url":
			h.TokenURL = value
		case "graph_url":
			h.GraphURL = value
		case "upstream_timeout":
			dur, err := caddy.ParseDuration(value)
			if err != nil || dur <= 0 {
				return d.Errf("invalid upstream_timeout %q: use a positive duration such as 60s", value)
			}
			h.UpstreamTimeout = caddy.Duration(dur)
		default:
			return d.Errf("unrecognized credgate subdirective %q; use client_id, client_secret, redirect_url, scopes, tenant, owner, refresh_window, authorize_url, token_url, graph_url or upstream_timeout", name)
		}
	}

	// report a missing setting at the directive's line, not at the block's end
	switch {
	case h.ClientID == "":
		return fmt.Errorf("credgate %s: client_id is required (an empty {$VAR} leaves it out), at %s:%d", h.App, file, line)
	case h.ClientSecret == "":
		return fmt.Errorf("credgate %s: client_secret is required (an empty {$VAR} leaves it out), at %s:%d", h.App, file, line)
	case h.RedirectURL == "":
		return fmt.Errorf("credgate %s: redirect_url is required; set the absolute URL of this handler's /oauth/callback, at %s:%d", h.App, file, line)
	}
	return nil
}

// singleArg reads the one argument of the current line.
func singleArg(d *caddyfile.Dispenser) (string, error) {
	if !d.NextArg() {
		return "", d.ArgErr()
	}
	value := d.Val()
	if d.NextArg() {
		return "", d.ArgErr()
	}
	return value, nil
}

// Interface guards
var (
	_ caddyfile.Unmarshaler = (*App)(nil)
	_ caddyfile.Unmarshaler = (*Handler)(nil)
)

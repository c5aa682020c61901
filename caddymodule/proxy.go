package caddymodule

import (
	"encoding/json"
	"net"
	"net/http"
	"net/url"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp/headers"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp/reverseproxy"
)

// Timeouts of the upstream transport. A hung API gets a 504 reply after
// the response header timeout instead of holding the client's request
// forever.
const (
	dialTimeout                  = 10 * time.Second
	defaultResponseHeaderTimeout = 60 * time.Second
)

// newReverseProxy builds and provisions Caddy's reverse proxy for one API
// base URL. The Host header is set to the API host, because the client's
// Host names the gateway, and the forwarding headers the proxy adds are
// removed.
func newReverseProxy(ctx caddy.Context, upstream *url.URL, responseHeaderTimeout time.Duration) (*reverseproxy.Handler, error) {
	port := upstream.Port()
	if port == "" {
		port = "80"
		if upstream.Scheme == "https" {
			port = "443"
		}
	}

	transport := &reverseproxy.HTTPTransport{
		DialTimeout:           caddy.Duration(dialTimeout),
		ResponseHeaderTimeout: caddy.Duration(responseHeaderTimeout),
	}
	if upstream.Scheme == "https" {
		transport.TLS = &reverseproxy.TLSConfig{ServerName: upstream.Hostname()}
	}
	transportJSON, err := json.Marshal(transport)
	if err != nil {
		return nil, err
	}
	transportRaw, err := addInlineKey(transportJSON, "protocol", "http")
	if err != nil {
		return nil, err
	}

	proxy := &reverseproxy.Handler{
		TransportRaw: transportRaw,
		Upstreams:    reverseproxy.UpstreamPool{{Dial: net.JoinHostPort(upstream.Hostname(), port)}},
		Headers: &headers.Handler{
			Request: &headers.HeaderOps{
				Set: http.Header{"Host": []string{upstream.Host}},

				// the proxy adds these; they would tell the API the
				// gateway's internal addresses and host names
				Delete: []string{"X-Forwarded-For", "X-Forwarded-Host", "X-Forwarded-Proto", "Via"},
			},
		},
	}
	if err := proxy.Provision(ctx); err != nil {
		return nil, err
	}
	return proxy, nil
}

// addInlineKey adds "key": value to a JSON object, as Caddy expects of an
// inline module such as a transport.
func addInlineKey(object json.RawMessage, key, value string) (json.RawMessage, error) {
	var fields map[string]any
	if err := json.Unmarshal(object, &fields); err != nil {
		return nil, err
	}
	fields[key] = value
	return json.Marshal(fields)
}

package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	vaultapi "github.com/hashicorp/vault/api"

	"github.com/credgate/credgate/examples/igserver"
	"github.com/credgate/credgate/internal/testenv"
)

const (
	clientID     = "e2e-client-id"
	clientSecret = "e2e-client-secret-4f1c9a"
	stateKey     = "e2e-state-key-0123456789abcdef0123456789abcdef"
	returnPrefix = "https://app.example.test/done"
)

// stack is one running set of parts: a dev Vault, the local Instagram
// server and one or more Caddy processes built with credgate.
type stack struct {
	t          *testing.T
	vaultAddr  string
	vaultToken string
	vault      *vaultapi.Client
	ig         *igserver.Server
	igURL      string
	caddyBin   string
	logs       []string // Caddy output files, for the secret check
	secrets    *secretSet
	client     *http.Client
}

// gatewayInstance is one Caddy process.
type gatewayInstance struct {
	base    string // http://127.0.0.1:PORT/instagram
	logPath string
}

func caddyBinary(t *testing.T) string {
	t.Helper()
	bin := os.Getenv("CREDGATE_CADDY_BIN")
	if bin == "" {
		root, err := testenv.RepoRoot()
		if err != nil {
			t.Fatalf("finding the repository root: %v", err)
		}
		bin = filepath.Join(root, "bin", "caddy")
	}
	if _, err := os.Stat(bin); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("Caddy binary %s is missing; run make build (CI must not skip end-to-end tests)", bin)
		}
		t.Skipf("skipping: Caddy binary %s is missing; run make build", bin)
	}
	return bin
}

func newStack(t *testing.T) *stack {
	t.Helper()
	if testing.Short() {
		t.Skip("skipping end-to-end test in -short mode")
	}
	s := &stack{t: t, caddyBin: caddyBinary(t), secrets: newSecretSet()}
	s.vaultAddr, s.vaultToken = testenv.StartVault(t)
	s.secrets.add(s.vaultToken, clientSecret, stateKey)

	cfg := vaultapi.DefaultConfig()
	cfg.Address = s.vaultAddr
	client, err := vaultapi.NewClient(cfg)
	if err != nil {
		t.Fatalf("vault client: %v", err)
	}
	client.SetToken(s.vaultToken)
	s.vault = client

	s.ig = igserver.New(igserver.Options{ClientID: clientID, ClientSecret: clientSecret, AutoApprove: true})
	server := httptest.NewServer(s.ig)
	t.Cleanup(server.Close)
	s.igURL = server.URL

	s.client = &http.Client{
		Timeout:       30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	t.Cleanup(s.checkLogsForSecrets)
	return s
}

const caddyfileTemplate = `{
	admin off
	debug
	credgate {
		vault {
			address {env.E2E_VAULT_ADDR}
			token {env.E2E_VAULT_TOKEN}
		}
		state_key {env.E2E_STATE_KEY}
		allow_return_to %[3]s
		token_cache_ttl %[6]s
		refresh_interval %[7]s
	}
}

http://127.0.0.1:%[1]d {
	log {
		output stderr
		format filter {
			request>uri query {
				replace code REDACTED
				replace state REDACTED
			}
			resp_headers>Location query {
				replace state REDACTED
			}
		}
	}
	metrics /metrics
	handle /instagram/* {
%[9]s
		credgate instagram {
			client_id %[4]s
			client_secret {env.E2E_CLIENT_SECRET}
			redirect_url http://127.0.0.1:%[1]d/instagram/oauth/callback
			scopes instagram_business_basic instagram_business_content_publish instagram_business_manage_comments instagram_business_manage_messages instagram_business_manage_insights
			authorize_url %[2]s/oauth/authorize
			token_url %[2]s/oauth/access_token
			graph_url %[5]s
			upstream_timeout %[8]s
		}
	}
}
`

// jsonTemplate is the JSON config of the README, with secrets as {env.*}
// placeholders resolved at provision.
const jsonTemplate = `{
  "admin": {"disabled": true},
  "logging": {"logs": {"default": {"level": "DEBUG"}}},
  "apps": {
    "credgate": {
      "vault": {"address": "{env.E2E_VAULT_ADDR}", "token": "{env.E2E_VAULT_TOKEN}", "mount": "secret", "prefix": "credgate"},
      "state_key": "{env.E2E_STATE_KEY}",
      "allow_return_to": ["%[3]s"]
    },
    "http": {"servers": {"gateway": {
      "listen": ["127.0.0.1:%[1]d"],
      "routes": [{
        "match": [{"path": ["/instagram/*"]}],
        "handle": [{
          "handler": "credgate",
          "app": "instagram",
          "client_id": "%[4]s",
          "client_secret": "{env.E2E_CLIENT_SECRET}",
          "redirect_url": "http://127.0.0.1:%[1]d/instagram/oauth/callback",
          "scopes": ["instagram_business_basic", "instagram_business_content_publish"],
          "refresh_window": "360h",
          "authorize_url": "%[2]s/oauth/authorize",
          "token_url": "%[2]s/oauth/access_token",
          "graph_url": "%[5]s"
        }]
      }]
    }}}
  }
}`

// gatewayOptions change one gateway's surroundings for fault tests.
type gatewayOptions struct {
	graphURL   string // default: the local Instagram server
	vaultAddr  string // default: the dev Vault
	cacheTTL   string // token_cache_ttl; default 0, no cache
	interval   string // refresh_interval; default 1h
	timeout    string // upstream_timeout; default 60s
	json       bool   // configure Caddy with JSON instead of a Caddyfile
	clientAuth string // Caddyfile lines before the credgate directive, such as basic_auth
}

// startGateway starts a Caddy process with credgate mounted at /instagram
// and waits until it accepts connections.
func (s *stack) startGateway() *gatewayInstance {
	s.t.Helper()
	return s.startGatewayWith(gatewayOptions{})
}

func (s *stack) startGatewayWith(opts gatewayOptions) *gatewayInstance {
	t := s.t
	t.Helper()
	if opts.vaultAddr == "" {
		opts.vaultAddr = s.vaultAddr
	}
	if opts.graphURL == "" {
		opts.graphURL = s.igURL
	}
	if opts.cacheTTL == "" {
		opts.cacheTTL = "0"
	}
	if opts.interval == "" {
		opts.interval = "1h"
	}
	if opts.timeout == "" {
		opts.timeout = "60s"
	}

	port := testenv.FreePort(t)
	dir := t.TempDir()
	configPath := filepath.Join(dir, "Caddyfile")
	content := fmt.Sprintf(caddyfileTemplate, port, s.igURL, returnPrefix, clientID, opts.graphURL, opts.cacheTTL, opts.interval, opts.timeout, opts.clientAuth)
	args := []string{"run", "--config", configPath, "--adapter", "caddyfile"}
	if opts.json {
		configPath = filepath.Join(dir, "caddy.json")
		content = fmt.Sprintf(jsonTemplate, port, s.igURL, returnPrefix, clientID, opts.graphURL)
		args = []string{"run", "--config", configPath}
	}
	if err := os.WriteFile(configPath, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	logPath := filepath.Join(dir, "caddy.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}

	cmd := exec.Command(s.caddyBin, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(),
		"HOME="+dir,
		"XDG_DATA_HOME="+filepath.Join(dir, "data"),
		"XDG_CONFIG_HOME="+filepath.Join(dir, "config"),
		"E2E_VAULT_ADDR="+opts.vaultAddr,
		"E2E_VAULT_TOKEN="+s.vaultToken,
		"E2E_STATE_KEY="+stateKey,
		"E2E_CLIENT_SECRET="+clientSecret,
	)
	cmd.Stdout = logFile
	cmd.Stderr = logFile
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting caddy: %v", err)
	}
	done := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		logFile.Close()
		close(done)
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
	})
	s.logs = append(s.logs, logPath)

	g := &gatewayInstance{base: fmt.Sprintf("http://127.0.0.1:%d/instagram", port), logPath: logPath}
	deadline := time.Now().Add(30 * time.Second)
	for {
		select {
		case <-done:
			t.Fatalf("caddy exited during start:\n%s", readFile(logPath))
		default:
		}
		conn, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), time.Second)
		if err == nil {
			conn.Close()
			return g
		}
		if time.Now().After(deadline) {
			t.Fatalf("caddy did not listen on port %d within 30s:\n%s", port, readFile(logPath))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// response is a finished HTTP exchange with the body read.
type response struct {
	status int
	header http.Header
	body   []byte
}

func (r *response) json(t *testing.T) map[string]any {
	t.Helper()
	var v map[string]any
	if err := json.Unmarshal(r.body, &v); err != nil {
		t.Fatalf("reply is not a JSON object (status %d): %s", r.status, r.body)
	}
	return v
}

// errorCode returns error.code of a gateway error reply.
func (r *response) errorCode(t *testing.T) string {
	t.Helper()
	e, _ := r.json(t)["error"].(map[string]any)
	code, _ := e["code"].(string)
	return code
}

func (r *response) errorField(t *testing.T, field string) string {
	t.Helper()
	e, _ := r.json(t)["error"].(map[string]any)
	v, _ := e[field].(string)
	return v
}

func (s *stack) do(method, rawURL string, header map[string]string, body []byte) *response {
	s.t.Helper()
	var reader io.Reader
	if body != nil {
		reader = bytes.NewReader(body)
	}
	req, err := http.NewRequest(method, rawURL, reader)
	if err != nil {
		s.t.Fatalf("building %s %s: %v", method, rawURL, err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := s.client.Do(req)
	if err != nil {
		s.t.Fatalf("%s %s: %v", method, rawURL, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		s.t.Fatalf("reading reply of %s %s: %v", method, rawURL, err)
	}
	return &response{status: resp.StatusCode, header: resp.Header, body: data}
}

// ownerHeader is the default way a client names the linked account.
func ownerHeader(owner string) map[string]string {
	return map[string]string{"X-Linked-Account-Owner": owner}
}

// authorize requests a consent URL for owner from the gateway.
func (s *stack) authorize(g *gatewayInstance, owner, returnTo string) string {
	s.t.Helper()
	query := url.Values{"owner": {owner}}
	if returnTo != "" {
		query.Set("return_to", returnTo)
	}
	resp := s.do("GET", g.base+"/oauth/authorize?"+query.Encode(), map[string]string{"Accept": "application/json"}, nil)
	if resp.status != http.StatusOK {
		s.t.Fatalf("authorize for %s: status %d: %s", owner, resp.status, resp.body)
	}
	authURL, _ := resp.json(s.t)["authorization_url"].(string)
	if authURL == "" {
		s.t.Fatalf("authorize reply has no authorization_url: %s", resp.body)
	}
	s.recordStateOf(authURL)
	return authURL
}

// consent plays the end user's browser on the consent page (auto-approve)
// and returns the callback URL the provider redirects to, fragment included.
func (s *stack) consent(authURL string) string {
	s.t.Helper()
	resp := s.do("GET", authURL, nil, nil)
	if resp.status != http.StatusFound {
		s.t.Fatalf("consent page: status %d, want 302: %s", resp.status, resp.body)
	}
	location := resp.header.Get("Location")
	callback, err := url.Parse(location)
	if err != nil {
		s.t.Fatalf("consent redirect %q: %v", location, err)
	}
	s.secrets.add(callback.Query().Get("code"), callback.Query().Get("state"))
	return location
}

// link runs authorize, consent and callback for owner.
func (s *stack) link(g *gatewayInstance, owner string) *response {
	s.t.Helper()
	callback := s.consent(s.authorize(g, owner, ""))
	resp := s.do("GET", callback, nil, nil)
	if resp.status != http.StatusOK {
		s.t.Fatalf("callback for %s: status %d: %s", owner, resp.status, resp.body)
	}
	s.recordStoredToken(owner)
	return resp
}

func (s *stack) recordStateOf(authURL string) {
	u, err := url.Parse(authURL)
	if err == nil {
		s.secrets.add(u.Query().Get("state"))
	}
}

// secretPath is where the gateway stores owner's account.
func secretPath(owner string) string {
	return "credgate/instagram/default/" + owner
}

// readAccount reads the stored account straight from Vault.
func (s *stack) readAccount(owner string) map[string]any {
	s.t.Helper()
	secret, err := s.vault.KVv2("secret").Get(context.Background(), secretPath(owner))
	if err != nil {
		s.t.Fatalf("reading %s from vault: %v", secretPath(owner), err)
	}
	return secret.Data
}

// patchAccount changes fields of the stored account, as time passing would.
func (s *stack) patchAccount(owner string, fields map[string]any) {
	s.t.Helper()
	if _, err := s.vault.KVv2("secret").Patch(context.Background(), secretPath(owner), fields); err != nil {
		s.t.Fatalf("patching %s in vault: %v", secretPath(owner), err)
	}
}

func (s *stack) recordStoredToken(owner string) string {
	token, _ := s.readAccount(owner)["access_token"].(string)
	s.secrets.add(token)
	return token
}

// upstreamCalls returns the graph API calls the local server received
// since the last reset.
func (s *stack) upstreamCalls() []igserver.Request {
	var calls []igserver.Request
	for _, r := range s.ig.Requests() {
		if r.Endpoint == "graph_api" {
			calls = append(calls, r)
		}
	}
	return calls
}

func (s *stack) requestsTo(endpoint string) []igserver.Request {
	var out []igserver.Request
	for _, r := range s.ig.Requests() {
		if r.Endpoint == endpoint {
			out = append(out, r)
		}
	}
	return out
}

// checkLogsForSecrets fails the test when any Caddy output line contains a
// token, code, state, client secret or Vault token seen in the test.
func (s *stack) checkLogsForSecrets() {
	// every token the local server saw is a secret too
	for _, r := range s.ig.Requests() {
		s.secrets.add(strings.TrimPrefix(r.Authorization, "Bearer "))
		if q, err := url.ParseQuery(r.RawQuery); err == nil {
			s.secrets.add(q.Get("access_token"), q.Get("code"))
		}
		if q, err := url.ParseQuery(r.Body); err == nil {
			s.secrets.add(q.Get("code"))
		}
	}
	for _, path := range s.logs {
		content := readFile(path)
		if content == "" {
			s.t.Errorf("caddy log %s is empty; the secret check saw nothing", path)
		}
		for _, secret := range s.secrets.list() {
			for _, line := range strings.Split(content, "\n") {
				if strings.Contains(line, secret) {
					s.t.Errorf("caddy log %s contains a secret of %d characters in this line (secrets masked):\n%s",
						path, len(secret), s.secrets.mask(line))
				}
			}
		}
	}
}

type secretSet struct {
	mu     sync.Mutex
	values map[string]bool
}

func newSecretSet() *secretSet { return &secretSet{values: make(map[string]bool)} }

func (s *secretSet) add(values ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, v := range values {
		// short values would match by chance
		if len(v) >= 8 {
			s.values[v] = true
		}
	}
}

func (s *secretSet) list() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]string, 0, len(s.values))
	for v := range s.values {
		out = append(out, v)
	}
	return out
}

func (s *secretSet) mask(line string) string {
	for _, secret := range s.list() {
		line = strings.ReplaceAll(line, secret, "[SECRET]")
	}
	return line
}

func readFile(path string) string {
	data, _ := os.ReadFile(path)
	return string(data)
}

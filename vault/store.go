// Package vault stores the OAuth credentials of linked accounts in the KV v2
// secrets engine of HashiCorp Vault.
//
// Each linked account is one secret at
// <mount>/data/<prefix>/<app>/<tenant>/<owner>. Writes use check-and-set, so
// that two gateway instances sharing a Vault never overwrite each other's
// tokens: a writer that lost the race gets ErrVersionConflict, and Update
// re-reads and retries.
package vault

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode"

	"github.com/hashicorp/vault/api"
)

// Defaults of Config.
const (
	DefaultMount   = "secret"
	DefaultPrefix  = "credgate"
	DefaultTimeout = 10 * time.Second
)

// maxUpdateAttempts is how often Update reads and writes before it gives up
// on a record that keeps changing under it.
const maxUpdateAttempts = 5

// Config is the Vault connection. Nothing is read from the environment: the
// VAULT_* variables that the Vault CLI and client library use are ignored,
// although a malformed one (such as VAULT_CLIENT_TIMEOUT=abc) still makes New
// fail.
type Config struct {
	// Address is the URL of the Vault server, such as
	// "https://vault.example.com:8200". Required, http or https.
	Address string

	// Token is the Vault token. Its policy needs create, read and update on
	// <mount>/data/<prefix>/*, and list and delete on
	// <mount>/metadata/<prefix>/*. Empty sends no token, which suits only a
	// Vault Agent or proxy that adds the token itself.
	Token string

	// Namespace is the Vault Enterprise namespace. Empty means the root
	// namespace.
	Namespace string

	// Mount is the path of the KV version 2 secrets engine. Default "secret".
	Mount string

	// Prefix is the folder inside the mount that contains all records of the
	// gateway, and may contain slashes. Default "credgate".
	Prefix string

	// CACert is the path of a PEM file with the CA certificates that sign
	// the Vault server's certificate. Empty uses the system's roots.
	CACert string

	// ClientCert and ClientKey are the paths of a PEM client certificate
	// and its key, for Vault servers that require TLS client
	// authentication. Both or neither.
	ClientCert string
	ClientKey  string

	// TLSServerName is the name checked against the server's certificate
	// when it differs from the host in Address.
	TLSServerName string

	// Timeout bounds each Vault request, retries included. A request that
	// fails with a connection error or a 412, 429 or 5xx status is retried up
	// to twice, after waits of 1 to 1.5 and 2 to 3 seconds. Default 10s.
	Timeout time.Duration
}

// Store reads and writes linked accounts in Vault. It is safe for concurrent
// use.
type Store struct {
	client *api.Client
	kv     *api.KVv2
	mount  string
	prefix string

	// token is kept only to redact it from error messages.
	token string
}

// New checks cfg, fills in the defaults and builds the Vault client. It does
// not contact Vault, so it succeeds while Vault is down.
func New(cfg Config) (*Store, error) {
	// check the config and fill in defaults
	address, err := parseAddress(cfg.Address)
	if err != nil {
		return nil, err
	}

	if cfg.Mount == "" {
		cfg.Mount = DefaultMount
	}
	mount, err := cleanStorePath("mount", cfg.Mount, false)
	if err != nil {
		return nil, err
	}

	if cfg.Prefix == "" {
		cfg.Prefix = DefaultPrefix
	}
	prefix, err := cleanStorePath("prefix", cfg.Prefix, true)
	if err != nil {
		return nil, err
	}

	if cfg.Timeout < 0 {
		return nil, fmt.Errorf("invalid timeout %s: use a positive duration, or zero for the default of %s", cfg.Timeout, DefaultTimeout)
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = DefaultTimeout
	}

	if strings.IndexFunc(cfg.Token, isNotPrintable) >= 0 {
		return nil, errors.New("invalid token: it contains non-printable characters, such as a trailing newline")
	}

	// build the client
	client, err := newClient(address, cfg)
	if err != nil {
		return nil, err
	}

	return &Store{
		client: client,
		kv:     client.KVv2(mount),
		mount:  mount,
		prefix: prefix,
		token:  cfg.Token,
	}, nil
}

// parseAddress checks the Vault address and returns it without a trailing
// slash.
func parseAddress(address string) (string, error) {
	if address == "" {
		return "", errors.New("missing address: set the URL of the Vault server, such as https://vault.example.com:8200")
	}

	u, err := url.Parse(address)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", fmt.Errorf("invalid address %q: use an http or https URL, such as https://vault.example.com:8200", address)
	}
	if u.User != nil {
		return "", errors.New("invalid address: remove the user information, and set the Vault token in the token field")
	}
	return strings.TrimSuffix(address, "/"), nil
}

// newClient builds a Vault client that uses only cfg. api.NewClient reads
// VAULT_TOKEN, VAULT_NAMESPACE and VAULT_HEADERS from the environment, so the
// token, the namespace and the headers are set again afterwards. The client
// config is built here, not by api.DefaultConfig, which reads the other VAULT_*
// variables.
func newClient(address string, cfg Config) (*api.Client, error) {
	transport := http.DefaultTransport.(*http.Transport).Clone()
	httpClient := &http.Client{
		Transport: transport,

		// the Vault client follows redirects itself, once, after checking
		// that they keep https
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}

	clientConfig := &api.Config{
		Address:      address,
		HttpClient:   httpClient,
		Timeout:      cfg.Timeout,
		MaxRetries:   2,
		MinRetryWait: time.Second,
		MaxRetryWait: 1500 * time.Millisecond,
	}

	if cfg.CACert != "" || cfg.ClientCert != "" || cfg.ClientKey != "" || cfg.TLSServerName != "" {
		if (cfg.ClientCert == "") != (cfg.ClientKey == "") {
			return nil, errors.New("set both client_cert and client_key, or neither")
		}
		err := clientConfig.ConfigureTLS(&api.TLSConfig{
			CACert:        cfg.CACert,
			ClientCert:    cfg.ClientCert,
			ClientKey:     cfg.ClientKey,
			TLSServerName: cfg.TLSServerName,
		})
		if err != nil {
			return nil, fmt.Errorf("configure vault TLS: %w", err)
		}
	}

	// NOTE: api.NewClient still parses the VAULT_* variables through
	// api.DefaultConfig and fails when one of them is malformed (for example
	// VAULT_CLIENT_TIMEOUT=abc), although their values are then discarded.
	client, err := api.NewClient(clientConfig)
	if err != nil {
		return nil, fmt.Errorf("create vault client: %w", err)
	}

	headers := make(http.Header)
	headers.Set(api.RequestHeaderName, "true")
	client.SetHeaders(headers)

	if cfg.Token == "" {
		client.ClearToken()
	} else {
		client.SetToken(cfg.Token)
	}

	if cfg.Namespace == "" {
		client.ClearNamespace()
	} else {
		client.SetNamespace(cfg.Namespace)
	}
	return client, nil
}

func isNotPrintable(r rune) bool {
	return !unicode.IsPrint(r)
}

// Get reads the current version of an account. It returns ErrNotFound when
// there is no record, and also when its current version is deleted or
// destroyed. In that case the returned version is the deleted version, so
// that a Put with it replaces the record.
func (s *Store) Get(ctx context.Context, key Key) (*Account, int, error) {
	if err := key.validate(); err != nil {
		return nil, 0, err
	}

	path := s.accountPath(key)
	secret, err := s.kv.Get(ctx, path)

	// NOTE: Vault returns 404 without data also when nothing is mounted at the
	// mount, and the client drops the error text, so a wrong mount reads as
	// ErrNotFound here. Put reports it as a 404 with Vault's "no handler for
	// route" message.
	if errors.Is(err, api.ErrSecretNotFound) {
		return nil, 0, fmt.Errorf("read account %s: %w", key, ErrNotFound)
	}
	if err != nil {
		return nil, 0, s.classifyError("read", s.dataPath(path), err)
	}

	version := 0
	if secret.VersionMetadata != nil {
		version = secret.VersionMetadata.Version
	}
	if secret.Data == nil || (secret.VersionMetadata != nil && secret.VersionMetadata.Destroyed) {
		return nil, version, fmt.Errorf("read account %s: current version %d is deleted: %w", key, version, ErrNotFound)
	}

	account, err := decodeAccount(secret.Data)
	if err != nil {
		return nil, 0, fmt.Errorf("read account %s: malformed record at %s: %w", key, s.dataPath(path), err)
	}
	return account, version, nil
}

// Put writes an account with check-and-set and returns the new version.
// version must be the current version as returned by Get, or 0 when the record
// must not exist yet. When the record changed in between, Put writes nothing
// and returns an error wrapping ErrVersionConflict.
func (s *Store) Put(ctx context.Context, key Key, a *Account, version int) (int, error) {
	if err := key.validate(); err != nil {
		return 0, err
	}
	if version < 0 {
		return 0, fmt.Errorf("write account %s: invalid version %d: use 0 or a version returned by Get", key, version)
	}

	data, err := encodeAccount(a)
	if err != nil {
		return 0, fmt.Errorf("write account %s: %w", key, err)
	}

	path := s.accountPath(key)
	secret, err := s.kv.Put(ctx, path, data, api.WithCheckAndSet(version))
	if errors.Is(err, api.ErrSecretNotFound) {
		return 0, fmt.Errorf("write account %s: vault has no KV version 2 secrets engine at mount %q", key, s.mount)
	}
	if err != nil {
		return 0, s.classifyError("write", s.dataPath(path), err, a.AccessToken)
	}

	if secret.VersionMetadata == nil {
		return 0, fmt.Errorf("write account %s: vault returned no version metadata", key)
	}
	return secret.VersionMetadata.Version, nil
}

// Update changes an account with a read-modify-write cycle. It reads the
// record and calls fn with it, or with nil when there is none. fn returns the
// account to write (it may modify and return cur), or nil to write nothing,
// in which case Update returns cur. The write uses check-and-set on the
// version read, so Update never overwrites a version it did not pass to fn.
// When another writer wins the race, Update reads again and calls fn with the
// newer record, up to 5 attempts in all. Errors of fn are returned unchanged.
func (s *Store) Update(ctx context.Context, key Key, fn func(cur *Account) (*Account, error)) (*Account, error) {
	var lastConflict error
	for attempt := 1; attempt <= maxUpdateAttempts; attempt++ {
		// read the current record
		cur, version, err := s.Get(ctx, key)
		if err != nil && !errors.Is(err, ErrNotFound) {
			return nil, err
		}

		// let the caller decide what to write
		next, err := fn(cur)
		if err != nil {
			return nil, err
		}
		if next == nil {
			return cur, nil
		}

		// write it unless another writer came first
		_, err = s.Put(ctx, key, next, version)
		if err == nil {
			return next, nil
		}
		if !errors.Is(err, ErrVersionConflict) {
			return nil, err
		}
		lastConflict = err
	}
	return nil, fmt.Errorf("update account %s: gave up after %d attempts: %w", key, maxUpdateAttempts, lastConflict)
}

// Delete removes an account with all its versions, for unlinking. Deleting an
// account that does not exist is not an error.
func (s *Store) Delete(ctx context.Context, key Key) error {
	if err := key.validate(); err != nil {
		return err
	}

	path := s.accountPath(key)
	if err := s.kv.DeleteMetadata(ctx, path); err != nil {
		return s.classifyError("delete", s.metadataPath(path), err)
	}
	return nil
}

// List returns the owners that have a record under one app and tenant, sorted
// by Vault. Owners whose current version is deleted are listed too, because
// their metadata remains. A tenant without records gives an empty slice.
func (s *Store) List(ctx context.Context, app, tenant string) ([]string, error) {
	if err := ValidateSegment("app", app); err != nil {
		return nil, err
	}
	if err := ValidateSegment("tenant", tenant); err != nil {
		return nil, err
	}

	keys, err := s.listKeys(ctx, s.ownersPath(app, tenant))
	if err != nil {
		return nil, err
	}

	owners := make([]string, 0, len(keys))
	for _, owner := range keys {
		// names ending in "/" are folders, which no valid owner id creates
		if strings.HasSuffix(owner, "/") {
			continue
		}
		owners = append(owners, owner)
	}
	return owners, nil
}

// ListTenants returns the tenants that have records under one app. An app
// without records gives an empty slice.
func (s *Store) ListTenants(ctx context.Context, app string) ([]string, error) {
	if err := ValidateSegment("app", app); err != nil {
		return nil, err
	}

	keys, err := s.listKeys(ctx, s.prefix+"/"+app)
	if err != nil {
		return nil, err
	}

	tenants := make([]string, 0, len(keys))
	for _, name := range keys {
		// tenants are folders; a name without "/" is no tenant
		tenant, isFolder := strings.CutSuffix(name, "/")
		if !isFolder || !isValidSegment(tenant) {
			continue
		}
		tenants = append(tenants, tenant)
	}
	return tenants, nil
}

// listKeys lists the names under a folder of the mount, folders with a
// trailing "/". A folder without records gives an empty slice.
func (s *Store) listKeys(ctx context.Context, folder string) ([]string, error) {
	path := s.metadataPath(folder)
	secret, err := s.client.Logical().ListWithContext(ctx, path)
	if err != nil {
		return nil, s.classifyError("list", path, err)
	}
	if secret == nil || secret.Data == nil {
		return []string{}, nil
	}

	items, ok := secret.Data["keys"].([]any)
	if !ok {
		return nil, fmt.Errorf("list %s: vault returned no keys array", path)
	}
	keys := make([]string, 0, len(items))
	for _, item := range items {
		if name, ok := item.(string); ok {
			keys = append(keys, name)
		}
	}
	return keys, nil
}

// dataPath returns the full API path of a secret's data, for messages.
func (s *Store) dataPath(path string) string {
	return s.mount + "/data/" + path
}

// metadataPath returns the full API path of a secret's metadata.
func (s *Store) metadataPath(path string) string {
	return s.mount + "/metadata/" + path
}

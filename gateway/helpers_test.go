package gateway_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/credgate/credgate/apps"
	"github.com/credgate/credgate/gateway"
	"github.com/credgate/credgate/oauthflow"
	"github.com/credgate/credgate/vault"
)

// Values of the test client registration and of the fake Instagram server.
// The secret ones must never appear in a page, a reply to the client or a
// log line.
const (
	testClientID       = "1184756399218845"
	testClientSecret   = "client-secret-e41f07c2"
	testRedirectURL    = "https://gateway.example.com/instagram/oauth/callback"
	testStateKey       = "state-key-for-the-gateway-tests-7a93f1"
	testCode           = "auth-code-5b90d1"
	testShortToken     = "IGAAshort-token-8e27"
	testLongToken      = "IGAAlong-token-41c3"
	testRefreshedToken = "IGAArefreshed-token-9d02"
	testStoredToken    = "IGAAstored-token-6a11"
	testClientToken    = "IGAAclient-own-token-30bd"

	// testUserID is above 2^53, so a float64 would round its last digit.
	testUserID       = "27640875392278831"
	testAppScopedID  = "9123456789012345"
	testUsername     = "shop.example"
	testOwner        = "owner-1"
	testReturnPrefix = "https://app.example.com/ok"

	// tokenLifetime is the expires_in of the long-lived exchange and the
	// refresh replies, in seconds (about 60 days).
	tokenLifetime = 5183944

	ownerHeader  = "X-Linked-Account-Owner"
	tenantHeader = "X-Tenant"
)

// testScopes are the scopes of the test client registration.
var testScopes = []string{"instagram_business_basic", "instagram_business_manage_comments"}

// testStart is the fake clock's starting time.
var testStart = time.Date(2026, time.March, 2, 10, 0, 0, 0, time.UTC)

// testClock is a settable clock shared by the gateway, the provider and
// the state signer.
type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// fakeInstagram imitates the Instagram token endpoints and /v23.0/me on a
// loopback server. It checks each request's parameters and replies to a
// wrong one with an error, as Instagram does.
type fakeInstagram struct {
	*httptest.Server
	t *testing.T

	mu sync.Mutex

	// failCodeExchange makes the code exchange reply with a flat error that
	// echoes the code, to check that the code is redacted.
	failCodeExchange bool

	// refreshStatus, when not 0, is the status of a failed refresh reply.
	refreshStatus int

	// refreshBody, when set, is the body of a failed refresh reply.
	refreshBody string

	// refreshDelay holds each refresh reply back, so concurrent calls
	// overlap with the refresh.
	refreshDelay time.Duration

	// broken maps a path to how its requests fail instead of being
	// served: breakGraphError or breakConnection.
	broken map[string]string

	requests      map[string]int // request count by path
	exchangeCodes []string       // codes the code exchange received
	refreshTokens []string       // tokens the refresh received
}

func newFakeInstagram(t *testing.T) *fakeInstagram {
	t.Helper()

	fake := &fakeInstagram{t: t, requests: make(map[string]int), broken: make(map[string]string)}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /oauth/access_token", fake.serveCodeExchange)
	mux.HandleFunc("GET /access_token", fake.serveLongLivedExchange)
	mux.HandleFunc("GET /refresh_access_token", fake.serveRefresh)
	mux.HandleFunc("GET /v23.0/me", fake.serveMe)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("fake instagram: unexpected request %s %s", r.Method, r.URL.Path)
		http.NotFound(w, r)
	})
	fake.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fake.mu.Lock()
		fake.requests[r.URL.Path]++
		mode := fake.broken[r.URL.Path]
		fake.mu.Unlock()

		switch mode {
		case breakGraphError:
			writeGraphError(w, http.StatusBadRequest, 190, "Error validating access token: Session has expired")
		case breakConnection:
			closeConnection(t, w)
		default:
			mux.ServeHTTP(w, r)
		}
	}))
	t.Cleanup(fake.Close)
	return fake
}

func (f *fakeInstagram) serveCodeExchange(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		f.t.Errorf("fake instagram: parsing the code exchange form: %v", err)
	}
	code := r.PostForm.Get("code")

	f.mu.Lock()
	f.exchangeCodes = append(f.exchangeCodes, code)
	fail := f.failCodeExchange
	f.mu.Unlock()

	if fail {
		writeReply(w, http.StatusBadRequest, fmt.Sprintf(
			`{"error_type":"OAuthException","code":400,"error_message":"Matching code %s was not found or was already used"}`, code))
		return
	}
	form := r.PostForm
	if form.Get("client_id") != testClientID || form.Get("client_secret") != testClientSecret ||
		form.Get("grant_type") != "authorization_code" || form.Get("redirect_uri") != testRedirectURL ||
		code != testCode || r.URL.RawQuery != "" {
		writeReply(w, http.StatusBadRequest,
			`{"error_type":"OAuthException","code":400,"error_message":"Matching code was not found or was already used"}`)
		return
	}

	// the flat shape seen in the field, with user_id as a bare number
	writeReply(w, http.StatusOK, `{"access_token":"`+testShortToken+`","user_id":`+testUserID+
		`,"permissions":["instagram_business_basic","instagram_business_manage_comments"]}`)
}

func (f *fakeInstagram) serveLongLivedExchange(w http.ResponseWriter, r *http.Request) {
	query := r.URL.Query()
	if query.Get("grant_type") != "ig_exchange_token" || query.Get("client_secret") != testClientSecret ||
		query.Get("access_token") != testShortToken {
		writeGraphError(w, http.StatusBadRequest, 190, "Invalid OAuth access token - Cannot parse access token")
		return
	}
	writeReply(w, http.StatusOK, fmt.Sprintf(`{"access_token":%q,"token_type":"bearer","expires_in":%d}`, testLongToken, tokenLifetime))
}

func (f *fakeInstagram) serveRefresh(w http.ResponseWriter, r *http.Request) {
	query := r.URL.Query()

	f.mu.Lock()
	f.refreshTokens = append(f.refreshTokens, query.Get("access_token"))
	status, delay, body := f.refreshStatus, f.refreshDelay, f.refreshBody
	f.mu.Unlock()

	time.Sleep(delay)
	if status != 0 {
		if body == "" {
			body = `{"error":{"message":"An unexpected error has occurred. Please retry your request later.","type":"OAuthException","code":2,"is_transient":true}}`
		}
		writeReply(w, status, body)
		return
	}
	if query.Get("grant_type") != "ig_refresh_token" || query.Get("access_token") == "" || query.Has("client_secret") {
		writeGraphError(w, http.StatusBadRequest, 100, "Invalid refresh request")
		return
	}
	writeReply(w, http.StatusOK, fmt.Sprintf(`{"access_token":%q,"token_type":"bearer","expires_in":%d}`, testRefreshedToken, tokenLifetime))
}

func (f *fakeInstagram) serveMe(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Authorization") != "Bearer "+testLongToken || r.URL.Query().Get("fields") != "user_id,username" {
		writeGraphError(w, http.StatusBadRequest, 190, "Invalid OAuth access token")
		return
	}

	// id is app-scoped and differs from user_id, the professional account id
	writeReply(w, http.StatusOK, `{"id":"`+testAppScopedID+`","user_id":`+testUserID+`,"username":"`+testUsername+`"}`)
}

func (f *fakeInstagram) count(path string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.requests[path]
}

func (f *fakeInstagram) codes() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.exchangeCodes)
}

func (f *fakeInstagram) refreshedTokens() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.refreshTokens)
}

func (f *fakeInstagram) setFailCodeExchange(fail bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.failCodeExchange = fail
}

// breakPath makes every request to path fail with mode.
func (f *fakeInstagram) breakPath(path, mode string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.broken[path] = mode
}

// setRefreshError makes every refresh fail with status and body.
func (f *fakeInstagram) setRefreshError(status int, body string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.refreshStatus, f.refreshBody = status, body
}

func (f *fakeInstagram) setRefresh(status int, delay time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.refreshStatus, f.refreshDelay = status, delay
}

// Ways a fakeInstagram path can fail.
const (
	breakGraphError = "graph_error"      // a Graph error reply with code 190
	breakConnection = "close_connection" // the connection closes with no reply
)

// closeConnection drops the client's connection without a reply, so the
// client sees a transport error that names the request URL.
func closeConnection(t *testing.T, w http.ResponseWriter) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		t.Errorf("fake instagram: hijacking the connection: %v", err)
		return
	}
	_ = conn.Close()
}

func writeReply(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, body)
}

func writeGraphError(w http.ResponseWriter, status, code int, message string) {
	writeReply(w, status, fmt.Sprintf(`{"error":{"message":%q,"type":"OAuthException","code":%d,"error_subcode":463,"fbtrace_id":"AbCdEf123"}}`, message, code))
}

// storedAccount is one record of memoryStore with its version.
type storedAccount struct {
	account vault.Account
	version int
}

// memoryStore is an in-memory CredentialStore with the check-and-set
// semantics of vault.Store: every write names the version it read, a
// write against a newer version is a conflict, and Update re-reads and
// retries after a conflict.
type memoryStore struct {
	mu       sync.Mutex
	accounts map[vault.Key]*storedAccount
	states   map[string]time.Time
	writes   int

	// failWith, when set, is returned by every method.
	failWith error

	// failWrites, when set, is returned by every account write.
	failWrites error

	// beforeWrite runs before every write of Put, and inside Update after
	// fn and before the write, without the lock, so a test can play a
	// concurrent writer.
	beforeWrite func()
}

func newMemoryStore() *memoryStore {
	return &memoryStore{accounts: make(map[vault.Key]*storedAccount), states: make(map[string]time.Time)}
}

func (s *memoryStore) Get(ctx context.Context, key vault.Key) (*vault.Account, int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()

	if s.failWith != nil {
		return nil, 0, s.failWith
	}
	if err := ctx.Err(); err != nil {
		return nil, 0, err
	}
	stored, ok := s.accounts[key]
	if !ok {
		return nil, 0, fmt.Errorf("read account %s: %w", key, vault.ErrNotFound)
	}
	return cloneAccount(&stored.account), stored.version, nil
}

func (s *memoryStore) Update(ctx context.Context, key vault.Key, fn func(cur *vault.Account) (*vault.Account, error)) (*vault.Account, error) {
	for attempt := 0; attempt < 5; attempt++ {
		cur, version, err := s.Get(ctx, key)
		if err != nil && !errors.Is(err, vault.ErrNotFound) {
			return nil, err
		}

		next, err := fn(cur)
		if err != nil {
			return nil, err
		}
		if next == nil {
			return cur, nil
		}

		s.mu.Lock()
		hook := s.beforeWrite
		s.mu.Unlock()
		if hook != nil {
			hook()
		}

		err = s.put(key, next, version)
		if errors.Is(err, vault.ErrVersionConflict) {
			continue
		}
		if err != nil {
			return nil, err
		}
		return next, nil
	}
	return nil, fmt.Errorf("update account %s: gave up after 5 attempts: %w", key, vault.ErrVersionConflict)
}

func (s *memoryStore) ConsumeState(ctx context.Context, id string, expiresAt time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()

	if s.failWith != nil {
		return s.failWith
	}
	if id == "" {
		return errors.New("consume state: missing state id")
	}
	if _, used := s.states[id]; used {
		return fmt.Errorf("consume state: %w", vault.ErrStateUsed)
	}
	s.states[id] = expiresAt
	return nil
}

// ListTenants returns the tenants with accounts of app, sorted.
func (s *memoryStore) ListTenants(ctx context.Context, app string) ([]string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()

	if s.failWith != nil {
		return nil, s.failWith
	}
	var tenants []string
	for key := range s.accounts {
		if key.App == app && !slices.Contains(tenants, key.Tenant) {
			tenants = append(tenants, key.Tenant)
		}
	}
	slices.Sort(tenants)
	return tenants, nil
}

// List returns the owners with accounts of app in tenant, sorted.
func (s *memoryStore) List(ctx context.Context, app, tenant string) ([]string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()

	if s.failWith != nil {
		return nil, s.failWith
	}
	var owners []string
	for key := range s.accounts {
		if key.App == app && key.Tenant == tenant {
			owners = append(owners, key.Owner)
		}
	}
	slices.Sort(owners)
	return owners, nil
}

// Put writes an account with check-and-set, like vault.Store.Put.
func (s *memoryStore) Put(ctx context.Context, key vault.Key, account *vault.Account, version int) (int, error) {
	// like the Vault client, a spent context fails the write
	if err := ctx.Err(); err != nil {
		return 0, err
	}

	s.mu.Lock()
	hook := s.beforeWrite
	s.mu.Unlock()
	if hook != nil {
		hook()
	}

	if err := s.put(key, account, version); err != nil {
		return 0, err
	}
	return version + 1, nil
}

// put writes an account when version is the current one (0 for none).
func (s *memoryStore) put(key vault.Key, account *vault.Account, version int) error {
	s.mu.Lock()
	defer s.mu.Unlock()

	if s.failWith != nil {
		return s.failWith
	}
	if s.failWrites != nil {
		return s.failWrites
	}
	if account.Status != vault.StatusActive && account.Status != vault.StatusReauthorizationRequired {
		return fmt.Errorf("write account %s: invalid status %q", key, account.Status)
	}
	current := 0
	if stored, ok := s.accounts[key]; ok {
		current = stored.version
	}
	if current != version {
		return fmt.Errorf("write account %s: version %d is not the current %d: %w", key, version, current, vault.ErrVersionConflict)
	}
	s.accounts[key] = &storedAccount{account: *cloneAccount(account), version: current + 1}
	s.writes++
	return nil
}

// seed stores an account outside the gateway, as another instance would.
func (s *memoryStore) seed(t *testing.T, key vault.Key, account *vault.Account) {
	t.Helper()

	s.mu.Lock()
	version := 0
	if stored, ok := s.accounts[key]; ok {
		version = stored.version
	}
	s.mu.Unlock()

	if err := s.put(key, account, version); err != nil {
		t.Fatalf("seeding account %s: %v", key, err)
	}
}

// account returns the stored account, or nil.
func (s *memoryStore) account(key vault.Key) *vault.Account {
	s.mu.Lock()
	defer s.mu.Unlock()

	stored, ok := s.accounts[key]
	if !ok {
		return nil
	}
	return cloneAccount(&stored.account)
}

func (s *memoryStore) writeCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.writes
}

func (s *memoryStore) setFailure(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failWith = err
}

func (s *memoryStore) setWriteFailure(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failWrites = err
}

func (s *memoryStore) setBeforeWrite(hook func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.beforeWrite = hook
}

func cloneAccount(a *vault.Account) *vault.Account {
	c := *a
	c.Scopes = slices.Clone(a.Scopes)
	return &c
}

// upstreamCall is a request as the Upstream received it.
type upstreamCall struct {
	Method      string
	EscapedPath string
	RawQuery    string
	Header      http.Header
	Body        []byte
}

// recordingUpstream records each prepared request and passes it to
// reply, which by default writes 200 {"id":"17841400000000000"}.
type recordingUpstream struct {
	t *testing.T

	mu    sync.Mutex
	calls []upstreamCall
	reply func(w http.ResponseWriter, r *http.Request) error
}

func (u *recordingUpstream) serve(w http.ResponseWriter, r *http.Request) error {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		u.t.Errorf("upstream: reading the body: %v", err)
	}

	u.mu.Lock()
	u.calls = append(u.calls, upstreamCall{
		Method:      r.Method,
		EscapedPath: r.URL.EscapedPath(),
		RawQuery:    r.URL.RawQuery,
		Header:      r.Header.Clone(),
		Body:        body,
	})
	reply := u.reply
	u.mu.Unlock()

	if reply != nil {
		return reply(w, r)
	}
	writeReply(w, http.StatusOK, `{"id":"17841400000000000"}`)
	return nil
}

func (u *recordingUpstream) setReply(reply func(w http.ResponseWriter, r *http.Request) error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.reply = reply
}

func (u *recordingUpstream) recorded() []upstreamCall {
	u.mu.Lock()
	defer u.mu.Unlock()
	return slices.Clone(u.calls)
}

// onlyCall returns the single recorded call and fails the test when there
// is not exactly one.
func (u *recordingUpstream) onlyCall(t *testing.T) upstreamCall {
	t.Helper()
	calls := u.recorded()
	if len(calls) != 1 {
		t.Fatalf("upstream received %d calls, want 1", len(calls))
	}
	return calls[0]
}

// logBuffer collects JSON log lines; zap writes to it from any goroutine.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) Sync() error { return nil }

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// entries decodes every log line.
func (b *logBuffer) entries(t *testing.T) []map[string]any {
	t.Helper()

	var entries []map[string]any
	scanner := bufio.NewScanner(strings.NewReader(b.String()))
	for scanner.Scan() {
		var entry map[string]any
		if err := json.Unmarshal(scanner.Bytes(), &entry); err != nil {
			t.Fatalf("log line is not JSON: %v: %s", err, scanner.Text())
		}
		entries = append(entries, entry)
	}
	return entries
}

// find returns the log entries with this message.
func (b *logBuffer) find(t *testing.T, message string) []map[string]any {
	t.Helper()

	var found []map[string]any
	for _, entry := range b.entries(t) {
		if entry["msg"] == message {
			found = append(found, entry)
		}
	}
	return found
}

// harness is a Gateway for the real Instagram app data, wired to fakes.
type harness struct {
	gateway   *gateway.Gateway
	config    gateway.Config // the config gateway was built from
	instagram *fakeInstagram
	store     *memoryStore
	signer    *oauthflow.StateSigner
	clock     *testClock
	logs      *logBuffer
	upstream  *recordingUpstream

	mu           sync.Mutex
	extraSecrets []string // states and other secrets a test added, for the secret checks
}

func newHarness(t *testing.T) *harness {
	t.Helper()

	app, err := apps.Load("instagram")
	if err != nil {
		t.Fatalf("loading the instagram app: %v", err)
	}

	clock := &testClock{now: testStart}
	instagram := newFakeInstagram(t)
	provider := &oauthflow.Provider{
		Name:              app.DisplayName,
		ClientID:          testClientID,
		ClientSecret:      testClientSecret,
		RedirectURL:       testRedirectURL,
		Scopes:            testScopes,
		ScopeSeparator:    app.ScopeSeparator,
		AuthorizeURL:      instagram.URL + "/oauth/authorize",
		TokenURL:          instagram.URL + "/oauth/access_token",
		APIBaseURL:        instagram.URL,
		APIVersion:        app.APIVersion,
		CodeSuffix:        app.CodeSuffix,
		LongLivedExchange: app.LongLivedExchange,
		Refresh:           &app.Refresh.TokenRequest,
		Identity:          app.Identity,
		HTTPClient:        instagram.Client(),
		Now:               clock.Now,
	}

	signer, err := oauthflow.NewStateSigner([]byte(testStateKey), 0)
	if err != nil {
		t.Fatalf("creating the state signer: %v", err)
	}
	signer.Now = clock.Now

	logs := &logBuffer{}
	logger := zap.New(zapcore.NewCore(zapcore.NewJSONEncoder(zap.NewProductionEncoderConfig()), logs, zapcore.DebugLevel))

	h := &harness{
		instagram: instagram,
		store:     newMemoryStore(),
		signer:    signer,
		clock:     clock,
		logs:      logs,
		upstream:  &recordingUpstream{t: t},
	}
	h.config = gateway.Config{
		App:      app,
		Provider: provider,
		Store:    h.store,
		States:   signer,
		Refresh: oauthflow.RefreshPolicy{
			Window: time.Duration(app.Refresh.DefaultWindow),
			MinAge: time.Duration(app.Refresh.MinTokenAge),
		},
		Upstream: h.upstream.serve,
		Accounts: func(r *http.Request) (string, string) {
			return r.Header.Get(tenantHeader), r.Header.Get(ownerHeader)
		},
		OwnerSource:   "the " + ownerHeader + " request header",
		AllowReturnTo: []string{testReturnPrefix},
		Logger:        logger,
		Now:           clock.Now,
	}
	h.gateway, err = gateway.New(h.config)
	if err != nil {
		t.Fatalf("gateway.New: %v", err)
	}
	return h
}

// serve runs one request through the gateway.
func (h *harness) serve(r *http.Request) *httptest.ResponseRecorder {
	return h.serveWith(h.gateway, r)
}

// serveWith runs one request through g, such as a second gateway.
func (h *harness) serveWith(g *gateway.Gateway, r *http.Request) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	g.ServeHTTP(rec, r)
	return rec
}

// secondGateway builds another gateway on the harness's store, provider
// and upstream, as a second instance sharing the Vault would be.
func (h *harness) secondGateway(t *testing.T) *gateway.Gateway {
	t.Helper()
	g, err := gateway.New(h.config)
	if err != nil {
		t.Fatalf("gateway.New: %v", err)
	}
	return g
}

// request builds a client request acting for testOwner.
func request(method, target, contentType, body string) *http.Request {
	var reader io.Reader
	if body != "" {
		reader = strings.NewReader(body)
	}
	r := httptest.NewRequest(method, target, reader)
	r.Header.Set(ownerHeader, testOwner)
	if contentType != "" {
		r.Header.Set("Content-Type", contentType)
	}
	return r
}

// testKey is the account key of testOwner in the default tenant.
func testKey() vault.Key {
	return vault.Key{App: "instagram", Tenant: gateway.DefaultTenant, Owner: testOwner}
}

// seedAccount stores an active account for testOwner with token, issued
// age ago and expiring in expiresIn from the clock's current time.
func (h *harness) seedAccount(t *testing.T, token string, age, expiresIn time.Duration) *vault.Account {
	t.Helper()

	now := h.clock.Now()
	account := &vault.Account{
		AccessToken: token,
		TokenType:   "bearer",
		IssuedAt:    now.Add(-age),
		ExpiresAt:   now.Add(expiresIn),
		UserID:      testUserID,
		Username:    testUsername,
		Scopes:      slices.Clone(testScopes),
		LinkedAt:    now.Add(-age),
		Status:      vault.StatusActive,
	}
	h.store.seed(t, testKey(), account)
	return account
}

// authorize requests a consent URL as JSON from the gateway and returns
// its state.
func (h *harness) authorize(t *testing.T, owner, returnTo string) string {
	t.Helper()

	query := url.Values{"owner": {owner}}
	if returnTo != "" {
		query.Set("return_to", returnTo)
	}
	r := httptest.NewRequest(http.MethodGet, "/oauth/authorize?"+query.Encode(), nil)
	r.Header.Set("Accept", "application/json")
	rec := h.serve(r)
	if rec.Code != http.StatusOK {
		t.Fatalf("authorize: status %d, want 200; body %s", rec.Code, rec.Body)
	}

	var reply struct {
		AuthorizationURL string `json:"authorization_url"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &reply); err != nil {
		t.Fatalf("authorize: decoding the reply: %v", err)
	}
	return h.stateOf(t, reply.AuthorizationURL)
}

// stateOf returns the state parameter of a consent URL and remembers it
// for the secret checks.
func (h *harness) stateOf(t *testing.T, consentURL string) string {
	t.Helper()

	u, err := url.Parse(consentURL)
	if err != nil {
		t.Fatalf("consent URL %q does not parse: %v", consentURL, err)
	}
	state := u.Query().Get("state")
	if state == "" {
		t.Fatalf("consent URL %q has no state", consentURL)
	}
	h.rememberSecret(state)
	return state
}

func (h *harness) rememberSecret(secret string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.extraSecrets = append(h.extraSecrets, secret)
}

// callback sends the browser's return from the consent page.
func (h *harness) callback(query url.Values) *httptest.ResponseRecorder {
	return h.serve(httptest.NewRequest(http.MethodGet, "/oauth/callback?"+query.Encode(), nil))
}

// secrets lists every secret value the gateway has seen in this test.
func (h *harness) secrets() []string {
	h.mu.Lock()
	defer h.mu.Unlock()

	list := []string{testClientSecret, testCode, testShortToken, testLongToken, testRefreshedToken, testStoredToken, testClientToken}
	return append(list, h.extraSecrets...)
}

// assertNoSecrets fails when text contains any secret of the harness.
func (h *harness) assertNoSecrets(t *testing.T, where, text string) {
	t.Helper()
	for _, secret := range h.secrets() {
		if strings.Contains(text, secret) {
			t.Errorf("%s contains the secret %q", where, secret)
		}
	}
}

// errorReply is the gateway's JSON error envelope.
type errorReply struct {
	Error struct {
		Code         string `json:"code"`
		Message      string `json:"message"`
		AuthorizeURL string `json:"authorize_url"`
	} `json:"error"`
}

// decodeError reads a JSON error reply and checks its status and code.
func decodeError(t *testing.T, rec *httptest.ResponseRecorder, status int, code string) errorReply {
	t.Helper()

	var reply errorReply
	if err := json.Unmarshal(rec.Body.Bytes(), &reply); err != nil {
		t.Fatalf("reply is not a JSON error envelope: %v; body %s", err, rec.Body)
	}
	if rec.Code != status {
		t.Errorf("status = %d, want %d; body %s", rec.Code, status, rec.Body)
	}
	if reply.Error.Code != code {
		t.Errorf("error code = %q, want %q; message %q", reply.Error.Code, code, reply.Error.Message)
	}
	if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("Content-Type = %q, want application/json", ct)
	}
	return reply
}

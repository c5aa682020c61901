// Package igserver is a local stand-in for the Instagram API with Instagram
// Login. One http.Handler serves the consent page of www.instagram.com, the
// code exchange of api.instagram.com, and the token and Graph API endpoints of
// graph.instagram.com, so end-to-end tests and demos need no network access.
//
// The server reproduces the behaviour that clients must cope with. The
// redirect after consent carries a "#_" fragment after the code. The code
// exchange reply has a user_id above 2^53 and comes in two shapes. The token
// endpoint has a flat error body, while graph.instagram.com uses the Graph
// API error envelope. Refresh has rules of its own, and a refresh changes
// the token string only every other time.
//
// Test controls live under /__igserver/ and return tokens and client secrets
// in plain text, so the server must listen on loopback only.
package igserver

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Token reply shapes of the code exchange, for Options.TokenShape.
const (
	// TokenShapeFlat is the reply seen in the field:
	// {"access_token":…,"user_id":<number>,"permissions":[…]}.
	TokenShapeFlat = "flat"

	// TokenShapeData is the documented reply:
	// {"data":[{"access_token":…,"user_id":"<digits>","permissions":"a,b"}]}.
	TokenShapeData = "data"
)

// maxBodyBytes is the largest request body the server reads.
const maxBodyBytes = 1 << 20

// Options configures a Server.
type Options struct {
	// ClientID is the only client_id the server accepts. Required.
	ClientID string

	// ClientSecret is the client_secret that goes with ClientID. Required.
	ClientSecret string

	// AutoApprove makes GET /oauth/authorize redirect with a code at once,
	// as if the user had pressed Approve. Tests that have no browser set it.
	AutoApprove bool

	// TokenShape selects the reply shape of the code exchange: TokenShapeFlat
	// (the default when empty) or TokenShapeData.
	TokenShape string

	// Now returns the current time. Nil means time.Now. Tests move it forward
	// to expire codes and tokens without sleeping.
	Now func() time.Time
}

// Account is the one Instagram professional account behind every login.
type Account struct {
	// UserID is the professional account id that /me returns as user_id and
	// webhooks carry. It is above 2^53, so a float64 cannot hold it exactly.
	UserID string `json:"user_id"`

	// AppScopedID is the app-scoped id that /me returns as id.
	AppScopedID string `json:"app_scoped_id"`

	// Username is the account's Instagram handle.
	Username string `json:"username"`
}

// Server is an in-memory Instagram-compatible server. It implements
// http.Handler and is safe for concurrent use.
type Server struct {
	clientID     string
	clientSecret string
	now          func() time.Time
	account      Account

	// mu guards every field below.
	mu          sync.Mutex
	autoApprove bool
	tokenShape  string
	codes       map[string]*authCode
	tokens      map[string]*token
	containers  map[string]*container
	media       map[string]*mediaItem
	mediaOrder  []string    // ids of the account's media, newest first
	publishes   []time.Time // when each post was published, for the 24-hour quota
	requests    []*Request
	graphCalls  int
	lastID      int64
}

// New returns a Server for one client registration. It panics when
// opts.ClientID or opts.ClientSecret is empty or opts.TokenShape is neither
// empty, "flat" nor "data", because these are mistakes in the test itself.
func New(opts Options) *Server {
	if opts.ClientID == "" || opts.ClientSecret == "" {
		panic("igserver: Options.ClientID and Options.ClientSecret must not be empty")
	}

	shape := opts.TokenShape
	if shape == "" {
		shape = TokenShapeFlat
	}
	if err := checkTokenShape(shape); err != nil {
		panic(err)
	}

	now := opts.Now
	if now == nil {
		now = time.Now
	}

	s := &Server{
		clientID:     opts.ClientID,
		clientSecret: opts.ClientSecret,
		now:          now,
		account: Account{
			UserID:      "27640875392278831",
			AppScopedID: "9876543210123456",
			Username:    "credgate_demo",
		},
		autoApprove: opts.AutoApprove,
		tokenShape:  shape,
		codes:       make(map[string]*authCode),
		tokens:      make(map[string]*token),
		containers:  make(map[string]*container),
		media:       make(map[string]*mediaItem),
		lastID:      18000000000000000,
	}
	s.addFixtureMedia()

	return s
}

// Account returns the test account that every login links.
func (s *Server) Account() Account {
	return s.account
}

// SetTokenShape switches the reply shape of later code exchanges to
// TokenShapeFlat or TokenShapeData.
func (s *Server) SetTokenShape(shape string) error {
	if err := checkTokenShape(shape); err != nil {
		return err
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	s.tokenShape = shape

	return nil
}

// setAutoApprove switches the consent page between showing the Approve and
// Deny buttons and approving at once.
func (s *Server) setAutoApprove(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.autoApprove = on
}

func checkTokenShape(shape string) error {
	if shape != TokenShapeFlat && shape != TokenShapeData {
		return fmt.Errorf("igserver: invalid token shape %q: use %q or %q", shape, TokenShapeFlat, TokenShapeData)
	}
	return nil
}

// ServeHTTP records the request and dispatches it by path: the admin
// controls, the four OAuth and token endpoints, and the Graph API for every
// other path.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == strings.TrimSuffix(adminPrefix, "/") || strings.HasPrefix(r.URL.Path, adminPrefix) {
		s.serveAdmin(w, r)
		return
	}

	// read the body once, so it can be both recorded and parsed; client
	// requests built with a nil body reach a handler called directly
	if r.Body == nil {
		r.Body = http.NoBody
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBodyBytes+1))
	if err != nil {
		http.Error(w, "failed to read request body", http.StatusBadRequest)
		return
	}
	if len(body) > maxBodyBytes {
		http.Error(w, fmt.Sprintf("request body larger than %d bytes", maxBodyBytes), http.StatusRequestEntityTooLarge)
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(body))

	// record, then dispatch
	endpoint := endpointOf(r.URL.Path)
	record := s.record(r, body, endpoint)

	switch endpoint {
	case endpointAuthorize:
		s.serveAuthorize(w, r)
	case endpointCodeExchange:
		s.serveCodeExchange(w, r)
	case endpointLongLivedExchange:
		s.serveLongLivedExchange(w, r)
	case endpointRefresh:
		s.serveRefresh(w, r)
	default:
		s.serveGraph(w, r, body, record)
	}
}

// endpointOf classifies a request path into one of the Request.Endpoint
// values. A trailing slash is ignored.
func endpointOf(path string) string {
	switch strings.TrimSuffix(path, "/") {
	case "/oauth/authorize":
		return endpointAuthorize
	case "/oauth/access_token":
		return endpointCodeExchange
	case "/access_token":
		return endpointLongLivedExchange
	case "/refresh_access_token":
		return endpointRefresh
	default:
		return endpointGraphAPI
	}
}

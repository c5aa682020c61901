package igserver

import (
	"errors"
	"time"
)

// Lifetimes of codes and tokens.
const (
	codeLifetime = time.Hour
	shortLived   = time.Hour

	// longLived is the lifetime of a long-lived token: 60 days less 56
	// seconds, which Instagram reports as expires_in 5183944.
	longLived = 5183944 * time.Second

	// minRefreshAge is how old a long-lived token must be before it can be
	// refreshed.
	minRefreshAge = 24 * time.Hour
)

// tokenKind is the lifetime class of a token: short-lived from the code
// exchange, or long-lived.
type tokenKind int

const (
	kindShortLived tokenKind = iota + 1
	kindLongLived
)

// token is the server-side state of one access token string.
type token struct {
	kind      tokenKind
	scopes    []string
	issuedAt  time.Time
	expiresAt time.Time
	revoked   bool

	// refreshes counts the refreshes in this token's line, carried over when
	// a refresh returns a new string. An odd count issues a new string.
	refreshes int
}

// authCode is one authorization code handed out by the consent page.
type authCode struct {
	redirectURI string
	scopes      []string
	issuedAt    time.Time
	used        bool
}

// Errors of SetToken and RevokeToken. They never contain the token.
var (
	errUnknownToken = errors.New("igserver: unknown access token")
	errTokenTimes   = errors.New("igserver: expires_at is before issued_at")
)

// SetToken changes when a token this server issued was issued and when it
// expires, for example to make it old enough to refresh or to expire it.
func (s *Server) SetToken(accessToken string, issuedAt, expiresAt time.Time) error {
	if expiresAt.Before(issuedAt) {
		return errTokenTimes
	}

	s.mu.Lock()
	defer s.mu.Unlock()

	t, ok := s.tokens[accessToken]
	if !ok {
		return errUnknownToken
	}
	t.issuedAt = issuedAt
	t.expiresAt = expiresAt

	return nil
}

// RevokeToken invalidates a token this server issued, as a password change
// or a removed app would. Later use fails with code 190, subcode 460.
func (s *Server) RevokeToken(accessToken string) error {
	s.mu.Lock()
	defer s.mu.Unlock()

	t, ok := s.tokens[accessToken]
	if !ok {
		return errUnknownToken
	}
	t.revoked = true

	return nil
}

// issueToken stores and returns a new token string. The caller holds s.mu.
func (s *Server) issueToken(kind tokenKind, scopes []string, now time.Time, refreshes int) string {
	lifetime := shortLived
	if kind == kindLongLived {
		lifetime = longLived
	}

	value := "IGAA" + randomString(48)
	s.tokens[value] = &token{
		kind:      kind,
		scopes:    append([]string(nil), scopes...),
		issuedAt:  now,
		expiresAt: now.Add(lifetime),
		refreshes: refreshes,
	}
	return value
}

// checkToken returns the live token stored under value, or the code 190
// error the Graph API gives for it. The caller holds s.mu.
func (s *Server) checkToken(value string, now time.Time) (*token, *graphError) {
	if value == "" {
		return nil, tokenError(0, "An active access token must be used to query information about the current user.")
	}

	t, ok := s.tokens[value]
	if !ok {
		return nil, tokenError(0, "Invalid OAuth access token - Cannot parse access token")
	}
	if t.revoked {
		return nil, tokenError(460, "Error validating access token: The session has been invalidated "+
			"because the user changed their password or Instagram has changed the session for security reasons.")
	}
	if !now.Before(t.expiresAt) {
		return nil, tokenError(463, "Error validating access token: Session has expired on "+
			t.expiresAt.UTC().Format(time.RFC1123)+". The current time is "+now.UTC().Format(time.RFC1123)+".")
	}

	return t, nil
}

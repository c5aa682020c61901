package igserver

import (
	"crypto/subtle"
	"net/http"
	"net/url"
	"strings"
)

// longLivedReply is the reply of the long-lived exchange and of refresh.
type longLivedReply struct {
	AccessToken string `json:"access_token"`
	TokenType   string `json:"token_type"`
	ExpiresIn   int64  `json:"expires_in"` // seconds
}

// serveLongLivedExchange trades a short-lived token for a new long-lived one:
// GET /access_token?grant_type=ig_exchange_token&client_secret=…&access_token=….
// The short-lived token keeps working until it expires.
func (s *Server) serveLongLivedExchange(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		writeGraphError(w, unsupportedRequest(r.Method, "access_token"))
		return
	}

	query := r.URL.Query()
	if gerr := checkGrantType(query, "ig_exchange_token"); gerr != nil {
		writeGraphError(w, gerr)
		return
	}
	secret := query.Get("client_secret")
	if secret == "" {
		writeGraphError(w, invalidParam("Missing client_secret parameter."))
		return
	}
	if subtle.ConstantTimeCompare([]byte(secret), []byte(s.clientSecret)) != 1 {
		writeGraphError(w, &graphError{code: 101, message: "Error validating client secret."})
		return
	}

	s.mu.Lock()
	now := s.now()
	short, gerr := s.checkToken(accessTokenOf(r, query), now)
	if gerr == nil && short.kind != kindShortLived {
		gerr = invalidParam("Only a short-lived access token can be exchanged for a long-lived one")
	}
	if gerr != nil {
		s.mu.Unlock()
		writeGraphError(w, gerr)
		return
	}
	long := s.issueToken(kindLongLived, short.scopes, now, 0)
	s.mu.Unlock()

	writeJSON(w, http.StatusOK, longLivedReply{AccessToken: long, TokenType: "bearer", ExpiresIn: int64(longLived.Seconds())})
}

// serveRefresh extends a long-lived token by 60 days from now:
// GET /refresh_access_token?grant_type=ig_refresh_token&access_token=….
//
// The token must be long-lived, at least 24 hours old, not expired and not
// revoked. Every other refresh of a token line returns a new string, and the
// others return the same string. A replaced string keeps working until its
// own expiry, so only a client that stores each returned token keeps access.
func (s *Server) serveRefresh(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		writeGraphError(w, unsupportedRequest(r.Method, "refresh_access_token"))
		return
	}

	query := r.URL.Query()
	if gerr := checkGrantType(query, "ig_refresh_token"); gerr != nil {
		writeGraphError(w, gerr)
		return
	}

	s.mu.Lock()
	now := s.now()
	value := accessTokenOf(r, query)
	t, gerr := s.checkToken(value, now)
	switch {
	case gerr != nil:
	case t.kind != kindLongLived:
		gerr = invalidParam("Only a long-lived access token can be refreshed: exchange the short-lived token first")
	case now.Sub(t.issuedAt) < minRefreshAge:
		gerr = invalidParam("The access token was issued less than 24 hours ago and cannot be refreshed yet")
	}
	if gerr != nil {
		s.mu.Unlock()
		writeGraphError(w, gerr)
		return
	}

	// rotate the string on odd refreshes, extend it in place on even ones
	t.refreshes++
	if t.refreshes%2 == 1 {
		value = s.issueToken(kindLongLived, t.scopes, now, t.refreshes)
	} else {
		t.issuedAt = now
		t.expiresAt = now.Add(longLived)
	}
	s.mu.Unlock()

	writeJSON(w, http.StatusOK, longLivedReply{AccessToken: value, TokenType: "bearer", ExpiresIn: int64(longLived.Seconds())})
}

func checkGrantType(query url.Values, expected string) *graphError {
	grantType := query.Get("grant_type")
	if grantType == "" {
		return invalidParam("Missing grant_type parameter: expected %s", expected)
	}
	if grantType != expected {
		return invalidParam("Unsupported grant_type %q: expected %s", grantType, expected)
	}
	return nil
}

// accessTokenOf returns the token of a request: the Authorization header
// with the Bearer or OAuth scheme, else the access_token parameter.
func accessTokenOf(r *http.Request, params url.Values) string {
	scheme, credentials, found := strings.Cut(r.Header.Get("Authorization"), " ")
	if found && (strings.EqualFold(scheme, "Bearer") || strings.EqualFold(scheme, "OAuth")) {
		if t := strings.TrimSpace(credentials); t != "" {
			return t
		}
	}
	return params.Get("access_token")
}

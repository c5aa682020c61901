package igserver

import (
	"crypto/subtle"
	"encoding/json"
	"mime"
	"net/http"
	"net/url"
	"strings"
)

// requiredScope is the scope every authorization request must include.
const requiredScope = "instagram_business_basic"

// knownScopes are the scopes of the Instagram API with Instagram Login.
var knownScopes = map[string]bool{
	"instagram_business_basic":           true,
	"instagram_business_content_publish": true,
	"instagram_business_manage_messages": true,
	"instagram_business_manage_comments": true,
	"instagram_business_manage_insights": true,
}

// retiredScopes are the scope names Instagram retired on 2025-01-27, each
// mapped to its replacement.
var retiredScopes = map[string]string{
	"business_basic":           "instagram_business_basic",
	"business_content_publish": "instagram_business_content_publish",
	"business_manage_messages": "instagram_business_manage_messages",
	"business_manage_comments": "instagram_business_manage_comments",
	"business_manage_insights": "instagram_business_manage_insights",
}

// consentRequest is a validated authorization request.
type consentRequest struct {
	clientID     string
	redirectURI  string
	responseType string
	scope        string
	state        string
	scopes       []string // parsed from scope, duplicates removed
}

// serveAuthorize handles the consent page: GET shows it (or approves at once
// with AutoApprove) and POST carries the user's decision.
func (s *Server) serveAuthorize(w http.ResponseWriter, r *http.Request) {
	var values url.Values
	switch r.Method {
	case http.MethodGet:
		values = r.URL.Query()
	case http.MethodPost:
		if err := r.ParseForm(); err != nil {
			writeErrorPage(w, "Invalid form body")
			return
		}
		values = r.PostForm
	default:
		w.Header().Set("Allow", "GET, POST")
		writeErrorPage(w, "Unsupported method "+r.Method)
		return
	}

	req, problem := s.parseConsentRequest(values)
	if problem != "" {
		writeErrorPage(w, problem)
		return
	}

	// pick the decision: the button pressed, AutoApprove, or none yet
	s.mu.Lock()
	autoApprove := s.autoApprove
	s.mu.Unlock()

	var decision string
	switch {
	case r.Method == http.MethodPost:
		decision = values.Get("decision")
		if decision != "approve" && decision != "deny" {
			writeErrorPage(w, "Invalid decision: expected approve or deny")
			return
		}
	case autoApprove:
		decision = "approve"
	default:
		s.writeConsentPage(w, req)
		return
	}

	if decision == "deny" {
		redirect(w, req.redirectURI, "", [][2]string{
			{"error", "access_denied"},
			{"error_reason", "user_denied"},
			{"error_description", "Permissions error"},
			{"state", req.state},
		})
		return
	}

	code := s.issueCode(req)
	redirect(w, req.redirectURI, "_", [][2]string{{"code", code}, {"state", req.state}})
}

// parseConsentRequest validates the authorization parameters. It returns a
// problem for the error page when they are invalid.
func (s *Server) parseConsentRequest(values url.Values) (consentRequest, string) {
	req := consentRequest{
		clientID:     values.Get("client_id"),
		redirectURI:  values.Get("redirect_uri"),
		responseType: values.Get("response_type"),
		scope:        values.Get("scope"),
		state:        values.Get("state"),
	}

	if req.clientID != s.clientID {
		return req, "Invalid platform app"
	}
	if req.responseType != "code" {
		return req, "Invalid response_type: expected code"
	}
	if problem := checkRedirectURI(req.redirectURI); problem != "" {
		return req, problem
	}

	scopes, problem := parseScopes(req.scope)
	if problem != "" {
		return req, problem
	}
	req.scopes = scopes

	return req, ""
}

// checkRedirectURI accepts any absolute http or https URL without a
// fragment. The real service also requires it to be registered for the app.
func checkRedirectURI(raw string) string {
	if raw == "" {
		return "Missing required parameter redirect_uri"
	}

	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Fragment != "" {
		return "Invalid redirect_uri: expected an absolute http or https URL without a fragment"
	}
	return ""
}

// parseScopes splits a comma-separated scope list and checks each name.
func parseScopes(scope string) ([]string, string) {
	var scopes []string
	seen := make(map[string]bool)
	for _, name := range strings.Split(scope, ",") {
		name = strings.TrimSpace(name)
		if name == "" || seen[name] {
			continue
		}

		if replacement, ok := retiredScopes[name]; ok {
			return nil, "Invalid scope: " + name + " was retired on 2025-01-27, use " + replacement
		}
		if !knownScopes[name] {
			if strings.ContainsAny(name, " +") {
				return nil, "Invalid scope: " + name + " (separate scopes with commas)"
			}
			return nil, "Invalid scope: " + name
		}

		seen[name] = true
		scopes = append(scopes, name)
	}

	if !seen[requiredScope] {
		return nil, "Invalid scope: " + requiredScope + " is required"
	}
	return scopes, ""
}

func (s *Server) issueCode(req consentRequest) string {
	code := "AQ" + randomString(48)

	s.mu.Lock()
	defer s.mu.Unlock()
	s.codes[code] = &authCode{redirectURI: req.redirectURI, scopes: req.scopes, issuedAt: s.now()}

	return code
}

// redirect sends a 302 to base with params appended to its query in the
// given order, leaving out empty values, and with fragment when not empty.
func redirect(w http.ResponseWriter, base, fragment string, params [][2]string) {
	u, err := url.Parse(base)
	if err != nil {
		// parseConsentRequest has already parsed base
		writeErrorPage(w, "Invalid redirect_uri")
		return
	}

	query := u.RawQuery
	for _, p := range params {
		if p[1] == "" {
			continue
		}
		if query != "" {
			query += "&"
		}
		query += url.QueryEscape(p[0]) + "=" + url.QueryEscape(p[1])
	}
	u.RawQuery = query
	u.Fragment = fragment

	w.Header().Set("Location", u.String())
	w.WriteHeader(http.StatusFound)
}

// flatTokenReply is the code exchange reply seen in the field. UserID is a
// json.Number so that its digits are written exactly.
type flatTokenReply struct {
	AccessToken string      `json:"access_token"`
	UserID      json.Number `json:"user_id"`
	Permissions []string    `json:"permissions"`
}

// dataTokenReply is the documented code exchange reply.
type dataTokenReply struct {
	Data []dataToken `json:"data"`
}

type dataToken struct {
	AccessToken string `json:"access_token"`
	UserID      string `json:"user_id"`
	Permissions string `json:"permissions"`
}

// serveCodeExchange trades an authorization code for a short-lived token.
// Every parameter must be in the form body: HTTP Basic credentials count as
// missing, as on api.instagram.com.
func (s *Server) serveCodeExchange(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", "POST")
		writeFlatError(w, "Unsupported method "+r.Method+": use POST")
		return
	}

	form, ok := parseBodyForm(r)
	if !ok {
		writeFlatError(w, "Invalid request body: expected a form")
		return
	}
	for _, name := range []string{"client_id", "client_secret", "grant_type", "redirect_uri", "code"} {
		if form.Get(name) == "" {
			writeFlatError(w, "Missing required parameter "+name)
			return
		}
	}

	// check the client, the grant and the code
	if form.Get("client_id") != s.clientID ||
		subtle.ConstantTimeCompare([]byte(form.Get("client_secret")), []byte(s.clientSecret)) != 1 {
		writeFlatError(w, "Invalid platform app")
		return
	}
	if form.Get("grant_type") != "authorization_code" {
		writeFlatError(w, "Invalid grant_type: expected authorization_code")
		return
	}

	s.mu.Lock()
	now := s.now()
	code, found := s.codes[form.Get("code")]
	switch {
	case !found || code.used || now.Sub(code.issuedAt) >= codeLifetime:
		s.mu.Unlock()
		writeFlatError(w, "Matching code was not found or was already used")
		return
	case code.redirectURI != form.Get("redirect_uri"):
		s.mu.Unlock()
		writeFlatError(w, "Invalid redirect_uri")
		return
	}
	code.used = true
	accessToken := s.issueToken(kindShortLived, code.scopes, now, 0)
	shape := s.tokenShape
	s.mu.Unlock()

	// reply in the configured shape
	if shape == TokenShapeData {
		writeJSON(w, http.StatusOK, dataTokenReply{Data: []dataToken{{
			AccessToken: accessToken,
			UserID:      s.account.UserID,
			Permissions: strings.Join(code.scopes, ","),
		}}})
		return
	}
	writeJSON(w, http.StatusOK, flatTokenReply{
		AccessToken: accessToken,
		UserID:      json.Number(s.account.UserID),
		Permissions: code.scopes,
	})
}

// parseBodyForm parses a url-encoded or multipart form body and returns its
// values without those of the query string.
func parseBodyForm(r *http.Request) (url.Values, bool) {
	mediaType, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mediaType == "multipart/form-data" {
		if err := r.ParseMultipartForm(maxBodyBytes); err != nil {
			return nil, false
		}
		return r.PostForm, true
	}

	if err := r.ParseForm(); err != nil {
		return nil, false
	}
	return r.PostForm, true
}

package igserver

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"time"
)

// adminPrefix is the path prefix of the test controls. Their replies and
// request bodies contain tokens, so they exist only in this test server.
const adminPrefix = "/__igserver/"

// serveAdmin serves the test controls:
//
//	GET    /__igserver/requests  the recorded requests as a JSON array
//	DELETE /__igserver/requests  clear the recorded requests
//	POST   /__igserver/tokens    {"access_token","issued_at","expires_at"}: SetToken
//	POST   /__igserver/revoke    {"access_token"}: RevokeToken
//	POST   /__igserver/config    {"token_shape","auto_approve"}, both optional
//	GET    /__igserver/account   the Account
func (s *Server) serveAdmin(w http.ResponseWriter, r *http.Request) {
	name := strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, adminPrefix), "/")

	switch {
	case name == "requests" && r.Method == http.MethodGet:
		writeJSON(w, http.StatusOK, s.Requests())
	case name == "requests" && r.Method == http.MethodDelete:
		s.ResetRequests()
		w.WriteHeader(http.StatusNoContent)
	case name == "tokens" && r.Method == http.MethodPost:
		s.adminSetToken(w, r)
	case name == "revoke" && r.Method == http.MethodPost:
		s.adminRevoke(w, r)
	case name == "config" && r.Method == http.MethodPost:
		s.adminConfig(w, r)
	case name == "account" && r.Method == http.MethodGet:
		writeJSON(w, http.StatusOK, s.Account())
	case name == "requests" || name == "account":
		writeAdminError(w, http.StatusMethodNotAllowed, errors.New("method "+r.Method+" not allowed on "+r.URL.Path))
	case name == "tokens" || name == "revoke" || name == "config":
		writeAdminError(w, http.StatusMethodNotAllowed, errors.New("method "+r.Method+" not allowed on "+r.URL.Path+": use POST"))
	default:
		writeAdminError(w, http.StatusNotFound, errors.New("unknown control "+r.URL.Path))
	}
}

type adminTokenRequest struct {
	AccessToken string    `json:"access_token"`
	IssuedAt    time.Time `json:"issued_at"`  // RFC 3339
	ExpiresAt   time.Time `json:"expires_at"` // RFC 3339
}

func (s *Server) adminSetToken(w http.ResponseWriter, r *http.Request) {
	var req adminTokenRequest
	if err := decodeAdminBody(w, r, &req); err != nil {
		writeAdminError(w, http.StatusBadRequest, err)
		return
	}
	if req.AccessToken == "" || req.IssuedAt.IsZero() || req.ExpiresAt.IsZero() {
		writeAdminError(w, http.StatusBadRequest, errors.New("access_token, issued_at and expires_at are required"))
		return
	}

	if err := s.SetToken(req.AccessToken, req.IssuedAt, req.ExpiresAt); err != nil {
		writeAdminError(w, adminStatus(err), err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) adminRevoke(w http.ResponseWriter, r *http.Request) {
	var req struct {
		AccessToken string `json:"access_token"`
	}
	if err := decodeAdminBody(w, r, &req); err != nil {
		writeAdminError(w, http.StatusBadRequest, err)
		return
	}
	if req.AccessToken == "" {
		writeAdminError(w, http.StatusBadRequest, errors.New("access_token is required"))
		return
	}

	if err := s.RevokeToken(req.AccessToken); err != nil {
		writeAdminError(w, adminStatus(err), err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// adminConfig applies the given settings and returns all of them.
func (s *Server) adminConfig(w http.ResponseWriter, r *http.Request) {
	var req struct {
		TokenShape  *string `json:"token_shape"`
		AutoApprove *bool   `json:"auto_approve"`
	}
	if err := decodeAdminBody(w, r, &req); err != nil {
		writeAdminError(w, http.StatusBadRequest, err)
		return
	}

	if req.TokenShape != nil {
		if err := s.SetTokenShape(*req.TokenShape); err != nil {
			writeAdminError(w, http.StatusBadRequest, err)
			return
		}
	}
	if req.AutoApprove != nil {
		s.setAutoApprove(*req.AutoApprove)
	}

	s.mu.Lock()
	current := map[string]any{"token_shape": s.tokenShape, "auto_approve": s.autoApprove}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, current)
}

// decodeAdminBody decodes a JSON body into v. Unknown fields fail, so a
// misspelt setting is not silently ignored.
func decodeAdminBody(w http.ResponseWriter, r *http.Request, v any) error {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBodyBytes))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return errors.New("invalid JSON body: " + err.Error())
	}
	return nil
}

func adminStatus(err error) int {
	if errors.Is(err, errUnknownToken) {
		return http.StatusNotFound
	}
	return http.StatusBadRequest
}

func writeAdminError(w http.ResponseWriter, status int, err error) {
	writeJSON(w, status, map[string]string{"error": err.Error()})
}

package gateway

import (
	"encoding/json"
	"fmt"
	"net/http"
)

// Error codes of the gateway's JSON error replies. Clients switch on these.
const (
	CodeInvalidArguments           = "invalid_arguments"
	CodeMissingOwner               = "missing_owner"
	CodeInvalidAccountID           = "invalid_account_id"
	CodeUnknownRoute               = "unknown_route"
	CodeUnknownFunction            = "unknown_function"
	CodeMethodNotAllowed           = "method_not_allowed"
	CodeAccountNotLinked           = "account_not_linked"
	CodeReauthorizationRequired    = "reauthorization_required"
	CodeReturnToNotAllowed         = "return_to_not_allowed"
	CodeRequestTooLarge            = "request_too_large"
	CodeCredentialStoreUnavailable = "credential_store_unavailable"
	CodeUpstreamUnavailable        = "upstream_unavailable"
	CodeUpstreamTimeout            = "upstream_timeout"
	CodeInternal                   = "internal_error"
)

// Error is a gateway error reply: {"error":{"code":…,"message":…}}.
type Error struct {
	Status  int    `json:"-"`
	Code    string `json:"code"`
	Message string `json:"message"`

	// AuthorizeURL is a ready consent URL, with a fresh state, that the
	// client can hand to its end user to link or re-link the account.
	AuthorizeURL string `json:"authorize_url,omitempty"`
}

func (e *Error) Error() string {
	return fmt.Sprintf("%s: %s", e.Code, e.Message)
}

func newError(status int, code, format string, args ...any) *Error {
	return &Error{Status: status, Code: code, Message: fmt.Sprintf(format, args...)}
}

// UpstreamError is returned by an Upstream that could not get a reply from
// the API. Status is 502 or 504.
type UpstreamError struct {
	Status int
	Err    error
}

func (e *UpstreamError) Error() string {
	return fmt.Sprintf("upstream request failed with status %d: %v", e.Status, e.Err)
}

func (e *UpstreamError) Unwrap() error { return e.Err }

func writeError(w http.ResponseWriter, e *Error) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(e.Status)
	_ = json.NewEncoder(w).Encode(struct {
		Error *Error `json:"error"`
	}{e})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

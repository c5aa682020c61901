package igserver

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
)

// graphError is an error reply in the Graph API envelope, which
// graph.instagram.com uses for the token endpoints and the API alike:
//
//	{"error":{"message":…,"type":"OAuthException","code":190,"error_subcode":463,"fbtrace_id":…}}
type graphError struct {
	message string
	errType string // "OAuthException" when empty
	code    int

	// subcode is written as error_subcode when hasSubcode is set, even when
	// it is 0, because token errors always carry one.
	subcode    int
	hasSubcode bool

	userTitle string
	userMsg   string
}

// invalidParam returns a code 100 error. The message gets the "(#100) "
// prefix that the Graph API puts before parameter errors.
func invalidParam(format string, args ...any) *graphError {
	return &graphError{code: 100, message: "(#100) " + fmt.Sprintf(format, args...)}
}

// tokenError returns a code 190 error: the token is missing, unknown, revoked
// (subcode 460) or expired (subcode 463), and the user must link again.
func tokenError(subcode int, message string) *graphError {
	return &graphError{code: 190, subcode: subcode, hasSubcode: true, message: message}
}

// unsupportedRequest returns the code 100 error of a path that names no
// known object or edge.
func unsupportedRequest(method, objectID string) *graphError {
	return &graphError{
		code:       100,
		subcode:    33,
		hasSubcode: true,
		errType:    "GraphMethodException",
		message: fmt.Sprintf("Unsupported %s request. Object with ID '%s' does not exist, "+
			"cannot be loaded due to missing permissions, or does not support this operation",
			strings.ToLower(method), objectID),
	}
}

type graphErrorBody struct {
	Message        string `json:"message"`
	Type           string `json:"type"`
	Code           int    `json:"code"`
	ErrorSubcode   *int   `json:"error_subcode,omitempty"`
	ErrorUserTitle string `json:"error_user_title,omitempty"`
	ErrorUserMsg   string `json:"error_user_msg,omitempty"`
	FBTraceID      string `json:"fbtrace_id"`
}

// writeGraphError writes e with status 400, the status the Graph API uses
// for all of these errors.
func writeGraphError(w http.ResponseWriter, e *graphError) {
	body := graphErrorBody{
		Message:        e.message,
		Type:           e.errType,
		Code:           e.code,
		ErrorUserTitle: e.userTitle,
		ErrorUserMsg:   e.userMsg,
		FBTraceID:      randomString(8),
	}
	if body.Type == "" {
		body.Type = "OAuthException"
	}
	if e.hasSubcode {
		subcode := e.subcode
		body.ErrorSubcode = &subcode
	}

	if e.code == 190 {
		w.Header().Set("WWW-Authenticate", `OAuth "Instagram Graph API" "invalid_token"`)
	}
	writeJSON(w, http.StatusBadRequest, map[string]graphErrorBody{"error": body})
}

// flatError is the error body of the code exchange on api.instagram.com.
type flatError struct {
	ErrorType    string `json:"error_type"`
	Code         int    `json:"code"`
	ErrorMessage string `json:"error_message"`
}

func writeFlatError(w http.ResponseWriter, message string) {
	writeJSON(w, http.StatusBadRequest, flatError{ErrorType: "OAuthException", Code: 400, ErrorMessage: message})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	data, err := json.Marshal(v)
	if err != nil {
		http.Error(w, "failed to encode reply: "+err.Error(), http.StatusInternalServerError)
		return
	}

	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	w.WriteHeader(status)
	_, _ = w.Write(data)
}

// randomString returns n random bytes as unpadded URL-safe base64.
func randomString(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never returns an error since Go 1.24
	return base64.RawURLEncoding.EncodeToString(b)
}

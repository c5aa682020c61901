package oauthflow

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Limits on provider text copied into errors. A body that is not JSON is
// often an HTML page, so its excerpt is cut shorter than a JSON message.
const (
	maxMessageRunes = 300
	maxExcerptRunes = 120
	maxExcerptBytes = 4096
)

// throttlingCodes are the Graph API error codes for rate limiting: 4 (app),
// 17 (user), 32 (page), 613 (custom limit) and 80002 (Instagram Business
// Use Case limit).
var throttlingCodes = []int{4, 17, 32, 613, 80002}

// ProviderError is an error reply from the provider, parsed from any of the
// shapes: flat {"error_type","code","error_message"}, the Graph envelope
// {"error":{"message","type","code","error_subcode","fbtrace_id"}}, and
// RFC 6749 {"error","error_description"}.
type ProviderError struct {
	Provider   string // Provider.Name of the caller, or empty from ParseProviderError
	Endpoint   string // "code exchange", "long-lived exchange", "refresh", "identity"
	StatusCode int
	Type       string // "OAuthException", or the RFC 6749 error code such as "invalid_grant"
	Code       int
	Subcode    int
	Message    string
	TraceID    string
	Transient  bool // the Graph envelope's is_transient flag
}

// Error formats the error as, for example, "instagram long-lived exchange
// failed: HTTP 400, OAuthException code 190 subcode 463: Error validating
// access token".
func (e *ProviderError) Error() string {
	var b strings.Builder
	b.WriteString(operationName(e.Provider, e.Endpoint))
	b.WriteString(" failed: HTTP ")
	b.WriteString(strconv.Itoa(e.StatusCode))

	var detail []string
	if e.Type != "" {
		detail = append(detail, e.Type)
	}
	if e.Code != 0 {
		detail = append(detail, "code "+strconv.Itoa(e.Code))
	}
	if e.Subcode != 0 {
		detail = append(detail, "subcode "+strconv.Itoa(e.Subcode))
	}
	if len(detail) > 0 {
		b.WriteString(", ")
		b.WriteString(strings.Join(detail, " "))
	}

	if e.Message != "" {
		b.WriteString(": ")
		b.WriteString(e.Message)
	}
	return b.String()
}

// RequiresReauthorization reports whether the user must link the account
// again: the error code is one of codes (the app's
// reauthorization_error_codes, 190 for Instagram, with any subcode), or the
// reply is the RFC 6749 error invalid_grant.
func (e *ProviderError) RequiresReauthorization(codes []int) bool {
	if e == nil {
		return false
	}
	if e.Code != 0 && slices.Contains(codes, e.Code) {
		return true
	}
	return e.Type == "invalid_grant"
}

// Temporary reports whether the same call may succeed later: a 5xx or 429
// status, a Graph throttling code (4, 17, 32, 613, 80002), or an error the
// provider flags as transient.
func (e *ProviderError) Temporary() bool {
	if e == nil {
		return false
	}
	if e.StatusCode >= 500 || e.StatusCode == 429 {
		return true
	}
	return slices.Contains(throttlingCodes, e.Code) || e.Transient
}

// ParseProviderError parses an error body; it never returns nil. A body in
// none of the known shapes becomes a short excerpt in Message, with markup
// and control characters removed.
func ParseProviderError(endpoint string, status int, body []byte) *ProviderError {
	e := &ProviderError{Endpoint: endpoint, StatusCode: status}

	object, err := decodeObject(body)
	if err != nil {
		e.Message = excerpt(body)
		return e
	}

	// the Graph envelope and RFC 6749 share the "error" member, as an
	// object in the first and as a string in the second
	switch member := object["error"].(type) {
	case map[string]any:
		e.Type = cleanText(member["type"])
		e.Code = looseInt(member["code"])
		e.Subcode = looseInt(member["error_subcode"])
		e.Message = cleanText(member["message"])
		e.TraceID = cleanText(member["fbtrace_id"])
		e.Transient, _ = member["is_transient"].(bool)
		return e
	case string:
		e.Type = cleanText(member)
		e.Message = cleanText(object["error_description"])
		return e
	}

	// the flat shape of the api.instagram.com token endpoint
	if _, ok := object["error_type"]; ok {
		e.Type = cleanText(object["error_type"])
		e.Code = looseInt(object["code"])
		e.Message = cleanText(object["error_message"])
		return e
	}
	if _, ok := object["error_message"]; ok {
		e.Code = looseInt(object["code"])
		e.Message = cleanText(object["error_message"])
		return e
	}

	e.Message = excerpt(body)
	return e
}

// looksLikeErrorReply reports whether a 2xx body is an error in disguise: a
// JSON object with an error member and no access_token.
func looksLikeErrorReply(body []byte) bool {
	var object map[string]json.RawMessage
	if err := json.Unmarshal(body, &object); err != nil {
		return false
	}
	if _, ok := object["access_token"]; ok {
		return false
	}
	_, hasError := object["error"]
	_, hasErrorType := object["error_type"]
	return hasError || hasErrorType
}

// redact replaces each secret in the text fields with a marker.
func (e *ProviderError) redact(secrets *redactor) {
	e.Type = secrets.redact(e.Type)
	e.Message = secrets.redact(e.Message)
	e.TraceID = secrets.redact(e.TraceID)
}

// RequestError is a provider call that got no complete HTTP reply: a network
// failure, a timeout, a cancelled context or a broken reply body. Its text
// never contains the request URL, because the query of a token call carries
// the client secret and the token.
type RequestError struct {
	Provider string // Provider.Name of the caller
	Endpoint string // "code exchange", "long-lived exchange", "refresh", "identity"
	Op       string // the HTTP method as *url.Error names it ("Get", "Post"), or "read reply"
	Err      error  // the cause, with the *url.Error around it removed

	cause string // Err's text with secrets removed
}

// newRequestError builds a RequestError from an error of http.Client.Do or
// of reading the body. A *url.Error prints the full URL, query included,
// so only its Op and its cause are kept.
func newRequestError(provider, endpoint, op string, err error, secrets *redactor) *RequestError {
	if urlError, ok := errors.AsType[*url.Error](err); ok {
		op = urlError.Op
		err = urlError.Err
	}

	return &RequestError{
		Provider: provider,
		Endpoint: endpoint,
		Op:       op,
		Err:      err,
		cause:    secrets.redact(err.Error()),
	}
}

func (e *RequestError) Error() string {
	return operationName(e.Provider, e.Endpoint) + " request failed: " + e.Op + ": " + e.cause
}

func (e *RequestError) Unwrap() error { return e.Err }

// Timeout reports whether the call ran out of time, by the client timeout,
// a network deadline or the context deadline.
func (e *RequestError) Timeout() bool {
	if netError, ok := errors.AsType[net.Error](e.Err); ok && netError.Timeout() {
		return true
	}
	return errors.Is(e.Err, context.DeadlineExceeded)
}

// operationName names a call for error text, such as "instagram refresh".
func operationName(provider, endpoint string) string {
	if endpoint == "" {
		endpoint = "provider call"
	}
	if provider == "" {
		return endpoint
	}
	return provider + " " + endpoint
}

// looseInt reads a JSON number or a numeric string as an int, and anything
// else as 0.
func looseInt(value any) int {
	var text string
	switch v := value.(type) {
	case json.Number:
		text = v.String()
	case string:
		text = strings.TrimSpace(v)
	default:
		return 0
	}

	n, err := strconv.Atoi(text)
	if err != nil {
		return 0
	}
	return n
}

// cleanText returns a string value with control characters and runs of
// white space folded into single spaces, cut to maxMessageRunes.
func cleanText(value any) string {
	text, ok := value.(string)
	if !ok {
		return ""
	}
	return truncateRunes(foldSpace(text), maxMessageRunes)
}

// excerpt returns the start of a body that is not a known error shape, with
// invalid UTF-8, markup tags and control characters removed.
func excerpt(body []byte) string {
	if len(body) > maxExcerptBytes {
		body = body[:maxExcerptBytes]
	}
	text := strings.ToValidUTF8(string(bytes.TrimSpace(body)), "")

	if strings.HasPrefix(text, "<") {
		text = stripTags(text)
	}
	return truncateRunes(foldSpace(text), maxExcerptRunes)
}

// stripTags drops everything between '<' and '>', which turns an HTML error
// page into its visible text.
func stripTags(text string) string {
	var b strings.Builder
	inTag := false
	for _, r := range text {
		switch {
		case r == '<':
			inTag = true
		case r == '>' && inTag:
			inTag = false
			b.WriteByte(' ')
		case !inTag:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// foldSpace replaces each run of white space and control characters with
// one space and trims the ends.
func foldSpace(text string) string {
	var b strings.Builder
	pendingSpace := false
	for _, r := range text {
		if unicode.IsSpace(r) || unicode.IsControl(r) || r == utf8.RuneError {
			pendingSpace = b.Len() > 0
			continue
		}
		if pendingSpace {
			b.WriteByte(' ')
			pendingSpace = false
		}
		b.WriteRune(r)
	}
	return b.String()
}

func truncateRunes(text string, limit int) string {
	if utf8.RuneCountInString(text) <= limit {
		return text
	}
	runes := []rune(text)
	return string(runes[:limit]) + "…"
}

package oauthflow

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestParseProviderErrorShapes(t *testing.T) {
	tests := []struct {
		name     string
		status   int
		body     string
		expected ProviderError
		text     string
	}{
		{
			name:     "flat token endpoint",
			status:   400,
			body:     `{"error_type":"OAuthException","code":400,"error_message":"Invalid redirect_uri"}`,
			expected: ProviderError{Endpoint: "refresh", StatusCode: 400, Type: "OAuthException", Code: 400, Message: "Invalid redirect_uri"},
			text:     "refresh failed: HTTP 400, OAuthException code 400: Invalid redirect_uri",
		},
		{
			name:     "flat without type",
			status:   400,
			body:     `{"code":"400","error_message":"Invalid platform app"}`,
			expected: ProviderError{Endpoint: "refresh", StatusCode: 400, Code: 400, Message: "Invalid platform app"},
			text:     "refresh failed: HTTP 400, code 400: Invalid platform app",
		},
		{
			name:   "graph envelope",
			status: 400,
			body:   `{"error":{"message":"Error validating access token","type":"OAuthException","code":190,"error_subcode":463,"fbtrace_id":"AxYz"}}`,
			expected: ProviderError{
				Endpoint: "refresh", StatusCode: 400, Type: "OAuthException", Code: 190, Subcode: 463,
				Message: "Error validating access token", TraceID: "AxYz",
			},
			text: "refresh failed: HTTP 400, OAuthException code 190 subcode 463: Error validating access token",
		},
		{
			name:     "graph envelope transient",
			status:   500,
			body:     `{"error":{"message":"An unexpected error has occurred.","type":"OAuthException","code":2,"is_transient":true}}`,
			expected: ProviderError{Endpoint: "refresh", StatusCode: 500, Type: "OAuthException", Code: 2, Message: "An unexpected error has occurred.", Transient: true},
			text:     "refresh failed: HTTP 500, OAuthException code 2: An unexpected error has occurred.",
		},
		{
			name:     "rfc 6749",
			status:   400,
			body:     `{"error":"invalid_grant","error_description":"The authorization code has expired"}`,
			expected: ProviderError{Endpoint: "refresh", StatusCode: 400, Type: "invalid_grant", Message: "The authorization code has expired"},
			text:     "refresh failed: HTTP 400, invalid_grant: The authorization code has expired",
		},
		{
			name:     "rfc 6749 without description",
			status:   401,
			body:     `{"error":"invalid_client"}`,
			expected: ProviderError{Endpoint: "refresh", StatusCode: 401, Type: "invalid_client"},
			text:     "refresh failed: HTTP 401, invalid_client",
		},
		{
			name:     "html page",
			status:   502,
			body:     "<html>\n<head><title>502 Bad Gateway</title></head>\n<body><h1>Bad Gateway</h1></body></html>",
			expected: ProviderError{Endpoint: "refresh", StatusCode: 502, Message: "502 Bad Gateway Bad Gateway"},
			text:     "refresh failed: HTTP 502: 502 Bad Gateway Bad Gateway",
		},
		{
			name:     "plain text",
			status:   503,
			body:     "upstream\tconnect error\r\nor disconnect\x00",
			expected: ProviderError{Endpoint: "refresh", StatusCode: 503, Message: "upstream connect error or disconnect"},
			text:     "refresh failed: HTTP 503: upstream connect error or disconnect",
		},
		{
			name:     "empty body",
			status:   500,
			body:     "",
			expected: ProviderError{Endpoint: "refresh", StatusCode: 500},
			text:     "refresh failed: HTTP 500",
		},
		{
			name:     "unknown json",
			status:   418,
			body:     `{"status":"teapot"}`,
			expected: ProviderError{Endpoint: "refresh", StatusCode: 418, Message: `{"status":"teapot"}`},
			text:     `refresh failed: HTTP 418: {"status":"teapot"}`,
		},
	}
	for _, test := range tests {
		t.Run(test.name, func(t *testing.T) {
			got := ParseProviderError("refresh", test.status, []byte(test.body))

			if *got != test.expected {
				t.Errorf("parsed = %+v\nexpected %+v", *got, test.expected)
			}
			if got.Error() != test.text {
				t.Errorf("Error() = %q, expected %q", got.Error(), test.text)
			}
		})
	}
}

func TestProviderErrorProviderName(t *testing.T) {
	providerError := ParseProviderError(EndpointLongLivedExchange, 400,
		[]byte(`{"error":{"message":"Error validating access token","type":"OAuthException","code":190,"error_subcode":463}}`))
	providerError.Provider = "instagram"

	expected := "instagram long-lived exchange failed: HTTP 400, OAuthException code 190 subcode 463: Error validating access token"
	if providerError.Error() != expected {
		t.Errorf("Error() = %q, expected %q", providerError.Error(), expected)
	}
}

func TestParseProviderErrorExcerptBounded(t *testing.T) {
	body := strings.Repeat("x", 10000)

	providerError := ParseProviderError("refresh", 500, []byte(body))

	if count := utf8.RuneCountInString(providerError.Message); count > maxExcerptRunes+1 {
		t.Errorf("message has %d runes, expected at most %d", count, maxExcerptRunes+1)
	}
	if !strings.HasSuffix(providerError.Message, "…") {
		t.Errorf("message = %q, expected an ellipsis after the cut", providerError.Message)
	}
}

func TestParseProviderErrorMessageBounded(t *testing.T) {
	body := `{"error":{"message":"` + strings.Repeat("long ", 500) + `","code":1}}`

	providerError := ParseProviderError("refresh", 500, []byte(body))

	if count := utf8.RuneCountInString(providerError.Message); count > maxMessageRunes+1 {
		t.Errorf("message has %d runes, expected at most %d", count, maxMessageRunes+1)
	}
}

func TestParseProviderErrorInvalidUTF8(t *testing.T) {
	providerError := ParseProviderError("refresh", 500, []byte("bad \xff\xfe bytes"))

	if !utf8.ValidString(providerError.Message) {
		t.Errorf("message %q is not valid UTF-8", providerError.Message)
	}
	if providerError.Message != "bad bytes" {
		t.Errorf("message = %q, expected %q", providerError.Message, "bad bytes")
	}
}

func TestProviderErrorTemporary(t *testing.T) {
	tests := []struct {
		name      string
		err       ProviderError
		temporary bool
	}{
		{name: "500", err: ProviderError{StatusCode: 500}, temporary: true},
		{name: "503", err: ProviderError{StatusCode: 503}, temporary: true},
		{name: "429", err: ProviderError{StatusCode: 429}, temporary: true},
		{name: "code 4", err: ProviderError{StatusCode: 400, Code: 4}, temporary: true},
		{name: "code 17", err: ProviderError{StatusCode: 400, Code: 17}, temporary: true},
		{name: "code 32", err: ProviderError{StatusCode: 400, Code: 32}, temporary: true},
		{name: "code 613", err: ProviderError{StatusCode: 400, Code: 613}, temporary: true},
		{name: "code 80002", err: ProviderError{StatusCode: 400, Code: 80002}, temporary: true},
		{name: "transient flag", err: ProviderError{StatusCode: 400, Code: 2, Transient: true}, temporary: true},
		{name: "code 190", err: ProviderError{StatusCode: 400, Code: 190}},
		{name: "code 100", err: ProviderError{StatusCode: 400, Code: 100}},
		{name: "invalid_grant", err: ProviderError{StatusCode: 400, Type: "invalid_grant"}},
	}
	for _, test := range tests {
		t.Run(test.name, func(t *testing.T) {
			if got := test.err.Temporary(); got != test.temporary {
				t.Errorf("Temporary() = %v, expected %v", got, test.temporary)
			}
		})
	}
}

func TestProviderErrorRequiresReauthorization(t *testing.T) {
	tests := []struct {
		name     string
		err      ProviderError
		codes    []int
		expected bool
	}{
		{name: "190 subcode 463", err: ProviderError{Code: 190, Subcode: 463}, codes: []int{190}, expected: true},
		{name: "190 subcode 0", err: ProviderError{Code: 190}, codes: []int{190}, expected: true},
		{name: "190 without codes", err: ProviderError{Code: 190}},
		{name: "throttled", err: ProviderError{Code: 4}, codes: []int{190}},
		{name: "invalid_grant", err: ProviderError{Type: "invalid_grant"}, expected: true},
		{name: "invalid_request", err: ProviderError{Type: "invalid_request"}, codes: []int{190}},
		{name: "no code with zero listed", err: ProviderError{}, codes: []int{0}},
	}
	for _, test := range tests {
		t.Run(test.name, func(t *testing.T) {
			if got := test.err.RequiresReauthorization(test.codes); got != test.expected {
				t.Errorf("RequiresReauthorization(%v) = %v, expected %v", test.codes, got, test.expected)
			}
		})
	}
}

func TestProviderErrorNilReceiver(t *testing.T) {
	var providerError *ProviderError

	if providerError.Temporary() {
		t.Error("nil Temporary() = true")
	}
	if providerError.RequiresReauthorization([]int{190}) {
		t.Error("nil RequiresReauthorization() = true")
	}
}

func TestRedactorForms(t *testing.T) {
	secret := "a+b/c d"
	redactor := newRedactor(secret, "", "a+b")

	text := "raw a+b/c d, query a%2Bb%2Fc+d, path a+b%2Fc%20d, short a+b"
	got := redactor.redact(text)

	expected := "raw [REDACTED], query [REDACTED], path [REDACTED], short [REDACTED]"
	if got != expected {
		t.Errorf("redact = %q, expected %q", got, expected)
	}
}

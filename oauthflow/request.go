package oauthflow

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
)

// maxReplyBytes caps how much of a provider reply is read. Token and
// identity replies are a few hundred bytes.
const maxReplyBytes = 1 << 20

// redactedMarker replaces a secret found in error text.
const redactedMarker = "[REDACTED]"

// placeholderPattern finds placeholders in TokenRequest and IdentityRequest
// query values.
var placeholderPattern = regexp.MustCompile(`\{[A-Za-z_]+\}`)

// knownPlaceholders are the placeholders that expandQuery replaces.
var knownPlaceholders = []string{"{client_id}", "{client_secret}", "{access_token}", "{redirect_uri}"}

// expandQuery replaces the placeholders in the query values of app data. A
// placeholder outside knownPlaceholders is an error, because it is most
// likely a typo in the app data that would otherwise reach the provider.
func (p *Provider) expandQuery(query map[string]string, token string) (url.Values, error) {
	replacer := strings.NewReplacer(
		"{client_id}", p.ClientID,
		"{client_secret}", p.ClientSecret,
		"{access_token}", token,
		"{redirect_uri}", p.RedirectURL,
	)

	values := make(url.Values, len(query))
	for name, template := range query {
		for _, placeholder := range placeholderPattern.FindAllString(template, -1) {
			if !slices.Contains(knownPlaceholders, placeholder) {
				return nil, fmt.Errorf("query parameter %q uses unknown placeholder %s, expected one of %s",
					name, placeholder, strings.Join(knownPlaceholders, ", "))
			}
		}
		values.Set(name, replacer.Replace(template))
	}
	return values, nil
}

// endpointURL parses a configured base URL and appends path elements. The
// base URL comes from app data and holds no secret, so it may appear in
// errors.
func endpointURL(field, base string, elements ...string) (*url.URL, error) {
	parsed, err := url.Parse(base)
	if err != nil {
		return nil, fmt.Errorf("invalid %s: %w", field, err)
	}
	if (parsed.Scheme != "http" && parsed.Scheme != "https") || parsed.Host == "" {
		return nil, fmt.Errorf("invalid %s %q: must be an absolute http or https URL", field, base)
	}

	var nonEmpty []string
	for _, element := range elements {
		if element != "" {
			nonEmpty = append(nonEmpty, element)
		}
	}
	if len(nonEmpty) == 0 {
		return parsed, nil
	}
	return parsed.JoinPath(nonEmpty...), nil
}

// newParamsRequest builds a request that sends params in the query string
// (GET) or as a form body (POST), keeping any query the target already has.
func newParamsRequest(ctx context.Context, method string, target *url.URL, params url.Values) (*http.Request, error) {
	switch strings.ToUpper(method) {
	case "", http.MethodGet:
		query := target.Query()
		for name, values := range params {
			query[name] = values
		}
		target.RawQuery = query.Encode()

		return http.NewRequestWithContext(ctx, http.MethodGet, target.String(), nil)

	case http.MethodPost:
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, target.String(), strings.NewReader(params.Encode()))
		if err != nil {
			return nil, err
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		return req, nil

	default:
		return nil, fmt.Errorf("unsupported method %q, expected GET or POST", method)
	}
}

// send performs req and returns the body of a 2xx reply. Every other
// outcome is a *RequestError or a *ProviderError with secrets removed from
// its text.
func (p *Provider) send(req *http.Request, endpoint string, secrets *redactor) ([]byte, error) {
	req.Header.Set("Accept", "application/json")

	resp, err := p.httpClient().Do(req)
	if err != nil {
		return nil, newRequestError(p.Name, endpoint, req.Method, err, secrets)
	}
	defer resp.Body.Close()

	// read the reply, one byte past the limit to notice an oversized one
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxReplyBytes+1))
	if err != nil {
		return nil, newRequestError(p.Name, endpoint, "read reply", err, secrets)
	}
	if len(body) > maxReplyBytes {
		return nil, fmt.Errorf("%s failed: HTTP %d reply is larger than %d bytes",
			operationName(p.Name, endpoint), resp.StatusCode, maxReplyBytes)
	}

	// a 2xx reply that carries an error object is still an error
	if resp.StatusCode < 200 || resp.StatusCode > 299 || looksLikeErrorReply(body) {
		providerError := ParseProviderError(endpoint, resp.StatusCode, body)
		providerError.Provider = p.Name
		providerError.redact(secrets)
		return nil, providerError
	}
	return body, nil
}

// callFailed wraps an error that arose before sending or while decoding a
// reply with the provider and endpoint names.
func (p *Provider) callFailed(endpoint string, err error) error {
	return fmt.Errorf("%s failed: %w", operationName(p.Name, endpoint), err)
}

// redactor removes secrets from error text. It also matches the query- and
// path-escaped forms of each secret, because an echoed URL contains those.
type redactor struct {
	replacer *strings.Replacer
}

func newRedactor(secrets ...string) *redactor {
	var forms []string
	for _, secret := range secrets {
		if secret == "" {
			continue
		}
		forms = append(forms, secret, url.QueryEscape(secret), url.PathEscape(secret))
	}

	// sort by decreasing length, so a secret that contains another is replaced whole
	slices.SortFunc(forms, func(a, b string) int {
		if len(a) != len(b) {
			return len(b) - len(a)
		}
		return strings.Compare(a, b)
	})
	forms = slices.Compact(forms)

	pairs := make([]string, 0, 2*len(forms))
	for _, form := range forms {
		pairs = append(pairs, form, redactedMarker)
	}
	return &redactor{replacer: strings.NewReplacer(pairs...)}
}

func (r *redactor) redact(text string) string {
	if r == nil {
		return text
	}
	return r.replacer.Replace(text)
}

// decodeObject decodes a JSON object with numbers kept as json.Number, so
// ids above 2^53 keep their exact digits.
func decodeObject(body []byte) (map[string]any, error) {
	decoder := json.NewDecoder(bytes.NewReader(body))
	decoder.UseNumber()

	var object map[string]any
	if err := decoder.Decode(&object); err != nil {
		return nil, fmt.Errorf("reply is not a JSON object: %w", err)
	}
	if object == nil {
		return nil, errors.New("reply is not a JSON object")
	}
	return object, nil
}

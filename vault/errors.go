package vault

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"

	"github.com/hashicorp/vault/api"
)

// Sentinel errors of the Store. Errors returned by the Store wrap at most one
// of them, so callers test with errors.Is.
var (
	// ErrNotFound means there is no record, or its current version is
	// deleted or destroyed.
	ErrNotFound = errors.New("not found")

	// ErrVersionConflict means a check-and-set write lost against another
	// writer: the record changed after it was read.
	ErrVersionConflict = errors.New("version conflict")

	// ErrStateUsed means an OAuth state was already consumed, by this or by
	// another gateway instance that shares the Vault.
	ErrStateUsed = errors.New("state already used")

	// ErrUnavailable means Vault could not serve the request: it is
	// unreachable, timed out, responded with a 5xx or 429 status, or rejected
	// the Vault token (403).
	ErrUnavailable = errors.New("credential store unavailable")
)

// maxDetailLen caps the Vault error text copied into an error message, since
// a proxy in front of Vault may respond with a whole HTML page.
const maxDetailLen = 300

// requestError is a failed Vault request. Its message is a single line, and
// it unwraps to its sentinel (if any) and to the cause, so both errors.Is and
// errors.As (for *api.ResponseError) work.
type requestError struct {
	msg   string
	kind  error
	cause error
}

func (e *requestError) Error() string { return e.msg }

func (e *requestError) Unwrap() []error {
	if e.kind == nil {
		return []error{e.cause}
	}
	return []error{e.kind, e.cause}
}

// classifyError turns an error of the Vault client into a requestError. The
// operation and target describe the request (for example "read" and a secret
// path). The configured Vault token and any extra secrets are redacted from the
// message.
func (s *Store) classifyError(op, target string, err error, secrets ...string) error {
	kind, detail := classifyCause(err)

	// redact before shortening, so that no cut can leave part of a secret
	detail = oneLine(redact(detail, append(secrets, s.token)...))

	msg := fmt.Sprintf("%s %s: %s", op, target, detail)
	if kind != nil {
		msg += ": " + kind.Error()
	}

	return &requestError{
		msg:   msg,
		kind:  kind,
		cause: err,
	}
}

// classifyCause picks the sentinel for err and describes what went wrong. The
// description may contain text from Vault and span several lines.
func classifyCause(err error) (kind error, detail string) {
	var respErr *api.ResponseError
	if errors.As(err, &respErr) {
		return classifyResponse(respErr)
	}

	if errors.Is(err, context.Canceled) {
		return nil, "request canceled"
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return ErrUnavailable, "request timed out"
	}

	// The client wraps transport errors in *url.Error, whose text repeats the
	// whole request URL, so only the inner error is kept.
	var urlErr *url.Error
	if errors.As(err, &urlErr) {
		return ErrUnavailable, urlErr.Err.Error()
	}
	return ErrUnavailable, err.Error()
}

// classifyResponse picks the sentinel for an error status from Vault.
func classifyResponse(respErr *api.ResponseError) (kind error, detail string) {
	vaultText := joinVaultErrors(respErr.Errors)
	status := fmt.Sprintf("%d %s", respErr.StatusCode, http.StatusText(respErr.StatusCode))

	switch {
	case respErr.StatusCode == http.StatusForbidden:
		return ErrUnavailable, "vault rejected the token (" + status + ": " + vaultText + "): " +
			"check that the configured Vault token is valid and that its policy grants access to this path"
	case respErr.StatusCode == http.StatusBadRequest && isCheckAndSetMismatch(respErr.Errors):
		return ErrVersionConflict, "the record changed since it was read (check-and-set version mismatch)"
	case respErr.StatusCode >= 500, respErr.StatusCode == http.StatusTooManyRequests:
		return ErrUnavailable, "vault returned " + status + ": " + vaultText
	default:
		return nil, "vault returned " + status + ": " + vaultText
	}
}

// isCheckAndSetMismatch reports whether Vault's errors describe a failed
// check-and-set. Vault 1.21 rejects a stale or unexpected cas value with
// status 400 and "check-and-set parameter did not match the current version".
func isCheckAndSetMismatch(vaultErrors []string) bool {
	for _, text := range vaultErrors {
		if strings.Contains(text, "check-and-set parameter did not match") {
			return true
		}
	}
	return false
}

// joinVaultErrors joins Vault's error texts with commas. Vault reports
// several causes as one text in the go-multierror format ("2 errors
// occurred:" followed by lines starting with "* "), which is flattened too.
func joinVaultErrors(vaultErrors []string) string {
	var causes []string
	for _, text := range vaultErrors {
		for _, line := range strings.Split(text, "\n") {
			line = strings.TrimSpace(line)
			line = strings.TrimSpace(strings.TrimPrefix(line, "* "))
			if line == "" || multiErrorHeader.MatchString(line) {
				continue
			}
			causes = append(causes, line)
		}
	}
	return strings.Join(causes, ", ")
}

// multiErrorHeader matches the first line of a go-multierror text.
var multiErrorHeader = regexp.MustCompile(`^\d+ errors? occurred:$`)

// oneLine folds whitespace runs (Vault's multi-error text contains newlines
// and tabs) into single spaces and caps the length.
func oneLine(text string) string {
	text = strings.Join(strings.Fields(text), " ")
	if len(text) > maxDetailLen {
		text = text[:maxDetailLen] + "..."
	}
	return text
}

// redact replaces every occurrence of a non-empty secret in text.
func redact(text string, secrets ...string) string {
	for _, secret := range secrets {
		if secret == "" {
			continue
		}
		text = strings.ReplaceAll(text, secret, "[redacted]")
	}
	return text
}

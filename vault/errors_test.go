package vault

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/hashicorp/vault/api"
)

func TestClassifyError(t *testing.T) {
	s := &Store{token: "hvs.configured-token"}

	tests := []struct {
		name     string
		err      error
		wantKind error
		wantText string
	}{
		{
			name:     "forbidden",
			err:      &api.ResponseError{StatusCode: 403, Errors: []string{"2 errors occurred:\n\t* permission denied\n\t* invalid token\n\n"}},
			wantKind: ErrUnavailable,
			wantText: "read p: vault rejected the token (403 Forbidden: permission denied, invalid token): check that the configured Vault token is valid and that its policy grants access to this path: credential store unavailable",
		},
		{
			name:     "check-and-set mismatch",
			err:      &api.ResponseError{StatusCode: 400, Errors: []string{"check-and-set parameter did not match the current version"}},
			wantKind: ErrVersionConflict,
			wantText: "read p: the record changed since it was read (check-and-set version mismatch): version conflict",
		},
		{
			name:     "other bad request",
			err:      &api.ResponseError{StatusCode: 400, Errors: []string{"invalid data"}},
			wantKind: nil,
			wantText: "read p: vault returned 400 Bad Request: invalid data",
		},
		{
			name:     "sealed",
			err:      &api.ResponseError{StatusCode: 503, Errors: []string{"Vault is sealed"}},
			wantKind: ErrUnavailable,
			wantText: "read p: vault returned 503 Service Unavailable: Vault is sealed: credential store unavailable",
		},
		{
			name:     "rate limited",
			err:      &api.ResponseError{StatusCode: 429, Errors: []string{"request path \"x\": rate limit quota exceeded"}},
			wantKind: ErrUnavailable,
			wantText: "read p: vault returned 429 Too Many Requests: request path \"x\": rate limit quota exceeded: credential store unavailable",
		},
		{
			name:     "connection refused",
			err:      fmt.Errorf("reading: %w", &url.Error{Op: "Get", URL: "http://127.0.0.1:1/v1/p", Err: errors.New("dial tcp 127.0.0.1:1: connect: connection refused")}),
			wantKind: ErrUnavailable,
			wantText: "read p: dial tcp 127.0.0.1:1: connect: connection refused: credential store unavailable",
		},
		{
			name:     "timeout",
			err:      fmt.Errorf("reading: %w", context.DeadlineExceeded),
			wantKind: ErrUnavailable,
			wantText: "read p: request timed out: credential store unavailable",
		},
		{
			name:     "canceled",
			err:      fmt.Errorf("reading: %w", context.Canceled),
			wantKind: nil,
			wantText: "read p: request canceled",
		},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := s.classifyError("read", "p", tt.err)

			if err.Error() != tt.wantText {
				t.Errorf("message = %q\nwant      %q", err, tt.wantText)
			}
			for _, kind := range []error{ErrNotFound, ErrVersionConflict, ErrStateUsed, ErrUnavailable} {
				if got, want := errors.Is(err, kind), kind == tt.wantKind; got != want {
					t.Errorf("errors.Is(err, %v) = %v, want %v", kind, got, want)
				}
			}
			if !errors.Is(err, tt.err) {
				t.Error("error does not wrap its cause")
			}
		})
	}
}

func TestClassifyErrorKeepsResponseError(t *testing.T) {
	s := &Store{}
	cause := &api.ResponseError{StatusCode: 503, Errors: []string{"Vault is sealed"}}

	var respErr *api.ResponseError
	if !errors.As(s.classifyError("read", "p", cause), &respErr) || respErr.StatusCode != 503 {
		t.Error("errors.As does not find the *api.ResponseError")
	}
}

func TestClassifyErrorRedactsSecrets(t *testing.T) {
	s := &Store{token: "hvs.configured-token"}
	cause := &api.ResponseError{StatusCode: 500, Errors: []string{"echo hvs.configured-token and access-token-value"}}

	err := s.classifyError("write", "p", cause, "access-token-value")

	if strings.Contains(err.Error(), "hvs.configured-token") || strings.Contains(err.Error(), "access-token-value") {
		t.Errorf("message contains a secret: %q", err)
	}
}

func TestClassifyErrorCutsLongText(t *testing.T) {
	s := &Store{}
	cause := &api.ResponseError{StatusCode: 502, RawError: true, Errors: []string{"<html>" + strings.Repeat("x", 5000)}}

	err := s.classifyError("read", "p", cause)

	if len(err.Error()) > maxDetailLen+100 {
		t.Errorf("message has %d characters, want the Vault text cut to about %d", len(err.Error()), maxDetailLen)
	}
}

package gateway_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/credgate/credgate/gateway"
)

func TestNewRejectsIncompleteConfig(t *testing.T) {
	tests := []struct {
		name   string
		change func(c *gateway.Config)
	}{
		{name: "no app", change: func(c *gateway.Config) { c.App = nil }},
		{name: "no provider", change: func(c *gateway.Config) { c.Provider = nil }},
		{name: "no store", change: func(c *gateway.Config) { c.Store = nil }},
		{name: "no state signer", change: func(c *gateway.Config) { c.States = nil }},
		{name: "no upstream", change: func(c *gateway.Config) { c.Upstream = nil }},
		{name: "no account resolver", change: func(c *gateway.Config) { c.Accounts = nil }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			config := newHarness(t).config
			tt.change(&config)

			if _, err := gateway.New(config); err == nil {
				t.Error("New returned no error")
			}
		})
	}
}

func TestNewRejectsBadReturnToPrefix(t *testing.T) {
	config := newHarness(t).config
	config.AllowReturnTo = []string{testReturnPrefix, "app.example.com/ok"}

	_, err := gateway.New(config)

	if err == nil {
		t.Fatal("New returned no error")
	}
	if !strings.Contains(err.Error(), `"app.example.com/ok"`) {
		t.Errorf("error %q does not name the prefix", err)
	}
}

func TestNewDefaultsOptionalFields(t *testing.T) {
	config := newHarness(t).config
	config.Logger = nil
	config.Now = nil
	config.OwnerSource = ""

	g, err := gateway.New(config)
	if err != nil {
		t.Fatalf("New: %v", err)
	}

	rec := httptest.NewRecorder()
	g.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/me", nil))

	reply := decodeError(t, rec, http.StatusBadRequest, gateway.CodeMissingOwner)
	if reply.Error.Message == "" {
		t.Error("missing-owner message is empty")
	}
}

func TestParseReturnToPrefix(t *testing.T) {
	tests := []struct {
		prefix   string
		wantPath string
		valid    bool
	}{
		{prefix: "https://app.example.com", wantPath: "/", valid: true},
		{prefix: "https://app.example.com/ok", wantPath: "/ok", valid: true},
		{prefix: "http://127.0.0.1:3000/", wantPath: "/", valid: true},
		{prefix: "", valid: false},
		{prefix: "/after-link", valid: false},
		{prefix: "app.example.com/ok", valid: false},
		{prefix: "ftp://app.example.com/", valid: false},
		{prefix: "https://app.example.com/?next=1", valid: false},
		{prefix: "https://app.example.com/#done", valid: false},
		{prefix: "https://user@app.example.com/", valid: false},
		{prefix: "https:///ok", valid: false},
	}
	for _, tt := range tests {
		t.Run(tt.prefix, func(t *testing.T) {
			u, err := gateway.ParseReturnToPrefix(tt.prefix)

			if !tt.valid {
				if err == nil {
					t.Errorf("ParseReturnToPrefix(%q) returned no error", tt.prefix)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseReturnToPrefix(%q): %v", tt.prefix, err)
			}
			if u.Path != tt.wantPath {
				t.Errorf("path = %q, want %q", u.Path, tt.wantPath)
			}
		})
	}
}

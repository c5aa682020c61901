package vault_test

import (
	"strings"
	"testing"

	"github.com/credgate/credgate/vault"
)

func TestValidateSegment(t *testing.T) {
	tests := []struct {
		name  string
		value string
		valid bool
	}{
		{"digits", "27640875392278831", true},
		{"email", "user@example.com", true},
		{"all allowed characters", "Az09.-_@", true},
		{"dot inside", "a.b", true},
		{"underscore inside", "a_b", true},
		{"128 characters", strings.Repeat("a", 128), true},
		{"empty", "", false},
		{"129 characters", strings.Repeat("a", 129), false},
		{"dot", ".", false},
		{"dot dot", "..", false},
		{"leading dot", ".hidden", false},
		{"leading underscore", "_x", false},
		{"parent path", "../x", false},
		{"slash", "a/b", false},
		{"backslash", `a\b`, false},
		{"space", "a b", false},
		{"percent", "a%2Fb", false},
		{"question mark", "a?b", false},
		{"hash", "a#b", false},
		{"newline", "a\nb", false},
		{"non-ASCII letter", "usér", false},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := vault.ValidateSegment("owner", tt.value)
			if tt.valid && err != nil {
				t.Errorf("ValidateSegment(%q) = %v, want nil", tt.value, err)
			}
			if !tt.valid && err == nil {
				t.Errorf("ValidateSegment(%q) = nil, want error", tt.value)
			}
		})
	}
}

func TestValidateSegmentMessage(t *testing.T) {
	err := vault.ValidateSegment("owner", "a/b")
	if err == nil {
		t.Fatal("ValidateSegment succeeded, want error")
	}

	want := `invalid owner "a/b": use 1 to 128 characters from A-Z a-z 0-9 . _ - @, not starting with . or _`
	if err.Error() != want {
		t.Errorf("error = %q\nwant    %q", err, want)
	}
}

func TestValidateSegmentLongValueCut(t *testing.T) {
	err := vault.ValidateSegment("tenant", strings.Repeat("x", 10000))
	if err == nil {
		t.Fatal("ValidateSegment succeeded, want error")
	}
	if len(err.Error()) > 400 {
		t.Errorf("error has %d characters, want the value cut", len(err.Error()))
	}
}

func TestKeyString(t *testing.T) {
	key := vault.Key{App: "instagram", Tenant: "acme", Owner: "user@example.com"}
	if got, want := key.String(), "instagram/acme/user@example.com"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
}

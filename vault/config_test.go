package vault

import (
	"net"
	"strings"
	"testing"
	"time"
)

// unusedAddress is an address for tests in which no request is sent.
const unusedAddress = "http://127.0.0.1:1"

func TestNewDefaults(t *testing.T) {
	s, err := New(Config{Address: unusedAddress, Token: "test-token"})
	if err != nil {
		t.Fatalf("New: %v", err)
	}

	if s.mount != "secret" {
		t.Errorf("mount = %q, want %q", s.mount, "secret")
	}
	if s.prefix != "credgate" {
		t.Errorf("prefix = %q, want %q", s.prefix, "credgate")
	}
	if got := s.client.ClientTimeout(); got != 10*time.Second {
		t.Errorf("timeout = %s, want 10s", got)
	}
	if got := s.client.Token(); got != "test-token" {
		t.Errorf("token not taken from Config")
	}
}

func TestNewTrimsSlashes(t *testing.T) {
	s, err := New(Config{Address: unusedAddress + "/", Mount: "kv/", Prefix: "/teams/gateway/"})
	if err != nil {
		t.Fatalf("New: %v", err)
	}

	if s.mount != "kv" {
		t.Errorf("mount = %q, want %q", s.mount, "kv")
	}
	if s.prefix != "teams/gateway" {
		t.Errorf("prefix = %q, want %q", s.prefix, "teams/gateway")
	}
	if got := s.client.Address(); got != unusedAddress {
		t.Errorf("address = %q, want %q", got, unusedAddress)
	}
}

func TestNewInvalidConfig(t *testing.T) {
	tests := []struct {
		name    string
		cfg     Config
		wantErr string
	}{
		{"missing address", Config{}, "missing address"},
		{"address without scheme", Config{Address: "127.0.0.1:8200"}, "invalid address"},
		{"address with other scheme", Config{Address: "ftp://127.0.0.1:8200"}, "invalid address"},
		{"address without host", Config{Address: "http://"}, "invalid address"},
		{"mount with slash", Config{Address: unusedAddress, Mount: "a/b"}, "invalid mount"},
		{"mount dot dot", Config{Address: unusedAddress, Mount: ".."}, "invalid mount"},
		{"mount with space", Config{Address: unusedAddress, Mount: "my kv"}, "invalid mount"},
		{"mount only slash", Config{Address: unusedAddress, Mount: "/"}, "invalid mount"},
		{"prefix dot dot segment", Config{Address: unusedAddress, Prefix: "a/../b"}, "invalid prefix"},
		{"prefix dot segment", Config{Address: unusedAddress, Prefix: "a/./b"}, "invalid prefix"},
		{"prefix empty segment", Config{Address: unusedAddress, Prefix: "a//b"}, "invalid prefix"},
		{"prefix with at sign", Config{Address: unusedAddress, Prefix: "a@b"}, "invalid prefix"},
		{"negative timeout", Config{Address: unusedAddress, Timeout: -time.Second}, "invalid timeout"},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(tt.cfg)
			if err == nil {
				t.Fatalf("New(%+v) succeeded, want error containing %q", tt.cfg, tt.wantErr)
			}
			if !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("error = %q, want it to contain %q", err, tt.wantErr)
			}
		})
	}
}

func TestNewAddressWithUserInfo(t *testing.T) {
	_, err := New(Config{Address: "http://user:hunter2@127.0.0.1:8200"})
	if err == nil {
		t.Fatal("New succeeded, want error")
	}
	if strings.Contains(err.Error(), "hunter2") {
		t.Errorf("error contains the password: %q", err)
	}
}

func TestNewTokenWithNewline(t *testing.T) {
	const token = "token-with-newline\n"

	_, err := New(Config{Address: unusedAddress, Token: token})
	if err == nil {
		t.Fatal("New succeeded, want error")
	}
	if strings.Contains(err.Error(), "token-with-newline") {
		t.Errorf("error contains the token: %q", err)
	}
}

// TestNewIgnoresEnvironment guards against the Vault client library taking
// the token, address, namespace, headers or client settings from VAULT_*
// variables.
func TestNewIgnoresEnvironment(t *testing.T) {
	t.Setenv("VAULT_TOKEN", "token-from-environment")
	t.Setenv("VAULT_ADDR", "http://127.0.0.1:2")
	t.Setenv("VAULT_NAMESPACE", "namespace-from-environment")
	t.Setenv("VAULT_HEADERS", `{"X-Header-From-Environment": "1"}`)
	t.Setenv("VAULT_CLIENT_TIMEOUT", "1s")
	t.Setenv("VAULT_MAX_RETRIES", "9")

	s, err := New(Config{Address: unusedAddress})
	if err != nil {
		t.Fatalf("New: %v", err)
	}

	if s.client.Token() != "" {
		t.Error("token taken from VAULT_TOKEN, want none")
	}
	if got := s.client.Address(); got != unusedAddress {
		t.Errorf("address = %q, want %q", got, unusedAddress)
	}
	if got := s.client.Namespace(); got != "" {
		t.Errorf("namespace = %q, want none", got)
	}
	if got := s.client.Headers().Get("X-Header-From-Environment"); got != "" {
		t.Errorf("header from VAULT_HEADERS sent: %q", got)
	}
	if got := s.client.Headers().Get("X-Vault-Request"); got != "true" {
		t.Errorf("X-Vault-Request = %q, want true", got)
	}
	if got := s.client.ClientTimeout(); got != 10*time.Second {
		t.Errorf("timeout = %s, want 10s", got)
	}
	if got := s.client.MaxRetries(); got != 2 {
		t.Errorf("max retries = %d, want 2", got)
	}
}

// TestNewMalformedVaultVariable documents a limit of the Vault client
// library: it parses the VAULT_* variables even when their values are not
// used.
func TestNewMalformedVaultVariable(t *testing.T) {
	t.Setenv("VAULT_CLIENT_TIMEOUT", "abc")

	if _, err := New(Config{Address: unusedAddress}); err == nil {
		t.Error("New succeeded with VAULT_CLIENT_TIMEOUT=abc, want the error of the client library")
	}
}

func TestNewSetsNamespace(t *testing.T) {
	s, err := New(Config{Address: unusedAddress, Namespace: "team-a"})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	if got := s.client.Namespace(); got != "team-a" {
		t.Errorf("namespace = %q, want %q", got, "team-a")
	}
}

// TestNewDoesNotConnect guards that New works while Vault is down, since
// Caddy provisions modules also for "caddy validate".
func TestNewDoesNotConnect(t *testing.T) {
	listener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	defer listener.Close()

	_, err = New(Config{Address: "http://" + listener.Addr().String(), Token: "test-token"})
	if err != nil {
		t.Fatalf("New: %v", err)
	}

	if err := listener.(*net.TCPListener).SetDeadline(time.Now().Add(200 * time.Millisecond)); err != nil {
		t.Fatalf("set deadline: %v", err)
	}
	if conn, err := listener.Accept(); err == nil {
		conn.Close()
		t.Error("New connected to the Vault address")
	}
}

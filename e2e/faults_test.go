package e2e

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/credgate/credgate/internal/testenv"
)

// TestUnreachableParts checks the replies when Vault or the API is down:
// 503 and 502 with the documented codes, and a clear log line.
func TestUnreachableParts(t *testing.T) {
	s := newStack(t)
	deadAddr := fmt.Sprintf("http://127.0.0.1:%d", testenv.FreePort(t))

	t.Run("vault down answers 503", func(t *testing.T) {
		g := s.startGatewayWith(gatewayOptions{vaultAddr: deadAddr})
		resp := s.do("GET", g.base+"/me", ownerHeader("nina"), nil)
		if resp.status != http.StatusServiceUnavailable {
			t.Fatalf("status %d, want 503: %s", resp.status, resp.body)
		}
		if code := resp.errorCode(t); code != "credential_store_unavailable" {
			t.Errorf("error code = %q, want credential_store_unavailable", code)
		}
		if !strings.Contains(readFile(g.logPath), `"reading credential failed"`) {
			t.Errorf("no log line for the failed Vault read")
		}
	})

	t.Run("API too slow answers 504", func(t *testing.T) {
		release := make(chan struct{})
		slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-release:
			case <-time.After(10 * time.Second):
			}
		}))
		defer slow.Close()
		defer close(release)

		g := s.startGatewayWith(gatewayOptions{graphURL: slow.URL, timeout: "1s"})
		s.link(s.startGateway(), "pia")
		started := time.Now()
		resp := s.do("GET", g.base+"/me", ownerHeader("pia"), nil)
		if resp.status != http.StatusGatewayTimeout {
			t.Fatalf("status %d, want 504: %s", resp.status, resp.body)
		}
		if code := resp.errorCode(t); code != "upstream_timeout" {
			t.Errorf("error code = %q, want upstream_timeout", code)
		}
		if waited := time.Since(started); waited > 8*time.Second {
			t.Errorf("the reply took %v; upstream_timeout is 1s", waited)
		}
	})

	t.Run("only standard headers reach the API", func(t *testing.T) {
		received := make(chan http.Header, 1)
		api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			received <- r.Header.Clone()
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write([]byte(`{"id":"1"}`))
		}))
		defer api.Close()

		g := s.startGatewayWith(gatewayOptions{graphURL: api.URL})
		s.link(s.startGateway(), "quentin")
		token := s.recordStoredToken("quentin")
		header := ownerHeader("quentin")
		header["X-Internal-Api-Key"] = "internal-key-1"
		header["Cookie"] = "session=abc"
		if resp := s.do("GET", g.base+"/me", header, nil); resp.status != http.StatusOK {
			t.Fatalf("status %d: %s", resp.status, resp.body)
		}

		got := <-received
		if got.Get("Authorization") != "Bearer "+token {
			t.Errorf("the API did not receive the stored token as a Bearer credential")
		}
		for _, name := range []string{"X-Internal-Api-Key", "Cookie", "X-Linked-Account-Owner", "X-Forwarded-For", "X-Forwarded-Host", "X-Forwarded-Proto", "Via"} {
			if got.Get(name) != "" {
				t.Errorf("the API received the %s header", name)
			}
		}
	})

	t.Run("API down answers 502", func(t *testing.T) {
		g := s.startGatewayWith(gatewayOptions{graphURL: deadAddr})
		s.link(s.startGateway(), "olga")
		resp := s.do("GET", g.base+"/me", ownerHeader("olga"), nil)
		if resp.status != http.StatusBadGateway {
			t.Fatalf("status %d, want 502: %s", resp.status, resp.body)
		}
		if code := resp.errorCode(t); code != "upstream_unavailable" {
			t.Errorf("error code = %q, want upstream_unavailable", code)
		}
	})
}

// TestValidateWithVaultDown runs `caddy validate`, which provisions every
// module: it must pass while Vault is unreachable, and fail with file and
// line for a configuration error.
func TestValidateWithVaultDown(t *testing.T) {
	bin := caddyBinary(t)
	dir := t.TempDir()
	deadAddr := fmt.Sprintf("http://127.0.0.1:%d", testenv.FreePort(t))

	valid := fmt.Sprintf(`{
	admin off
	credgate {
		vault {
			address %s
			token {env.E2E_VAULT_TOKEN}
		}
		state_key {env.E2E_STATE_KEY}
	}
}
http://127.0.0.1:1 {
	handle /instagram/* {
		credgate instagram {
			client_id abc
			client_secret {env.E2E_CLIENT_SECRET}
			redirect_url http://127.0.0.1:1/instagram/oauth/callback
		}
	}
}
`, deadAddr)
	tests := []struct {
		name    string
		config  string
		wantErr string
	}{
		{"valid with vault down", valid, ""},
		{"unknown subdirective", strings.Replace(valid, "client_id abc", "client_id abc\n\t\t\tclient_sekret x", 1), "Caddyfile:15"},
		{"unknown app", strings.Replace(valid, "credgate instagram {", "credgate tiktok {", 1), "unknown app"},
		{"missing redirect_url", strings.Replace(valid, "redirect_url http://127.0.0.1:1/instagram/oauth/callback", "", 1), "redirect_url is required"},
		{"short state key", strings.Replace(valid, "state_key {env.E2E_STATE_KEY}", "state_key tooshort", 1), "at least 32 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(dir, "Caddyfile")
			if err := os.WriteFile(path, []byte(tt.config), 0o600); err != nil {
				t.Fatal(err)
			}
			cmd := exec.Command(bin, "validate", "--config", path, "--adapter", "caddyfile")
			cmd.Env = append(os.Environ(), "HOME="+dir, "E2E_VAULT_TOKEN=root-token-for-validate",
				"E2E_STATE_KEY="+stateKey, "E2E_CLIENT_SECRET="+clientSecret)
			out, err := cmd.CombinedOutput()
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("caddy validate failed: %v\n%s", err, out)
				}
				return
			}
			if err == nil {
				t.Fatalf("caddy validate passed, want an error containing %q", tt.wantErr)
			}
			if !strings.Contains(string(out), tt.wantErr) {
				t.Errorf("caddy validate output does not contain %q:\n%s", tt.wantErr, out)
			}
			if strings.Contains(string(out), clientSecret) || strings.Contains(string(out), "root-token-for-validate") {
				t.Errorf("caddy validate output contains a secret")
			}
		})
	}
}

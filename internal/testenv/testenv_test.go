package testenv

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"
)

func TestRepoRoot(t *testing.T) {
	root, err := RepoRoot()
	if err != nil {
		t.Fatalf("RepoRoot: %v", err)
	}

	if got := readModulePath(filepath.Join(root, "go.mod")); got != modulePath {
		t.Errorf("go.mod in %s declares %q, want %q", root, got, modulePath)
	}
	if _, err := os.Stat(filepath.Join(root, "internal", "testenv")); err != nil {
		t.Errorf("%s has no internal/testenv: %v", root, err)
	}
}

func TestRepoRootOutsideRepository(t *testing.T) {
	want, err := RepoRoot()
	if err != nil {
		t.Fatalf("RepoRoot: %v", err)
	}
	t.Chdir(t.TempDir())

	got, err := RepoRoot()
	if err != nil {
		t.Fatalf("RepoRoot from a temporary folder: %v", err)
	}
	if got != want {
		t.Errorf("RepoRoot = %q, want %q", got, want)
	}
}

func TestReadModulePath(t *testing.T) {
	tests := []struct {
		name    string
		content string
		want    string
	}{
		{"plain", "module github.com/credgate/credgate\n\ngo 1.26\n", modulePath},
		{"comment before", "// a comment\nmodule github.com/credgate/credgate\n", modulePath},
		{"trailing comment", "module github.com/credgate/credgate // root\n", modulePath},
		{"quoted", "module \"github.com/credgate/credgate\"\n", modulePath},
		{"nested module", "module github.com/credgate/credgate/tools/vault\n", modulePath + "/tools/vault"},
		{"no module line", "go 1.26\n", ""},
		{"modules word", "modules are here\n", ""},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "go.mod")
			if err := os.WriteFile(path, []byte(tt.content), 0o600); err != nil {
				t.Fatalf("write go.mod: %v", err)
			}
			if got := readModulePath(path); got != tt.want {
				t.Errorf("readModulePath = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestFreePort(t *testing.T) {
	port := FreePort(t)

	listener, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		t.Fatalf("listen on free port %d: %v", port, err)
	}
	listener.Close()
}

func TestVaultBinaryFromEnvironment(t *testing.T) {
	dir := t.TempDir()
	executable := filepath.Join(dir, "my-vault")
	if err := os.WriteFile(executable, []byte("#!/bin/sh\n"), 0o700); err != nil {
		t.Fatalf("write executable: %v", err)
	}
	plainFile := filepath.Join(dir, "not-executable")
	if err := os.WriteFile(plainFile, []byte("data"), 0o600); err != nil {
		t.Fatalf("write file: %v", err)
	}

	t.Run("executable", func(t *testing.T) {
		t.Setenv(VaultBinaryEnv, executable)
		got, err := VaultBinary()
		if err != nil {
			t.Fatalf("VaultBinary: %v", err)
		}
		if got != executable {
			t.Errorf("VaultBinary = %q, want %q", got, executable)
		}
	})

	for name, path := range map[string]string{
		"missing":        filepath.Join(dir, "missing"),
		"not executable": plainFile,
		"folder":         dir,
	} {
		t.Run(name, func(t *testing.T) {
			t.Setenv(VaultBinaryEnv, path)
			_, err := VaultBinary()
			if err == nil {
				t.Fatal("VaultBinary succeeded, want error")
			}
			if !strings.Contains(err.Error(), VaultBinaryEnv) {
				t.Errorf("error = %q, want it to name %s", err, VaultBinaryEnv)
			}
		})
	}
}

func TestStartVault(t *testing.T) {
	var addr, token string
	t.Run("running", func(t *testing.T) {
		addr, token = StartVault(t)

		if !strings.HasPrefix(addr, "http://127.0.0.1:") {
			t.Errorf("address = %q, want http://127.0.0.1:PORT", addr)
		}
		if token == "" {
			t.Fatal("token is empty")
		}

		// the root token writes and reads KV version 2 data under secret/
		status, body := vaultRequest(t, http.MethodPost, addr+"/v1/secret/data/probe", token, `{"data": {"k": "v"}}`)
		if status != http.StatusOK {
			t.Fatalf("write secret: status %d: %s", status, body)
		}
		status, body = vaultRequest(t, http.MethodGet, addr+"/v1/secret/data/probe", token, "")
		if status != http.StatusOK || !strings.Contains(body, `"k":"v"`) {
			t.Errorf("read secret: status %d: %s", status, body)
		}

		// a wrong token is rejected, so the token really is the root token
		status, _ = vaultRequest(t, http.MethodGet, addr+"/v1/secret/data/probe", "wrong-token", "")
		if status != http.StatusForbidden {
			t.Errorf("read with wrong token: status %d, want 403", status)
		}
	})

	// the cleanup of the subtest stopped the server
	if addr == "" {
		return
	}
	client := &http.Client{Timeout: time.Second}
	resp, err := client.Get(addr + "/v1/sys/health")
	if err == nil {
		resp.Body.Close()
		t.Errorf("vault at %s still responds after the test ended", addr)
	}
}

func TestStartVaultWithoutBinary(t *testing.T) {
	t.Setenv(VaultBinaryEnv, filepath.Join(t.TempDir(), "missing"))

	t.Run("skips outside CI", func(t *testing.T) {
		t.Setenv("CI", "")
		result := runStartVault(t)
		if !result.skipped || result.failed {
			t.Errorf("skipped = %v, failed = %v, want a skip", result.skipped, result.failed)
		}
		if !strings.Contains(result.message, VaultBinaryEnv) {
			t.Errorf("skip message = %q, want the reason", result.message)
		}
	})

	t.Run("fails in CI", func(t *testing.T) {
		t.Setenv("CI", "true")
		result := runStartVault(t)
		if !result.failed || result.skipped {
			t.Errorf("skipped = %v, failed = %v, want a failure", result.skipped, result.failed)
		}
	})
}

// TestStartVaultFailureMessage runs a fake vault that prints its arguments
// and environment and exits, to check the failure message and what the child
// process receives.
func TestStartVaultFailureMessage(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("the fake vault is a shell script")
	}
	fake := filepath.Join(t.TempDir(), "fake-vault")
	script := "#!/bin/sh\necho \"args: $*\"\nenv\necho 'Unseal Key: unseal-key-value'\nexit 3\n"
	if err := os.WriteFile(fake, []byte(script), 0o700); err != nil {
		t.Fatalf("write fake vault: %v", err)
	}
	t.Setenv(VaultBinaryEnv, fake)
	t.Setenv("VAULT_TOKEN", "token-from-test-environment")

	result := runStartVault(t)

	if !result.failed {
		t.Fatalf("StartVault did not fail with a vault that exits")
	}
	for _, want := range []string{"exited early", "args: server -dev -dev-listen-address=127.0.0.1:", "-dev-no-store-token", "HOME=", "[redacted]"} {
		if !strings.Contains(result.message, want) {
			t.Errorf("failure message does not contain %q:\n%s", want, result.message)
		}
	}
	if strings.Contains(result.message, "VAULT_TOKEN") {
		t.Errorf("vault process inherited VAULT_TOKEN:\n%s", result.message)
	}
	if strings.Contains(result.message, "unseal-key-value") {
		t.Errorf("failure message contains the unseal key:\n%s", result.message)
	}
	if regexp.MustCompile(`dev-root-[0-9a-f]{32}`).MatchString(result.message) {
		t.Errorf("failure message contains the root token:\n%s", result.message)
	}
}

// recordingTB records Skipf and Fatalf instead of ending the real test.
type recordingTB struct {
	testing.TB
	skipped, failed bool
	message         string
}

func (r *recordingTB) Helper() {}

func (r *recordingTB) Skipf(format string, args ...any) {
	r.skipped = true
	r.message = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

func (r *recordingTB) Fatalf(format string, args ...any) {
	r.failed = true
	r.message = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

// runStartVault calls StartVault with a recordingTB on its own goroutine,
// since Skipf and Fatalf end the goroutine that calls them.
func runStartVault(t *testing.T) *recordingTB {
	result := &recordingTB{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		StartVault(result)
	}()
	<-done
	return result
}

func vaultRequest(t *testing.T, method, url, token, body string) (int, string) {
	t.Helper()

	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatalf("build request: %v", err)
	}
	req.Header.Set("X-Vault-Token", token)

	client := &http.Client{Timeout: 5 * time.Second}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()

	content, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read response: %v", err)
	}
	return resp.StatusCode, string(content)
}

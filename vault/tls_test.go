package vault_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/credgate/credgate/internal/testenv"
	"github.com/credgate/credgate/vault"
)

// startTLSVault starts a dev Vault that serves HTTPS with a CA of its own,
// and returns its address, root token and the CA file.
func startTLSVault(t *testing.T) (addr, token, caFile string) {
	t.Helper()
	bin, err := testenv.VaultBinary()
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("vault binary required when CI is set: %v", err)
		}
		t.Skipf("skipping test that needs a Vault server: %v", err)
	}

	dir := t.TempDir()
	port := testenv.FreePort(t)
	token = "tls-test-root-token"
	cmd := exec.Command(bin, "server", "-dev", "-dev-tls", "-dev-tls-cert-dir="+dir,
		fmt.Sprintf("-dev-listen-address=127.0.0.1:%d", port), "-dev-no-store-token")
	cmd.Env = []string{"HOME=" + dir, "PATH=" + os.Getenv("PATH"), "VAULT_DEV_ROOT_TOKEN_ID=" + token}
	logPath := filepath.Join(dir, "vault.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting vault: %v", err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		logFile.Close()
	})

	addr = fmt.Sprintf("https://127.0.0.1:%d", port)
	caFile = filepath.Join(dir, "vault-ca.pem")
	deadline := time.Now().Add(30 * time.Second)
	for {
		// the CA file appears when the server starts, so New is retried too
		store, err := vault.New(vault.Config{Address: addr, Token: token, CACert: caFile, Timeout: 2 * time.Second})
		if err == nil {
			_, _, err = store.Get(context.Background(), vault.Key{App: "instagram", Tenant: "t", Owner: "probe"})
			if errors.Is(err, vault.ErrNotFound) {
				return addr, token, caFile
			}
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(logPath)
			t.Fatalf("TLS Vault not ready: %v\n%s", err, strings.ReplaceAll(string(log), token, "[TOKEN]"))
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func TestStoreOverTLS(t *testing.T) {
	addr, token, caFile := startTLSVault(t)
	ctx := context.Background()
	key := vault.Key{App: "instagram", Tenant: "acme", Owner: "tls-owner"}

	t.Run("trusted CA", func(t *testing.T) {
		store, err := vault.New(vault.Config{Address: addr, Token: token, CACert: caFile})
		if err != nil {
			t.Fatalf("New: %v", err)
		}
		if _, err := store.Put(ctx, key, sampleAccount(), 0); err != nil {
			t.Fatalf("Put: %v", err)
		}
		got, _, err := store.Get(ctx, key)
		if err != nil {
			t.Fatalf("Get: %v", err)
		}
		if got.UserID != sampleAccount().UserID {
			t.Errorf("user_id = %q, want %q", got.UserID, sampleAccount().UserID)
		}
	})

	t.Run("unknown CA", func(t *testing.T) {
		store, err := vault.New(vault.Config{Address: addr, Token: token, Timeout: 3 * time.Second})
		if err != nil {
			t.Fatalf("New: %v", err)
		}
		_, _, err = store.Get(ctx, key)
		if !errors.Is(err, vault.ErrUnavailable) {
			t.Fatalf("Get error = %v, want ErrUnavailable", err)
		}
		if !strings.Contains(err.Error(), "certificate") {
			t.Errorf("error %q does not say the certificate is the problem", err)
		}
	})

	t.Run("missing CA file", func(t *testing.T) {
		_, err := vault.New(vault.Config{Address: addr, Token: token, CACert: filepath.Join(t.TempDir(), "none.pem")})
		if err == nil || !strings.Contains(err.Error(), "none.pem") {
			t.Errorf("New error = %v, want one naming the missing file", err)
		}
	})

	t.Run("client cert without key", func(t *testing.T) {
		_, err := vault.New(vault.Config{Address: addr, Token: token, ClientCert: caFile})
		if err == nil || !strings.Contains(err.Error(), "client_key") {
			t.Errorf("New error = %v, want one asking for client_key", err)
		}
	})
}

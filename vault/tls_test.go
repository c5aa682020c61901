package vault_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/credgate/credgate/internal/testenv"
	"github.com/credgate/credgate/vault"
)

func TestStoreOverTLS(t *testing.T) {
	addr, token, caFile := testenv.StartVaultTLS(t)
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

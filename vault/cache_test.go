package vault_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/credgate/credgate/internal/testenv"
	"github.com/credgate/credgate/vault"
)

func TestCachedStore(t *testing.T) {
	addr, token := testenv.StartVault(t)
	ctx := context.Background()
	key := vault.Key{App: "instagram", Tenant: "acme", Owner: "cached"}

	store, cfg := newStore(t, addr, token)
	// a second store on the same path plays another gateway instance
	other, err := vault.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	cached := vault.NewCachedStore(store, 30*time.Second)
	cached.SetClock(func() time.Time { return now })

	if _, _, err := cached.Get(ctx, key); !errors.Is(err, vault.ErrNotFound) {
		t.Fatalf("Get before Put: error = %v, want ErrNotFound", err)
	}
	if _, err := cached.Put(ctx, key, sampleAccount(), 0); err != nil {
		t.Fatalf("Put: %v", err)
	}

	// another instance writes a new token
	changed := sampleAccount()
	changed.AccessToken = "IGQWtest-newer-token-from-other-instance"
	if _, err := other.Put(ctx, key, changed, 1); err != nil {
		t.Fatalf("Put by the other instance: %v", err)
	}

	got, version, err := cached.Get(ctx, key)
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	if got.AccessToken != accessToken || version != 1 {
		t.Errorf("Get within the TTL did not return the cached account (version %d)", version)
	}

	now = now.Add(31 * time.Second)
	got, version, err = cached.Get(ctx, key)
	if err != nil {
		t.Fatalf("Get after the TTL: %v", err)
	}
	if got.AccessToken != changed.AccessToken || version != 2 {
		t.Errorf("Get after the TTL did not read Vault again (version %d)", version)
	}

	// a write through the cache is seen at once
	updated, err := cached.Update(ctx, key, func(cur *vault.Account) (*vault.Account, error) {
		next := *cur
		next.Status = vault.StatusReauthorizationRequired
		return &next, nil
	})
	if err != nil {
		t.Fatalf("Update: %v", err)
	}
	if updated.Status != vault.StatusReauthorizationRequired {
		t.Errorf("Update returned status %q", updated.Status)
	}
	got, _, err = cached.Get(ctx, key)
	if err != nil {
		t.Fatalf("Get after Update: %v", err)
	}
	if got.Status != vault.StatusReauthorizationRequired {
		t.Errorf("Get after Update returned status %q, want the updated one", got.Status)
	}

	// callers may change what Get returns without touching the cache
	got.Scopes[0] = "changed"
	again, _, _ := cached.Get(ctx, key)
	if again.Scopes[0] == "changed" {
		t.Errorf("changing a returned account changed the cached one")
	}
}

package vault_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/credgate/credgate/internal/testenv"
	"github.com/credgate/credgate/vault"
)

func TestRemoveExpiredStates(t *testing.T) {
	addr, token := testenv.StartVault(t)
	ctx := context.Background()
	store, _ := newStore(t, addr, token)
	now := time.Date(2026, 12, 4, 12, 30, 0, 0, time.UTC)

	expired := []string{"state-expired-one", "state-expired-two"}
	for _, id := range expired {
		if err := store.ConsumeState(ctx, id, now.Add(-90*time.Minute)); err != nil {
			t.Fatalf("ConsumeState(%s): %v", id, err)
		}
	}
	// expires later in the current hour: its folder is kept
	if err := store.ConsumeState(ctx, "state-live", now.Add(10*time.Minute)); err != nil {
		t.Fatalf("ConsumeState(state-live): %v", err)
	}

	removed, err := store.RemoveExpiredStates(ctx, now)
	if err != nil {
		t.Fatalf("RemoveExpiredStates: %v", err)
	}
	if removed != len(expired) {
		t.Errorf("removed = %d, want %d", removed, len(expired))
	}
	if err := store.ConsumeState(ctx, "state-live", now.Add(10*time.Minute)); !errors.Is(err, vault.ErrStateUsed) {
		t.Errorf("the live state's marker was removed: ConsumeState error = %v, want ErrStateUsed", err)
	}

	removed, err = store.RemoveExpiredStates(ctx, now)
	if err != nil || removed != 0 {
		t.Errorf("second RemoveExpiredStates = %d, %v; want 0, nil", removed, err)
	}
}

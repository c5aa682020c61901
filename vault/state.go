package vault

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/hashicorp/vault/api"
)

// ConsumeState marks an OAuth state as used, once across all gateway
// instances that share the Vault. It writes a marker secret named after the
// SHA-256 digest of id with check-and-set 0, which Vault accepts only when no
// marker exists. It returns an error wrapping ErrStateUsed when the state was
// consumed before. expiresAt is the end of the state's lifetime, stored in the
// marker so that old markers can be removed.
func (s *Store) ConsumeState(ctx context.Context, id string, expiresAt time.Time) error {
	if id == "" {
		return errors.New("consume state: missing state id")
	}

	digest := sha256.Sum256([]byte(id))
	digestHex := hex.EncodeToString(digest[:])
	path := s.statePath(digestHex)
	data := map[string]any{
		"expires_at": formatTime(expiresAt),
	}

	// TODO: remove expired markers. Without that they accumulate, one small
	// secret per login attempt. Setting delete_version_after on each marker's
	// metadata deletes only the data, so a periodic sweep of the metadata under
	// <prefix>/_states is still needed to drop them entirely.
	_, err := s.kv.Put(ctx, path, data, api.WithCheckAndSet(0))
	if err == nil {
		return nil
	}
	if errors.Is(err, api.ErrSecretNotFound) {
		return fmt.Errorf("consume state: vault has no KV version 2 secrets engine at mount %q", s.mount)
	}

	// The state id is a secret, and the marker name is derived from it, so
	// neither appears in the messages.
	err = s.classifyError("write", "state marker", err, id, digestHex)
	if errors.Is(err, ErrVersionConflict) {
		return fmt.Errorf("consume state: %w", ErrStateUsed)
	}
	return fmt.Errorf("consume state: %w", err)
}

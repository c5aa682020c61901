package vault

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
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
	path := s.statePath(expiresAt, digestHex)
	data := map[string]any{
		"expires_at": formatTime(expiresAt),
	}

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

// RemoveExpiredStates deletes the markers of states that expired before now
// and returns how many it deleted. Markers are grouped in one folder per
// hour of expiry, so only folders whose whole hour has passed are read, and
// a marker is never removed while its state could still be used.
func (s *Store) RemoveExpiredStates(ctx context.Context, now time.Time) (int, error) {
	folders, err := s.listKeys(ctx, s.prefix+"/"+statesFolder)
	if err != nil {
		return 0, err
	}

	removed := 0
	for _, folder := range folders {
		hour, isFolder := strings.CutSuffix(folder, "/")
		start, err := time.Parse(stateHourLayout, hour)
		if !isFolder || err != nil || now.Before(start.Add(time.Hour)) {
			continue
		}

		markers, err := s.listKeys(ctx, s.prefix+"/"+statesFolder+"/"+hour)
		if err != nil {
			return removed, err
		}
		for _, marker := range markers {
			path := s.prefix + "/" + statesFolder + "/" + hour + "/" + marker
			if err := s.kv.DeleteMetadata(ctx, path); err != nil {
				return removed, s.classifyError("delete", "state marker", err, marker)
			}
			removed++
		}
	}
	return removed, nil
}

package vault

import (
	"context"
	"sync"
	"time"
)

// maxCachedAccounts bounds the cache. When it is full, expired entries are
// dropped, and new reads are not cached until there is room again.
const maxCachedAccounts = 100_000

// CachedStore keeps accounts read from a Store in memory for a short time,
// so that a busy account does not cost one Vault read per call. Writes made
// through it update the cache at once; writes made by another gateway
// instance are seen once the entry expires. The tokens it keeps are the
// same ones any request of this process handles, so memory holds nothing
// it would not hold anyway.
type CachedStore struct {
	*Store

	ttl time.Duration
	now func() time.Time

	mu      sync.Mutex
	entries map[Key]cacheEntry
}

type cacheEntry struct {
	account  Account
	version  int
	storedAt time.Time
}

// NewCachedStore wraps store with a cache whose entries live for ttl.
func NewCachedStore(store *Store, ttl time.Duration) *CachedStore {
	return &CachedStore{Store: store, ttl: ttl, now: time.Now, entries: make(map[Key]cacheEntry)}
}

// Get returns the cached account while its entry is fresh, else reads it
// from Vault and caches it. Errors, ErrNotFound included, are not cached.
func (c *CachedStore) Get(ctx context.Context, key Key) (*Account, int, error) {
	if account, version, ok := c.lookup(key); ok {
		return account, version, nil
	}

	account, version, err := c.Store.Get(ctx, key)
	if err != nil {
		return account, version, err
	}
	c.remember(key, account, version)
	return account, version, nil
}

// Put writes through to Vault and caches what was written.
func (c *CachedStore) Put(ctx context.Context, key Key, a *Account, version int) (int, error) {
	newVersion, err := c.Store.Put(ctx, key, a, version)
	if err != nil {
		c.forget(key)
		return newVersion, err
	}
	c.remember(key, a, newVersion)
	return newVersion, nil
}

// Update reads from Vault, never from the cache, so that check-and-set
// works on the latest version, and caches the result.
func (c *CachedStore) Update(ctx context.Context, key Key, fn func(cur *Account) (*Account, error)) (*Account, error) {
	// the stored version is not returned by Update, so the entry is
	// dropped and the next Get reads it again
	defer c.forget(key)
	return c.Store.Update(ctx, key, fn)
}

// Delete removes the account from Vault and from the cache.
func (c *CachedStore) Delete(ctx context.Context, key Key) error {
	defer c.forget(key)
	return c.Store.Delete(ctx, key)
}

func (c *CachedStore) lookup(key Key) (*Account, int, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()

	entry, ok := c.entries[key]
	if !ok {
		return nil, 0, false
	}
	if c.now().Sub(entry.storedAt) >= c.ttl {
		delete(c.entries, key)
		return nil, 0, false
	}
	account := entry.account
	account.Scopes = append([]string(nil), entry.account.Scopes...)
	return &account, entry.version, true
}

func (c *CachedStore) remember(key Key, a *Account, version int) {
	c.mu.Lock()
	defer c.mu.Unlock()

	now := c.now()
	if len(c.entries) >= maxCachedAccounts {
		for k, entry := range c.entries {
			if now.Sub(entry.storedAt) >= c.ttl {
				delete(c.entries, k)
			}
		}
		if len(c.entries) >= maxCachedAccounts {
			return
		}
	}
	copied := *a
	copied.Scopes = append([]string(nil), a.Scopes...)
	c.entries[key] = cacheEntry{account: copied, version: version, storedAt: now}
}

func (c *CachedStore) forget(key Key) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.entries, key)
}

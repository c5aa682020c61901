package gateway

import (
	"sync"
	"time"

	"github.com/credgate/credgate/vault"
)

// Waits after failed refreshes of one account: the first failure waits
// minRefreshBackoff, each further one twice as long, up to
// maxRefreshBackoff. With the default 15-day refresh window, that still
// leaves hundreds of tries before a token expires.
const (
	minRefreshBackoff = time.Minute
	maxRefreshBackoff = time.Hour
)

// refreshBackoff keeps calls from sending a refresh on every request while
// the provider keeps rejecting it. It is per process, so each instance
// waits on its own.
type refreshBackoff struct {
	mu       sync.Mutex
	accounts map[vault.Key]backoffEntry
}

type backoffEntry struct {
	wait  time.Duration
	until time.Time
}

// waiting reports whether a refresh of key must wait, and until when.
func (b *refreshBackoff) waiting(key vault.Key, now time.Time) (time.Time, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	entry, ok := b.accounts[key]
	if !ok || !now.Before(entry.until) {
		return time.Time{}, false
	}
	return entry.until, true
}

// failed records a failed refresh and doubles the wait.
func (b *refreshBackoff) failed(key vault.Key, now time.Time) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.accounts == nil {
		b.accounts = make(map[vault.Key]backoffEntry)
	}
	wait := minRefreshBackoff
	if entry, ok := b.accounts[key]; ok {
		wait = min(entry.wait*2, maxRefreshBackoff)
	}
	b.accounts[key] = backoffEntry{wait: wait, until: now.Add(wait)}
}

// reset clears the failures of key after a refresh went through.
func (b *refreshBackoff) reset(key vault.Key) {
	b.mu.Lock()
	defer b.mu.Unlock()
	delete(b.accounts, key)
}

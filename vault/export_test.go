package vault

import "time"

// SetClock replaces the cache's clock, so tests expire entries without sleeping.
func (c *CachedStore) SetClock(now func() time.Time) { c.now = now }

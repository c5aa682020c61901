package vault

// CONTRACT STUB: the helper that owns this package replaces this file with
// real implementations. Exported names and signatures below are the contract
// the gateway core codes against; do not change them without telling the lead.

import (
	"context"
	"errors"
	"time"
)

// Config is the Vault connection. Nothing is read from the environment.
type Config struct {
	Address   string
	Token     string
	Namespace string
	Mount     string        // KV v2 mount, default "secret"
	Prefix    string        // path prefix, default "credgate"
	Timeout   time.Duration // per request, default 10s
}

// Key names one linked account.
type Key struct{ App, Tenant, Owner string }

// Account is the stored record of one linked account.
type Account struct {
	AccessToken  string
	TokenType    string
	ExpiresAt    time.Time
	IssuedAt     time.Time
	UserID       string
	Username     string
	Scopes       []string
	LinkedAt     time.Time
	RefreshedAt  time.Time // zero until the first refresh
	Status       string    // "active" or "reauthorization_required"
	StatusReason string
}

var (
	ErrNotFound        = errors.New("not found")
	ErrVersionConflict = errors.New("version conflict")
	ErrStateUsed       = errors.New("state already used")
	ErrUnavailable     = errors.New("credential store unavailable")
)

type Store struct{}

func New(cfg Config) (*Store, error)                                     { panic("stub") }
func ValidateSegment(kind, value string) error                           { panic("stub") }
func (s *Store) Get(ctx context.Context, key Key) (*Account, int, error) { panic("stub") }
func (s *Store) Put(ctx context.Context, key Key, a *Account, version int) (int, error) {
	panic("stub")
}
func (s *Store) Update(ctx context.Context, key Key, fn func(cur *Account) (*Account, error)) (*Account, error) {
	panic("stub")
}
func (s *Store) ConsumeState(ctx context.Context, id string, expiresAt time.Time) error {
	panic("stub")
}

package oauthflow

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// State signing parameters.
const (
	// MinStateKeyBytes is the shortest accepted HS256 key, the size of the
	// SHA-256 output.
	MinStateKeyBytes = 32

	// DefaultStateTTL is the state lifetime when NewStateSigner gets 0.
	DefaultStateTTL = 10 * time.Minute

	// stateLeeway absorbs clock skew between the gateway instances that
	// issue and verify a state.
	stateLeeway = 30 * time.Second

	// stateIDBytes is the size of the random jti: 192 bits.
	stateIDBytes = 24
)

// Errors of StateSigner.Verify. An expired state matches ErrStateExpired;
// every other rejection matches ErrInvalidState. Neither error text contains
// the state.
var (
	ErrInvalidState = errors.New("invalid oauth state")
	ErrStateExpired = errors.New("oauth state expired")
)

// StateClaims is the payload of the signed OAuth state.
type StateClaims struct {
	App      string `json:"app"`
	Tenant   string `json:"tenant"`
	Owner    string `json:"owner"`
	ReturnTo string `json:"return_to,omitempty"`
	jwt.RegisteredClaims
}

// StateSigner issues and verifies the OAuth state as an HS256 JWT, so the
// gateway keeps no server-side session between the consent redirect and the
// callback. The state alone does not stop a replay within its lifetime: the
// caller that needs single use records the jti.
type StateSigner struct {
	// Now is the clock for iat, exp and their checks. Nil means time.Now.
	Now func() time.Time

	key []byte
	ttl time.Duration
}

// NewStateSigner returns a signer with an HMAC key of at least
// MinStateKeyBytes bytes. A ttl of 0 means DefaultStateTTL.
func NewStateSigner(key []byte, ttl time.Duration) (*StateSigner, error) {
	if len(key) < MinStateKeyBytes {
		return nil, fmt.Errorf("state key is %d bytes, at least %d are required", len(key), MinStateKeyBytes)
	}
	if ttl < 0 {
		return nil, fmt.Errorf("state ttl %s is negative", ttl)
	}
	if ttl == 0 {
		ttl = DefaultStateTTL
	}

	return &StateSigner{key: append([]byte(nil), key...), ttl: ttl}, nil
}

// Issue signs a state for one link attempt and returns it with its claims.
// The claims carry a random jti and expire after the signer's ttl.
func (s *StateSigner) Issue(app, tenant, owner, returnTo string) (string, *StateClaims, error) {
	if app == "" {
		return "", nil, errors.New("issuing oauth state: app is empty")
	}

	id := make([]byte, stateIDBytes)
	if _, err := rand.Read(id); err != nil {
		return "", nil, fmt.Errorf("issuing oauth state: generating jti: %w", err)
	}

	now := s.now()
	claims := &StateClaims{
		App:      app,
		Tenant:   tenant,
		Owner:    owner,
		ReturnTo: returnTo,
		RegisteredClaims: jwt.RegisteredClaims{
			ID:        base64.RawURLEncoding.EncodeToString(id),
			IssuedAt:  jwt.NewNumericDate(now),
			ExpiresAt: jwt.NewNumericDate(now.Add(s.ttl)),
		},
	}

	state, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString(s.key)
	if err != nil {
		return "", nil, fmt.Errorf("issuing oauth state: signing: %w", err)
	}
	return state, claims, nil
}

// Verify checks the signature, algorithm (HS256 only), exp (required), iat
// and the presence of jti and app, with a leeway of 30 seconds for clock
// skew. It returns the claims of a valid state.
func (s *StateSigner) Verify(state string) (*StateClaims, error) {
	claims := &StateClaims{}
	_, err := jwt.ParseWithClaims(state, claims, s.keyFunc,
		jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithLeeway(stateLeeway),
		jwt.WithTimeFunc(s.now),
	)
	if errors.Is(err, jwt.ErrTokenExpired) {
		return nil, fmt.Errorf("%w: %w", ErrStateExpired, err)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidState, err)
	}

	if claims.ID == "" {
		return nil, fmt.Errorf("%w: jti claim is missing", ErrInvalidState)
	}
	if claims.App == "" {
		return nil, fmt.Errorf("%w: app claim is missing", ErrInvalidState)
	}
	return claims, nil
}

// keyFunc hands the key to the JWT parser only for HMAC tokens, on top of
// the parser's own algorithm check.
func (s *StateSigner) keyFunc(token *jwt.Token) (any, error) {
	if _, ok := token.Method.(*jwt.SigningMethodHMAC); !ok {
		return nil, fmt.Errorf("unexpected signing method %s", token.Method.Alg())
	}
	return s.key, nil
}

func (s *StateSigner) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

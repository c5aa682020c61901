package oauthflow

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

var testStateKey = bytes.Repeat([]byte("k"), 32)

// testSigner returns a signer whose clock reads *now.
func testSigner(t *testing.T, now *time.Time) *StateSigner {
	t.Helper()

	signer, err := NewStateSigner(testStateKey, 5*time.Minute)
	if err != nil {
		t.Fatalf("NewStateSigner: %v", err)
	}
	signer.Now = func() time.Time { return *now }
	return signer
}

// signClaims signs claims with any method and key, the way an attacker or a
// misconfigured peer would.
func signClaims(t *testing.T, method jwt.SigningMethod, claims jwt.Claims, key any) string {
	t.Helper()

	state, err := jwt.NewWithClaims(method, claims).SignedString(key)
	if err != nil {
		t.Fatalf("signing test state: %v", err)
	}
	return state
}

// validClaims returns claims that Verify accepts at now.
func validClaims(now time.Time) *StateClaims {
	return &StateClaims{
		App:    "instagram",
		Tenant: "acme",
		Owner:  "user-1",
		RegisteredClaims: jwt.RegisteredClaims{
			ID:        "c29tZS1yYW5kb20taWQ",
			IssuedAt:  jwt.NewNumericDate(now),
			ExpiresAt: jwt.NewNumericDate(now.Add(5 * time.Minute)),
		},
	}
}

func TestStateRoundTrip(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	signer := testSigner(t, &now)

	state, issued, err := signer.Issue("instagram", "acme", "user-1", "https://app.example/done")
	if err != nil {
		t.Fatalf("Issue: %v", err)
	}
	now = now.Add(4 * time.Minute)
	verified, err := signer.Verify(state)
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}

	if verified.App != "instagram" || verified.Tenant != "acme" || verified.Owner != "user-1" || verified.ReturnTo != "https://app.example/done" {
		t.Errorf("verified claims = %+v, expected the issued app, tenant, owner and return_to", verified)
	}
	if verified.ID != issued.ID {
		t.Errorf("jti = %q, expected the issued %q", verified.ID, issued.ID)
	}
	if got := verified.ExpiresAt.Sub(verified.IssuedAt.Time); got != 5*time.Minute {
		t.Errorf("exp - iat = %v, expected the 5m ttl", got)
	}
	if !verified.IssuedAt.Equal(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)) {
		t.Errorf("iat = %v, expected the issue time", verified.IssuedAt)
	}
}

func TestStateIDRandom(t *testing.T) {
	now := time.Now()
	signer := testSigner(t, &now)

	_, first, err := signer.Issue("instagram", "acme", "user-1", "")
	if err != nil {
		t.Fatalf("Issue: %v", err)
	}
	_, second, err := signer.Issue("instagram", "acme", "user-1", "")
	if err != nil {
		t.Fatalf("Issue: %v", err)
	}

	decoded, err := base64.RawURLEncoding.DecodeString(first.ID)
	if err != nil {
		t.Fatalf("jti %q is not base64url: %v", first.ID, err)
	}
	if len(decoded) < 16 {
		t.Errorf("jti has %d random bytes, expected at least 16", len(decoded))
	}
	if first.ID == second.ID {
		t.Errorf("two states share the jti %q", first.ID)
	}
}

func TestStateDefaultTTL(t *testing.T) {
	signer, err := NewStateSigner(testStateKey, 0)
	if err != nil {
		t.Fatalf("NewStateSigner: %v", err)
	}
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	signer.Now = func() time.Time { return now }

	_, claims, err := signer.Issue("instagram", "acme", "user-1", "")
	if err != nil {
		t.Fatalf("Issue: %v", err)
	}
	if got := claims.ExpiresAt.Sub(now); got != 10*time.Minute {
		t.Errorf("ttl = %v, expected the default 10m", got)
	}
}

func TestNewStateSignerRejects(t *testing.T) {
	shortKey := []byte("short-key-that-must-stay-out-31")

	_, err := NewStateSigner(shortKey, time.Minute)
	if err == nil {
		t.Fatal("NewStateSigner accepted a 31-byte key")
	}
	if !strings.Contains(err.Error(), "31 bytes") || !strings.Contains(err.Error(), "32") {
		t.Errorf("error = %q, expected the key length and the minimum", err)
	}
	if strings.Contains(err.Error(), string(shortKey)) {
		t.Errorf("error = %q, contains the key", err)
	}

	if _, err := NewStateSigner(testStateKey, -time.Minute); err == nil {
		t.Error("NewStateSigner accepted a negative ttl")
	}
}

func TestStateSignerCopiesKey(t *testing.T) {
	key := bytes.Repeat([]byte("k"), 32)
	signer, err := NewStateSigner(key, time.Minute)
	if err != nil {
		t.Fatalf("NewStateSigner: %v", err)
	}
	state, _, err := signer.Issue("instagram", "acme", "user-1", "")
	if err != nil {
		t.Fatalf("Issue: %v", err)
	}

	key[0] = 'x'
	if _, err := signer.Verify(state); err != nil {
		t.Errorf("Verify after the caller changed its key slice: %v", err)
	}
}

func TestStateIssueWithoutApp(t *testing.T) {
	now := time.Now()
	if _, _, err := testSigner(t, &now).Issue("", "acme", "user-1", ""); err == nil {
		t.Error("Issue accepted an empty app")
	}
}

func TestStateExpiry(t *testing.T) {
	issuedAt := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	now := issuedAt
	signer := testSigner(t, &now)
	state, _, err := signer.Issue("instagram", "acme", "user-1", "")
	if err != nil {
		t.Fatalf("Issue: %v", err)
	}

	// inside the leeway the state still verifies
	now = issuedAt.Add(5*time.Minute + 29*time.Second)
	if _, err := signer.Verify(state); err != nil {
		t.Errorf("Verify 29 s after exp: %v, expected the leeway to accept it", err)
	}

	now = issuedAt.Add(5*time.Minute + 31*time.Second)
	_, err = signer.Verify(state)
	if !errors.Is(err, ErrStateExpired) {
		t.Errorf("Verify 31 s after exp = %v, expected ErrStateExpired", err)
	}
	if errors.Is(err, ErrInvalidState) {
		t.Errorf("expired state error %v also matches ErrInvalidState", err)
	}
	if err != nil && strings.Contains(err.Error(), state) {
		t.Errorf("error = %q, contains the state", err)
	}
}

func TestStateRejected(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	signer := testSigner(t, &now)
	valid, _, err := signer.Issue("instagram", "acme", "user-1", "")
	if err != nil {
		t.Fatalf("Issue: %v", err)
	}
	parts := strings.Split(valid, ".")

	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatalf("generating RSA key: %v", err)
	}

	tamperedClaims := validClaims(now)
	tamperedClaims.Tenant = "other-tenant"
	tamperedPayload := strings.Split(signClaims(t, jwt.SigningMethodHS256, tamperedClaims, []byte("any")), ".")[1]

	noExp := validClaims(now)
	noExp.ExpiresAt = nil
	noID := validClaims(now)
	noID.ID = ""
	noApp := validClaims(now)
	noApp.App = ""
	futureIssue := validClaims(now)
	futureIssue.IssuedAt = jwt.NewNumericDate(now.Add(time.Hour))
	futureIssue.ExpiresAt = jwt.NewNumericDate(now.Add(2 * time.Hour))

	tests := []struct {
		name  string
		state string
	}{
		{name: "empty", state: ""},
		{name: "garbage", state: "not-a-jwt"},
		{name: "tampered payload", state: parts[0] + "." + tamperedPayload + "." + parts[2]},
		{name: "tampered signature", state: parts[0] + "." + parts[1] + "." + strings.Repeat("A", len(parts[2]))},
		{name: "signature removed", state: parts[0] + "." + parts[1] + "."},
		{name: "alg none", state: signClaims(t, jwt.SigningMethodNone, validClaims(now), jwt.UnsafeAllowNoneSignatureType)},
		{name: "HS512 same key", state: signClaims(t, jwt.SigningMethodHS512, validClaims(now), testStateKey)},
		{name: "RS256", state: signClaims(t, jwt.SigningMethodRS256, validClaims(now), rsaKey)},
		{name: "wrong key", state: signClaims(t, jwt.SigningMethodHS256, validClaims(now), bytes.Repeat([]byte("w"), 32))},
		{name: "missing exp", state: signClaims(t, jwt.SigningMethodHS256, noExp, testStateKey)},
		{name: "missing jti", state: signClaims(t, jwt.SigningMethodHS256, noID, testStateKey)},
		{name: "missing app", state: signClaims(t, jwt.SigningMethodHS256, noApp, testStateKey)},
		{name: "issued in the future", state: signClaims(t, jwt.SigningMethodHS256, futureIssue, testStateKey)},
	}
	for _, test := range tests {
		t.Run(test.name, func(t *testing.T) {
			claims, err := signer.Verify(test.state)

			if !errors.Is(err, ErrInvalidState) {
				t.Fatalf("Verify = %+v, %v, expected ErrInvalidState", claims, err)
			}
			if claims != nil {
				t.Errorf("Verify returned claims %+v with an error", claims)
			}
			if test.state != "" && strings.Contains(err.Error(), test.state) {
				t.Errorf("error = %q, contains the state", err)
			}
		})
	}
}

func TestStateFromOtherSigner(t *testing.T) {
	now := time.Now()
	issuer := testSigner(t, &now)
	state, _, err := issuer.Issue("instagram", "acme", "user-1", "")
	if err != nil {
		t.Fatalf("Issue: %v", err)
	}

	other, err := NewStateSigner(bytes.Repeat([]byte("o"), 32), time.Minute)
	if err != nil {
		t.Fatalf("NewStateSigner: %v", err)
	}
	if _, err := other.Verify(state); !errors.Is(err, ErrInvalidState) {
		t.Errorf("Verify with another key = %v, expected ErrInvalidState", err)
	}
}

package gateway_test

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/credgate/credgate/gateway"
	"github.com/credgate/credgate/vault"
)

// sweepAccount describes one account seeded for a sweep test.
type sweepAccount struct {
	key       vault.Key
	age       time.Duration
	expiresIn time.Duration
	status    string
}

// seedSweepAccounts stores accounts with distinct tokens and returns the
// token of each key.
func seedSweepAccounts(t *testing.T, h *harness, accounts []sweepAccount) map[vault.Key]string {
	t.Helper()

	tokens := make(map[vault.Key]string)
	now := h.clock.Now()
	for i, a := range accounts {
		token := fmt.Sprintf("IGAAsweep-token-%02d", i)
		h.store.seed(t, a.key, &vault.Account{
			AccessToken: token,
			TokenType:   "bearer",
			IssuedAt:    now.Add(-a.age),
			ExpiresAt:   now.Add(a.expiresIn),
			UserID:      testUserID,
			Username:    testUsername,
			Scopes:      slices.Clone(testScopes),
			LinkedAt:    now.Add(-a.age),
			Status:      a.status,
		})
		tokens[a.key] = token
		h.rememberSecret(token)
	}
	return tokens
}

func instagramKey(tenant, owner string) vault.Key {
	return vault.Key{App: "instagram", Tenant: tenant, Owner: owner}
}

func TestSweepRefreshesDueAccounts(t *testing.T) {
	h := newHarness(t)
	due := instagramKey(gateway.DefaultTenant, "due")
	dueOtherTenant := instagramKey("tenant-7", "due")
	fresh := instagramKey(gateway.DefaultTenant, "fresh")
	young := instagramKey(gateway.DefaultTenant, "young")
	expired := instagramKey(gateway.DefaultTenant, "expired")
	revoked := instagramKey(gateway.DefaultTenant, "revoked")
	otherApp := vault.Key{App: "threads", Tenant: gateway.DefaultTenant, Owner: "due"}
	tokens := seedSweepAccounts(t, h, []sweepAccount{
		{key: due, age: 50 * day, expiresIn: 10 * day, status: vault.StatusActive},
		{key: dueOtherTenant, age: 46 * day, expiresIn: 14 * day, status: vault.StatusActive},
		{key: fresh, age: time.Hour, expiresIn: 50 * day, status: vault.StatusActive},
		{key: young, age: 23 * time.Hour, expiresIn: 2 * day, status: vault.StatusActive},
		{key: expired, age: 61 * day, expiresIn: -time.Hour, status: vault.StatusActive},
		{key: revoked, age: 50 * day, expiresIn: 10 * day, status: vault.StatusReauthorizationRequired},
		{key: otherApp, age: 50 * day, expiresIn: 10 * day, status: vault.StatusActive},
	})

	result, err := h.gateway.Sweep(context.Background(), h.store)

	if err != nil {
		t.Fatalf("Sweep: %v", err)
	}
	want := gateway.SweepResult{Checked: 6, Refreshed: 2, Failed: 0, Expired: 1}
	if result != want {
		t.Errorf("result = %+v, want %+v", result, want)
	}

	refreshed := h.instagram.refreshedTokens()
	slices.Sort(refreshed)
	wantRefreshed := []string{tokens[due], tokens[dueOtherTenant]}
	slices.Sort(wantRefreshed)
	if !slices.Equal(refreshed, wantRefreshed) {
		t.Errorf("refresh requests carried %q, want the tokens of the two due accounts", refreshed)
	}
	for _, key := range []vault.Key{due, dueOtherTenant} {
		account := h.store.account(key)
		if account.AccessToken != testRefreshedToken {
			t.Errorf("%s: the refreshed token was not stored", key)
		}
		if !account.RefreshedAt.Equal(h.clock.Now()) {
			t.Errorf("%s: refreshed_at = %s, want %s", key, account.RefreshedAt, h.clock.Now())
		}
	}
	for _, key := range []vault.Key{fresh, young, expired, revoked, otherApp} {
		if account := h.store.account(key); account.AccessToken != tokens[key] {
			t.Errorf("%s: the token changed, want it left alone", key)
		}
	}
	if account := h.store.account(expired); account.Status != vault.StatusActive {
		t.Errorf("expired account status = %q, want it unchanged", account.Status)
	}
	h.assertNoSecrets(t, "log", h.logs.String())
}

func TestSweepContinuesAfterFailure(t *testing.T) {
	h := newHarness(t)
	h.instagram.setRefresh(http.StatusInternalServerError, 0)
	seedSweepAccounts(t, h, []sweepAccount{
		{key: instagramKey(gateway.DefaultTenant, "first"), age: 50 * day, expiresIn: 10 * day, status: vault.StatusActive},
		{key: instagramKey(gateway.DefaultTenant, "second"), age: 50 * day, expiresIn: 10 * day, status: vault.StatusActive},
	})

	result, err := h.gateway.Sweep(context.Background(), h.store)

	if err != nil {
		t.Fatalf("Sweep: %v", err)
	}
	want := gateway.SweepResult{Checked: 2, Failed: 2}
	if result != want {
		t.Errorf("result = %+v, want %+v", result, want)
	}
	failures := h.logs.find(t, "background token refresh failed")
	if len(failures) != 2 {
		t.Fatalf("log has %d \"background token refresh failed\" entries, want 2", len(failures))
	}
	owners := []string{fmt.Sprint(failures[0]["owner"]), fmt.Sprint(failures[1]["owner"])}
	slices.Sort(owners)
	if !slices.Equal(owners, []string{"first", "second"}) {
		t.Errorf("logged owners = %q, want first and second", owners)
	}
	for _, entry := range failures {
		if entry["tenant"] != gateway.DefaultTenant {
			t.Errorf("log tenant = %v, want %s", entry["tenant"], gateway.DefaultTenant)
		}
		if entry["step"] != "refresh" {
			t.Errorf("log step = %v, want refresh", entry["step"])
		}
	}
	h.assertNoSecrets(t, "log", h.logs.String())
}

func TestSweepListingFails(t *testing.T) {
	h := newHarness(t)
	h.seedAccount(t, testStoredToken, 50*day, 10*day)
	h.store.setFailure(fmt.Errorf("list credgate/instagram: request timed out: %w", vault.ErrUnavailable))

	_, err := h.gateway.Sweep(context.Background(), h.store)

	if err == nil {
		t.Fatal("Sweep returned no error")
	}
	if n := len(h.instagram.refreshedTokens()); n != 0 {
		t.Errorf("refresh requests = %d, want 0", n)
	}
}

func TestSweepStopsWhenCanceled(t *testing.T) {
	h := newHarness(t)
	h.seedAccount(t, testStoredToken, 50*day, 10*day)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()

	result, err := h.gateway.Sweep(ctx, h.store)

	if err == nil {
		t.Error("Sweep of a canceled context returned no error")
	}
	if result.Checked != 0 {
		t.Errorf("checked = %d, want 0", result.Checked)
	}
	if n := len(h.instagram.refreshedTokens()); n != 0 {
		t.Errorf("refresh requests = %d, want 0", n)
	}
}

func TestGatewayAppName(t *testing.T) {
	h := newHarness(t)

	if got := h.gateway.AppName(); got != "instagram" {
		t.Errorf("AppName = %q, want instagram", got)
	}
}

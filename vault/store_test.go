package vault_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/vault/api"

	"github.com/credgate/credgate/internal/testenv"
	"github.com/credgate/credgate/vault"
)

// accessToken is the stored token of sampleAccount. Tests check that no
// error text contains it.
const accessToken = "IGQWtest-access-token-0123456789"

func sampleAccount() *vault.Account {
	return &vault.Account{
		AccessToken:  accessToken,
		TokenType:    "bearer",
		ExpiresAt:    time.Date(2026, 2, 3, 4, 5, 6, 123456789, time.FixedZone("UTC+1", 3600)),
		IssuedAt:     time.Date(2025, 12, 5, 3, 5, 6, 0, time.UTC),
		UserID:       "27640875392278831",
		Username:     "example.user",
		Scopes:       []string{"instagram_business_basic", "instagram_business_manage_messages"},
		LinkedAt:     time.Date(2025, 12, 5, 3, 5, 0, 999, time.UTC),
		Status:       vault.StatusActive,
		StatusReason: "",
	}
}

// TestStore runs the store against one real Vault dev server. Each subtest
// uses its own prefix, so that they do not see each other's records.
func TestStore(t *testing.T) {
	addr, token := testenv.StartVault(t)
	raw := newRawClient(t, addr, token)
	ctx := context.Background()
	key := vault.Key{App: "instagram", Tenant: "acme", Owner: "user@example.com"}

	t.Run("round trip", func(t *testing.T) {
		store, cfg := newStore(t, addr, token)
		want := sampleAccount()

		version, err := store.Put(ctx, key, want, 0)
		if err != nil {
			t.Fatalf("Put: %v", err)
		}
		if version != 1 {
			t.Errorf("Put version = %d, want 1", version)
		}

		got, gotVersion, err := store.Get(ctx, key)
		if err != nil {
			t.Fatalf("Get: %v", err)
		}
		if gotVersion != 1 {
			t.Errorf("Get version = %d, want 1", gotVersion)
		}
		assertAccountEqual(t, got, want)

		// the secret uses the documented path and field formats
		secret, err := raw.KVv2("secret").Get(ctx, cfg.Prefix+"/instagram/acme/user@example.com")
		if err != nil {
			t.Fatalf("read raw secret: %v", err)
		}
		wantFields := map[string]any{
			"access_token":  accessToken,
			"token_type":    "bearer",
			"expires_at":    "2026-02-03T03:05:06.123456789Z",
			"issued_at":     "2025-12-05T03:05:06Z",
			"user_id":       "27640875392278831",
			"username":      "example.user",
			"linked_at":     "2025-12-05T03:05:00.000000999Z",
			"refreshed_at":  "",
			"status":        "active",
			"status_reason": "",
		}
		for field, wantValue := range wantFields {
			if got := secret.Data[field]; got != wantValue {
				t.Errorf("stored %s = %#v, want %#v", field, got, wantValue)
			}
		}
		scopes, ok := secret.Data["scopes"].([]any)
		if !ok || len(scopes) != 2 || scopes[0] != "instagram_business_basic" {
			t.Errorf("stored scopes = %#v, want a JSON array of the two scopes", secret.Data["scopes"])
		}
	})

	t.Run("round trip refreshed account", func(t *testing.T) {
		store, _ := newStore(t, addr, token)
		want := sampleAccount()
		want.RefreshedAt = time.Date(2026, 1, 1, 0, 0, 0, 1, time.UTC)
		want.Status = vault.StatusReauthorizationRequired
		want.StatusReason = "token revoked by the user"
		want.Scopes = nil

		if _, err := store.Put(ctx, key, want, 0); err != nil {
			t.Fatalf("Put: %v", err)
		}
		got, _, err := store.Get(ctx, key)
		if err != nil {
			t.Fatalf("Get: %v", err)
		}

		want.Scopes = []string{}
		assertAccountEqual(t, got, want)
	})

	t.Run("get not found", func(t *testing.T) {
		store, _ := newStore(t, addr, token)

		account, version, err := store.Get(ctx, key)
		if !errors.Is(err, vault.ErrNotFound) {
			t.Fatalf("Get error = %v, want ErrNotFound", err)
		}
		if account != nil || version != 0 {
			t.Errorf("Get = %v, %d, want nil, 0", account, version)
		}
	})

	t.Run("get deleted version", func(t *testing.T) {
		store, cfg := newStore(t, addr, token)
		if _, err := store.Put(ctx, key, sampleAccount(), 0); err != nil {
			t.Fatalf("Put: %v", err)
		}
		if err := raw.KVv2("secret").Delete(ctx, cfg.Prefix+"/instagram/acme/user@example.com"); err != nil {
			t.Fatalf("delete latest version: %v", err)
		}

		_, version, err := store.Get(ctx, key)
		if !errors.Is(err, vault.ErrNotFound) {
			t.Fatalf("Get error = %v, want ErrNotFound", err)
		}
		if version != 1 {
			t.Errorf("Get version = %d, want the deleted version 1", version)
		}

		// the deleted version is the one to replace
		if _, err := store.Put(ctx, key, sampleAccount(), 0); !errors.Is(err, vault.ErrVersionConflict) {
			t.Errorf("Put with version 0 error = %v, want ErrVersionConflict", err)
		}
		newVersion, err := store.Put(ctx, key, sampleAccount(), version)
		if err != nil {
			t.Fatalf("Put with deleted version: %v", err)
		}
		if newVersion != 2 {
			t.Errorf("Put version = %d, want 2", newVersion)
		}
	})

	t.Run("get destroyed version", func(t *testing.T) {
		store, cfg := newStore(t, addr, token)
		if _, err := store.Put(ctx, key, sampleAccount(), 0); err != nil {
			t.Fatalf("Put: %v", err)
		}
		if err := raw.KVv2("secret").Destroy(ctx, cfg.Prefix+"/instagram/acme/user@example.com", []int{1}); err != nil {
			t.Fatalf("destroy version: %v", err)
		}

		if _, _, err := store.Get(ctx, key); !errors.Is(err, vault.ErrNotFound) {
			t.Errorf("Get error = %v, want ErrNotFound", err)
		}
	})

	t.Run("put version conflict", func(t *testing.T) {
		store, _ := newStore(t, addr, token)
		if _, err := store.Put(ctx, key, sampleAccount(), 0); err != nil {
			t.Fatalf("first Put: %v", err)
		}

		_, err := store.Put(ctx, key, sampleAccount(), 0)
		if !errors.Is(err, vault.ErrVersionConflict) {
			t.Fatalf("Put with version 0 on existing record error = %v, want ErrVersionConflict", err)
		}
		assertNoSecret(t, err, token)

		newer := sampleAccount()
		newer.AccessToken = "newer-token"
		if _, err := store.Put(ctx, key, newer, 1); err != nil {
			t.Fatalf("Put with version 1: %v", err)
		}

		_, err = store.Put(ctx, key, sampleAccount(), 1)
		if !errors.Is(err, vault.ErrVersionConflict) {
			t.Fatalf("Put with stale version 1 error = %v, want ErrVersionConflict", err)
		}

		got, version, err := store.Get(ctx, key)
		if err != nil {
			t.Fatalf("Get: %v", err)
		}
		if got.AccessToken != "newer-token" || version != 2 {
			t.Errorf("stored version %d has an older token, want version 2 with the newer token", version)
		}
	})

	t.Run("put invalid input", func(t *testing.T) {
		store, _ := newStore(t, addr, token)

		invalidStatus := sampleAccount()
		invalidStatus.Status = "revoked"
		tests := []struct {
			name    string
			key     vault.Key
			account *vault.Account
			version int
			wantErr string
		}{
			{"invalid owner", vault.Key{App: "instagram", Tenant: "acme", Owner: "../x"}, sampleAccount(), 0, `invalid owner "../x"`},
			{"invalid tenant", vault.Key{App: "instagram", Tenant: "", Owner: "o"}, sampleAccount(), 0, `invalid tenant ""`},
			{"invalid app", vault.Key{App: "_states", Tenant: "acme", Owner: "o"}, sampleAccount(), 0, `invalid app "_states"`},
			{"nil account", key, nil, 0, "missing account"},
			{"invalid status", key, invalidStatus, 0, `invalid status "revoked"`},
			{"negative version", key, sampleAccount(), -1, "invalid version -1"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				_, err := store.Put(ctx, tt.key, tt.account, tt.version)
				if err == nil {
					t.Fatal("Put succeeded, want error")
				}
				if !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("error = %q, want it to contain %q", err, tt.wantErr)
				}
				assertNoSecret(t, err, token)
			})
		}

		if _, _, err := store.Get(ctx, vault.Key{App: "instagram", Tenant: "acme", Owner: "a/b"}); err == nil {
			t.Error("Get with invalid owner succeeded, want error")
		}
	})

	t.Run("get malformed record", func(t *testing.T) {
		store, cfg := newStore(t, addr, token)
		path := cfg.Prefix + "/instagram/acme/user@example.com"
		data := map[string]any{
			"access_token": accessToken, "token_type": "bearer", "expires_at": "not a time",
			"issued_at": "", "user_id": "1", "username": "u", "scopes": []string{},
			"linked_at": "", "refreshed_at": "", "status": "active", "status_reason": "",
		}
		if _, err := raw.KVv2("secret").Put(ctx, path, data); err != nil {
			t.Fatalf("write raw secret: %v", err)
		}

		_, _, err := store.Get(ctx, key)
		if err == nil {
			t.Fatal("Get succeeded, want error")
		}
		if !strings.Contains(err.Error(), "malformed record") || !strings.Contains(err.Error(), "expires_at") {
			t.Errorf("error = %q, want it to name the malformed field", err)
		}
		assertNoSecret(t, err, token)
	})

	// Vault keeps JSON numbers as float64, so a user id written by hand as a
	// number has lost digits before the store reads it. Get must fail rather
	// than return a wrong id.
	t.Run("get user id stored as number", func(t *testing.T) {
		store, cfg := newStore(t, addr, token)
		path := cfg.Prefix + "/instagram/acme/user@example.com"

		body := []byte(`{"data": {"access_token": "t", "token_type": "bearer", "expires_at": "",
			"issued_at": "", "user_id": 27640875392278831, "username": "u", "scopes": [],
			"linked_at": "", "refreshed_at": "", "status": "active", "status_reason": ""}}`)
		resp, err := raw.Logical().WriteRawWithContext(ctx, "secret/data/"+path, body)
		if err != nil {
			t.Fatalf("write raw secret: %v", err)
		}
		resp.Body.Close()

		_, _, err = store.Get(ctx, key)
		if err == nil {
			t.Fatal("Get succeeded, want error")
		}
		if !strings.Contains(err.Error(), `field "user_id": expected a string, found a number`) {
			t.Errorf("error = %q, want it to name the user_id field and its type", err)
		}
	})

	t.Run("update creates record", func(t *testing.T) {
		store, _ := newStore(t, addr, token)

		var calls int
		got, err := store.Update(ctx, key, func(cur *vault.Account) (*vault.Account, error) {
			calls++
			if cur != nil {
				t.Error("fn got an account, want nil for a missing record")
			}
			return sampleAccount(), nil
		})
		if err != nil {
			t.Fatalf("Update: %v", err)
		}
		if calls != 1 {
			t.Errorf("fn called %d times, want 1", calls)
		}
		if got == nil || got.AccessToken != accessToken {
			t.Errorf("Update returned an account without the written token")
		}

		_, version, err := store.Get(ctx, key)
		if err != nil || version != 1 {
			t.Errorf("Get = version %d, error %v, want version 1", version, err)
		}
	})

	t.Run("update write nothing", func(t *testing.T) {
		store, _ := newStore(t, addr, token)
		if _, err := store.Put(ctx, key, sampleAccount(), 0); err != nil {
			t.Fatalf("Put: %v", err)
		}

		got, err := store.Update(ctx, key, func(cur *vault.Account) (*vault.Account, error) {
			return nil, nil
		})
		if err != nil {
			t.Fatalf("Update: %v", err)
		}
		assertAccountEqual(t, got, sampleAccount())

		if _, version, _ := store.Get(ctx, key); version != 1 {
			t.Errorf("version after Update = %d, want 1 (no write)", version)
		}
	})

	// The scenario: another gateway refreshes the token between our read and
	// our write. Update must not overwrite the newer token with a value
	// computed from the older one.
	t.Run("update rereads after concurrent write", func(t *testing.T) {
		store, cfg := newStore(t, addr, token)
		other, err := vault.New(cfg)
		if err != nil {
			t.Fatalf("New second store: %v", err)
		}
		if _, err := store.Put(ctx, key, sampleAccount(), 0); err != nil {
			t.Fatalf("Put: %v", err)
		}

		var seen []string
		got, err := store.Update(ctx, key, func(cur *vault.Account) (*vault.Account, error) {
			seen = append(seen, cur.AccessToken)
			if len(seen) == 1 {
				newer := sampleAccount()
				newer.AccessToken = "token-from-other-instance"
				if _, err := other.Put(ctx, key, newer, 1); err != nil {
					t.Fatalf("concurrent Put: %v", err)
				}
			}

			cur.Username = "renamed"
			return cur, nil
		})
		if err != nil {
			t.Fatalf("Update: %v", err)
		}

		if want := []string{accessToken, "token-from-other-instance"}; !slices.Equal(seen, want) {
			t.Errorf("fn saw tokens %q, want %q", seen, want)
		}
		if got.AccessToken != "token-from-other-instance" {
			t.Errorf("Update returned the older token")
		}

		stored, version, err := store.Get(ctx, key)
		if err != nil {
			t.Fatalf("Get: %v", err)
		}
		if stored.AccessToken != "token-from-other-instance" {
			t.Error("stored token was overwritten by the older one")
		}
		if stored.Username != "renamed" || version != 3 {
			t.Errorf("stored username %q at version %d, want %q at version 3", stored.Username, version, "renamed")
		}
	})

	t.Run("update racing updates keep every write", func(t *testing.T) {
		store, _ := newStore(t, addr, token)
		if _, err := store.Put(ctx, key, sampleAccount(), 0); err != nil {
			t.Fatalf("Put: %v", err)
		}

		const workers, rounds = 3, 4
		var (
			mu        sync.Mutex
			succeeded []string
			wg        sync.WaitGroup
		)
		for w := range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for r := range rounds {
					scope := fmt.Sprintf("scope-%d-%d", w, r)
					_, err := store.Update(ctx, key, func(cur *vault.Account) (*vault.Account, error) {
						cur.Scopes = append(cur.Scopes, scope)
						return cur, nil
					})
					if err != nil && !errors.Is(err, vault.ErrVersionConflict) {
						t.Errorf("Update %s: %v", scope, err)
						continue
					}
					if err == nil {
						mu.Lock()
						succeeded = append(succeeded, scope)
						mu.Unlock()
					}
				}
			}()
		}
		wg.Wait()

		stored, _, err := store.Get(ctx, key)
		if err != nil {
			t.Fatalf("Get: %v", err)
		}
		for _, scope := range succeeded {
			if !slices.Contains(stored.Scopes, scope) {
				t.Errorf("scope %s of a successful Update was lost", scope)
			}
		}
		if len(stored.Scopes) != 2+len(succeeded) {
			t.Errorf("stored %d scopes, want %d", len(stored.Scopes), 2+len(succeeded))
		}
		if len(succeeded) == 0 {
			t.Error("no Update succeeded")
		}
	})

	t.Run("update gives up after five conflicts", func(t *testing.T) {
		store, _ := newStore(t, addr, token)
		if _, err := store.Put(ctx, key, sampleAccount(), 0); err != nil {
			t.Fatalf("Put: %v", err)
		}

		calls := 0
		_, err := store.Update(ctx, key, func(cur *vault.Account) (*vault.Account, error) {
			calls++

			// another writer changes the record every time
			_, version, err := store.Get(ctx, key)
			if err != nil {
				t.Fatalf("Get: %v", err)
			}
			if _, err := store.Put(ctx, key, sampleAccount(), version); err != nil {
				t.Fatalf("interfering Put: %v", err)
			}
			return cur, nil
		})
		if !errors.Is(err, vault.ErrVersionConflict) {
			t.Fatalf("Update error = %v, want ErrVersionConflict", err)
		}
		if calls != 5 {
			t.Errorf("fn called %d times, want 5", calls)
		}
	})

	t.Run("update returns error of fn", func(t *testing.T) {
		store, _ := newStore(t, addr, token)
		errFn := errors.New("refresh failed")

		_, err := store.Update(ctx, key, func(cur *vault.Account) (*vault.Account, error) {
			return nil, errFn
		})
		if err != errFn { //nolint:errorlint // the error must be returned unchanged
			t.Errorf("Update error = %v, want the error of fn unchanged", err)
		}
	})

	t.Run("consume state once", func(t *testing.T) {
		store, cfg := newStore(t, addr, token)
		second, err := vault.New(cfg)
		if err != nil {
			t.Fatalf("New second store: %v", err)
		}
		const state = "state-value-4f2a9c"
		expires := time.Now().Add(10 * time.Minute)

		if err := store.ConsumeState(ctx, state, expires); err != nil {
			t.Fatalf("first ConsumeState: %v", err)
		}

		err = store.ConsumeState(ctx, state, expires)
		if !errors.Is(err, vault.ErrStateUsed) {
			t.Fatalf("second ConsumeState error = %v, want ErrStateUsed", err)
		}
		if strings.Contains(err.Error(), state) {
			t.Errorf("error contains the state: %q", err)
		}

		if err := second.ConsumeState(ctx, state, expires); !errors.Is(err, vault.ErrStateUsed) {
			t.Errorf("ConsumeState from a second store error = %v, want ErrStateUsed", err)
		}

		if err := second.ConsumeState(ctx, "another-state", expires); err != nil {
			t.Errorf("ConsumeState of another state: %v", err)
		}
		if err := store.ConsumeState(ctx, "", expires); err == nil {
			t.Error("ConsumeState of an empty state succeeded, want error")
		}
	})

	t.Run("consume state racing", func(t *testing.T) {
		store, _ := newStore(t, addr, token)
		const racers = 4
		results := make(chan error, racers)
		for range racers {
			go func() {
				results <- store.ConsumeState(ctx, "raced-state", time.Now().Add(time.Minute))
			}()
		}

		var won, used int
		for range racers {
			err := <-results
			switch {
			case err == nil:
				won++
			case errors.Is(err, vault.ErrStateUsed):
				used++
			default:
				t.Errorf("ConsumeState: %v", err)
			}
		}
		if won != 1 || used != racers-1 {
			t.Errorf("%d consumers won and %d saw the state used, want 1 and %d", won, used, racers-1)
		}
	})

	t.Run("list and delete", func(t *testing.T) {
		store, _ := newStore(t, addr, token)
		for _, owner := range []string{"user@example.com", "17841400000000001", "b.owner"} {
			k := vault.Key{App: "instagram", Tenant: "acme", Owner: owner}
			if _, err := store.Put(ctx, k, sampleAccount(), 0); err != nil {
				t.Fatalf("Put %s: %v", owner, err)
			}
		}
		other := vault.Key{App: "instagram", Tenant: "other", Owner: "x"}
		if _, err := store.Put(ctx, other, sampleAccount(), 0); err != nil {
			t.Fatalf("Put: %v", err)
		}

		owners, err := store.List(ctx, "instagram", "acme")
		if err != nil {
			t.Fatalf("List: %v", err)
		}
		if want := []string{"17841400000000001", "b.owner", "user@example.com"}; !slices.Equal(owners, want) {
			t.Errorf("List = %q, want %q", owners, want)
		}

		if err := store.Delete(ctx, key); err != nil {
			t.Fatalf("Delete: %v", err)
		}
		if _, version, err := store.Get(ctx, key); !errors.Is(err, vault.ErrNotFound) || version != 0 {
			t.Errorf("Get after Delete = version %d, error %v, want version 0 and ErrNotFound", version, err)
		}
		if _, err := store.Put(ctx, key, sampleAccount(), 0); err != nil {
			t.Errorf("Put with version 0 after Delete: %v", err)
		}

		if err := store.Delete(ctx, vault.Key{App: "instagram", Tenant: "acme", Owner: "never-linked"}); err != nil {
			t.Errorf("Delete of a missing record: %v", err)
		}

		empty, err := store.List(ctx, "instagram", "no-such-tenant")
		if err != nil {
			t.Fatalf("List of an empty tenant: %v", err)
		}
		if empty == nil || len(empty) != 0 {
			t.Errorf("List of an empty tenant = %#v, want an empty slice", empty)
		}

		if _, err := store.List(ctx, "instagram", "../acme"); err == nil {
			t.Error("List with invalid tenant succeeded, want error")
		}
	})

	// The policy documented on Config.Token must be enough for every method.
	t.Run("documented policy", func(t *testing.T) {
		_, cfg := newStore(t, addr, token)
		policy := fmt.Sprintf(`
path "secret/data/%[1]s/*" { capabilities = ["create", "read", "update"] }
path "secret/metadata/%[1]s/*" { capabilities = ["list", "delete"] }
`, cfg.Prefix)
		if err := raw.Sys().PutPolicyWithContext(ctx, "credgate-test", policy); err != nil {
			t.Fatalf("write policy: %v", err)
		}
		created, err := raw.Auth().Token().CreateWithContext(ctx, &api.TokenCreateRequest{
			Policies:        []string{"credgate-test"},
			NoDefaultPolicy: true,
		})
		if err != nil {
			t.Fatalf("create token: %v", err)
		}
		cfg.Token = created.Auth.ClientToken
		store, err := vault.New(cfg)
		if err != nil {
			t.Fatalf("New: %v", err)
		}

		if _, err := store.Put(ctx, key, sampleAccount(), 0); err != nil {
			t.Errorf("Put: %v", err)
		}
		if _, _, err := store.Get(ctx, key); err != nil {
			t.Errorf("Get: %v", err)
		}
		_, err = store.Update(ctx, key, func(cur *vault.Account) (*vault.Account, error) {
			cur.Username = "updated"
			return cur, nil
		})
		if err != nil {
			t.Errorf("Update: %v", err)
		}
		if err := store.ConsumeState(ctx, "state-with-policy", time.Now()); err != nil {
			t.Errorf("ConsumeState: %v", err)
		}
		if err := store.ConsumeState(ctx, "state-with-policy", time.Now()); !errors.Is(err, vault.ErrStateUsed) {
			t.Errorf("second ConsumeState error = %v, want ErrStateUsed", err)
		}
		if owners, err := store.List(ctx, "instagram", "acme"); err != nil || len(owners) != 1 {
			t.Errorf("List = %q, %v, want one owner", owners, err)
		}
		if err := store.Delete(ctx, key); err != nil {
			t.Errorf("Delete: %v", err)
		}

		// a path outside the prefix is rejected
		other, err := vault.New(vault.Config{Address: addr, Token: cfg.Token, Prefix: "elsewhere"})
		if err != nil {
			t.Fatalf("New: %v", err)
		}
		_, _, err = other.Get(ctx, key)
		assertTokenRejected(t, err)
	})

	t.Run("wrong token", func(t *testing.T) {
		const wrongToken = "hvs.wrong-token-for-test"
		store, _ := newStore(t, addr, wrongToken)

		_, _, err := store.Get(ctx, key)
		assertTokenRejected(t, err)
		assertNoSecret(t, err, wrongToken)
		assertNoSecret(t, err, token)

		_, err = store.Put(ctx, key, sampleAccount(), 0)
		assertTokenRejected(t, err)
		assertNoSecret(t, err, wrongToken)

		err = store.ConsumeState(ctx, "state-for-wrong-token", time.Now())
		assertTokenRejected(t, err)
		assertNoSecret(t, err, wrongToken)
	})

	// The Vault client library reads VAULT_TOKEN and VAULT_ADDR by itself,
	// which would let a stray variable in the gateway's environment decide
	// which token and server are used.
	t.Run("environment ignored", func(t *testing.T) {
		t.Setenv("VAULT_TOKEN", token)
		t.Setenv("VAULT_ADDR", addr)

		store, _ := newStore(t, addr, "")
		_, _, err := store.Get(ctx, key)
		assertTokenRejected(t, err)
		assertNoSecret(t, err, token)

		down, _ := newStore(t, fmt.Sprintf("http://127.0.0.1:%d", testenv.FreePort(t)), token)
		_, _, err = down.Get(ctx, key)
		if !errors.Is(err, vault.ErrUnavailable) {
			t.Errorf("Get with Config.Address down and VAULT_ADDR up error = %v, want ErrUnavailable", err)
		}
	})

	t.Run("missing mount", func(t *testing.T) {
		store, _ := newStore(t, addr, token, func(cfg *vault.Config) { cfg.Mount = "no-such-mount" })

		_, err := store.Put(ctx, key, sampleAccount(), 0)
		if err == nil {
			t.Fatal("Put succeeded, want error")
		}
		if !strings.Contains(err.Error(), "404") {
			t.Errorf("error = %q, want it to report status 404", err)
		}
		assertNoSecret(t, err, token)

		// the marker name is derived from the state, so it stays out of errors
		const state = "state-for-missing-mount"
		err = store.ConsumeState(ctx, state, time.Now())
		if err == nil {
			t.Fatal("ConsumeState succeeded, want error")
		}
		digest := sha256.Sum256([]byte(state))
		if text := err.Error(); strings.Contains(text, state) || strings.Contains(text, hex.EncodeToString(digest[:])) {
			t.Errorf("error contains the state or its digest: %q", err)
		}
	})
}

func TestStoreVaultDown(t *testing.T) {
	addr := fmt.Sprintf("http://127.0.0.1:%d", testenv.FreePort(t))
	const timeout = 2 * time.Second
	store, err := vault.New(vault.Config{Address: addr, Token: "test-token", Timeout: timeout})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	ctx := context.Background()
	key := vault.Key{App: "instagram", Tenant: "acme", Owner: "o"}

	calls := map[string]func() error{
		"get": func() error {
			_, _, err := store.Get(ctx, key)
			return err
		},
		"put": func() error {
			_, err := store.Put(ctx, key, sampleAccount(), 0)
			return err
		},
		"update": func() error {
			_, err := store.Update(ctx, key, func(cur *vault.Account) (*vault.Account, error) {
				return sampleAccount(), nil
			})
			return err
		},
		"consume state": func() error { return store.ConsumeState(ctx, "state", time.Now()) },
		"list": func() error {
			_, err := store.List(ctx, "instagram", "acme")
			return err
		},
		"delete": func() error { return store.Delete(ctx, key) },
	}
	for name, call := range calls {
		t.Run(name, func(t *testing.T) {
			start := time.Now()
			err := call()
			elapsed := time.Since(start)

			if !errors.Is(err, vault.ErrUnavailable) {
				t.Errorf("error = %v, want ErrUnavailable", err)
			}
			if elapsed > timeout+time.Second {
				t.Errorf("call took %s, want at most the timeout of %s", elapsed.Round(time.Millisecond), timeout)
			}
			assertNoSecret(t, err, "test-token")
		})
	}
}

// TestStoreVaultHangs covers a server that accepts connections but never
// responds, so only the timeout ends the request.
func TestStoreVaultHangs(t *testing.T) {
	listener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}

	// accept connections and keep them open without responding
	var (
		mu    sync.Mutex
		conns []net.Conn
	)
	acceptDone := make(chan struct{})
	go func() {
		defer close(acceptDone)
		for {
			conn, err := listener.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, conn)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		listener.Close()
		<-acceptDone
		for _, conn := range conns {
			conn.Close()
		}
	})

	const timeout = 500 * time.Millisecond
	store, err := vault.New(vault.Config{Address: "http://" + listener.Addr().String(), Timeout: timeout})
	if err != nil {
		t.Fatalf("New: %v", err)
	}

	start := time.Now()
	_, _, err = store.Get(context.Background(), vault.Key{App: "instagram", Tenant: "acme", Owner: "o"})
	elapsed := time.Since(start)

	if !errors.Is(err, vault.ErrUnavailable) {
		t.Errorf("Get error = %v, want ErrUnavailable", err)
	}
	if !strings.Contains(fmt.Sprint(err), "timed out") {
		t.Errorf("Get error = %v, want it to say that the request timed out", err)
	}
	if elapsed > timeout+time.Second {
		t.Errorf("Get took %s, want about the timeout of %s", elapsed.Round(time.Millisecond), timeout)
	}
}

// newStore returns a store with a prefix of its own for the running test,
// and its config. Options change the config before the store is built.
func newStore(t *testing.T, addr, token string, options ...func(*vault.Config)) (*vault.Store, vault.Config) {
	t.Helper()

	cfg := vault.Config{
		Address: addr,
		Token:   token,
		Prefix:  "test/" + regexp.MustCompile(`[^A-Za-z0-9._-]+`).ReplaceAllString(t.Name(), "-"),
		Timeout: 5 * time.Second,
	}
	for _, option := range options {
		option(&cfg)
	}

	store, err := vault.New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return store, cfg
}

// newRawClient returns a plain Vault client, to read and write records
// around the store.
func newRawClient(t *testing.T, addr, token string) *api.Client {
	t.Helper()

	client, err := api.NewClient(&api.Config{Address: addr})
	if err != nil {
		t.Fatalf("create raw vault client: %v", err)
	}
	client.SetToken(token)
	return client
}

func assertAccountEqual(t *testing.T, got, want *vault.Account) {
	t.Helper()

	if got == nil {
		t.Fatal("account is nil")
	}
	if got.AccessToken != want.AccessToken {
		t.Error("AccessToken differs")
	}
	if got.TokenType != want.TokenType {
		t.Errorf("TokenType = %q, want %q", got.TokenType, want.TokenType)
	}
	if got.UserID != want.UserID {
		t.Errorf("UserID = %q, want %q", got.UserID, want.UserID)
	}
	if got.Username != want.Username {
		t.Errorf("Username = %q, want %q", got.Username, want.Username)
	}
	if !slices.Equal(got.Scopes, want.Scopes) || got.Scopes == nil {
		t.Errorf("Scopes = %#v, want %#v", got.Scopes, want.Scopes)
	}
	if got.Status != want.Status {
		t.Errorf("Status = %q, want %q", got.Status, want.Status)
	}
	if got.StatusReason != want.StatusReason {
		t.Errorf("StatusReason = %q, want %q", got.StatusReason, want.StatusReason)
	}

	times := []struct {
		name      string
		got, want time.Time
	}{
		{"ExpiresAt", got.ExpiresAt, want.ExpiresAt},
		{"IssuedAt", got.IssuedAt, want.IssuedAt},
		{"LinkedAt", got.LinkedAt, want.LinkedAt},
		{"RefreshedAt", got.RefreshedAt, want.RefreshedAt},
	}
	for _, tt := range times {
		if !tt.got.Equal(tt.want) {
			t.Errorf("%s = %s, want %s", tt.name, tt.got.Format(time.RFC3339Nano), tt.want.Format(time.RFC3339Nano))
		}
		if !tt.got.IsZero() && tt.got.Location() != time.UTC {
			t.Errorf("%s is in %s, want UTC", tt.name, tt.got.Location())
		}
	}
}

func assertTokenRejected(t *testing.T, err error) {
	t.Helper()

	if !errors.Is(err, vault.ErrUnavailable) {
		t.Errorf("error = %v, want ErrUnavailable", err)
		return
	}
	if !strings.Contains(err.Error(), "rejected the token") || !strings.Contains(err.Error(), "policy") {
		t.Errorf("error = %q, want it to say that the token was rejected and to check the token and its policy", err)
	}
}

// assertNoSecret fails when the error text contains the stored access token
// or the given Vault token.
func assertNoSecret(t *testing.T, err error, vaultToken string) {
	t.Helper()

	if err == nil {
		return
	}
	if strings.Contains(err.Error(), accessToken) {
		t.Errorf("error contains the access token: %q", err)
	}
	if vaultToken != "" && strings.Contains(err.Error(), vaultToken) {
		t.Errorf("error contains the Vault token: %q", err)
	}
}

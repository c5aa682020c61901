package caddymodule

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"

	"github.com/credgate/credgate/apps"
	"github.com/credgate/credgate/gateway"
	"github.com/credgate/credgate/oauthflow"
)

func TestGlobalOptionRefreshInterval(t *testing.T) {
	tests := []struct {
		input        string
		wantInterval time.Duration
		wantDisabled bool
	}{
		{input: "refresh_interval 30m", wantInterval: 30 * time.Minute},
		{input: "refresh_interval 1d", wantInterval: 24 * time.Hour},
		{input: "refresh_interval off", wantDisabled: true},
	}
	for _, tt := range tests {
		t.Run(tt.input, func(t *testing.T) {
			var app App
			err := app.UnmarshalCaddyfile(caddyfile.NewTestDispenser("credgate {\n\t\t" + tt.input + "\n\t}"))

			if err != nil {
				t.Fatalf("UnmarshalCaddyfile: %v", err)
			}
			if got := time.Duration(app.RefreshInterval); got != tt.wantInterval {
				t.Errorf("refresh_interval = %s, want %s", got, tt.wantInterval)
			}
			if app.DisableBackgroundRefresh != tt.wantDisabled {
				t.Errorf("disable_background_refresh = %t, want %t", app.DisableBackgroundRefresh, tt.wantDisabled)
			}
		})
	}
}

func TestGlobalOptionRefreshIntervalErrors(t *testing.T) {
	tests := []struct {
		input    string
		wantText []string
	}{
		{input: "refresh_interval soon", wantText: []string{"refresh_interval", `"soon"`, "Testfile:2"}},
		{input: "refresh_interval 0s", wantText: []string{"refresh_interval", `"0s"`, "positive"}},
		{input: "refresh_interval -1h", wantText: []string{"refresh_interval", `"-1h"`}},
		{input: "refresh_interval", wantText: []string{"wrong argument count"}},
		{input: "refresh_interval 1h 2h", wantText: []string{"wrong argument count"}},
		{input: "refresh_interval off 1h", wantText: []string{"wrong argument count"}},
	}
	for _, tt := range tests {
		t.Run(tt.input, func(t *testing.T) {
			var app App
			err := app.UnmarshalCaddyfile(caddyfile.NewTestDispenser("credgate {\n\t\t" + tt.input + "\n\t}"))

			if err == nil {
				t.Fatal("UnmarshalCaddyfile returned no error")
			}
			for _, text := range tt.wantText {
				if !strings.Contains(err.Error(), text) {
					t.Errorf("error %q does not contain %q", err, text)
				}
			}
		})
	}
}

func TestAppProvisionRefreshInterval(t *testing.T) {
	app := &App{
		Vault:    &VaultConfig{Address: freeLoopbackAddress(t), Token: testVaultToken},
		StateKey: testStateKey,
	}
	if err := app.Provision(newCaddyContext(t)); err != nil {
		t.Fatalf("Provision: %v", err)
	}
	if got := time.Duration(app.RefreshInterval); got != time.Hour {
		t.Errorf("default refresh_interval = %s, want 1h", got)
	}

	negative := &App{
		Vault:           &VaultConfig{Address: freeLoopbackAddress(t), Token: testVaultToken},
		StateKey:        testStateKey,
		RefreshInterval: caddy.Duration(-time.Minute),
	}
	err := negative.Provision(newCaddyContext(t))
	if err == nil || !strings.Contains(err.Error(), "refresh_interval") {
		t.Errorf("Provision with a negative refresh_interval = %v, want an error naming it", err)
	}
}

// newSweepGateway builds a gateway on the app's store and signer, for the
// background refresh to sweep. Its provider is never called, because the
// store has no accounts.
func newSweepGateway(t *testing.T, app *App) *gateway.Gateway {
	t.Helper()

	instagram, err := apps.Load("instagram")
	if err != nil {
		t.Fatalf("loading the instagram app: %v", err)
	}
	g, err := gateway.New(gateway.Config{
		App:      instagram,
		Provider: &oauthflow.Provider{Name: instagram.DisplayName},
		Store:    app.store,
		States:   app.states,
		Upstream: func(http.ResponseWriter, *http.Request) error { return nil },
		Accounts: func(*http.Request) (string, string) { return "", "" },
	})
	if err != nil {
		t.Fatalf("gateway.New: %v", err)
	}
	return g
}

// waitForRequests polls until fake has at least n requests or the timeout
// passes, and returns the count.
func waitForRequests(fake *fakeVault, n int, timeout time.Duration) int {
	deadline := time.Now().Add(timeout)
	for {
		count := len(fake.recorded())
		if count >= n || time.Now().After(deadline) {
			return count
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestAppBackgroundRefreshSweeps(t *testing.T) {
	fake := newFakeVault(t)
	app := &App{
		Vault:           &VaultConfig{Address: fake.URL, Token: testVaultToken},
		StateKey:        testStateKey,
		RefreshInterval: caddy.Duration(20 * time.Millisecond),
	}
	if err := app.Provision(newCaddyContext(t)); err != nil {
		t.Fatalf("Provision: %v", err)
	}
	app.register(newSweepGateway(t, app))

	if err := app.Start(); err != nil {
		t.Fatalf("Start: %v", err)
	}
	count := waitForRequests(fake, 2, 5*time.Second)
	stopped := make(chan error, 1)
	go func() { stopped <- app.Stop() }()

	select {
	case err := <-stopped:
		if err != nil {
			t.Errorf("Stop: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Stop did not return within 5s")
	}
	if count < 2 {
		t.Fatalf("Vault requests = %d, want at least 2 sweeps", count)
	}
	request := fake.recorded()[0]
	if request.Method != "LIST" && request.URL.Query().Get("list") != "true" {
		t.Errorf("first sweep request is %s %s, want a list", request.Method, request.URL)
	}
	if got, want := request.URL.Path, "/v1/secret/metadata/credgate/instagram"; got != want {
		t.Errorf("sweep listed %q, want %q", got, want)
	}

	// no sweep runs once Stop returned
	after := len(fake.recorded())
	time.Sleep(100 * time.Millisecond)
	if n := len(fake.recorded()); n != after {
		t.Errorf("Vault requests went from %d to %d after Stop", after, n)
	}
}

func TestAppBackgroundRefreshSkipsUnregistered(t *testing.T) {
	fake := newFakeVault(t)
	app := &App{
		Vault:           &VaultConfig{Address: fake.URL, Token: testVaultToken},
		StateKey:        testStateKey,
		RefreshInterval: caddy.Duration(10 * time.Millisecond),
	}
	if err := app.Provision(newCaddyContext(t)); err != nil {
		t.Fatalf("Provision: %v", err)
	}
	g := newSweepGateway(t, app)
	app.register(g)
	app.unregister(g)

	if err := app.Start(); err != nil {
		t.Fatalf("Start: %v", err)
	}
	time.Sleep(100 * time.Millisecond)
	if err := app.Stop(); err != nil {
		t.Errorf("Stop: %v", err)
	}

	if n := len(fake.recorded()); n != 0 {
		t.Errorf("Vault requests = %d, want 0 without registered handlers", n)
	}
}

func TestAppBackgroundRefreshDisabled(t *testing.T) {
	fake := newFakeVault(t)
	app := &App{
		Vault:                    &VaultConfig{Address: fake.URL, Token: testVaultToken},
		StateKey:                 testStateKey,
		RefreshInterval:          caddy.Duration(10 * time.Millisecond),
		DisableBackgroundRefresh: true,
	}
	if err := app.Provision(newCaddyContext(t)); err != nil {
		t.Fatalf("Provision: %v", err)
	}
	app.register(newSweepGateway(t, app))

	if err := app.Start(); err != nil {
		t.Fatalf("Start: %v", err)
	}
	time.Sleep(100 * time.Millisecond)
	if err := app.Stop(); err != nil {
		t.Errorf("Stop: %v", err)
	}

	if n := len(fake.recorded()); n != 0 {
		t.Errorf("Vault requests = %d, want 0 with the background refresh off", n)
	}
}

func TestAppStopWithoutStart(t *testing.T) {
	app := &App{}

	if err := app.Stop(); err != nil {
		t.Errorf("Stop before Start: %v", err)
	}
}

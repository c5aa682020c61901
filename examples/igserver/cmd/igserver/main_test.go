package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestCheckLoopback(t *testing.T) {
	tests := []struct {
		addr    string
		wantErr bool
	}{
		{"127.0.0.1:9090", false},
		{"127.0.0.2:9090", false},
		{"[::1]:9090", false},
		{"localhost:0", false},
		{"0.0.0.0:9090", true},
		{":9090", true},
		{"[::]:9090", true},
		{"192.0.2.1:9090", true},
		{"example.com:80", true},
		{"127.0.0.1", true},
	}

	for _, tt := range tests {
		t.Run(tt.addr, func(t *testing.T) {
			err := checkLoopback(tt.addr)
			if (err != nil) != tt.wantErr {
				t.Errorf("checkLoopback(%q) = %v, want error %v", tt.addr, err, tt.wantErr)
			}
		})
	}
}

func TestRunRejectsInvalidFlags(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"all interfaces", []string{"-listen", "0.0.0.0:0"}, "loopback"},
		{"no host", []string{"-listen", ":0"}, "loopback"},
		{"token shape", []string{"-listen", "127.0.0.1:0", "-token-shape", "nested"}, "invalid -token-shape"},
		{"extra argument", []string{"serve"}, "unexpected argument"},
		{"unknown flag", []string{"-port", "9090"}, "flag provided but not defined"},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr strings.Builder
			err := run(context.Background(), tt.args, &stdout, &stderr, noEnv)

			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("run error = %v, want one containing %q", err, tt.want)
			}
			if stdout.Len() != 0 {
				t.Errorf("stdout = %q, want nothing", stdout.String())
			}
		})
	}
}

func TestRunServesAndStops(t *testing.T) {
	const secret = "env-secret-value"
	env := map[string]string{"INSTAGRAM_CLIENT_ID": "env-client", "INSTAGRAM_CLIENT_SECRET": secret}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	// start the server and read the address it announces
	stdoutReader, stdoutWriter := io.Pipe()
	var stderr lockedBuffer
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"-listen", "127.0.0.1:0", "-auto-approve"}, stdoutWriter, &stderr,
			func(key string) string { return env[key] })
		_ = stdoutWriter.Close()
	}()
	line, err := bufio.NewReader(stdoutReader).ReadString('\n')
	if err != nil {
		t.Fatalf("read announcement: %v (stderr: %s)", err, stderr.String())
	}
	base, ok := strings.CutPrefix(strings.TrimSpace(line), "igserver listening on ")
	if !ok || !strings.HasPrefix(base, "http://127.0.0.1:") {
		t.Fatalf("announcement = %q", line)
	}
	go func() { _, _ = io.Copy(io.Discard, stdoutReader) }()

	// log in with the client registration from the environment
	client := &http.Client{
		Timeout:       5 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	authorize := url.Values{
		"client_id": {"env-client"}, "redirect_uri": {"http://127.0.0.1:1/cb"},
		"response_type": {"code"}, "scope": {"instagram_business_basic"}, "state": {"state-value-9f3"},
	}
	resp, err := client.Get(base + "/oauth/authorize?" + authorize.Encode())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	location, err := url.Parse(resp.Header.Get("Location"))
	if err != nil || location.Query().Get("code") == "" {
		t.Fatalf("authorize: status %d, Location %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	code := location.Query().Get("code")

	resp, err = client.PostForm(base+"/oauth/access_token", url.Values{
		"client_id": {"env-client"}, "client_secret": {secret}, "grant_type": {"authorization_code"},
		"redirect_uri": {"http://127.0.0.1:1/cb"}, "code": {code},
	})
	if err != nil {
		t.Fatal(err)
	}
	var reply struct {
		AccessToken string `json:"access_token"`
	}
	err = json.NewDecoder(resp.Body).Decode(&reply)
	resp.Body.Close()
	if err != nil || reply.AccessToken == "" {
		t.Fatalf("code exchange: status %d, error %v", resp.StatusCode, err)
	}

	resp, err = client.Get(base + "/v23.0/me?fields=username&access_token=" + url.QueryEscape(reply.AccessToken))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("GET /me: status %d, want 200", resp.StatusCode)
	}

	// stop, then check the log
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("run returned %v, want nil after cancel", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("run did not return after cancel")
	}

	logs := stderr.String()
	for _, want := range []string{"igserver started", "path=/v23.0/me", "igserver stopped"} {
		if !strings.Contains(logs, want) {
			t.Errorf("log does not contain %q:\n%s", want, logs)
		}
	}
	for name, secretValue := range map[string]string{"client secret": secret, "code": code, "token": reply.AccessToken, "state": "state-value-9f3"} {
		if strings.Contains(logs, secretValue) {
			t.Errorf("log contains the %s:\n%s", name, logs)
		}
	}
}

func TestHelpHidesSecret(t *testing.T) {
	var stdout, stderr strings.Builder
	env := func(key string) string {
		if key == "INSTAGRAM_CLIENT_SECRET" {
			return "env-secret-value"
		}
		return ""
	}

	_ = run(context.Background(), []string{"-h"}, &stdout, &stderr, env)

	if !strings.Contains(stderr.String(), "-client-secret") {
		t.Fatalf("help output lacks -client-secret:\n%s", stderr.String())
	}
	if strings.Contains(stderr.String(), "env-secret-value") {
		t.Errorf("help output shows the secret from the environment:\n%s", stderr.String())
	}
}

func noEnv(string) string { return "" }

// lockedBuffer is a strings.Builder safe for the server's concurrent log
// writes.
type lockedBuffer struct {
	mu  sync.Mutex
	buf strings.Builder
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

package testenv

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// vaultStartTimeout bounds the wait for a dev server to become ready.
const vaultStartTimeout = 30 * time.Second

// maxStartAttempts bounds the restarts after a port was taken between
// choosing it and vault binding it.
const maxStartAttempts = 3

// logTailLines is how many lines of vault output a failure message shows.
const logTailLines = 40

// errPortTaken means vault could not bind its ports, so another attempt with
// other ports may succeed.
var errPortTaken = errors.New("port already in use")

// StartVault starts "vault server -dev" on a free port of 127.0.0.1 with a
// random root token, waits until it is unsealed and the KV version 2 engine
// at "secret/" responds, and stops it in t.Cleanup. It returns the address
// ("http://127.0.0.1:PORT") and the root token.
//
// Without a vault binary (see VaultBinary) it calls t.Skip, unless the
// environment variable CI is non-empty: then it calls t.Fatal, so that CI
// never skips these tests silently.
func StartVault(t testing.TB) (addr, token string) {
	t.Helper()
	addr, token, _ = startVaultServer(t, false)
	return addr, token
}

// StartVaultTLS is StartVault with the dev server on HTTPS (-dev-tls). The
// server makes a CA of its own, whose PEM file path it returns as caFile.
func StartVaultTLS(t testing.TB) (addr, token, caFile string) {
	t.Helper()
	return startVaultServer(t, true)
}

func startVaultServer(t testing.TB, useTLS bool) (addr, token, caFile string) {
	t.Helper()

	bin, err := VaultBinary()
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("vault binary required when CI is set: %v", err)
		}
		t.Skipf("skipping test that needs a Vault server: %v", err)
	}

	token, err = randomToken()
	if err != nil {
		t.Fatalf("generate vault root token: %v", err)
	}

	for attempt := 1; ; attempt++ {
		addr, caFile, err = startVault(t, bin, token, useTLS)
		if err == nil {
			return addr, token, caFile
		}
		if !errors.Is(err, errPortTaken) || attempt == maxStartAttempts {
			t.Fatalf("start vault dev server (attempt %d of %d): %v", attempt, maxStartAttempts, err)
		}
		t.Logf("vault dev server could not bind its port, retrying with another: %v", err)
	}
}

// startVault runs one dev server and waits until it is ready. With useTLS it
// serves HTTPS and caFile is the path of its CA certificate. On failure the
// error contains the tail of the server's output.
func startVault(t testing.TB, bin, token string, useTLS bool) (addr, caFile string, err error) {
	port, err := vaultPort()
	if err != nil {
		return "", "", err
	}
	addr = fmt.Sprintf("http://127.0.0.1:%d", port)

	// prepare a home folder and the output file
	dir := t.TempDir()
	home := filepath.Join(dir, "home")
	if err := os.Mkdir(home, 0o700); err != nil {
		return "", "", fmt.Errorf("create home folder: %w", err)
	}
	logPath := filepath.Join(dir, "vault.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		return "", "", fmt.Errorf("create vault output file: %w", err)
	}

	// start the server in its own process group, with a clean environment
	args := []string{"server", "-dev",
		fmt.Sprintf("-dev-listen-address=127.0.0.1:%d", port),
		"-dev-no-store-token",
	}
	if useTLS {
		addr = fmt.Sprintf("https://127.0.0.1:%d", port)
		caFile = filepath.Join(dir, "vault-ca.pem")
		args = append(args, "-dev-tls", "-dev-tls-cert-dir="+dir)
	}
	cmd := exec.Command(bin, args...)
	// the root token goes through the environment, which ps does not show
	cmd.Env = append(childEnv(home), "VAULT_DEV_ROOT_TOKEN_ID="+token)
	cmd.Dir = dir
	cmd.Stdout = logFile
	cmd.Stderr = logFile
	setProcessGroup(cmd)

	if err := cmd.Start(); err != nil {
		logFile.Close()
		return "", "", fmt.Errorf("run %s: %w", bin, err)
	}

	proc := &process{cmd: cmd, done: make(chan struct{})}
	go func() {
		proc.waitErr = cmd.Wait()
		logFile.Close()
		close(proc.done)
	}()
	stop := proc.stopFunc(t)
	t.Cleanup(stop)

	// wait until the server and its KV engine respond
	ctx, cancel := context.WithTimeout(context.Background(), vaultStartTimeout)
	defer cancel()

	if err := waitForVault(ctx, addr, token, caFile, proc); err != nil {
		stop()
		tail := logTail(logPath, token)
		if strings.Contains(tail, "address already in use") {
			err = fmt.Errorf("%w: %w", errPortTaken, err)
		}
		return "", "", fmt.Errorf("vault at %s not ready: %w\n--- last lines of vault output ---\n%s", addr, err, tail)
	}
	return addr, caFile, nil
}

// vaultPort returns a free port whose next port is free too, because a dev
// server also binds a cluster listener on the API port plus one.
func vaultPort() (int, error) {
	for range 20 {
		port, err := freePort()
		if err != nil {
			return 0, err
		}
		if port < 65535 && isPortFree(port+1) {
			return port, nil
		}
	}
	return 0, fmt.Errorf("find two adjacent free ports on 127.0.0.1: %w", errPortTaken)
}

// childEnv returns the environment of the vault process: no VAULT_*
// variables and nothing else of the test's environment but PATH and TMPDIR.
func childEnv(home string) []string {
	env := []string{"HOME=" + home}
	for _, name := range []string{"PATH", "TMPDIR"} {
		if value, ok := os.LookupEnv(name); ok {
			env = append(env, name+"="+value)
		}
	}
	return env
}

// process is a started vault server.
type process struct {
	cmd *exec.Cmd

	// done is closed when the process has exited, and waitErr is then the
	// result of cmd.Wait.
	done    chan struct{}
	waitErr error
}

// stopFunc returns a function that kills the process group once and waits
// for the process to exit.
func (p *process) stopFunc(t testing.TB) func() {
	var once sync.Once
	return func() {
		once.Do(func() {
			// the group may outlive its leader, so it is killed in any case
			err := killProcessGroup(p.cmd)
			if err != nil && !p.exited() {
				t.Logf("kill vault process group %d: %v", p.cmd.Process.Pid, err)
			}

			select {
			case <-p.done:
			case <-time.After(10 * time.Second):
				t.Logf("vault process %d did not exit within 10s of being killed", p.cmd.Process.Pid)
			}
		})
	}
}

func (p *process) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// waitForVault polls the server until it is unsealed and active and the KV
// version 2 engine at "secret/" responds.
func waitForVault(ctx context.Context, addr, token, caFile string, proc *process) error {
	ticker := time.NewTicker(100 * time.Millisecond)
	defer ticker.Stop()

	lastErr := errors.New("no response yet")
	for {
		client, err := probeClient(caFile)
		if err != nil {
			lastErr = err
		} else {
			lastErr = probeVault(ctx, client, addr, token, lastErr)
		}
		if lastErr == nil {
			return nil
		}

		select {
		case <-proc.done:
			return fmt.Errorf("vault exited early (%v), last check: %w", proc.waitErr, lastErr)
		case <-ctx.Done():
			return fmt.Errorf("timed out after %s, last check: %w", vaultStartTimeout, lastErr)
		case <-ticker.C:
		}
	}
}

// probeClient returns the HTTP client for readiness checks, trusting caFile
// when it is set. A TLS dev server writes its CA file only once it starts,
// so a missing file is an error to retry.
func probeClient(caFile string) (*http.Client, error) {
	client := &http.Client{Timeout: 2 * time.Second}
	if caFile == "" {
		return client, nil
	}
	pem, err := os.ReadFile(caFile)
	if err != nil {
		return nil, fmt.Errorf("CA file not written yet: %w", err)
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("CA file %s has no certificate yet", caFile)
	}
	client.Transport = &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12}}
	return client, nil
}

// probeVault runs the readiness checks once. It returns previous unchanged
// when the server does not respond at all yet, so that the reported cause is
// the most informative one.
func probeVault(ctx context.Context, client *http.Client, addr, token string, previous error) error {
	// sys/health returns 200 only when initialized, unsealed and active
	status, _, err := getVault(ctx, client, addr+"/v1/sys/health", "")
	if err != nil {
		return previous
	}
	if status != http.StatusOK {
		return fmt.Errorf("sys/health returned status %d", status)
	}

	// the mount table must list secret/ as KV version 2
	status, body, err := getVault(ctx, client, addr+"/v1/sys/mounts/secret", token)
	if err != nil {
		return err
	}
	if status != http.StatusOK {
		return fmt.Errorf("sys/mounts/secret returned status %d", status)
	}
	var mount struct {
		Data struct {
			Type    string            `json:"type"`
			Options map[string]string `json:"options"`
		} `json:"data"`
	}
	if err := json.Unmarshal(body, &mount); err != nil {
		return fmt.Errorf("decode sys/mounts/secret: %w", err)
	}
	if mount.Data.Type != "kv" || mount.Data.Options["version"] != "2" {
		return fmt.Errorf("secret/ is %q version %q, not kv version 2", mount.Data.Type, mount.Data.Options["version"])
	}

	// the engine itself must respond
	status, _, err = getVault(ctx, client, addr+"/v1/secret/config", token)
	if err != nil {
		return err
	}
	if status != http.StatusOK {
		return fmt.Errorf("secret/config returned status %d", status)
	}
	return nil
}

func getVault(ctx context.Context, client *http.Client, url, token string) (int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, nil, err
	}
	if token != "" {
		req.Header.Set("X-Vault-Token", token)
	}

	resp, err := client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()

	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, nil, fmt.Errorf("read %s: %w", url, err)
	}
	return resp.StatusCode, body, nil
}

// logTail returns the last lines of the vault output, without the root token
// and the unseal key that a dev server prints.
func logTail(path, token string) string {
	content, err := os.ReadFile(path)
	if err != nil {
		return fmt.Sprintf("(cannot read %s: %v)", path, err)
	}

	lines := strings.Split(strings.TrimRight(string(content), "\n"), "\n")
	if len(lines) > logTailLines {
		lines = lines[len(lines)-logTailLines:]
	}
	for i, line := range lines {
		if strings.Contains(line, "Unseal Key") {
			lines[i] = "Unseal Key: [redacted]"
			continue
		}
		lines[i] = strings.ReplaceAll(line, token, "[redacted]")
	}
	return strings.Join(lines, "\n")
}

func randomToken() (string, error) {
	random := make([]byte, 16)
	if _, err := rand.Read(random); err != nil {
		return "", err
	}
	return "dev-root-" + hex.EncodeToString(random), nil
}

// Package testenv starts the real services that tests run against, such as a
// Vault dev server, and finds the files they need.
package testenv

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// modulePath is the module path in the go.mod of the repository root.
const modulePath = "github.com/credgate/credgate"

// VaultBinaryEnv names the environment variable that points to the vault
// binary used by the tests.
const VaultBinaryEnv = "CREDGATE_VAULT_BIN"

// VaultBinary finds the vault binary: $CREDGATE_VAULT_BIN, then vault on PATH,
// then <repo root>/bin/vault. A CREDGATE_VAULT_BIN that names no executable
// file is an error, not a reason to look further.
func VaultBinary() (string, error) {
	if path := os.Getenv(VaultBinaryEnv); path != "" {
		if err := checkExecutable(path); err != nil {
			return "", fmt.Errorf("%s: %w", VaultBinaryEnv, err)
		}
		return path, nil
	}

	if path, err := exec.LookPath("vault"); err == nil {
		return path, nil
	}

	root, err := RepoRoot()
	if err != nil {
		return "", fmt.Errorf("vault not found on PATH, and %w", err)
	}
	path := filepath.Join(root, "bin", "vault")
	if err := checkExecutable(path); err != nil {
		return "", fmt.Errorf("vault not found: set %s, put vault on PATH or build %s: %w", VaultBinaryEnv, path, err)
	}
	return path, nil
}

func checkExecutable(path string) error {
	info, err := os.Stat(path)
	if err != nil {
		return err
	}
	if info.IsDir() || info.Mode().Perm()&0o111 == 0 {
		return fmt.Errorf("%s is not an executable file", path)
	}
	return nil
}

// RepoRoot returns the repository root: the folder that contains the go.mod
// of github.com/credgate/credgate. It searches upwards from the working
// directory and then from this source file, so it also works for tests whose
// working directory is outside the repository.
func RepoRoot() (string, error) {
	var starts []string
	if wd, err := os.Getwd(); err == nil {
		starts = append(starts, wd)
	}
	if _, file, _, ok := runtime.Caller(0); ok {
		starts = append(starts, filepath.Dir(file))
	}

	for _, start := range starts {
		if root, ok := findModuleRoot(start); ok {
			return root, nil
		}
	}
	return "", fmt.Errorf("no go.mod of module %s found above %s", modulePath, strings.Join(starts, " or "))
}

// findModuleRoot walks up from dir to the folder whose go.mod declares
// modulePath. It skips the go.mod files of nested modules, such as tools.
func findModuleRoot(dir string) (string, bool) {
	for {
		if readModulePath(filepath.Join(dir, "go.mod")) == modulePath {
			return dir, true
		}

		parent := filepath.Dir(dir)
		if parent == dir {
			return "", false
		}
		dir = parent
	}
}

// readModulePath returns the module path declared in a go.mod file, or "" when
// the file is missing or declares none.
func readModulePath(goMod string) string {
	file, err := os.Open(goMod)
	if err != nil {
		return ""
	}
	defer file.Close()

	scanner := bufio.NewScanner(file)
	for scanner.Scan() {
		line := strings.TrimSpace(scanner.Text())
		rest, ok := strings.CutPrefix(line, "module")
		if !ok || rest == "" || (rest[0] != ' ' && rest[0] != '\t') {
			continue
		}

		rest, _, _ = strings.Cut(rest, "//")
		return strings.Trim(strings.TrimSpace(rest), `"`)
	}
	return ""
}

// FreePort returns a TCP port on 127.0.0.1 that was free when it was checked.
// Another process may take it before the caller binds it.
func FreePort(t testing.TB) int {
	t.Helper()

	port, err := freePort()
	if err != nil {
		t.Fatalf("find a free port: %v", err)
	}
	return port
}

func freePort() (int, error) {
	listener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("listen on 127.0.0.1: %w", err)
	}
	defer listener.Close()

	addr, ok := listener.Addr().(*net.TCPAddr)
	if !ok {
		return 0, errors.New("listener address is not a TCP address")
	}
	return addr.Port, nil
}

// isPortFree reports whether port on 127.0.0.1 can be bound right now.
func isPortFree(port int) bool {
	listener, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		return false
	}
	listener.Close()
	return true
}

//go:build !unix

package testenv

import "os/exec"

// setProcessGroup does nothing on systems without Unix process groups.
func setProcessGroup(*exec.Cmd) {}

// killProcessGroup kills only the process of cmd on systems without Unix
// process groups.
func killProcessGroup(cmd *exec.Cmd) error {
	return cmd.Process.Kill()
}

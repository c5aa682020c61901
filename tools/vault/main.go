// Command vault builds the HashiCorp Vault server from the Go module proxy,
// for tests and local runs on machines where no vault binary is installed.
// It is its own Go module so Vault's large dependency graph stays out of the
// product's go.mod.
package main

import (
	"os"

	"github.com/hashicorp/vault/command"
)

func main() {
	os.Exit(command.Run(os.Args[1:]))
}

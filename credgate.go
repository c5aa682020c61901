// Package credgate is the module xcaddy builds into Caddy: importing it
// registers the credgate app and the credgate HTTP handler.
package credgate

import (
	// register the Caddy modules
	_ "github.com/credgate/credgate/caddymodule"
)

// Command xbuild builds Caddy with credgate from the build manifest
// xcaddy.json. The xcaddy CLI reads no manifest, so this program decodes the
// manifest into xcaddy's own Builder type (whose fields carry JSON tags) and
// runs the same build the CLI would.
//
// Usage: go run ./tools/xbuild -manifest xcaddy.json -output bin/caddy
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"os"
	"os/signal"
	"path/filepath"
	"strings"

	"github.com/caddyserver/xcaddy"
)

func main() {
	manifestPath := flag.String("manifest", "xcaddy.json", "path of the build manifest")
	output := flag.String("output", "bin/caddy", "path of the Caddy binary to write")
	flag.Parse()

	builder, err := readManifest(*manifestPath)
	if err != nil {
		log.Fatalf("xbuild: %v", err)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := builder.Build(ctx, *output); err != nil {
		log.Fatalf("xbuild: building %s: %v", *output, err)
	}
}

// readManifest decodes the manifest and turns relative replacement paths
// into absolute ones, because xcaddy builds in a temporary folder.
func readManifest(manifestPath string) (xcaddy.Builder, error) {
	var builder xcaddy.Builder

	data, err := os.ReadFile(manifestPath)
	if err != nil {
		return builder, fmt.Errorf("reading manifest: %w", err)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&builder); err != nil {
		return builder, fmt.Errorf("invalid manifest %s: %w", manifestPath, err)
	}
	if builder.CaddyVersion == "" {
		return builder, fmt.Errorf("invalid manifest %s: caddy_version is missing; pin a version such as \"v2.11.9\"", manifestPath)
	}

	manifestDir, err := filepath.Abs(filepath.Dir(manifestPath))
	if err != nil {
		return builder, err
	}
	for i, replacement := range builder.Replacements {
		target := replacement.New.String()
		if strings.HasPrefix(target, ".") {
			builder.Replacements[i].New = xcaddy.ReplacementPath(filepath.Join(manifestDir, target))
		}
	}
	return builder, nil
}

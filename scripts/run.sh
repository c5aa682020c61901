#!/usr/bin/env bash
# Runs bin/caddy with the default Caddyfile. Whatever the environment does
# not set is filled in for a local try-out:
#   VAULT_ADDR unset          -> a dev-mode Vault on 127.0.0.1:8200 (in memory)
#   CREDGATE_STATE_KEY unset  -> a random key for this run
#   INSTAGRAM_CLIENT_ID unset -> the local Instagram-compatible server on
#                                127.0.0.1:9090 stands in for Instagram
# Stop with Ctrl-C; the helpers started here stop with it.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
bin="$root/bin"
logs="$root/.cache/run"
mkdir -p "$logs"

pids=()
cleanup() {
	for pid in "${pids[@]}"; do
		kill "$pid" 2>/dev/null || true
	done
	wait 2>/dev/null || true
}
trap cleanup EXIT INT TERM

random_string() {
	head -c "$1" /dev/urandom | base64 | tr -d '/+=\n' | head -c "$1"
}

if [ -z "${VAULT_ADDR:-}" ]; then
	export VAULT_ADDR=http://127.0.0.1:8200
	export VAULT_TOKEN
	VAULT_TOKEN=$(random_string 24)
	env -u VAULT_TOKEN HOME="$logs" "$bin/vault" server -dev -dev-listen-address=127.0.0.1:8200 \
		-dev-root-token-id="$VAULT_TOKEN" -dev-no-store-token >"$logs/vault.log" 2>&1 &
	pids+=($!)
	for _ in $(seq 1 60); do
		if "$bin/vault" status >/dev/null 2>&1; then break; fi
		sleep 0.5
	done
	"$bin/vault" status >/dev/null || { echo "dev Vault did not start; see $logs/vault.log" >&2; exit 1; }
	echo "started a dev Vault at $VAULT_ADDR (in memory: linked accounts are lost when it stops)"
	echo "  its root token for this run is in VAULT_TOKEN of this process only; log: $logs/vault.log"
fi

if [ -z "${CREDGATE_STATE_KEY:-}" ]; then
	export CREDGATE_STATE_KEY
	CREDGATE_STATE_KEY=$(random_string 48)
	echo "generated a random state key for this run (set CREDGATE_STATE_KEY to keep one)"
fi

if [ -z "${INSTAGRAM_CLIENT_ID:-}" ]; then
	export INSTAGRAM_CLIENT_ID=demo-client-id
	export INSTAGRAM_CLIENT_SECRET=demo-client-secret
	export INSTAGRAM_AUTHORIZE_URL=http://127.0.0.1:9090/oauth/authorize
	export INSTAGRAM_TOKEN_URL=http://127.0.0.1:9090/oauth/access_token
	export INSTAGRAM_GRAPH_URL=http://127.0.0.1:9090
	"$bin/igserver" -listen 127.0.0.1:9090 >"$logs/igserver.log" 2>&1 &
	pids+=($!)
	echo "INSTAGRAM_CLIENT_ID is unset: the local Instagram-compatible server on 127.0.0.1:9090 stands in for Instagram"
fi

port=${CREDGATE_PORT:-8080}
echo "credgate: http://localhost:$port/instagram/functions lists the functions"
echo "          http://localhost:$port/instagram/oauth/authorize?owner=alice links an account"
"$bin/caddy" run --config "$root/Caddyfile" --adapter caddyfile &
pids+=($!)
wait "${pids[-1]}"

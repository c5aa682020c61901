#!/usr/bin/env bash
# Runs bin/caddy with the default Caddyfile. Whatever the environment does
# not set is filled in for a local try-out:
#   VAULT_ADDR unset          -> a dev-mode Vault on 127.0.0.1:8200 (in memory)
#   CREDGATE_STATE_KEY unset  -> a random key for this run
#   INSTAGRAM_CLIENT_ID unset -> the local Instagram-compatible server on
#                                127.0.0.1:9090 replaces Instagram
# Stop with Ctrl-C; what this script started stops with it.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
logs="$root/.cache/run"
mkdir -p "$logs"
# shellcheck source=scripts/lib.sh
source "$root/scripts/lib.sh"
trap stop_started EXIT INT TERM

start_dev_vault_if_unset 8200
ensure_state_key
start_local_instagram_if_unset 9090

port=${CREDGATE_PORT:-8080}
echo "credgate: http://localhost:$port/instagram/functions lists the functions"
echo "          http://localhost:$port/instagram/oauth/authorize?owner=alice links an account"
"$bin/caddy" run --config "$root/Caddyfile" --adapter caddyfile &
pids+=($!)

# stop everything when any part stops, so a dead Vault is not missed
status=0
wait -n "${pids[@]}" || status=$?
echo "a process started by make run exited (status $status); stopping the others. Logs: $logs" >&2
exit "$status"

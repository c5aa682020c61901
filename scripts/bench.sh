#!/usr/bin/env bash
# Compares credgate, without and with token_cache_ttl, with plain Caddy
# reverse_proxy, side by side in one run:
# the same Caddy binary, the same local Instagram server as upstream, the
# same request (GET /v23.0/me?fields=user_id,username), with wrk on loopback.
# Prints throughput, latency and memory for each, and their ratios.
# BENCH_SECONDS (default 10), BENCH_CONNECTIONS (default 16) and
# BENCH_ROUNDS (default 2) set the load; every run is bounded by them.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
logs="$root/.cache/bench"
rm -rf "$logs"
mkdir -p "$logs"
# shellcheck source=scripts/lib.sh
source "$root/scripts/lib.sh"
trap stop_started EXIT INT TERM

seconds=${BENCH_SECONDS:-10}
connections=${BENCH_CONNECTIONS:-16}
rounds=${BENCH_ROUNDS:-2}

if ! command -v wrk >/dev/null 2>&1; then
	echo "wrk is missing; install it with: apt-get install wrk" >&2
	exit 1
fi

unset VAULT_ADDR VAULT_TOKEN INSTAGRAM_CLIENT_ID
start_dev_vault_if_unset 28200
ensure_state_key
start_local_instagram_if_unset 29090 -auto-approve
wait_for_port 29090 "the local Instagram server" "$logs/igserver.log"

# link one account through the gateway
cat >"$logs/credgate.Caddyfile" <<CADDY
{
	admin off
	credgate {
		vault {
			address {env.VAULT_ADDR}
			token {env.VAULT_TOKEN}
		}
		state_key {env.CREDGATE_STATE_KEY}
		token_cache_ttl {\$BENCH_CACHE_TTL:0}
	}
}
http://127.0.0.1:{\$BENCH_PORT:28080} {
	bind 127.0.0.1
	handle /instagram/* {
		credgate instagram {
			client_id {env.INSTAGRAM_CLIENT_ID}
			client_secret {env.INSTAGRAM_CLIENT_SECRET}
			redirect_url http://127.0.0.1:{\$BENCH_PORT:28080}/instagram/oauth/callback
			authorize_url {env.INSTAGRAM_AUTHORIZE_URL}
			token_url {env.INSTAGRAM_TOKEN_URL}
			graph_url {env.INSTAGRAM_GRAPH_URL}
		}
	}
}
CADDY
"$bin/caddy" run --config "$logs/credgate.Caddyfile" --adapter caddyfile >"$logs/credgate.log" 2>&1 &
credgate_pid=$!
pids+=($credgate_pid)
wait_for_port 28080 "Caddy with credgate" "$logs/credgate.log"

BENCH_PORT=28082 BENCH_CACHE_TTL=30s "$bin/caddy" run --config "$logs/credgate.Caddyfile" --adapter caddyfile >"$logs/cached.log" 2>&1 &
cached_pid=$!
pids+=($cached_pid)
wait_for_port 28082 "Caddy with credgate and a token cache" "$logs/cached.log"

auth_url=$(curl -sS -H 'Accept: application/json' "http://127.0.0.1:28080/instagram/oauth/authorize?owner=bench" | jq -r .authorization_url)
callback=$(curl -sS -o /dev/null -w '%{redirect_url}' "$auth_url")
curl -sS -o /dev/null "$callback"
token=$("$bin/vault" kv get -field=access_token secret/credgate/instagram/default/bench)

# plain reverse_proxy with the same token written into its config
cat >"$logs/plain.Caddyfile" <<CADDY
{
	admin off
}
http://127.0.0.1:28081 {
	bind 127.0.0.1
	reverse_proxy 127.0.0.1:29090 {
		header_up Authorization "Bearer {env.BENCH_TOKEN}"
	}
}
CADDY
BENCH_TOKEN=$token "$bin/caddy" run --config "$logs/plain.Caddyfile" --adapter caddyfile >"$logs/plain.log" 2>&1 &
plain_pid=$!
pids+=($plain_pid)
wait_for_port 28081 "plain Caddy" "$logs/plain.log"

# a Lua script for wrk that sends the owner header
cat >"$logs/owner.lua" <<'LUA'
wrk.headers["X-Linked-Account-Owner"] = "bench"
LUA

run_wrk() { # name url -> prints "requests_per_second p50_ms p99_ms"
	wrk -t2 -c"$connections" -d"${seconds}s" --latency -s "$logs/owner.lua" "$2" >"$logs/$1.wrk" 2>&1
	awk '
		/Requests\/sec/ { rps = $2 }
		/^ +50%/ { p50 = $2 }
		/^ +99%/ { p99 = $2 }
		/Non-2xx/ { bad = $NF }
		END { print rps, p50, p99, (bad == "" ? 0 : bad) }' "$logs/$1.wrk"
}

to_ms() { # wrk latency such as 1.23ms, 850.00us or 1.02s -> milliseconds
	awk -v v="$1" 'BEGIN {
		if (v ~ /us$/) { sub(/us$/, "", v); print v / 1000 }
		else if (v ~ /ms$/) { sub(/ms$/, "", v); print v + 0 }
		else if (v ~ /s$/) { sub(/s$/, "", v); print v * 1000 }
		else print v }'
}

rss_mib() { awk '/VmRSS/ { printf "%.1f", $2 / 1024 }' "/proc/$1/status"; }

echo "wrk: 2 threads, $connections connections, ${seconds}s per run, $rounds rounds, on $(nproc) cores"
printf '%-10s %6s %12s %10s %10s %9s %9s\n' target round "requests/s" "p50 ms" "p99 ms" non-2xx "RSS MiB"
for round in $(seq 1 "$rounds"); do
	for target in plain credgate cached; do
		case $target in
		plain)
			url="http://127.0.0.1:28081/v23.0/me?fields=user_id,username"
			pid=$plain_pid
			;;
		credgate)
			url="http://127.0.0.1:28080/instagram/me?fields=user_id,username"
			pid=$credgate_pid
			;;
		cached)
			url="http://127.0.0.1:28082/instagram/me?fields=user_id,username"
			pid=$cached_pid
			;;
		esac
		read -r rps p50 p99 bad < <(run_wrk "$target-$round" "$url")
		printf '%-10s %6s %12s %10s %10s %9s %9s\n' "$target" "$round" "$rps" "$(to_ms "$p50")" "$(to_ms "$p99")" "$bad" "$(rss_mib "$pid")"
		echo "$target $rps $(to_ms "$p50") $(to_ms "$p99") $(rss_mib "$pid")" >>"$logs/results"
	done
done

awk '
	{ n[$1]++; rps[$1] += $2; p50[$1] += $3; p99[$1] += $4; rss[$1] = $5 }
	function ratios(name, label) {
		printf "  %-28s throughput %.2f   p50 latency %.2f   p99 latency %.2f   RSS %.2f\n", label,
			(rps[name] / n[name]) / (rps["plain"] / n["plain"]),
			(p50[name] / n[name]) / (p50["plain"] / n["plain"]),
			(p99[name] / n[name]) / (p99["plain"] / n["plain"]),
			rss[name] / rss["plain"]
	}
	END {
		printf "\nratios to plain reverse_proxy (means over rounds):\n"
		ratios("credgate", "credgate, no cache")
		ratios("cached", "credgate, token_cache_ttl 30s")
	}' "$logs/results"

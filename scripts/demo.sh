#!/usr/bin/env bash
# Runs Vault (dev mode), the local Instagram-compatible server and Caddy
# with credgate together, links an account through the OAuth flow and
# calls the API, printing each step. Everything listens on 127.0.0.1 and
# stops when the demo ends. Ports: DEMO_PORT (default 18080) for Caddy,
# 18200 for Vault and 19090 for the Instagram server.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
logs="$root/.cache/demo"
rm -rf "$logs"
mkdir -p "$logs"
# shellcheck source=scripts/lib.sh
source "$root/scripts/lib.sh"
trap stop_started EXIT INT TERM

# the demo always uses its own servers
unset VAULT_ADDR VAULT_TOKEN INSTAGRAM_CLIENT_ID
port=${DEMO_PORT:-18080}
export CREDGATE_PORT=$port CREDGATE_PUBLIC_URL="http://127.0.0.1:$port" CREDGATE_ADMIN=off
base="http://127.0.0.1:$port/instagram"
owner=demo-user

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
show() { printf '$ %s\n' "$*"; }

step "start Vault, the local Instagram server and Caddy"
start_dev_vault_if_unset 18200
ensure_state_key
start_local_instagram_if_unset 19090 -auto-approve
wait_for_port 19090 "the local Instagram server" "$logs/igserver.log"
"$bin/caddy" run --config "$root/Caddyfile" --adapter caddyfile >"$logs/caddy.log" 2>&1 &
pids+=($!)
wait_for_port "$port" "Caddy" "$logs/caddy.log"
echo "Caddy with credgate listens on 127.0.0.1:$port (log: $logs/caddy.log)"

step "list the functions an AI agent can call"
show "curl $base/functions"
curl -sS "$base/functions" | jq -r '"\(length) functions:", (.[].function.name)'

step "call before linking: 404 with a ready authorize_url"
show "curl -H 'X-Linked-Account-Owner: $owner' $base/me"
curl -sS -H "X-Linked-Account-Owner: $owner" "$base/me" | jq '.error | {code, message, authorize_url: (.authorize_url | sub("state=[^&]*"; "state=…"))}'

step "link: authorize, consent (auto-approved), callback"
show "curl -H 'Accept: application/json' '$base/oauth/authorize?owner=$owner'"
auth_url=$(curl -sS -H 'Accept: application/json' "$base/oauth/authorize?owner=$owner" | jq -r .authorization_url)
echo "authorization_url: ${auth_url%%state=*}state=…"
callback=$(curl -sS -o /dev/null -w '%{redirect_url}' "$auth_url")
echo "the consent page redirects the browser to ${callback%%\?*}?code=…&state=…#_"
curl -sS "$callback" | sed -n 's:.*<p>\(.*\)</p>.*:\1:p'

step "the account stored in Vault (token hidden)"
show "vault kv get secret/credgate/instagram/default/$owner"
"$bin/vault" kv get -format=json "secret/credgate/instagram/default/$owner" |
	jq '.data.data | .access_token = (.access_token[0:4] + "…")'

step "call by route: the profile"
show "curl -H 'X-Linked-Account-Owner: $owner' '$base/me?fields=user_id,username'"
curl -sS -H "X-Linked-Account-Owner: $owner" "$base/me?fields=user_id,username" | jq -c .

step "call by route: recent media"
show "curl -H 'X-Linked-Account-Owner: $owner' '$base/me/media?fields=id,caption&limit=2'"
curl -sS -H "X-Linked-Account-Owner: $owner" "$base/me/media?fields=id,caption&limit=2" | jq -c .

step "call by function name, as an AI agent does: create and publish a post"
show "curl -X POST -H 'X-Linked-Account-Owner: $owner' $base/functions/INSTAGRAM__MEDIA_CONTAINER_CREATE -d '{\"query\":{…}}'"
container=$(curl -sS -X POST -H "X-Linked-Account-Owner: $owner" "$base/functions/INSTAGRAM__MEDIA_CONTAINER_CREATE" \
	-d '{"query":{"image_url":"https://cdn.example.test/demo.jpg","caption":"Hello from credgate"}}' | jq -r .id)
echo "container id: $container"
curl -sS -X POST -H "X-Linked-Account-Owner: $owner" "$base/functions/INSTAGRAM__MEDIA_CONTAINER_PUBLISH" \
	-d "{\"query\":{\"creation_id\":\"$container\"}}" | jq -c .

step "bad input is rejected before any API call"
show "curl -H 'X-Linked-Account-Owner: $owner' '$base/me/media?limit=ten'"
curl -sS -H "X-Linked-Account-Owner: $owner" "$base/me/media?limit=ten" | jq -c .

step "done; stopping everything"

# Shared by run.sh and demo.sh: starts what the environment does not
# provide. Source it; it needs $root (the repository) and $logs (a folder).

bin="$root/bin"
pids=()

stop_started() {
	for pid in "${pids[@]}"; do
		kill "$pid" 2>/dev/null || true
	done
	wait 2>/dev/null || true
}

random_string() {
	head -c 64 /dev/urandom | base64 | tr -d '/+=\n' | head -c "$1"
}

# start_dev_vault_if_unset PORT: a dev-mode Vault (in memory) on
# 127.0.0.1:PORT unless VAULT_ADDR is set; exports VAULT_ADDR and VAULT_TOKEN.
start_dev_vault_if_unset() {
	if [ -n "${VAULT_ADDR:-}" ]; then
		return
	fi
	export VAULT_ADDR="http://127.0.0.1:$1"
	export VAULT_TOKEN
	VAULT_TOKEN=$(random_string 24)
	# the root token goes through the environment, which ps does not show
	env -u VAULT_TOKEN HOME="$logs" VAULT_DEV_ROOT_TOKEN_ID="$VAULT_TOKEN" \
		"$bin/vault" server -dev -dev-listen-address="127.0.0.1:$1" -dev-no-store-token >"$logs/vault.log" 2>&1 &
	pids+=($!)
	for _ in $(seq 1 60); do
		if "$bin/vault" status >/dev/null 2>&1; then
			break
		fi
		sleep 0.5
	done
	if ! "$bin/vault" status >/dev/null 2>&1; then
		echo "the dev Vault did not start on 127.0.0.1:$1; see $logs/vault.log" >&2
		exit 1
	fi
	(umask 077 && printf 'export VAULT_ADDR=%s\nexport VAULT_TOKEN=%s\n' "$VAULT_ADDR" "$VAULT_TOKEN" >"$logs/vault.env")
	echo "started a dev Vault at $VAULT_ADDR (in memory: linked accounts are lost when it stops; log: $logs/vault.log)"
	echo "  to use the vault CLI on it: source $logs/vault.env, then for example bin/vault kv list secret/credgate/instagram/default"
}

# ensure_state_key: a random state signing key unless CREDGATE_STATE_KEY is set.
ensure_state_key() {
	if [ -z "${CREDGATE_STATE_KEY:-}" ]; then
		export CREDGATE_STATE_KEY
		CREDGATE_STATE_KEY=$(random_string 48)
		echo "generated a random state key for this run (set CREDGATE_STATE_KEY to keep one)"
	fi
}

# start_local_instagram_if_unset PORT [FLAGS...]: the local
# Instagram-compatible server on 127.0.0.1:PORT unless INSTAGRAM_CLIENT_ID
# is set; exports the client credentials and the three URL overrides.
start_local_instagram_if_unset() {
	if [ -n "${INSTAGRAM_CLIENT_ID:-}" ]; then
		return
	fi
	local port=$1
	shift
	export INSTAGRAM_CLIENT_ID=demo-client-id
	export INSTAGRAM_CLIENT_SECRET=demo-client-secret
	export INSTAGRAM_AUTHORIZE_URL="http://127.0.0.1:$port/oauth/authorize"
	export INSTAGRAM_TOKEN_URL="http://127.0.0.1:$port/oauth/access_token"
	export INSTAGRAM_GRAPH_URL="http://127.0.0.1:$port"
	"$bin/igserver" -listen "127.0.0.1:$port" "$@" >"$logs/igserver.log" 2>&1 &
	pids+=($!)
	echo "INSTAGRAM_CLIENT_ID is unset: the local Instagram-compatible server on 127.0.0.1:$port stands in for Instagram"
}

# wait_for_port PORT NAME LOG: waits up to 30 s for a listener on 127.0.0.1:PORT.
wait_for_port() {
	for _ in $(seq 1 300); do
		if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then
			return
		fi
		sleep 0.1
	done
	echo "$2 did not listen on 127.0.0.1:$1 within 30 s; see $3" >&2
	exit 1
}

#!/usr/bin/env bash
# Starts the gateway on a fresh SQLite file with the demo seed and drives it with real clients
# (tests/clients/check.mjs, pagination.mjs, node.mjs). Used by .ci/run after the Rust test suite.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
work="$(mktemp -d)"
port="${CLIENT_CHECK_PORT:-$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')}"
export JWT_SECRET="real-client-check-secret-$(date +%s)-0123456789abcdef"

(cd "$here" && npm install --no-audit --no-fund --no-package-lock --silent)
cargo build --quiet --manifest-path "$root/Cargo.toml"
bin="${CARGO_TARGET_DIR:-$root/target}/debug/crm-gateway"

# Anonymous introspection is checked below: open it (production default: employees only).
LISTEN_ADDR="127.0.0.1:$port" DATABASE_URL="sqlite://$work/crm.db?mode=rwc" SEED_DEMO=true INTROSPECTION=all JWT_LEEWAY_SECS=0 \
  RUST_LOG=warn "$bin" >"$work/gateway.log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null || true; rm -rf "$work"' EXIT
ready=no
for _ in $(seq 1 60); do
  if curl -sf "http://127.0.0.1:$port/health" >/dev/null; then ready=yes; break; fi
  sleep 0.5
done
if [ "$ready" != yes ]; then
  echo "the gateway did not become healthy; its log:" >&2
  cat "$work/gateway.log" >&2
  exit 1
fi
GATEWAY_URL="http://127.0.0.1:$port" node "$here/check.mjs"
# Nested connections paged by Apollo (fetchMore) and Relay (usePaginationFragment; relay-compiler
# builds its artifacts from schema.graphql first).
(cd "$here" && npm run --silent relay)
GATEWAY_URL="http://127.0.0.1:$port" node "$here/pagination.mjs"
# Relay's Node interface: a @refetchable fragment on Customer pages its interactions (node.mjs).
GATEWAY_URL="http://127.0.0.1:$port" node "$here/node.mjs"

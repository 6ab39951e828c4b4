#!/usr/bin/env bash
# The explorer in a real headless Chromium with the network blocked but for the gateway: starts
# the gateway twice on fresh SQLite files — dev mode (no key: the demo's people are offered) and
# production mode (a key: none are) — and drives both with tests/browser/explorer.mjs.
# Screenshots go to $SCREENSHOT_DIR (a temporary directory unless set; `SCREENSHOT_DIR=docs`
# refreshes the ones README shows). Needs Debian's chromium, Node.js and npm; used by .ci/run.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
work="$(mktemp -d)"
chromium="${CHROMIUM:-/usr/bin/chromium}"

if [ ! -x "$chromium" ]; then
  echo "browser check: installing chromium"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi
(cd "$here" && npm install --no-audit --no-fund --no-package-lock --silent)
cargo build --quiet --manifest-path "$root/Cargo.toml"
bin="${CARGO_TARGET_DIR:-$root/target}/debug/crm-gateway"

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"' EXIT

# start NAME [VAR=value…]: a gateway on a fresh SQLite file; sets $url.
start() {
  local name="$1"; shift
  local port; port="$(free_port)"
  env -u JWT_SECRET -u JWT_PUBLIC_KEY_FILE "$@" LISTEN_ADDR="127.0.0.1:$port" \
    DATABASE_URL="sqlite://$work/$name.db?mode=rwc" SEED_DEMO=true RUST_LOG=warn \
    "$bin" >"$work/$name.log" 2>&1 &
  pids+=("$!")
  for _ in $(seq 1 60); do
    if curl -sf "http://127.0.0.1:$port/health" >/dev/null; then url="http://127.0.0.1:$port"; return 0; fi
    sleep 0.5
  done
  echo "the $name gateway did not become healthy; its log:" >&2
  cat "$work/$name.log" >&2
  return 1
}

start dev
dev_url="$url"
# Production as an operator locks it down: a key, and introspection for employees only.
start production JWT_SECRET="browser-check-secret-$(date +%s)-0123456789abcdef" INTROSPECTION=employees
production_url="$url"
DEV_URL="$dev_url" PRODUCTION_URL="$production_url" CHROMIUM="$chromium" \
  SCREENSHOT_DIR="${SCREENSHOT_DIR:-$work/screenshots}" node "$here/explorer.mjs"

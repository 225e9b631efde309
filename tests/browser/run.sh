#!/usr/bin/env bash
# Browser journeys in headless Chromium against the whole app on the local
# runner. Called by `cargo xtask test` (which builds everything first); can
# also be run alone: `bash tests/browser/run.sh`.
#
# Prints node:test's TAP, whose `# pass N` / `# fail N` lines the xtask
# summary counts. Never passes silently: when Chromium or Node cannot be had,
# it says so loudly, prints `# fail 1` and exits non-zero.
set -uo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
CHROMIUM="${CHROMIUM:-/usr/bin/chromium}"

did_not_run() {
  echo "################################################################" >&2
  echo "##  BROWSER TESTS DID NOT RUN: $*" >&2
  echo "################################################################" >&2
  echo "# fail 1"
  exit 1
}

# --- tools: node, chromium (Debian's; never a browser download) -------------
command -v node >/dev/null 2>&1 || { command -v apt-get >/dev/null 2>&1 && (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm) >&2; }
command -v node >/dev/null 2>&1 || did_not_run "node is not installed and could not be installed"
command -v npm >/dev/null 2>&1 || { (DEBIAN_FRONTEND=noninteractive apt-get install -y -qq npm) >&2; }
if [ ! -x "$CHROMIUM" ]; then
  echo "chromium is missing: installing Debian's chromium package" >&2
  if command -v apt-get >/dev/null 2>&1; then
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) >&2
  fi
fi
[ -x "$CHROMIUM" ] || did_not_run "no Chromium at $CHROMIUM (apt-get install -y chromium failed)"

# --- the test driver: playwright-core only (it downloads no browser) --------
if [ ! -d "$HERE/node_modules/playwright-core" ]; then
  (cd "$HERE" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error) >&2 \
    || did_not_run "npm ci (playwright-core) failed"
fi

# --- the app -----------------------------------------------------------------
RUNNER="$ROOT/target/release/boxoffice-runner"
if [ ! -x "$RUNNER" ]; then
  echo "building the app (cargo xtask build)" >&2
  (cd "$ROOT" && cargo xtask build) >&2 || did_not_run "cargo xtask build failed"
fi
WORK="$(mktemp -d "${TMPDIR:-/tmp}/boxoffice-browser.XXXXXX")"
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; done
  rm -rf "$WORK"
}
trap cleanup EXIT INT TERM

TICKS=()
for t in /api/bookings/tick=2 /api/payments/tick=5 /api/notifications/tick=2 /api/events/tick=5 /api/tickets/tick=2; do
  TICKS+=(--tick "$t")
done
export SPIN_VARIABLE_ADMIN_EMAIL="${SPIN_VARIABLE_ADMIN_EMAIL:-admin@browser.test}"
export SPIN_VARIABLE_TICK_TOKEN="${SPIN_VARIABLE_TICK_TOKEN:-browser-tests-tick-token}"
# Every journey registers its own buyers and organizers from 127.0.0.1.
export SPIN_VARIABLE_REGISTER_LIMIT_PER_HOUR="${SPIN_VARIABLE_REGISTER_LIMIT_PER_HOUR:-1000}"
# start_app NAME [VAR=VALUE...]: one runner with its own storage under
# $WORK/NAME; sets APP_URL (read from its `listening on` line).
start_app() {
  local dir="$WORK/$1"; shift
  mkdir -p "$dir"
  cp "$ROOT/runtime-config.toml" "$dir/runtime-config.toml"
  # relative SQLite paths in runtime config resolve against the working directory
  (cd "$dir" && exec env "$@" "$RUNNER" --manifest "$ROOT/spin.toml" --listen 127.0.0.1:0 \
    --runtime-config-file "$dir/runtime-config.toml" --state-dir "$dir/.spin" "${TICKS[@]}" \
    >"$dir/runner.out" 2>"$dir/runner.log") &
  PIDS+=($!)
  local url="" pid=$!
  for _ in $(seq 1 300); do
    url="$(sed -n 's/^boxoffice-runner listening on \(http[^ ]*\).*/\1/p' "$dir/runner.out" | head -n1)"
    [ -n "$url" ] && break
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.2
  done
  [ -n "$url" ] || { tail -n 30 "$dir/runner.log" >&2; return 1; }
  APP_URL="$url"
}
start_app main || did_not_run "the runner did not start"
BASE_URL="$APP_URL"
# a second app whose holds last 8 seconds, for the expired-hold journey
start_app short-hold SPIN_VARIABLE_HOLD_TTL_SECONDS=8 || did_not_run "the short-hold runner did not start"
SHORT_HOLD_URL="$APP_URL"
echo "app under test: $BASE_URL (short holds: $SHORT_HOLD_URL)" >&2

# --- the journeys --------------------------------------------------------------
mkdir -p "$HERE/screenshots"
export BASE_URL SHORT_HOLD_URL CHROMIUM SHOTS="$HERE/screenshots" ADMIN_EMAIL="$SPIN_VARIABLE_ADMIN_EMAIL"
cd "$HERE"
node --test --test-reporter=tap --test-concurrency=1 --test-timeout=180000 journeys/*.test.js
status=$?
if [ "$status" -ne 0 ]; then
  echo "--- runner log (last 40 lines) ---" >&2
  tail -n 40 "$WORK/main/runner.log" >&2
fi
exit "$status"

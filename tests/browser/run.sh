#!/usr/bin/env bash
# Browser journeys in headless Chromium against the whole app, on the host
# named by BOXOFFICE_HOST:
#   runner (default)  the local runner, target/release/boxoffice-runner;
#   spin              a real Spin CLI: "$SPIN_BIN", else `spin` on PATH.
# Same journeys, same assertions on both. Called by `cargo xtask test` (which
# builds everything first and runs this once per host); can also be run
# alone: `BOXOFFICE_HOST=spin bash tests/browser/run.sh`.
#
# Prints node:test's TAP, whose `# pass N` / `# fail N` lines the xtask
# summary counts. Never passes silently: when Chromium, Node or (for spin)
# the Spin CLI cannot be had, it says so loudly, prints `# fail 1` and exits
# non-zero.
set -uo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
CHROMIUM="${CHROMIUM:-/usr/bin/chromium}"
HOST="${BOXOFFICE_HOST:-runner}"

did_not_run() {
  echo "################################################################" >&2
  echo "##  BROWSER TESTS DID NOT RUN: $*" >&2
  echo "################################################################" >&2
  echo "# fail 1"
  exit 1
}

case "$HOST" in
  runner | spin) ;;
  *) did_not_run "BOXOFFICE_HOST=$HOST: expected runner or spin" ;;
esac
if [ "$HOST" = spin ]; then
  SPIN="${SPIN_BIN:-$(command -v spin 2>/dev/null)}"
  [ -n "$SPIN" ] && [ -f "$SPIN" ] && [ -x "$SPIN" ] \
    || did_not_run "BOXOFFICE_HOST=spin but no Spin CLI (SPIN_BIN=${SPIN_BIN:-unset}, no spin on PATH): the journeys did NOT run on Spin"
fi

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

# --- the test driver: playwright-core (it downloads no browser) and axe-core -
if [ ! -d "$HERE/node_modules/playwright-core" ] || [ ! -d "$HERE/node_modules/axe-core" ]; then
  (cd "$HERE" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error) >&2 \
    || did_not_run "npm ci (playwright-core, axe-core) failed"
fi

# --- the app -----------------------------------------------------------------
# What the host serves must exist: the runner binary, and every .wasm that
# spin.toml names (`cargo xtask build` makes both).
missing=""
[ "$HOST" = runner ] && [ ! -x "$ROOT/target/release/boxoffice-runner" ] && missing="target/release/boxoffice-runner"
for wasm in $(sed -n 's/^source = "\(target\/[^"]*\.wasm\)"$/\1/p' "$ROOT/spin.toml" | sort -u); do
  [ -f "$ROOT/$wasm" ] || missing="$missing $wasm"
done
if [ -n "$missing" ]; then
  echo "building the app (cargo xtask build): missing$missing" >&2
  (cd "$ROOT" && cargo xtask build) >&2 || did_not_run "cargo xtask build failed"
fi
RUNNER="$ROOT/target/release/boxoffice-runner"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/boxoffice-browser.XXXXXX")"
GROUPS_TO_STOP=()
# stop_group PGID: SIGTERM to the whole process group (Spin's `spin up`
# forwards it to its `spin trigger http` child), SIGKILL to what is left
# after 5 s. Killing `spin up` alone would orphan the child.
stop_group() {
  kill -TERM -- "-$1" 2>/dev/null || return 0
  for _ in $(seq 1 50); do
    kill -0 -- "-$1" 2>/dev/null || return 0
    sleep 0.1
  done
  kill -KILL -- "-$1" 2>/dev/null
}
cleanup() {
  for g in "${GROUPS_TO_STOP[@]}"; do stop_group "$g"; done
  wait 2>/dev/null
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# The periodic routes and their periods in seconds, as a cron job would call
# them in production. The runner sends them itself (--tick); Spin has no
# timer, so for Spin this script sends the same requests from outside.
TICK_ROUTES=(/api/bookings/tick=2 /api/payments/tick=5 /api/notifications/tick=2 /api/events/tick=5 /api/tickets/tick=2 /api/users/tick=5 /api/auth/tick=5)
# What a local run turns on (spin.toml ships the sandbox providers off and
# no admin): the sandbox card and e-mail stand-ins, and the first admin,
# made by auth on first use from this address and password.
export SPIN_VARIABLE_SANDBOX_ENABLED="${SPIN_VARIABLE_SANDBOX_ENABLED:-true}"
export SPIN_VARIABLE_ADMIN_EMAIL="${SPIN_VARIABLE_ADMIN_EMAIL:-admin@browser.test}"
export SPIN_VARIABLE_ADMIN_PASSWORD="${SPIN_VARIABLE_ADMIN_PASSWORD:-browser-admin-pass-4711}"
export SPIN_VARIABLE_TICK_TOKEN="${SPIN_VARIABLE_TICK_TOKEN:-browser-tests-tick-token}"
# The sandbox tools' token: journeys read the sandbox mailbox with it (the
# password-reset and address-confirmation links).
export SPIN_VARIABLE_SANDBOX_ADMIN_TOKEN="${SPIN_VARIABLE_SANDBOX_ADMIN_TOKEN:-browser-sandbox-tools-token}"
# Every journey registers its own buyers and organizers from 127.0.0.1.
export SPIN_VARIABLE_REGISTER_LIMIT_PER_HOUR="${SPIN_VARIABLE_REGISTER_LIMIT_PER_HOUR:-1000}"

# A loopback port nothing listens on right now (Spin is told which port to
# take; the caller retries when another process takes it first).
free_port() {
  local port
  for _ in $(seq 1 100); do
    port=$((20000 + RANDOM % 40000))
    if command -v ss >/dev/null 2>&1; then
      [ -z "$(ss -Hltn "sport = :$port" 2>/dev/null)" ] && { echo "$port"; return 0; }
    elif ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      echo "$port"; return 0
    fi
  done
  return 1
}

# start_ticks URL: one background loop per tick route, POSTing with the tick
# token every period (the first after one full period, as the runner does),
# in its own process group so cleanup stops it with its curl.
start_ticks() {
  local url="$1" t path every
  for t in "${TICK_ROUTES[@]}"; do
    path="${t%=*}" every="${t##*=}"
    setsid bash -c 'while sleep "$3"; do
        code="$(curl -s -o /dev/null -w "%{http_code}" --max-time 60 -X POST -H "Authorization: Bearer $SPIN_VARIABLE_TICK_TOKEN" "$1$2")"
        case "$code" in 2??) ;; *) echo "tick $2: answered $code" >&2 ;; esac
      done' tick "$url" "$path" "$every" 2>>"$TICK_LOG" &
    GROUPS_TO_STOP+=($!)
  done
}

# start_runner DIR [VAR=VALUE...]: the runner on a port the kernel picks;
# sets APP_URL from its `listening on` line.
start_runner() {
  local dir="$1"; shift
  local ticks=() t
  for t in "${TICK_ROUTES[@]}"; do ticks+=(--tick "$t"); done
  # relative SQLite paths in runtime config resolve against the working directory
  (cd "$dir" && exec setsid env "$@" "$RUNNER" --manifest "$ROOT/spin.toml" --listen 127.0.0.1:0 \
    --runtime-config-file "$dir/runtime-config.toml" --state-dir "$dir/.spin" "${ticks[@]}" \
    >"$dir/host.out" 2>"$dir/host.log") &
  local pid=$! url=""
  GROUPS_TO_STOP+=($pid)
  for _ in $(seq 1 300); do
    url="$(sed -n 's/^boxoffice-runner listening on \(http[^ ]*\).*/\1/p' "$dir/host.out" | head -n1)"
    [ -n "$url" ] && break
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.2
  done
  [ -n "$url" ] || { tail -n 30 "$dir/host.log" >&2; return 1; }
  APP_URL="$url"
}

# start_spin DIR [VAR=VALUE...]: `spin up` on a free port (another try on
# another port when it cannot serve), ready when Spin's own health route
# answers 200; ticks sent from here. Sets APP_URL.
start_spin() {
  local dir="$1"; shift
  local attempt port pid url code
  for attempt in 1 2 3 4 5; do
    port="$(free_port)" || return 1
    url="http://127.0.0.1:$port"
    # Spin resolves SQLite paths against the working directory and KV paths
    # against the runtime config's directory: both are $dir here.
    (cd "$dir" && exec setsid env "$@" "$SPIN" up --from "$ROOT/spin.toml" --listen "127.0.0.1:$port" \
      --runtime-config-file "$dir/runtime-config.toml" --state-dir "$dir/.spin" \
      >>"$dir/host.out" 2>>"$dir/host.log" </dev/null) &
    pid=$!
    GROUPS_TO_STOP+=($pid)
    for _ in $(seq 1 600); do
      code="$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$url/.well-known/spin/health")"
      if [ "$code" = 200 ]; then
        APP_URL="$url"
        start_ticks "$url"
        return 0
      fi
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.2
    done
    echo "spin up on port $port did not serve (attempt $attempt); last lines of its log:" >&2
    tail -n 10 "$dir/host.log" >&2
    stop_group "$pid"
  done
  return 1
}

# start_app NAME [VAR=VALUE...]: one app on $HOST with its own storage under
# $WORK/NAME; sets APP_URL.
start_app() {
  local dir="$WORK/$1"; shift
  mkdir -p "$dir"
  cp "$ROOT/runtime-config.toml" "$dir/runtime-config.toml"
  if [ "$HOST" = spin ]; then start_spin "$dir" "$@"; else start_runner "$dir" "$@"; fi
}
TICK_LOG="$WORK/ticks.log"
start_app main || did_not_run "the app did not start on $HOST"
BASE_URL="$APP_URL"
# a second app whose holds last 8 seconds, for the expired-hold journey
start_app short-hold SPIN_VARIABLE_HOLD_TTL_SECONDS=8 || did_not_run "the short-hold app did not start on $HOST"
SHORT_HOLD_URL="$APP_URL"
echo "app under test on $HOST: $BASE_URL (short holds: $SHORT_HOLD_URL)" >&2

# --- the journeys --------------------------------------------------------------
# one screenshot directory per host, so a run on one keeps the other's
SHOTS="$HERE/screenshots/$HOST"
rm -rf "$SHOTS" && mkdir -p "$SHOTS"
export BASE_URL SHORT_HOLD_URL CHROMIUM SHOTS ADMIN_EMAIL="$SPIN_VARIABLE_ADMIN_EMAIL" ADMIN_PASSWORD="$SPIN_VARIABLE_ADMIN_PASSWORD"
cd "$HERE"
node --test --test-reporter=tap --test-concurrency=1 --test-timeout=180000 journeys/*.test.js
status=$?
if [ "$status" -ne 0 ]; then
  # keep the host's logs (and Spin's component logs) next to the screenshots
  for app in main short-hold; do
    mkdir -p "$SHOTS/logs/$app"
    cp "$WORK/$app/host.log" "$SHOTS/logs/$app/" 2>/dev/null
    [ -d "$WORK/$app/.spin/logs" ] && cp -r "$WORK/$app/.spin/logs" "$SHOTS/logs/$app/components"
  done
  cp "$TICK_LOG" "$SHOTS/logs/" 2>/dev/null
  echo "logs kept in $SHOTS/logs" >&2
  echo "--- $HOST log (last 40 lines) ---" >&2
  tail -n 40 "$WORK/main/host.log" >&2
  [ -s "$TICK_LOG" ] && { echo "--- tick failures (last 20) ---" >&2; tail -n 20 "$TICK_LOG" >&2; }
fi
exit "$status"

#!/usr/bin/env bash
# The API conformance run: Schemathesis (PyPI) reads the kernel's own /openapi.json and sends it
# generated requests — valid and invalid, with and without credentials, every phase including the
# stateful one that follows the document's links — and checks every answer against the document.
# It runs against real kernels (node kernel/dist/index.js, the embedded store in a temporary
# directory, ports the system picks): once with auth off, once with auth on (JWT_SECRET set and a
# valid HS256 bearer token). Settings: hack/schemathesis.toml.
#
# Usage: hack/schemathesis.sh [off|on]...   (default: off on; SCHEMATHESIS_LOG_DIR=dir keeps the
#                                            kernels' logs there)
#        hack/schemathesis.sh --install     (only create the cached virtualenv)
#
# Schemathesis and its dependencies are pinned (hack/schemathesis-requirements.txt) and installed
# once into a virtualenv under $NEXUS_CACHE, named by the version and the pin file's hash.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
: "${NEXUS_CACHE:=$HOME/.cache/nexus}"

SCHEMATHESIS_VERSION=4.32.5
REQUIREMENTS="$ROOT/hack/schemathesis-requirements.txt"
CONFIG="$ROOT/hack/schemathesis.toml"
ENTRY="$ROOT/kernel/dist/index.js"
# Bounds of one run (one kernel, one auth mode), in seconds: Schemathesis as a whole, the
# kernel's start (its "listening" line, then /ready), and its exit after SIGTERM.
SCHEMATHESIS_TIME_BUDGET_S="${SCHEMATHESIS_TIME_BUDGET_S:-120}"
KERNEL_START_BUDGET_S=30
KERNEL_STOP_BUDGET_S=15
# The bearer token's lifetime with auth on: longer than the run's budget.
TOKEN_LIFETIME_S=900

step() { printf '==> %s\n' "$*"; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

pins_hash="$(sha256sum "$REQUIREMENTS" | cut -c1-12)"
VENV="$NEXUS_CACHE/schemathesis-$SCHEMATHESIS_VERSION-$pins_hash"
ST="$VENV/bin/st"

install_schemathesis() {
  [ -f "$VENV/.installed" ] && return 0
  grep -qx "schemathesis==$SCHEMATHESIS_VERSION" "$REQUIREMENTS" ||
    die "$REQUIREMENTS does not pin schemathesis==$SCHEMATHESIS_VERSION"
  command -v python3 >/dev/null || "$ROOT/hack/apt-install.sh" python3
  python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))' ||
    die "Schemathesis $SCHEMATHESIS_VERSION needs Python 3.11 or newer; python3 is $(python3 --version 2>&1)"
  python3 -c 'import ensurepip, venv' 2>/dev/null || "$ROOT/hack/apt-install.sh" python3-venv
  mkdir -p "$NEXUS_CACHE"
  # Clones on one machine share the cache: one installs while the others wait.
  exec 9>"$VENV.lock"
  flock 9
  if [ ! -f "$VENV/.installed" ]; then
    step "schemathesis: pip install schemathesis==$SCHEMATHESIS_VERSION (pinned with its dependencies) into $VENV"
    # A virtualenv records its own path, so it is built in place; the stamp marks it complete (an
    # interrupted install is started afresh).
    rm -rf "$VENV"
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install --quiet --disable-pip-version-check --no-input -r "$REQUIREMENTS"
    "$ST" --version >/dev/null
    touch "$VENV/.installed"
  fi
  exec 9>&-
}

if [ "${1:-}" = --install ]; then
  install_schemathesis
  step "schemathesis $SCHEMATHESIS_VERSION in $VENV"
  exit 0
fi

[ -f "$ENTRY" ] || die "$ENTRY is missing: run make build-kernel first"
install_schemathesis

WORK="$(mktemp -d "${TMPDIR:-/tmp}/nexus-schemathesis.XXXXXX")"
# The kernels' logs go with the rest unless SCHEMATHESIS_LOG_DIR keeps them.
LOG_DIR="${SCHEMATHESIS_LOG_DIR:-$WORK}"
mkdir -p "$LOG_DIR"
KERNEL_PID=""

stop_kernel() {
  [ -n "$KERNEL_PID" ] || return 0
  if kill -0 "$KERNEL_PID" 2>/dev/null; then
    kill -TERM "$KERNEL_PID" 2>/dev/null || true
    local waited=0
    while kill -0 "$KERNEL_PID" 2>/dev/null && [ $waited -lt $((KERNEL_STOP_BUDGET_S * 10)) ]; do
      sleep 0.1
      waited=$((waited + 1))
    done
    kill -KILL "$KERNEL_PID" 2>/dev/null || true
  fi
  wait "$KERNEL_PID" 2>/dev/null || true
  KERNEL_PID=""
}

cleanup() {
  stop_kernel
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Starts a kernel with the given extra environment; sets KERNEL_PID and KERNEL_URL.
start_kernel() {
  local name="$1"
  shift
  local log="$LOG_DIR/kernel-$name.log"
  mkdir -p "$WORK/$name"
  # The file exists before the kernel's shell opens it: on a busy machine the polling below may
  # read it first, and a missing file would end the script (set -e, pipefail).
  : >"$log"
  env HOST=127.0.0.1 HTTP_PORT=0 WS_PORT=0 LOG_LEVEL=info \
    PERSIST_DIR="$WORK/$name/panels" CACHE_DIR="$WORK/$name/cache" \
    "$@" node "$ENTRY" >"$log" 2>&1 &
  KERNEL_PID=$!
  local port="" waited=0
  while [ -z "$port" ]; do
    kill -0 "$KERNEL_PID" 2>/dev/null || { cat "$log" >&2; die "the kernel ($name) exited before listening"; }
    [ $waited -lt $((KERNEL_START_BUDGET_S * 10)) ] ||
      { cat "$log" >&2; die "the kernel ($name) logged no \"listening\" line within ${KERNEL_START_BUDGET_S} s"; }
    port="$(sed -n 's/.*"httpPort":\([0-9]*\).*"msg":"listening".*/\1/p' "$log" | head -n1)"
    [ -n "$port" ] || { sleep 0.1; waited=$((waited + 1)); }
  done
  KERNEL_URL="http://127.0.0.1:$port"
  until curl -sf -o /dev/null "$KERNEL_URL/ready"; do
    [ $waited -lt $((KERNEL_START_BUDGET_S * 10)) ] ||
      { cat "$log" >&2; die "the kernel ($name) was not ready within ${KERNEL_START_BUDGET_S} s"; }
    sleep 0.1
    waited=$((waited + 1))
  done
}

# An HS256 token signed with `secret`, with iat now, exp TOKEN_LIFETIME_S later and the scope
# that reads panels' logs (jose: the kernel's own JWT library).
mint_token() {
  (cd "$ROOT/kernel" && SECRET="$1" LIFETIME="$TOKEN_LIFETIME_S" node --input-type=module -e '
    import { SignJWT } from "jose";
    const token = await new SignJWT({ sub: "schemathesis", scope: "panels:logs" })
      .setProtectedHeader({ alg: "HS256" })
      .setIssuedAt()
      .setExpirationTime(`${process.env.LIFETIME}s`)
      .sign(new TextEncoder().encode(process.env.SECRET));
    process.stdout.write(token);
  ')
}

# The panel the trigger route is fuzzed against (hack/schemathesis.toml names it): generated
# definitions carry handler source that rarely compiles, so their panels have no tools to run.
# Its tool takes any arguments and uses every kind of effect an execution result reports.
PROBE_PANEL='{
  "title": "conformance probe",
  "state": { "calls": 0 },
  "tools": {
    "probe": {
      "description": "Counts its calls and reports the type of its arguments",
      "capabilities": ["state:read:calls", "state:write:calls", "events:emit:called", "view:update:calls"],
      "handler": "$state.calls += 1; $emit(\"called\", { calls: $state.calls }); $view.focus(\"calls\"); console.log(\"probe\", typeof $args); return { calls: $state.calls, args: typeof $args };"
    }
  }
}'

# Creates PROBE_PANEL on the running kernel and exports its id as NEXUS_PROBE_PANEL_ID.
create_probe_panel() {
  local response
  response="$(curl -sf -X POST "$KERNEL_URL/panels" -H 'Content-Type: application/json' "$@" --data "$PROBE_PANEL")" ||
    die "could not create the probe panel on $KERNEL_URL"
  NEXUS_PROBE_PANEL_ID="$(sed -n 's/^{"id":"\([^"]*\)".*/\1/p' <<<"$response")"
  [ -n "$NEXUS_PROBE_PANEL_ID" ] || die "the probe panel's creation answered without an id: $response"
  export NEXUS_PROBE_PANEL_ID
}

run_mode() {
  local mode="$1" started=$SECONDS
  local args=()
  case "$mode" in
    off) start_kernel auth-off ;;
    on)
      local secret token
      secret="$(head -c 32 /dev/urandom | base64)"
      start_kernel auth-on JWT_SECRET="$secret"
      token="$(mint_token "$secret")"
      [ -n "$token" ] || die "could not mint a token with jose"
      args+=(--header "Authorization: Bearer $token")
      ;;
    *) die "unknown mode $mode (off or on)" ;;
  esac
  create_probe_panel "${args[@]}"
  step "schemathesis $SCHEMATHESIS_VERSION: auth $mode, kernel $KERNEL_URL (pid $KERNEL_PID), budget ${SCHEMATHESIS_TIME_BUDGET_S} s"
  local rc=0
  (cd "$WORK" && timeout --signal=TERM --kill-after=10s "$SCHEMATHESIS_TIME_BUDGET_S" \
    "$ST" --config-file "$CONFIG" --no-color run "$KERNEL_URL/openapi.json" "${args[@]}") || rc=$?
  stop_kernel
  if [ $rc -eq 124 ]; then
    die "schemathesis (auth $mode) ran past its ${SCHEMATHESIS_TIME_BUDGET_S} s budget (SCHEMATHESIS_TIME_BUDGET_S) and was stopped"
  elif [ $rc -ne 0 ]; then
    echo "==> the kernel's last log lines (auth $mode):" >&2
    tail -n 20 "$LOG_DIR/kernel-auth-$mode.log" >&2
    die "schemathesis (auth $mode) found nonconformance (exit $rc)"
  fi
  step "schemathesis: auth $mode conforms ($((SECONDS - started)) s)"
}

modes=("$@")
[ ${#modes[@]} -gt 0 ] || modes=(off on)
for mode in "${modes[@]}"; do run_mode "$mode"; done

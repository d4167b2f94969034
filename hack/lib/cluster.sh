# shellcheck shell=bash disable=SC2034
# Shared helpers of the local control plane scripts (cluster-up.sh, cluster-down.sh).
# The run directory holds everything a cluster owns: pki/, data/, logs/, pids/, ports.env,
# kubeconfig and cluster.env (what tests and tools read). Nothing is written to the repository.

: "${NEXUS_CACHE:=$HOME/.cache/nexus}"
BIN="$NEXUS_CACHE/bin"

# Start-up order; cluster-down stops them in reverse (a real node's containerd, kubelet and
# kube-proxy first, through node_teardown, which also ends their pods).
COMPONENTS=(etcd kube-apiserver kube-controller-manager kube-scheduler kwok)

step() { printf '==> %s\n' "$*"; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

pid_file() { echo "$RUN_DIR/pids/$1.pid"; }

# Prints the PID of a running component, or nothing. A PID file whose process is gone (or was
# reused by an unrelated program: ours name RUN_DIR in their arguments or environment) does not count.
running_pid() {
  local f pid
  f="$(pid_file "$1")"
  [ -f "$f" ] || return 0
  pid="$(cat "$f")"
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null \
     && cat "/proc/$pid/cmdline" "/proc/$pid/environ" 2>/dev/null | tr '\0' '\n' | grep -qF -- "$RUN_DIR/"; then
    echo "$pid"
  fi
}

# Starts a component detached from this shell (it outlives `make cluster`) unless it runs already.
# Usage: start NAME COMMAND...   (log in logs/NAME.log, PID in pids/NAME.pid)
start() {
  local name="$1"; shift
  local pid
  pid="$(running_pid "$name")"
  if [ -n "$pid" ]; then
    echo "    $name already running (pid $pid)"
    return 0
  fi
  # The component gets no descriptor of ours beyond 0-2: one inherited from `flock FILE make ...`
  # would hold that lock for as long as the component runs.
  (
    for fd in "/proc/$BASHPID/fd/"*; do
      fd="${fd##*/}"
      [ "$fd" -le 2 ] || eval "exec $fd>&-"
    done
    exec setsid nohup "$@" >>"$RUN_DIR/logs/$name.log" 2>&1 </dev/null
  ) &
  echo $! >"$(pid_file "$name")"
  echo "    $name started (pid $!, log $RUN_DIR/logs/$name.log)"
}

# Sets the variable named $1 to a TCP port that nothing listens on, from 20000-32767 (below the
# ephemeral range), never one this shell picked before.
pick_port() {
  # Names of its own, so that the caller's variable $1 is never shadowed by a local.
  local _pick_candidate _pick_used
  _pick_used="$(ss -Htan | awk '{print $4}' | sed 's/.*://' | sort -u)"
  for _ in $(seq 1 200); do
    _pick_candidate=$((20000 + RANDOM % 12768))
    if ! grep -qx "$_pick_candidate" <<<"$_pick_used" && ! grep -qx "$_pick_candidate" <<<"${TAKEN_PORTS:-}"; then
      TAKEN_PORTS="${TAKEN_PORTS:-}"$'\n'"$_pick_candidate"
      printf -v "$1" '%s' "$_pick_candidate"
      return 0
    fi
  done
  die "no free port found"
}

# Prints one free port (for a single port; use pick_port for several in a row).
free_port() {
  local port
  pick_port port
  echo "$port"
}

# Polls a command until it succeeds or the deadline (seconds) passes.
wait_for() {
  local what="$1" timeout="$2"; shift 2
  local deadline=$((SECONDS + timeout))
  until "$@" >/dev/null 2>&1; do
    [ $SECONDS -lt $deadline ] || die "$what did not become ready within ${timeout}s (logs: $RUN_DIR/logs)"
    sleep 0.5
  done
}

stop_pid() {
  local name="$1" pid="$2"
  kill -TERM "$pid" 2>/dev/null || return 0
  for _ in $(seq 1 40); do
    kill -0 "$pid" 2>/dev/null || return 0
    sleep 0.25
  done
  echo "    $name (pid $pid) ignored SIGTERM for 10s; sending SIGKILL"
  kill -KILL "$pid" 2>/dev/null || true
}

#!/usr/bin/env bash
# Stops what hack/cluster-up.sh started from RUN_DIR, by PID, in reverse start-up order.
# Usage: hack/cluster-down.sh [--purge] [RUN_DIR]   (--purge also deletes RUN_DIR: data, certs, logs)
set -euo pipefail
HACK="$(cd "$(dirname "$0")" && pwd)"
# shellcheck source=hack/lib/cluster.sh
source "$HACK/lib/cluster.sh"

purge=0
if [ "${1:-}" = "--purge" ]; then purge=1; shift; fi
RUN_DIR="${1:-${NEXUS_CLUSTER_DIR:-$NEXUS_CACHE/run/cluster}}"
[ -d "$RUN_DIR" ] || { step "no cluster at $RUN_DIR"; exit 0; }
RUN_DIR="$(cd "$RUN_DIR" && pwd)"

for ((i = ${#COMPONENTS[@]} - 1; i >= 0; i--)); do
  name="${COMPONENTS[$i]}"
  pid="$(running_pid "$name")"
  if [ -n "$pid" ]; then
    step "stopping $name (pid $pid)"
    stop_pid "$name" "$pid"
  fi
  rm -f "$(pid_file "$name")"
done
if [ $purge -eq 1 ]; then
  rm -rf "$RUN_DIR"
  step "removed $RUN_DIR"
else
  step "stopped; data and logs kept in $RUN_DIR"
fi

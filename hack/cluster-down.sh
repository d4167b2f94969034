#!/usr/bin/env bash
# Stops what hack/cluster-up.sh started from RUN_DIR, by PID, in reverse start-up order. A real
# node goes first: kube-proxy, kubelet, its pods' processes, containerd and its shims, then its
# mounts, cgroups, network namespace and veth (the host's routes go with the veth).
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

if [ "$(cat "$RUN_DIR/node-mode" 2>/dev/null)" = real ]; then
  # shellcheck source=hack/lib/node.sh
  source "$HACK/lib/node.sh"
  owner="$(node_owner)"
  if [ -n "$owner" ] && [ "$owner" != "$RUN_DIR" ]; then
    step "the network namespace $NODE_NETNS belongs to $owner; stopping only this run directory's processes"
    for name in "${NODE_COMPONENTS[@]}"; do
      pid="$(running_pid "$name")"
      [ -z "$pid" ] || { step "stopping $name (pid $pid)"; stop_pid "$name" "$pid"; }
    done
  else
    node_teardown "$RUN_DIR"
    step "removed the namespace $NODE_NETNS and the veth $HOST_VETH"
  fi
fi

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

#!/usr/bin/env bash
# `make port-forward`: a NexusRuntime's HTTP and WebSocket ports on localhost, kept across
# rollouts. `kubectl port-forward svc/NAME` binds to one pod and exits when that pod goes away —
# which every rollout does — so this waits for a Ready kernel pod and forwards again.
# Usage: hack/port-forward.sh [NAME] [NAMESPACE]   (defaults: demo, default)
# Ports: HTTP_PORT (3000) and WS_PORT (3001) locally, to the Service's http and ws ports. Keep
# the WebSocket port at 3001 unless the kernel's WS_PORT matches: POST /panels answers a wsUrl
# on the kernel's own WebSocket port.
set -euo pipefail
name="${1:-demo}"
namespace="${2:-default}"
http_port="${HTTP_PORT:-3000}"
ws_port="${WS_PORT:-3001}"
kubectl_="${KUBECTL:-kubectl}"
selector="app.kubernetes.io/name=workspace-kernel,app.kubernetes.io/instance=$name"

say() { printf '==> port-forward: %s\n' "$*" >&2; }
child=
stop() {
  [ -z "$child" ] || kill "$child" 2>/dev/null || true
  exit 0
}
trap stop INT TERM

while :; do
  until "$kubectl_" -n "$namespace" wait pod -l "$selector" --for=condition=Ready --timeout=30s >/dev/null 2>&1; do
    say "waiting for a Ready kernel pod of $namespace/$name"
    sleep 2
  done
  say "localhost:$http_port (http) and localhost:$ws_port (ws) → svc/$name"
  "$kubectl_" -n "$namespace" port-forward "svc/$name" "$http_port:http" "$ws_port:ws" >/dev/null &
  child=$!
  wait "$child" || true
  child=
  say "the forwarded pod went away (a rollout or a restart); forwarding again"
  sleep 1
done

#!/usr/bin/env bash
# `make port-forward`: a NexusRuntime's HTTP and WebSocket ports on localhost, kept across
# rollouts. `kubectl port-forward svc/NAME` binds to one pod and keeps pointing at it after a
# rollout deleted it, so the next request fails ("lost connection to pod"). This forwards to a
# pod the Service counts as ready and moves to another as soon as that pod stops being one.
# Usage: hack/port-forward.sh [NAME] [NAMESPACE]   (defaults: demo, default)
# Ports: HTTP_PORT (3000) and WS_PORT (3001) locally, to the pod's http and ws ports. Keep the
# WebSocket port at the kernel's own (3001): POST /panels answers a wsUrl on it.
set -euo pipefail
name="${1:-demo}"
namespace="${2:-default}"
http_port="${HTTP_PORT:-3000}"
ws_port="${WS_PORT:-3001}"
kubectl_="${KUBECTL:-kubectl}"

say() { printf '==> port-forward: %s\n' "$*" >&2; }

# The pods behind the Service that are ready (a terminating pod is not), one per line.
ready_pods() {
  "$kubectl_" -n "$namespace" get endpointslices -l "kubernetes.io/service-name=$name" \
    -o jsonpath='{range .items[*].endpoints[?(@.conditions.ready==true)]}{.targetRef.name}{"\n"}{end}' 2>/dev/null
}

child=
stop() {
  [ -z "$child" ] || kill "$child" 2>/dev/null || true
  exit 0
}
trap stop INT TERM

waiting=0
while :; do
  pod="$(ready_pods | head -n 1)"
  if [ -z "$pod" ]; then
    [ $waiting -eq 1 ] || say "waiting for a ready kernel pod behind svc/$name in $namespace"
    waiting=1
    sleep 1
    continue
  fi
  waiting=0
  say "localhost:$http_port (http) and localhost:$ws_port (ws) → pod/$pod"
  "$kubectl_" -n "$namespace" port-forward "pod/$pod" "$http_port:http" "$ws_port:ws" >/dev/null &
  child=$!
  while kill -0 "$child" 2>/dev/null && ready_pods | grep -qxF "$pod"; do sleep 1; done
  kill "$child" 2>/dev/null || true
  wait "$child" 2>/dev/null || true
  child=
  say "pod/$pod stopped serving (a rollout or a restart); moving the forward"
done

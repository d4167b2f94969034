#!/usr/bin/env bash
# The kernel pod's CPU shape on the real node (needs `make dev`'s cluster): one kernel pod with the
# CRD's default resources and autoscaling, trivial triggers at a steady rate, alone and beside
# clients that keep CPU-bound handlers running on panels of their own. For each phase: the trivial
# triggers' latency (p50, p99), every answer by kind, the container's CFS throttling (its cgroup's
# cpu.stat: periods, throttled periods, throttled time) and what the HPA saw and decided.
# Usage: hack/bench-cpu-shape.sh [SECONDS_PER_PHASE] [HOT_CLIENTS...]   (default 30; 0 2 4)
# RESOURCES='{"requests":{...},"limits":{...}}' and AUTOSCALING='{...}' override the runtime's spec.
set -euo pipefail
HACK="$(cd "$(dirname "$0")" && pwd)"
RUN_DIR="$(cd "${NEXUS_CLUSTER_DIR:-${NEXUS_CACHE:-$HOME/.cache/nexus}/run/cluster}" && pwd)"
SECONDS_PER_PHASE="${1:-30}"
[ $# -eq 0 ] || shift
PHASES=(0 2 4)
[ $# -eq 0 ] || PHASES=("$@")
# shellcheck source=hack/lib/cluster.sh
source "$HACK/lib/cluster.sh"
# shellcheck source=hack/lib/dev.sh
source "$HACK/lib/dev.sh"
NS=nexus-bench-cpu
NAME=cpu
hpa_sampler=""
cleanup() {
  [ -z "$hpa_sampler" ] || kill "$hpa_sampler" 2>/dev/null || true
  kubectl delete namespace "$NS" --wait=false >/dev/null 2>&1 || true
}
trap cleanup EXIT

kubectl delete namespace "$NS" --ignore-not-found --wait=true --timeout=180s >/dev/null
kubectl create namespace "$NS" >/dev/null
spec_resources="${RESOURCES:+resources: $RESOURCES}"
spec_autoscaling="${AUTOSCALING:+autoscaling: $AUTOSCALING}"
kubectl -n "$NS" apply -f - >/dev/null <<YAML
apiVersion: nexus.dev/v1alpha1
kind: NexusRuntime
metadata:
  name: $NAME
spec:
  store: {managed: {persistence: {enabled: false}}}
  $spec_resources
  $spec_autoscaling
YAML
wait_runtime_ready "$NS" "$NAME" 300
selector="app.kubernetes.io/name=workspace-kernel,app.kubernetes.io/instance=$NAME"
pod="$(kubectl -n "$NS" get pods -l "$selector" -o jsonpath='{.items[0].metadata.name}')"
ip="$(kubectl -n "$NS" get pod "$pod" -o jsonpath='{.status.podIP}')"
step "kernel pod $pod at $ip: $(kubectl -n "$NS" get pod "$pod" -o jsonpath='{.spec.containers[?(@.name=="kernel")].resources}')"

# The kernel container's cgroup cpu.stat (v1: nr_periods nr_throttled throttled_time ns; v2:
# nr_periods nr_throttled throttled_usec), as "periods throttled throttled_ms".
cpu_stat() {
  kubectl -n "$NS" exec "$pod" -c kernel -- sh -c \
    'if [ -f /sys/fs/cgroup/cpu/cpu.stat ]; then cat /sys/fs/cgroup/cpu/cpu.stat; else cat /sys/fs/cgroup/cpu.stat; fi' \
    | awk '$1 == "nr_periods" { p = $2 } $1 == "nr_throttled" { t = $2 }
           $1 == "throttled_time" { ms = $2 / 1e6 } $1 == "throttled_usec" { ms = $2 / 1e3 }
           END { printf "%d %d %.0f\n", p, t, ms }'
}

# Samples the HPA every 5 s into a file: seconds, current and desired replicas, memory and CPU %.
hpa_samples="$(mktemp)"
(
  while :; do
    kubectl -n "$NS" get hpa "$NAME" -o jsonpath='{.status.currentReplicas} {.status.desiredReplicas} {range .status.currentMetrics[*]}{.resource.name}={.resource.current.averageUtilization}% {end}{"\n"}' \
      2>/dev/null | sed "s/^/$SECONDS /" >>"$hpa_samples" || true
    sleep 5
  done
) &
hpa_sampler=$!

for hot in "${PHASES[@]}"; do
  read -r p0 t0 ms0 < <(cpu_stat)
  result="$(node "$HACK/lib/cpu-shape-load.mjs" "http://$ip:3000" "$SECONDS_PER_PHASE" "$hot" 20)"
  read -r p1 t1 ms1 < <(cpu_stat)
  step "$hot CPU-bound clients: $result"
  echo "    CFS: $((t1 - t0)) of $((p1 - p0)) periods throttled, $((ms1 - ms0)) ms throttled in ${SECONDS_PER_PHASE} s"
  echo "    HPA (replicas current desired, utilisation): $(tail -n 1 "$hpa_samples" | cut -d' ' -f2-)"
done
step "HPA over the run (seconds since start, replicas current desired, utilisation of the requests):"
sed 's/^/    /' "$hpa_samples"

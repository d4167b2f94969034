#!/usr/bin/env bash
# Start-to-Ready of a new kernel pod on the real node, with the image's compiled guest module (the
# seed) and without it, on an idle machine and under CPU load. Needs `make dev`'s cluster.
#   "without": the same image with /opt/nexus/cache-seed emptied, so the bridge compiles the guest
#   module at start as images before the seed did.
#   "under load": two busy loops, one per core, for the duration of the measurement.
# Each figure: a kernel pod deleted, its replacement timed from the moment it appears to Ready
# (which includes creating the container and the probes' periods), and the kernel's own warm-up
# (its "ready" log line's warmUpMs: loading or compiling the guest module, filling the pool).
# Usage: hack/bench-pod-start.sh [ROUNDS]   (default 5)
set -euo pipefail
HACK="$(cd "$(dirname "$0")" && pwd)"
RUN_DIR="$(cd "${NEXUS_CLUSTER_DIR:-${NEXUS_CACHE:-$HOME/.cache/nexus}/run/cluster}" && pwd)"
ROUNDS="${1:-5}"
# shellcheck source=hack/lib/cluster.sh
source "$HACK/lib/cluster.sh"
# shellcheck source=hack/lib/dev.sh
source "$HACK/lib/dev.sh"
NS=nexus-bench-start
seeded="$(manifest_images | grep workspace-kernel)"
unseeded="${seeded%:*}:no-seed"
load_pids=()
cleanup() {
  for pid in "${load_pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  kubectl delete namespace "$NS" --wait=false >/dev/null 2>&1 || true
}
trap cleanup EXIT

step "images: $seeded and $unseeded (its seed directory emptied)"
context="$(mktemp -d)"
printf 'FROM %s\nUSER 0\nRUN find /opt/nexus/cache-seed -mindepth 1 -delete\nUSER 10001:10001\n' "$seeded" >"$context/Containerfile"
"$HACK/images/podman.sh" build --quiet --pull=never --network none --format docker -t "$unseeded" "$context" >/dev/null
rm -rf "$context"
node_import_images "$seeded" "$unseeded"
# A namespace of its own, fresh: an earlier run's may still be terminating.
kubectl delete namespace "$NS" --ignore-not-found --wait=true --timeout=180s >/dev/null
kubectl create namespace "$NS" >/dev/null

now_ms() { date +%s%3N; }

# Deletes the runtime's kernel pod and prints the milliseconds from its replacement's appearance
# to its Ready condition, and the replacement kernel's warm-up in milliseconds.
replace_once() {
  local name="$1" old new appeared ready
  old="$(kubectl -n "$NS" get pods -l "app.kubernetes.io/name=workspace-kernel,app.kubernetes.io/instance=$name" -o name)"
  kubectl -n "$NS" delete "$old" --wait=false >/dev/null
  until new="$(kubectl -n "$NS" get pods -l "app.kubernetes.io/name=workspace-kernel,app.kubernetes.io/instance=$name" \
      -o name 2>/dev/null | grep -vxF "$old")"; do sleep 0.1; done
  appeared="$(now_ms)"
  until [ "$(kubectl -n "$NS" get "$new" -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}' 2>/dev/null)" = True ]; do
    sleep 0.1
  done
  ready="$(now_ms)"
  warm="$(kubectl -n "$NS" logs "$new" -c kernel | grep '"msg":"ready"' | grep -o '"warmUpMs":[0-9]*' | cut -d: -f2)"
  kubectl -n "$NS" wait "$old" --for=delete --timeout=120s >/dev/null 2>&1 || true
  echo "$((ready - appeared)) ${warm:-0}"
}

# Median, min and max of column COLUMN of its input, in seconds.
summary() {
  cut -d' ' -f"$1" | sort -n \
    | awk '{ v[NR] = $1 } END { printf "median %.2f s (min %.2f, max %.2f, n=%d)", v[int((NR + 1) / 2)] / 1000, v[1] / 1000, v[NR] / 1000, NR }'
}

for variant in "seed $seeded" "no-seed $unseeded"; do
  read -r label image <<<"$variant"
  name="start-$label"
  kubectl -n "$NS" apply -f - >/dev/null <<YAML
apiVersion: nexus.dev/v1alpha1
kind: NexusRuntime
metadata:
  name: $name
spec:
  image: $image
  replicas: 1
  autoscaling: {enabled: false}
  store: {managed: {persistence: {enabled: false}}}
YAML
  wait_runtime_ready "$NS" "$name" 300
  for load in idle loaded; do
    if [ "$load" = loaded ]; then
      for _ in 1 2; do (while :; do :; done) & load_pids+=($!); done
    fi
    rounds="$(for _ in $(seq 1 "$ROUNDS"); do replace_once "$name"; done)"
    step "$label, $load: new kernel pod start-to-Ready $(summary 1 <<<"$rounds"); kernel warm-up $(summary 2 <<<"$rounds")"
    for pid in "${load_pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    load_pids=()
  done
  kubectl -n "$NS" delete nexusruntime "$name" --wait=true --timeout=120s >/dev/null
done

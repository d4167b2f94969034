#!/usr/bin/env bash
# End to end, the user's flow of SPEC.md's opening, against a control plane of its own:
#   kubectl apply -k config/default; the operator run locally against the cluster
#   kubectl apply -f config/samples/nexusruntime.yaml; kubectl wait --for=condition=Ready
#   kubectl patch ... memoryLimitMB 64; watch the conditions while the pods roll
#   kubectl port-forward svc/demo and curl /health of a REAL kernel (KWOK forwards the simulated
#   pod's port to `node kernel/dist/index.js` on loopback), then run a panel handler through it.
# Exit status 0 only when every step did what the user expects. NEXUS_E2E_KEEP=1 keeps the run dir.
set -euo pipefail
HACK="$(cd "$(dirname "$0")/../../hack" && pwd)"
RUN_DIR="$(mktemp -d "${TMPDIR:-/tmp}/nexus-e2e-XXXXXX")"
# shellcheck source=hack/lib/cluster.sh
source "$HACK/lib/cluster.sh"

forward_pid=""
watch_pid=""
cleanup() {
  local status=$?
  for pid in $forward_pid $watch_pid; do kill "$pid" 2>/dev/null || true; done
  if [ $status -ne 0 ]; then
    echo "e2e FAILED (exit $status); logs in $RUN_DIR/logs" >&2
    tail -n 20 "$RUN_DIR/logs/operator.log" "$RUN_DIR/logs/kernel.log" 2>/dev/null >&2 || true
  fi
  if [ "${NEXUS_E2E_KEEP:-}" = 1 ] || [ $status -ne 0 ]; then
    "$HACK/cluster-down.sh" "$RUN_DIR"
  else
    "$HACK/cluster-down.sh" --purge "$RUN_DIR"
  fi
  exit $status
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

"$HACK/cluster-up.sh" "$RUN_DIR"
# shellcheck source=hack/lib/dev.sh
source "$HACK/lib/dev.sh"

step "e2e 1/6: kubectl apply -k config/default (the operator runs locally)"
install_operator_manifests
start_operator

step "e2e 2/6: kubectl apply -f config/samples/nexusruntime.yaml; kubectl wait --for=condition=Ready"
kubectl apply -n default -f "$ROOT/config/samples/nexusruntime.yaml"
kubectl wait -n default nexusruntime/demo --for=condition=Ready --timeout=120s
kubectl get -n default nxr demo

step "e2e 3/6: kubectl patch memoryLimitMB 64; kubectl get -w shows the conditions while pods roll"
old_hash="$(kubectl get -n default nxr demo -o jsonpath='{.status.configHash}')"
kubectl get -n default nexusruntime demo -w >"$RUN_DIR/logs/watch.txt" 2>&1 &
watch_pid=$!
kubectl patch -n default nexusruntime/demo --type merge -p '{"spec":{"runtime":{"memoryLimitMB":64}}}'
generation="$(kubectl get -n default nxr demo -o jsonpath='{.metadata.generation}')"
wait_for "Ready at generation $generation" 120 bash -c "
  [ \"\$('$KUBECTL' get -n default nxr demo -o jsonpath='{.status.observedGeneration}/{.status.conditions[?(@.type==\"Ready\")].status}')\" = '$generation/True' ]"
kill "$watch_pid"; watch_pid=""
cat "$RUN_DIR/logs/watch.txt"
[ "$(wc -l <"$RUN_DIR/logs/watch.txt")" -ge 2 ] || fail "kubectl get -w showed no change while the pods rolled"
[ "$(kubectl get -n default cm demo-config -o jsonpath='{.data.MEMORY_LIMIT_MB}')" = 64 ] \
  || fail "ConfigMap demo-config does not carry MEMORY_LIMIT_MB=64"
new_hash="$(kubectl get -n default nxr demo -o jsonpath='{.status.configHash}')"
[ "$new_hash" != "$old_hash" ] || fail "the config hash did not change: the pods would not roll"
kubectl rollout status -n default deployment/demo --timeout=120s

step "e2e 4/6: a real kernel with the new ConfigMap behind the demo pods"
start_kernel default demo

step "e2e 5/6: kubectl port-forward svc/demo, curl /health"
local_port="$(free_port)"
kubectl port-forward -n default svc/demo "$local_port:3000" >"$RUN_DIR/logs/port-forward.log" 2>&1 &
forward_pid=$!
wait_for "port-forward to svc/demo" 30 curl -sf "http://127.0.0.1:$local_port/health"
health="$(curl -sf "http://127.0.0.1:$local_port/health")"
echo "    /health: $health"
grep -q '"status":"ok"' <<<"$health" || fail "/health through the port-forward did not report ok"

step "e2e 6/6: a panel handler runs in the sandbox, through the port-forward"
# shellcheck disable=SC2016 # $state and $args are the handler's globals, not shell variables
panel="$(curl -sf -X POST "http://127.0.0.1:$local_port/panels" -H 'content-type: application/json' -d '{
  "title": "Counter", "state": {"count": 0},
  "tools": {"increment": {"description": "Add to the counter",
    "args": {"type": "object", "properties": {"by": {"type": "number"}}, "required": ["by"]},
    "capabilities": ["state:read:*", "state:write:count"],
    "handler": "$state.count += $args.by; return $state.count"}}}')"
panel_id="$(sed -n 's/.*"id":"\([^"]*\)".*/\1/p' <<<"$panel")"
[ -n "$panel_id" ] || fail "POST /panels returned no id: $panel"
result="$(curl -sf -X POST "http://127.0.0.1:$local_port/panels/$panel_id/trigger/increment" \
  -H 'content-type: application/json' -d '{"by": 41}')"
echo "    trigger: $result"
grep -q '"returnValue":41' <<<"$result" || fail "the handler did not return 41: $result"

step "e2e passed"

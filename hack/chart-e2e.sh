#!/usr/bin/env bash
# `make chart-e2e`: the Helm chart on a real node, in a cluster of its own (one real node per
# machine: stop a running `make dev` cluster first). `helm install` of charts/nexus-operator with
# its default values and the project's images, a NexusRuntime Ready through the chart's operator
# pods, `helm upgrade` (new values roll the operator; a spec change is still reconciled), then
# `helm uninstall`: the operator goes, the CRD and the NexusRuntime stay. `make chart-e2e` builds
# the images first. NEXUS_E2E_KEEP=1 keeps the run directory (logs, kubeconfig).
set -euo pipefail
HACK="$(cd "$(dirname "$0")" && pwd)"
RUN_DIR="$(mktemp -d "${TMPDIR:-/tmp}/nexus-chart-e2e-XXXXXX")"
# shellcheck source=hack/lib/cluster.sh
source "$HACK/lib/cluster.sh"
started=$SECONDS
RELEASE=nexus-operator
USERS=nexus-helm

cleanup() {
  local status=$?
  if [ $status -ne 0 ] && [ -f "$RUN_DIR/cluster.env" ]; then
    print_diagnostics "$USERS" 2>&1 | tail -n 300 >&2 || true
    echo "chart-e2e FAILED (exit $status); logs in $RUN_DIR/logs" >&2
  fi
  if [ "${NEXUS_E2E_KEEP:-}" = 1 ] || [ $status -ne 0 ]; then
    "$HACK/cluster-down.sh" "$RUN_DIR" | sed 's/^/    /'
  else
    "$HACK/cluster-down.sh" --purge "$RUN_DIR" | sed 's/^/    /'
  fi
  [ $status -ne 0 ] || step "chart-e2e passed in $((SECONDS - started))s"
  exit $status
}
trap cleanup EXIT

eval "$("$HACK/build-tools.sh" --print-env)"
"$HACK/cluster-up.sh" --node=real "$RUN_DIR"
# shellcheck source=hack/lib/dev.sh
source "$HACK/lib/dev.sh"
helm() { "$HELM" --kubeconfig "$KUBECONFIG" "$@"; }
chart="$ROOT/charts/nexus-operator"

step "images: the operator, kernel and store images the chart's defaults name, into the node"
import_project_images

step "helm install $RELEASE charts/nexus-operator -n $OPERATOR_NAMESPACE --create-namespace"
helm install "$RELEASE" "$chart" -n "$OPERATOR_NAMESPACE" --create-namespace --wait --timeout 3m | sed 's/^/    /'
kubectl wait --for=condition=Established --timeout=60s crd/nexusruntimes.nexus.dev >/dev/null

step "a NexusRuntime Ready through the chart's operator"
kubectl create namespace "$USERS" >/dev/null
kubectl apply -n "$USERS" -f "$ROOT/config/samples/nexusruntime.yaml" | sed 's/^/    /'
wait_runtime_ready "$USERS" demo 300
kubectl -n "$USERS" get nexusruntime demo | sed 's/^/    /'

step "helm upgrade (LOG_LEVEL=debug rolls the operator); a spec change is reconciled after it"
before="$(kubectl -n "$OPERATOR_NAMESPACE" get deployment "$RELEASE" -o jsonpath='{.metadata.generation}')"
helm upgrade "$RELEASE" "$chart" -n "$OPERATOR_NAMESPACE" --set logLevel=debug --wait --timeout 3m | sed 's/^/    /'
after="$(kubectl -n "$OPERATOR_NAMESPACE" get deployment "$RELEASE" -o jsonpath='{.metadata.generation}')"
[ "$after" -gt "$before" ] || die "helm upgrade did not change the operator's Deployment (generation $before)"
level="$(kubectl -n "$OPERATOR_NAMESPACE" get deployment "$RELEASE" \
  -o jsonpath='{.spec.template.spec.containers[0].env[?(@.name=="LOG_LEVEL")].value}')"
[ "$level" = debug ] || die "after helm upgrade LOG_LEVEL is '$level', not debug"
kubectl -n "$USERS" patch nexusruntime demo --type merge -p '{"spec":{"runtime":{"memoryLimitMB":48}}}' | sed 's/^/    /'
wait_runtime_ready "$USERS" demo 300
limit="$(kubectl -n "$USERS" get configmap demo-config -o jsonpath='{.data.MEMORY_LIMIT_MB}')"
[ "$limit" = 48 ] || die "the upgraded operator did not apply memoryLimitMB=48 (ConfigMap says '$limit')"

step "helm uninstall: the operator goes; the CRD and the NexusRuntime stay"
helm uninstall "$RELEASE" -n "$OPERATOR_NAMESPACE" --wait --timeout 2m | sed 's/^/    /'
if kubectl -n "$OPERATOR_NAMESPACE" get deployment "$RELEASE" >/dev/null 2>&1; then
  die "the operator's Deployment is still there after helm uninstall"
fi
kubectl get crd nexusruntimes.nexus.dev >/dev/null || die "helm uninstall deleted the CRD"
kubectl -n "$USERS" get nexusruntime demo >/dev/null || die "helm uninstall deleted the NexusRuntime"
kubectl -n "$USERS" get nexusruntime demo | sed 's/^/    /'

#!/usr/bin/env bash
# `make dev`: the local cluster with its real node, the project's images in it, `kubectl apply -k
# config/default` (the operator runs as pods from its image, under its own ServiceAccount), the
# sample NexusRuntime, and commands that work against its real pods.
# Everything keeps running; `make cluster-down` stops all of it by PID.
set -euo pipefail
HACK="$(cd "$(dirname "$0")" && pwd)"
RUN_DIR="${NEXUS_CLUSTER_DIR:-${NEXUS_CACHE:-$HOME/.cache/nexus}/run/cluster}"
started=$SECONDS
"$HACK/cluster-up.sh" --node=real "$RUN_DIR"
RUN_DIR="$(cd "$RUN_DIR" && pwd)"
# shellcheck source=hack/lib/cluster.sh
source "$HACK/lib/cluster.sh"
# shellcheck source=hack/lib/dev.sh
source "$HACK/lib/dev.sh"
on_exit() {
  local status=$?
  [ $status -eq 0 ] || print_diagnostics default
  exit $status
}
trap on_exit EXIT

step "images: the operator, kernel and store images config/default names, into the node"
import_project_images
step "operator: kubectl apply -k config/default; the nexus-operator pods Ready"
restart_replaced_workloads
install_operator
step "sample: kubectl apply -f config/samples/nexusruntime.yaml; wait for Ready"
kubectl apply -n default -f "$ROOT/config/samples/nexusruntime.yaml" | sed 's/^/    /'
wait_runtime_ready default demo 300
kubectl -n default get nexusruntime demo | sed 's/^/    /'
kubectl -n default get pods -o wide | sed 's/^/    /'

cat <<DONE
==> ready in $((SECONDS - started))s. Every pod above is a real container on node $NODE_NAME. Try:
    export KUBECONFIG=$KUBECONFIG
    alias kubectl=$KUBECTL
    kubectl get nexusruntime demo
    kubectl port-forward svc/demo 3000:3000 &
    curl localhost:3000/health
    kubectl top pods
    gen=\$(kubectl patch nexusruntime/demo --type merge -p '{"spec":{"runtime":{"memoryLimitMB":64}}}' -o jsonpath='{.metadata.generation}')
    kubectl wait nexusruntime/demo --for=jsonpath='{.status.observedGeneration}'="\$gen"   # the operator saw the change
    kubectl wait nexusruntime/demo --for=condition=Ready --timeout=300s                  # and rolled it out
    make cluster-down
DONE

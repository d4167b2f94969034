#!/usr/bin/env bash
# `make dev`: the local cluster, the operator's manifests, the operator as a local process, the
# sample NexusRuntime, and a real kernel reachable through `kubectl port-forward`.
# Everything runs in the background; `make cluster-down` stops all of it by PID.
set -euo pipefail
HACK="$(cd "$(dirname "$0")" && pwd)"
RUN_DIR="${NEXUS_CLUSTER_DIR:-${NEXUS_CACHE:-$HOME/.cache/nexus}/run/cluster}"
"$HACK/cluster-up.sh" "$RUN_DIR"
RUN_DIR="$(cd "$RUN_DIR" && pwd)"
# shellcheck source=hack/lib/cluster.sh
source "$HACK/lib/cluster.sh"
# shellcheck source=hack/lib/dev.sh
source "$HACK/lib/dev.sh"

step "operator manifests: kubectl apply -k config/default"
install_operator_manifests
step "operator: node operator/dist/index.js"
start_operator
step "sample: kubectl apply -f config/samples/nexusruntime.yaml"
kubectl apply -n default -f "$ROOT/config/samples/nexusruntime.yaml" | sed 's/^/    /'
kubectl wait -n default nexusruntime/demo --for=condition=Ready --timeout=120s | sed 's/^/    /'
step "kernel: node kernel/dist/index.js behind the simulated pods of demo"
start_kernel default demo

cat <<DONE
==> ready. Try:
    export KUBECONFIG=$KUBECONFIG
    alias kubectl=$KUBECTL
    kubectl get nxr demo
    kubectl patch nexusruntime/demo --type merge -p '{"spec":{"runtime":{"memoryLimitMB":64}}}'
    kubectl port-forward svc/demo 3000 & curl localhost:3000/health
    make cluster-down
DONE

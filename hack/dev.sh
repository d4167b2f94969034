#!/usr/bin/env bash
# `make dev`: the local cluster with its real node, the project's images in it, `kubectl apply -k
# config/default` (the operator runs as pods from its image, under its own ServiceAccount), the
# sample NexusRuntime, and commands that work against its real pods.
# Everything keeps running; `make cluster-down` stops all of it by PID.
set -euo pipefail
HACK="$(cd "$(dirname "$0")" && pwd)"
RUN_DIR="${NEXUS_CLUSTER_DIR:-${NEXUS_CACHE:-$HOME/.cache/nexus}/run/cluster}"
started=$SECONDS
# shellcheck source=hack/lib/cluster.sh
source "$HACK/lib/cluster.sh"
# A stopped cluster's etcd would bring its NexusRuntimes, panels, restarts and events back into
# the new one: start clean unless asked to keep them, and say which it is.
if [ -d "$RUN_DIR/data/etcd" ]; then
  RUN_DIR="$(cd "$RUN_DIR" && pwd)"
  if [ -n "$(running_pid kube-apiserver)" ]; then
    step "the cluster in $RUN_DIR is running: its NexusRuntimes, panels and events are kept (make cluster-down PURGE=1, then make dev, starts clean)"
  elif [ "${NEXUS_DEV_KEEP:-0}" = 1 ]; then
    step "NEXUS_DEV_KEEP=1: the stopped cluster's NexusRuntimes, panels and events in $RUN_DIR come back"
  else
    step "a stopped cluster's state is in $RUN_DIR: removing it for a clean start (NEXUS_DEV_KEEP=1 keeps it)"
    "$HACK/cluster-down.sh" --purge "$RUN_DIR" | sed 's/^/    /'
  fi
fi
"$HACK/cluster-up.sh" --node=real "$RUN_DIR"
RUN_DIR="$(cd "$RUN_DIR" && pwd)"
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
    make port-forward &          # localhost:3000 (http) and :3001 (ws), forwarded again after every rollout
    curl localhost:3000/health
    kubectl top pods
    gen=\$(kubectl patch nexusruntime/demo --type merge -p '{"spec":{"runtime":{"memoryLimitMB":64}}}' -o jsonpath='{.metadata.generation}')
    kubectl wait nexusruntime/demo --for=jsonpath='{.status.observedGeneration}'="\$gen"   # the operator saw the change
    kubectl wait nexusruntime/demo --for=condition=Ready --timeout=300s                  # and rolled it out
    curl localhost:3000/health   # the new pod, through the same forward
    kubectl apply -f config/samples/nexusruntime-tuned.yaml   # every knob set, sized for this 2-CPU node
    make cluster-down            # stops everything; the next make dev starts clean
DONE

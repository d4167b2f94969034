# shellcheck shell=bash
# The user's side of the local cluster with a real node, shared by `make dev` (hack/dev.sh) and the
# end-to-end suite (test/e2e/): the project's images into the node, `kubectl apply -k
# config/default` with the operator running as pods from its image, NexusRuntimes, and what to
# print when something fails. Expects lib/cluster.sh sourced, RUN_DIR set and cluster.env written
# by hack/cluster-up.sh --node=real.

ROOT="$(cd "$HACK/.." && pwd)"
# shellcheck disable=SC1091
source "$RUN_DIR/cluster.env"
[ "${NODE_MODE:-}" = real ] || die "$RUN_DIR is not a cluster with a real node (hack/cluster-up.sh --node=real)"
export KUBECONFIG
kubectl() { "$KUBECTL" "$@"; }
# shellcheck source=hack/lib/versions.sh
source "$HACK/lib/versions.sh"
# shellcheck source=hack/lib/images.sh
source "$HACK/lib/images.sh"
# shellcheck source=hack/lib/node.sh
source "$HACK/lib/node.sh"
# shellcheck source=hack/lib/node-start.sh
source "$HACK/lib/node-start.sh"

OPERATOR_NAMESPACE=nexus-system

# Every image config/default refers to: the operator's own, and the kernel and store images it
# puts into the pods it creates (its KERNEL_IMAGE and STORE_IMAGE).
manifest_images() {
  kubectl kustomize "$ROOT/config/default" | awk '
    $1 == "image:" && NF == 2 { print $2 }
    $1 == "-" && $2 == "name:" && ($3 == "KERNEL_IMAGE" || $3 == "STORE_IMAGE") { want = 1; next }
    want && $1 == "value:" { print $2 }
    { want = 0 }' | sort -u
}

# The images the manifests name, from podman into the node's containerd (`make images` builds them).
import_project_images() {
  local images
  mapfile -t images < <(manifest_images)
  [ ${#images[@]} -gt 0 ] || die "config/default names no image"
  node_import_images "${images[@]}"
}

# `kubectl apply -k config/default`, exactly as a user would, then the operator's pods Ready.
install_operator() {
  kubectl apply -k "$ROOT/config/default" | sed 's/^/    /'
  kubectl wait --for=condition=Established --timeout=60s crd/nexusruntimes.nexus.dev >/dev/null
  kubectl -n "$OPERATOR_NAMESPACE" rollout status deployment/nexus-operator --timeout=180s | sed 's/^/    /'
}

# Restarts every Deployment and StatefulSet whose pods run an image that node_import_images just
# imported anew under a name they already used, so that `make dev` after a change runs the new
# build: the kubelet starts a pod from whatever the name points at when the pod starts.
restart_replaced_workloads() {
  local image kind namespace name restarted=()
  for image in "${REPLACED_IMAGES[@]}"; do
    while read -r kind namespace name; do
      kubectl -n "$namespace" rollout restart "${kind,,}/$name" | sed "s|^|    $image replaced: |"
      restarted+=("$namespace ${kind,,}/$name")
    done < <(kubectl get deployments,statefulsets --all-namespaces -o jsonpath='{range .items[*]}{.kind}{" "}{.metadata.namespace}{" "}{.metadata.name}{" "}{.spec.template.spec.containers[*].image}{"\n"}{end}' \
      | awk -v image="$image" '{ for (i = 4; i <= NF; i++) if ($i == image) { print $1, $2, $3; break } }')
  done
  for name in "${restarted[@]}"; do
    read -r namespace kind <<<"$name"
    kubectl -n "$namespace" rollout status "$kind" --timeout=300s | sed 's/^/    /'
  done
}

# Waits until NexusRuntime NAME in NAMESPACE is Ready for its current generation.
# Usage: wait_runtime_ready NAMESPACE NAME TIMEOUT_SECONDS
wait_runtime_ready() {
  local namespace="$1" name="$2" timeout="$3" generation
  generation="$(kubectl -n "$namespace" get nexusruntime "$name" -o jsonpath='{.metadata.generation}')"
  kubectl -n "$namespace" wait "nexusruntime/$name" --timeout="${timeout}s" \
    --for=jsonpath='{.status.observedGeneration}'="$generation" >/dev/null
  kubectl -n "$namespace" wait "nexusruntime/$name" --for=condition=Ready --timeout="${timeout}s" >/dev/null
}

# What to look at when a step fails: the operator's and the kernels' logs, the NexusRuntimes,
# recent events, and `kubectl describe` of every pod that is not Ready.
# Usage: print_diagnostics NAMESPACE...
print_diagnostics() {
  local namespace pod
  echo "---- diagnostics" >&2
  echo "---- operator logs (last 60 lines per pod)" >&2
  kubectl -n "$OPERATOR_NAMESPACE" logs -l app.kubernetes.io/name=nexus-operator --tail=60 --prefix >&2 2>&1 || true
  for namespace in "$@"; do
    echo "---- NexusRuntimes in $namespace" >&2
    kubectl -n "$namespace" get nexusruntimes -o yaml >&2 2>&1 || true
    echo "---- kernel and store logs in $namespace (last 40 lines per pod)" >&2
    kubectl -n "$namespace" logs -l 'app.kubernetes.io/name in (workspace-kernel,nexus-store)' \
      --tail=40 --prefix --max-log-requests=20 >&2 2>&1 || true
    echo "---- events in $namespace" >&2
    kubectl -n "$namespace" get events --sort-by=.lastTimestamp >&2 2>&1 | tail -40 >&2 || true
  done
  for namespace in "$OPERATOR_NAMESPACE" "$@"; do
    for pod in $(kubectl -n "$namespace" get pods -o jsonpath='{range .items[*]}{.metadata.name}{" "}{range .status.conditions[?(@.type=="Ready")]}{.status}{end}{"\n"}{end}' 2>/dev/null | awk '$2 != "True" { print $1 }'); do
      echo "---- kubectl describe pod $namespace/$pod" >&2
      kubectl -n "$namespace" describe pod "$pod" >&2 2>&1 || true
    done
  done
}

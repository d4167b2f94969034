# shellcheck shell=bash
# The user's side of the local cluster, shared by `make dev` (hack/dev.sh) and the end-to-end test
# (test/e2e/user-flow.sh): install the operator's manifests, run the operator and a real kernel as
# local processes. Expects lib/cluster.sh sourced, RUN_DIR set and cluster.env written.

ROOT="$(cd "$HACK/.." && pwd)"
# shellcheck disable=SC1091
source "$RUN_DIR/cluster.env"
export KUBECONFIG
kubectl() { "$KUBECTL" "$@"; }

# `kubectl apply -k config/default`, exactly as a user would. Its operator Deployment would only
# get simulated pods here (KWOK runs no containers), so it is scaled to zero and the operator runs
# as a local process instead, with a token of the same ServiceAccount (the same RBAC).
install_operator_manifests() {
  kubectl apply -k "$ROOT/config/default" | sed 's/^/    /'
  kubectl wait --for=condition=Established --timeout=60s crd/nexusruntimes.nexus.dev >/dev/null
  kubectl -n nexus-system scale deployment/nexus-operator --replicas=0 >/dev/null
}

# Starts `node operator/dist/index.js` in the background (PID in pids/operator.pid).
start_operator() {
  local pid token
  pid="$(running_pid operator)"
  if [ -n "$pid" ]; then echo "    operator already running (pid $pid)"; return 0; fi
  token="$(kubectl -n nexus-system create token nexus-operator --duration=24h)"
  cat >"$RUN_DIR/operator.kubeconfig" <<KC
apiVersion: v1
kind: Config
clusters:
- name: nexus-local
  cluster: {server: "$APISERVER_URL", certificate-authority: "$RUN_DIR/pki/ca.crt"}
users:
- name: nexus-operator
  user: {token: "$token"}
contexts:
- name: operator
  context: {cluster: nexus-local, user: nexus-operator, namespace: nexus-system}
current-context: operator
KC
  chmod 600 "$RUN_DIR/operator.kubeconfig"
  OPERATOR_METRICS_PORT="$(free_port)"
  KUBECONFIG="$RUN_DIR/operator.kubeconfig" LEADER_ELECTION_NAMESPACE=nexus-system POD_NAME=local-operator \
    METRICS_PORT="$OPERATOR_METRICS_PORT" LOG_LEVEL="${LOG_LEVEL:-info}" \
    setsid nohup node "$ROOT/operator/dist/index.js" >>"$RUN_DIR/logs/operator.log" 2>&1 </dev/null &
  echo $! >"$(pid_file operator)"
  echo "    operator started (pid $!, metrics http://127.0.0.1:$OPERATOR_METRICS_PORT/metrics, log $RUN_DIR/logs/operator.log)"
  wait_for "the operator's /healthz" 30 curl -sf "http://127.0.0.1:$OPERATOR_METRICS_PORT/healthz"
}

# Starts a real kernel (`node kernel/dist/index.js`) on the loopback ports KWOK forwards the kernel
# pods' ports to, configured from the NexusRuntime's ConfigMap as a pod would be (envFrom).
# Usage: start_kernel NAMESPACE NAME
start_kernel() {
  local namespace="$1" name="$2" pid env_args
  pid="$(running_pid kernel)"
  if [ -n "$pid" ]; then stop_pid kernel "$pid"; fi
  mkdir -p "$RUN_DIR/kernel-cache"
  # shellcheck disable=SC2016 # a Go template, not shell expansions
  mapfile -t env_args < <(kubectl -n "$namespace" get configmap "$name-config" \
    -o go-template='{{range $k, $v := .data}}{{$k}}={{$v}}{{"\n"}}{{end}}')
  env "${env_args[@]}" HOST=127.0.0.1 HTTP_PORT="$KERNEL_HTTP_PORT" WS_PORT="$KERNEL_WS_PORT" \
    CACHE_DIR="$RUN_DIR/kernel-cache" NEXUS_RUN_DIR="$RUN_DIR/" \
    setsid nohup node "$ROOT/kernel/dist/index.js" >>"$RUN_DIR/logs/kernel.log" 2>&1 </dev/null &
  echo $! >"$(pid_file kernel)"
  echo "    kernel started for $namespace/$name (pid $!, 127.0.0.1:$KERNEL_HTTP_PORT, log $RUN_DIR/logs/kernel.log)"
  wait_for "the kernel's /ready" 60 curl -sf "http://127.0.0.1:$KERNEL_HTTP_PORT/ready"
}

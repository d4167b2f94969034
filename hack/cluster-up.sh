#!/usr/bin/env bash
# Starts a local Kubernetes control plane: etcd, kube-apiserver, kube-controller-manager,
# kube-scheduler and KWOK (one simulated node; pods become Running and Ready without a kubelet).
#
# Usage: hack/cluster-up.sh [RUN_DIR]     (default $NEXUS_CACHE/run/cluster)
#
# Idempotent: components already running from RUN_DIR are left alone, so after a component is
# killed (a test restarts the API server this way) running the script again brings back only
# that one, on the same ports and data. Prints progress and ends with the KUBECONFIG path.
# Binaries come from hack/build-control-plane.sh (built and cached on first use).
set -euo pipefail
HACK="$(cd "$(dirname "$0")" && pwd)"
# shellcheck source=hack/lib/versions.sh
source "$HACK/lib/versions.sh"
# shellcheck source=hack/lib/cluster.sh
source "$HACK/lib/cluster.sh"

RUN_DIR="$(mkdir -p "${1:-${NEXUS_CLUSTER_DIR:-$NEXUS_CACHE/run/cluster}}" && cd "${1:-${NEXUS_CLUSTER_DIR:-$NEXUS_CACHE/run/cluster}}" && pwd)"
PKI="$RUN_DIR/pki"
mkdir -p "$PKI" "$RUN_DIR/data" "$RUN_DIR/logs" "$RUN_DIR/pids"
started_at=$SECONDS

step "[1/7] binaries (Kubernetes $KUBERNETES_VERSION, etcd $ETCD_VERSION, KWOK $KWOK_VERSION)"
"$HACK/build-control-plane.sh" | sed 's/^==> /    /'
ETCD="$BIN/etcd-$ETCD_VERSION"
APISERVER="$BIN/kube-apiserver-$KUBERNETES_VERSION"
KCM="$BIN/kube-controller-manager-$KUBERNETES_VERSION"
SCHEDULER="$BIN/kube-scheduler-$KUBERNETES_VERSION"
KUBECTL="$BIN/kubectl-$KUBERNETES_VERSION"
KWOK="$BIN/kwok-$KWOK_VERSION"
KWOK_STAGES="$BIN/kwok-stages-$KWOK_VERSION.yaml"

# Ports are chosen once per run directory and kept, so a restarted component comes back where its
# clients expect it. A port missing from an older ports.env is added.
touch "$RUN_DIR/ports.env"
# shellcheck disable=SC1091
source "$RUN_DIR/ports.env"
for port_var in ETCD_PORT ETCD_PEER_PORT APISERVER_PORT KCM_PORT SCHEDULER_PORT KWOK_PORT \
                KERNEL_HTTP_PORT KERNEL_WS_PORT; do
  if [ -z "${!port_var:-}" ]; then
    pick_port "$port_var"
    [ "$port_var" = APISERVER_PORT ] && APISERVER_PORT="${NEXUS_APISERVER_PORT:-$APISERVER_PORT}"
    echo "$port_var=${!port_var}" >>"$RUN_DIR/ports.env"
  fi
done
API_URL="https://127.0.0.1:$APISERVER_PORT"

step "[2/7] certificates in $PKI"
openssl_key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:prime256v1 -out "$1" 2>/dev/null; }
if [ ! -f "$PKI/ca.crt" ]; then
  openssl_key "$PKI/ca.key"
  openssl req -x509 -new -key "$PKI/ca.key" -out "$PKI/ca.crt" -days 3650 -subj "/CN=nexus-local-ca" 2>/dev/null
fi
if [ ! -f "$PKI/serving.crt" ]; then
  # Serves the API server and KWOK's kubelet endpoint (port-forward, logs).
  openssl_key "$PKI/serving.key"
  openssl req -new -x509 -key "$PKI/serving.key" -out "$PKI/serving.crt" -days 3650 \
    -CA "$PKI/ca.crt" -CAkey "$PKI/ca.key" -subj "/CN=kube-apiserver" \
    -addext "subjectAltName=IP:127.0.0.1,IP:10.96.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local" \
    -addext "extendedKeyUsage=serverAuth" 2>/dev/null
fi
if [ ! -f "$PKI/admin.crt" ]; then
  # Cluster admin for the control-plane components, kubectl and the test harness.
  openssl_key "$PKI/admin.key"
  openssl req -new -x509 -key "$PKI/admin.key" -out "$PKI/admin.crt" -days 3650 \
    -CA "$PKI/ca.crt" -CAkey "$PKI/ca.key" -subj "/O=system:masters/CN=nexus-admin" \
    -addext "extendedKeyUsage=clientAuth" 2>/dev/null
fi
if [ ! -f "$PKI/sa.key" ]; then
  openssl_key "$PKI/sa.key"
  openssl pkey -in "$PKI/sa.key" -pubout -out "$PKI/sa.pub" 2>/dev/null
fi

KUBECONFIG_FILE="$RUN_DIR/kubeconfig"
cat >"$KUBECONFIG_FILE" <<KC
apiVersion: v1
kind: Config
clusters:
- name: nexus-local
  cluster:
    server: $API_URL
    certificate-authority: $PKI/ca.crt
users:
- name: nexus-admin
  user:
    client-certificate: $PKI/admin.crt
    client-key: $PKI/admin.key
contexts:
- name: nexus-local
  context: {cluster: nexus-local, user: nexus-admin, namespace: default}
current-context: nexus-local
KC
chmod 600 "$KUBECONFIG_FILE"

# Starts a component detached from this shell (it outlives `make cluster`) unless it runs already.
start() {
  local name="$1"; shift
  local pid
  pid="$(running_pid "$name")"
  if [ -n "$pid" ]; then
    echo "    $name already running (pid $pid)"
    return 0
  fi
  setsid nohup "$@" >>"$RUN_DIR/logs/$name.log" 2>&1 </dev/null &
  echo $! >"$(pid_file "$name")"
  echo "    $name started (pid $!, log $RUN_DIR/logs/$name.log)"
}
api_get() { curl -sf --cacert "$PKI/ca.crt" --cert "$PKI/admin.crt" --key "$PKI/admin.key" "$API_URL$1"; }

# Requests made with ServiceAccount tokens (in this cluster: the operator under test; the control
# plane's own components use the admin certificate) are audited, so tests and benchmarks can count
# exactly what the operator asks of the API server.
cat >"$RUN_DIR/audit-policy.yaml" <<'POLICY'
apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: [RequestReceived]
rules:
- level: Metadata
  userGroups: ["system:serviceaccounts"]
- level: None
POLICY

step "[3/7] etcd on 127.0.0.1:$ETCD_PORT"
start etcd "$ETCD" --name=nexus --data-dir="$RUN_DIR/data/etcd" \
  --listen-client-urls="http://127.0.0.1:$ETCD_PORT" --advertise-client-urls="http://127.0.0.1:$ETCD_PORT" \
  --listen-peer-urls="http://127.0.0.1:$ETCD_PEER_PORT" \
  --initial-advertise-peer-urls="http://127.0.0.1:$ETCD_PEER_PORT" \
  --initial-cluster="nexus=http://127.0.0.1:$ETCD_PEER_PORT" \
  --unsafe-no-fsync=true --log-level=warn
wait_for etcd 30 curl -sf "http://127.0.0.1:$ETCD_PORT/health"

step "[4/7] kube-apiserver on $API_URL"
start kube-apiserver "$APISERVER" \
  --etcd-servers="http://127.0.0.1:$ETCD_PORT" \
  --bind-address=127.0.0.1 --advertise-address=127.0.0.1 --secure-port="$APISERVER_PORT" \
  --cert-dir="$PKI" --tls-cert-file="$PKI/serving.crt" --tls-private-key-file="$PKI/serving.key" \
  --client-ca-file="$PKI/ca.crt" \
  --service-account-issuer=https://kubernetes.default.svc.cluster.local \
  --service-account-key-file="$PKI/sa.pub" --service-account-signing-key-file="$PKI/sa.key" \
  --service-cluster-ip-range=10.96.0.0/16 \
  --authorization-mode=RBAC --allow-privileged=true \
  --requestheader-client-ca-file="$PKI/ca.crt" --requestheader-allowed-names=front-proxy-client \
  --requestheader-username-headers=X-Remote-User --requestheader-group-headers=X-Remote-Group \
  --requestheader-extra-headers-prefix=X-Remote-Extra- \
  --disable-admission-plugins=TaintNodesByCondition \
  --kubelet-client-certificate="$PKI/admin.crt" --kubelet-client-key="$PKI/admin.key" \
  --kubelet-preferred-address-types=InternalIP \
  --audit-policy-file="$RUN_DIR/audit-policy.yaml" --audit-log-path="$RUN_DIR/logs/audit.log" \
  --audit-log-format=json --audit-log-maxsize=1024 --audit-log-maxbackup=1 \
  --profiling=false --v=1
wait_for kube-apiserver 90 api_get /readyz

kcfg=(--kubeconfig="$KUBECONFIG_FILE" --authentication-kubeconfig="$KUBECONFIG_FILE"
  --authorization-kubeconfig="$KUBECONFIG_FILE" --bind-address=127.0.0.1 --leader-elect=false)

step "[5/7] kube-controller-manager (Deployments, ReplicaSets, garbage collection, HPA)"
# Only the controllers a NexusRuntime's objects need; the HPA has no metrics source here, so it
# enforces min/max replicas and reports that it cannot read metrics.
start kube-controller-manager "$KCM" "${kcfg[@]}" --secure-port="$KCM_PORT" \
  --controllers=deployment-controller,replicaset-controller,garbage-collector-controller,horizontal-pod-autoscaler-controller,disruption-controller,serviceaccount-controller,namespace-controller,endpointslice-controller,pod-garbage-collector-controller \
  --horizontal-pod-autoscaler-sync-period=5s \
  --concurrent-deployment-syncs=10 --concurrent-replicaset-syncs=10 --concurrent-gc-syncs=20 \
  --kube-api-qps=200 --kube-api-burst=400 --v=1

# KWOK's configuration: its stock node/pod stages, and a port-forward rule so that
# `kubectl port-forward` to any simulated kernel pod reaches a real kernel run on loopback
# (`make dev` and the e2e test start one on these ports).
{
  cat "$KWOK_STAGES"
  cat <<FORWARD
---
apiVersion: kwok.x-k8s.io/v1alpha1
kind: ClusterPortForward
metadata:
  name: kernel-on-loopback
spec:
  forwards:
  - ports: [3000]
    target: {address: 127.0.0.1, port: $KERNEL_HTTP_PORT}
  - ports: [3001]
    target: {address: 127.0.0.1, port: $KERNEL_WS_PORT}
FORWARD
} >"$RUN_DIR/kwok.yaml"

step "[6/7] kube-scheduler and KWOK"
start kube-scheduler "$SCHEDULER" "${kcfg[@]}" --secure-port="$SCHEDULER_PORT" \
  --kube-api-qps=200 --kube-api-burst=400 --v=1
start kwok "$KWOK" --kubeconfig="$KUBECONFIG_FILE" --config="$RUN_DIR/kwok.yaml" \
  --manage-all-nodes=false --manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake \
  --node-ip=127.0.0.1 --node-port="$KWOK_PORT" --server-address="127.0.0.1:$KWOK_PORT" \
  --tls-cert-file="$PKI/serving.crt" --tls-private-key-file="$PKI/serving.key" \
  --node-lease-duration-seconds=40 --cidr=10.244.0.1/16

step "[7/7] simulated node"
kubectl_() { "$KUBECTL" --kubeconfig="$KUBECONFIG_FILE" "$@"; }
kubectl_ apply -f - >/dev/null <<'NODE'
apiVersion: v1
kind: Node
metadata:
  name: kwok-node-0
  annotations:
    kwok.x-k8s.io/node: fake
    node.alpha.kubernetes.io/ttl: "0"
  labels:
    kubernetes.io/hostname: kwok-node-0
    kubernetes.io/os: linux
    kubernetes.io/arch: amd64
    type: kwok
NODE
wait_for "node kwok-node-0" 60 kubectl_ wait node/kwok-node-0 --for=condition=Ready --timeout=1s

cat >"$RUN_DIR/cluster.env" <<ENV
KUBECONFIG=$KUBECONFIG_FILE
KUBECTL=$KUBECTL
APISERVER_URL=$API_URL
KUBERNETES_VERSION=$KUBERNETES_VERSION
RUN_DIR=$RUN_DIR
KERNEL_HTTP_PORT=$KERNEL_HTTP_PORT
KERNEL_WS_PORT=$KERNEL_WS_PORT
ENV
step "control plane ready in $((SECONDS - started_at))s"
echo "export KUBECONFIG=$KUBECONFIG_FILE"
echo "kubectl: $KUBECTL"

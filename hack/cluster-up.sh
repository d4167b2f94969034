#!/usr/bin/env bash
# Starts a local Kubernetes cluster: etcd, kube-apiserver, kube-controller-manager, kube-scheduler
# and one node, either
#   --node=kwok (the default)  KWOK simulates the node and its pods: Running and Ready without a
#                              kubelet, hundreds of them in seconds (the operator's integration
#                              tests and benchmarks);
#   --node=real                a real node in a network namespace of its own: containerd, kubelet,
#                              kube-proxy, CoreDNS, metrics-server and a default StorageClass
#                              (`make cluster`, `make dev`, `make e2e`; see hack/lib/node.sh).
#
# Usage: hack/cluster-up.sh [--node=kwok|real] [RUN_DIR]     (default $NEXUS_CACHE/run/cluster)
#
# Idempotent: components already running from RUN_DIR are left alone, so after a component is
# killed (a test restarts the API server this way) running the script again brings back only
# that one, on the same ports and data. A run directory keeps the node kind it was created with.
# Prints progress and ends with the KUBECONFIG path. Binaries come from hack/build-control-plane.sh
# and hack/build-node.sh (built and cached on first use).
set -euo pipefail
HACK="$(cd "$(dirname "$0")" && pwd)"
# shellcheck source=hack/lib/versions.sh
source "$HACK/lib/versions.sh"
# shellcheck source=hack/lib/cluster.sh
source "$HACK/lib/cluster.sh"
# shellcheck source=hack/lib/pki.sh
source "$HACK/lib/pki.sh"

mode="${NEXUS_NODE:-kwok}"
case "${1:-}" in --node=*) mode="${1#--node=}"; shift ;; esac
case "$mode" in kwok | real) ;; *) die "--node must be kwok or real, not '$mode'" ;; esac
RUN_DIR_ARG="${1:-${NEXUS_CLUSTER_DIR:-$NEXUS_CACHE/run/cluster}}"
RUN_DIR="$(mkdir -p "$RUN_DIR_ARG" && cd "$RUN_DIR_ARG" && pwd)"
PKI="$RUN_DIR/pki"
mkdir -p "$PKI" "$RUN_DIR/data" "$RUN_DIR/logs" "$RUN_DIR/pids"
if [ -f "$RUN_DIR/node-mode" ] && [ "$(cat "$RUN_DIR/node-mode")" != "$mode" ]; then
  die "$RUN_DIR holds a cluster with a $(cat "$RUN_DIR/node-mode") node; stop it (hack/cluster-down.sh --purge $RUN_DIR) or use another run directory"
fi
echo "$mode" >"$RUN_DIR/node-mode"
started_at=$SECONDS
if [ "$mode" = real ]; then total=9; else total=7; fi
n=0
phase() { n=$((n + 1)); step "[$n/$total] $*"; }

phase "binaries (Kubernetes $KUBERNETES_VERSION, etcd $ETCD_VERSION, $([ "$mode" = real ] && echo "CoreDNS $COREDNS_VERSION, metrics-server $METRICS_SERVER_VERSION" || echo "KWOK $KWOK_VERSION"))"
"$HACK/build-control-plane.sh" | sed 's/^==> /    /'
ETCD="$BIN/etcd-$ETCD_VERSION"
APISERVER="$BIN/kube-apiserver-$KUBERNETES_VERSION"
KCM="$BIN/kube-controller-manager-$KUBERNETES_VERSION"
SCHEDULER="$BIN/kube-scheduler-$KUBERNETES_VERSION"
KUBECTL="$BIN/kubectl-$KUBERNETES_VERSION"
kubectl_() { "$KUBECTL" --kubeconfig="$KUBECONFIG_FILE" "$@"; }

if [ "$mode" = real ]; then
  [ "$(id -u)" -eq 0 ] || die "a real node needs root (network namespaces, cgroups, mounts)"
  "$HACK/apt-install.sh" containerd runc containernetworking-plugins iptables conntrack util-linux
  "$HACK/build-node.sh" | sed 's/^==> /    /'
  "$HACK/images/node-images.sh"
  # shellcheck source=hack/lib/images.sh
  source "$HACK/lib/images.sh"
  # shellcheck source=hack/lib/node.sh
  source "$HACK/lib/node.sh"
  # shellcheck source=hack/lib/node-start.sh
  source "$HACK/lib/node-start.sh"
  phase "network namespace $NODE_NETNS and veth $HOST_VETH"
  node_network_up
  # The API server listens on the host's end of the veth: the host's tools reach it there (a local
  # address), and so do the kubelet and the pods (the kubernetes Service points at it).
  API_HOST="$HOST_IP"
else
  API_HOST=127.0.0.1
fi

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
API_URL="https://$API_HOST:$APISERVER_PORT"

phase "certificates in $PKI"
ensure_ca
# Serves the API server (and, with KWOK, the simulated kubelet's endpoint: port-forward, logs).
issue_cert serving "/CN=kube-apiserver" serverAuth \
  "IP:$API_HOST,IP:10.96.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local"
# Cluster admin for the control-plane components, kubectl and the test harness.
issue_cert admin "/O=system:masters/CN=nexus-admin" clientAuth
ensure_sa_key
KUBECONFIG_FILE="$RUN_DIR/kubeconfig"
write_kubeconfig "$KUBECONFIG_FILE" "$API_URL" admin
if [ "$mode" = real ]; then
  # The API server's identities towards the kubelet and towards aggregated APIs (metrics-server).
  issue_cert apiserver-kubelet-client "/CN=kube-apiserver-kubelet-client" clientAuth
  issue_cert front-proxy-client "/CN=front-proxy-client" clientAuth
  node_certificates
fi
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

phase "etcd on 127.0.0.1:$ETCD_PORT"
start etcd "$ETCD" --name=nexus --data-dir="$RUN_DIR/data/etcd" \
  --listen-client-urls="http://127.0.0.1:$ETCD_PORT" --advertise-client-urls="http://127.0.0.1:$ETCD_PORT" \
  --listen-peer-urls="http://127.0.0.1:$ETCD_PEER_PORT" \
  --initial-advertise-peer-urls="http://127.0.0.1:$ETCD_PEER_PORT" \
  --initial-cluster="nexus=http://127.0.0.1:$ETCD_PEER_PORT" \
  --unsafe-no-fsync=true --log-level=warn
wait_for etcd 30 curl -sf "http://127.0.0.1:$ETCD_PORT/health"

if [ "$mode" = real ]; then
  # Node authorization for the kubelet; the kubelet's serving certificate verified against the CA;
  # the aggregation layer (front proxy) for metrics-server, reached at its pod's address.
  apiserver_mode_flags=("--authorization-mode=Node,RBAC" --enable-admission-plugins=NodeRestriction
    --kubelet-client-certificate="$PKI/apiserver-kubelet-client.crt"
    --kubelet-client-key="$PKI/apiserver-kubelet-client.key"
    --kubelet-certificate-authority="$PKI/ca.crt"
    --proxy-client-cert-file="$PKI/front-proxy-client.crt" --proxy-client-key-file="$PKI/front-proxy-client.key"
    --enable-aggregator-routing=true)
else
  apiserver_mode_flags=(--authorization-mode=RBAC
    --kubelet-client-certificate="$PKI/admin.crt" --kubelet-client-key="$PKI/admin.key")
fi
phase "kube-apiserver on $API_URL"
start kube-apiserver "$APISERVER" \
  --etcd-servers="http://127.0.0.1:$ETCD_PORT" \
  --bind-address="$API_HOST" --advertise-address="$API_HOST" --secure-port="$APISERVER_PORT" \
  --cert-dir="$PKI" --tls-cert-file="$PKI/serving.crt" --tls-private-key-file="$PKI/serving.key" \
  --client-ca-file="$PKI/ca.crt" \
  --service-account-issuer=https://kubernetes.default.svc.cluster.local \
  --service-account-key-file="$PKI/sa.pub" --service-account-signing-key-file="$PKI/sa.key" \
  --service-cluster-ip-range=10.96.0.0/16 \
  "${apiserver_mode_flags[@]}" --allow-privileged=true \
  --requestheader-client-ca-file="$PKI/ca.crt" --requestheader-allowed-names=front-proxy-client \
  --requestheader-username-headers=X-Remote-User --requestheader-group-headers=X-Remote-Group \
  --requestheader-extra-headers-prefix=X-Remote-Extra- \
  --disable-admission-plugins=TaintNodesByCondition \
  --kubelet-preferred-address-types=InternalIP \
  --audit-policy-file="$RUN_DIR/audit-policy.yaml" --audit-log-path="$RUN_DIR/logs/audit.log" \
  --audit-log-format=json --audit-log-maxsize=1024 --audit-log-maxbackup=1 \
  --profiling=false --v=1
wait_for kube-apiserver 90 api_get /readyz

kcfg=(--kubeconfig="$KUBECONFIG_FILE" --authentication-kubeconfig="$KUBECONFIG_FILE"
  --authorization-kubeconfig="$KUBECONFIG_FILE" --bind-address=127.0.0.1 --leader-elect=false)

# Only the controllers a NexusRuntime's objects need. With KWOK the HPA has no metrics source: it
# enforces min/max replicas and reports that it cannot read metrics. A real node adds what real
# pods need: the kube-root-ca.crt ConfigMap every ServiceAccount token volume mounts, volumes, and
# StatefulSets (the managed store).
controllers=deployment-controller,replicaset-controller,garbage-collector-controller,horizontal-pod-autoscaler-controller,disruption-controller,serviceaccount-controller,namespace-controller,endpointslice-controller,pod-garbage-collector-controller
kcm_mode_flags=()
if [ "$mode" = real ]; then
  controllers+=,root-ca-certificate-publisher-controller,statefulset-controller,endpoints-controller
  controllers+=,persistentvolume-binder-controller,persistentvolume-protection-controller
  controllers+=,persistentvolumeclaim-protection-controller,clusterrole-aggregation-controller
  controllers+=,ttl-after-finished-controller,job-controller
  kcm_mode_flags=(--root-ca-file="$PKI/ca.crt")
fi
phase "kube-controller-manager (Deployments, ReplicaSets, garbage collection, HPA$([ "$mode" = real ] && echo ", volumes, StatefulSets"))"
start kube-controller-manager "$KCM" "${kcfg[@]}" --secure-port="$KCM_PORT" \
  --controllers="$controllers" "${kcm_mode_flags[@]}" \
  --horizontal-pod-autoscaler-sync-period=5s \
  --concurrent-deployment-syncs=10 --concurrent-replicaset-syncs=10 --concurrent-gc-syncs=20 \
  --kube-api-qps=200 --kube-api-burst=400 --v=1

if [ "$mode" = real ]; then
  phase "kube-scheduler; containerd in $NODE_NETNS"
  start kube-scheduler "$SCHEDULER" "${kcfg[@]}" --secure-port="$SCHEDULER_PORT" \
    --kube-api-qps=200 --kube-api-burst=400 --v=1
  start_containerd
  node_import_images "${NODE_IMAGES[@]}"

  phase "kubelet and kube-proxy: node $NODE_NAME ($NODE_IP)"
  start_kubelet
  start_kube_proxy
  wait_for "node $NODE_NAME" 120 kubectl_ wait "node/$NODE_NAME" --for=condition=Ready --timeout=1s

  phase "add-ons: CoreDNS, metrics-server, default StorageClass"
  apply_addons
else
  KWOK="$BIN/kwok-$KWOK_VERSION"
  KWOK_STAGES="$BIN/kwok-stages-$KWOK_VERSION.yaml"
  # KWOK's configuration: its stock node/pod stages, and a port-forward rule so that
  # `kubectl port-forward` to any simulated kernel pod reaches a real kernel run on loopback
  # (a process of the caller's, on these ports).
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

  phase "kube-scheduler and KWOK"
  start kube-scheduler "$SCHEDULER" "${kcfg[@]}" --secure-port="$SCHEDULER_PORT" \
    --kube-api-qps=200 --kube-api-burst=400 --v=1
  start kwok "$KWOK" --kubeconfig="$KUBECONFIG_FILE" --config="$RUN_DIR/kwok.yaml" \
    --manage-all-nodes=false --manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake \
    --node-ip=127.0.0.1 --node-port="$KWOK_PORT" --server-address="127.0.0.1:$KWOK_PORT" \
    --tls-cert-file="$PKI/serving.crt" --tls-private-key-file="$PKI/serving.key" \
    --node-lease-duration-seconds=40 --cidr=10.244.0.1/16

  phase "simulated node"
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
  # KWOK advertises cpu, memory and pods only; kernel and store containers ask for
  # ephemeral-storage (their logs and emptyDirs), which a real kubelet reports from its filesystem.
  kubectl_ patch node/kwok-node-0 --subresource=status --type=merge \
    -p '{"status":{"capacity":{"ephemeral-storage":"1Ti"},"allocatable":{"ephemeral-storage":"1Ti"}}}' >/dev/null
fi

{
  echo "KUBECONFIG=$KUBECONFIG_FILE"
  echo "KUBECTL=$KUBECTL"
  echo "APISERVER_URL=$API_URL"
  echo "KUBERNETES_VERSION=$KUBERNETES_VERSION"
  echo "RUN_DIR=$RUN_DIR"
  echo "NODE_MODE=$mode"
  echo "KERNEL_HTTP_PORT=$KERNEL_HTTP_PORT"
  echo "KERNEL_WS_PORT=$KERNEL_WS_PORT"
  if [ "$mode" = real ]; then
    echo "NODE_NAME=$NODE_NAME"
    echo "NODE_IP=$NODE_IP"
    echo "HOST_IP=$HOST_IP"
    echo "POD_CIDR=$POD_CIDR"
  fi
} >"$RUN_DIR/cluster.env"
step "cluster ready in $((SECONDS - started_at))s ($mode node)"
echo "export KUBECONFIG=$KUBECONFIG_FILE"
echo "kubectl: $KUBECTL"

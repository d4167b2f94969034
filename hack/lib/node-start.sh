# shellcheck shell=bash disable=SC2034,SC2153 # variables read by the templates; NODE_IP etc. come from lib/node.sh
# Starting the real node (hack/cluster-up.sh --node=real): its certificates and configuration,
# containerd, the images, kubelet, kube-proxy and the add-ons. Expects lib/cluster.sh, lib/pki.sh,
# lib/images.sh and lib/node.sh sourced; RUN_DIR, PKI, API_URL, KUBECTL and BIN set.

NODE_DIR="$RUN_DIR/node"
VOLUME_DIR="$NODE_DIR/volumes"

# The node's identities, all from the cluster's CA: the kubelet serves with a certificate for its
# IP and authenticates as system:node:<name>; kube-proxy as system:kube-proxy.
node_certificates() {
  mkdir -p "$NODE_DIR"
  issue_cert kubelet-serving "/CN=$NODE_NAME" serverAuth "IP:$NODE_IP,DNS:$NODE_NAME"
  issue_cert node "/O=system:nodes/CN=system:node:$NODE_NAME" clientAuth
  issue_cert kube-proxy "/CN=system:kube-proxy" clientAuth
  issue_cert metrics-server "/CN=metrics-server" serverAuth \
    "DNS:metrics-server.kube-system.svc,DNS:metrics-server.kube-system.svc.cluster.local"
  write_kubeconfig "$NODE_DIR/kubelet.kubeconfig" "$API_URL" node
  write_kubeconfig "$NODE_DIR/kube-proxy.kubeconfig" "$API_URL" kube-proxy
}

# Writes TEMPLATE to DEST with every @NAME@ replaced by the value of the shell variable NAME.
render() {
  local template="$1" dest="$2" name expr=(-e '')
  for name in $(grep -o '@[A-Z_]*@' "$template" | sort -u | tr -d @); do
    [ -n "${!name+set}" ] || die "$template uses @$name@, which is not set"
    expr+=(-e "s|@$name@|${!name}|g")
  done
  sed "${expr[@]}" "$template" >"$dest.tmp" && mv "$dest.tmp" "$dest"
}

start_containerd() {
  mkdir -p "$NODE_DIR" "$CONTAINERD_ROOT" "$NODE_RUN/cni/net.d" "$NODE_RUN/cni/networks"
  render "$HACK/node/containerd.toml.in" "$NODE_DIR/containerd.toml"
  render "$HACK/node/cni.conflist.in" "$NODE_RUN/cni/net.d/10-nexus-pods.conflist"
  local fresh=0
  [ -n "$(running_pid containerd)" ] || fresh=1
  start containerd nsenter --net="$NETNS_PATH" -- containerd --config "$NODE_DIR/containerd.toml" --log-level warn
  wait_for containerd 30 ctr_ version
  if [ $fresh -eq 1 ]; then
    # Containers of an earlier cluster are gone with its pods; their records would only make the
    # kubelet clean up after them. Images stay.
    local ids
    ids="$(ctr_ containers ls -q)"
    [ -z "$ids" ] || { xargs -r ctr_ containers delete <<<"$ids" >/dev/null 2>&1 || true; }
  fi
}

# Imports podman images into the node's containerd, skipping those imported before unchanged.
# Appends to REPLACED_IMAGES each name that pointed at an older import: pods that already run it
# keep the old image until they are replaced (see restart_replaced_workloads in lib/dev.sh).
# Usage: node_import_images IMAGE...
REPLACED_IMAGES=()
node_import_images() {
  local image id stamp archive="$NODE_RUN/import.tar"
  mkdir -p "$IMPORTED_DIR"
  for image in "$@"; do
    id="$("$HACK/images/podman.sh" image inspect --format '{{.Id}}' "$image" 2>/dev/null)" \
      || die "image $image does not exist (make images)"
    stamp="$IMPORTED_DIR/$(tr '/:' '__' <<<"$image")"
    if [ "$(cat "$stamp" 2>/dev/null)" = "$id" ] && ctr_ images ls -q | grep -qxF "$image"; then
      echo "    $image: imported already (${id:0:12})"
      continue
    fi
    if ctr_ images ls -q | grep -qxF "$image"; then REPLACED_IMAGES+=("$image"); fi
    "$HACK/images/podman.sh" save --quiet --format docker-archive -o "$archive" "$image"
    ctr_ images import "$archive" >/dev/null
    rm -f "$archive"
    echo "$id" >"$stamp"
    echo "    $image: imported (${id:0:12})"
  done
}

start_kubelet() {
  mkdir -p "$NODE_DIR/kubelet" "$NODE_DIR/pod-logs" "$VOLUME_DIR"
  node_cgroups_up
  render "$HACK/node/kubelet.yaml.in" "$NODE_DIR/kubelet.yaml"
  start kubelet nsenter --net="$NETNS_PATH" -- "$BIN/kubelet-$KUBERNETES_VERSION" --config="$NODE_DIR/kubelet.yaml" \
    --kubeconfig="$NODE_DIR/kubelet.kubeconfig" --root-dir="$NODE_DIR/kubelet" \
    --cert-dir="$NODE_DIR/kubelet/pki" --hostname-override="$NODE_NAME" --node-ip="$NODE_IP" --v=1
}

start_kube_proxy() {
  render "$HACK/node/kube-proxy.yaml.in" "$NODE_DIR/kube-proxy.yaml"
  start kube-proxy nsenter --net="$NETNS_PATH" -- "$BIN/kube-proxy-$KUBERNETES_VERSION" --config="$NODE_DIR/kube-proxy.yaml" --v=1
}

# CoreDNS, metrics-server and the default StorageClass, as pods; waits until each is available.
apply_addons() {
  local addon ca_file="$PKI/ca.crt"
  CA_BUNDLE="$(base64 -w0 "$ca_file")"
  mkdir -p "$NODE_DIR/addons"
  kubectl_ -n kube-system create secret tls metrics-server-tls --cert="$PKI/metrics-server.crt" \
    --key="$PKI/metrics-server.key" --dry-run=client -o yaml | kubectl_ apply -f - >/dev/null
  kubectl_ -n kube-system create configmap metrics-server-kubelet-ca --from-file=ca.crt="$ca_file" \
    --dry-run=client -o yaml | kubectl_ apply -f - >/dev/null
  for addon in rbac coredns metrics-server local-path; do
    render "$HACK/node/addons/$addon.yaml.in" "$NODE_DIR/addons/$addon.yaml"
    kubectl_ apply -f "$NODE_DIR/addons/$addon.yaml" >/dev/null
  done
  echo "    applied CoreDNS, metrics-server, local-path-provisioner (manifests in $NODE_DIR/addons)"
  wait_for "CoreDNS" 120 kubectl_ -n kube-system wait deployment/coredns --for=condition=Available --timeout=1s
  wait_for "local-path-provisioner" 120 \
    kubectl_ -n local-path-storage wait deployment/local-path-provisioner --for=condition=Available --timeout=1s
  wait_for "the metrics API (metrics-server)" 120 \
    kubectl_ wait apiservice/v1beta1.metrics.k8s.io --for=condition=Available --timeout=1s
}

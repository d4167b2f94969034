#!/usr/bin/env bash
# Builds the local control plane's binaries from the Go module proxy and caches them by version:
#   $NEXUS_CACHE/bin/{kube-apiserver,kube-controller-manager,kube-scheduler,kubectl}-<k8s version>
#   $NEXUS_CACHE/bin/etcd-<etcd version>, $NEXUS_CACHE/bin/kwok-<kwok version>
# Cached binaries are reused; only missing ones are built. A cold build takes tens of minutes.
# How: hack/lib/go-build.sh (a wrapper module around k8s.io/kubernetes).
set -euo pipefail
HACK="$(cd "$(dirname "$0")" && pwd)"
# shellcheck source=hack/lib/versions.sh
source "$HACK/lib/versions.sh"

# shellcheck source=hack/lib/go-build.sh
source "$HACK/lib/go-build.sh"

KUBE_COMPONENTS=(kube-apiserver kube-controller-manager kube-scheduler kubectl)

missing_kube=()
for c in "${KUBE_COMPONENTS[@]}"; do
  [ -x "$BIN/$c-$KUBERNETES_VERSION" ] || missing_kube+=("$c")
done
need_etcd=0; [ -x "$BIN/etcd-$ETCD_VERSION" ] || need_etcd=1
need_kwok=0; [ -x "$BIN/kwok-$KWOK_VERSION" ] || need_kwok=1
KWOK_STAGES="$BIN/kwok-stages-$KWOK_VERSION.yaml"
need_stages=0; [ -f "$KWOK_STAGES" ] || need_stages=1

if [ ${#missing_kube[@]} -eq 0 ] && [ $need_etcd -eq 0 ] && [ $need_kwok -eq 0 ] && [ $need_stages -eq 0 ]; then
  step "control plane binaries cached in $BIN (Kubernetes $KUBERNETES_VERSION, etcd $ETCD_VERSION, KWOK $KWOK_VERSION)"
  exit 0
fi
require_go

if [ ${#missing_kube[@]} -gt 0 ] || [ $need_etcd -eq 1 ]; then
  build=("${missing_kube[@]}")
  [ $need_etcd -eq 1 ] && build+=(etcd)
  kube_build "${build[@]}"
fi

if [ $need_kwok -eq 1 ]; then
  go_install kwok sigs.k8s.io/kwok/cmd/kwok "$KWOK_VERSION"
fi
if [ $need_stages -eq 1 ]; then
  # KWOK's controller needs Stage objects saying how simulated nodes and pods change state. Use
  # the "fast" stages KWOK itself ships (what kwokctl configures by default), read from its module.
  step "KWOK stages from sigs.k8s.io/kwok@$KWOK_VERSION"
  kwok_dir="$(go mod download -json "sigs.k8s.io/kwok@$KWOK_VERSION" | sed -n 's/.*"Dir": "\(.*\)",*/\1/p')"
  stage_dir="$kwok_dir/kustomize/stage"
  for f in node/fast/node-initialize.yaml node/heartbeat-with-lease/node-heartbeat-with-lease.yaml \
           pod/fast/pod-ready.yaml pod/fast/pod-complete.yaml pod/fast/pod-delete.yaml; do
    echo "---"; cat "$stage_dir/$f"
  done >"$KWOK_STAGES.tmp"
  mv "$KWOK_STAGES.tmp" "$KWOK_STAGES"
fi
step "control plane binaries ready in $BIN"

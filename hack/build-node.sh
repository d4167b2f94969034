#!/usr/bin/env bash
# Builds the real node's binaries from the Go module proxy and caches them by version:
#   $NEXUS_CACHE/bin/{kubelet,kube-proxy}-<k8s version>   the same wrapper module as the control plane
#   $NEXUS_CACHE/bin/coredns-<version>                    hack/node/coredns: coremain + the plugins a cluster DNS needs
#   $NEXUS_CACHE/bin/metrics-server-<version>             sigs.k8s.io/metrics-server
#   $NEXUS_CACHE/bin/local-path-provisioner-<version>     github.com/rancher/local-path-provisioner
# Cached binaries are reused; only missing ones are built.
set -euo pipefail
HACK="$(cd "$(dirname "$0")" && pwd)"
# shellcheck source=hack/lib/versions.sh
source "$HACK/lib/versions.sh"
# shellcheck source=hack/lib/go-build.sh
source "$HACK/lib/go-build.sh"

missing_kube=()
for c in kubelet kube-proxy; do
  [ -x "$BIN/$c-$KUBERNETES_VERSION" ] || missing_kube+=("$c")
done
need() { [ ! -x "$BIN/$1-$2" ]; }

if [ ${#missing_kube[@]} -eq 0 ] && ! need coredns "$COREDNS_VERSION" \
   && ! need metrics-server "$METRICS_SERVER_VERSION" \
   && ! need local-path-provisioner "$LOCAL_PATH_PROVISIONER_VERSION"; then
  step "node binaries cached in $BIN (kubelet $KUBERNETES_VERSION, CoreDNS $COREDNS_VERSION, metrics-server $METRICS_SERVER_VERSION, local-path-provisioner $LOCAL_PATH_PROVISIONER_VERSION)"
  exit 0
fi
require_go

[ ${#missing_kube[@]} -eq 0 ] || kube_build "${missing_kube[@]}"

if need coredns "$COREDNS_VERSION"; then
  pinned="$(sed -n 's#^require github.com/coredns/coredns \(v[^ ]*\)$#\1#p' "$HACK/node/coredns/go.mod")"
  [ "$pinned" = "$COREDNS_VERSION" ] \
    || { echo "hack/node/coredns/go.mod requires CoreDNS $pinned, versions.sh says $COREDNS_VERSION" >&2; exit 1; }
  step "go build CoreDNS $COREDNS_VERSION (hack/node/coredns)"
  (cd "$HACK/node/coredns" && go build -mod=readonly -trimpath -ldflags "$LDFLAGS_STRIP" \
    -o "$BIN/coredns-$COREDNS_VERSION.tmp" .)
  mv "$BIN/coredns-$COREDNS_VERSION.tmp" "$BIN/coredns-$COREDNS_VERSION"
fi
if need metrics-server "$METRICS_SERVER_VERSION"; then
  go_install metrics-server sigs.k8s.io/metrics-server/cmd/metrics-server "$METRICS_SERVER_VERSION"
fi
if need local-path-provisioner "$LOCAL_PATH_PROVISIONER_VERSION"; then
  go_install local-path-provisioner github.com/rancher/local-path-provisioner "$LOCAL_PATH_PROVISIONER_VERSION"
fi
step "node binaries ready in $BIN"

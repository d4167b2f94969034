#!/usr/bin/env bash
# Builds the local control plane's binaries from the Go module proxy and caches them by version:
#   $NEXUS_CACHE/bin/{kube-apiserver,kube-controller-manager,kube-scheduler,kubectl}-<k8s version>
#   $NEXUS_CACHE/bin/etcd-<etcd version>, $NEXUS_CACHE/bin/kwok-<kwok version>
# Cached binaries are reused; only missing ones are built. A cold build takes tens of minutes.
#
# k8s.io/kubernetes replaces its staging modules (k8s.io/api, k8s.io/client-go, ...) with local
# directories, so `go install` cannot build it. A wrapper module requires it and points every
# staging module at its published v0.<minor>.<patch> release instead.
set -euo pipefail
HACK="$(cd "$(dirname "$0")" && pwd)"
# shellcheck source=hack/lib/versions.sh
source "$HACK/lib/versions.sh"

: "${NEXUS_CACHE:=$HOME/.cache/nexus}"
export GOMODCACHE="${GOMODCACHE:-$NEXUS_CACHE/go/mod}" GOCACHE="${GOCACHE:-$NEXUS_CACHE/go/build}"
export GOFLAGS="${GOFLAGS:--modcacherw}" CGO_ENABLED=0
BIN="$NEXUS_CACHE/bin"
mkdir -p "$BIN"

KUBE_COMPONENTS=(kube-apiserver kube-controller-manager kube-scheduler kubectl)
step() { printf '==> %s\n' "$*"; }

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
command -v go >/dev/null || { echo "go is required to build the control plane" >&2; exit 1; }

# -s -w: no symbol tables, which also makes linking the large binaries noticeably faster.
LDFLAGS_STRIP="-s -w"

if [ ${#missing_kube[@]} -gt 0 ] || [ $need_etcd -eq 1 ]; then
  minor="${KUBERNETES_VERSION#v1.}"; minor="${minor%%.*}"
  staging_version="v0.${KUBERNETES_VERSION#v1.}"
  wrapper="$NEXUS_CACHE/src/control-plane-$KUBERNETES_VERSION"
  mkdir -p "$wrapper/cmd/etcd"
  cp "$HACK/control-plane/etcd/main.go" "$wrapper/cmd/etcd/main.go"

  if [ ! -f "$wrapper/go.mod" ]; then
    step "resolving k8s.io/kubernetes $KUBERNETES_VERSION and its staging modules"
    kube_mod="$(go mod download -json "k8s.io/kubernetes@$KUBERNETES_VERSION" | sed -n 's/.*"GoMod": "\(.*\)",*/\1/p')"
    staging=$(sed -n 's#^[[:space:]]*\(k8s.io/[a-z0-9-]*\) => ./staging/.*#\1#p' "$kube_mod")
    {
      echo "module nexus.local/control-plane"
      echo
      echo "go 1.24.0"
      echo
      echo "require k8s.io/kubernetes $KUBERNETES_VERSION"
      echo
      echo "replace ("
      for m in $staging; do echo "	$m => $m $staging_version"; done
      echo ")"
    } >"$wrapper/go.mod.tmp"
    mv "$wrapper/go.mod.tmp" "$wrapper/go.mod"
  fi

  pkgs=()
  for c in "${missing_kube[@]}"; do pkgs+=("k8s.io/kubernetes/cmd/$c"); done
  [ $need_etcd -eq 1 ] && pkgs+=("./cmd/etcd")
  step "go build ${pkgs[*]} (a cold build takes tens of minutes on 2 cores)"
  version_pkg=k8s.io/component-base/version
  ldflags="$LDFLAGS_STRIP -X $version_pkg.gitVersion=$KUBERNETES_VERSION -X $version_pkg.gitMajor=1"
  ldflags+=" -X $version_pkg.gitMinor=$minor -X $version_pkg.gitTreeState=clean"
  ldflags+=" -X $version_pkg.buildDate=1970-01-01T00:00:00Z"
  out="$wrapper/out"; mkdir -p "$out"
  (cd "$wrapper" && go build -mod=mod -trimpath -ldflags "$ldflags" -o "$out/" "${pkgs[@]}")
  for c in "${missing_kube[@]}"; do mv "$out/$c" "$BIN/$c-$KUBERNETES_VERSION"; done
  [ $need_etcd -eq 1 ] && mv "$out/etcd" "$BIN/etcd-$ETCD_VERSION"
  # The etcd binary comes from the module graph above; say which version that graph resolved.
  resolved="$(cd "$wrapper" && go list -m -f '{{.Version}}' go.etcd.io/etcd/server/v3)"
  [ "$resolved" = "$ETCD_VERSION" ] || echo "warning: etcd resolved to $resolved, expected $ETCD_VERSION" >&2
fi

if [ $need_kwok -eq 1 ]; then
  step "go install sigs.k8s.io/kwok/cmd/kwok@$KWOK_VERSION"
  gobin="$NEXUS_CACHE/src/kwok-$KWOK_VERSION"; mkdir -p "$gobin"
  GOBIN="$gobin" go install -trimpath -ldflags "$LDFLAGS_STRIP" "sigs.k8s.io/kwok/cmd/kwok@$KWOK_VERSION"
  mv "$gobin/kwok" "$BIN/kwok-$KWOK_VERSION"
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

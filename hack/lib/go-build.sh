# shellcheck shell=bash
# Go builds of the local cluster's binaries, shared by build-control-plane.sh and build-node.sh.
# Every binary lands in $BIN/<name>-<version> and is never rebuilt while it is there; the module
# and build caches live under $NEXUS_CACHE/go, so a rebuild after a version bump is mostly linking.
# Expects lib/versions.sh sourced.

: "${NEXUS_CACHE:=$HOME/.cache/nexus}"
export GOMODCACHE="${GOMODCACHE:-$NEXUS_CACHE/go/mod}" GOCACHE="${GOCACHE:-$NEXUS_CACHE/go/build}"
export GOFLAGS="${GOFLAGS:--modcacherw}" CGO_ENABLED=0
BIN="$NEXUS_CACHE/bin"
mkdir -p "$BIN"

# -s -w: no symbol tables, which also makes linking the large binaries noticeably faster.
LDFLAGS_STRIP="-s -w"

step() { printf '==> %s\n' "$*"; }

require_go() {
  command -v go >/dev/null || { echo "go is required to build the local cluster's binaries" >&2; exit 1; }
}

# k8s.io/kubernetes replaces its staging modules (k8s.io/api, k8s.io/client-go, ...) with local
# directories, so `go install` cannot build it. A wrapper module requires it and points every
# staging module at its published v0.<minor>.<patch> release instead. Prints the wrapper's path.
kube_wrapper_module() {
  local wrapper="$NEXUS_CACHE/src/control-plane-$KUBERNETES_VERSION" kube_mod staging m
  local staging_version="v0.${KUBERNETES_VERSION#v1.}"
  mkdir -p "$wrapper/cmd/etcd"
  cp "$HACK/control-plane/etcd/main.go" "$wrapper/cmd/etcd/main.go"
  if [ ! -f "$wrapper/go.mod" ]; then
    step "resolving k8s.io/kubernetes $KUBERNETES_VERSION and its staging modules" >&2
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
  echo "$wrapper"
}

# Builds Kubernetes commands (kube-apiserver, kubelet, ...; `etcd` is the wrapper's own ./cmd/etcd)
# in one `go build`, so shared packages compile once, stamped with the real version.
# Usage: kube_build NAME...   → $BIN/NAME-$KUBERNETES_VERSION ($BIN/etcd-$ETCD_VERSION)
kube_build() {
  local wrapper minor version_pkg ldflags out c resolved pkgs=()
  wrapper="$(kube_wrapper_module)"
  for c in "$@"; do
    if [ "$c" = etcd ]; then pkgs+=(./cmd/etcd); else pkgs+=("k8s.io/kubernetes/cmd/$c"); fi
  done
  minor="${KUBERNETES_VERSION#v1.}"; minor="${minor%%.*}"
  step "go build ${pkgs[*]} (a cold build takes tens of minutes on 2 cores)"
  version_pkg=k8s.io/component-base/version
  ldflags="$LDFLAGS_STRIP -X $version_pkg.gitVersion=$KUBERNETES_VERSION -X $version_pkg.gitMajor=1"
  ldflags+=" -X $version_pkg.gitMinor=$minor -X $version_pkg.gitTreeState=clean"
  ldflags+=" -X $version_pkg.buildDate=1970-01-01T00:00:00Z"
  out="$wrapper/out"; mkdir -p "$out"
  (cd "$wrapper" && go build -mod=mod -trimpath -ldflags "$ldflags" -o "$out/" "${pkgs[@]}")
  for c in "$@"; do
    if [ "$c" = etcd ]; then
      mv "$out/etcd" "$BIN/etcd-$ETCD_VERSION"
      # The etcd binary comes from the module graph above; say which version that graph resolved.
      resolved="$(cd "$wrapper" && go list -m -f '{{.Version}}' go.etcd.io/etcd/server/v3)"
      [ "$resolved" = "$ETCD_VERSION" ] || echo "warning: etcd resolved to $resolved, expected $ETCD_VERSION" >&2
    else
      mv "$out/$c" "$BIN/$c-$KUBERNETES_VERSION"
    fi
  done
}

# `go install PACKAGE@VERSION` for a module without replace directives.
# Usage: go_install NAME PACKAGE VERSION   → $BIN/NAME-VERSION
go_install() {
  local name="$1" package="$2" version="$3" gobin
  step "go install $package@$version"
  gobin="$NEXUS_CACHE/src/$name-$version"; mkdir -p "$gobin"
  GOBIN="$gobin" go install -trimpath -ldflags "$LDFLAGS_STRIP" "$package@$version"
  mv "$gobin/$(basename "$package")" "$BIN/$name-$version"
}

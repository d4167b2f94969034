#!/usr/bin/env bash
# Builds the chart and monitoring tools from the Go module proxy and caches them by version:
#   $NEXUS_CACHE/bin/helm-<version>             helm.sh/helm/v4/cmd/helm
#   $NEXUS_CACHE/bin/promtool-<version>         github.com/prometheus/prometheus/cmd/promtool
#   $NEXUS_CACHE/bin/promql-metrics-<hash>      hack/tools/promql-metrics (Prometheus's PromQL parser)
#   $NEXUS_CACHE/bin/prometheus-operator-crds-<version>.yaml
#       the ServiceMonitor, PodMonitor and PrometheusRule CRDs, read from the Prometheus Operator's
#       module source, so the tests can apply those kinds to a local API server
# Cached outputs are reused; only missing ones are built. `--print-env` prints where they are
# (HELM=..., PROMTOOL=..., PROMQL_METRICS=..., PROMETHEUS_OPERATOR_CRDS=...) after building.
set -euo pipefail
HACK="$(cd "$(dirname "$0")" && pwd)"
# shellcheck source=hack/lib/versions.sh
source "$HACK/lib/versions.sh"
# shellcheck source=hack/lib/go-build.sh
source "$HACK/lib/go-build.sh"

HELM_VERSION="${HELM_VERSION:-v4.3.2}"
# Prometheus's Go module versions are v0.<major><minor>.<patch>: v0.316.0 is Prometheus 3.16.0.
PROMETHEUS_MODULE_VERSION="${PROMETHEUS_MODULE_VERSION:-v0.316.0}"
PROMETHEUS_OPERATOR_VERSION="${PROMETHEUS_OPERATOR_VERSION:-v0.85.0}"

PROMQL_SRC="$HACK/tools/promql-metrics"
promql_hash="$(cat "$PROMQL_SRC/go.mod" "$PROMQL_SRC/go.sum" "$PROMQL_SRC/main.go" | sha256sum | cut -c1-12)"

HELM="$BIN/helm-$HELM_VERSION"
PROMTOOL="$BIN/promtool-$PROMETHEUS_MODULE_VERSION"
PROMQL_METRICS="$BIN/promql-metrics-$promql_hash"
PROMETHEUS_OPERATOR_CRDS="$BIN/prometheus-operator-crds-$PROMETHEUS_OPERATOR_VERSION.yaml"

# v0.316.0 -> 3.16.0
prometheus_release() {
  local v="${1#v0.}"
  local majmin="${v%%.*}" patch="${v#*.}"
  echo "${majmin:0:1}.${majmin:1}.$patch"
}

build_helm() {
  step "go install helm.sh/helm/v4/cmd/helm@$HELM_VERSION"
  local gobin="$NEXUS_CACHE/src/helm-$HELM_VERSION"
  mkdir -p "$gobin"
  GOBIN="$gobin" go install -trimpath \
    -ldflags "$LDFLAGS_STRIP -X helm.sh/helm/v4/internal/version.version=$HELM_VERSION -X helm.sh/helm/v4/internal/version.gitTreeState=clean" \
    "helm.sh/helm/v4/cmd/helm@$HELM_VERSION"
  mv "$gobin/helm" "$HELM"
}

build_promtool() {
  local release
  release="$(prometheus_release "$PROMETHEUS_MODULE_VERSION")"
  step "go install github.com/prometheus/prometheus/cmd/promtool@$PROMETHEUS_MODULE_VERSION (Prometheus $release)"
  local gobin="$NEXUS_CACHE/src/promtool-$PROMETHEUS_MODULE_VERSION"
  mkdir -p "$gobin"
  GOBIN="$gobin" go install -trimpath \
    -ldflags "$LDFLAGS_STRIP -X github.com/prometheus/common/version.Version=$release" \
    "github.com/prometheus/prometheus/cmd/promtool@$PROMETHEUS_MODULE_VERSION"
  mv "$gobin/promtool" "$PROMTOOL"
}

build_promql_metrics() {
  step "go build hack/tools/promql-metrics (Prometheus $PROMETHEUS_MODULE_VERSION's PromQL parser)"
  (cd "$PROMQL_SRC" && go build -mod=readonly -trimpath -ldflags "$LDFLAGS_STRIP" -o "$PROMQL_METRICS.tmp" .)
  mv "$PROMQL_METRICS.tmp" "$PROMQL_METRICS"
}

extract_crds() {
  step "Prometheus Operator CRDs from github.com/prometheus-operator/prometheus-operator@$PROMETHEUS_OPERATOR_VERSION"
  local dir
  dir="$(go mod download -json "github.com/prometheus-operator/prometheus-operator@$PROMETHEUS_OPERATOR_VERSION" |
    sed -n 's/.*"Dir": "\(.*\)",*/\1/p')"
  [ -n "$dir" ] || { echo "could not download the Prometheus Operator module" >&2; exit 1; }
  for kind in servicemonitors podmonitors prometheusrules; do
    echo "---"
    cat "$dir/example/prometheus-operator-crd/monitoring.coreos.com_$kind.yaml"
  done >"$PROMETHEUS_OPERATOR_CRDS.tmp"
  mv "$PROMETHEUS_OPERATOR_CRDS.tmp" "$PROMETHEUS_OPERATOR_CRDS"
}

print_env=0
if [ "${1:-}" = --print-env ]; then
  print_env=1
  exec 3>&1 1>&2 # progress to stderr, the variables alone on stdout
fi

if [ ! -x "$HELM" ] || [ ! -x "$PROMTOOL" ] || [ ! -x "$PROMQL_METRICS" ] || [ ! -f "$PROMETHEUS_OPERATOR_CRDS" ]; then
  require_go
  [ -x "$HELM" ] || build_helm
  [ -x "$PROMTOOL" ] || build_promtool
  [ -x "$PROMQL_METRICS" ] || build_promql_metrics
  [ -f "$PROMETHEUS_OPERATOR_CRDS" ] || extract_crds
fi
if [ $print_env -eq 1 ]; then
  printf 'HELM=%s\nPROMTOOL=%s\nPROMQL_METRICS=%s\nPROMETHEUS_OPERATOR_CRDS=%s\n' \
    "$HELM" "$PROMTOOL" "$PROMQL_METRICS" "$PROMETHEUS_OPERATOR_CRDS" >&3
else
  step "helm $HELM_VERSION, promtool $PROMETHEUS_MODULE_VERSION, promql-metrics and the Prometheus Operator $PROMETHEUS_OPERATOR_VERSION CRDs in $BIN"
fi

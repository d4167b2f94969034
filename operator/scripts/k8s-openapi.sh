#!/usr/bin/env bash
# Saves the OpenAPI v3 documents the CRD embeds schemas from, as the pinned Kubernetes API server
# serves them (with its enums), into OUT_DIR under the file names of k8s.io/kubernetes'
# api/openapi-spec/v3. Starts a control plane of its own in a temporary directory through
# hack/cluster-up.sh and stops it again. Prints the server's version.
#
# Usage: operator/scripts/k8s-openapi.sh OUT_DIR DOCUMENT...   (documents such as api/v1)
set -euo pipefail
out="$1"
shift
run="$(mktemp -d)"
trap 'hack/cluster-down.sh --purge "$run" >/dev/null 2>&1 || true' EXIT
hack/cluster-up.sh "$run" >"$run.log" 2>&1 || { cat "$run.log" >&2; exit 1; }
# shellcheck disable=SC1091
source "$run/cluster.env"
for document in "$@"; do
  "$KUBECTL" --kubeconfig "$KUBECONFIG" get --raw "/openapi/v3/$document" >"$out/${document//\//__}_openapi.json"
done
rm -f "$run.log"
echo "$KUBERNETES_VERSION"

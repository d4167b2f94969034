#!/usr/bin/env bash
# `make e2e`: the user's flow end to end on real pods, in a cluster of its own (a real node; one per
# machine, so a running `make dev` cluster must be stopped first). Builds nothing but the suite:
# `make e2e` builds the images before. E2E_STEPS picks steps (install,serve,rollout,replicas,
# memory,autoscale,remove); NEXUS_E2E_KEEP=1 keeps the run directory (logs, kubeconfig).
# On failure: the operator's and kernels' logs, the NexusRuntimes, events, describe of unready pods.
set -euo pipefail
HACK="$(cd "$(dirname "$0")/../../hack" && pwd)"
RUN_DIR="$(mktemp -d "${TMPDIR:-/tmp}/nexus-e2e-XXXXXX")"
# shellcheck source=hack/lib/cluster.sh
source "$HACK/lib/cluster.sh"
started=$SECONDS

cleanup() {
  local status=$?
  if [ $status -ne 0 ] && [ -f "$RUN_DIR/cluster.env" ]; then
    print_diagnostics nexus-e2e 2>&1 | tail -n 400 >&2 || true
    echo "e2e FAILED (exit $status); logs in $RUN_DIR/logs" >&2
  fi
  if [ "${NEXUS_E2E_KEEP:-}" = 1 ] || [ $status -ne 0 ]; then
    "$HACK/cluster-down.sh" "$RUN_DIR" | sed 's/^/    /'
  else
    "$HACK/cluster-down.sh" --purge "$RUN_DIR" | sed 's/^/    /'
  fi
  [ $status -ne 0 ] || step "e2e passed in $((SECONDS - started))s"
  exit $status
}
trap cleanup EXIT

"$HACK/cluster-up.sh" --node=real "$RUN_DIR"
# shellcheck source=hack/lib/dev.sh
source "$HACK/lib/dev.sh"
step "images: the operator, kernel and store images config/default names, into the node"
import_project_images
step "compiling the suite (test/e2e)"
(cd "$ROOT" && npx tsc -p test/e2e/tsconfig.json)
node "$ROOT/test/e2e/dist/main.js" "$RUN_DIR/cluster.env" "$ROOT"

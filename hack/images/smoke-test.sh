#!/usr/bin/env bash
# Smoke test of the built images, run the way Kubernetes runs them under the operator: read-only
# root filesystem, writable volumes only at CACHE_DIR and /tmp (directories prepared the way the
# kubelet prepares an emptyDir with fsGroup), uid 10001, every capability dropped, no privilege
# escalation. Reached from the host over 127.0.0.1 (slirp4netns port forwarding).
#
# kernel:   /health and /ready, a real handler execution through the native bridge, the image's
#           HEALTHCHECK (`podman healthcheck run`), SIGTERM → exit code 0.
# operator: without credentials it must exit 2 naming the problem; with a running local control
#           plane (`make cluster`) it must get ready, turn a NexusRuntime (in a namespace of the
#           test's own, deleted afterwards) into a Deployment of the kernel image, pass its
#           healthcheck and exit 0 on SIGTERM. The CRD is applied to that cluster if missing.
#
# Usage: hack/images/smoke-test.sh KERNEL_IMAGE OPERATOR_IMAGE
set -euo pipefail
[ $# -eq 2 ] || { echo "usage: smoke-test.sh KERNEL_IMAGE OPERATOR_IMAGE" >&2; exit 2; }
kernel_image="$1"
operator_image="$2"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
podman="$here/podman.sh"
cluster_env="${NEXUS_CLUSTER_DIR:-${NEXUS_CACHE:-$HOME/.cache/nexus}/run/cluster}/cluster.env"

UID_EXPECTED=10001
CACHE_DIR=/var/cache/nexus
prefix="nexus-smoke-$$"
containers=()
namespaces=()
scratch="$(mktemp -d)"

cleanup() {
  local name ns
  for name in "${containers[@]}"; do "$podman" rm --force --time 0 "$name" >/dev/null 2>&1 || true; done
  for ns in "${namespaces[@]}"; do kubectl_ delete namespace "$ns" --wait=false >/dev/null 2>&1 || true; done
  rm -rf "$scratch"
}
trap cleanup EXIT

step() { printf '==> images-test: %s\n' "$*"; }
fail() {
  printf 'images-test FAILED: %s\n' "$*" >&2
  local name
  for name in "${containers[@]}"; do
    printf -- '--- last log lines of %s\n' "$name" >&2
    "$podman" logs --tail 30 "$name" >&2 2>&1 || true
  done
  exit 1
}

# A directory as the kubelet makes an emptyDir for a pod with fsGroup 10001: mode 0777, group
# 10001, setgid. (podman's --tmpfs cannot stand in: runc gives the mount the image directory's mode.)
empty_dir() {
  install -d -m 2777 -g "$UID_EXPECTED" "$scratch/$1"
  echo "$scratch/$1"
}

free_port() {
  node -e 'const s = require("net").createServer().listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); })'
}

# Waits until URL answers 200, while the container is still running; prints the elapsed seconds.
wait_http() {
  local name="$1" url="$2" timeout="$3" started=$SECONDS
  until curl -fs -o /dev/null --max-time 2 "$url"; do
    [ "$("$podman" inspect --format '{{.State.Running}}' "$name")" = "true" ] \
      || fail "$name exited (code $("$podman" inspect --format '{{.State.ExitCode}}' "$name")) before $url answered"
    [ $((SECONDS - started)) -lt "$timeout" ] || fail "$url did not answer 200 within ${timeout}s"
    sleep 0.5
  done
  echo $((SECONDS - started))
}

# Sends SIGTERM and expects the process to exit 0 on its own, within the grace period.
expect_clean_stop() {
  local name="$1" grace="$2" code started
  started=$(date +%s%N)
  "$podman" kill --signal TERM "$name" >/dev/null
  code="$(timeout "$grace" "$podman" wait "$name" 2> >(without_timer_noise))" || fail "$name did not exit within ${grace}s of SIGTERM"
  [ "$code" = "0" ] || fail "$name exited with code $code after SIGTERM (want 0)"
  step "$name: SIGTERM → exit 0 in $(( ($(date +%s%N) - started) / 1000000 )) ms"
}

# podman schedules an image's HEALTHCHECK with systemd timers, which this kind of machine lacks (and
# 4.3 ignores --health-interval=disable for an image's own check); the check itself still runs on
# demand through `podman healthcheck run`. Drop only that complaint from podman's output.
without_timer_noise() { grep -v 'systemd connection to .* healthchecks' >&2 || true; }

# The restrictions the operator's pod spec applies (see operator/src/builders/deployment.ts).
hardened=(--read-only --read-only-tmpfs=false --cap-drop ALL --security-opt no-new-privileges
  --user "$UID_EXPECTED:$UID_EXPECTED")

check_image_config() {
  local image="$1" user health
  "$podman" image exists "$image" || fail "image $image does not exist (run make images)"
  user="$("$podman" image inspect --format '{{.Config.User}}' "$image")"
  [ "$user" = "$UID_EXPECTED:$UID_EXPECTED" ] || fail "$image runs as '$user', want $UID_EXPECTED:$UID_EXPECTED"
  health="$("$podman" image inspect --format '{{if .Config.Healthcheck}}{{join .Config.Healthcheck.Test " "}}{{end}}' "$image")"
  [ -n "$health" ] || fail "$image has no HEALTHCHECK"
  step "$image: user $user, $("$podman" image inspect --format '{{.Size}}' "$image" | awk '{ printf "%.0f MB", $1 / 1e6 }'), healthcheck: ${health:0:60}…"
}

smoke_kernel() {
  local name="$prefix-kernel" http ws base seconds body
  check_image_config "$kernel_image"
  http="$(free_port)"
  ws="$(free_port)"
  base="http://127.0.0.1:$http"
  step "starting $kernel_image read-only as uid $UID_EXPECTED on 127.0.0.1:$http (ws $ws)"
  containers+=("$name")
  "$podman" run --detach --name "$name" "${hardened[@]}" \
    --volume "$(empty_dir cache):$CACHE_DIR" --volume "$(empty_dir tmp):/tmp" \
    --network slirp4netns:port_handler=slirp4netns \
    --publish "127.0.0.1:$http:3000" --publish "127.0.0.1:$ws:3001" \
    "$kernel_image" >/dev/null 2> >(without_timer_noise)
  seconds="$(wait_http "$name" "$base/health" 60)"
  step "kernel: /health answered after ${seconds}s: $(curl -fsS "$base/health" | head -c 200)"
  wait_http "$name" "$base/ready" 30 >/dev/null
  step "kernel: /ready 200"

  # A real handler, run by QuickJS in the native bridge inside the image.
  body="$(curl -fsS -X POST "$base/panels" -H 'content-type: application/json' -d '{
      "title": "Smoke",
      "state": { "count": 0 },
      "tools": { "increment": {
        "args": { "type": "object", "properties": { "by": { "type": "number" } }, "required": ["by"] },
        "capabilities": ["state:read:*", "state:write:count"],
        "handler": "$state.count += $args.by; return $state.count" } } }')" \
    || fail "POST /panels failed"
  local id
  id="$(jq -er '.id' <<<"$body")" || fail "POST /panels returned no id: $body"
  body="$(curl -fsS -X POST "$base/panels/$id/trigger/increment" -H 'content-type: application/json' -d '{"by": 41}')" \
    || fail "trigger failed"
  [ "$(jq -r '.status' <<<"$body")" = "success" ] && [ "$(jq -r '.returnValue' <<<"$body")" = "41" ] \
    || fail "trigger returned $body (want status success, returnValue 41)"
  step "kernel: handler ran in the sandbox: $(jq -c '{status, returnValue, stateMutations}' <<<"$body")"

  [ "$("$podman" exec "$name" id -u)" = "$UID_EXPECTED" ] || fail "kernel process is not uid $UID_EXPECTED"
  if "$podman" exec "$name" sh -c 'touch /app/kernel/written 2>/dev/null || touch /written 2>/dev/null'; then
    fail "the root filesystem is writable"
  fi
  "$podman" exec "$name" sh -c "touch $CACHE_DIR/.probe /tmp/.probe && rm $CACHE_DIR/.probe /tmp/.probe" \
    || fail "$CACHE_DIR or /tmp is not writable"
  step "kernel: uid $UID_EXPECTED, root filesystem read-only, $CACHE_DIR and /tmp writable"

  "$podman" healthcheck run "$name" >/dev/null || fail "podman healthcheck run: unhealthy"
  step "kernel: podman healthcheck run → healthy"
  expect_clean_stop "$name" 30
}

smoke_operator_without_cluster() {
  local name="$prefix-operator" code log
  check_image_config "$operator_image"
  step "starting $operator_image with no cluster credentials (it must refuse clearly)"
  containers+=("$name")
  "$podman" run --detach --name "$name" "${hardened[@]}" --network none \
    "$operator_image" >/dev/null 2> >(without_timer_noise)
  code="$(timeout 30 "$podman" wait "$name" 2> >(without_timer_noise))" || fail "the operator kept running without credentials"
  log="$("$podman" logs "$name" 2>&1)"
  [ "$code" = "2" ] || fail "the operator exited with $code without credentials (want 2): $log"
  grep -q 'KUBECONFIG' <<<"$log" || fail "the operator's message does not name KUBECONFIG: $log"
  step "operator: exit 2, \"$(tail -1 <<<"$log")\""
}

smoke_operator_with_cluster() {
  local name="$prefix-operator-cluster" port seconds ns="$prefix" image
  # shellcheck disable=SC1090
  [ -f "$cluster_env" ] && (. "$cluster_env" && "$KUBECTL" --kubeconfig "$KUBECONFIG" get --raw /readyz >/dev/null 2>&1) || {
    step "operator: no local control plane answers ($cluster_env); skipping the in-cluster check (make cluster)"
    return
  }
  kubectl_() { (. "$cluster_env" && "$KUBECTL" --kubeconfig "$KUBECONFIG" "$@"); }
  # A self-contained copy of the admin kubeconfig, readable by the container's user only.
  kubectl_ config view --raw --flatten --minify >"$scratch/kubeconfig"
  chown "$UID_EXPECTED:$UID_EXPECTED" "$scratch/kubeconfig"
  chmod 0400 "$scratch/kubeconfig"
  # The CRD (what `kubectl apply -k config/default` installs) and a namespace of the test's own.
  kubectl_ apply --server-side --field-manager nexus-images-test -k "$here/../../crds" >/dev/null
  kubectl_ wait --for condition=Established --timeout 30s crd/nexusruntimes.nexus.dev >/dev/null
  kubectl_ create namespace "$ns" >/dev/null
  namespaces+=("$ns")

  port="$(free_port)"
  step "starting $operator_image against the local control plane (host network, metrics on 127.0.0.1:$port)"
  containers+=("$name")
  "$podman" run --detach --name "$name" "${hardened[@]}" --network host \
    --volume "$scratch/kubeconfig:/etc/nexus/kubeconfig:ro" \
    --env KUBECONFIG=/etc/nexus/kubeconfig --env METRICS_PORT="$port" --env LEADER_ELECT=false \
    --env WATCH_NAMESPACE="$ns" \
    "$operator_image" >/dev/null 2> >(without_timer_noise)
  seconds="$(wait_http "$name" "http://127.0.0.1:$port/readyz" 60)"
  step "operator: /readyz 200 (caches synced) after ${seconds}s"

  # The operator in the image reconciles a NexusRuntime into a Deployment of the kernel image.
  kubectl_ -n "$ns" apply -f - >/dev/null <<YAML
apiVersion: nexus.dev/v1alpha1
kind: NexusRuntime
metadata:
  name: smoke
spec:
  image: $kernel_image
YAML
  local started=$SECONDS
  until image="$(kubectl_ -n "$ns" get deployment smoke -o jsonpath='{.spec.template.spec.containers[0].image}' 2>/dev/null)" \
    && [ -n "$image" ]; do
    [ $((SECONDS - started)) -lt 60 ] || fail "the operator created no Deployment for NexusRuntime $ns/smoke within 60s"
    sleep 1
  done
  [ "$image" = "$kernel_image" ] || fail "Deployment $ns/smoke runs $image, want $kernel_image"
  step "operator: NexusRuntime $ns/smoke → Deployment of $image in $((SECONDS - started))s"

  "$podman" healthcheck run "$name" >/dev/null || fail "podman healthcheck run: unhealthy"
  step "operator: podman healthcheck run → healthy"
  expect_clean_stop "$name" 30
}

smoke_kernel
smoke_operator_without_cluster
smoke_operator_with_cluster
step "all checks passed"

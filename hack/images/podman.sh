#!/usr/bin/env bash
# Runs podman with the project's own configuration: storage, runtime and logs under
# $NEXUS_CACHE/containers, no registries. Usage: hack/images/podman.sh <podman arguments>
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cache="${NEXUS_CACHE:-$HOME/.cache/nexus}/containers"
# Runtime state belongs on a tmpfs that a reboot clears (podman detects reboots that way), under a
# short path: slirp4netns's API socket lives there and socket paths stop at 108 bytes. One
# directory per cache root, so two clones with different NEXUS_CACHE never share state.
run="/run/nexus-podman-$(printf '%s' "$cache" | sha256sum | cut -c1-8)"

render() { # render TEMPLATE DEST: substitute @CACHE@ and @RUN@, rewrite only when the result differs
  local out
  out="$(sed -e "s|@CACHE@|$cache|g" -e "s|@RUN@|$run|g" "$1")"
  if [ ! -f "$2" ] || [ "$(cat "$2")" != "$out" ]; then
    printf '%s\n' "$out" >"$2.tmp" && mv "$2.tmp" "$2"
  fi
}

mkdir -p "$cache/storage" "$cache/networks" "$run"
render "$here/containers.conf.in" "$cache/containers.conf"
render "$here/storage.conf.in" "$cache/storage.conf"
render "$here/registries.conf" "$cache/registries.conf"

export CONTAINERS_CONF="$cache/containers.conf"
export CONTAINERS_STORAGE_CONF="$cache/storage.conf"
export CONTAINERS_REGISTRIES_CONF="$cache/registries.conf"
exec podman "$@"

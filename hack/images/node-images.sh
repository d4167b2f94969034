#!/usr/bin/env bash
# Builds the real node's own images with podman, from scratch and offline (names in
# hack/lib/images.sh): the pod sandbox (pause.c, compiled static here), and one image per add-on
# binary of hack/build-node.sh. The local Debian base, which local-path-provisioner's helper pods
# use, comes from base.sh. podman's layer cache makes a rebuild of an unchanged image a no-op.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
HACK="$(cd "$here/.." && pwd)"
# shellcheck source=hack/lib/versions.sh
source "$HACK/lib/versions.sh"
# shellcheck source=hack/lib/images.sh
source "$HACK/lib/images.sh"
: "${NEXUS_CACHE:=$HOME/.cache/nexus}"
podman="$here/podman.sh"
BIN="$NEXUS_CACHE/bin"
contexts="$NEXUS_CACHE/images/node-contexts"

build() { # build IMAGE CONTEXT CONTAINERFILE BUILD_ARG...
  local image="$1" context="$2" file="$3"; shift 3
  local args=() arg
  for arg in "$@"; do args+=(--build-arg "$arg"); done
  "$podman" build --quiet --pull=never --network none --format docker --layers \
    "${args[@]}" -f "$file" -t "$image" "$context" >/dev/null
  echo "    $image ($("$podman" image inspect --format '{{.Size}}' "$image" | awk '{ printf "%.1f MB", $1 / 1e6 }'))"
}

"$HACK/apt-install.sh" gcc libc6-dev
mkdir -p "$contexts/pause"
gcc -Os -static -s -Wall -Wextra -Werror -DPAUSE_VERSION="\"$PAUSE_VERSION\"" \
  -o "$contexts/pause/pause" "$here/pause/pause.c"
build "$PAUSE_IMAGE" "$contexts/pause" "$here/pause/Containerfile" "VERSION=$PAUSE_VERSION"

for addon in "coredns $COREDNS_VERSION $COREDNS_IMAGE" \
             "metrics-server $METRICS_SERVER_VERSION $METRICS_SERVER_IMAGE" \
             "local-path-provisioner $LOCAL_PATH_PROVISIONER_VERSION $LOCAL_PATH_IMAGE"; do
  read -r name version image <<<"$addon"
  [ -x "$BIN/$name-$version" ] || { echo "$BIN/$name-$version is missing (hack/build-node.sh)" >&2; exit 1; }
  mkdir -p "$contexts/$name"
  cp "$BIN/$name-$version" "$contexts/$name/binary"
  build "$image" "$contexts/$name" "$here/static-binary.Containerfile" "NAME=$name" "VERSION=$version"
done
"$here/base.sh" debian | sed 's/^==> images: /    /'

#!/usr/bin/env bash
# Assembles the base images locally, with no registry:
#   localhost/debian:bookworm-slim       debootstrap --variant=minbase from the host's Debian mirror
#   localhost/node:20-bookworm-slim      the above plus this machine's Node.js
#   localhost/nexus/rust-builder:<rustc> the above plus this machine's Rust toolchain, clang, lld,
#                                        wasi-libc (what the bridge and its guest need)
# Each step is skipped when its image exists. Usage: hack/images/base.sh [debian|node|rust-builder]...
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
podman="$here/podman.sh"
work="${NEXUS_CACHE:-$HOME/.cache/nexus}/images"

DEBIAN_IMAGE=localhost/debian:bookworm-slim
NODE_IMAGE=localhost/node:20-bookworm-slim

log() { printf '==> images: %s\n' "$*"; }
exists() { "$podman" image exists "$1"; }

# The Debian mirror this machine already uses (deb822 or one-line format), else Debian's CDN.
debian_mirror() {
  local uri
  uri="$(awk '/^URIs:/ { print $2; exit }' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)"
  [ -n "$uri" ] || uri="$(awk '$1 == "deb" && $3 == "bookworm" { print $2; exit }' /etc/apt/sources.list 2>/dev/null || true)"
  printf '%s\n' "${uri:-http://deb.debian.org/debian}"
}

build_debian() {
  exists "$DEBIAN_IMAGE" && { log "$DEBIAN_IMAGE exists"; return; }
  "$here/../apt-install.sh" debootstrap
  local rootfs mirror
  mirror="$(debian_mirror)"
  rootfs="$(mktemp -d "$work/rootfs.XXXXXX")"
  tmpdirs+=("$rootfs")
  log "debootstrap minbase bookworm from $mirror (about a minute)"
  debootstrap --variant=minbase bookworm "$rootfs" "$mirror" >"$work/debootstrap.log" 2>&1 \
    || { tail -20 "$work/debootstrap.log" >&2; exit 1; }
  # Slim like Debian's own -slim images: no docs, man pages or locales, now or on later installs.
  cat >"$rootfs/etc/dpkg/dpkg.cfg.d/slim" <<'CFG'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
path-exclude /usr/share/lintian/*
CFG
  find "$rootfs/usr/share/doc" -mindepth 1 -not -name copyright -not -type d -delete
  rm -rf "$rootfs"/usr/share/{man,info,locale,lintian}/* "$rootfs"/var/lib/apt/lists/* \
    "$rootfs"/var/cache/apt/*.bin "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/log/*.log
  printf 'deb %s bookworm main\ndeb %s bookworm-updates main\n' "$mirror" "$mirror" >"$rootfs/etc/apt/sources.list"
  log "importing $DEBIAN_IMAGE"
  tar --numeric-owner -C "$rootfs" -cf - . \
    | "$podman" import --quiet --change 'CMD ["bash"]' --message "debootstrap minbase bookworm" - "$DEBIAN_IMAGE" >/dev/null
}

build_node() {
  exists "$NODE_IMAGE" && { log "$NODE_IMAGE exists"; return; }
  local version ctx
  version="$(node --version)"
  case "$version" in v20.*) ;; *) echo "node:20 base needs Node 20 on this machine, found $version" >&2; exit 1 ;; esac
  ctx="$(mktemp -d "$work/node-context.XXXXXX")"
  tmpdirs+=("$ctx")
  # The Node.js binary, its headers and its bundled npm and corepack (npm may be newer than the
  # nodejs package's own, so take the directories as they are rather than dpkg's file list).
  tar -C / -cf "$ctx/node.tar" usr/bin/node usr/bin/npm usr/bin/npx usr/bin/corepack \
    usr/include/node usr/lib/node_modules/npm usr/lib/node_modules/corepack
  cp "$here/node.Containerfile" "$ctx/Containerfile"
  log "building $NODE_IMAGE from this machine's Node $version"
  "$podman" build --pull=never --network none --format docker --build-arg "NODE_VERSION=${version#v}" \
    -t "$NODE_IMAGE" "$ctx"
}

rust_builder_image() { printf 'localhost/nexus/rust-builder:%s\n' "$(rustc --version | awk '{ print $2 }')"; }

build_rust_builder() {
  local image toolchain
  image="$(rust_builder_image)"
  exists "$image" && { log "$image exists"; return; }
  toolchain="$(realpath "$(rustc --print sysroot)")"
  log "building $image from $toolchain (apt reaches Debian's mirror through the host network)"
  "$podman" build --pull=never --network host --format docker \
    --volume "$toolchain:/opt/host-rust:ro" \
    -f "$here/rust-builder.Containerfile" -t "$image" "$here"
}

mkdir -p "$work"
tmpdirs=()
trap 'rm -rf "${tmpdirs[@]}"' EXIT
[ $# -gt 0 ] || set -- debian node rust-builder
for step in "$@"; do
  case "$step" in
    debian) build_debian ;;
    node) build_debian; build_node ;;
    rust-builder) build_debian; build_node; build_rust_builder ;;
    rust-builder-name) rust_builder_image ;;
    *) echo "unknown step: $step (debian|node|rust-builder|rust-builder-name)" >&2; exit 2 ;;
  esac
done

#!/usr/bin/env bash
# Installs Debian packages idempotently, waiting for another apt/dpkg process to release its lock.
# Usage: hack/apt-install.sh pkg...
set -euo pipefail
missing=()
for pkg in "$@"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "==> apt: installing ${missing[*]}"
SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
for attempt in $(seq 1 60); do
  if $SUDO apt-get -o DPkg::Lock::Timeout=60 update -qq \
     && $SUDO apt-get -o DPkg::Lock::Timeout=60 install -y -qq --no-install-recommends "${missing[@]}"; then
    exit 0
  fi
  echo "==> apt busy or failed (attempt $attempt); retrying in 10s" >&2
  sleep 10
done
echo "apt-get could not install: ${missing[*]}" >&2
exit 1

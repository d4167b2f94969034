#!/usr/bin/env bash
# `npm ci` for image builds. npm 11's `npm ci` rejects this repository's lockfile over optional
# packages of other platforms that the lockfile rightly leaves out (npm/cli#9846), so install with
# `npm install` into an empty node_modules and fail if that had to change the lockfile: the same
# guarantee `npm ci` gives. Usage, in the repository root: npm-install-locked.sh [npm options]
set -euo pipefail
[ ! -e node_modules ] || { echo "npm-install-locked.sh expects no node_modules yet" >&2; exit 1; }
pinned="$(mktemp)"
cp package-lock.json "$pinned"
npm install --prefer-offline --ignore-scripts --no-audit --no-fund --loglevel=error "$@"
if ! cmp -s package-lock.json "$pinned"; then
  echo "package-lock.json does not match the package.json files: run npm install and commit it" >&2
  diff "$pinned" package-lock.json | head -40 >&2 || true
  exit 1
fi
rm -f "$pinned"

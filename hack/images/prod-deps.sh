#!/usr/bin/env bash
# Installs the production dependencies of some workspaces only, at exactly the versions the lockfile
# pins, for a runtime image. `npm ci --workspace --omit=dev` leaves dev-only packages in the tree
# (form-data, @types/*), so the root manifest is narrowed to those workspaces and
# `npm install --omit=dev` prunes the rest; a version that moved away from the lockfile fails the build.
# Usage, in a copy of the repository root inside an image build: prod-deps.sh bridge kernel
set -euo pipefail
[ $# -gt 0 ] || { echo "usage: prod-deps.sh <workspace directory>..." >&2; exit 2; }

cp package-lock.json /tmp/package-lock.pinned.json
npm pkg delete workspaces devDependencies scripts
i=0
for workspace in "$@"; do npm pkg set "workspaces[$i]=$workspace"; i=$((i + 1)); done

npm install --omit=dev --ignore-scripts --prefer-offline --no-audit --no-fund --loglevel=error

node -e '
  const { readFileSync } = require("node:fs");
  const pinned = JSON.parse(readFileSync("/tmp/package-lock.pinned.json", "utf8")).packages;
  const installed = JSON.parse(readFileSync("package-lock.json", "utf8")).packages;
  const moved = Object.entries(installed)
    .filter(([path, entry]) => path !== "" && pinned[path] && pinned[path].version !== entry.version)
    .map(([path, entry]) => `  ${path}: lockfile ${pinned[path].version}, installed ${entry.version}`);
  if (moved.length > 0) {
    console.error(`production install moved away from the lockfile:\n${moved.join("\n")}`);
    process.exit(1);
  }'
rm /tmp/package-lock.pinned.json
echo "production dependencies of $*: installed as the lockfile pins them"

#!/usr/bin/env bash
# Installs HashiCorp's HCL parser compiled to WebAssembly (the npm package @cdktf/hcl2json) under
# the project's ignored .cache folder, once, and prints the node_modules folder that holds it.
# Used by the differential test in tests/suite/config.rs. Safe to run from parallel tests.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
prefix="${STRATA_NPM_PREFIX:-$root/.cache/npm}"
mkdir -p "$prefix"
exec 9>"$prefix.lock"
flock 9
if [ ! -f "$prefix/node_modules/@cdktf/hcl2json/package.json" ]; then
  command -v npm >/dev/null || { echo "npm is not installed: it is needed to fetch @cdktf/hcl2json" >&2; exit 1; }
  npm install --silent --no-audit --no-fund --prefix "$prefix" '@cdktf/hcl2json@0.21' >&2
fi
echo "$prefix/node_modules"

#!/usr/bin/env bash
# Installs checkov 3.x (the policy tool that reads Terraform's JSON plan) into a virtual
# environment under the project's ignored .cache folder, once, and prints the venv's path.
# Run it as `BC_SKIP_MAPPING=TRUE <venv>/bin/checkov -f plan.json --framework terraform_plan
# --skip-download -o json` (offline). Safe to run from parallel tests.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
venv="${STRATA_CHECKOV_VENV:-$root/.cache/checkov-venv}"
mkdir -p "$root/.cache"
exec 9>"$root/.cache/checkov-venv.lock"
flock 9
if [ ! -x "$venv/bin/checkov" ] || ! "$venv/bin/python" -c 'import checkov' 2>/dev/null; then
  python3 -m venv "$venv" >&2
  "$venv/bin/pip" install --quiet --disable-pip-version-check 'checkov>=3,<4' >&2
fi
echo "$venv"

#!/usr/bin/env bash
# Installs the AWS API emulator (moto server) into a virtual environment under the project's
# ignored .cache folder, once, and prints the venv's path. Safe to run from parallel tests.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
venv="${STRATA_VENV:-$root/.cache/venv}"
mkdir -p "$root/.cache"
exec 9>"$root/.cache/venv.lock"
flock 9
if [ ! -x "$venv/bin/moto_server" ] || ! "$venv/bin/python" -c 'import moto, flask' 2>/dev/null; then
  python3 -m venv "$venv" >&2
  "$venv/bin/pip" install --quiet --disable-pip-version-check 'moto[server]>=5.1,<6' >&2
fi
echo "$venv"

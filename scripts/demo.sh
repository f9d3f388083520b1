#!/usr/bin/env bash
# The main job, from a fresh machine: build Strata, start the AWS API emulator (moto) on a free
# loopback port, and init, plan and apply environments/dev against it (state in the emulator's
# S3), then show the outputs and prove a second plan has nothing to do.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
export CARGO_TARGET_DIR="${STRATA_TARGET_DIR:-$HOME/.cache/strata/target-ci}"

echo "==> building strata"
cargo build --quiet --bin strata
strata="$CARGO_TARGET_DIR/debug/strata"

echo "==> starting the AWS API emulator (moto)"
venv=$(bash scripts/ensure-moto.sh)
port=$("$venv/bin/python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
MOTO_IAM_LOAD_MANAGED_POLICIES=true "$venv/bin/python" -c 'import sys, moto.eks.models as m; m.DEFAULT_REMOTE_ACCESS = None; from moto.server import main; main(sys.argv[1:])' -H 127.0.0.1 -p "$port" >"$root/.cache/moto-demo.log" 2>&1 &
moto_pid=$!
trap 'kill $moto_pid 2>/dev/null || true' EXIT
for _ in $(seq 1 300); do
  if "$venv/bin/python" -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:$port/moto-api/')" 2>/dev/null; then break; fi
  sleep 0.1
done
export AWS_ENDPOINT_URL="http://127.0.0.1:$port" AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1 AWS_EC2_METADATA_DISABLED=true
"$venv/bin/python" -c "import boto3; boto3.client('s3', endpoint_url='$AWS_ENDPOINT_URL').create_bucket(Bucket='strata-demo-state')"
echo "    emulator on $AWS_ENDPOINT_URL, state bucket strata-demo-state"

# Work on a copy, so the demo's state and plan files stay out of the repository.
work="$root/.cache/demo"
rm -rf "$work" && mkdir -p "$work"
cp -r environments modules "$work/"
cd "$work/environments/dev"
export TF_VAR_db_password="demo-password-$(date +%s)"

run() { echo; echo "\$ strata $*"; "$strata" "$@"; }
run init -backend-config=bucket=strata-demo-state -backend-config=endpoint="$AWS_ENDPOINT_URL" -backend-config=use_path_style=true -backend-config=region=us-east-1
run validate
run plan -out=dev.plan
run apply dev.plan
run output
set +e
run plan -detailed-exitcode
code=$?
set -e
if [ "$code" -ne 0 ]; then echo "expected no changes after apply (exit $code)" >&2; exit 1; fi
echo
echo "Demo complete: environments/dev applied on the emulator; a second plan has no changes."

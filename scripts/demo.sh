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
# shellcheck source=scripts/start-moto.sh
source "$root/scripts/start-moto.sh"
start_moto "$root/.cache/moto-demo.log"
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

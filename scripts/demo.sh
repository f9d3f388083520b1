#!/usr/bin/env bash
# The main job, from a fresh machine: build Strata, start the AWS API emulator (moto) on a free
# loopback port, seed dev's database password in the emulator's SSM Parameter Store, and init,
# plan and apply environments/dev against it (state in the emulator's S3), then show the outputs
# and prove a second plan has nothing to do.
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
cp -r environments modules examples "$work/"

run() { echo; echo "\$ strata $*"; "$strata" "$@"; }

# The environment reads its database password from SSM (/strata/dev/db/password). It is seeded
# with Strata itself, through examples/db-password (an aws_ssm_parameter, SecureString), as a
# team would do it once per environment: the generated password exists only in this process's
# environment and in the emulator, and is printed nowhere.
echo
echo "==> seeding /strata/dev/db/password (examples/db-password)"
cd "$work/examples/db-password"
TF_VAR_password="demo-$("$venv/bin/python" -c 'import secrets; print(secrets.token_hex(12))')" \
  run apply -auto-approve -var environment=dev
cd "$work/environments/dev"
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

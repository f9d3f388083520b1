#!/usr/bin/env bash
# The GitOps workflow of examples/gitops (github-actions.yml, gitlab-ci.yml), run locally: a real
# git repository with one branch per environment (dev, stage, prod), pull requests simulated as
# merges, against the AWS API emulator (moto) with the S3 backend.
#
# For each pull request into an environment branch, the same steps as the CI jobs:
#   plan job  (on the PR head): strata init; strata plan -out=tfplan -lock-timeout=...;
#             strata show -markdown tfplan > comment.md (the PR comment);
#             strata show -json tfplan > plan.json (kept as an artifact); checkov on plan.json
#   apply job (after the merge, on the environment branch): strata apply tfplan (that very plan:
#             Strata refuses it if the configuration or the state changed since)
# Promotion is dev -> stage -> prod: the PR into stage comes from the dev branch, the one into
# prod from stage. A scheduled drift job runs `strata drift` over the environments.
#
# Usage: examples/gitops/local-pipeline.sh WORKDIR
#   STRATA=path/to/strata (default: cargo build --all-features)
#   SKIP_CHECKOV=1 skips the checkov step (installed by scripts/ensure-checkov.sh otherwise).
# Writes WORKDIR/results/: per PR the comment, JSON plan, checkov result and the apply's output;
# lock-wait.log (a second run on dev that queued behind the first); drift.{md,json} and
# drift.exit (after a change made behind Strata's back: 2). Stops the emulator on exit.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mkdir -p "${1:?usage: local-pipeline.sh WORKDIR}" && cd "$1" && pwd)
results="$work/results"
rm -rf "$work/repo" "$work/runner" "$results"
mkdir -p "$results"

if [ -z "${STRATA:-}" ]; then
  (cd "$root" && cargo build --quiet --all-features --bin strata)
  STRATA="${CARGO_TARGET_DIR:-$root/target}/debug/strata"
fi
strata() { "$STRATA" "$@"; }

echo "==> the AWS API emulator (moto) and the state bucket"
# shellcheck source=scripts/start-moto.sh
source "$root/scripts/start-moto.sh"
start_moto "$work/moto.log"
export TF_IN_AUTOMATION=1 NO_COLOR=1
bucket=strata-gitops-state
aws_py() { "$venv/bin/python" -c "import boto3, sys; $1" "${@:2}"; }
aws_py "boto3.client('s3').create_bucket(Bucket='$bucket')"
# The environments read their database passwords from SSM: the platform team seeds them once.
for env in dev stage prod; do
  aws_py "import secrets; boto3.client('ssm').put_parameter(Name='/strata/$env/db/password', Type='SecureString', Value='pipeline-' + secrets.token_hex(8))"
done

checkov=""
if [ -z "${SKIP_CHECKOV:-}" ]; then
  checkov="$(bash "$root/scripts/ensure-checkov.sh")/bin/checkov"
fi

echo "==> a repository with one branch per environment"
repo="$work/repo"
git init -q -b dev "$repo"
git -C "$repo" config user.email pipeline@example.com
git -C "$repo" config user.name "Local pipeline"
echo "# Platform (dev, stage and prod are branches; environments/<branch> is applied)" >"$repo/README.md"
git -C "$repo" add README.md && git -C "$repo" commit -q -m "Start"
git -C "$repo" branch stage && git -C "$repo" branch prod
git -C "$repo" checkout -q -b feature/platform
cp -r "$root/environments" "$root/modules" "$repo/"
rm -rf "$repo"/environments/*/.terraform "$repo"/environments/*/.strata
git -C "$repo" add -A && git -C "$repo" commit -q -m "The platform: network, cluster, database"
git -C "$repo" checkout -q dev
# The CI runner's checkout: one working tree, moved between commits as a runner would.
git -C "$repo" worktree add -q --detach "$work/runner" dev

# init as the CI job does it: the backend settings come from the pipeline, not from the files.
init() {
  strata init -input=false -backend-config=bucket="$bucket" -backend-config=endpoint="$AWS_ENDPOINT_URL" \
    -backend-config=use_path_style=true -backend-config=region=us-east-1 >/dev/null
}

# plan job: PR number, source branch, environment branch.
plan_job() {
  local pr=$1 source=$2 env=$3 out="$results/pr-$1"
  mkdir -p "$out"
  echo "==> PR #$pr ($source -> $env): plan"
  git -C "$work/runner" checkout -q --detach "$source"
  (
    cd "$work/runner/environments/$env"
    init
    set +e
    strata plan -input=false -lock-timeout=5m -detailed-exitcode -out="$out/tfplan" >"$out/plan.txt" 2>&1
    echo $? >"$out/plan.exit"
    set -e
    [ "$(cat "$out/plan.exit")" != 1 ] || { cat "$out/plan.txt" >&2; exit 1; }
    strata show -markdown "$out/tfplan" >"$out/comment.md"
    strata show -json "$out/tfplan" >"$out/plan.json"
  )
  if [ -n "$checkov" ]; then
    set +e
    BC_SKIP_MAPPING=TRUE "$checkov" -f "$out/plan.json" --framework terraform_plan --skip-download \
      -o json >"$out/checkov.json" 2>"$out/checkov.log"
    echo $? >"$out/checkov.exit"
    set -e
  fi
  echo "    comment: $(wc -c <"$out/comment.md") characters; $(grep -m1 '^\*\*Plan' "$out/comment.md" || echo 'no changes')"
}

# The merge: the PR's source branch into the environment branch (fast-forward when possible).
merge() {
  local source=$1 env=$2
  git -C "$repo" checkout -q "$env"
  git -C "$repo" merge -q --no-edit "$source"
  git -C "$repo" checkout -q dev
}

# apply job: applies the plan saved by the PR's plan job, on the environment branch.
apply_job() {
  local pr=$1 env=$2 out="$results/pr-$1"
  echo "==> PR #$pr merged into $env: apply the saved plan"
  git -C "$work/runner" checkout -q --detach "$env"
  (
    cd "$work/runner/environments/$env"
    init
    strata apply -input=false -lock-timeout=5m "$out/tfplan" >"$out/apply.txt" 2>&1 || { cat "$out/apply.txt" >&2; exit 1; }
    set +e
    strata plan -input=false -lock-timeout=5m -detailed-exitcode >"$out/replan.txt" 2>&1
    echo $? >"$out/replan.exit"
  )
  grep -m1 'Apply complete' "$out/apply.txt" | sed 's/^/    /'
}

# The lock object the S3 backend writes while a run holds the workspace.
lock_held() {
  aws_py "import botocore; s3 = boto3.client('s3')
try:
    s3.head_object(Bucket='$bucket', Key=sys.argv[1] + '/terraform.tfstate.tflock'); sys.exit(0)
except botocore.exceptions.ClientError:
    sys.exit(1)" "$1"
}

plan_job 1 feature/platform dev
merge feature/platform dev
# A second run on dev (the scheduled drift job) starts while the apply holds dev's lock: it
# queues behind it (Strata's lock queue, -lock-timeout) instead of failing.
apply_job 1 dev &
apply_pid=$!
for _ in $(seq 1 600); do lock_held dev && break; sleep 0.05; done
set +e
strata drift -lock-timeout=5m "$work/runner/environments/dev" >"$results/lock-wait.log" 2>&1
echo $? >"$results/lock-wait.exit"
set -e
wait $apply_pid

plan_job 2 dev stage
merge dev stage
apply_job 2 stage
plan_job 3 stage prod
merge stage prod
apply_job 3 prod

echo "==> a change behind Strata's back, then the scheduled drift job"
vpc=$(cd "$work/runner/environments/dev" && init && strata output -raw vpc_id)
aws_py "boto3.client('ec2').create_tags(Resources=[sys.argv[1]], Tags=[{'Key': 'Owner', 'Value': 'someone-in-the-console'}])" "$vpc"
git -C "$work/runner" checkout -q --detach prod
set +e
(cd "$work/runner" && for env in dev stage prod; do (cd "environments/$env" && init); done
 strata drift -lock-timeout=5m -markdown="$results/drift.md" -json-report="$results/drift.json" \
   environments/dev environments/stage environments/prod >"$results/drift.txt" 2>&1)
echo $? >"$results/drift.exit"
set -e
sed 's/^/    /' "$results/drift.txt"
echo "    drift exit code: $(cat "$results/drift.exit")"
echo "Local pipeline complete: results in $results"

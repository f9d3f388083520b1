#!/usr/bin/env bash
# The cluster re-plan benchmark of BENCHMARKS.md (issue 16's first target): environments/dev (the
# EKS + RDS cluster: VPC, subnets, NAT, route tables, IAM, EKS cluster and node group, RDS) on the
# AWS API emulator (moto), state in the emulator's S3 as scripts/demo.sh runs it, re-planned
# (`No changes.`) RUNS times (default 5) alternately by:
#   - Strata with its built-in AWS provider, on the state Strata's apply wrote;
#   - Terraform 1.15.5 with the real terraform-provider-aws 3.39.0 plugin, on the state its own
#     apply wrote: the plugin is from 2021 and the configuration asks for the current provider, so
#     Terraform runs a copy adapted to 3.39's names exactly as scripts/terraform-check-environments.sh
#     adapts it (`db_name` was `name`, `domain = "vpc"` was `vpc = true`, no
#     `node_group_name_prefix`); the node group's name then differs from the one in Strata's state,
#     which 3.39 would replace, so the two tools cannot share one state: each applies on its own
#     emulator (two moto servers holding the same objects);
#   - Strata with the same plugin (`STRATA_PROVIDER_aws=plugin`) on Terraform's copy and state.
# Every plan must exit 0 under -detailed-exitcode (`No changes.`), or the script fails.
# Prints a Markdown table: median wall and CPU (user + system of the tool and the plugin it
# starts) with min–max, the emulator's CPU during the run and the requests it served (median;
# from /proc and its request log), and Terraform's medians over each tool's.
# Usage: scripts/bench-cluster.sh [STRATA_BINARY] (default: target/release/strata, built if
# missing; it must have the `aws` feature, the default). With BENCH_LOGS=DIR, the emulators'
# request logs and the raw measures are copied there.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
runs=${RUNS:-5}
strata=${1:-$root/target/release/strata}
[ -x "$strata" ] || (cd "$root" && cargo build --release --bin strata >&2)
strata=$(realpath "$strata")
peer=$(bash "$root/scripts/ensure-terraform-peer.sh")
work=$(mktemp -d)
# shellcheck source=start-moto.sh
source "$root/scripts/start-moto.sh"
start_moto "$work/moto-terraform.log"
terraform_endpoint=$AWS_ENDPOINT_URL terraform_moto=$moto_pid
start_moto "$work/moto-strata.log"
strata_endpoint=$AWS_ENDPOINT_URL
trap 'kill $moto_pid $terraform_moto 2>/dev/null || true; rm -rf "$work"' EXIT
printf 'provider_installation {\n  filesystem_mirror {\n    path    = "%s"\n    include = ["registry.terraform.io/hashicorp/aws"]\n  }\n}\n' "$peer/providers" >"$work/cli.tfrc"
export TF_CLI_CONFIG_FILE=$work/cli.tfrc CHECKPOINT_DISABLE=1 TF_IN_AUTOMATION=1
unset STRATA_PROVIDER_aws
terraform=("$peer/bin/python3" "$root/scripts/terraform.py")
terraform() { AWS_ENDPOINT_URL=$terraform_endpoint "${terraform[@]}" "$@"; }
quiet() { "$@" >"$work/last.log" 2>&1 || { cat "$work/last.log" >&2; echo "failed: $*" >&2; exit 1; }; }

# The state bucket and the database password (/strata/dev/db/password) on each emulator.
for endpoint in "$strata_endpoint" "$terraform_endpoint"; do
  "$venv/bin/python" - "$endpoint" <<'PY'
import sys, boto3
endpoint = sys.argv[1]
boto3.client("s3", endpoint_url=endpoint).create_bucket(Bucket="strata-bench-state")
boto3.client("ssm", endpoint_url=endpoint).put_parameter(
    Name="/strata/dev/db/password", Type="SecureString", Value="bench-only-password-1")
PY
done

# Strata: the environment as it is, applied with the built-in provider.
mkdir -p "$work/strata" "$work/terraform"
cp -r "$root/environments" "$root/modules" "$work/strata/"
cd "$work/strata/environments/dev"
quiet "$strata" init -no-color -backend-config=bucket=strata-bench-state -backend-config=endpoint="$strata_endpoint" \
  -backend-config=use_path_style=true -backend-config=region=us-east-1
quiet "$strata" apply -auto-approve -no-color
count=$("$strata" state list | grep -vc '^data\.' || true)

# Terraform: the copy adapted to the 3.39 plugin, its endpoints and backend pointed at its emulator.
cp -r "$root/environments" "$root/modules" "$work/terraform/"
cd "$work/terraform"
sed -i 's/">= 5.0"/">= 3.0"/' modules/*/versions.tf environments/*/providers.tf
sed -i 's/^  db_name  /  name     /' modules/rds/main.tf
sed -i 's/^  domain = "vpc"/  vpc = true/' modules/vpc/main.tf
sed -i 's/^  node_group_name_prefix = /  node_group_name        = /' modules/eks/main.tf
cat >environments/dev/emulator_override.tf <<EOF
terraform {
  backend "s3" {
    bucket                      = "strata-bench-state"
    key                         = "dev/terraform.tfstate"
    region                      = "us-east-1"
    use_lockfile                = true
    endpoints                   = { s3 = "$terraform_endpoint" }
    use_path_style              = true
    skip_credentials_validation = true
    skip_requesting_account_id  = true
    skip_metadata_api_check     = true
  }
}

provider "aws" {
  access_key                  = "test"
  secret_key                  = "test"
  skip_credentials_validation = true
  skip_requesting_account_id  = true
  skip_metadata_api_check     = true
  endpoints {
    ec2 = "$terraform_endpoint"
    eks = "$terraform_endpoint"
    iam = "$terraform_endpoint"
    rds = "$terraform_endpoint"
    sts = "$terraform_endpoint"
    ssm = "$terraform_endpoint"
  }
}
EOF
cd environments/dev
quiet terraform init -no-color -input=false
quiet terraform apply -auto-approve -no-color -input=false

# Strata with the plugin: a copy of Terraform's directory (same files, same state in S3),
# initialised by Strata.
cp -r "$work/terraform" "$work/plugin"
cd "$work/plugin/environments/dev"
AWS_ENDPOINT_URL=$terraform_endpoint quiet "$strata" init -no-color -input=false

# The CPU time (user + system, clock ticks) process $1 has used so far.
ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
# The requests emulator log $1 holds.
requests() { grep -cE 'HTTP/1\.1[^ ]* [0-9]{3} ' "$1" || true; }
# One re-plan under /usr/bin/time: appends "wall cpu calls emulator-cpu" to the file named first,
# calls being the requests the emulator (log named second, process id third) logged meanwhile
# (one `"METHOD /path HTTP/1.1" status` line each) and emulator-cpu the CPU time it used meanwhile.
measure() {
  local out=$1 log=$2 pid=$3 code=0 calls ticks_before
  shift 3
  calls=$(requests "$log") ticks_before=$(ticks "$pid")
  /usr/bin/time -o "$work/time" -f '%e %U %S' "$@" >"$work/last.log" 2>&1 || code=$?
  if [ $code -ne 0 ]; then
    cat "$work/last.log" >&2
    echo "failed or not \`No changes.\` (exit $code): $*" >&2
    exit 1
  fi
  calls=$(($(requests "$log") - calls))
  awk -v calls=$calls -v emulator=$(($(ticks "$pid") - ticks_before)) -v hz="$(getconf CLK_TCK)" \
    '{ printf "%s %.2f %d %.2f\n", $1, $2 + $3, calls, emulator / hz }' "$work/time" >>"$out"
}
plan=(plan -no-color -input=false -detailed-exitcode)
for _ in $(seq 1 "$runs"); do
  (cd "$work/strata/environments/dev" && measure "$work/times.builtin" "$work/moto-strata.log" "$moto_pid" "$strata" "${plan[@]}")
  (cd "$work/plugin/environments/dev" && AWS_ENDPOINT_URL=$terraform_endpoint STRATA_PROVIDER_aws=plugin measure "$work/times.plugin" "$work/moto-terraform.log" "$terraform_moto" "$strata" "${plan[@]}")
  (cd "$work/terraform/environments/dev" && AWS_ENDPOINT_URL=$terraform_endpoint measure "$work/times.terraform" "$work/moto-terraform.log" "$terraform_moto" "${terraform[@]}" "${plan[@]}")
done

# "median (min–max)" of column $1 (1 wall, 2 CPU, 4 emulator CPU) of a file of measures.
summary() { sort -n -k"$1" "$2" | awk -v k="$1" '{a[NR]=$k} END {printf "%.2f s (%.2f–%.2f)", a[int((NR+1)/2)], a[1], a[NR]}'; }
median() { sort -n -k"$1" "$2" | awk -v k="$1" '{a[NR]=$k} END {print a[int((NR+1)/2)]}'; }
ratio() { awk -v t="$(median "$1" "$work/times.terraform")" -v s="$(median "$1" "$2")" 'BEGIN { printf "%.1f×", t / s }'; }
echo "Re-plan (\`No changes.\`) of environments/dev, $count resources, $runs runs each; load average $(cut -d' ' -f1-3 /proc/loadavg) at the end:"
echo
row() { echo "| $1 | $(summary 1 "$2") | $(summary 2 "$2") | $(summary 4 "$2") | $(median 3 "$2") | ${3:-$(ratio 1 "$2") | $(ratio 2 "$2")} |"; }
echo "| tool | wall, median (min–max) | CPU | emulator's CPU meanwhile | API calls | Terraform's wall / this | Terraform's CPU / this |"
echo "|---|---:|---:|---:|---:|---:|---:|"
row "Strata, built-in provider" "$work/times.builtin"
row "Strata, plugin (\`STRATA_PROVIDER_aws=plugin\`)" "$work/times.plugin"
row "Terraform 1.15.5, plugin" "$work/times.terraform" " | "
if [ -n "${BENCH_LOGS:-}" ]; then
  mkdir -p "$BENCH_LOGS" && cp "$work"/moto-*.log "$work"/times.* "$BENCH_LOGS/"
fi

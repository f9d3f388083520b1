#!/usr/bin/env bash
# The provider-plugin benchmark of BENCHMARKS.md: the configuration of the plugin test
# (tests/fixtures/plugin/aws/main.tf, 14 resources of 13 types the built-in AWS provider lacks)
# applied, re-planned and destroyed through the real terraform-provider-aws 3.39.0 on moto, by
# Strata and by Terraform 1.15.5 with the same plugin, RUNS times each (default 3), each run on a
# fresh emulator state. Prints a Markdown table of median wall times (min–max in parentheses).
# Usage: scripts/bench-plugin.sh [STRATA_BINARY] (default: target/release/strata, built if missing)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
runs=${RUNS:-3}
strata=${1:-$root/target/release/strata}
[ -x "$strata" ] || (cd "$root" && cargo build --release --no-default-features --bin strata >&2)
peer=$(bash "$root/scripts/ensure-terraform-peer.sh")
work=$(mktemp -d)
# shellcheck source=start-moto.sh
source "$root/scripts/start-moto.sh"
start_moto "$work/moto.log"
trap 'kill $moto_pid 2>/dev/null || true; rm -rf "$work"' EXIT
printf 'provider_installation {\n  filesystem_mirror {\n    path    = "%s"\n    include = ["registry.terraform.io/hashicorp/aws"]\n  }\n}\n' "$peer/providers" >"$work/cli.tfrc"
export TF_CLI_CONFIG_FILE=$work/cli.tfrc CHECKPOINT_DISABLE=1 TF_IN_AUTOMATION=1
unset STRATA_PROVIDER_aws
terraform() { "$peer/bin/python3" "$root/scripts/terraform.py" "$@"; }
seconds() { local start=$(date +%s.%N); "$@" >/dev/null 2>&1 || { echo "failed: $*" >&2; exit 1; }; awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN { print e - s }'; }
median() { sort -n | awk '{a[NR]=$1} END {printf "%.1f s (%.1f–%.1f)", a[int((NR+1)/2)], a[1], a[NR]}'; }
for tool in strata terraform; do
  for run in $(seq 1 "$runs"); do
    curl -s -X POST "$AWS_ENDPOINT_URL/moto-api/reset" >/dev/null
    dir=$work/$tool-$run
    mkdir -p "$dir"
    sed "s#ENDPOINT#$AWS_ENDPOINT_URL#" "$root/tests/fixtures/plugin/aws/main.tf" >"$dir/main.tf"
    cd "$dir"
    terraform init -no-color >/dev/null
    run_tool() { if [ "$tool" = strata ]; then "$strata" "$@"; else terraform "$@"; fi; }
    seconds run_tool apply -auto-approve -no-color >>"$work/$tool.apply"
    seconds run_tool plan -no-color -detailed-exitcode >>"$work/$tool.plan"
    seconds run_tool destroy -auto-approve -no-color >>"$work/$tool.destroy"
  done
done
echo "| command | Strata | Terraform |"
echo "|---|---:|---:|"
for step in apply plan destroy; do
  echo "| $step | $(median <"$work/strata.$step") | $(median <"$work/terraform.$step") |"
done

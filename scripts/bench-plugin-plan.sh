#!/usr/bin/env bash
# Plan time per resource through the provider plugin against the built-in AWS provider: the
# configuration of the switching test (tests/fixtures/plugin/switch/main.tf, 12 resources of
# types the built-in provider implements) applied once on moto by the built-in provider, then
# re-planned RUNS times (default 5) by Strata with the built-in provider, by Strata with the real
# terraform-provider-aws 3.39.0 plugin (STRATA_PROVIDER_aws=plugin), and by Terraform 1.15.5
# with the same plugin, alternately, on the same state. Prints a Markdown table of median wall
# times (min–max) and the time per resource.
# Usage: scripts/bench-plugin-plan.sh [STRATA_BINARY] (default: target/release/strata; it must
# have the `aws` feature, the default)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
runs=${RUNS:-5}
strata=${1:-$root/target/release/strata}
[ -x "$strata" ] || (cd "$root" && cargo build --release --bin strata >&2)
peer=$(bash "$root/scripts/ensure-terraform-peer.sh")
work=$(mktemp -d)
# shellcheck source=start-moto.sh
source "$root/scripts/start-moto.sh"
start_moto "$work/moto.log"
trap 'kill $moto_pid 2>/dev/null || true; rm -rf "$work"' EXIT
printf 'provider_installation {\n  filesystem_mirror {\n    path    = "%s"\n    include = ["registry.terraform.io/hashicorp/aws"]\n  }\n}\n' "$peer/providers" >"$work/cli.tfrc"
export TF_CLI_CONFIG_FILE=$work/cli.tfrc CHECKPOINT_DISABLE=1 TF_IN_AUTOMATION=1
terraform() { "$peer/bin/python3" "$root/scripts/terraform.py" "$@"; }
seconds() { local start=$(date +%s.%N) code=0; "$@" >/dev/null 2>&1 || code=$?; [ $code -eq 0 ] || { echo "failed or not \`No changes.\` (exit $code): $*" >&2; exit 1; }; awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN { print e - s }'; }
median() { sort -n | awk -v n="$1" '{a[NR]=$1} END {m=a[int((NR+1)/2)]; printf "%.2f s (%.2f–%.2f) | %.0f ms", m, a[1], a[NR], 1000*m/n}'; }
sed "s#ENDPOINT#$AWS_ENDPOINT_URL#" "$root/tests/fixtures/plugin/switch/main.tf" >"$work/main.tf"
cd "$work"
terraform init -no-color >/dev/null
STRATA_PROVIDER_aws=builtin "$strata" apply -auto-approve -no-color >/dev/null
count=$("$strata" state list | grep -vc '^data\.' || true)
for run in $(seq 1 "$runs"); do
  STRATA_PROVIDER_aws=builtin seconds "$strata" plan -no-color -detailed-exitcode >>"$work/builtin"
  STRATA_PROVIDER_aws=plugin seconds "$strata" plan -no-color -detailed-exitcode >>"$work/plugin"
  seconds terraform plan -no-color -detailed-exitcode >>"$work/terraform"
done
echo "Re-plan (\`No changes.\`) of $count resources, $runs runs each:"
echo
echo "| tool | wall, median (min–max) | per resource |"
echo "|---|---:|---:|"
echo "| Strata, built-in provider | $(median "$count" <"$work/builtin") |"
echo "| Strata, plugin | $(median "$count" <"$work/plugin") |"
echo "| Terraform 1.15.5, plugin | $(median "$count" <"$work/terraform") |"

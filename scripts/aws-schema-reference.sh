#!/usr/bin/env bash
# Writes tests/fixtures/aws-schema/terraform-provider-aws-3.39.0.json: the schemas that the real
# terraform-provider-aws 3.39.0 binary declares (`terraform providers schema -json`, Terraform
# 1.15.5) for the resource types and data sources Strata's AWS provider implements. The
# `aws_schema` test compares Strata's own schema (`strata providers schema -json`) with it.
# 3.39.0 is the only real AWS provider installable offline here (see shared/PEERS.md); what
# changed in the provider since then is listed, with the version, in
# tests/fixtures/aws-schema/differences.json.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
peer=$("$root/scripts/ensure-terraform-peer.sh")
export CHECKPOINT_DISABLE=1 TF_IN_AUTOMATION=1 TF_CLI_CONFIG_FILE="$peer/mirrorrc"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cat > "$work/main.tf" <<'TF'
terraform {
  required_providers {
    aws = { source = "hashicorp/aws", version = "3.39.0" }
  }
}
TF
cd "$work"
"$peer/bin/python3" "$root/scripts/terraform.py" init -no-color -input=false >/dev/null
"$peer/bin/python3" "$root/scripts/terraform.py" providers schema -json > schema.json
out="$root/tests/fixtures/aws-schema/terraform-provider-aws-3.39.0.json"
mkdir -p "$(dirname "$out")"
"$peer/bin/python3" - schema.json "$out" <<'PY'
import json, sys
resources = """aws_vpc aws_subnet aws_internet_gateway aws_eip aws_nat_gateway aws_route_table
aws_route_table_association aws_security_group aws_security_group_rule aws_iam_role
aws_iam_role_policy_attachment aws_eks_cluster aws_eks_node_group aws_db_subnet_group
aws_db_instance aws_ssm_parameter""".split()
# aws_ssm_parameters_by_path is newer than 3.39.0 (the audit cannot check it).
data_sources = """aws_availability_zones aws_caller_identity aws_vpc aws_iam_policy_document
aws_ssm_parameter""".split()
full = json.load(open(sys.argv[1]))["provider_schemas"]["registry.terraform.io/hashicorp/aws"]
def strip(block):
    """Drops the prose: the comparison is about names, types and flags."""
    for attribute in block.get("attributes", {}).values():
        for key in ("description", "description_kind", "deprecated"):
            attribute.pop(key, None)
    for nested in block.get("block_types", {}).values():
        strip(nested["block"])
    for key in ("description", "description_kind", "deprecated"):
        block.pop(key, None)
    return block
trimmed = {
    "provider": {"version": full["provider"].get("version", 0), "block": strip(full["provider"]["block"])},
    "resource_schemas": {t: {"version": full["resource_schemas"][t].get("version", 0), "block": strip(full["resource_schemas"][t]["block"])} for t in resources},
    "data_source_schemas": {t: {"version": full["data_source_schemas"][t].get("version", 0), "block": strip(full["data_source_schemas"][t]["block"])} for t in data_sources},
}
with open(sys.argv[2], "w") as f:
    json.dump(trimmed, f, indent=1, sort_keys=True)
    f.write("\n")
PY
echo "wrote $out"

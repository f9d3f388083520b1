"""What the moto emulator holds, for the chaos and adoption tests (tests/suite/chaos.rs).

    python aws_inventory.py ENDPOINT inventory
        prints {resource type: [key, ...]} for every object of the types the dev environment
        uses, keyed as Strata's state records them (the id; `role|policy_arn` for a policy
        attachment; the identifier for a DB instance). Objects AWS makes by itself (a VPC's
        main route table and default security group) are left out.
    python aws_inventory.py ENDPOINT vpc CIDR TOKEN      a VPC tagged strata:intent=TOKEN
    python aws_inventory.py ENDPOINT role NAME [TOKEN]   an IAM role, tagged when TOKEN is given
    python aws_inventory.py ENDPOINT db IDENTIFIER TOKEN a PostgreSQL DB instance tagged
        strata:intent=TOKEN
    python aws_inventory.py ENDPOINT tags ID             the tags of an EC2 object
    python aws_inventory.py ENDPOINT bucket NAME         an S3 bucket (for the state)
    python aws_inventory.py ENDPOINT intent-tagged       the EC2 objects and IAM roles that still
        carry a create's `strata:intent` tag (JSON list of ids and role names)
"""

import json
import sys

import boto3

ASSUME = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]})


def client(endpoint, service):
    return boto3.client(service, endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="test", aws_secret_access_key="test")


def inventory(endpoint):
    print(json.dumps(held(endpoint)))


def held(endpoint):
    ec2, iam, eks, rds = (client(endpoint, s) for s in ("ec2", "iam", "eks", "rds"))
    tables = ec2.describe_route_tables()["RouteTables"]
    out = {
        "aws_vpc": [v["VpcId"] for v in ec2.describe_vpcs()["Vpcs"]],
        "aws_subnet": [s["SubnetId"] for s in ec2.describe_subnets()["Subnets"]],
        "aws_internet_gateway": [g["InternetGatewayId"] for g in ec2.describe_internet_gateways()["InternetGateways"]],
        "aws_eip": [a["AllocationId"] for a in ec2.describe_addresses()["Addresses"]],
        "aws_nat_gateway": [g["NatGatewayId"] for g in ec2.describe_nat_gateways()["NatGateways"] if g["State"] not in ("deleted", "deleting")],
        "aws_route_table": [t["RouteTableId"] for t in tables if not any(a.get("Main") for a in t.get("Associations", []))],
        "aws_route_table_association": [a["RouteTableAssociationId"] for t in tables for a in t.get("Associations", []) if not a.get("Main")],
        "aws_security_group": [g["GroupId"] for g in ec2.describe_security_groups()["SecurityGroups"] if g["GroupName"] != "default"],
        "aws_iam_role": [r["RoleName"] for r in iam.list_roles()["Roles"]],
        "aws_iam_role_policy_attachment": [f"{r['RoleName']}|{p['PolicyArn']}" for r in iam.list_roles()["Roles"] for p in iam.list_attached_role_policies(RoleName=r["RoleName"])["AttachedPolicies"]],
        "aws_eks_cluster": eks.list_clusters()["clusters"],
        "aws_eks_node_group": [f"{c}:{n}" for c in eks.list_clusters()["clusters"] for n in eks.list_nodegroups(clusterName=c)["nodegroups"]],
        "aws_db_subnet_group": [g["DBSubnetGroupName"] for g in rds.describe_db_subnet_groups()["DBSubnetGroups"]],
        "aws_db_instance": [i["DBInstanceIdentifier"] for i in rds.describe_db_instances()["DBInstances"]],
    }
    return {k: sorted(v) for k, v in out.items()}


def main():
    endpoint, command, *args = sys.argv[1:]
    if command == "inventory":
        inventory(endpoint)
    elif command == "vpc":
        ec2 = client(endpoint, "ec2")
        vpc = ec2.create_vpc(CidrBlock=args[0], TagSpecifications=[{"ResourceType": "vpc", "Tags": [{"Key": "strata:intent", "Value": args[1]}]}])
        print(vpc["Vpc"]["VpcId"])
    elif command == "role":
        tags = [{"Key": "strata:intent", "Value": args[1]}] if len(args) > 1 else []
        client(endpoint, "iam").create_role(RoleName=args[0], AssumeRolePolicyDocument=ASSUME, Tags=tags)
    elif command == "db":
        client(endpoint, "rds").create_db_instance(
            DBInstanceIdentifier=args[0], Engine="postgres", DBInstanceClass="db.t3.micro", AllocatedStorage=20,
            MasterUsername="app", MasterUserPassword="made-by-a-killed-run", Tags=[{"Key": "strata:intent", "Value": args[1]}])
    elif command == "tags":
        found = client(endpoint, "ec2").describe_tags(Filters=[{"Name": "resource-id", "Values": [args[0]]}])["Tags"]
        print(json.dumps({t["Key"]: t["Value"] for t in found}))
    elif command == "intent-tagged":
        ec2, iam = client(endpoint, "ec2"), client(endpoint, "iam")
        found = ec2.describe_tags(Filters=[{"Name": "key", "Values": ["strata:intent"]}])["Tags"]
        # The emulator keeps the tags of deleted objects: only those it still holds count.
        existing = {key for keys in held(endpoint).values() for key in keys}
        tagged = [t["ResourceId"] for t in found if t["ResourceId"] in existing]
        for role in iam.list_roles()["Roles"]:
            tags = iam.list_role_tags(RoleName=role["RoleName"])["Tags"]
            if any(t["Key"] == "strata:intent" for t in tags):
                tagged.append(role["RoleName"])
        print(json.dumps(sorted(tagged)))
    elif command == "bucket":
        client(endpoint, "s3").create_bucket(Bucket=args[0])


if __name__ == "__main__":
    main()

//! Faults between the AWS provider and the emulator: the fault proxy (`tests/support/
//! fault_proxy.rs`) answers in each protocol's own words, and the dev environment applies,
//! re-plans `No changes.` and destroys through it at 20% injected faults — throttling, 500/503,
//! resets, responses dropped after the emulator processed the request, latency — with the
//! SDK's retries and Strata's own, leaving every object in the emulator exactly once in state and
//! nothing behind after destroy (counted through the emulator's API).

use crate::common::Moto;
use crate::fault_proxy::{FaultProxy, FaultRates, Request};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::Arc;
use std::time::Duration;

/// A raw HTTP request through the proxy: the response, or what the client saw instead.
fn raw_request(port: u16, head: &str, body: &str) -> std::io::Result<String> {
    let mut stream = TcpStream::connect(("127.0.0.1", port))?;
    stream.set_read_timeout(Some(Duration::from_secs(30)))?;
    write!(
        stream,
        "{head}\r\nHost: 127.0.0.1\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )?;
    let mut response = Vec::new();
    stream.read_to_end(&mut response)?;
    Ok(String::from_utf8_lossy(&response).to_string())
}

const EC2_AUTH: &str = "Authorization: AWS4-HMAC-SHA256 Credential=test/20261207/us-east-1/ec2/aws4_request, SignedHeaders=host, Signature=0\r\nContent-Type: application/x-www-form-urlencoded";
const IAM_AUTH: &str = "Authorization: AWS4-HMAC-SHA256 Credential=test/20261207/us-east-1/iam/aws4_request, SignedHeaders=host, Signature=0\r\nContent-Type: application/x-www-form-urlencoded";

fn only(rates: impl FnOnce(&mut FaultRates)) -> FaultRates {
    let mut out = FaultRates::default();
    rates(&mut out);
    out
}

fn all_drops() -> Arc<dyn Fn(&Request) -> bool + Send + Sync> {
    Arc::new(|_| true)
}

#[test]
fn fault_proxy_answers_in_each_protocols_words() {
    let moto = Moto::start();
    let vpc_request = "Action=CreateVpc&Version=2016-11-15&CidrBlock=10.77.0.0%2F16";
    let ec2 = format!("POST / HTTP/1.1\r\n{EC2_AUTH}");
    let iam = format!("POST / HTTP/1.1\r\n{IAM_AUTH}");

    let throttling = FaultProxy::start(moto.port, only(|r| r.throttle = 1.0), 1, all_drops());
    let answer = raw_request(throttling.port, &ec2, vpc_request).unwrap();
    assert!(answer.starts_with("HTTP/1.1 503"), "{answer}");
    assert!(
        answer.contains("<Code>RequestLimitExceeded</Code>"),
        "{answer}"
    );
    let answer = raw_request(throttling.port, &iam, "Action=ListRoles&Version=2010-05-08").unwrap();
    assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
    assert!(
        answer.contains("<ErrorResponse><Error><Type>Sender</Type><Code>Throttling</Code>"),
        "{answer}"
    );
    let answer = raw_request(
        throttling.port,
        "GET /clusters HTTP/1.1\r\nAuthorization: AWS4-HMAC-SHA256 Credential=test/20261207/us-east-1/eks/aws4_request, SignedHeaders=host, Signature=0",
        "",
    )
    .unwrap();
    assert!(answer.starts_with("HTTP/1.1 429"), "{answer}");
    assert!(
        answer.contains("x-amzn-ErrorType: ThrottlingException"),
        "{answer}"
    );
    assert_eq!(throttling.stats().throttled, 3);

    let errors = FaultProxy::start(moto.port, only(|r| r.server_error = 1.0), 1, all_drops());
    let first = raw_request(errors.port, &ec2, vpc_request).unwrap();
    let second = raw_request(errors.port, &ec2, vpc_request).unwrap();
    let statuses = [&first[..12], &second[..12]];
    assert!(
        statuses.contains(&"HTTP/1.1 500") && statuses.contains(&"HTTP/1.1 503"),
        "{first}\n{second}"
    );

    // Resets and dropped responses: the client gets no response at all; only the drop reached
    // the emulator, which made the VPC.
    let vpcs_before = count_vpcs(&moto);
    let resets = FaultProxy::start(moto.port, only(|r| r.reset = 1.0), 1, all_drops());
    let answer = raw_request(resets.port, &ec2, vpc_request).unwrap_or_default();
    assert_eq!(answer, "", "a reset answers nothing");
    assert_eq!(
        count_vpcs(&moto),
        vpcs_before,
        "a reset request never reaches the emulator"
    );
    let drops = FaultProxy::start(moto.port, only(|r| r.drop_response = 1.0), 1, all_drops());
    let answer = raw_request(drops.port, &ec2, vpc_request).unwrap_or_default();
    assert_eq!(answer, "", "a dropped response answers nothing");
    assert_eq!(
        count_vpcs(&moto),
        vpcs_before + 1,
        "the dropped request was processed"
    );
    assert_eq!(
        drops.stats().dropped_operations.get("ec2:CreateVpc"),
        Some(&1)
    );

    // A filter keeps drops off the requests it refuses: they are closed unprocessed instead.
    let filtered = FaultProxy::start(
        moto.port,
        only(|r| r.drop_response = 1.0),
        1,
        Arc::new(|request: &Request| request.has_client_token()),
    );
    let answer = raw_request(filtered.port, &ec2, vpc_request).unwrap_or_default();
    assert_eq!(answer, "");
    assert_eq!(
        count_vpcs(&moto),
        vpcs_before + 1,
        "refused drops are not processed"
    );
    assert_eq!((filtered.stats().dropped, filtered.stats().resets), (0, 1));

    // Without faults, the emulator's answer comes through, on a connection not reused.
    let clean = FaultProxy::start(moto.port, FaultRates::default(), 1, all_drops());
    let answer = raw_request(clean.port, &ec2, vpc_request).unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(answer.contains("Connection: close"), "{answer}");
    assert!(answer.contains("<vpcId>"), "{answer}");
    assert_eq!(count_vpcs(&moto), vpcs_before + 2);

    // A create with a client token whose response was dropped, retried: the emulator (as AWS)
    // answers with the object the first call made.
    let vpc_id = between(&answer, "<vpcId>", "</vpcId>");
    let create_table = format!(
        "Action=CreateRouteTable&Version=2016-11-15&VpcId={vpc_id}&ClientToken=intent-7f3a"
    );
    let tables = |answer: &str| answer.matches("<routeTableId>").count();
    let before = tables(
        &raw_request(
            clean.port,
            &ec2,
            "Action=DescribeRouteTables&Version=2016-11-15",
        )
        .unwrap(),
    );
    assert_eq!(
        raw_request(drops.port, &ec2, &create_table).unwrap_or_default(),
        ""
    );
    let retried = raw_request(clean.port, &ec2, &create_table).unwrap();
    let after = tables(
        &raw_request(
            clean.port,
            &ec2,
            "Action=DescribeRouteTables&Version=2016-11-15",
        )
        .unwrap(),
    );
    assert!(retried.contains("<routeTableId>rtb-"), "{retried}");
    assert_eq!(after, before + 1, "one route table for one client token");
}

fn between<'a>(text: &'a str, start: &str, end: &str) -> &'a str {
    let from = text.find(start).map(|i| i + start.len()).unwrap_or(0);
    let to = text[from..].find(end).map_or(text.len(), |i| from + i);
    &text[from..to]
}

/// The emulator's own answer to DescribeVpcs, counted (straight to moto, not through a proxy).
fn count_vpcs(moto: &Moto) -> usize {
    let mut stream = TcpStream::connect(("127.0.0.1", moto.port)).unwrap();
    let body = "Action=DescribeVpcs&Version=2016-11-15";
    write!(
        stream,
        "POST / HTTP/1.1\r\nHost: 127.0.0.1\r\n{EC2_AUTH}\r\nConnection: close\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    response.matches("<vpcId>").count()
}

#[cfg(feature = "aws")]
mod through_the_provider {
    use super::*;
    use crate::common::{copy_tree, ensure_installed, repo_root, strata};
    use std::collections::BTreeMap;
    use std::process::{Command, Output};

    /// Every object the dev environment makes, counted through the emulator's API by kind (the
    /// Terraform resource type it belongs to); defaults the emulator makes by itself (the
    /// default VPC and its subnets, main route tables, `default` security groups) left out.
    const INVENTORY: &str = r#"
import boto3, json, sys
kw = dict(endpoint_url=sys.argv[1], region_name='us-east-1', aws_access_key_id='test', aws_secret_access_key='test')
ec2 = boto3.client('ec2', **kw); iam = boto3.client('iam', **kw); eks = boto3.client('eks', **kw); rds = boto3.client('rds', **kw)
out = {}
out['aws_vpc'] = sum(1 for v in ec2.describe_vpcs()['Vpcs'] if not v['IsDefault'])
out['aws_subnet'] = len(ec2.describe_subnets()['Subnets'])
out['aws_internet_gateway'] = len(ec2.describe_internet_gateways()['InternetGateways'])
out['aws_nat_gateway'] = sum(1 for g in ec2.describe_nat_gateways()['NatGateways'] if g['State'] not in ('deleted', 'deleting'))
out['aws_eip'] = len(ec2.describe_addresses()['Addresses'])
tables = ec2.describe_route_tables()['RouteTables']
out['aws_route_table'] = sum(1 for t in tables if not any(a.get('Main') for a in t.get('Associations', [])))
out['aws_route_table_association'] = sum(1 for t in tables for a in t.get('Associations', []) if not a.get('Main'))
out['aws_security_group'] = sum(1 for g in ec2.describe_security_groups()['SecurityGroups'] if g['GroupName'] != 'default')
out['aws_iam_role'] = len(iam.list_roles()['Roles'])
clusters = eks.list_clusters()['clusters']
out['aws_eks_cluster'] = len(clusters)
out['aws_eks_node_group'] = sum(len(eks.list_nodegroups(clusterName=c)['nodegroups']) for c in clusters)
out['aws_db_instance'] = len(rds.describe_db_instances()['DBInstances'])
out['aws_db_subnet_group'] = len(rds.describe_db_subnet_groups()['DBSubnetGroups'])
print(json.dumps(out))
if len(sys.argv) > 2: boto3.client('s3', **kw).create_bucket(Bucket=sys.argv[2])
"#;

    /// The inventory; with `bucket`, also creates that S3 bucket (for the state).
    fn inventory_then(moto: &Moto, bucket: Option<&str>) -> BTreeMap<String, usize> {
        let venv = ensure_installed("ensure-moto.sh");
        let output = Command::new(venv.join("bin/python"))
            .arg("-c")
            .arg(INVENTORY)
            .arg(&moto.endpoint)
            .args(bucket)
            .output()
            .expect("run the inventory");
        assert!(
            output.status.success(),
            "inventory: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        serde_json::from_slice(&output.stdout).expect("the inventory prints JSON")
    }

    fn inventory(moto: &Moto) -> BTreeMap<String, usize> {
        inventory_then(moto, None)
    }

    /// Managed instances in the state by resource type (`state list`, data sources left out).
    fn state_counts(run: &dyn Fn(&[&str]) -> Output) -> BTreeMap<String, usize> {
        let listed = ok(&run(&["state", "list"]), "state list");
        let mut counts = BTreeMap::new();
        for address in listed.lines() {
            let segments: Vec<&str> = address.split('.').collect();
            let managed = segments
                .windows(2)
                .find(|pair| {
                    pair[0] != "data" && pair[1].starts_with("aws_") && !pair[0].starts_with("aws_")
                })
                .map(|pair| pair[1]);
            if let Some(type_name) = managed {
                *counts.entry(type_name.to_string()).or_default() += 1;
            }
        }
        counts
    }

    fn ok(output: &Output, what: &str) -> String {
        let stdout = String::from_utf8_lossy(&output.stdout).to_string();
        assert!(
            output.status.success(),
            "{what} failed ({:?}):\n{stdout}\n{}",
            output.status.code(),
            String::from_utf8_lossy(&output.stderr)
        );
        stdout
    }

    /// Which dropped responses the dev runs allow: every request but a create the API does not
    /// deduplicate by itself (no client token; the emulator honours the tokens as AWS does, see
    /// `tests/support/moto_client_tokens.py`), except the EC2 creates that carry their intent
    /// tag (`providers::aws::intent`): retried after their response was lost, the provider finds
    /// the first object by the tag and deletes a second copy (seed 12 drops an `AllocateAddress`
    /// and a `CreateSubnet` response; the adaptive run's seed 7 a `CreateInternetGateway` one).
    /// A retried `CreateRoute` whose first response was lost meets its own route
    /// (`RouteAlreadyExists`): the provider reads the table back and keeps the route when it
    /// goes where the plan says (seed 32 drops one). IAM roles and RDS instances and subnet
    /// groups are found by name (and their intent tag) after the failed retry, the lookup
    /// asked again with backoff while it finds nothing.
    fn droppable(request: &Request) -> bool {
        let operation = request.operation.as_str();
        let create = ["Create", "Allocate", "Run", "Import"]
            .iter()
            .any(|prefix| operation.starts_with(prefix))
            || (request.service == "eks" && operation.starts_with("POST "));
        // A retried AuthorizeSecurityGroupIngress/Egress whose first response was lost fails with
        // `InvalidPermission.Duplicate`, which cannot be told apart from a rule someone else
        // added: not dropped either (what remains of issue 12 item 4).
        let authorize = operation.starts_with("Authorize");
        let tagged = request.service == "ec2"
            && [
                "CreateVpc",
                "CreateSubnet",
                "CreateSecurityGroup",
                "CreateInternetGateway",
                "AllocateAddress",
            ]
            .contains(&operation);
        let read_back = request.service == "ec2" && operation == "CreateRoute";
        let named = ["CreateRole", "CreateDBInstance", "CreateDBSubnetGroup"].contains(&operation);
        (!create || request.has_client_token() || tagged || read_back || named) && !authorize
    }

    #[test]
    fn dev_environment_converges_through_twenty_percent_faults() {
        converge_dev(12, None);
    }

    /// Adaptive retry mode; and every create that takes a client token (route tables, the NAT
    /// gateway, the EKS cluster and node group) has its first response dropped after AWS made
    /// the object.
    #[test]
    fn dev_environment_converges_through_faults_in_adaptive_retry_mode() {
        converge_dev(7, Some("adaptive"));
    }

    /// Applies, re-plans and destroys the dev environment through the proxy at 20% faults
    /// drawn with `seed`, in the SDK's `retry_mode` (standard when `None`).
    fn converge_dev(seed: u64, retry_mode: Option<&str>) {
        // FAULT_PROXY_SEED replays another draw of faults (to explore, or reproduce a failure).
        let seed = std::env::var("FAULT_PROXY_SEED")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(seed);
        eprintln!("fault proxy seed {seed}");
        let moto = Moto::start();
        crate::environments_e2e::seed_db_password(&moto, "dev");
        let rates = FaultRates {
            drop_first_token_use: retry_mode == Some("adaptive"),
            ..FaultRates::spread(0.2)
        };
        let proxy = FaultProxy::start(moto.port, rates, seed, Arc::new(droppable));
        let temp = tempfile::tempdir().unwrap();
        copy_tree(
            &repo_root().join("environments"),
            &temp.path().join("environments"),
        );
        copy_tree(&repo_root().join("modules"), &temp.path().join("modules"));
        let dev = temp.path().join("environments/dev");
        let before = inventory_then(&moto, Some("strata-faults"));
        let run = |args: &[&str]| -> Output {
            let mut command = Command::new(strata());
            command.args(args).current_dir(&dev);
            for (key, value) in moto.env() {
                command.env(key, value);
            }
            command
                .env("AWS_ENDPOINT_URL", &proxy.endpoint)
                .env("NO_COLOR", "1");
            if let Some(mode) = retry_mode {
                command.env("AWS_RETRY_MODE", mode);
            }
            command.output().expect("run strata")
        };
        // The backend talks to the emulator directly: the faults are the provider's.
        ok(
            &run(&[
                "init",
                "-backend-config=bucket=strata-faults",
                &format!("-backend-config=endpoint={}", moto.endpoint),
                "-backend-config=use_path_style=true",
            ]),
            "init",
        );
        let applied = ok(&run(&["apply", "-auto-approve"]), "apply through faults");
        assert!(
            applied.contains("Apply complete! Resources: 28 added"),
            "{applied}"
        );
        let made = inventory(&moto);
        let in_state = state_counts(&run);
        for (kind, count) in &made {
            let new = count - before.get(kind).copied().unwrap_or(0);
            assert_eq!(
                new,
                in_state.get(kind).copied().unwrap_or(0),
                "{kind}: the emulator holds {new} new, the state {:?}\nemulator: {made:?}\nstate: {in_state:?}\nproxy: {:?}",
                in_state.get(kind),
                proxy.stats()
            );
        }
        let replan = run(&["plan", "-detailed-exitcode"]);
        assert_eq!(
            replan.status.code(),
            Some(0),
            "re-plan through faults: {}\n{}",
            String::from_utf8_lossy(&replan.stdout),
            String::from_utf8_lossy(&replan.stderr)
        );
        let destroyed = ok(
            &run(&["destroy", "-auto-approve"]),
            "destroy through faults",
        );
        assert!(
            destroyed.contains("Destroy complete! Resources: 28 destroyed."),
            "{destroyed}"
        );
        assert_eq!(
            inventory(&moto),
            before,
            "destroy left the emulator as it was"
        );
        let stats = proxy.stats();
        let requests = stats.passed + stats.faults();
        assert!(
            stats.faults() * 100 >= requests * 15,
            "about 20% of requests faulted: {stats:?}"
        );
        for kind in [
            stats.throttled,
            stats.server_errors,
            stats.resets,
            stats.dropped,
            stats.slowed,
        ] {
            assert!(kind > 0, "every kind of fault happened: {stats:?}");
        }
        if retry_mode == Some("adaptive") {
            let first_uses = stats
                .dropped_operations
                .keys()
                .filter(|operation| operation.ends_with("(first use of its token)"))
                .count();
            assert!(
                first_uses >= 4,
                "every create with a client token was retried: {stats:?}"
            );
        }
        eprintln!("fault proxy: {requests} requests, {stats:?}");
    }
}

//! The EC2 networking resources against the moto emulator, for the arguments that match the
//! Terraform AWS provider's `internal/service/ec2/` schemas: each one is sent to AWS, read
//! back, and a second plan shows no change. Objects this provider does not manage (instances,
//! network interfaces) are made with the SDK directly.

use crate::aws::{attr, map, s, text, Aws};
use crate::common::{strata, Moto};
use std::collections::{BTreeMap, BTreeSet};
use std::process::Command;
use strata::providers::{Provider, RefreshWave};
use strata::value::{AttrPath, Value};

/// An instance (moto starts it at once) and a network interface in `subnet_id`, made with
/// the SDK: the provider has no resource for either.
async fn instance_and_interface(aws: &Aws, subnet_id: &str) -> (String, String) {
    let ec2 = aws_sdk_ec2::Client::new(&aws.sdk().await);
    let instance = ec2
        .run_instances()
        .image_id("ami-12c6146b")
        .instance_type(aws_sdk_ec2::types::InstanceType::T3Micro)
        .subnet_id(subnet_id)
        .min_count(1)
        .max_count(1)
        .send()
        .await
        .expect("run an instance")
        .instances()
        .first()
        .and_then(|i| i.instance_id())
        .expect("an instance id")
        .to_string();
    let interface = ec2
        .create_network_interface()
        .subnet_id(subnet_id)
        .send()
        .await
        .expect("create a network interface")
        .network_interface()
        .and_then(|i| i.network_interface_id())
        .expect("a network interface id")
        .to_string();
    (instance, interface)
}

/// What the emulator says the address with `allocation_id` is associated with:
/// (instance, network interface), empty when not.
async fn association_of(aws: &Aws, allocation_id: &str) -> (String, String) {
    let ec2 = aws_sdk_ec2::Client::new(&aws.sdk().await);
    let out = ec2
        .describe_addresses()
        .allocation_ids(allocation_id)
        .send()
        .await
        .expect("describe the address");
    let address = out.addresses().first().expect("the address exists");
    (
        address.instance_id().unwrap_or_default().to_string(),
        address
            .network_interface_id()
            .unwrap_or_default()
            .to_string(),
    )
}

/// A VPC with an Amazon IPv6 block.
async fn ipv6_vpc(aws: &Aws) -> Value {
    aws.create(
        "aws_vpc",
        &aws.config(
            "aws_vpc",
            vec![
                ("cidr_block", s("10.0.0.0/16")),
                ("assign_generated_ipv6_cidr_block", Value::Bool(true)),
            ],
        ),
    )
    .await
}

async fn vpc_and_subnet(aws: &Aws) -> (String, String) {
    let vpc = aws
        .create(
            "aws_vpc",
            &aws.config("aws_vpc", vec![("cidr_block", s("10.0.0.0/16"))]),
        )
        .await;
    let vpc_id = text(&vpc, "id");
    let subnet = aws
        .create(
            "aws_subnet",
            &aws.config(
                "aws_subnet",
                vec![("vpc_id", s(&vpc_id)), ("cidr_block", s("10.0.1.0/24"))],
            ),
        )
        .await;
    (vpc_id, text(&subnet, "id"))
}

#[tokio::test]
async fn eip_associates_with_an_instance_moves_to_an_interface_and_disassociates() {
    let aws = Aws::start(&[]).await;
    let (_, subnet_id) = vpc_and_subnet(&aws).await;
    let (instance_id, interface_id) = instance_and_interface(&aws, &subnet_id).await;

    // Created associated with the instance: AWS names the instance's interface too.
    let with_instance = aws.config(
        "aws_eip",
        vec![("domain", s("vpc")), ("instance", s(&instance_id))],
    );
    let eip = aws.create("aws_eip", &with_instance).await;
    let allocation_id = text(&eip, "id");
    assert_eq!(text(&eip, "instance"), instance_id);
    assert!(text(&eip, "network_interface").starts_with("eni-"));
    assert!(text(&eip, "association_id").starts_with("eipassoc-"));
    assert!(!text(&eip, "private_ip").is_empty());
    let (remote_instance, _) = association_of(&aws, &allocation_id).await;
    assert_eq!(remote_instance, instance_id);

    // Moved to the standalone interface in place: the old association ends first.
    let with_interface = aws.config(
        "aws_eip",
        vec![
            ("domain", s("vpc")),
            ("network_interface", s(&interface_id)),
        ],
    );
    let plan = aws.plan("aws_eip", Some(&eip), &with_interface).await;
    assert!(attr(&plan.planned, "instance").is_unknown());
    assert!(attr(&plan.planned, "association_id").is_unknown());
    let moved = aws.update("aws_eip", &eip, &with_interface).await;
    assert_eq!(text(&moved, "id"), allocation_id, "not replaced");
    assert_eq!(text(&moved, "network_interface"), interface_id);
    assert_ne!(text(&moved, "association_id"), text(&eip, "association_id"));
    let (remote_instance, remote_interface) = association_of(&aws, &allocation_id).await;
    assert_eq!(
        (remote_instance.as_str(), remote_interface.as_str()),
        ("", interface_id.as_str())
    );

    // Back to the instance, with a private address named.
    let private_ip = {
        let ec2 = aws_sdk_ec2::Client::new(&aws.sdk().await);
        let out = ec2
            .describe_instances()
            .instance_ids(&instance_id)
            .send()
            .await
            .unwrap();
        out.reservations()[0].instances()[0]
            .private_ip_address()
            .unwrap()
            .to_string()
    };
    let back = aws.config(
        "aws_eip",
        vec![
            ("domain", s("vpc")),
            ("instance", s(&instance_id)),
            ("associate_with_private_ip", s(&private_ip)),
        ],
    );
    let back_state = aws.update("aws_eip", &moved, &back).await;
    assert_eq!(text(&back_state, "instance"), instance_id);
    assert_eq!(text(&back_state, "associate_with_private_ip"), private_ip);

    // Deleting an associated address disassociates it first.
    aws.delete("aws_eip", &back_state).await;
}

#[tokio::test]
async fn eip_created_on_an_interface_and_released_while_associated() {
    let aws = Aws::start(&[]).await;
    let (_, subnet_id) = vpc_and_subnet(&aws).await;
    let (_, interface_id) = instance_and_interface(&aws, &subnet_id).await;
    let config = aws.config(
        "aws_eip",
        vec![
            ("domain", s("vpc")),
            ("network_interface", s(&interface_id)),
            ("tags", map(&[("Name", "nat")])),
        ],
    );
    let eip = aws.create("aws_eip", &config).await;
    assert_eq!(text(&eip, "network_interface"), interface_id);
    assert_eq!(attr(&eip, "instance"), &Value::Null);
    let (_, remote_interface) = association_of(&aws, &text(&eip, "id")).await;
    assert_eq!(remote_interface, interface_id);
    // An unknown interface is AWS's error, pointed at the argument.
    let wrong = aws.config(
        "aws_eip",
        vec![
            ("domain", s("vpc")),
            ("network_interface", s("eni-00000000000000000")),
        ],
    );
    let plan = aws.plan("aws_eip", None, &wrong).await;
    let error = aws
        .apply("aws_eip", None, Some(plan.planned), wrong.clone())
        .await
        .unwrap_err();
    assert!(
        error.summary.contains("associating EC2 EIP"),
        "{}",
        error.summary
    );
    aws.delete("aws_eip", &eip).await;
}

// ---------------------------------------------------------------------------------------------
// aws_vpc

#[tokio::test]
async fn vpc_ipv6_block_usage_metrics_and_tenancy_change_in_place() {
    let aws = Aws::start(&[]).await;
    let config = aws.config(
        "aws_vpc",
        vec![
            ("cidr_block", s("10.0.0.0/16")),
            ("instance_tenancy", s("dedicated")),
            ("enable_network_address_usage_metrics", Value::Bool(true)),
        ],
    );
    let vpc = aws.create("aws_vpc", &config).await;
    let id = text(&vpc, "id");
    assert_eq!(
        attr(&vpc, "enable_network_address_usage_metrics"),
        &Value::Bool(true)
    );
    assert_eq!(attr(&vpc, "ipv6_cidr_block"), &Value::Null);
    let ec2 = aws_sdk_ec2::Client::new(&aws.sdk().await);
    let metrics = ec2
        .describe_vpc_attribute()
        .vpc_id(&id)
        .attribute(aws_sdk_ec2::types::VpcAttributeName::EnableNetworkAddressUsageMetrics)
        .send()
        .await
        .unwrap();
    assert_eq!(
        metrics
            .enable_network_address_usage_metrics()
            .and_then(|v| v.value()),
        Some(true)
    );

    // An Amazon IPv6 block, then dedicated → default tenancy: both in place.
    let with_ipv6 = aws.config(
        "aws_vpc",
        vec![
            ("cidr_block", s("10.0.0.0/16")),
            ("instance_tenancy", s("default")),
            ("enable_network_address_usage_metrics", Value::Bool(true)),
            ("assign_generated_ipv6_cidr_block", Value::Bool(true)),
        ],
    );
    let plan = aws.plan("aws_vpc", Some(&vpc), &with_ipv6).await;
    assert!(attr(&plan.planned, "ipv6_cidr_block").is_unknown());
    assert_eq!(text(&plan.planned, "id"), id, "the id stays known in place");
    let updated = aws.update("aws_vpc", &vpc, &with_ipv6).await;
    assert_eq!(text(&updated, "id"), id);
    assert_eq!(text(&updated, "instance_tenancy"), "default");
    assert!(text(&updated, "ipv6_cidr_block").contains("::"));
    assert!(!text(&updated, "ipv6_association_id").is_empty());
    let remote = ec2.describe_vpcs().vpc_ids(&id).send().await.unwrap();
    let remote = &remote.vpcs()[0];
    assert_eq!(
        remote.instance_tenancy().map(|t| t.as_str()),
        Some("default")
    );
    assert_eq!(
        remote.ipv6_cidr_block_association_set()[0].ipv6_cidr_block(),
        Some(text(&updated, "ipv6_cidr_block").as_str())
    );

    // default → dedicated is not possible in place.
    let dedicated = aws.config(
        "aws_vpc",
        vec![
            ("cidr_block", s("10.0.0.0/16")),
            ("instance_tenancy", s("dedicated")),
            ("enable_network_address_usage_metrics", Value::Bool(true)),
            ("assign_generated_ipv6_cidr_block", Value::Bool(true)),
        ],
    );
    aws.assert_replaces("aws_vpc", &updated, &dedicated, "instance_tenancy")
        .await;

    // The IPv6 block given up in place.
    let without_ipv6 = aws.config(
        "aws_vpc",
        vec![
            ("cidr_block", s("10.0.0.0/16")),
            ("enable_network_address_usage_metrics", Value::Bool(true)),
        ],
    );
    let released = aws.update("aws_vpc", &updated, &without_ipv6).await;
    assert_eq!(attr(&released, "ipv6_cidr_block"), &Value::Null);
    assert_eq!(
        attr(&released, "assign_generated_ipv6_cidr_block"),
        &Value::Bool(false)
    );

    // The data source tells the CIDR associations and the usage-metrics flag.
    let data = aws.data("aws_vpc", vec![("id", s(&id))]).await;
    assert_eq!(
        attr(&data, "enable_network_address_usage_metrics"),
        &Value::Bool(true)
    );
    let associations = attr(&data, "cidr_block_associations").as_seq().unwrap();
    assert_eq!(associations.len(), 1);
    assert_eq!(text(&associations[0], "cidr_block"), "10.0.0.0/16");
    aws.delete("aws_vpc", &released).await;
}

#[tokio::test]
async fn vpc_created_with_an_ipv6_block_and_border_group() {
    let aws = Aws::start(&[]).await;
    let config = aws.config(
        "aws_vpc",
        vec![
            ("cidr_block", s("10.1.0.0/16")),
            ("assign_generated_ipv6_cidr_block", Value::Bool(true)),
            ("ipv6_cidr_block_network_border_group", s("us-east-1")),
        ],
    );
    let vpc = aws.create("aws_vpc", &config).await;
    assert!(text(&vpc, "ipv6_cidr_block").contains("::"));
    // The emulator keeps the border group but does not report it back: the state keeps the
    // configured one, and a re-plan (in `create`) shows no change.
    assert_eq!(
        text(&vpc, "ipv6_cidr_block_network_border_group"),
        "us-east-1"
    );
    assert_eq!(attr(&vpc, "ipv6_ipam_pool_id"), &Value::Null);
    assert_eq!(attr(&vpc, "ipv6_netmask_length"), &Value::Null);
}

#[tokio::test]
async fn refreshing_vpcs_asks_for_their_attributes_all_at_once() {
    let aws = Aws::start(&[]).await;
    let mut vpcs = Vec::new();
    for i in 0..3 {
        let config = aws.config(
            "aws_vpc",
            vec![("cidr_block", s(&format!("10.{i}.0.0/16")))],
        );
        vpcs.push(aws.create("aws_vpc", &config).await);
    }
    let before = aws.provider.api_calls();
    let results = aws.provider.read_resources("aws_vpc", &vpcs).await;
    for (result, state) in results.into_iter().zip(&vpcs) {
        assert_eq!(result.unwrap().unwrap().equals(state), Some(true));
    }
    // DescribeVpcs, the main route tables' describe, and three DescribeVpcAttribute a VPC; the
    // default security groups and network ACLs are the ones the state records.
    assert_eq!(aws.provider.api_calls() - before, 1 + 1 + 3 * 3);

    // A state that does not record them (written before they were read, or by hand) has them
    // looked up, for all the VPCs in one describe each, and read back as AWS has them.
    let unrecorded: Vec<Value> = vpcs
        .iter()
        .map(|vpc| {
            let mut vpc = vpc.clone();
            for name in ["default_security_group_id", "default_network_acl_id"] {
                vpc.set_at_path(&AttrPath::attr(name).0, Value::Null);
            }
            vpc
        })
        .collect();
    let before = aws.provider.api_calls();
    let results = aws.provider.read_resources("aws_vpc", &unrecorded).await;
    for (result, state) in results.into_iter().zip(&vpcs) {
        let read = result.unwrap().unwrap();
        for name in ["default_security_group_id", "default_network_acl_id"] {
            assert_eq!(attr(&read, name), attr(state, name), "{name}");
            assert!(!text(&read, name).is_empty(), "{name}");
        }
    }
    assert_eq!(aws.provider.api_calls() - before, 1 + 3 + 3 * 3);
}

/// A VPC deleted since the state was written reads as gone, and the others as they are, although
/// their follow-up calls went out before DescribeVpcs said which exist.
#[tokio::test]
async fn refreshing_vpcs_one_of_which_is_gone() {
    let aws = Aws::start(&[]).await;
    let mut vpcs = Vec::new();
    for i in 0..2 {
        let config = aws.config(
            "aws_vpc",
            vec![("cidr_block", s(&format!("10.{}.0.0/16", 20 + i)))],
        );
        vpcs.push(aws.create("aws_vpc", &config).await);
    }
    aws.apply("aws_vpc", Some(vpcs[0].clone()), None, Value::Null)
        .await
        .unwrap();
    let results = aws.provider.read_resources("aws_vpc", &vpcs).await;
    let mut results = results.into_iter();
    assert_eq!(results.next().unwrap().unwrap(), None);
    let kept = results.next().unwrap().unwrap().unwrap();
    assert_eq!(kept.equals(&vpcs[1]), Some(true));
}

/// Reads `vpcs`, `tables` and `associations` at once inside one announced refresh, as the
/// engine's refresh wave does, and ends it; their results and the API calls they made.
async fn refresh_vpc_tables_associations(
    aws: &Aws,
    vpcs: &[Value],
    tables: &[Value],
    associations: &[Value],
) -> ([Vec<Option<Value>>; 3], u64) {
    let objects: BTreeMap<&str, Vec<&Value>> = [
        ("aws_vpc", vpcs),
        ("aws_route_table", tables),
        ("aws_route_table_association", associations),
    ]
    .into_iter()
    .map(|(type_name, values)| (type_name, values.iter().collect()))
    .collect();
    let before = aws.provider.api_calls();
    aws.provider.refresh_starting(&RefreshWave {
        objects,
        read_only: false,
    });
    let (vpcs, tables, associations) = tokio::join!(
        aws.provider.read_resources("aws_vpc", vpcs),
        aws.provider.read_resources("aws_route_table", tables),
        aws.provider
            .read_resources("aws_route_table_association", associations),
    );
    aws.provider.refresh_finished();
    let calls = aws.provider.api_calls() - before;
    let unwrap = |reads: Vec<Result<Option<Value>, _>>| -> Vec<Option<Value>> {
        reads.into_iter().map(|read| read.unwrap()).collect()
    };
    ([unwrap(vpcs), unwrap(tables), unwrap(associations)], calls)
}

/// Within one refresh, the VPC's main route table, the route tables and their associations are
/// read from one DescribeRouteTables of the VPC's tables (issue 16), with the same results as
/// each type's own describe; what that list does not hold (a table or association gone) is still
/// asked for and found gone, and after the refresh every read asks again.
#[tokio::test]
async fn a_refresh_of_a_vpc_its_route_tables_and_associations_describes_the_tables_once() {
    let aws = Aws::start(&[]).await;
    let vpc = aws
        .create(
            "aws_vpc",
            &aws.config("aws_vpc", vec![("cidr_block", s("10.40.0.0/16"))]),
        )
        .await;
    let vpc_id = text(&vpc, "id");
    let (mut tables, mut associations) = (Vec::new(), Vec::new());
    for i in 0..2 {
        let subnet = aws
            .create(
                "aws_subnet",
                &aws.config(
                    "aws_subnet",
                    vec![
                        ("vpc_id", s(&vpc_id)),
                        ("cidr_block", s(&format!("10.40.{i}.0/24"))),
                    ],
                ),
            )
            .await;
        let table = aws
            .create(
                "aws_route_table",
                &aws.config("aws_route_table", vec![("vpc_id", s(&vpc_id))]),
            )
            .await;
        let association = aws.config(
            "aws_route_table_association",
            vec![
                ("subnet_id", s(&text(&subnet, "id"))),
                ("route_table_id", s(&text(&table, "id"))),
            ],
        );
        associations.push(
            aws.create("aws_route_table_association", &association)
                .await,
        );
        tables.push(table);
    }
    let vpcs = vec![vpc];

    // Each type on its own: DescribeVpcs, the main route table's describe and three
    // DescribeVpcAttribute for the VPC; one DescribeRouteTables for the tables, one for the
    // associations.
    let before = aws.provider.api_calls();
    let alone = [
        aws.provider.read_resources("aws_vpc", &vpcs).await,
        aws.provider
            .read_resources("aws_route_table", &tables)
            .await,
        aws.provider
            .read_resources("aws_route_table_association", &associations)
            .await,
    ]
    .map(|reads| -> Vec<Option<Value>> { reads.into_iter().map(|r| r.unwrap()).collect() });
    assert_eq!(aws.provider.api_calls() - before, 5 + 1 + 1);

    // In one refresh: the three DescribeRouteTables are one.
    let (shared, calls) =
        refresh_vpc_tables_associations(&aws, &vpcs, &tables, &associations).await;
    assert_eq!(calls, 4 + 1);
    for (type_reads, alone_reads) in shared.iter().zip(&alone) {
        for (read, read_alone) in type_reads.iter().zip(alone_reads) {
            let (read, read_alone) = (read.as_ref().unwrap(), read_alone.as_ref().unwrap());
            assert_eq!(read.equals(read_alone), Some(true), "{read:?}");
        }
    }
    assert_eq!(
        text(shared[0][0].as_ref().unwrap(), "main_route_table_id"),
        text(&vpcs[0], "main_route_table_id")
    );

    // A table and the other table's association deleted since: the shared list does not hold
    // them, so each is asked for once more (by id), and both read as gone.
    aws.delete("aws_route_table_association", &associations[1])
        .await;
    aws.delete("aws_route_table_association", &associations[0])
        .await;
    aws.delete("aws_route_table", &tables[0]).await;
    let (shared, calls) =
        refresh_vpc_tables_associations(&aws, &vpcs, &tables, &associations).await;
    assert_eq!(calls, 4 + 1 + 1 + 1);
    assert_eq!(shared[1], vec![None, alone[1][1].clone()]);
    assert_eq!(shared[2], vec![None, None]);

    // The refresh is over: a read asks AWS itself.
    let before = aws.provider.api_calls();
    let reads = aws
        .provider
        .read_resources("aws_route_table", &tables[1..])
        .await;
    assert!(reads[0].as_ref().unwrap().is_some());
    assert_eq!(aws.provider.api_calls() - before, 1);
}

/// The SDK invocations of `operation` in a `STRATA_LOG=debug` log (each call logs several
/// lines, all with its `sdk_invocation_id`).
fn invocations_of(log: &str, operation: &str) -> BTreeSet<String> {
    let mut plain = String::with_capacity(log.len());
    let mut chars = log.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            chars.by_ref().find(|&c| c == 'm');
        } else {
            plain.push(c);
        }
    }
    let method = format!("rpc.method=\"{operation}\"");
    plain
        .lines()
        .filter(|line| line.contains(&method))
        .filter_map(|line| line.split("sdk_invocation_id=").nth(1))
        .filter_map(|rest| rest.split([' ', '}']).next())
        .map(str::to_string)
        .collect()
}

/// `init` and `apply` in `dir` (both must succeed), then `plan -detailed-exitcode` with the
/// debug log: its exit code, stdout and the log (stderr).
fn applied_then_replanned(moto: &Moto, dir: &std::path::Path) -> (Option<i32>, String, String) {
    let run = |args: &[&str]| {
        let output = Command::new(strata())
            .args(args)
            .current_dir(dir)
            .envs(moto.env())
            .env("NO_COLOR", "1")
            .env("STRATA_LOG", "debug")
            .output()
            .expect("run strata");
        let stdout = String::from_utf8_lossy(&output.stdout).to_string();
        let stderr = String::from_utf8_lossy(&output.stderr).to_string();
        (output.status.code(), stdout, stderr)
    };
    for args in [&["init"][..], &["apply", "-auto-approve"]] {
        let (code, stdout, stderr) = run(args);
        assert_eq!(code, Some(0), "{args:?}\n{stdout}\n{stderr}");
    }
    run(&["plan", "-detailed-exitcode"])
}

/// Through the binary: the engine announces a plan's refresh to the provider, so a re-plan of a
/// VPC, a route table and its association describes the route tables once, and still shows no
/// changes.
#[test]
fn a_replan_of_a_vpc_its_route_table_and_association_describes_the_tables_once() {
    let moto = Moto::start();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("main.tf"),
        r#"provider "aws" {
  region = "us-east-1"
}

resource "aws_vpc" "main" {
  cidr_block = "10.43.0.0/16"
}

resource "aws_subnet" "a" {
  vpc_id     = aws_vpc.main.id
  cidr_block = "10.43.1.0/24"
}

resource "aws_route_table" "a" {
  vpc_id = aws_vpc.main.id
}

resource "aws_route_table_association" "a" {
  subnet_id      = aws_subnet.a.id
  route_table_id = aws_route_table.a.id
}
"#,
    )
    .unwrap();
    let (code, stdout, log) = applied_then_replanned(&moto, dir.path());
    assert_eq!(code, Some(0), "{stdout}\n{log}");
    assert!(stdout.contains("No changes."), "{stdout}");
    // Before the refresh was announced: three (the VPC's main route table, the table, the
    // association).
    assert_eq!(
        invocations_of(&log, "DescribeRouteTables").len(),
        1,
        "{log}"
    );
    assert_eq!(invocations_of(&log, "DescribeVpcs").len(), 1);
}

/// Through the binary: a provider whose configuration reads only variables and locals is
/// configured while the lock and the state are fetched (`engine::early`), and only then: one
/// GetCallerIdentity per re-plan. (A configuration the run evaluates differently gets a fresh
/// instance: `engine::early_tests`; `uuid()` and `timestamp()` are unknown in a plan, so no
/// provider configuration can use them.)
#[test]
fn a_provider_that_needs_nothing_from_the_state_is_configured_while_it_is_read() {
    let moto = Moto::start();
    let cases = [
        "region = var.region",
        "region = var.region\n  ignore_tags {\n    keys = [local.ignored]\n  }",
    ];
    for settings in cases {
        let dir = tempfile::tempdir().unwrap();
        let main = format!(
            "variable \"region\" {{\n  default = \"us-east-1\"\n}}\n\nlocals {{\n  ignored = \"Owner\"\n}}\n\nprovider \"aws\" {{\n  {settings}\n}}\n\nresource \"aws_vpc\" \"main\" {{\n  cidr_block = \"10.44.0.0/16\"\n}}\n"
        );
        std::fs::write(dir.path().join("main.tf"), main).unwrap();
        let (code, stdout, log) = applied_then_replanned(&moto, dir.path());
        assert_eq!(code, Some(0), "{settings}\n{stdout}\n{log}");
        assert!(stdout.contains("No changes."), "{stdout}");
        assert!(
            log.contains("provider configured while the state is read"),
            "{settings}\n{log}"
        );
        assert!(
            !log.contains("provider configured again"),
            "{settings}\n{log}"
        );
        assert_eq!(
            invocations_of(&log, "GetCallerIdentity").len(),
            1,
            "{settings}\n{log}"
        );
        assert_eq!(invocations_of(&log, "DescribeVpcs").len(), 1, "{log}");
    }
}

// ---------------------------------------------------------------------------------------------
// aws_subnet

/// `2600:1f18:abcd:ef00::/56` → its `n`th /64.
fn subnet_of(vpc_block: &str, n: u8) -> String {
    let prefix = vpc_block.trim_end_matches("::/56");
    let (head, last) = prefix.rsplit_once(':').unwrap();
    let last = u16::from_str_radix(last, 16).unwrap() + u16::from(n);
    format!("{head}:{last:x}::/64")
}

async fn described_subnet(aws: &Aws, id: &str) -> aws_sdk_ec2::types::Subnet {
    let ec2 = aws_sdk_ec2::Client::new(&aws.sdk().await);
    let out = ec2.describe_subnets().subnet_ids(id).send().await.unwrap();
    out.subnets()[0].clone()
}

#[tokio::test]
async fn subnet_dns_record_flag_and_ipv6_block_change_in_place() {
    let aws = Aws::start(&[]).await;
    let vpc = ipv6_vpc(&aws).await;
    let vpc_id = text(&vpc, "id");
    let vpc_block = text(&vpc, "ipv6_cidr_block");
    let config = |ipv6: &str, a_record: bool| {
        aws.config(
            "aws_subnet",
            vec![
                ("vpc_id", s(&vpc_id)),
                ("cidr_block", s("10.0.1.0/24")),
                ("ipv6_cidr_block", s(ipv6)),
                ("map_public_ip_on_launch", Value::Bool(true)),
                (
                    "enable_resource_name_dns_a_record_on_launch",
                    Value::Bool(a_record),
                ),
            ],
        )
    };
    let first = subnet_of(&vpc_block, 0);
    let subnet = aws.create("aws_subnet", &config(&first, true)).await;
    let id = text(&subnet, "id");
    assert_eq!(text(&subnet, "ipv6_cidr_block"), first);
    assert_eq!(
        attr(&subnet, "enable_resource_name_dns_a_record_on_launch"),
        &Value::Bool(true)
    );
    assert_eq!(attr(&subnet, "map_public_ip_on_launch"), &Value::Bool(true));
    let described = described_subnet(&aws, &id).await;
    assert_eq!(
        described
            .private_dns_name_options_on_launch()
            .and_then(|o| o.enable_resource_name_dns_a_record()),
        Some(true)
    );

    // Another /64 and the flag off: in place.
    let second = subnet_of(&vpc_block, 1);
    let updated = aws
        .update("aws_subnet", &subnet, &config(&second, false))
        .await;
    assert_eq!(text(&updated, "id"), id);
    assert_eq!(text(&updated, "ipv6_cidr_block"), second);
    assert_ne!(
        text(&updated, "ipv6_cidr_block_association_id"),
        text(&subnet, "ipv6_cidr_block_association_id")
    );
    let described = described_subnet(&aws, &id).await;
    let associated: Vec<&str> = described
        .ipv6_cidr_block_association_set()
        .iter()
        .filter(|a| {
            a.ipv6_cidr_block_state()
                .and_then(|s| s.state())
                .is_some_and(|s| s.as_str().contains("'associated'") || s.as_str() == "associated")
        })
        .filter_map(|a| a.ipv6_cidr_block())
        .collect();
    assert_eq!(associated, vec![second.as_str()]);
    assert_eq!(
        described
            .private_dns_name_options_on_launch()
            .and_then(|o| o.enable_resource_name_dns_a_record()),
        Some(false)
    );
    aws.delete("aws_subnet", &updated).await;
}

// ---------------------------------------------------------------------------------------------
// aws_internet_gateway, aws_nat_gateway, aws_route_table

#[tokio::test]
async fn internet_gateway_attached_elsewhere_shows_no_change() {
    let aws = Aws::start(&[]).await;
    let (vpc_id, _) = vpc_and_subnet(&aws).await;
    // `vpc_id` is optional and computed: an attachment made outside the configuration (as
    // `aws_internet_gateway_attachment` does) is read back without a diff.
    let config = aws.config("aws_internet_gateway", vec![]);
    let gateway = aws.create("aws_internet_gateway", &config).await;
    assert_eq!(attr(&gateway, "vpc_id"), &Value::Null);
    let ec2 = aws_sdk_ec2::Client::new(&aws.sdk().await);
    ec2.attach_internet_gateway()
        .internet_gateway_id(text(&gateway, "id"))
        .vpc_id(&vpc_id)
        .send()
        .await
        .unwrap();
    let refreshed = aws.read("aws_internet_gateway", &gateway).await.unwrap();
    assert_eq!(text(&refreshed, "vpc_id"), vpc_id);
    aws.assert_no_change("aws_internet_gateway", &refreshed, &config)
        .await;
    aws.delete("aws_internet_gateway", &refreshed).await;
}

#[tokio::test]
async fn nat_gateway_secondary_addresses_read_back_without_a_diff() {
    let aws = Aws::start(&[]).await;
    let (_, subnet_id) = vpc_and_subnet(&aws).await;
    let eip = aws
        .create(
            "aws_eip",
            &aws.config("aws_eip", vec![("domain", s("vpc"))]),
        )
        .await;
    let config = aws.config(
        "aws_nat_gateway",
        vec![
            ("subnet_id", s(&subnet_id)),
            ("allocation_id", s(&text(&eip, "id"))),
        ],
    );
    let gateway = aws.create("aws_nat_gateway", &config).await;
    assert_eq!(
        attr(&gateway, "secondary_private_ip_address_count"),
        &Value::from(0)
    );
    assert!(attr(&gateway, "secondary_private_ip_addresses")
        .as_seq()
        .is_some_and(|s| s.is_empty()));

    // The connectivity type decides which secondary arguments are allowed.
    let private = aws.config(
        "aws_nat_gateway",
        vec![
            ("subnet_id", s(&subnet_id)),
            ("connectivity_type", s("private")),
            ("allocation_id", s(&text(&eip, "id"))),
        ],
    );
    let errors = aws
        .provider
        .validate_resource("aws_nat_gateway", &private)
        .await;
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(errors[0].summary.contains("allocation_id is not supported"));
    let public = aws.config(
        "aws_nat_gateway",
        vec![
            ("subnet_id", s(&subnet_id)),
            ("secondary_private_ip_address_count", Value::from(2)),
        ],
    );
    let errors = aws
        .provider
        .validate_resource("aws_nat_gateway", &public)
        .await;
    assert_eq!(errors.len(), 1, "{errors:?}");
}

#[tokio::test]
async fn route_table_leaves_vpc_endpoint_routes_to_the_endpoint() {
    let aws = Aws::start(&[]).await;
    let (vpc_id, _) = vpc_and_subnet(&aws).await;
    let gateway = aws
        .create(
            "aws_internet_gateway",
            &aws.config("aws_internet_gateway", vec![("vpc_id", s(&vpc_id))]),
        )
        .await;
    let route = Value::object([
        ("cidr_block", s("0.0.0.0/0")),
        ("gateway_id", s(&text(&gateway, "id"))),
    ]);
    let config = aws.config(
        "aws_route_table",
        vec![("vpc_id", s(&vpc_id)), ("route", Value::set(vec![route]))],
    );
    let table = aws.create("aws_route_table", &config).await;
    // A gateway endpoint adds a prefix-list route through `vpce-…`: the endpoint's, not the
    // table's, so it shows no diff.
    let ec2 = aws_sdk_ec2::Client::new(&aws.sdk().await);
    ec2.create_vpc_endpoint()
        .vpc_id(&vpc_id)
        .service_name("com.amazonaws.us-east-1.s3")
        .vpc_endpoint_type(aws_sdk_ec2::types::VpcEndpointType::Gateway)
        .route_table_ids(text(&table, "id"))
        .send()
        .await
        .unwrap();
    let remote = ec2
        .describe_route_tables()
        .route_table_ids(text(&table, "id"))
        .send()
        .await
        .unwrap();
    let through_endpoint = remote.route_tables()[0]
        .routes()
        .iter()
        .filter(|r| r.gateway_id().is_some_and(|g| g.starts_with("vpce-")))
        .count();
    assert_eq!(
        through_endpoint, 1,
        "the emulator adds the endpoint's route"
    );
    let refreshed = aws.read("aws_route_table", &table).await.unwrap();
    aws.assert_no_change("aws_route_table", &refreshed, &config)
        .await;
    let routes = attr(&refreshed, "route").as_seq().unwrap();
    assert_eq!(routes.len(), 1, "{routes:?}");
    assert_eq!(attr(&routes[0], "vpc_endpoint_id"), &Value::Null);
}

#[tokio::test]
async fn subnet_assigning_ipv6_addresses_is_replaced_for_a_new_block() {
    let aws = Aws::start(&[]).await;
    let vpc = ipv6_vpc(&aws).await;
    let vpc_block = text(&vpc, "ipv6_cidr_block");
    let config = |n: u8| {
        aws.config(
            "aws_subnet",
            vec![
                ("vpc_id", s(&text(&vpc, "id"))),
                ("cidr_block", s("10.0.1.0/24")),
                ("ipv6_cidr_block", s(&subnet_of(&vpc_block, n))),
                ("assign_ipv6_address_on_creation", Value::Bool(true)),
            ],
        )
    };
    let subnet = aws.create("aws_subnet", &config(0)).await;
    assert_eq!(
        attr(&subnet, "assign_ipv6_address_on_creation"),
        &Value::Bool(true)
    );
    aws.assert_replaces("aws_subnet", &subnet, &config(1), "ipv6_cidr_block")
        .await;
    let plan = aws.plan("aws_subnet", Some(&subnet), &config(1)).await;
    assert!(attr(&plan.planned, "id").is_unknown());
}

#[tokio::test]
async fn vpc_data_source_default_false_filters_nothing() {
    let aws = Aws::start(&[]).await;
    // The emulator's region has a default VPC (172.31.0.0/16).
    let default = aws
        .data("aws_vpc", vec![("default", Value::Bool(true))])
        .await;
    assert_eq!(attr(&default, "default"), &Value::Bool(true));
    let cidr = text(&default, "cidr_block");
    // As the provider: `default = false` cannot be told from unset, so it does not exclude
    // the default VPC.
    let same = aws
        .data(
            "aws_vpc",
            vec![("default", Value::Bool(false)), ("cidr_block", s(&cidr))],
        )
        .await;
    assert_eq!(text(&same, "id"), text(&default, "id"));
    assert_eq!(attr(&same, "default"), &Value::Bool(true));
}

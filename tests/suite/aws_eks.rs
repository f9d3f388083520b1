//! EKS through the `strata` binary against the AWS API emulator, with the update operations
//! moto lacks added by `tests/support/moto_eks_updates.py`: the Kubernetes version upgrade path
//! (one minor version in place, a two-version jump refused with AWS's message, node groups
//! following), envelope encryption (`encryption_config`: sent on create, associated in place
//! later, removal replaces), node auto repair (`node_repair_config`), and the cluster settings
//! that change in place (authentication mode, upgrade policy, subnets, security groups). After
//! each apply a plan must show `No changes.`, and what AWS holds is checked with the SDK
//! directly. Also the RDS instance's log exports, added in place.

use crate::common::{copy_tree, fixtures, strata, Moto};
use std::path::Path;
use std::process::{Command, Output};

const KEY_ARN: &str = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab";

/// A copy of a fixture (`cluster`, `database`) in a temporary directory (its own local state).
fn workspace(fixture: &str) -> tempfile::TempDir {
    let temp = tempfile::tempdir().expect("a temporary directory");
    copy_tree(&fixtures("aws_eks").join(fixture), temp.path());
    temp
}

fn run(moto: &Moto, dir: &Path, args: &[&str]) -> Output {
    let mut command = Command::new(strata());
    command.args(args).current_dir(dir).env("NO_COLOR", "1");
    for (key, value) in moto.env() {
        command.env(key, value);
    }
    command.output().expect("run strata")
}

/// Everything the command printed, stdout then stderr.
fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

fn ok(moto: &Moto, dir: &Path, args: &[&str]) -> String {
    let output = run(moto, dir, args);
    assert!(
        output.status.success(),
        "strata {args:?} failed ({:?}):\n{}",
        output.status.code(),
        text(&output)
    );
    text(&output)
}

/// `strata plan` with `-var` arguments; its output.
fn plan(moto: &Moto, dir: &Path, vars: &[&str]) -> String {
    let args: Vec<&str> = ["plan"].iter().chain(vars).copied().collect();
    ok(moto, dir, &args)
}

/// `strata apply -auto-approve` with `-var` arguments; its output.
fn apply(moto: &Moto, dir: &Path, vars: &[&str]) -> String {
    let args: Vec<&str> = ["apply", "-auto-approve"]
        .iter()
        .chain(vars)
        .copied()
        .collect();
    ok(moto, dir, &args)
}

fn assert_no_changes(moto: &Moto, dir: &Path, vars: &[&str]) {
    let planned = plan(moto, dir, vars);
    assert!(
        planned.contains("No changes."),
        "expected no changes:\n{planned}"
    );
}

fn output_value(moto: &Moto, dir: &Path, name: &str) -> serde_json::Value {
    let shown = ok(moto, dir, &["output", "-json"]);
    let outputs: serde_json::Value = serde_json::from_str(&shown).expect("output -json is JSON");
    outputs[name]["value"].clone()
}

async fn eks_client(moto: &Moto) -> aws_sdk_eks::Client {
    let config = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new("us-east-1"))
        .credentials_provider(aws_credential_types::Credentials::new(
            "test", "test", None, None, "test",
        ))
        .endpoint_url(&moto.endpoint)
        .load()
        .await;
    aws_sdk_eks::Client::new(&config)
}

async fn cluster_version(eks: &aws_sdk_eks::Client) -> String {
    let described = eks.describe_cluster().name("upgrade").send().await.unwrap();
    described.cluster().unwrap().version().unwrap().to_string()
}

async fn node_group(eks: &aws_sdk_eks::Client) -> aws_sdk_eks::types::Nodegroup {
    let described = eks
        .describe_nodegroup()
        .cluster_name("upgrade")
        .nodegroup_name("default")
        .send()
        .await
        .unwrap();
    described.nodegroup().unwrap().clone()
}

#[tokio::test]
async fn cluster_and_nodes_upgrade_one_minor_version_in_place() {
    let moto = Moto::start();
    let eks = eks_client(&moto).await;
    let temp = workspace("cluster");
    let dir = temp.path();

    let created = apply(&moto, dir, &[]);
    assert!(
        created.contains("Apply complete! Resources: 8 added"),
        "{created}"
    );
    // The timeouts show in the plan as Terraform shows them, and are kept (no diff later).
    assert!(
        created.contains("+ timeouts {") && created.contains("+ update = \"90m\""),
        "{created}"
    );
    assert_eq!(cluster_version(&eks).await, "1.29");
    assert_eq!(node_group(&eks).await.version(), Some("1.29"));

    // Two minor versions at once: AWS refuses, the error names the resource, nothing changes.
    let jump = run(
        &moto,
        dir,
        &["apply", "-auto-approve", "-var", "kubernetes_version=1.31"],
    );
    let jump_text = text(&jump);
    assert!(
        !jump.status.success(),
        "a 1.29 -> 1.31 jump must fail:\n{jump_text}"
    );
    assert!(
        jump_text.contains("Unsupported Kubernetes minor version update from 1.29 to 1.31"),
        "AWS's message is shown:\n{jump_text}"
    );
    assert!(
        jump_text.contains("Error: aws_eks_cluster.this: updating EKS Cluster (upgrade) version"),
        "the error names the resource:\n{jump_text}"
    );
    assert!(
        jump_text.contains("version  = var.kubernetes_version"),
        "the error points at the version argument:\n{jump_text}"
    );
    assert_eq!(cluster_version(&eks).await, "1.29");
    // Nothing changed, outputs included: the failed apply kept the outputs it recorded.
    let after_failure = plan(&moto, dir, &[]);
    assert!(after_failure.contains("No changes."), "{after_failure}");

    // One minor version: an update in place of the cluster, and of the nodes that follow it.
    let planned = plan(&moto, dir, &["-var", "kubernetes_version=1.30"]);
    assert!(
        planned.contains("aws_eks_cluster.this will be updated in-place"),
        "{planned}"
    );
    assert!(
        planned.contains("aws_eks_node_group.default will be updated in-place"),
        "{planned}"
    );
    assert!(planned.contains(r#"~ version"#), "{planned}");
    assert!(planned.contains(r#""1.29" -> "1.30""#), "{planned}");
    assert!(!planned.contains("must be replaced"), "{planned}");
    assert!(
        planned.contains("Plan: 0 to add, 2 to change, 0 to destroy."),
        "{planned}"
    );

    let upgraded = apply(&moto, dir, &["-var", "kubernetes_version=1.30"]);
    // The provider waited on DescribeUpdate, which answers InProgress first.
    assert!(
        upgraded.contains(
            "waiting for EKS Cluster (upgrade) version update to be Successful (now InProgress"
        ),
        "{upgraded}"
    );
    assert!(
        upgraded.contains("waiting for EKS Node Group (upgrade:default) version update to be Successful (now InProgress"),
        "{upgraded}"
    );
    assert!(
        upgraded.contains("Apply complete! Resources: 0 added, 2 changed, 0 destroyed."),
        "{upgraded}"
    );
    assert_eq!(cluster_version(&eks).await, "1.30");
    assert_eq!(node_group(&eks).await.version(), Some("1.30"));
    assert_eq!(output_value(&moto, dir, "cluster_version"), "1.30");
    assert_eq!(output_value(&moto, dir, "node_group_version"), "1.30");
    assert_no_changes(&moto, dir, &["-var", "kubernetes_version=1.30"]);
}

#[tokio::test]
async fn encryption_and_node_repair_are_sent_read_back_and_changed_in_place() {
    let moto = Moto::start();
    let eks = eks_client(&moto).await;
    let temp = workspace("cluster");
    let dir = temp.path();
    let key_var = format!("encryption_key_arn={KEY_ARN}");

    // Created without either; then both added in place.
    apply(&moto, dir, &[]);
    let described = eks.describe_cluster().name("upgrade").send().await.unwrap();
    assert!(described.cluster().unwrap().encryption_config().is_empty());
    let with_both = ["-var", key_var.as_str(), "-var", "node_repair=true"];
    let planned = plan(&moto, dir, &with_both);
    assert!(
        planned.contains("aws_eks_cluster.this will be updated in-place"),
        "adding encryption associates it in place:\n{planned}"
    );
    assert!(
        planned.contains("aws_eks_node_group.default will be updated in-place"),
        "{planned}"
    );
    assert!(!planned.contains("must be replaced"), "{planned}");
    let applied = apply(&moto, dir, &with_both);
    assert!(
        applied.contains("waiting for EKS Cluster (upgrade) encryption config update to be Successful (now InProgress"),
        "{applied}"
    );
    let described = eks.describe_cluster().name("upgrade").send().await.unwrap();
    let encryption = described.cluster().unwrap().encryption_config();
    assert_eq!(encryption.len(), 1);
    assert_eq!(
        encryption[0].provider().and_then(|p| p.key_arn()),
        Some(KEY_ARN)
    );
    let repair = node_group(&eks).await;
    assert_eq!(
        repair.node_repair_config().and_then(|r| r.enabled()),
        Some(true)
    );
    assert_no_changes(&moto, dir, &with_both);

    // Repair switched off: UpdateNodegroupConfig, in place.
    let repair_off = ["-var", key_var.as_str(), "-var", "node_repair=false"];
    let applied = apply(&moto, dir, &repair_off);
    assert!(
        applied.contains("Apply complete! Resources: 0 added, 1 changed, 0 destroyed."),
        "{applied}"
    );
    assert_eq!(
        node_group(&eks)
            .await
            .node_repair_config()
            .and_then(|r| r.enabled()),
        Some(false)
    );
    assert_no_changes(&moto, dir, &repair_off);

    // EKS has no call to change the key: refused, with the reason, at the attribute.
    let other_key = format!(
        "encryption_key_arn={}",
        KEY_ARN.replace("1234abcd", "5678dcba")
    );
    let changed = run(
        &moto,
        dir,
        &[
            "apply",
            "-auto-approve",
            "-var",
            &other_key,
            "-var",
            "node_repair=false",
        ],
    );
    let changed_text = text(&changed);
    assert!(!changed.status.success(), "{changed_text}");
    assert!(
        changed_text.contains("EKS cannot change the KMS key"),
        "{changed_text}"
    );
    assert!(
        changed_text.contains("aws_eks_cluster.this"),
        "{changed_text}"
    );
    let described = eks.describe_cluster().name("upgrade").send().await.unwrap();
    assert_eq!(
        described.cluster().unwrap().encryption_config()[0]
            .provider()
            .and_then(|p| p.key_arn()),
        Some(KEY_ARN)
    );

    // Encryption cannot be switched off: removing it replaces the cluster.
    let planned = plan(&moto, dir, &["-var", "node_repair=false"]);
    assert!(
        planned.contains("aws_eks_cluster.this must be replaced"),
        "{planned}"
    );
    assert!(planned.contains("forces replacement"), "{planned}");
}

#[tokio::test]
async fn encryption_and_node_repair_given_at_create_read_back_without_a_diff() {
    let moto = Moto::start();
    let eks = eks_client(&moto).await;
    let temp = workspace("cluster");
    let dir = temp.path();
    let key_var = format!("encryption_key_arn={KEY_ARN}");
    let vars = ["-var", key_var.as_str(), "-var", "node_repair=true"];
    apply(&moto, dir, &vars);
    let described = eks.describe_cluster().name("upgrade").send().await.unwrap();
    let encryption = described.cluster().unwrap().encryption_config();
    assert_eq!(
        encryption[0].provider().and_then(|p| p.key_arn()),
        Some(KEY_ARN)
    );
    assert_eq!(
        node_group(&eks)
            .await
            .node_repair_config()
            .and_then(|r| r.enabled()),
        Some(true)
    );
    assert_no_changes(&moto, dir, &vars);
    // A node group without a node_repair_config block keeps what AWS reports (Optional and
    // Computed, as in the provider): no diff.
    assert_no_changes(&moto, dir, &["-var", key_var.as_str()]);
}

#[tokio::test]
async fn access_upgrade_policy_subnets_and_security_groups_change_in_place() {
    let moto = Moto::start();
    let eks = eks_client(&moto).await;
    let temp = workspace("cluster");
    let dir = temp.path();
    apply(&moto, dir, &[]);
    let described = eks.describe_cluster().name("upgrade").send().await.unwrap();
    let cluster = described.cluster().unwrap();
    assert_eq!(
        cluster
            .access_config()
            .and_then(|a| a.authentication_mode())
            .map(|m| m.as_str()),
        Some("CONFIG_MAP")
    );
    assert_eq!(
        cluster.resources_vpc_config().unwrap().subnet_ids().len(),
        2
    );

    let vars = [
        "-var",
        "authentication_mode=API_AND_CONFIG_MAP",
        "-var",
        "support_type=STANDARD",
        "-var",
        "subnet_count=3",
        "-var",
        "with_security_group=true",
    ];
    let planned = plan(&moto, dir, &vars);
    assert!(
        planned.contains("aws_eks_cluster.this will be updated in-place"),
        "{planned}"
    );
    assert!(!planned.contains("must be replaced"), "{planned}");
    assert!(
        planned.contains("Plan: 1 to add, 1 to change, 0 to destroy."),
        "only the new subnet is added:\n{planned}"
    );
    let applied = apply(&moto, dir, &vars);
    for what in ["access config", "upgrade policy", "vpc config"] {
        assert!(
            applied.contains(&format!(
                "waiting for EKS Cluster (upgrade) {what} update to be Successful (now InProgress"
            )),
            "{what}:\n{applied}"
        );
    }
    let described = eks.describe_cluster().name("upgrade").send().await.unwrap();
    let cluster = described.cluster().unwrap();
    assert_eq!(
        cluster
            .access_config()
            .and_then(|a| a.authentication_mode())
            .map(|m| m.as_str()),
        Some("API_AND_CONFIG_MAP")
    );
    assert_eq!(
        cluster
            .upgrade_policy()
            .and_then(|u| u.support_type())
            .map(|t| t.as_str()),
        Some("STANDARD")
    );
    let vpc = cluster.resources_vpc_config().unwrap();
    assert_eq!(vpc.subnet_ids().len(), 3);
    assert_eq!(vpc.security_group_ids().len(), 1);
    // The endpoint settings survive a change of only the subnets.
    assert!(vpc.endpoint_public_access());
    assert_no_changes(&moto, dir, &vars);
}

#[tokio::test]
async fn database_log_exports_change_in_place() {
    let moto = Moto::start();
    let temp = workspace("database");
    let dir = temp.path();
    apply(&moto, dir, &[]);
    assert_no_changes(&moto, dir, &[]);
    let logs = ["-var", r#"log_exports=["postgresql","upgrade"]"#];
    let planned = plan(&moto, dir, &logs);
    assert!(
        planned.contains("aws_db_instance.this will be updated in-place"),
        "{planned}"
    );
    assert!(
        planned.contains("enabled_cloudwatch_logs_exports"),
        "{planned}"
    );
    apply(&moto, dir, &logs);
    let config = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new("us-east-1"))
        .credentials_provider(aws_credential_types::Credentials::new(
            "test", "test", None, None, "test",
        ))
        .endpoint_url(&moto.endpoint)
        .load()
        .await;
    let rds = aws_sdk_rds::Client::new(&config);
    let described = rds
        .describe_db_instances()
        .db_instance_identifier("logs-db")
        .send()
        .await
        .unwrap();
    let mut exports = described.db_instances()[0]
        .enabled_cloudwatch_logs_exports()
        .to_vec();
    exports.sort();
    assert_eq!(exports, ["postgresql", "upgrade"]);
    assert_no_changes(&moto, dir, &logs);
    // One switched off again: ModifyDBInstance disables just that one.
    let fewer = ["-var", r#"log_exports=["postgresql"]"#];
    apply(&moto, dir, &fewer);
    let described = rds
        .describe_db_instances()
        .db_instance_identifier("logs-db")
        .send()
        .await
        .unwrap();
    assert_eq!(
        described.db_instances()[0].enabled_cloudwatch_logs_exports(),
        ["postgresql"]
    );
    assert_no_changes(&moto, dir, &fewer);
}

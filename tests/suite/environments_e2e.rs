//! The environments, end to end against the AWS API emulator, through the `strata` binary:
//! dev applies with its database password read from SSM (printed nowhere, and the database
//! holds it) and then plans `No changes.`; flipping `active_pool` replaces the node groups
//! create-before-destroy with the autoscaler tags on both pools, and flipping back restores
//! the first; stage and prod plan the differences their inputs promise; two applies started at once on one S3-backed workspace queue on the lock and both
//! land; destroy leaves nothing.

use crate::common::{copy_tree, repo_root, strata, Moto};
use std::path::Path;
use std::process::{Command, Output};

fn run(moto: &Moto, dir: &Path, args: &[&str]) -> Output {
    let mut command = Command::new(strata());
    command.args(args).current_dir(dir).env("NO_COLOR", "1");
    for (key, value) in moto.env() {
        command.env(key, value);
    }
    command.output().expect("run strata")
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

fn create_bucket(moto: &Moto, bucket: &str) {
    let venv = Command::new("bash")
        .arg(repo_root().join("scripts/ensure-moto.sh"))
        .output()
        .unwrap();
    let venv = String::from_utf8_lossy(&venv.stdout).trim().to_string();
    let status = Command::new(format!("{venv}/bin/python"))
        .arg("-c")
        .arg(format!("import boto3; boto3.client('s3', endpoint_url='{}', region_name='us-east-1', aws_access_key_id='test', aws_secret_access_key='test').create_bucket(Bucket='{bucket}')", moto.endpoint))
        .status()
        .unwrap();
    assert!(status.success(), "creating bucket {bucket}");
}

/// The database password of one environment, seeded in SSM where the environment reads it.
pub(crate) const DB_PASSWORD: &str = "correct-horse-battery";

/// Runs Python with boto3 (moto's venv) against the emulator: what it prints.
fn boto3(moto: &Moto, script: &str) -> String {
    let venv = Command::new("bash")
        .arg(repo_root().join("scripts/ensure-moto.sh"))
        .output()
        .unwrap();
    let venv = String::from_utf8_lossy(&venv.stdout).trim().to_string();
    let prelude = format!(
        "import boto3, json\nclient = lambda name: boto3.client(name, endpoint_url='{}', region_name='us-east-1', aws_access_key_id='test', aws_secret_access_key='test')\n",
        moto.endpoint
    );
    let output = Command::new(format!("{venv}/bin/python"))
        .arg("-c")
        .arg(prelude + script)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "boto3: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).trim().to_string()
}

/// Puts `/strata/<environment>/db/password` (a SecureString) in the emulator's SSM, as the
/// platform team seeds it before the environment's first apply.
pub(crate) fn seed_db_password(moto: &Moto, environment: &str) {
    boto3(
        moto,
        &format!("client('ssm').put_parameter(Name='/strata/{environment}/db/password', Type='SecureString', Value='{DB_PASSWORD}', Overwrite=True)"),
    );
}

/// The cluster's node groups as EKS has them: (name, tags, labels).
fn node_groups(moto: &Moto, cluster: &str) -> Vec<serde_json::Value> {
    let listed = boto3(
        moto,
        &format!("eks = client('eks')\nnames = eks.list_nodegroups(clusterName='{cluster}')['nodegroups']\nprint(json.dumps([{{k: g[k] for k in ('nodegroupName', 'tags', 'labels', 'status')}} for g in (eks.describe_nodegroup(clusterName='{cluster}', nodegroupName=n)['nodegroup'] for n in names)]))"),
    );
    serde_json::from_str(&listed).expect("node groups as JSON")
}

/// Checks the cluster has exactly one node group, in `pool`, tagged for the cluster autoscaler.
fn assert_one_group_in(moto: &Moto, pool: &str) -> String {
    let groups = node_groups(moto, "strata-dev");
    assert_eq!(groups.len(), 1, "{groups:?}");
    let group = &groups[0];
    let name = group["nodegroupName"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(name.starts_with(&format!("general-{pool}-")), "{group}");
    assert_eq!(group["labels"]["node-pool"], pool, "{group}");
    assert_eq!(
        group["tags"]["k8s.io/cluster-autoscaler/enabled"], "true",
        "{group}"
    );
    assert_eq!(
        group["tags"]["k8s.io/cluster-autoscaler/strata-dev"], "owned",
        "{group}"
    );
    name
}

/// The line of `text` where `needles` first occur together.
fn line_of(text: &str, needles: &[&str]) -> usize {
    text.lines()
        .position(|line| needles.iter().all(|needle| line.contains(needle)))
        .unwrap_or_else(|| panic!("no line with {needles:?} in:\n{text}"))
}

/// Flips dev's `active_pool` to `pool`: the plan replaces the node group create-then-delete, and
/// the apply's progress shows the new group created before the old one's delete starts.
fn flip_to(moto: &Moto, dev: &Path, pool: &str) {
    let pool_var = format!("-var=active_pool={pool}");
    ok(
        &run(moto, dev, &["plan", &pool_var, "-out=flip.plan"]),
        "plan flip",
    );
    let shown: serde_json::Value = serde_json::from_str(&ok(
        &run(moto, dev, &["show", "-json", "flip.plan"]),
        "show",
    ))
    .unwrap();
    let changes: Vec<&serde_json::Value> = shown["resource_changes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["change"]["actions"] != serde_json::json!(["no-op"]))
        .collect();
    assert_eq!(changes.len(), 1, "only the node group changes: {changes:?}");
    assert_eq!(changes[0]["type"], "aws_eks_node_group");
    assert_eq!(
        changes[0]["change"]["actions"],
        serde_json::json!(["create", "delete"]),
        "create before destroy"
    );
    let applied = ok(&run(moto, dev, &["apply", "flip.plan"]), "apply flip");
    let group = "module.eks.aws_eks_node_group.this[\"general\"]";
    let created = line_of(&applied, &[&format!("{group}: Creation complete")]);
    let destroying = line_of(&applied, &[group, "(deposed object", "Destroying..."]);
    assert!(
        created < destroying,
        "the old pool was deleted before the new one was up:\n{applied}"
    );
    assert!(
        applied.contains("Resources: 1 added, 0 changed, 1 destroyed."),
        "{applied}"
    );
}

/// The master password the applied database instance was given, as the state records it.
/// moto offers no API that returns it (DescribeDBInstances never does, as AWS; its
/// `/moto-api/data.json` dump fails on RDS instances, whose `db_subnet_group_name` is a
/// write-only property), so the check is on what Strata sent and recorded; the password
/// attribute is also recorded as sensitive.
fn applied_master_password(moto: &Moto, dir: &Path) -> String {
    let pulled: serde_json::Value =
        serde_json::from_str(&ok(&run(moto, dir, &["state", "pull"]), "state pull")).unwrap();
    let db = pulled["resources"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|r| r["type"] == "aws_db_instance" && r["mode"] == "managed")
        .expect("a database in the state");
    let instance = &db["instances"][0];
    assert!(
        instance["sensitive_attributes"]
            .to_string()
            .contains("password"),
        "the password is recorded as sensitive: {}",
        instance["sensitive_attributes"]
    );
    instance["attributes"]["password"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

fn init(moto: &Moto, dir: &Path, bucket: &str) {
    let endpoint = format!("-backend-config=endpoint={}", moto.endpoint);
    ok(
        &run(
            moto,
            dir,
            &[
                "init",
                &format!("-backend-config=bucket={bucket}"),
                &endpoint,
                "-backend-config=use_path_style=true",
            ],
        ),
        "init",
    );
}

/// The plan as Terraform's JSON plan format.
fn plan_json(moto: &Moto, dir: &Path) -> serde_json::Value {
    ok(&run(moto, dir, &["plan", "-out=check.plan"]), "plan");
    let shown = ok(
        &run(moto, dir, &["show", "-json", "check.plan"]),
        "show -json",
    );
    serde_json::from_str(&shown).expect("show -json prints JSON")
}

fn count_type(plan: &serde_json::Value, type_name: &str) -> usize {
    plan["resource_changes"]
        .as_array()
        .map(|c| c.iter().filter(|r| r["type"] == type_name).count())
        .unwrap_or(0)
}

fn db_after(plan: &serde_json::Value) -> serde_json::Value {
    plan["resource_changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["type"] == "aws_db_instance")
        .map(|r| r["change"]["after"].clone())
        .expect("a database in the plan")
}

#[test]
fn environments_apply_and_differ_only_in_inputs() {
    let moto = Moto::start();
    create_bucket(&moto, "strata-state");
    let temp = tempfile::tempdir().unwrap();
    copy_tree(
        &repo_root().join("environments"),
        &temp.path().join("environments"),
    );
    copy_tree(&repo_root().join("modules"), &temp.path().join("modules"));
    let env = |name: &str| temp.path().join("environments").join(name);

    // dev: apply with the password from SSM, outputs, then nothing left to do.
    for environment in ["dev", "stage", "prod"] {
        seed_db_password(&moto, environment);
    }
    let dev = env("dev");
    init(&moto, &dev, "strata-state");
    let applied = ok(&run(&moto, &dev, &["apply", "-auto-approve"]), "apply dev");
    assert!(
        applied.contains("Apply complete! Resources: 28 added, 0 changed, 0 destroyed."),
        "{applied}"
    );
    assert!(
        !applied.contains(DB_PASSWORD),
        "the password leaked into the output"
    );
    assert!(
        applied.lines().any(|line| {
            let line = line.trim_start();
            line.starts_with("+ password ") && line.ends_with("= (sensitive value)")
        }),
        "the plan shows the password as (sensitive value):\n{applied}"
    );
    assert_eq!(applied_master_password(&moto, &dev), DB_PASSWORD);
    let outputs: serde_json::Value =
        serde_json::from_str(&ok(&run(&moto, &dev, &["output", "-json"]), "output")).unwrap();
    assert!(
        outputs["cluster_endpoint"]["value"]
            .as_str()
            .is_some_and(|e| e.starts_with("https://")),
        "{outputs}"
    );
    assert!(
        outputs["db_address"]["value"]
            .as_str()
            .is_some_and(|a| a.contains("rds.amazonaws.com")),
        "{outputs}"
    );
    let replan = run(&moto, &dev, &["plan", "-detailed-exitcode"]);
    assert_eq!(
        replan.status.code(),
        Some(0),
        "dev re-plan: {}",
        String::from_utf8_lossy(&replan.stdout)
    );
    assert!(String::from_utf8_lossy(&replan.stdout).contains("No changes."));

    // Blue/green: flip to green, then back to blue; one pool at a time once applied.
    let blue = assert_one_group_in(&moto, "blue");
    flip_to(&moto, &dev, "green");
    assert_one_group_in(&moto, "green");
    flip_to(&moto, &dev, "blue");
    let blue_again = assert_one_group_in(&moto, "blue");
    assert_ne!(
        blue, blue_again,
        "the rollback made a new group (a new name)"
    );

    // stage and prod: same modules, their own sizes.
    let dev_plan = {
        // dev's full plan from an empty workspace, for comparison.
        ok(
            &run(&moto, &dev, &["workspace", "new", "compare"]),
            "workspace new",
        );
        let plan = plan_json(&moto, &dev);
        ok(
            &run(&moto, &dev, &["workspace", "select", "default"]),
            "workspace select",
        );
        plan
    };
    let stage = env("stage");
    init(&moto, &stage, "strata-state");
    let stage_plan = plan_json(&moto, &stage);
    let prod = env("prod");
    init(&moto, &prod, "strata-state");
    let prod_plan = plan_json(&moto, &prod);

    assert_eq!(
        count_type(&dev_plan, "aws_nat_gateway"),
        1,
        "dev has one NAT gateway"
    );
    assert_eq!(
        count_type(&stage_plan, "aws_nat_gateway"),
        2,
        "stage has one NAT gateway per zone"
    );
    assert_eq!(
        count_type(&prod_plan, "aws_nat_gateway"),
        2,
        "prod has one NAT gateway per zone"
    );
    assert_eq!(count_type(&dev_plan, "aws_eks_node_group"), 1);
    assert_eq!(
        count_type(&prod_plan, "aws_eks_node_group"),
        2,
        "prod adds a batch node group"
    );
    let (dev_db, prod_db) = (db_after(&dev_plan), db_after(&prod_plan));
    assert_eq!(dev_db["multi_az"], false);
    assert_eq!(dev_db["deletion_protection"], false);
    assert_eq!(prod_db["multi_az"], true);
    assert_eq!(prod_db["storage_encrypted"], true);
    assert_eq!(prod_db["deletion_protection"], true);
    assert_eq!(dev_db["instance_class"], "db.t3.micro");
    assert_eq!(prod_db["instance_class"], "db.m6g.large");
    for plan in [&dev_plan, &stage_plan, &prod_plan] {
        // The password is in the plan only as a sensitive value.
        let text = plan.to_string();
        assert!(
            !text.contains(DB_PASSWORD) || text.contains("\"password\":true"),
            "password not marked sensitive"
        );
        assert_eq!(plan["format_version"], "1.2");
    }

    // destroy leaves nothing.
    let destroyed = ok(
        &run(&moto, &dev, &["destroy", "-auto-approve"]),
        "destroy dev",
    );
    assert!(
        destroyed.contains("Destroy complete! Resources: 28 destroyed."),
        "{destroyed}"
    );
    assert_eq!(
        ok(&run(&moto, &dev, &["state", "list"]), "state list").trim(),
        ""
    );
}

#[test]
fn concurrent_applies_on_one_workspace_queue_and_both_land() {
    let moto = Moto::start();
    create_bucket(&moto, "queue-state");
    let temp = tempfile::tempdir().unwrap();
    let dir = temp.path();
    std::fs::write(
        dir.join("main.tf"),
        r#"terraform {
  backend "s3" {
    bucket       = "queue-state"
    key          = "queue/terraform.tfstate"
    region       = "us-east-1"
    use_lockfile = true
  }
}

resource "fake_resource" "first" {
  name       = "first"
  latency_ms = 2000
}

resource "fake_resource" "second" {
  name       = "second"
  latency_ms = 2000
}
"#,
    )
    .unwrap();
    init(&moto, dir, "queue-state");
    let spawn = |target: &str| {
        let mut command = Command::new(strata());
        command
            .args([
                "apply",
                "-auto-approve",
                "-lock-timeout=120s",
                &format!("-target={target}"),
            ])
            .current_dir(dir);
        for (key, value) in moto.env() {
            command.env(key, value);
        }
        command
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap()
    };
    let a = spawn("fake_resource.first");
    let b = spawn("fake_resource.second");
    let (a, b) = (a.wait_with_output().unwrap(), b.wait_with_output().unwrap());
    ok(&a, "first apply");
    ok(&b, "second apply");
    let waited = [&a, &b]
        .iter()
        .any(|o| String::from_utf8_lossy(&o.stderr).contains("Acquiring state lock"));
    assert!(waited, "neither run reported waiting for the other's lock");
    let listed = ok(&run(&moto, dir, &["state", "list"]), "state list");
    assert_eq!(
        listed.lines().collect::<Vec<_>>(),
        vec!["fake_resource.first", "fake_resource.second"],
        "one run's work was lost"
    );
    let pulled: serde_json::Value =
        serde_json::from_str(&ok(&run(&moto, dir, &["state", "pull"]), "state pull")).unwrap();
    assert!(
        pulled["serial"].as_u64().unwrap_or(0) >= 2,
        "the serial does not show both runs: {}",
        pulled["serial"]
    );
}

#[test]
fn init_migrate_state_moves_local_state_to_s3() {
    let moto = Moto::start();
    create_bucket(&moto, "migrated-state");
    let temp = tempfile::tempdir().unwrap();
    let dir = temp.path();
    std::fs::write(
        dir.join("main.tf"),
        "resource \"terraform_data\" \"kept\" {\n  input = \"x\"\n}\n",
    )
    .unwrap();
    ok(&run(&moto, dir, &["apply", "-auto-approve"]), "local apply");
    std::fs::write(
        dir.join("backend.tf"),
        "terraform {\n  backend \"s3\" {\n    bucket = \"migrated-state\"\n    key    = \"m/terraform.tfstate\"\n    region = \"us-east-1\"\n  }\n}\n",
    )
    .unwrap();
    let endpoint = format!("-backend-config=endpoint={}", moto.endpoint);
    // Without -migrate-state, init refuses to silently leave the local state behind.
    let refused = run(
        &moto,
        dir,
        &["init", &endpoint, "-backend-config=use_path_style=true"],
    );
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("-migrate-state"));
    ok(
        &run(
            &moto,
            dir,
            &[
                "init",
                "-migrate-state",
                &endpoint,
                "-backend-config=use_path_style=true",
            ],
        ),
        "init -migrate-state",
    );
    // The state now comes from S3: move the local file away to be sure.
    std::fs::rename(dir.join("terraform.tfstate"), dir.join("old.tfstate")).unwrap();
    assert_eq!(
        ok(&run(&moto, dir, &["state", "list"]), "state list").trim(),
        "terraform_data.kept"
    );
    let plan = run(&moto, dir, &["plan", "-detailed-exitcode"]);
    assert_eq!(
        plan.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&plan.stdout)
    );
}

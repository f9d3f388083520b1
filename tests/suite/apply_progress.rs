//! The apply progress lines against Terraform 1.15.5: the same configuration of
//! `terraform_data` resources (built into both tools, so nothing is downloaded) created, updated
//! in place, replaced (destroy first, and create_before_destroy with its deposed object) and
//! destroyed by both, comparing every progress line per address, in order, with ids, deposed
//! keys and times normalised: `Destroying... [id=…]`, `Modifying... [id=…]`,
//! `Creation complete after 0s [id=…]`, `Destruction complete after 0s`, and the `Still
//! creating... [00m10s elapsed]` / `Still destroying... [id=…, 00m10s elapsed]` lines while a
//! provisioner runs (Terraform counts a provisioner's time as its resource's operation's).

use crate::common::{strata_in, terraform, text};
use std::collections::BTreeMap;
use std::path::Path;
use std::process::Output;

const MAIN_TF: &str = r#"
variable "input" {
  type    = string
  default = "one"
}

resource "terraform_data" "updated" {
  input = var.input
}

resource "terraform_data" "replaced" {
  input            = "fixed"
  triggers_replace = var.input
}

resource "terraform_data" "created_first" {
  input            = "fixed"
  triggers_replace = var.input

  lifecycle {
    create_before_destroy = true
  }
}
"#;

/// Every apply progress line per address, in order: ids, deposed keys and times normalised.
fn progress_lines(output: &Output) -> BTreeMap<String, Vec<String>> {
    let uuid =
        regex::Regex::new(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}").unwrap();
    let deposed = regex::Regex::new(r"\(deposed object [0-9a-f]+\)").unwrap();
    let after = regex::Regex::new(r"after \d+s").unwrap();
    let elapsed = regex::Regex::new(r"\d\dm\d\ds elapsed").unwrap();
    let progress = regex::Regex::new(
        r"^(\S+?)(?: \(deposed object \S+\))?: (?:Creating|Modifying|Destroying|Still \w+|Creation complete|Modifications complete|Destruction complete)",
    )
    .unwrap();
    let mut lines: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for line in String::from_utf8_lossy(&output.stdout).lines() {
        if let Some(captures) = progress.captures(line) {
            let line = uuid.replace_all(line, "<id>");
            let line = deposed.replace_all(&line, "(deposed object <key>)");
            let line = after.replace_all(&line, "after <t>");
            let line = elapsed.replace_all(&line, "<t> elapsed");
            lines
                .entry(captures[1].to_string())
                .or_default()
                .push(line.to_string());
        }
    }
    lines
}

/// Runs one command with both tools and compares their progress lines.
fn assert_same_progress(tf_dir: &Path, strata_dir: &Path, args: &[&str]) -> String {
    let terraform = terraform(tf_dir, args);
    let strata = strata_in(strata_dir, args);
    assert!(terraform.status.success(), "{}", text(&terraform));
    assert!(strata.status.success(), "{}", text(&strata));
    pretty_assertions::assert_eq!(
        progress_lines(&terraform),
        progress_lines(&strata),
        "{args:?}: progress lines differ (left: terraform, right: strata)\n-- strata --\n{}",
        text(&strata)
    );
    text(&strata)
}

#[test]
fn apply_progress_lines_are_terraforms() {
    let temp = tempfile::tempdir().unwrap();
    let (tf_dir, strata_dir) = (temp.path().join("terraform"), temp.path().join("strata"));
    for dir in [&tf_dir, &strata_dir] {
        std::fs::create_dir_all(dir).unwrap();
        std::fs::write(dir.join("main.tf"), MAIN_TF).unwrap();
    }
    let init = terraform(&tf_dir, &["init", "-no-color"]);
    assert!(init.status.success(), "{}", text(&init));

    let created = assert_same_progress(
        &tf_dir,
        &strata_dir,
        &["apply", "-auto-approve", "-no-color"],
    );
    assert!(
        created.contains("terraform_data.updated: Creating...\n"),
        "{created}"
    );
    let changed = assert_same_progress(
        &tf_dir,
        &strata_dir,
        &["apply", "-auto-approve", "-no-color", "-var", "input=two"],
    );
    for expected in [
        "terraform_data.updated: Modifying... [id=",
        "terraform_data.replaced: Destroying... [id=",
    ] {
        assert!(changed.contains(expected), "{changed}");
    }
    assert!(
        regex::Regex::new(
            r"terraform_data\.created_first \(deposed object [0-9a-f]+\): Destroying\.\.\. \[id="
        )
        .unwrap()
        .is_match(&changed),
        "{changed}"
    );
    let destroyed = assert_same_progress(
        &tf_dir,
        &strata_dir,
        &["destroy", "-auto-approve", "-no-color", "-var", "input=two"],
    );
    assert!(
        destroyed.contains("terraform_data.updated: Destruction complete after "),
        "{destroyed}"
    );
}

const SLOW_PROVISIONERS_TF: &str = r#"
resource "terraform_data" "slow" {
  input = "slow"

  provisioner "local-exec" {
    command = "sleep 12"
  }

  provisioner "local-exec" {
    when    = destroy
    command = "sleep 12"
  }
}
"#;

#[test]
fn still_lines_while_provisioners_run_are_terraforms() {
    let temp = tempfile::tempdir().unwrap();
    let (tf_dir, strata_dir) = (temp.path().join("terraform"), temp.path().join("strata"));
    for dir in [&tf_dir, &strata_dir] {
        std::fs::create_dir_all(dir).unwrap();
        std::fs::write(dir.join("main.tf"), SLOW_PROVISIONERS_TF).unwrap();
    }
    let init = terraform(&tf_dir, &["init", "-no-color"]);
    assert!(init.status.success(), "{}", text(&init));
    let created = assert_same_progress(
        &tf_dir,
        &strata_dir,
        &["apply", "-auto-approve", "-no-color"],
    );
    assert!(
        created.contains("terraform_data.slow: Still creating... [00m"),
        "{created}"
    );
    let destroyed = assert_same_progress(
        &tf_dir,
        &strata_dir,
        &["destroy", "-auto-approve", "-no-color"],
    );
    assert!(
        regex::Regex::new(
            r"terraform_data\.slow: Still destroying\.\.\. \[id=[0-9a-f-]{36}, 00m\d\ds elapsed\]"
        )
        .unwrap()
        .is_match(&destroyed),
        "{destroyed}"
    );
}

/// The `apply_start` and `apply_complete` messages of `apply -json` (message, `id_key`,
/// `id_value`), normalised and sorted (concurrent operations print in any order).
fn json_progress(output: &Output) -> Vec<String> {
    let uuid =
        regex::Regex::new(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}").unwrap();
    let deposed = regex::Regex::new(r"\(deposed object [0-9a-f]+\)").unwrap();
    let after = regex::Regex::new(r"after \d+s").unwrap();
    let mut messages: Vec<String> = String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter(|message| {
            matches!(
                message["type"].as_str(),
                Some("apply_start" | "apply_complete")
            )
        })
        .map(|message| {
            let line = format!(
                "{} {} {}",
                message["@message"], message["hook"]["id_key"], message["hook"]["id_value"]
            );
            let line = uuid.replace_all(&line, "<id>");
            let line = deposed.replace_all(&line, "(deposed object <key>)");
            after.replace_all(&line, "after <t>").to_string()
        })
        .collect();
    messages.sort();
    messages
}

#[test]
fn machine_readable_apply_progress_names_objects_as_terraform_does() {
    let temp = tempfile::tempdir().unwrap();
    let (tf_dir, strata_dir) = (temp.path().join("terraform"), temp.path().join("strata"));
    for dir in [&tf_dir, &strata_dir] {
        std::fs::create_dir_all(dir).unwrap();
        std::fs::write(dir.join("main.tf"), MAIN_TF).unwrap();
    }
    let init = terraform(&tf_dir, &["init", "-no-color"]);
    assert!(init.status.success(), "{}", text(&init));
    assert_same_progress(
        &tf_dir,
        &strata_dir,
        &["apply", "-auto-approve", "-no-color"],
    );
    let args = ["apply", "-auto-approve", "-json", "-var", "input=two"];
    let terraform = terraform(&tf_dir, &args);
    let strata = strata_in(&strata_dir, &args);
    assert!(terraform.status.success(), "{}", text(&terraform));
    let messages = json_progress(&strata);
    assert!(
        messages
            .iter()
            .any(|m| m.contains("Modifying... [id=<id>]") && m.contains("\"id\" \"<id>\"")),
        "{messages:#?}"
    );
    pretty_assertions::assert_eq!(json_progress(&terraform), messages);
}

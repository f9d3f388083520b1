//! `strata drift`: one refresh-only plan per environment (directory and workspace), one report
//! as Markdown and JSON, exit code 2 when any drifted and 1 when any check failed. The fake
//! provider's objects (files in its store) are changed behind Strata's back.

use crate::common::strata;
use serde_json::Value as Json;
use std::path::Path;
use std::process::{Command, Output};

fn run(dir: &Path, store: &Path, args: &[&str]) -> Output {
    Command::new(strata())
        .args(args)
        .current_dir(dir)
        .env("STRATA_FAKE_STORE", store)
        .output()
        .expect("run strata")
}

/// Changes an attribute of the fake object whose `name` is `name`, as someone with console
/// access would.
fn change_behind_strata(store: &Path, name: &str, attribute: &str, value: &str) {
    for entry in std::fs::read_dir(store).expect("the fake store").flatten() {
        if entry.path().extension().is_none_or(|e| e != "json") {
            continue;
        }
        let text = std::fs::read_to_string(entry.path()).expect("a fake object");
        let mut object: Json = serde_json::from_str(&text).expect("JSON");
        if object["name"] == name {
            object[attribute] = Json::String(value.into());
            std::fs::write(entry.path(), object.to_string()).expect("write the object");
            return;
        }
    }
    panic!("no fake object named {name}");
}

#[test]
fn drift_checks_every_environment_and_reports_once() {
    let temp = tempfile::tempdir().expect("a temporary directory");
    let (root, store) = (temp.path().join("repo"), temp.path().join("store"));
    for env in ["dev", "prod"] {
        let dir = root.join("environments").join(env);
        std::fs::create_dir_all(&dir).expect("create the environment");
        std::fs::write(
            dir.join("main.tf"),
            format!("resource \"fake_resource\" \"web\" {{\n  name  = \"{env}-web\"\n  value = \"v1\"\n}}\n"),
        )
        .expect("write main.tf");
        let output = run(&dir, &store, &["apply", "-auto-approve"]);
        assert!(output.status.success(), "{output:?}");
    }
    let args = [
        "drift",
        "-markdown=drift.md",
        "-json-report=drift.json",
        "environments/dev",
        "environments/prod",
    ];
    let output = run(&root, &store, &args);
    assert_eq!(output.status.code(), Some(0), "{output:?}");

    change_behind_strata(&store, "dev-web", "value", "changed-in-the-console");
    let output = run(&root, &store, &args);
    assert_eq!(output.status.code(), Some(2), "{output:?}");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains(
            "environments/dev (default): 1 object(s) changed outside of Strata: fake_resource.web"
        ),
        "{stdout}"
    );
    assert!(
        stdout.contains("environments/prod (default): no drift"),
        "{stdout}"
    );
    let report: Json =
        serde_json::from_str(&std::fs::read_to_string(root.join("drift.json")).unwrap()).unwrap();
    assert_eq!(report["environments"][0]["status"], "drifted");
    assert_eq!(
        report["environments"][0]["resources"],
        serde_json::json!([{"address": "fake_resource.web", "action": "update", "attributes": ["value"]}])
    );
    assert_eq!(report["environments"][1]["status"], "in_sync");
    let markdown = std::fs::read_to_string(root.join("drift.md")).unwrap();
    let id = regex::Regex::new(r"fake-[0-9a-f]{12}").unwrap();
    insta::assert_snapshot!(id.replace_all(&markdown, "<id>"));

    // A refresh-only plan changes nothing: the drift is still there, and the state untouched.
    let output = run(&root, &store, &args);
    assert_eq!(output.status.code(), Some(2), "{output:?}");

    // An environment that cannot be checked is an error (exit 1), reported with the others.
    std::fs::write(
        root.join("environments/prod/main.tf"),
        "resource \"fake_resource\" {\n",
    )
    .unwrap();
    let output = run(&root, &store, &args);
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    let report: Json =
        serde_json::from_str(&std::fs::read_to_string(root.join("drift.json")).unwrap()).unwrap();
    assert_eq!(report["environments"][0]["status"], "drifted");
    assert_eq!(report["environments"][1]["status"], "error");
}

//! `show -json PLANFILE` key for key against Terraform 1.15.5 (`common::terraform`): each step
//! of `tests/fixtures/show-json/` (one `.tf` per step, in name order: creates, no-ops, an
//! update, a destroy, with outputs and without) is planned with `-out` by both tools in two
//! working directories, and the two JSON documents must be equal once the timestamp, the
//! random `terraform_data` ids and the order of `relevant_attributes` (Terraform's is not
//! stable) are normalized. A step whose file says `# args: -destroy` plans with that flag; one
//! that says `# then: apply` is applied by each tool before the next step.

use crate::common::{fixtures, strata, terraform};
use serde_json::Value as Json;
use std::path::Path;
use std::process::{Command, Output};

fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

fn run(tool: &str, dir: &Path, args: &[&str]) -> String {
    let output = match tool {
        "strata" => Command::new(strata())
            .args(args)
            .current_dir(dir)
            .output()
            .expect("run strata"),
        _ => terraform(dir, args),
    };
    assert!(
        output.status.success(),
        "{tool} {args:?}:\n{}",
        text(&output)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// The document with what differs between any two runs made equal.
fn normalized(mut document: Json) -> Json {
    fn ids(node: &mut Json) {
        match node {
            Json::Object(map) => {
                for (key, value) in map.iter_mut() {
                    if key == "id" && value.is_string() {
                        *value = Json::String("<id>".into());
                    } else {
                        ids(value);
                    }
                }
            }
            Json::Array(items) => items.iter_mut().for_each(ids),
            _ => {}
        }
    }
    let map = document.as_object_mut().expect("a JSON object");
    map.remove("timestamp");
    if let Some(Json::Array(attributes)) = map.get_mut("relevant_attributes") {
        attributes.sort_by_key(|a| a.to_string());
    }
    ids(&mut document);
    document
}

#[test]
fn show_json_of_saved_plans_matches_terraform_key_for_key() {
    let temp = tempfile::tempdir().expect("a temporary directory");
    let ours = temp.path().join("strata");
    let theirs = temp.path().join("terraform");
    let mut steps: Vec<_> = std::fs::read_dir(fixtures("show-json"))
        .expect("the fixtures")
        .flatten()
        .map(|entry| entry.path())
        .filter(|path| path.extension().is_some_and(|e| e == "tf"))
        .collect();
    steps.sort();
    assert!(steps.len() >= 6, "{steps:?}");
    for (index, step) in steps.iter().enumerate() {
        let main_tf = std::fs::read_to_string(step).expect("a step");
        let name = step.file_name().unwrap().to_string_lossy().to_string();
        let mut plan = vec!["plan", "-no-color", "-out=plan.bin"];
        if main_tf.contains("# args: -destroy") {
            plan.push("-destroy");
        }
        let mut documents = Vec::new();
        for (tool, dir) in [("strata", &ours), ("terraform", &theirs)] {
            std::fs::create_dir_all(dir).unwrap();
            std::fs::write(dir.join("main.tf"), &main_tf).unwrap();
            if index == 0 {
                run(tool, dir, &["init", "-no-color"]);
            }
            run(tool, dir, &plan);
            let shown = run(tool, dir, &["show", "-json", "plan.bin"]);
            let document: Json = serde_json::from_str(&shown)
                .unwrap_or_else(|e| panic!("{tool} {name}: {e}: {shown}"));
            documents.push(normalized(document));
        }
        assert!(
            documents[0] == documents[1],
            "step {name}: Strata's show -json differs from Terraform's:\nstrata: {:#}\nterraform: {:#}",
            documents[0],
            documents[1]
        );
        if main_tf.contains("# then: apply") {
            run("strata", &ours, &["apply", "-no-color", "plan.bin"]);
            run("terraform", &theirs, &["apply", "-no-color", "plan.bin"]);
        }
    }
}

/// Where a module's resources point (`provider_config_key`) and which `provider_config` entries
/// exist when modules inherit a provider, as Terraform's `jsonconfig` resolves them: each case
/// of `tests/fixtures/show-json-modules/` (a root, a module `m` and its module `n`, all using
/// `terraform_data`'s provider without configuring it) planned by both tools, the whole
/// documents compared.
#[test]
fn show_json_of_modules_resolves_inherited_providers_as_terraform_does() {
    let temp = tempfile::tempdir().expect("a temporary directory");
    let mut cases: Vec<_> = std::fs::read_dir(fixtures("show-json-modules"))
        .expect("the fixtures")
        .flatten()
        .map(|entry| entry.path())
        .collect();
    cases.sort();
    assert_eq!(cases.len(), 3, "{cases:?}");
    for case in cases {
        let name = case.file_name().unwrap().to_string_lossy().to_string();
        let mut documents = Vec::new();
        for tool in ["strata", "terraform"] {
            let dir = temp.path().join(format!("{name}-{tool}"));
            crate::common::copy_tree(&case, &dir);
            run(tool, &dir, &["init", "-no-color"]);
            run(tool, &dir, &["plan", "-no-color", "-out=plan.bin"]);
            let shown = run(tool, &dir, &["show", "-json", "plan.bin"]);
            let document: Json = serde_json::from_str(&shown)
                .unwrap_or_else(|e| panic!("{tool} {name}: {e}: {shown}"));
            documents.push(normalized(document));
        }
        assert!(
            documents[0] == documents[1],
            "case {name}: Strata's show -json differs from Terraform's:\nstrata: {:#}\nterraform: {:#}",
            documents[0]["configuration"],
            documents[1]["configuration"]
        );
    }
}

//! `-target` compared with Terraform 1.15.5 on the same configuration (`terraform_data` only, so
//! both tools run it offline): which resources and outputs each plan changes (`show -json` of the
//! saved plan), the warnings, and the outputs recorded after applying that plan.
//! The configurations are under `tests/fixtures/targeting/`.

use crate::common::{copy_tree, fixtures, strata, terraform, text};
use serde_json::Value as Json;
use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Output};

struct Case {
    fixture: &'static str,
    /// Applied in full (no target) before the targeted run.
    applied_first: bool,
    /// A text replaced in `main.tf` before the targeted run.
    edit: Option<(&'static str, &'static str)>,
    /// The targeted plan's arguments (after `plan -out=tfplan`).
    plan: &'static [&'static str],
}

/// One tool, as a function of a directory and arguments.
type Tool = fn(&Path, &[&str]) -> Output;

fn strata_in(dir: &Path, args: &[&str]) -> Output {
    Command::new(strata())
        .args(args)
        .current_dir(dir)
        .output()
        .expect("run strata")
}

fn run_ok(tool: Tool, dir: &Path, args: &[&str]) -> String {
    let output = tool(dir, args);
    assert!(
        output.status.success(),
        "{args:?} failed:\n{}",
        text(&output)
    );
    text(&output)
}

/// What a saved plan changes: `address → actions` for resources and for outputs, and `complete`.
#[derive(Debug, PartialEq)]
struct Changes {
    resources: BTreeMap<String, Json>,
    outputs: BTreeMap<String, Json>,
    complete: Json,
}

fn changes(tool: Tool, dir: &Path) -> Changes {
    let json: Json = serde_json::from_str(&run_ok(tool, dir, &["show", "-json", "tfplan"]))
        .expect("show -json prints JSON");
    let resources = json["resource_changes"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|c| c["change"]["actions"] != serde_json::json!(["no-op"]))
        .map(|c| {
            (
                c["address"].as_str().unwrap_or("").to_string(),
                c["change"]["actions"].clone(),
            )
        })
        .collect();
    let outputs = json["output_changes"]
        .as_object()
        .into_iter()
        .flatten()
        .filter(|(_, c)| c["actions"] != serde_json::json!(["no-op"]))
        .map(|(name, c)| (name.clone(), c["actions"].clone()))
        .collect();
    Changes {
        resources,
        outputs,
        complete: json["complete"].clone(),
    }
}

/// The recorded outputs, name → value.
fn outputs(tool: Tool, dir: &Path) -> BTreeMap<String, Json> {
    let json: Json = serde_json::from_str(&run_ok(tool, dir, &["output", "-json"]))
        .expect("output -json prints JSON");
    json.as_object()
        .into_iter()
        .flatten()
        .map(|(name, o)| (name.clone(), o["value"].clone()))
        .collect()
}

/// A warning's text as one line, from its summary through the sentence ending in `last`, with
/// the product's name and the box Strata draws taken out.
fn warning(output: &str, summary: &str, last: &str) -> String {
    let flat: String = output
        .replace(['│', '╷', '╵'], " ")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .replace("Terraform", "TOOL")
        .replace("Strata", "TOOL")
        .replace("terraform plan", "TOOL plan")
        .replace("strata plan", "TOOL plan");
    let start = flat
        .find(summary)
        .unwrap_or_else(|| panic!("no warning \"{summary}\" in:\n{output}"));
    let end = flat[start..]
        .find(last)
        .unwrap_or_else(|| panic!("warning \"{summary}\" does not end in \"{last}\":\n{output}"));
    flat[start..start + end + last.len()].to_string()
}

fn run_case(case: &Case) {
    let temp = tempfile::tempdir().expect("a temporary directory");
    let tools: [(&str, Tool); 2] = [("terraform", terraform), ("strata", strata_in)];
    let mut seen = Vec::new();
    for (name, tool) in tools {
        let dir = temp.path().join(name);
        copy_tree(&fixtures("targeting").join(case.fixture), &dir);
        if name == "terraform" {
            run_ok(tool, &dir, &["init", "-no-color", "-input=false"]);
        }
        if case.applied_first {
            run_ok(tool, &dir, &["apply", "-no-color", "-auto-approve"]);
        }
        if let Some((from, to)) = case.edit {
            let main = dir.join("main.tf");
            let text = std::fs::read_to_string(&main).expect("read main.tf");
            assert!(text.contains(from), "{from} not in {}", case.fixture);
            std::fs::write(&main, text.replace(from, to)).expect("write main.tf");
        }
        let mut args = vec!["plan", "-no-color", "-out=tfplan"];
        args.extend(case.plan);
        let plan_text = run_ok(tool, &dir, &args);
        let changes = changes(tool, &dir);
        let apply_text = run_ok(tool, &dir, &["apply", "-no-color", "tfplan"]);
        seen.push((
            changes,
            warning(
                &plan_text,
                "Resource targeting is in effect",
                "part of an error message.",
            ),
            warning(
                &apply_text,
                "Applied changes may be incomplete",
                "part of an error message.",
            ),
            outputs(tool, &dir),
        ));
    }
    let (terraform, strata) = (&seen[0], &seen[1]);
    pretty_assertions::assert_eq!(strata.0, terraform.0, "{}: plan changes", case.fixture);
    assert_eq!(strata.1, terraform.1, "{}: plan warning", case.fixture);
    assert_eq!(strata.2, terraform.2, "{}: apply warning", case.fixture);
    pretty_assertions::assert_eq!(strata.3, terraform.3, "{}: recorded outputs", case.fixture);
}

/// `apply -target=terraform_data.net` before anything exists: the cluster is not created, and
/// the outputs reading it are neither evaluated (no "Attempt to get attribute from null value")
/// nor recorded; `net` is.
#[test]
fn an_output_on_an_untargeted_new_resource_is_skipped() {
    run_case(&Case {
        fixture: "network_first",
        applied_first: false,
        edit: None,
        plan: &["-target=terraform_data.net"],
    });
}

/// Both resources exist and both changed; only the targeted one is planned, and the outputs on
/// the other keep their recorded values.
#[test]
fn an_output_on_an_untargeted_existing_resource_keeps_its_value() {
    run_case(&Case {
        fixture: "network_first",
        applied_first: true,
        edit: Some(("-1", "-2")),
        plan: &["-target=terraform_data.net"],
    });
}

/// `-target=module.vpc`: the module's resources, and the root output that reads only the module.
#[test]
fn a_module_target_bootstraps_the_network_first() {
    run_case(&Case {
        fixture: "module_vpc",
        applied_first: false,
        edit: None,
        plan: &["-target=module.vpc"],
    });
}

/// `destroy -target`: the target and what depends on it go; the outputs stay recorded.
#[test]
fn a_destroy_target_takes_its_dependents_and_leaves_the_outputs() {
    run_case(&Case {
        fixture: "network_first",
        applied_first: true,
        edit: None,
        plan: &["-destroy", "-target=terraform_data.net"],
    });
}

/// `-target=terraform_data.node[1]` before anything exists: only that instance is created.
#[test]
fn an_instance_target_creates_only_that_instance() {
    run_case(&Case {
        fixture: "instances",
        applied_first: false,
        edit: None,
        plan: &["-target=terraform_data.node[1]"],
    });
}

/// Every instance changed; `-target=terraform_data.node[1]` updates only that one.
#[test]
fn an_instance_target_changes_only_that_instance() {
    run_case(&Case {
        fixture: "instances",
        applied_first: true,
        edit: Some(("-v1", "-v2")),
        plan: &["-target=terraform_data.node[1]"],
    });
}

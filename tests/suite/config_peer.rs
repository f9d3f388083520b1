//! JSON syntax (`.tf.json`, `.tfvars.json`) and override files, compared with real Terraform:
//! every case folder under `tests/fixtures/config-json/` and `tests/fixtures/override/` holds a
//! configuration and `terraform.golden.json`, what Terraform 1.15.5 made of it
//! (`scripts/config-peer-goldens.sh` regenerates them): either its errors (summary and
//! `file:line:column`) or its planned output values and resource actions. Strata runs
//! `validate -json`, then `plan` and `show -json`, on a copy of the folder and must give the same.
//!
//! A case may also hold `native/`, the same configuration in the native syntax (HCL): it must
//! plan the same. A case may hold `differences.txt`, saying why Strata reports only some of
//! Terraform's errors (say, after a JSON syntax error Terraform reads on and reports more).

use crate::common::{copy_tree, fixtures, strata};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::Command;

fn cases() -> Vec<PathBuf> {
    let mut cases = Vec::new();
    for area in ["config-json", "override"] {
        for entry in std::fs::read_dir(fixtures(area)).expect("fixture folder") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                cases.push(path);
            }
        }
    }
    cases.sort();
    assert!(cases.len() >= 10, "the fixture cases are missing");
    cases
}

fn run(dir: &Path, args: &[&str]) -> std::process::Output {
    Command::new(strata())
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .output()
        .expect("run strata")
}

/// Strata's result on a configuration folder, in the form of `terraform.golden.json`.
fn strata_result(dir: &Path) -> Value {
    let validate = run(dir, &["validate", "-json"]);
    let validate: Value = serde_json::from_slice(&validate.stdout).unwrap_or_else(|error| {
        panic!(
            "validate -json printed no JSON ({error}): {}",
            String::from_utf8_lossy(&validate.stderr)
        )
    });
    let mut errors: Vec<Value> = validate["diagnostics"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|d| d["severity"] == "error")
        .map(|d| {
            json!({
                "summary": d["summary"],
                "file": d["span"]["file"],
                "line": d["span"]["start"]["line"],
                "column": d["span"]["start"]["column"],
            })
        })
        .collect();
    if !errors.is_empty() {
        errors.sort_by_key(|e| {
            (
                e["file"].to_string(),
                e["line"].as_u64(),
                e["column"].as_u64(),
            )
        });
        return json!({ "errors": errors });
    }
    let plan = run(dir, &["plan", "-input=false", "-out=plan.bin"]);
    if !plan.status.success() {
        eprintln!("{}", String::from_utf8_lossy(&plan.stderr));
        return json!({ "errors": [{"summary": "plan failed", "file": null, "line": null, "column": null}] });
    }
    let show = run(dir, &["show", "-json", "plan.bin"]);
    let plan: Value = serde_json::from_slice(&show.stdout).expect("show -json prints JSON");
    let outputs: serde_json::Map<String, Value> = plan["planned_values"]["outputs"]
        .as_object()
        .into_iter()
        .flatten()
        .map(|(name, output)| {
            (
                name.clone(),
                json!({ "value": output["value"], "sensitive": output["sensitive"].as_bool().unwrap_or(false) }),
            )
        })
        .collect();
    let mut resources: Vec<Value> = plan["resource_changes"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|change| json!([change["address"], change["change"]["actions"]]))
        .collect();
    resources.sort_by_key(|r| r.to_string());
    json!({ "outputs": outputs, "resources": resources })
}

fn in_copy(case: &Path, what: impl FnOnce(&Path) -> Value) -> Value {
    let temp = tempfile::tempdir().expect("temporary directory");
    let dir = temp.path().join("case");
    copy_tree(case, &dir);
    let _ = std::fs::remove_file(dir.join("terraform.golden.json"));
    what(&dir)
}

/// The errors' locations (file, line, column).
fn locations(result: &Value) -> Vec<String> {
    result["errors"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|e| format!("{}:{}:{}", e["file"], e["line"], e["column"]))
        .collect()
}

#[test]
fn json_syntax_and_override_files_match_terraform() {
    let mut failures = Vec::new();
    for case in cases() {
        let name = case.display().to_string();
        let golden: Value = serde_json::from_str(
            &std::fs::read_to_string(case.join("terraform.golden.json")).expect("a golden file"),
        )
        .expect("golden JSON");
        let mut ours = in_copy(&case, strata_result);
        if golden.get("errors").is_some() {
            let expected = locations(&golden);
            let found = locations(&ours);
            let matches = if case.join("differences.txt").exists() {
                !found.is_empty() && found.iter().all(|f| expected.contains(f))
            } else {
                found == expected
            };
            // Summaries are compared where Strata claims Terraform's wording (overrides).
            let summaries = |r: &Value| -> Vec<String> {
                r["errors"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|e| e["summary"].to_string())
                    .collect()
            };
            if !matches || (name.contains("override") && summaries(&ours) != summaries(&golden)) {
                failures.push(format!(
                    "{name}:\n  terraform: {golden}\n  strata:    {ours}"
                ));
            }
            continue;
        }
        // Strata's show -json holds a number as JSON does; compare numbers by value.
        normalize(&mut ours);
        let mut golden = golden;
        normalize(&mut golden);
        if ours != golden {
            failures.push(format!(
                "{name}:\n  terraform: {golden}\n  strata:    {ours}"
            ));
        }
        if case.join("native").is_dir() {
            let mut native = in_copy(&case.join("native"), strata_result);
            normalize(&mut native);
            if native != golden {
                failures.push(format!(
                    "{name}/native (HCL spelling):\n  terraform: {golden}\n  strata:    {native}"
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Numbers as f64 text, so `1e3` and `1000` compare equal (both tools print JSON numbers).
fn normalize(value: &mut Value) {
    match value {
        Value::Number(number) => {
            if let Some(float) = number.as_f64() {
                *value = Value::String(format!("{float:e}"));
            }
        }
        Value::Array(items) => items.iter_mut().for_each(normalize),
        Value::Object(map) => map.values_mut().for_each(normalize),
        _ => {}
    }
}

/// The emulator settings the real modules' README tells Terraform users to put beside an
/// example, in `zz_override.tf`.
const EMULATOR_OVERRIDE: &str = r#"provider "aws" {
  region                      = "us-east-1"
  access_key                  = "test"
  secret_key                  = "test"
  skip_credentials_validation = true
  skip_requesting_account_id  = true
  skip_metadata_api_check     = true
  endpoints {
    iam = "http://127.0.0.1:1"
    sts = "http://127.0.0.1:1"
  }
}
"#;

/// A copy of the real terraform-aws-iam 4.6.0 release (`../shared/real-modules`) with the
/// emulator override beside its `iam-policy` example; the example's folder.
fn real_example_with_override(temp: &Path) -> PathBuf {
    let release = crate::common::repo_root()
        .join("../shared/real-modules/terraform-aws-iam-4.6.0")
        .canonicalize()
        .expect("the real modules are in ../shared/real-modules (see its README)");
    let copy = temp.join("terraform-aws-iam");
    copy_tree(&release, &copy);
    let example = copy.join("examples/iam-policy");
    std::fs::write(example.join("zz_override.tf"), EMULATOR_OVERRIDE).expect("write override");
    example
}

#[test]
fn a_real_example_loads_with_an_emulator_override_beside_it() {
    let temp = tempfile::tempdir().expect("temporary directory");
    let example = real_example_with_override(temp.path());
    let mut sources = strata::diagnostics::SourceMap::new();
    let tree = strata::config::load_tree(&example, &mut sources)
        .unwrap_or_else(|errors| panic!("{}", errors.render(&sources, false)));
    let providers = &tree.module.providers;
    assert_eq!(
        providers.len(),
        1,
        "the override merges into the example's provider"
    );
    let body = &providers[0].body.body;
    let region = body.get_attribute("region").expect("region");
    assert_eq!(region.value.to_string().trim(), "\"us-east-1\"");
    assert!(body.get_attribute("skip_credentials_validation").is_some());
    assert_eq!(body.get_blocks("endpoints").count(), 1);
    // Positions of merged arguments point into the file that wrote them.
    let span = providers[0].body.file.span(
        body.get_attribute("access_key")
            .and_then(|a| hcl_edit::Span::span(&a.key))
            .expect("span"),
    );
    assert!(span.file.ends_with("zz_override.tf"), "{span}");
    assert_eq!(span.start.line, 3);
}

/// With the AWS provider built in: terraform-aws-security-group's `rules-only` example, with the
/// emulator override beside it, validates except for the one type it uses that Strata does not
/// have yet (`data "aws_security_group"`): nothing about the override, the provider
/// configuration or any argument. When that data source is added this test says so.
#[cfg(feature = "aws")]
#[test]
fn a_real_example_validates_with_an_emulator_override_beside_it() {
    let temp = tempfile::tempdir().expect("temporary directory");
    let release = crate::common::repo_root()
        .join("../shared/real-modules/terraform-aws-security-group-4.6.1")
        .canonicalize()
        .expect("the real modules are in ../shared/real-modules (see its README)");
    let copy = temp.path().join("terraform-aws-security-group");
    copy_tree(&release, &copy);
    let example = copy.join("examples/rules-only");
    std::fs::write(example.join("zz_override.tf"), EMULATOR_OVERRIDE).expect("write override");
    let output = run(&example, &["validate", "-json"]);
    let result: Value = serde_json::from_slice(&output.stdout).expect("validate -json");
    let errors: Vec<String> = result["diagnostics"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|d| format!("{}: {} ({})", d["summary"], d["detail"], d["span"]["file"]))
        .collect();
    assert_eq!(
        errors,
        vec![
            "\"Invalid data source\": \"The provider aws does not support data source \\\"aws_security_group\\\".\" (\"main.tf\")"
        ],
        "{}",
        errors.join("\n")
    );
}

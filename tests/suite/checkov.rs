//! checkov (PyPI `checkov` 3.x, installed by `scripts/ensure-checkov.sh`) on the JSON plans of
//! `environments/dev` and `environments/prod`, planned against the AWS API emulator. checkov
//! silently reports zero resources when the JSON lacks fields it needs, so the resource count it
//! saw is asserted first; then the findings: dev's unencrypted database fails CKV_AWS_16 and
//! prod's passes it.

use crate::common::{copy_tree, repo_root, strata, Moto};
use serde_json::Value as Json;
use std::path::Path;
use std::process::Command;

fn strata_ok(moto: &Moto, dir: &Path, args: &[&str]) -> String {
    let output = Command::new(strata())
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .envs(moto.env())
        .output()
        .expect("run strata");
    assert!(
        output.status.success(),
        "strata {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn checkov(plan: &Path) -> Json {
    let venv = Command::new("bash")
        .arg(repo_root().join("scripts/ensure-checkov.sh"))
        .stderr(std::process::Stdio::inherit())
        .output()
        .expect("run scripts/ensure-checkov.sh");
    assert!(venv.status.success(), "installing checkov failed");
    let venv = String::from_utf8_lossy(&venv.stdout).trim().to_string();
    let output = Command::new(format!("{venv}/bin/checkov"))
        .arg("-f")
        .arg(plan)
        .args([
            "--framework",
            "terraform_plan",
            "--skip-download",
            "-o",
            "json",
        ])
        .env("BC_SKIP_MAPPING", "TRUE")
        .output()
        .expect("run checkov");
    serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "checkov printed no JSON ({e}):\n{}\n{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        )
    })
}

/// The outcome (`passed`/`failed`) of one check on the resources whose address contains `what`.
fn outcomes(report: &Json, check: &str, what: &str) -> Vec<&'static str> {
    let mut found = Vec::new();
    for (key, outcome) in [("passed_checks", "passed"), ("failed_checks", "failed")] {
        for result in report["results"][key].as_array().into_iter().flatten() {
            if result["check_id"] == check
                && result["resource"].as_str().unwrap_or("").contains(what)
            {
                found.push(outcome);
            }
        }
    }
    found
}

#[test]
fn checkov_reads_the_environments_json_plans() {
    let moto = Moto::start();
    for env in ["dev", "prod"] {
        crate::environments_e2e::seed_db_password(&moto, env);
    }
    let temp = tempfile::tempdir().unwrap();
    copy_tree(
        &repo_root().join("environments"),
        &temp.path().join("environments"),
    );
    copy_tree(&repo_root().join("modules"), &temp.path().join("modules"));
    for (env, database) in [("dev", "failed"), ("prod", "passed")] {
        let dir = temp.path().join("environments").join(env);
        // Local state: checkov reads the plan, the backend does not matter here.
        std::fs::remove_file(dir.join("backend.tf")).unwrap();
        strata_ok(&moto, &dir, &["plan", "-out=tfplan"]);
        let json = strata_ok(&moto, &dir, &["show", "-json", "tfplan"]);
        let plan: Json = serde_json::from_str(&json).unwrap();
        let managed = plan["resource_changes"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| c["mode"] == "managed")
            .count() as u64;
        assert!(managed > 20, "{env}: only {managed} resources planned");
        std::fs::write(dir.join("plan.json"), &json).unwrap();
        let report = checkov(&dir.join("plan.json"));
        assert_eq!(
            report["summary"]["resource_count"].as_u64(),
            Some(managed),
            "{env}: checkov did not see every resource: {}",
            report["summary"]
        );
        assert_eq!(
            outcomes(&report, "CKV_AWS_16", "aws_db_instance"),
            vec![database],
            "{env}: CKV_AWS_16 (RDS encrypted at rest)"
        );
    }
}

//! `examples/gitops/local-pipeline.sh`, run end to end against the AWS API emulator: the three
//! branches promoted dev → stage → prod through simulated pull requests. Checked from its
//! results: each pull request's comment exists and fits a GitHub comment, each merge applied
//! exactly the plan saved for the pull request (the same counts, and nothing left to do after),
//! a second run on dev queued behind the apply holding dev's lock, and the drift job found the
//! change made behind Strata's back (exit code 2).

use crate::common::{repo_root, strata};
use std::path::Path;
use std::process::Command;

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// `(add, change, destroy)` from a line `... 28 to add, 0 to change, 0 to destroy.` or
/// `... 28 added, 0 changed, 0 destroyed.`
fn counts(text: &str, words: [&str; 3]) -> (u64, u64, u64) {
    let pattern = format!(
        r"(\d+) {}, (\d+) {}, (\d+) {}",
        words[0], words[1], words[2]
    );
    let captures = regex::Regex::new(&pattern)
        .unwrap()
        .captures(text)
        .unwrap_or_else(|| panic!("no counts ({pattern}) in:\n{text}"));
    let n = |i: usize| captures[i].parse().unwrap();
    (n(1), n(2), n(3))
}

#[test]
fn the_local_pipeline_promotes_queues_and_reports_drift() {
    let temp = tempfile::tempdir().unwrap();
    let output = Command::new("bash")
        .arg(repo_root().join("examples/gitops/local-pipeline.sh"))
        .arg(temp.path())
        .env("STRATA", strata())
        .output()
        .expect("run the local pipeline");
    let log = format!(
        "{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(output.status.success(), "the pipeline failed:\n{log}");
    let results = temp.path().join("results");

    for (pr, env) in [(1, "dev"), (2, "stage"), (3, "prod")] {
        let dir = results.join(format!("pr-{pr}"));
        let comment = read(&dir.join("comment.md"));
        assert!(
            comment.starts_with("### Strata plan: `default`"),
            "{env}: {comment}"
        );
        assert!(
            comment.chars().count() <= 65_536,
            "{env}: the comment does not fit"
        );
        assert!(
            !comment.contains("pipeline-"),
            "{env}: a secret in the comment"
        );
        let planned = counts(&comment, ["to add", "to change", "to destroy"]);
        assert!(planned.0 > 20, "{env}: {planned:?}");
        let applied = read(&dir.join("apply.txt"));
        assert_eq!(
            counts(&applied, ["added", "changed", "destroyed"]),
            planned,
            "{env}: the apply did not make the reviewed plan's changes:\n{applied}"
        );
        assert_eq!(
            read(&dir.join("replan.exit")).trim(),
            "0",
            "{env}: changes left after applying the saved plan:\n{}",
            read(&dir.join("replan.txt"))
        );
        let plan: serde_json::Value = serde_json::from_str(&read(&dir.join("plan.json"))).unwrap();
        assert_eq!(plan["format_version"], "1.2");
        if dir.join("checkov.json").exists() {
            let checkov: serde_json::Value =
                serde_json::from_str(&read(&dir.join("checkov.json"))).unwrap();
            assert!(
                checkov["summary"]["resource_count"].as_u64().unwrap_or(0) > 20,
                "{env}: checkov saw no resources: {}",
                checkov["summary"]
            );
        }
    }

    let waited = read(&results.join("lock-wait.log"));
    assert!(
        waited.contains("Acquiring state lock"),
        "the second run on dev did not queue behind the apply:\n{waited}"
    );
    // It ran after the apply finished: no error (0, or 2 for the drift below).
    assert_ne!(
        read(&results.join("lock-wait.exit")).trim(),
        "1",
        "{waited}"
    );

    assert_eq!(read(&results.join("drift.exit")).trim(), "2", "{log}");
    let drift: serde_json::Value =
        serde_json::from_str(&read(&results.join("drift.json"))).unwrap();
    let dev = &drift["environments"][0];
    assert_eq!(dev["dir"], "environments/dev");
    assert_eq!(dev["status"], "drifted", "{drift}");
    assert!(
        dev["resources"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["address"].as_str().unwrap_or("").contains("aws_vpc.")
                && r["attributes"].to_string().contains("tags")),
        "the VPC's tag change is not in the report: {drift}"
    );
    // Only dev's VPC was changed by hand. (Each environment also reports its NAT gateways'
    // EIPs: the NAT gateway associates them after they were created, and a refresh-only plan
    // shows that until an apply records it, as Terraform's does.)
    let stage = drift["environments"][1].to_string();
    assert!(!stage.contains("aws_vpc."), "{stage}");
    assert!(
        read(&results.join("drift.md")).contains("| `environments/dev` | `default` | drifted |")
    );
}

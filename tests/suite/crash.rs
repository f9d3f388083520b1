//! Crash safety: a `strata apply` killed with SIGKILL in the middle leaves a state that loads and
//! records every object the provider reports as created; the next apply finishes the job.

use crate::common::{strata, Workdir};
use std::collections::BTreeSet;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

/// The addresses of the objects the fake provider holds, from their `name` (`n-<index>`).
fn remote_addresses(store: &Path) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    if let Ok(entries) = std::fs::read_dir(store) {
        for entry in entries.flatten() {
            if entry.path().extension().is_some_and(|e| e == "json") {
                let object: serde_json::Value =
                    serde_json::from_str(&std::fs::read_to_string(entry.path()).unwrap()).unwrap();
                let name = object["name"].as_str().unwrap().to_string();
                let index = name.trim_start_matches("n-");
                out.insert(format!("fake_resource.n[{index}]"));
            }
        }
    }
    out
}

/// `strata apply -auto-approve` and `args`, in the background, its output captured (`piped`)
/// or dropped.
fn spawn_apply(work: &Path, store: &Path, args: &[&str], piped: bool) -> std::process::Child {
    let output = || if piped { Stdio::piped() } else { Stdio::null() };
    Command::new(strata())
        .args(["apply", "-auto-approve"])
        .args(args)
        .current_dir(work)
        .env("STRATA_FAKE_STORE", store)
        .stdout(output())
        .stderr(output())
        .spawn()
        .unwrap()
}

/// Polls until `ready` holds; fails the test with `what` after a minute.
fn wait_until(what: &str, mut ready: impl FnMut() -> bool) {
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while !ready() {
        assert!(std::time::Instant::now() < deadline, "{what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// What the state records: instances, and creates an interrupted run left pending.
fn state_list(work: &Path, store: &Path) -> BTreeSet<String> {
    let output = Command::new(strata())
        .args(["state", "list"])
        .current_dir(work)
        .env("STRATA_FAKE_STORE", store)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "state list failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    // Interrupted creates are named on stderr: the next apply adopts their objects.
    let pending = regex::Regex::new(r"the create of (\S+) was interrupted").unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr).to_string();
    let mut listed: BTreeSet<String> = pending
        .captures_iter(&stderr)
        .map(|c| c[1].to_string())
        .collect();
    listed.extend(
        String::from_utf8_lossy(&output.stdout)
            .lines()
            .map(str::to_string),
    );
    listed
}

#[test]
fn sigkill_during_apply_loses_nothing() {
    let dir = Workdir::new(
        "resource \"fake_resource\" \"n\" {\n  count      = 200\n  name       = \"n-${count.index}\"\n  latency_ms = 100\n}\n",
    );
    let (work, store) = (dir.work.clone(), dir.store.clone());
    let mut child = spawn_apply(&work, &store, &["-parallelism=4"], false);
    // Wait until some objects exist, then kill without warning.
    wait_until("apply made no progress", || {
        remote_addresses(&store).len() >= 8
    });
    child.kill().unwrap();
    let status = child.wait().unwrap();
    assert!(
        !status.success(),
        "the apply finished before it was killed; the test proves nothing"
    );

    let remote = remote_addresses(&store);
    let recorded = state_list(&work, &store);
    assert!(
        remote.len() < 200,
        "every object was created before the kill"
    );
    let missing: Vec<&String> = remote.difference(&recorded).collect();
    assert!(
        missing.is_empty(),
        "objects exist but the state does not record them: {missing:?}"
    );

    // The killed run's lock record is left behind, but no process holds its kernel lock: the
    // next run takes it over by itself and says so.
    let output = Command::new(strata())
        .args(["plan"])
        .current_dir(&work)
        .env("STRATA_FAKE_STORE", &store)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr).to_string();
    assert!(
        output.status.success() && stderr.contains("Took over the state lock"),
        "the stale lock was not taken over: {stderr}"
    );

    // The next apply creates the rest, and nothing twice.
    let output = Command::new(strata())
        .args(["apply", "-auto-approve"])
        .current_dir(&work)
        .env("STRATA_FAKE_STORE", &store)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "second apply failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(remote_addresses(&store).len(), 200);
    assert_eq!(state_list(&work, &store).len(), 200);
    let files = std::fs::read_dir(&store)
        .unwrap()
        .flatten()
        .filter(|e| e.path().extension().is_some_and(|x| x == "json"))
        .count();
    assert_eq!(files, 200, "an object was created twice");
}

/// Ctrl-C once: nothing new starts, what is running finishes and is recorded, and the run
/// reports the interruption; the state matches what exists.
#[test]
fn interrupt_finishes_running_operations_and_starts_nothing_new() {
    let dir = Workdir::new(
        "resource \"fake_resource\" \"n\" {\n  count      = 12\n  name       = \"n-${count.index}\"\n  latency_ms = 1500\n}\n",
    );
    let (work, store) = (dir.work.clone(), dir.store.clone());
    let child = spawn_apply(&work, &store, &["-parallelism=3"], true);
    // Interrupt once the apply is under way (its first objects exist, more are in flight).
    wait_until("apply made no progress", || {
        !remote_addresses(&store).is_empty()
    });
    let status = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        !output.status.success(),
        "an interrupted apply must not report success"
    );
    assert!(stderr.contains("Interrupt received"), "{stderr}");
    let remote = remote_addresses(&store);
    let recorded = state_list(&work, &store);
    assert!(
        !remote.is_empty() && remote.len() < 12,
        "expected some but not all created, got {}",
        remote.len()
    );
    assert_eq!(remote, recorded, "the state does not match what exists");
}

/// A long operation reports progress every ten seconds, as Terraform does.
#[test]
fn long_operations_report_that_they_are_still_running() {
    let dir = Workdir::new(
        "resource \"fake_resource\" \"slow\" {\n  name       = \"slow\"\n  latency_ms = 10600\n}\n",
    );
    let work = dir.work.clone();
    let output = Command::new(strata())
        .args(["apply", "-auto-approve", "-no-color"])
        .current_dir(&work)
        .env("STRATA_FAKE_STORE", dir.path().join("store"))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{stdout}");
    assert!(
        stdout.contains("fake_resource.slow: Still creating... [00m10s elapsed]"),
        "{stdout}"
    );
    assert!(
        stdout.contains("fake_resource.slow: Creation complete after 10s"),
        "{stdout}"
    );
}

/// The IDs of every object a state records, current and deposed, from `strata state pull`.
fn recorded_ids(work: &Path) -> BTreeSet<String> {
    let output = Command::new(strata())
        .args(["state", "pull"])
        .current_dir(work)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "state pull failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let state: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    state["resources"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|r| r["instances"].as_array().cloned().unwrap_or_default())
        .filter_map(|i| i["attributes"]["id"].as_str().map(str::to_string))
        .collect()
}

/// The IDs of the objects the fake provider holds.
fn remote_ids(store: &Path) -> BTreeSet<String> {
    std::fs::read_dir(store)
        .unwrap()
        .flatten()
        .filter(|e| e.path().extension().is_some_and(|x| x == "json"))
        .filter_map(|e| {
            e.path()
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
        })
        .collect()
}

/// A create_before_destroy replacement killed after the new object exists but while the old
/// one is being destroyed: the state records both (the old one as deposed), the next plan
/// destroys the deposed object, and the apply after that leaves exactly one.
#[test]
fn sigkill_between_the_halves_of_a_create_before_destroy_keeps_both_objects() {
    let temp = tempfile::tempdir().unwrap();
    let work = temp.path().join("work");
    let store = temp.path().join("store");
    std::fs::create_dir_all(&work).unwrap();
    // The fake provider takes an object's own latency to destroy it: the old object (2 s) is
    // slow to go, its successor (0 s) quick to come.
    let config = |version: &str, latency: u32| {
        format!(
            "resource \"fake_resource\" \"n\" {{\n  name       = \"n-0\"\n  replace_on = \"{version}\"\n  latency_ms = {latency}\n  lifecycle {{\n    create_before_destroy = true\n  }}\n}}\n"
        )
    };
    let apply = |work: &Path| {
        Command::new(strata())
            .args(["apply", "-auto-approve", "-lock=false"])
            .current_dir(work)
            .env("STRATA_FAKE_STORE", &store)
            .output()
            .unwrap()
    };
    std::fs::write(work.join("main.tf"), config("one", 2000)).unwrap();
    let output = apply(&work);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let old = remote_ids(&store);
    assert_eq!(old.len(), 1);

    std::fs::write(work.join("main.tf"), config("two", 0)).unwrap();
    let mut child = spawn_apply(&work, &store, &["-lock=false"], false);
    wait_until("the replacement was never created", || {
        remote_ids(&store).len() >= 2
    });
    // The old object's destroy takes 2 s; kill well inside it.
    std::thread::sleep(Duration::from_millis(300));
    child.kill().unwrap();
    assert!(
        !child.wait().unwrap().success(),
        "the apply finished before it was killed; the test proves nothing"
    );
    let remote = remote_ids(&store);
    assert_eq!(remote.len(), 2, "both objects exist at the kill");
    assert_eq!(
        recorded_ids(&work),
        remote,
        "the state must record both objects"
    );

    let output = Command::new(strata())
        .args(["plan", "-lock=false", "-no-color"])
        .current_dir(&work)
        .env("STRATA_FAKE_STORE", &store)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains("# fake_resource.n (deposed object ")
            && stdout.contains(") will be destroyed")
            && stdout.contains("Plan: 0 to add, 0 to change, 1 to destroy."),
        "{stdout}"
    );

    let output = apply(&work);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let remote = remote_ids(&store);
    assert_eq!(remote.len(), 1);
    assert!(
        remote.is_disjoint(&old),
        "the old object is gone, its successor stays"
    );
    assert_eq!(recorded_ids(&work), remote);
}

/// Terraform 1.15.5 (as `common::terraform` runs it) as a command to start in the background.
fn terraform_command(dir: &Path, args: &[&str]) -> Command {
    let peer = crate::common::ensure_installed("ensure-terraform-peer.sh");
    let mut command = Command::new(peer.join("bin/python3"));
    command
        .arg(crate::common::repo_root().join("scripts/terraform.py"))
        .args(args)
        .current_dir(dir)
        .env("TF_CLI_CONFIG_FILE", peer.join("terraformrc"))
        .env("CHECKPOINT_DISABLE", "1")
        .env("TF_IN_AUTOMATION", "1");
    command
}

/// One `terraform_data` whose create waits (in a `local-exec`) until the test says go, having
/// said it started: the run holding the lock stays in the middle of its apply for as long as
/// the test needs.
const HELD_APPLY: &str = r#"variable "round" {}

resource "terraform_data" "held" {
  triggers_replace = var.round
  provisioner "local-exec" {
    command = "touch started-${var.round}; while [ ! -e go-${var.round} ]; do sleep 0.1; done"
  }
}
"#;

fn wait_for(path: &Path) {
    let deadline = std::time::Instant::now() + Duration::from_secs(120);
    while !path.exists() {
        assert!(
            std::time::Instant::now() < deadline,
            "{} never appeared",
            path.display()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn terraform_and_strata_each_wait_for_the_others_local_state_lock() {
    let dir = tempfile::tempdir().unwrap();
    let work = dir.path();
    std::fs::write(work.join("main.tf"), HELD_APPLY).unwrap();
    let strata_run = |args: &[&str]| {
        Command::new(strata())
            .args(args)
            .current_dir(work)
            .env("NO_COLOR", "1")
            .output()
            .unwrap()
    };
    let text = |output: &std::process::Output| {
        format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        )
    };
    assert!(strata_run(&["init"]).status.success());
    let init = terraform_command(work, &["init", "-no-color"])
        .output()
        .unwrap();
    assert!(init.status.success(), "{}", text(&init));

    // Strata holds the lock: Terraform refuses without a timeout, and waits with one.
    let holder = Command::new(strata())
        .args(["apply", "-auto-approve", "-var", "round=1"])
        .current_dir(work)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    wait_for(&work.join("started-1"));
    let refused = terraform_command(work, &["plan", "-no-color", "-var", "round=1"])
        .output()
        .unwrap();
    assert_eq!(refused.status.code(), Some(1), "{}", text(&refused));
    assert!(
        text(&refused).contains("Error acquiring the state lock"),
        "{}",
        text(&refused)
    );
    let waiter = terraform_command(
        work,
        &[
            "apply",
            "-auto-approve",
            "-no-color",
            "-lock-timeout=120s",
            "-var",
            "round=2",
        ],
    )
    .stdout(Stdio::piped())
    .stderr(Stdio::piped())
    .spawn()
    .unwrap();
    std::fs::write(work.join("go-1"), "").unwrap();
    assert!(holder.wait_with_output().unwrap().status.success());
    // Terraform's create runs only after Strata's apply let the lock go.
    wait_for(&work.join("started-2"));
    std::fs::write(work.join("go-2"), "").unwrap();
    let waited = waiter.wait_with_output().unwrap();
    assert!(waited.status.success(), "{}", text(&waited));

    // Terraform holds the lock: Strata refuses without a timeout, and waits with one.
    let holder = terraform_command(work, &["apply", "-auto-approve", "-var", "round=3"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    wait_for(&work.join("started-3"));
    let refused = strata_run(&["plan", "-var", "round=3"]);
    assert_eq!(refused.status.code(), Some(1), "{}", text(&refused));
    assert!(
        text(&refused).contains("Error acquiring the state lock"),
        "{}",
        text(&refused)
    );
    let waiter = Command::new(strata())
        .args([
            "apply",
            "-auto-approve",
            "-lock-timeout=120s",
            "-var",
            "round=4",
        ])
        .current_dir(work)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::fs::write(work.join("go-3"), "").unwrap();
    assert!(holder.wait_with_output().unwrap().status.success());
    wait_for(&work.join("started-4"));
    std::fs::write(work.join("go-4"), "").unwrap();
    let waited = waiter.wait_with_output().unwrap();
    assert!(waited.status.success(), "{}", text(&waited));
    // Each run saw the one before it: the last one replaced round 3's object with round 4's.
    let listed = strata_run(&["state", "show", "terraform_data.held"]);
    assert!(text(&listed).contains("\"4\""), "{}", text(&listed));
}

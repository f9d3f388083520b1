//! The bad-input corpus: malformed inputs beyond configuration syntax — truncated, tampered,
//! future-version and wrong-lineage state files, broken journals, corrupted saved plans and lock
//! files, bad `.tfvars` and `-var` values, bad backend settings.
//!
//! One folder per case under `tests/fixtures/bad-input/<case>/`: the files of the working
//! directory (laid over `_base/`, a small valid configuration with its applied state), a
//! `command` file (the arguments, one per line; `# names: TEXT` lines list what the message
//! must contain, at least the file at fault; `# env: KEY=VALUE` sets a variable; `# needs: aws`
//! skips the case in builds without the S3 backend; `# terraform: TEXT` runs Terraform 1.15.5 on
//! the same files too, after its `init`, and checks it fails saying TEXT, where Strata claims
//! Terraform's behaviour), and `message.snap`, the expected output as an insta snapshot. Every case must fail without a panic, and leave every file it started with
//! byte-identical (no state written, no lock left behind).

use crate::common::{copy_tree, fixtures, strata};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Every file under `dir` with its bytes, by path relative to `dir`.
fn snapshot_files(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(current) = pending.pop() {
        for entry in std::fs::read_dir(&current)
            .expect("read a directory")
            .flatten()
        {
            let path = entry.path();
            if path.is_dir() {
                pending.push(path);
            } else {
                let bytes = std::fs::read(&path).expect("read a file");
                out.insert(path.strip_prefix(dir).unwrap().to_path_buf(), bytes);
            }
        }
    }
    out
}

struct Case {
    args: Vec<String>,
    names: Vec<String>,
    env: Vec<(String, String)>,
    /// `# needs: aws`: the case needs the `aws` feature (the S3 backend).
    needs_aws: bool,
    /// `# terraform: TEXT`: what Terraform says on the same files.
    terraform_says: Vec<String>,
}

fn read_case(dir: &Path) -> Case {
    let text = std::fs::read_to_string(dir.join("command")).expect("a `command` file");
    let mut case = Case {
        args: Vec::new(),
        names: Vec::new(),
        env: Vec::new(),
        needs_aws: false,
        terraform_says: Vec::new(),
    };
    for line in text.lines().filter(|line| !line.is_empty()) {
        if let Some(name) = line.strip_prefix("# names: ") {
            case.names.push(name.to_string());
        } else if let Some(pair) = line.strip_prefix("# env: ") {
            let (key, value) = pair.split_once('=').expect("`# env: KEY=VALUE`");
            case.env.push((key.to_string(), value.to_string()));
        } else if let Some(text) = line.strip_prefix("# terraform: ") {
            case.terraform_says.push(text.to_string());
        } else if line == "# needs: aws" {
            case.needs_aws = true;
        } else if !line.starts_with('#') {
            case.args.push(line.to_string());
        }
    }
    case
}

/// Runs one case; the failure text when it does not hold.
fn check_case(case_dir: &Path) -> Result<(), String> {
    let name = case_dir.file_name().unwrap().to_string_lossy().to_string();
    let case = read_case(case_dir);
    if case.needs_aws && !cfg!(feature = "aws") {
        return Ok(());
    }
    let temp = tempfile::tempdir().unwrap();
    let work = temp.path().join("work");
    lay_out(case_dir, &work);
    let before = snapshot_files(&work);
    let mut command = Command::new(strata());
    command
        .args(&case.args)
        .current_dir(&work)
        .env("NO_COLOR", "1")
        .env("STRATA_FAKE_STORE", temp.path().join("store"))
        .env_remove("TF_LOG")
        .env_remove("STRATA_LOG");
    for (key, value) in &case.env {
        command.env(key, value.replace("$WORK", &work.display().to_string()));
    }
    let output = command.output().expect("run strata");
    let stderr = String::from_utf8_lossy(&output.stderr);
    let stdout = String::from_utf8_lossy(&output.stdout);
    let shown = format!(
        "exit: {:?}\n--- stderr\n{stderr}--- stdout\n{stdout}",
        output.status.code()
    )
    .replace(&work.display().to_string(), "$WORK");
    insta::with_settings!({
        snapshot_path => case_dir,
        prepend_module_to_snapshot => false,
        omit_expression => true,
        description => format!("strata {}", case.args.join(" ")),
    }, {
        insta::assert_snapshot!("message", shown);
    });
    let mut problems = Vec::new();
    if output.status.success() {
        problems.push("it succeeded".to_string());
    }
    if stderr.contains("panicked") {
        problems.push("it panicked".to_string());
    }
    for expected in &case.names {
        if !shown.contains(expected.as_str()) {
            problems.push(format!("the message does not say `{expected}`"));
        }
    }
    let after = snapshot_files(&work);
    for (path, bytes) in &before {
        match after.get(path) {
            Some(now) if now == bytes => {}
            Some(_) => problems.push(format!("`{}` changed", path.display())),
            None => problems.push(format!("`{}` disappeared", path.display())),
        }
    }
    for path in after.keys().filter(|path| !before.contains_key(*path)) {
        if path.starts_with(".terraform") && !path.ends_with("terraform.tfstate") {
            continue;
        }
        problems.push(format!("`{}` was written", path.display()));
    }
    if !case.terraform_says.is_empty() {
        problems.extend(terraform_problems(
            case_dir,
            &case,
            &temp.path().join("terraform"),
        ));
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(format!("{name}: {}\n{shown}", problems.join("; ")))
    }
}

/// The working directory of a case: `_base/` with the case's files laid over it.
fn lay_out(case_dir: &Path, work: &Path) {
    copy_tree(&fixtures("bad-input").join("_base"), work);
    // A case may put a directory where `_base/` has a file (a state file that is a directory).
    for entry in std::fs::read_dir(case_dir).unwrap().flatten() {
        let over = work.join(entry.file_name());
        if entry.path().is_dir() && over.is_file() {
            std::fs::remove_file(over).unwrap();
        }
    }
    copy_tree(case_dir, work);
    for own in ["command", "message.snap", "message.snap.new"] {
        let _ = std::fs::remove_file(work.join(own));
    }
}

/// Runs Terraform on the case's files (after `terraform init`) with the case's arguments: what
/// differs from the case's `# terraform:` lines.
fn terraform_problems(case_dir: &Path, case: &Case, work: &Path) -> Vec<String> {
    lay_out(case_dir, work);
    let init = crate::common::terraform(work, &["init", "-no-color", "-input=false"]);
    let mut args: Vec<&str> = case.args.iter().map(String::as_str).collect();
    args.insert(1.min(args.len()), "-no-color");
    let output = crate::common::terraform(work, &args);
    let said = format!(
        "{}{}{}",
        String::from_utf8_lossy(&init.stderr),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    let mut problems = Vec::new();
    if output.status.success() {
        problems.push(format!("Terraform succeeded where Strata failed:\n{said}"));
    }
    for expected in &case.terraform_says {
        if !said.contains(expected.as_str()) {
            problems.push(format!("Terraform does not say `{expected}`:\n{said}"));
        }
    }
    problems
}

#[test]
fn every_bad_input_fails_with_a_message_and_leaves_the_files_alone() {
    let root = fixtures("bad-input");
    let mut cases: Vec<PathBuf> = std::fs::read_dir(&root)
        .expect("tests/fixtures/bad-input")
        .flatten()
        .map(|entry| entry.path())
        .filter(|path| path.is_dir() && !path.ends_with("_base"))
        .collect();
    cases.sort();
    assert!(cases.len() >= 50, "the corpus has {} cases", cases.len());
    let failures: Vec<String> = cases
        .iter()
        .filter_map(|case| check_case(case).err())
        .collect();
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n\n")
    );
}

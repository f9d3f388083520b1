//! "Did you mean …?" compared with Terraform: every folder under `tests/fixtures/suggestions/`
//! is a misspelling (a variable, a resource attribute, a function name, a `-target` address, …).
//! Terraform 1.15.5 and Strata run the same command on a copy of it, and each must suggest what
//! the case's header says; a case where Strata suggests something else says why
//! (`tests/fixtures/suggestions/README.md`). Strata's one rule is `diagnostics::did_you_mean`.

use crate::common::{copy_tree, fixtures, strata, terraform};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// One case: its command, and what each tool is expected to suggest.
struct Case {
    args: Vec<String>,
    terraform: Vec<String>,
    strata: Vec<String>,
}

/// The names quoted in a header's `"a" "b"` list, or none for `none`.
fn names(list: &str) -> Vec<String> {
    let list = list.trim();
    if list == "none" {
        return Vec::new();
    }
    list.split('"')
        .skip(1)
        .step_by(2)
        .map(str::to_string)
        .collect()
}

fn read_case(dir: &Path) -> Case {
    let text = std::fs::read_to_string(dir.join("main.tf")).expect("the case's main.tf");
    let header = |key: &str| {
        text.lines()
            .find_map(|line| line.strip_prefix(&format!("# {key}: ")))
            .map(str::to_string)
    };
    let args = header("args").unwrap_or_else(|| "validate".to_string());
    let terraform = names(&header("terraform").expect("a `# terraform:` line"));
    let strata = match header("strata") {
        Some(line) => {
            let (list, why) = line
                .split_once(" -- ")
                .expect("a `# strata:` line says why after ` -- `");
            assert!(
                !why.trim().is_empty(),
                "{}: say why Strata differs",
                dir.display()
            );
            names(list)
        }
        None => terraform.clone(),
    };
    Case {
        args: args.split_whitespace().map(str::to_string).collect(),
        terraform,
        strata,
    }
}

/// Everything a run printed, with line breaks and runs of spaces made single spaces (Terraform
/// wraps its details at 78 columns).
fn said(output: &Output) -> String {
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The names in every `Did you mean "…"?` of `text`, in order.
fn suggestions(text: &str) -> Vec<String> {
    text.split("Did you mean \"")
        .skip(1)
        .filter_map(|rest| rest.split_once('"').map(|(name, _)| name.to_string()))
        .collect()
}

fn run_terraform(case: &Case, work: &Path) -> String {
    // A configuration error fails `init` too; the command after it reports it again.
    terraform(work, &["init", "-input=false", "-no-color"]);
    let mut args: Vec<&str> = case.args.iter().map(String::as_str).collect();
    args.insert(1, "-no-color");
    said(&terraform(work, &args))
}

fn run_strata(case: &Case, work: &Path) -> String {
    let output = Command::new(strata())
        .args(&case.args)
        .current_dir(work)
        .env("NO_COLOR", "1")
        .output()
        .expect("run strata");
    said(&output)
}

fn cases() -> Vec<PathBuf> {
    let mut cases: Vec<PathBuf> = std::fs::read_dir(fixtures("suggestions"))
        .expect("tests/fixtures/suggestions")
        .flatten()
        .map(|entry| entry.path())
        .filter(|path| path.is_dir())
        .collect();
    cases.sort();
    assert!(cases.len() >= 10, "the suggestion cases are missing");
    cases
}

#[test]
fn strata_suggests_the_names_terraform_suggests() {
    let mut problems = Vec::new();
    for dir in cases() {
        let name = dir
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .to_string();
        let case = read_case(&dir);
        for (tool, expected) in [("terraform", &case.terraform), ("strata", &case.strata)] {
            let temp = tempfile::tempdir().expect("a temporary directory");
            copy_tree(&dir, temp.path());
            let text = match tool {
                "terraform" => run_terraform(&case, temp.path()),
                _ => run_strata(&case, temp.path()),
            };
            // A run that reported nothing (it did not start, or read no configuration)
            // suggests nothing too: that must not pass for a case whose answer is `none`.
            if !text.contains("Error:") && !text.contains("Warning:") {
                problems.push(format!("{name}: {tool} reported no diagnostic: {text}"));
            } else if suggestions(&text) != *expected {
                problems.push(format!(
                    "{name}: {tool} suggests {:?}, the case says {expected:?}: {text}",
                    suggestions(&text)
                ));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n\n"));
}

#[test]
fn the_suggestion_reader_reads_wrapped_lines() {
    let wrapped = "has not been declared. Did you\nmean \"instance_name\"?";
    let text = wrapped.split_whitespace().collect::<Vec<_>>().join(" ");
    assert_eq!(suggestions(&text), ["instance_name"]);
    assert!(suggestions("no suggestion here").is_empty());
    assert_eq!(names("\"a\" \"b\""), ["a", "b"]);
    assert!(names("none").is_empty());
}

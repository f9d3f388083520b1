//! `strata fmt` against the real `terraform fmt`: every `tests/fixtures/fmt/<case>.<ext>` must
//! format to `<case>.golden.<ext>`, which `scripts/fmt-goldens.sh` produced with Terraform
//! 1.15.5, and formatting a golden file must leave it as it is. An input Terraform refuses has
//! `<case>.golden.error` (Terraform's diagnostic) instead, and must be refused too. The repository's own modules and
//! environments must already be in the canonical layout.

use crate::common::{fixtures, repo_root};
use std::path::{Path, PathBuf};
use strata::fmt::{format_paths, format_source, format_standard_input, FmtOptions, FormatError};

/// The input files of the golden cases in `directory`, with their golden file.
fn golden_cases_in(directory: &Path) -> Vec<(PathBuf, PathBuf)> {
    let mut cases = Vec::new();
    for entry in std::fs::read_dir(directory).expect("the cases' directory exists") {
        let path = entry.expect("directory entry").path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if name.contains(".golden.") || name.starts_with('.') {
            continue;
        }
        let (case, extension) = name.split_once('.').expect("<case>.<ext>");
        let golden = path.with_file_name(format!("{case}.golden.{extension}"));
        cases.push((path, golden));
    }
    cases.sort();
    cases
}

fn golden_cases() -> Vec<(PathBuf, PathBuf)> {
    golden_cases_in(&fixtures("fmt"))
}

#[test]
fn formats_every_case_as_terraform_does() {
    let cases = golden_cases();
    assert!(cases.len() >= 15, "the golden cases are missing");
    check_cases(&cases);
}

/// A larger differential run over any folder of cases made by `scripts/fmt-goldens.sh DIR`
/// (e.g. every `.tf` file of the repository): `STRATA_FMT_CASES=DIR cargo test ... -- --ignored`.
#[test]
#[ignore = "needs STRATA_FMT_CASES, a folder of cases with goldens from real terraform"]
fn formats_an_external_folder_of_cases_as_terraform_does() {
    let directory = std::env::var("STRATA_FMT_CASES").expect("STRATA_FMT_CASES names a folder");
    let cases = golden_cases_in(Path::new(&directory));
    assert!(!cases.is_empty(), "no cases in {directory}");
    check_cases(&cases);
}

fn check_cases(cases: &[(PathBuf, PathBuf)]) {
    let mut failures = Vec::new();
    for (input, golden) in cases {
        let source = std::fs::read_to_string(input).unwrap();
        if golden.with_extension("error").exists() {
            if let Ok(formatted) = format_source(&source) {
                failures.push(format!(
                    "{}: terraform refuses it, but it formatted to:\n{formatted}",
                    input.display()
                ));
            }
            continue;
        }
        let expected = std::fs::read_to_string(golden).unwrap_or_else(|_| {
            panic!(
                "{} has no golden file: run scripts/fmt-goldens.sh",
                input.display()
            )
        });
        match format_source(&source) {
            Ok(formatted) if formatted == expected => {}
            Ok(formatted) => failures.push(format!(
                "{}:\n{}",
                input.display(),
                strata::fmt::unified_diff("case", &expected, &formatted)
            )),
            Err(error) => failures.push(format!("{}: {error}", input.display())),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn formatting_a_golden_file_changes_nothing() {
    let mut failures = Vec::new();
    for (_, golden) in golden_cases() {
        if !golden.exists() {
            continue;
        }
        let expected = std::fs::read_to_string(&golden).unwrap();
        match format_source(&expected) {
            Ok(formatted) if formatted == expected => {}
            Ok(formatted) => failures.push(format!(
                "{}:\n{}",
                golden.display(),
                strata::fmt::unified_diff("golden", &expected, &formatted)
            )),
            Err(error) => failures.push(format!("{}: {error}", golden.display())),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Every `.tf` and `.tfvars` file under `directory`.
fn configuration_files(directory: &Path, files: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(directory) else {
        return;
    };
    for entry in entries {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if name.starts_with('.') {
            continue;
        }
        if path.is_dir() {
            configuration_files(&path, files);
        } else if name.ends_with(".tf") || name.ends_with(".tfvars") {
            files.push(path);
        }
    }
}

#[test]
fn modules_and_environments_are_in_canonical_layout() {
    let mut files = Vec::new();
    for directory in ["modules", "environments"] {
        configuration_files(&repo_root().join(directory), &mut files);
    }
    // 3 modules of 4 files, 3 environments of 6.
    assert!(
        files.len() >= 30,
        "modules and environments not found: {files:?}"
    );
    let mut failures = Vec::new();
    for file in &files {
        let source = std::fs::read_to_string(file).unwrap();
        match format_source(&source) {
            Ok(formatted) if formatted == source => {}
            Ok(formatted) => failures.push(format!(
                "{}:\n{}",
                file.display(),
                strata::fmt::unified_diff("file", &source, &formatted)
            )),
            Err(error) => failures.push(format!("{}: {error}", file.display())),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn syntax_errors_are_located_and_leave_the_file_alone() {
    let error = format_source("a = 1\nb = {\n  c = \n").unwrap_err();
    let FormatError::Syntax { line, column, .. } = &error else {
        panic!("expected a syntax error, got {error}");
    };
    assert!(*line >= 3 && *column >= 1, "{error}");
    assert!(error.to_string().starts_with("<input>:"), "{error}");

    let directory = tempfile::tempdir().unwrap();
    let broken = directory.path().join("broken.tf");
    std::fs::write(&broken, "a = [\n").unwrap();
    let report = format_paths(&[directory.path().to_path_buf()], FmtOptions::default()).unwrap();
    assert_eq!(report.errors.len(), 1);
    assert!(
        report.errors[0].to_string().contains("broken.tf:"),
        "{}",
        report.errors[0]
    );
    assert_eq!(std::fs::read_to_string(&broken).unwrap(), "a = [\n");
}

fn write_tree(root: &Path) {
    std::fs::create_dir_all(root.join("sub/deeper")).unwrap();
    std::fs::create_dir_all(root.join(".terraform")).unwrap();
    std::fs::write(root.join("main.tf"), "a=1\n").unwrap();
    std::fs::write(root.join("ok.tf"), "a = 1\n").unwrap();
    std::fs::write(root.join("values.tfvars"), "b=[1,2]\n").unwrap();
    std::fs::write(root.join("notes.txt"), "a=1\n").unwrap();
    std::fs::write(root.join("sub/child.tf"), "c  =  3\n").unwrap();
    std::fs::write(root.join("sub/deeper/leaf.tf"), "d=4\n").unwrap();
    std::fs::write(root.join(".terraform/hidden.tf"), "e=5\n").unwrap();
}

#[test]
fn check_lists_what_would_change_and_writes_nothing() {
    let directory = tempfile::tempdir().unwrap();
    let root = directory.path();
    write_tree(root);
    let options = FmtOptions {
        check: true,
        ..FmtOptions::default()
    };
    let report = format_paths(&[root.to_path_buf()], options).unwrap();
    let changed: Vec<_> = report
        .changed
        .iter()
        .map(|path| path.file_name().unwrap().to_owned())
        .collect();
    assert_eq!(changed, ["main.tf", "values.tfvars"]);
    assert_eq!(
        report.files.len(),
        3,
        "only .tf and .tfvars files of the directory itself"
    );
    assert!(report.output.contains("main.tf\n") && report.output.contains("values.tfvars\n"));
    assert_eq!(
        std::fs::read_to_string(root.join("main.tf")).unwrap(),
        "a=1\n"
    );
}

#[test]
fn recursive_writes_subdirectories_but_not_hidden_ones() {
    let directory = tempfile::tempdir().unwrap();
    let root = directory.path();
    write_tree(root);
    let options = FmtOptions {
        recursive: true,
        ..FmtOptions::default()
    };
    let report = format_paths(&[root.to_path_buf()], options).unwrap();
    assert_eq!(report.changed.len(), 4, "{:?}", report.changed);
    assert_eq!(
        std::fs::read_to_string(root.join("sub/child.tf")).unwrap(),
        "c = 3\n"
    );
    assert_eq!(
        std::fs::read_to_string(root.join("sub/deeper/leaf.tf")).unwrap(),
        "d = 4\n"
    );
    assert_eq!(
        std::fs::read_to_string(root.join(".terraform/hidden.tf")).unwrap(),
        "e=5\n"
    );
    assert_eq!(
        std::fs::read_to_string(root.join("notes.txt")).unwrap(),
        "a=1\n"
    );

    let again = format_paths(&[root.to_path_buf()], options).unwrap();
    assert!(again.changed.is_empty(), "formatting twice changes nothing");
}

#[test]
fn diff_shows_a_unified_diff_with_terraform_labels() {
    let directory = tempfile::tempdir().unwrap();
    let file = directory.path().join("main.tf");
    std::fs::write(&file, "x = 1\na=[1,2]\n").unwrap();
    let options = FmtOptions {
        diff: true,
        list: false,
        write: false,
        ..FmtOptions::default()
    };
    let report = format_paths(std::slice::from_ref(&file), options).unwrap();
    let shown = file.to_string_lossy();
    assert!(
        report
            .output
            .starts_with(&format!("--- old/{shown}\n+++ new/{shown}\n")),
        "{}",
        report.output
    );
    assert!(
        report.output.contains(" x = 1\n-a=[1,2]\n+a = [1, 2]\n"),
        "{}",
        report.output
    );
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "x = 1\na=[1,2]\n");
}

#[test]
fn without_list_write_or_diff_the_formatted_text_is_the_output() {
    let directory = tempfile::tempdir().unwrap();
    let file = directory.path().join("main.tf");
    std::fs::write(&file, "a=1\n").unwrap();
    let options = FmtOptions {
        list: false,
        write: false,
        ..FmtOptions::default()
    };
    let report = format_paths(&[file], options).unwrap();
    assert_eq!(report.output, "a = 1\n");
}

#[test]
fn other_files_and_missing_paths_are_refused() {
    let directory = tempfile::tempdir().unwrap();
    let text_file = directory.path().join("notes.txt");
    std::fs::write(&text_file, "a=1\n").unwrap();
    assert!(matches!(
        format_paths(&[text_file], FmtOptions::default()),
        Err(FormatError::UnsupportedFile { .. })
    ));
    assert!(matches!(
        format_paths(&[directory.path().join("missing")], FmtOptions::default()),
        Err(FormatError::NotFound { .. })
    ));
}

#[test]
fn standard_input_is_printed_formatted_and_never_listed() {
    let report = format_standard_input("a=1\n", FmtOptions::default());
    assert_eq!(report.output, "a = 1\n");
    assert_eq!(report.changed.len(), 1);

    let check = FmtOptions {
        check: true,
        ..FmtOptions::default()
    };
    let report = format_standard_input("a = 1\n", check);
    assert!(report.changed.is_empty());
    assert_eq!(report.output, "a = 1\n");

    let report = format_standard_input("a = [\n", FmtOptions::default());
    assert!(
        report.errors[0].to_string().starts_with("<stdin>:1:"),
        "{}",
        report.errors[0]
    );
}

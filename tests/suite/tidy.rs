//! Tidy checks: architecture invariants of `ARCHITECTURE.md` that a scan of the source tree can
//! hold (as rust-analyzer's `tidy.rs` does). Each check names the invariant it guards.
//!
//! The printing invariant ("only `ui` and the CLI's views print") is clippy's: `print_stdout`
//! and `print_stderr` are denied in `Cargo.toml`'s `[lints]`; the last check here makes sure
//! they stay denied and are allowed only where the invariant says.

use std::path::{Path, PathBuf};

fn rust_files(dir: &Path, files: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()))
        .flatten()
        .map(|entry| entry.path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            rust_files(&path, files);
        } else if path.extension().is_some_and(|e| e == "rs") {
            files.push(path);
        }
    }
}

fn source_tree() -> Vec<(String, String)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    rust_files(&root.join("src"), &mut files);
    files
        .into_iter()
        .map(|path| {
            let text = std::fs::read_to_string(&path).unwrap();
            let relative = path.strip_prefix(root).unwrap().display().to_string();
            (relative, text)
        })
        .collect()
}

/// The code of a file a user's run executes: unit tests (a `tests.rs`, or what follows
/// `#[cfg(test)]`) may name state files as fixtures.
fn non_test_code(path: &str, text: &str) -> Option<String> {
    if path.ends_with("/tests.rs") {
        return None;
    }
    let code = text.split("#[cfg(test)]").next().unwrap_or("");
    Some(code.to_string())
}

/// What only the state module may name: the state files and directories, the lock record and
/// the journal beside a state file.
const STATE_FILE_NAMES: &[&str] = &[
    "terraform.tfstate",
    ".tfstate",
    ".lock.info",
    "tfstate.d",
    ".journal",
];

/// Invariant: only `state` reads and writes state and lock files. A module elsewhere that names
/// a state file is about to touch it; it should ask `state` instead.
#[test]
fn only_the_state_module_names_state_files() {
    let mut offences = Vec::new();
    for (path, text) in source_tree() {
        if path.starts_with("src/state/") {
            continue;
        }
        let Some(code) = non_test_code(&path, &text) else {
            continue;
        };
        for (number, line) in code.lines().enumerate() {
            let trimmed = line.trim_start();
            if trimmed.starts_with("//") {
                continue;
            }
            if let Some(name) = STATE_FILE_NAMES.iter().find(|n| line.contains(*n)) {
                offences.push(format!(
                    "{path}:{}: names `{name}`: {}",
                    number + 1,
                    line.trim()
                ));
            }
        }
    }
    assert!(
        offences.is_empty(),
        "state files are the state module's (ARCHITECTURE.md, Invariants): move this I/O into \
         src/state and call it from there:\n{}",
        offences.join("\n")
    );
}

/// Invariant: only `ui` and the CLI's views print. Clippy enforces it; this keeps the lints
/// denied, and the allows where the invariant puts them.
#[test]
fn printing_is_denied_outside_the_views() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let manifest = std::fs::read_to_string(root.join("Cargo.toml")).unwrap();
    for lint in ["print_stdout = \"deny\"", "print_stderr = \"deny\""] {
        assert!(
            manifest.contains(lint),
            "Cargo.toml's [lints.clippy] must keep `{lint}`"
        );
    }
    let allowed: Vec<String> = source_tree()
        .into_iter()
        .filter(|(_, text)| text.contains("allow(clippy::print_stdout"))
        .map(|(path, _)| path)
        .collect();
    assert_eq!(
        allowed,
        ["src/cli/views/mod.rs"],
        "printing is allowed only in the CLI's views (ARCHITECTURE.md, Invariants)"
    );
}

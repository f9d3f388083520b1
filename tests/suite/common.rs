//! Helpers shared by the integration tests.

#![allow(dead_code)]

use std::path::PathBuf;

/// The repository root.
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `tests/fixtures/<area>`.
pub fn fixtures(area: &str) -> PathBuf {
    repo_root().join("tests").join("fixtures").join(area)
}

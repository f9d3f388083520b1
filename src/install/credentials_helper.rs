//! Terraform's credentials helper protocol: the CLI configuration's
//! `credentials_helper "NAME" { args = [...] }` names a program `terraform-credentials-NAME`
//! (optionally `..._vX.Y.Z`, the newest version wins) found in the global plugin directories
//! (`~/.terraform.d/plugins` and its `linux_amd64`-style subdirectory, as Terraform's
//! `globalPluginDirs`). For a host with no `credentials` block nor `TF_TOKEN_<host>`, Strata runs
//! `<program> [args...] get <host>` and reads a JSON object from its standard output:
//! `{"token": "..."}` is a token, an object without one means no credentials. A helper that
//! exits non-zero or prints something else is an error naming the program; its output is never
//! shown, since it may hold the token.

use super::cliconfig::Secret;
use std::path::{Path, PathBuf};

const PREFIX: &str = "terraform-credentials-";

/// A credentials helper program found on disk, with the arguments the CLI configuration gives.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Helper {
    pub program: PathBuf,
    pub args: Vec<String>,
}

/// Why a helper gave no answer.
#[derive(Clone, Debug, thiserror::Error)]
pub enum HelperError {
    #[error("failed to run the credentials helper {}: {message}", program.display())]
    Run { program: PathBuf, message: String },
    #[error("error in the credentials helper {}: {message}", program.display())]
    Failed { program: PathBuf, message: String },
    #[error("error in the credentials helper {}, but it produced no error message", program.display())]
    Silent { program: PathBuf },
    #[error("malformed output from the credentials helper {}: {message} (it must print a JSON object such as {{\"token\": \"...\"}})", program.display())]
    Malformed { program: PathBuf, message: String },
}

/// The directories Terraform searches for credentials helpers, given the home directory.
pub fn plugin_dirs(home: &Path) -> Vec<PathBuf> {
    let plugins = home.join(".terraform.d").join("plugins");
    let machine = format!("{}_{}", go_os(), go_arch());
    vec![plugins.clone(), plugins.join(machine)]
}

fn go_os() -> &'static str {
    match std::env::consts::OS {
        "macos" => "darwin",
        other => other,
    }
}

fn go_arch() -> &'static str {
    match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        "x86" => "386",
        other => other,
    }
}

/// The newest `terraform-credentials-<name>[_vX.Y.Z]` file in `dirs`, if any.
pub fn find(dirs: &[PathBuf], name: &str) -> Option<PathBuf> {
    let mut best: Option<(Vec<u64>, PathBuf)> = None;
    for dir in dirs {
        let Ok(entries) = std::fs::read_dir(dir) else {
            continue;
        };
        for path in entries.filter_map(|e| e.ok().map(|e| e.path())) {
            let Some(version) = path
                .file_name()
                .and_then(|n| n.to_str())
                .and_then(|n| helper_version(n, name))
            else {
                continue;
            };
            if path.is_file() && best.as_ref().is_none_or(|(newest, _)| version > *newest) {
                best = Some((version, path));
            }
        }
    }
    best.map(|(_, path)| path)
}

/// The version of a file named for helper `name` (`[0, 0, 0]` when unversioned), else `None`.
fn helper_version(file_name: &str, name: &str) -> Option<Vec<u64>> {
    let file_name = file_name.strip_suffix(".exe").unwrap_or(file_name);
    let rest = file_name.strip_prefix(PREFIX)?;
    if rest == name {
        return Some(vec![0, 0, 0]);
    }
    let version = rest.strip_prefix(name)?.strip_prefix("_v")?;
    version.split('.').map(|part| part.parse().ok()).collect()
}

impl Helper {
    /// Runs `<program> [args...] get <host>` and reads its answer.
    pub fn get(&self, host: &str) -> Result<Option<Secret>, HelperError> {
        let program = self.program.clone();
        tracing::debug!(helper = %program.display(), host, "asking the credentials helper");
        let output = std::process::Command::new(&self.program)
            .args(&self.args)
            .args(["get", host])
            .stdin(std::process::Stdio::null())
            .output()
            .map_err(|error| HelperError::Run {
                program: program.clone(),
                message: error.to_string(),
            })?;
        if !output.status.success() {
            let message = String::from_utf8_lossy(&output.stderr).trim().to_string();
            return Err(if message.is_empty() {
                HelperError::Silent { program }
            } else {
                HelperError::Failed { program, message }
            });
        }
        let answer: serde_json::Map<String, serde_json::Value> =
            serde_json::from_slice(&output.stdout).map_err(|error| HelperError::Malformed {
                program,
                message: error.to_string(),
            })?;
        Ok(answer
            .get("token")
            .and_then(serde_json::Value::as_str)
            .map(Secret::new))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_versions_of_helper_files() {
        assert_eq!(
            helper_version("terraform-credentials-vault", "vault"),
            Some(vec![0, 0, 0])
        );
        assert_eq!(
            helper_version("terraform-credentials-vault_v1.10.2", "vault"),
            Some(vec![1, 10, 2])
        );
        assert_eq!(
            helper_version("terraform-credentials-vaultx", "vault"),
            None
        );
        assert_eq!(helper_version("terraform-provider-vault", "vault"), None);
        assert_eq!(
            helper_version("terraform-credentials-vault_vx", "vault"),
            None
        );
    }

    #[test]
    fn the_newest_helper_in_any_plugin_dir_wins() {
        let home = tempfile::tempdir().unwrap();
        let dirs = plugin_dirs(home.path());
        for dir in &dirs {
            std::fs::create_dir_all(dir).unwrap();
        }
        assert_eq!(find(&dirs, "test"), None);
        std::fs::write(dirs[0].join("terraform-credentials-test"), "").unwrap();
        std::fs::write(dirs[1].join("terraform-credentials-test_v1.2.0"), "").unwrap();
        std::fs::write(dirs[0].join("terraform-credentials-test_v1.10.0"), "").unwrap();
        std::fs::create_dir(dirs[1].join("terraform-credentials-test_v9.0.0")).unwrap();
        assert_eq!(
            find(&dirs, "test"),
            Some(dirs[0].join("terraform-credentials-test_v1.10.0"))
        );
    }
}

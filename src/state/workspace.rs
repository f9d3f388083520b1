//! Workspaces of a working directory: which one is current (`.terraform/environment`, as
//! Terraform keeps it, overridden by `TF_WORKSPACE` or `STRATA_WORKSPACE`), selecting one, and
//! the checks around creating and deleting them. Each backend stores the states themselves.

use super::backend::{Backend, StateError};
use std::path::{Path, PathBuf};

/// The workspace every backend has and that cannot be deleted.
pub const DEFAULT_WORKSPACE: &str = "default";

/// Environment variables that choose the workspace, in order of precedence.
pub const WORKSPACE_ENV_VARS: [&str; 2] = ["STRATA_WORKSPACE", "TF_WORKSPACE"];

/// Checks that a name can be a workspace: it becomes a directory name and part of an S3 key.
pub fn validate_workspace_name(name: &str) -> Result<(), StateError> {
    let invalid = |reason: &str| {
        Err(StateError::WorkspaceInvalid {
            name: name.to_string(),
            reason: reason.to_string(),
        })
    };
    if name.is_empty() {
        return invalid("it is empty");
    }
    if name == "." || name == ".." {
        return invalid("it is a relative path");
    }
    if name.len() > 90 {
        return invalid("it is longer than 90 characters");
    }
    if !name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.')
    {
        return invalid("use only letters, digits, `-`, `_` and `.`");
    }
    Ok(())
}

/// `.terraform/environment` under the working directory.
pub fn environment_file(working_dir: &Path) -> PathBuf {
    working_dir.join(".terraform").join("environment")
}

/// The environment variable that overrides the selected workspace, and its value, if set.
pub fn workspace_override() -> Option<(&'static str, String)> {
    override_from(&|name| std::env::var(name).ok())
}

fn override_from(env: &dyn Fn(&str) -> Option<String>) -> Option<(&'static str, String)> {
    WORKSPACE_ENV_VARS.iter().find_map(|name| {
        env(name)
            .filter(|value| !value.trim().is_empty())
            .map(|value| (*name, value.trim().to_string()))
    })
}

/// The current workspace: the environment override, else `.terraform/environment`, else
/// `default`.
pub fn current_workspace(working_dir: &Path) -> Result<String, StateError> {
    current_workspace_from(working_dir, &|name| std::env::var(name).ok())
}

/// [`current_workspace`] with the environment given as a lookup function (for tests, and for
/// callers that run with another environment).
pub fn current_workspace_from(
    working_dir: &Path,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<String, StateError> {
    if let Some((_, name)) = override_from(env) {
        validate_workspace_name(&name)?;
        return Ok(name);
    }
    let path = environment_file(working_dir);
    match std::fs::read_to_string(&path) {
        Ok(text) if !text.trim().is_empty() => {
            let name = text.trim().to_string();
            validate_workspace_name(&name).map_err(|error| {
                StateError::Other(format!(
                    "{}: {error}; select a workspace with `strata workspace select NAME` (or delete the file to use `default`)",
                    path.display()
                ))
            })?;
            Ok(name)
        }
        Ok(_) => Ok(DEFAULT_WORKSPACE.to_string()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(DEFAULT_WORKSPACE.to_string()),
        Err(e) => Err(StateError::io(&path, e)),
    }
}

/// Records `name` as the current workspace in `.terraform/environment` (no existence check).
pub fn write_current_workspace(working_dir: &Path, name: &str) -> Result<(), StateError> {
    validate_workspace_name(name)?;
    let path = environment_file(working_dir);
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| StateError::io(dir, e))?;
    }
    std::fs::write(&path, name).map_err(|e| StateError::io(&path, e))
}

/// `workspace select`: the workspace must exist, and no environment variable may override the
/// choice (it would silently win).
pub async fn select_workspace(
    backend: &dyn Backend,
    working_dir: &Path,
    name: &str,
) -> Result<(), StateError> {
    validate_workspace_name(name)?;
    if let Some((variable, value)) = workspace_override() {
        return Err(StateError::Other(format!(
            "the workspace is currently overridden by the {variable} environment variable (`{value}`); unset it to select a workspace"
        )));
    }
    if !backend.workspaces().await?.iter().any(|w| w == name) {
        return Err(StateError::WorkspaceNotFound(name.to_string()));
    }
    write_current_workspace(working_dir, name)
}

/// `workspace new`: creates the workspace and selects it (unless an environment variable
/// overrides the selection).
pub async fn new_workspace(
    backend: &dyn Backend,
    working_dir: &Path,
    name: &str,
) -> Result<(), StateError> {
    validate_workspace_name(name)?;
    backend.create_workspace(name).await?;
    if workspace_override().is_none() {
        write_current_workspace(working_dir, name)?;
    }
    Ok(())
}

/// `workspace delete`: refuses the current workspace and `default`; refuses a workspace whose
/// state tracks resources unless `force`.
pub async fn delete_workspace(
    backend: &dyn Backend,
    working_dir: &Path,
    name: &str,
    force: bool,
) -> Result<(), StateError> {
    if name == DEFAULT_WORKSPACE {
        return Err(StateError::WorkspaceUndeletable(
            name.into(),
            "the default workspace always exists".into(),
        ));
    }
    if current_workspace(working_dir)? == name {
        return Err(StateError::WorkspaceUndeletable(
            name.into(),
            "it is the current workspace; select another one first".into(),
        ));
    }
    backend.delete_workspace(name, force).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        for good in ["dev", "prod-eu_1", "a.b"] {
            assert!(validate_workspace_name(good).is_ok(), "{good}");
        }
        for bad in ["", "..", "a/b", "a b", "é"] {
            assert!(validate_workspace_name(bad).is_err(), "{bad}");
        }
    }
}

//! From a `terraform { backend "..." { ... } }` block (completed at `init` by
//! `-backend-config`) to a [`Backend`], and copying states between backends
//! (`init -migrate-state`).

use super::backend::{Backend, StateError};
use super::local::LocalBackend;
use crate::config::BackendConfig;
use crate::encryption::Sealer;
use crate::value::{Number, Value};
use std::collections::BTreeMap;
use std::path::Path;

/// The backend a configuration asks for: `local` (also when there is no backend block) or
/// `s3` (with the `aws` feature). `extra` holds `-backend-config` settings, which win over the
/// block's.
pub async fn open_backend(
    config: Option<&BackendConfig>,
    extra: &BTreeMap<String, Value>,
    working_dir: &Path,
) -> Result<Box<dyn Backend>, StateError> {
    let backend_type = config.map_or("local", |c| c.backend_type.as_str());
    let mut settings = config.map(|c| c.settings.clone()).unwrap_or_default();
    settings.extend(extra.iter().map(|(k, v)| (k.clone(), v.clone())));
    open_backend_of_type(backend_type, &settings, working_dir).await
}

/// Opens a backend by type and settings (`terraform_remote_state` names them in its arguments).
pub async fn open_backend_of_type(
    backend_type: &str,
    settings: &BTreeMap<String, Value>,
    working_dir: &Path,
) -> Result<Box<dyn Backend>, StateError> {
    open_sealed_backend_of_type(
        backend_type,
        settings,
        working_dir,
        Sealer::plaintext("state"),
    )
    .await
}

/// [`open_backend_of_type`], its state encrypted by `sealer`.
pub async fn open_sealed_backend_of_type(
    backend_type: &str,
    settings: &BTreeMap<String, Value>,
    working_dir: &Path,
    sealer: Sealer,
) -> Result<Box<dyn Backend>, StateError> {
    match backend_type {
        "local" => {
            let mut backend = LocalBackend::new(working_dir).with_encryption(sealer);
            for (name, value) in settings {
                let text = match value.unmarked() {
                    Value::String(text) => text.clone(),
                    _ => {
                        return Err(StateError::Other(format!(
                            "backend \"local\": `{name}` must be a string"
                        )))
                    }
                };
                backend = match name.as_str() {
                    "path" => backend.with_path(text),
                    "workspace_dir" => backend.with_workspace_dir(text),
                    other => {
                        return Err(StateError::Other(format!(
                            "backend \"local\": unsupported argument `{other}` (supported: path, workspace_dir)"
                        )))
                    }
                };
            }
            Ok(Box::new(backend))
        }
        #[cfg(feature = "aws")]
        "s3" => {
            let settings = super::s3::S3Settings::from_settings(settings)?;
            Ok(Box::new(
                super::s3::S3Backend::new(settings, working_dir)
                    .await?
                    .with_encryption(sealer),
            ))
        }
        #[cfg(not(feature = "aws"))]
        "s3" => Err(StateError::Other(
            "backend \"s3\" needs Strata built with the `aws` feature".to_string(),
        )),
        other => Err(StateError::Other(format!(
            "backend \"{other}\" is not supported (supported: local, s3)"
        ))),
    }
}

/// Reads one `-backend-config` argument: `key=value` (the value a string, as Terraform takes
/// it; `true`/`false` are accepted where a bool is expected), or the path of a file of
/// `key = value` lines in HCL syntax, relative to `working_dir`.
pub fn parse_backend_config_arg(
    argument: &str,
    working_dir: &Path,
) -> Result<BTreeMap<String, Value>, StateError> {
    if let Some((key, value)) = argument.split_once('=') {
        let key = key.trim();
        if !key.is_empty() && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Ok([(key.to_string(), Value::string(value))].into());
        }
    }
    let path = working_dir.join(argument);
    let text = std::fs::read_to_string(&path).map_err(|e| StateError::Format {
        file: path.display().to_string(),
        message: format!("cannot read this backend configuration file given with -backend-config: {e} (check the path; a single setting is written `-backend-config=KEY=VALUE`)"),
    })?;
    let parsed: hcl::Value = hcl::from_str(&text).map_err(|e| StateError::Format {
        file: path.display().to_string(),
        message: format!("not a valid backend configuration file (write one setting per line, like `path = \"state/terraform.tfstate\"`): {e}"),
    })?;
    match from_hcl(parsed) {
        Value::Object(entries) => Ok(entries),
        _ => Err(StateError::Format {
            file: path.display().to_string(),
            message: "expected `key = value` lines".into(),
        }),
    }
}

fn from_hcl(value: hcl::Value) -> Value {
    match value {
        hcl::Value::Null => Value::Null,
        hcl::Value::Bool(b) => Value::Bool(b),
        hcl::Value::Number(n) => Number::parse(&n.to_string())
            .map(Value::Number)
            .unwrap_or(Value::Null),
        hcl::Value::String(s) => Value::String(s),
        hcl::Value::Array(items) => Value::Tuple(items.into_iter().map(from_hcl).collect()),
        hcl::Value::Object(entries) => {
            Value::Object(entries.into_iter().map(|(k, v)| (k, from_hcl(v))).collect())
        }
    }
}

/// Copies every workspace's state from `from` to `to` (`init -migrate-state`), creating the
/// workspaces that `to` lacks. Refuses to overwrite a different non-empty state in `to` unless
/// `force`. Returns the workspaces copied.
pub async fn migrate_states(
    from: &dyn Backend,
    to: &dyn Backend,
    force: bool,
) -> Result<Vec<String>, StateError> {
    let existing = to.workspaces().await?;
    let mut copied = Vec::new();
    for workspace in from.workspaces().await? {
        let Some(text) = from.pull(&workspace).await? else {
            continue;
        };
        if !existing.contains(&workspace) {
            to.create_workspace(&workspace).await?;
        }
        let target_has_state = to.pull(&workspace).await?.is_some_and(|t| {
            super::format::read_state(&t, "target")
                .is_ok_and(|s| !s.resources.is_empty() || !s.outputs.is_empty())
        });
        // A target that is empty (or was just created with an empty state) takes the source's
        // lineage.
        to.push(&workspace, &text, force || !target_has_state)
            .await?;
        copied.push(workspace);
    }
    Ok(copied)
}

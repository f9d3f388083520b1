//! Which backend a working directory uses: the `backend` block of the configuration, completed
//! by `strata init -backend-config=...` and remembered in `.terraform/strata-backend.json`.

use super::Context;
use crate::config::ModuleTree;
use crate::state::backend::Backend;
use crate::state::local::LocalBackend;
use crate::value::{value_from_json, value_to_json, Value};
use anyhow::{anyhow, bail, Context as _};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The backend settings `init` recorded.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BackendSettings {
    #[serde(rename = "type")]
    pub backend_type: String,
    pub settings: BTreeMap<String, serde_json::Value>,
}

pub fn settings_file(dir: &Path) -> PathBuf {
    dir.join(".terraform").join("strata-backend.json")
}

pub fn read_settings(dir: &Path) -> anyhow::Result<Option<BackendSettings>> {
    let path = settings_file(dir);
    match std::fs::read_to_string(&path) {
        Ok(text) => Ok(Some(
            serde_json::from_str(&text).with_context(|| format!("reading {}", path.display()))?,
        )),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(anyhow!("reading {}: {e}", path.display())),
    }
}

pub fn write_settings(dir: &Path, settings: &BackendSettings) -> anyhow::Result<()> {
    let path = settings_file(dir);
    std::fs::create_dir_all(path.parent().unwrap_or(dir))?;
    std::fs::write(&path, serde_json::to_string_pretty(settings)?)?;
    Ok(())
}

/// The settings the configuration declares (local when it declares none), merged with
/// `-backend-config` values.
pub fn configured_settings(
    tree: &ModuleTree,
    overrides: &[String],
    dir: &Path,
) -> anyhow::Result<BackendSettings> {
    let (backend_type, mut settings) = match &tree.module.terraform.backend {
        Some(backend) => (
            backend.backend_type.clone(),
            backend
                .settings
                .iter()
                .map(|(k, v)| {
                    Ok((
                        k.clone(),
                        value_to_json(v).map_err(|e| anyhow!("backend setting `{k}`: {e}"))?,
                    ))
                })
                .collect::<anyhow::Result<BTreeMap<_, _>>>()?,
        ),
        None => ("local".to_string(), BTreeMap::new()),
    };
    for item in overrides {
        if let Some((key, value)) = item.split_once('=') {
            settings.insert(key.trim().to_string(), parse_setting(value.trim()));
        } else {
            // A file of `key = value` lines, as Terraform's backend config files.
            let path = dir.join(item);
            let text = std::fs::read_to_string(&path)
                .with_context(|| {
                format!(
                    "cannot read the backend configuration file {} given with -backend-config (check the path; a single setting is written `-backend-config=KEY=VALUE`)",
                    path.display()
                )
            })?;
            for (number, line) in text.lines().enumerate() {
                let line = line.trim();
                if line.is_empty() || line.starts_with('#') || line.starts_with("//") {
                    continue;
                }
                let Some((key, value)) = line
                    .split_once('=')
                    .filter(|(key, value)| !key.trim().is_empty() && !value.trim().is_empty())
                else {
                    bail!(
                        "{}:{}: expected `key = value`, found `{line}`; write one backend setting per line, like `path = \"state/terraform.tfstate\"`",
                        path.display(),
                        number + 1
                    );
                };
                settings.insert(key.trim().to_string(), parse_setting(value.trim()));
            }
        }
    }
    let where_set = match &tree.module.terraform.backend {
        Some(backend) => format!("the backend block at {} or -backend-config", backend.span),
        None => "-backend-config".to_string(),
    };
    check_backend_settings(&backend_type, &settings, &where_set)?;
    Ok(BackendSettings {
        backend_type,
        settings,
    })
}

/// Refuses what a backend cannot take before anything is opened: an unknown type, and for the
/// local backend an unknown argument or a value that is not a string.
fn check_backend_settings(
    backend_type: &str,
    settings: &BTreeMap<String, serde_json::Value>,
    where_set: &str,
) -> anyhow::Result<()> {
    match backend_type {
        "local" => {
            for (name, value) in settings {
                if !["path", "workspace_dir"].contains(&name.as_str()) {
                    bail!("Invalid backend configuration: the \"local\" backend has no argument `{name}` (it takes `path` and `workspace_dir`); remove it from {where_set}.");
                }
                if !value.is_string() {
                    bail!("Invalid backend configuration: the \"local\" backend's `{name}` must be a string, not `{value}`; correct it in {where_set}.");
                }
            }
            Ok(())
        }
        "s3" => Ok(()),
        other => bail!("Unsupported backend type \"{other}\" in {where_set}: Strata supports \"local\" and \"s3\"; change the backend block's type."),
    }
}

fn parse_setting(text: &str) -> serde_json::Value {
    if let Some(inner) = text.strip_prefix('"').and_then(|t| t.strip_suffix('"')) {
        return serde_json::Value::String(inner.to_string());
    }
    match text {
        "true" => serde_json::Value::Bool(true),
        "false" => serde_json::Value::Bool(false),
        _ => text
            .parse::<i64>()
            .map(serde_json::Value::from)
            .unwrap_or_else(|_| serde_json::Value::String(text.to_string())),
    }
}

/// The backend for this working directory. A non-local backend must have been initialised.
pub async fn open(
    context: &Context,
    tree: Option<&ModuleTree>,
) -> anyhow::Result<Box<dyn Backend>> {
    let recorded = read_settings(&context.dir)?;
    let settings = match (recorded, tree) {
        (Some(recorded), Some(tree)) => {
            let configured = tree
                .module
                .terraform
                .backend
                .as_ref()
                .map(|b| b.backend_type.clone())
                .unwrap_or_else(|| "local".into());
            if configured != recorded.backend_type {
                bail!(
                    "Backend configuration changed: the configuration declares backend \"{configured}\" but this directory was initialised with \"{}\".\nRun `strata init -migrate-state` to copy the state to the new backend, or `strata init -reconfigure` to start over.",
                    recorded.backend_type
                );
            }
            recorded
        }
        (Some(recorded), None) => recorded,
        (None, Some(tree)) => {
            let configured = configured_settings(tree, &[], &context.dir)?;
            if configured.backend_type != "local" {
                bail!("Backend initialization required: the configuration declares backend \"{}\". Run `strata init` (with -backend-config=... as needed) first.", configured.backend_type);
            }
            configured
        }
        (None, None) => BackendSettings {
            backend_type: "local".into(),
            settings: BTreeMap::new(),
        },
    };
    open_settings(context, &settings).await
}

/// The backend described by `settings`.
pub async fn open_settings(
    context: &Context,
    settings: &BackendSettings,
) -> anyhow::Result<Box<dyn Backend>> {
    match settings.backend_type.as_str() {
        "local" => {
            let mut backend = LocalBackend::new(context.dir.clone());
            if let Some(path) = settings.settings.get("path").and_then(|v| v.as_str()) {
                backend = backend.with_path(path);
            }
            if let Some(dir) = settings
                .settings
                .get("workspace_dir")
                .and_then(|v| v.as_str())
            {
                backend = backend.with_workspace_dir(dir);
            }
            Ok(Box::new(backend))
        }
        "s3" => open_s3(context, settings).await,
        other => {
            bail!("Unsupported backend type \"{other}\": Strata supports \"local\" and \"s3\".")
        }
    }
}

#[cfg(feature = "aws")]
async fn open_s3(
    context: &Context,
    settings: &BackendSettings,
) -> anyhow::Result<Box<dyn Backend>> {
    let values: BTreeMap<String, Value> = settings
        .settings
        .iter()
        .map(|(k, v)| (k.clone(), value_from_json(v, None).unwrap_or(Value::Null)))
        .collect();
    let settings =
        crate::state::s3::S3Settings::from_settings(&values).map_err(|e| anyhow!("{e}"))?;
    let backend = crate::state::s3::S3Backend::new(settings, context.dir.clone())
        .await
        .map_err(|e| anyhow!("{e}"))?;
    Ok(Box::new(backend))
}

#[cfg(not(feature = "aws"))]
async fn open_s3(
    _context: &Context,
    _settings: &BackendSettings,
) -> anyhow::Result<Box<dyn Backend>> {
    let _ = value_from_json;
    let _: Option<Value> = None;
    bail!("this build of Strata has no S3 backend (it was built without the `aws` feature)")
}

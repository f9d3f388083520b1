//! Which backend a working directory uses: the `backend` block of the configuration, completed
//! by `strata init -backend-config=...` and remembered in `.terraform/strata-backend.json`.

use super::Context;
use crate::config::encryption::EncryptionConfig;
use crate::config::variables::VarSource;
use crate::config::ModuleTree;
use crate::diagnostics::{Diagnostics, SourceMap};
use crate::encryption::{Encryption, Sealer};
use crate::state::backend::Backend;
use crate::value::{value_from_json, value_to_json, Value};
use anyhow::{bail, Context as _};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The backend settings `init` recorded.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BackendSettings {
    #[serde(rename = "type")]
    pub backend_type: String,
    pub settings: BTreeMap<String, serde_json::Value>,
    /// The settings the backend block itself held at `init` (without `-backend-config`): a
    /// later run refuses a block that no longer matches them, as Terraform does.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub block: Option<BTreeMap<String, serde_json::Value>>,
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
        Err(e) => Err(anyhow::Error::new(e).context(format!("reading {}", path.display()))),
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
        Some(backend) => (backend.backend_type.clone(), block_settings(backend)?),
        None => ("local".to_string(), BTreeMap::new()),
    };
    let block = tree
        .module
        .terraform
        .backend
        .is_some()
        .then(|| settings.clone());
    for item in overrides {
        // One reader of `-backend-config` (`key=value`, or a file of HCL `key = value` lines),
        // shared with `state::configure`.
        for (key, value) in crate::state::parse_backend_config_arg(item, dir)? {
            let json = value_to_json(&value).with_context(|| format!("backend setting `{key}`"))?;
            settings.insert(key, json);
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
        block,
    })
}

/// The settings written in a backend block, as JSON.
fn block_settings(
    backend: &crate::config::BackendConfig,
) -> anyhow::Result<BTreeMap<String, serde_json::Value>> {
    backend
        .settings
        .iter()
        .map(|(k, v)| {
            Ok((
                k.clone(),
                value_to_json(v).with_context(|| format!("backend setting `{k}`"))?,
            ))
        })
        .collect()
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
            check_block_unchanged(tree, &recorded)?;
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
            block: None,
        },
    };
    let encryption = encryption(context, tree)?;
    open_settings_sealed(context, &settings, encryption.state).await
}

/// Refuses, as Terraform does, a backend block whose settings differ from those it held when
/// `init` ran (`-backend-config` values are not part of the comparison). Names the settings,
/// never their values (they may be credentials).
fn check_block_unchanged(tree: &ModuleTree, recorded: &BackendSettings) -> anyhow::Result<()> {
    let (Some(block), Some(at_init)) = (&tree.module.terraform.backend, &recorded.block) else {
        return Ok(());
    };
    let now = block_settings(block)?;
    let changed: Vec<String> = now
        .keys()
        .chain(at_init.keys())
        .filter(|name| now.get(*name) != at_init.get(*name))
        .map(|name| format!("`{name}`"))
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    if changed.is_empty() {
        return Ok(());
    }
    bail!(
        "Backend initialization required, please run \"strata init\"\n\nReason: Backend configuration block has changed ({} in the backend block at {}, since `strata init` recorded it).\n\nChanges to backend configurations require reinitialization: run `strata init` with either the -reconfigure or -migrate-state flag to use the current configuration.",
        changed.join(", "),
        block.span
    )
}

/// The encryption configured for this working directory: the root module's `encryption` block
/// with `TF_ENCRYPTION` merged over it, checked ([`encryption_config`], with this command line's
/// `-var`/`-var-file`). Without a loaded configuration (`state` commands, `output`, `show`) the
/// root module is loaded quietly for its block. Also made the one `terraform_remote_state`
/// reads with.
pub fn encryption(context: &Context, tree: Option<&ModuleTree>) -> anyhow::Result<Encryption> {
    let loaded;
    let tree = match tree {
        Some(tree) => Some(tree),
        None => {
            loaded = load_quietly(&context.dir);
            loaded.as_ref()
        }
    };
    let mut sources = crate::diagnostics::SourceMap::new();
    let config = match encryption_config(tree, &context.var_sources, &mut sources) {
        Ok(config) => config,
        Err(diagnostics) => {
            context.print_diagnostics(&diagnostics, &sources);
            return Err(super::Reported.into());
        }
    };
    let encryption = Encryption::new(config.as_ref())?;
    crate::encryption::use_for_remote_state(&encryption);
    Ok(encryption)
}

/// The plan sealer of the working directory `dir` ([`encryption_config`], without `-var`s),
/// for `drift`, which reads back the plan each environment's own `plan -out` sealed. That run
/// checked the configuration already; nothing here is shared with this process's own
/// encryption.
pub fn plan_sealer_of(dir: &Path) -> anyhow::Result<Sealer> {
    let tree = load_quietly(dir);
    let mut sources = crate::diagnostics::SourceMap::new();
    match encryption_config(tree.as_ref(), &[], &mut sources) {
        Ok(config) => Ok(Encryption::new(config.as_ref())?.plan),
        Err(diagnostics) => {
            let error = diagnostics.iter().find(|d| d.is_error());
            let error = error.map(|d| d.to_string()).unwrap_or_default();
            bail!("the encryption block of {}: {error}", dir.display())
        }
    }
}

/// A directory's configuration, or `None` when it does not load (its errors are the
/// command's own to report, not the encryption's).
fn load_quietly(dir: &Path) -> Option<ModuleTree> {
    let mut sources = crate::diagnostics::SourceMap::new();
    crate::config::load::load_tree(dir, &mut sources).ok()
}

/// The encryption configuration: `tree`'s `encryption` block with `TF_ENCRYPTION` merged over
/// it, its key providers' static expressions evaluated with `cli` and the `TF_VAR_`
/// environment, checked; `None` when neither configures encryption. Errors are diagnostics
/// whose files are in `sources`.
fn encryption_config(
    tree: Option<&ModuleTree>,
    cli: &[VarSource],
    sources: &mut SourceMap,
) -> Result<Option<EncryptionConfig>, Diagnostics> {
    use crate::config::encryption as config;
    let file = tree.and_then(|t| t.module.terraform.encryption.clone());
    let env = match std::env::var(config::ENV_VAR) {
        Ok(text) if !text.trim().is_empty() => Some(config::decode_env(&text)?),
        _ => None,
    };
    let Some(mut merged) = config::merge(file, env) else {
        return Ok(None);
    };
    let mut diagnostics = Diagnostics::new();
    if let Some(tree) = tree {
        let env = super::commands::env_vars();
        let inputs = crate::encryption::statics::VariableInputs { cli, env: &env };
        diagnostics =
            crate::encryption::statics::evaluate(&mut merged, &tree.module, &inputs, sources);
    }
    if !diagnostics.has_errors() {
        diagnostics = config::validate(&merged);
    }
    if diagnostics.has_errors() {
        for file in &merged.files {
            sources.add(file.clone());
        }
        return Err(diagnostics);
    }
    Ok(Some(merged))
}

/// The backend described by `settings`: `state::configure` is the one place that turns
/// backend settings into a backend.
pub async fn open_settings(
    context: &Context,
    settings: &BackendSettings,
) -> anyhow::Result<Box<dyn Backend>> {
    open_settings_sealed(context, settings, Sealer::plaintext("state")).await
}

/// [`open_settings`], with the state encrypted by `sealer`.
pub async fn open_settings_sealed(
    context: &Context,
    settings: &BackendSettings,
    sealer: Sealer,
) -> anyhow::Result<Box<dyn Backend>> {
    let values: BTreeMap<String, Value> = settings
        .settings
        .iter()
        .map(|(k, v)| (k.clone(), value_from_json(v, None).unwrap_or(Value::Null)))
        .collect();
    Ok(crate::state::configure::open_sealed_backend_of_type(
        &settings.backend_type,
        &values,
        &context.dir,
        sealer,
    )
    .await?)
}

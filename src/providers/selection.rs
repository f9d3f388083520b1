//! Which implementation serves each provider a configuration uses: the built-in one (the fast
//! path) or the plugin `init` installed under `.terraform/providers`, laid out as
//! `terraform init` lays it out.
//!
//! Rules, per provider (local name):
//! - `STRATA_PROVIDER_<name>=builtin` or `=plugin` forces the choice (`STRATA_PROVIDER_aws`);
//! - otherwise the built-in provider serves it when it implements every resource type and data
//!   source the configuration uses from it; else the installed plugin does;
//! - a plugin is found at
//!   `<data dir>/providers/<host>/<namespace>/<type>/<version>/<os>_<arch>/terraform-provider-<type>*`
//!   (`<data dir>` is `.terraform`, or `TF_DATA_DIR`), the version being the one
//!   `.terraform.lock.hcl` records, else the only one installed (the highest when several are
//!   and no lock file says which).
//!
//! Nothing here starts a process: [`choose`] only looks at the configuration and the files.

use super::Registry;
use crate::config::ModuleTree;
use crate::graph;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The default registry host of a source address without one.
const DEFAULT_HOST: &str = "registry.terraform.io";

/// How one provider of the configuration is served.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Choice {
    Builtin,
    Plugin(InstalledPlugin),
    /// Neither: the built-in lacks `missing` (empty when there is no built-in at all) and no
    /// plugin is installed (or a setting asked for what does not exist).
    Unavailable {
        missing: Vec<String>,
        reason: String,
    },
}

/// A plugin binary `init` installed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InstalledPlugin {
    /// `registry.terraform.io/hashicorp/aws`.
    pub source: String,
    pub version: String,
    pub executable: PathBuf,
}

/// The choice for one provider local name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Selection {
    /// The local name (`aws`).
    pub name: String,
    /// The full source address (`registry.terraform.io/hashicorp/aws`).
    pub source: String,
    pub choice: Choice,
}

impl Selection {
    /// What `init` prints: `- Using built-in provider aws` or
    /// `- Using plugin hashicorp/aws v3.39.0`.
    pub fn describe(&self) -> String {
        match &self.choice {
            Choice::Builtin => format!("- Using built-in provider {}", self.name),
            Choice::Plugin(plugin) => format!(
                "- Using plugin {} v{}",
                short_source(&plugin.source),
                plugin.version
            ),
            Choice::Unavailable { reason, .. } => {
                format!("- Provider {} is not available: {reason}", self.name)
            }
        }
    }
}

/// A forced choice from the environment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Preference {
    Builtin,
    Plugin,
    Automatic,
}

fn preference(name: &str) -> Preference {
    match std::env::var(format!("STRATA_PROVIDER_{name}")).as_deref() {
        Ok("builtin") => Preference::Builtin,
        Ok("plugin") => Preference::Plugin,
        _ => Preference::Automatic,
    }
}

/// Chooses, for every provider the configuration in `dir` uses (except `terraform`, always
/// built in), the built-in provider or the installed plugin.
pub fn choose(tree: &ModuleTree, dir: &Path) -> Vec<Selection> {
    let builtin = Registry::builtin();
    let used = used_types(tree);
    let locked = read_lock_file(dir);
    let mut selections = Vec::new();
    for (name, types) in used {
        if name == "terraform" {
            continue;
        }
        let written = written_source(tree, &name);
        let registered = builtin
            .get(&name)
            .filter(|r| written.as_ref().is_none_or(|w| *w == r.source));
        let source = match (&written, registered) {
            (Some(written), _) => written.clone(),
            (None, Some(registered)) => registered.source.clone(),
            (None, None) => normalize_source(&format!("hashicorp/{name}")),
        };
        let missing: Vec<String> = match registered {
            Some(registered) => {
                let schema = (registered.factory)().schema();
                types
                    .iter()
                    .filter(|(data, type_name)| match data {
                        true => !schema.data_sources.contains_key(type_name.as_str()),
                        false => !schema.resources.contains_key(type_name.as_str()),
                    })
                    .map(|(data, type_name)| match data {
                        true => format!("data source {type_name}"),
                        false => format!("resource type {type_name}"),
                    })
                    .collect()
            }
            None => vec![],
        };
        let has_builtin = registered.is_some();
        let installed = find_plugin(dir, &source, locked.get(&source).map(String::as_str));
        let choice = decide(preference(&name), has_builtin, missing, installed);
        selections.push(Selection {
            name,
            source,
            choice,
        });
    }
    selections
}

fn decide(
    preference: Preference,
    has_builtin: bool,
    missing: Vec<String>,
    installed: Option<InstalledPlugin>,
) -> Choice {
    let install_hint = "run `strata init` with a provider installation source (a filesystem mirror in the CLI configuration, or `-plugin-dir`)";
    match (preference, has_builtin, installed) {
        (Preference::Builtin, true, _) => Choice::Builtin,
        (Preference::Builtin, false, _) => Choice::Unavailable {
            missing,
            reason: "the setting asks for a built-in provider, and Strata has none of this name"
                .into(),
        },
        (_, _, Some(plugin))
            if preference == Preference::Plugin || !missing.is_empty() || !has_builtin =>
        {
            Choice::Plugin(plugin)
        }
        (Preference::Plugin, _, None) => Choice::Unavailable {
            missing,
            reason: format!(
                "the setting asks for the plugin, and none is installed: {install_hint}"
            ),
        },
        (_, true, _) if missing.is_empty() => Choice::Builtin,
        (_, _, _) => Choice::Unavailable {
            reason: if has_builtin {
                format!(
                    "the built-in provider lacks {}, and no plugin is installed: {install_hint}",
                    missing.join(", ")
                )
            } else {
                format!("Strata has no built-in provider of this name, and no plugin is installed: {install_hint}")
            },
            missing,
        },
    }
}

/// Every provider local name the configuration uses (resolved to the root's names through
/// module `providers` maps), with the (is data source, type name) pairs it uses from each.
fn used_types(tree: &ModuleTree) -> BTreeMap<String, BTreeSet<(bool, String)>> {
    let mut used: BTreeMap<String, BTreeSet<(bool, String)>> = BTreeMap::new();
    collect_used(tree, tree, &mut Vec::new(), &mut used);
    for provider in &tree.module.providers {
        used.entry(provider.name.clone()).or_default();
    }
    for name in tree.module.terraform.required_providers.keys() {
        used.entry(name.clone()).or_default();
    }
    used
}

fn collect_used(
    root: &ModuleTree,
    tree: &ModuleTree,
    path: &mut Vec<String>,
    used: &mut BTreeMap<String, BTreeSet<(bool, String)>>,
) {
    for (resource, config) in &tree.module.resources {
        let provider = graph::resolve_provider(root, path, &config.provider);
        let data = resource.mode == crate::addrs::ResourceMode::Data;
        used.entry(provider.name)
            .or_default()
            .insert((data, resource.type_name.clone()));
    }
    for (name, child) in &tree.children {
        path.push(name.clone());
        collect_used(root, child, path, used);
        path.pop();
    }
}

/// The full source address the root module's `required_providers` gives a local name.
fn written_source(tree: &ModuleTree, name: &str) -> Option<String> {
    tree.module
        .terraform
        .required_providers
        .get(name)
        .and_then(|r| r.source.as_deref())
        .map(normalize_source)
}

impl Registry {
    /// The registry of one command: the built-in providers, and a plugin (started once, to
    /// read its schema) for each provider [`choose`] gives to a plugin. Providers nothing serves
    /// are left out (the engine reports each resource that needs one).
    pub async fn for_configuration(
        tree: &ModuleTree,
        dir: &Path,
    ) -> Result<Registry, super::ProviderError> {
        let _phase = crate::timings::phase("provider registry");
        let mut registry = Registry::builtin();
        for selection in choose(tree, dir) {
            if let Choice::Plugin(plugin) = selection.choice {
                registry.register_plugin(&selection.name, plugin).await?;
            }
        }
        Ok(registry)
    }

    /// Starts `plugin` to read its schema and registers it under `name`; the process serves
    /// the first configuration of the provider.
    pub async fn register_plugin(
        &mut self,
        name: &str,
        plugin: InstalledPlugin,
    ) -> Result<(), super::ProviderError> {
        use super::plugin::{provider as plugin_provider, LaunchSpec};
        let spec = LaunchSpec::new(plugin.source.clone(), plugin.executable.clone());
        let loaded = plugin_provider::load(spec.clone()).await?;
        let spare = std::sync::Arc::new(std::sync::Mutex::new(Some(loaded.client)));
        let (schema, wire_schema) = (loaded.schema, loaded.wire_schema);
        self.register_shared(
            name,
            &plugin.source,
            std::sync::Arc::new(move || {
                std::sync::Arc::new(plugin_provider::PluginProvider::new(
                    spec.clone(),
                    schema.clone(),
                    wire_schema.clone(),
                    spare.clone(),
                )) as std::sync::Arc<dyn super::Provider>
            }),
        );
        Ok(())
    }
}

/// `hashicorp/aws` → `registry.terraform.io/hashicorp/aws` (lowercase, as Terraform keeps it).
pub fn normalize_source(written: &str) -> String {
    let lower = written.to_ascii_lowercase();
    match lower.split('/').count() {
        2 => format!("{DEFAULT_HOST}/{lower}"),
        _ => lower,
    }
}

fn short_source(source: &str) -> &str {
    source
        .strip_prefix(DEFAULT_HOST)
        .and_then(|rest| rest.strip_prefix('/'))
        .unwrap_or(source)
}

/// `.terraform` or `TF_DATA_DIR`, relative to the working directory `dir`.
pub fn data_dir(dir: &Path) -> PathBuf {
    match std::env::var_os("TF_DATA_DIR") {
        Some(custom) if !custom.is_empty() => dir.join(custom),
        _ => dir.join(".terraform"),
    }
}

/// The provider versions `.terraform.lock.hcl` records, by source address.
fn read_lock_file(dir: &Path) -> BTreeMap<String, String> {
    let mut versions = BTreeMap::new();
    let Ok(text) = std::fs::read_to_string(dir.join(".terraform.lock.hcl")) else {
        return versions;
    };
    let Ok(body) = hcl_edit::parser::parse_body(&text) else {
        return versions;
    };
    for block in body.get_blocks("provider") {
        let Some(label) = block.labels.first() else {
            continue;
        };
        let version = block
            .body
            .get_attribute("version")
            .and_then(|a| a.value.as_str().map(str::to_string));
        if let Some(version) = version {
            versions.insert(normalize_source(label.as_str()), version);
        }
    }
    versions
}

/// The installed plugin of `source`: the `locked` version, else the only (or highest)
/// installed one, for this machine's platform.
pub fn find_plugin(dir: &Path, source: &str, locked: Option<&str>) -> Option<InstalledPlugin> {
    let type_dir = data_dir(dir).join("providers").join(source);
    let version = match locked {
        Some(version) => version.to_string(),
        None => {
            let mut versions: Vec<String> = std::fs::read_dir(&type_dir)
                .ok()?
                .filter_map(Result::ok)
                .filter_map(|entry| entry.file_name().into_string().ok())
                .collect();
            versions.sort_by_key(|version| version_key(version));
            versions.pop()?
        }
    };
    let platform_dir = type_dir.join(&version).join(platform());
    let type_name = source.rsplit('/').next()?;
    let prefix = format!("terraform-provider-{type_name}");
    let executable = std::fs::read_dir(&platform_dir)
        .ok()?
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| {
            path.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with(&prefix))
        })
        .min()?;
    Some(InstalledPlugin {
        source: source.to_string(),
        version,
        executable,
    })
}

/// Numeric parts first, so `3.10.0` sorts after `3.9.0`.
fn version_key(version: &str) -> Vec<u64> {
    version
        .split(['.', '-'])
        .map(|part| part.parse().unwrap_or(0))
        .collect()
}

/// Terraform's platform directory name: `linux_amd64`, `darwin_arm64`.
pub fn platform() -> String {
    let os = std::env::consts::OS;
    let arch = match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        "x86" => "386",
        other => other,
    };
    format!("{os}_{arch}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plugin() -> InstalledPlugin {
        InstalledPlugin {
            source: "registry.terraform.io/hashicorp/aws".into(),
            version: "3.39.0".into(),
            executable: PathBuf::from("terraform-provider-aws_v3.39.0_x5"),
        }
    }

    #[test]
    fn the_builtin_serves_what_it_implements_and_the_plugin_the_rest() {
        let auto = Preference::Automatic;
        assert_eq!(decide(auto, true, vec![], Some(plugin())), Choice::Builtin);
        assert_eq!(
            decide(
                auto,
                true,
                vec!["resource type aws_kms_key".into()],
                Some(plugin())
            ),
            Choice::Plugin(plugin())
        );
        assert_eq!(
            decide(auto, false, vec![], Some(plugin())),
            Choice::Plugin(plugin())
        );
        let Choice::Unavailable { reason, .. } =
            decide(auto, true, vec!["resource type aws_kms_key".into()], None)
        else {
            panic!("expected unavailable");
        };
        assert!(
            reason.contains("aws_kms_key") && reason.contains("strata init"),
            "{reason}"
        );
    }

    #[test]
    fn a_setting_forces_either() {
        assert_eq!(
            decide(Preference::Plugin, true, vec![], Some(plugin())),
            Choice::Plugin(plugin())
        );
        assert_eq!(
            decide(Preference::Builtin, true, vec!["x".into()], Some(plugin())),
            Choice::Builtin
        );
    }

    #[test]
    fn the_installed_plugin_is_found_in_terraforms_layout() {
        let dir = tempfile::tempdir().unwrap();
        let source = "registry.terraform.io/hashicorp/aws";
        for version in ["3.9.0", "3.39.0"] {
            let platform_dir = dir
                .path()
                .join(".terraform/providers")
                .join(source)
                .join(version)
                .join(platform());
            std::fs::create_dir_all(&platform_dir).unwrap();
            std::fs::write(
                platform_dir.join(format!("terraform-provider-aws_v{version}_x5")),
                "",
            )
            .unwrap();
        }
        let found = find_plugin(dir.path(), source, None).unwrap();
        assert_eq!(found.version, "3.39.0");
        std::fs::write(
            dir.path().join(".terraform.lock.hcl"),
            "provider \"registry.terraform.io/hashicorp/aws\" {\n  version = \"3.9.0\"\n}\n",
        )
        .unwrap();
        let locked = read_lock_file(dir.path());
        let found =
            find_plugin(dir.path(), source, locked.get(source).map(String::as_str)).unwrap();
        assert_eq!(found.version, "3.9.0");
        assert!(found
            .executable
            .ends_with("terraform-provider-aws_v3.9.0_x5"));
        let selection = Selection {
            name: "aws".into(),
            source: source.into(),
            choice: Choice::Plugin(found),
        };
        assert_eq!(selection.describe(), "- Using plugin hashicorp/aws v3.9.0");
    }
}

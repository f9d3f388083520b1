//! `strata providers`: which providers the configuration requires, module by module, and
//! (`providers schema -json`) their schemas in the form of Terraform's command of the same name,
//! so tools written for Terraform's output (and Strata's own schema audit test) can read them.

use super::args::ProvidersCommand;
use super::commands::load_config;
use super::views::providers::{ModuleRequirements, ProvidersView};
use super::Context;
use crate::config::ModuleTree;
use crate::diagnostics::SourceMap;
use crate::providers::Registry;
use anyhow::bail;
use std::collections::BTreeMap;

/// Every provider local name the tree uses: provider blocks, resources, `required_providers`.
pub(super) fn collect_providers(tree: &ModuleTree, names: &mut Vec<String>) {
    names.extend(tree.module.providers.iter().map(|p| p.name.clone()));
    names.extend(
        tree.module
            .resources
            .values()
            .map(|r| r.provider.name.clone()),
    );
    names.extend(tree.module.terraform.required_providers.keys().cloned());
    for child in tree.children.values() {
        collect_providers(child, names);
    }
}

pub async fn providers(context: &Context, command: Option<ProvidersCommand>) -> anyhow::Result<u8> {
    let mut sources = SourceMap::new();
    let tree = load_config(context, &mut sources)?;
    match command {
        None => {
            ProvidersView.requirements(&requirements(&tree, &Registry::builtin()));
            Ok(0)
        }
        Some(ProvidersCommand::Schema { json }) => {
            if !json {
                bail!("The `strata providers schema` command requires the `-json` flag.");
            }
            let registry = Registry::builtin();
            let mut names = Vec::new();
            collect_providers(&tree, &mut names);
            let mut schemas = serde_json::Map::new();
            for name in names {
                let Some(registered) = registry.get(&name) else {
                    bail!(
                        "Provider \"{name}\" is not available: Strata has these built in: {}.",
                        registry.names().collect::<Vec<_>>().join(", ")
                    );
                };
                let provider = (registered.factory)();
                schemas.insert(
                    registered.source.clone(),
                    provider.schema().to_terraform_json(),
                );
            }
            let document =
                serde_json::json!({"format_version": "1.0", "provider_schemas": schemas});
            ProvidersView.schemas_json(&document)?;
            Ok(0)
        }
        Some(ProvidersCommand::Lock {
            platforms,
            fs_mirror,
            net_mirror,
            providers,
        }) => {
            let source = super::providers_install::lock_source(fs_mirror, net_mirror)?;
            super::providers_install::lock(
                context,
                &tree,
                &mut sources,
                &platforms,
                source,
                &providers,
            )
            .await
        }
        Some(ProvidersCommand::Mirror {
            platforms,
            target_dir,
        }) => {
            super::providers_install::mirror(context, &tree, &mut sources, &platforms, &target_dir)
                .await
        }
    }
}

/// One module's requirements (`provider[source] constraint`), then its child modules'.
fn requirements(tree: &ModuleTree, registry: &Registry) -> ModuleRequirements {
    let mut providers: BTreeMap<String, Option<String>> = BTreeMap::new();
    for (name, requirement) in &tree.module.terraform.required_providers {
        providers.insert(
            source_address(registry, name, requirement.source.as_deref()),
            requirement.version.clone(),
        );
    }
    let used = tree
        .module
        .providers
        .iter()
        .map(|p| &p.name)
        .chain(tree.module.resources.values().map(|r| &r.provider.name));
    for name in used {
        if !tree.module.terraform.required_providers.contains_key(name) {
            providers
                .entry(source_address(registry, name, None))
                .or_insert(None);
        }
    }
    ModuleRequirements {
        providers: providers.into_iter().collect(),
        children: tree
            .children
            .iter()
            .map(|(name, child)| (name.clone(), requirements(child, registry)))
            .collect(),
    }
}

/// `hashicorp/aws` → `registry.terraform.io/hashicorp/aws`; no source → the built-in provider
/// of that name, else the `hashicorp` namespace, as Terraform assumes.
fn source_address(registry: &Registry, name: &str, source: Option<&str>) -> String {
    match source {
        Some(source) if source.split('/').count() == 3 => source.to_string(),
        Some(source) => format!("registry.terraform.io/{source}"),
        None => match registry.get(name) {
            Some(builtin) => builtin.source.clone(),
            None => format!("registry.terraform.io/hashicorp/{name}"),
        },
    }
}

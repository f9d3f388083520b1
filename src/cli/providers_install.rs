//! `strata providers lock` and `strata providers mirror DIR`, as Terraform's commands of the
//! same names, over [`crate::install::lock_mirror`].

use super::init_providers::{builtin_addresses, load_cli_config, print_reported};
use super::views::providers::ProvidersView;
use super::Context;
use crate::config::ModuleTree;
use crate::diagnostics::{Diagnostic, SourceMap};
use crate::install::addr::ProviderAddr;
use crate::install::lock_mirror::{self, Step};
use crate::install::lockfile::LockFile;
use crate::install::providers::{sources_for, Settings};
use crate::install::requirements::{self, Requirements};
use crate::install::source::{Platform, Source};
use crate::install::{CliConfig, Discovery};
use crate::providers::Registry;
use anyhow::bail;
use anyhow::Context as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// `-fs-mirror` / `-net-mirror`, else the origin registries.
pub fn lock_source(
    fs_mirror: Option<PathBuf>,
    net_mirror: Option<String>,
) -> anyhow::Result<Source> {
    match (fs_mirror, net_mirror) {
        (Some(_), Some(_)) => {
            bail!("The -fs-mirror and -net-mirror options are mutually exclusive.")
        }
        (Some(dir), None) => Ok(Source::FilesystemMirror(dir)),
        (None, Some(url)) => match url::Url::parse(&url) {
            Ok(parsed) if parsed.scheme() == "https" => {
                let text = if url.ends_with('/') {
                    url
                } else {
                    format!("{url}/")
                };
                Ok(Source::NetworkMirror(url::Url::parse(&text)?))
            }
            _ => bail!("Invalid -net-mirror `{url}`: it must be an absolute https: URL."),
        },
        (None, None) => Ok(Source::Registry),
    }
}

fn platforms(given: &[String]) -> anyhow::Result<Vec<Platform>> {
    if given.is_empty() {
        return Ok(vec![Platform::current()]);
    }
    given
        .iter()
        .map(|p| Platform::parse(p).map_err(anyhow::Error::msg))
        .collect()
}

/// The requirements, restricted to `only` when given.
fn requirements(
    context: &Context,
    tree: &ModuleTree,
    sources: &SourceMap,
    only: &[String],
) -> anyhow::Result<Requirements> {
    let builtin = builtin_addresses(&Registry::builtin());
    let mut all = match requirements::collect(tree, &builtin) {
        Ok(all) => all,
        Err(diagnostics) => return print_reported(context, &diagnostics, sources),
    };
    if !only.is_empty() {
        let wanted: Vec<ProviderAddr> = only
            .iter()
            .map(|p| ProviderAddr::parse(p).map_err(anyhow::Error::msg))
            .collect::<anyhow::Result<_>>()?;
        if let Some(missing) = wanted.iter().find(|w| !all.contains_key(w)) {
            bail!("Invalid provider argument: the configuration does not require {missing}.");
        }
        all.retain(|addr, _| wanted.contains(addr));
    }
    Ok(all)
}

fn settings(context: &Context) -> Settings {
    Settings {
        dir: context.dir.clone(),
        plugin_dirs: Vec::new(),
        upgrade: false,
        platform: Platform::current(),
        builtin: builtin_addresses(&Registry::builtin())
            .into_values()
            .collect(),
        home: std::env::var_os("HOME").map(PathBuf::from),
    }
}

fn discovery(config: CliConfig) -> anyhow::Result<Discovery> {
    let client = crate::install::http::client().map_err(anyhow::Error::msg)?;
    Ok(Discovery::new(client, Arc::new(config)))
}

pub async fn lock(
    context: &Context,
    tree: &ModuleTree,
    sources: &mut SourceMap,
    given_platforms: &[String],
    source: Source,
    only: &[String],
) -> anyhow::Result<u8> {
    let platforms = platforms(given_platforms)?;
    let requirements = requirements(context, tree, sources, only)?;
    let config = load_cli_config(context, sources)?;
    let lock = match LockFile::read(&context.dir, sources) {
        Ok(lock) => lock,
        Err(diagnostics) => return print_reported(context, &diagnostics, sources),
    };
    let source = match source {
        Source::FilesystemMirror(dir) => Source::FilesystemMirror(context.dir.join(dir)),
        other => other,
    };
    let discovery = discovery(config)?;
    let builtin = settings(context).builtin;
    let mut report = |step: Step| ProvidersView.step("", &step);
    let updated = match lock_mirror::lock_platforms(
        &requirements,
        &lock,
        &source,
        &platforms,
        &builtin,
        &discovery,
        &mut report,
    )
    .await
    {
        Ok(updated) => updated,
        Err(message) => {
            let diagnostic =
                Diagnostic::error("Could not retrieve providers for locking").with_detail(message);
            return print_reported(context, &diagnostic.into(), sources);
        }
    };
    if updated == lock {
        ProvidersView.locked(false);
        return Ok(0);
    }
    updated
        .write(&context.dir)
        .context("Failed to write the dependency lock file")?;
    ProvidersView.locked(true);
    Ok(0)
}

pub async fn mirror(
    context: &Context,
    tree: &ModuleTree,
    sources: &mut SourceMap,
    given_platforms: &[String],
    target_dir: &Path,
) -> anyhow::Result<u8> {
    let platforms = platforms(given_platforms)?;
    let requirements = requirements(context, tree, sources, &[])?;
    let config = load_cli_config(context, sources)?;
    let lock = match LockFile::read(&context.dir, sources) {
        Ok(lock) => lock,
        Err(diagnostics) => return print_reported(context, &diagnostics, sources),
    };
    let settings = settings(context);
    let target = context.dir.join(target_dir);
    for (provider, constraints) in &requirements {
        let provider_sources = sources_for(
            &config,
            &settings,
            provider,
            lock.providers.contains_key(provider),
        );
        let one = Requirements::from([(provider.clone(), constraints.clone())]);
        let discovery = discovery(config.clone())?;
        ProvidersView.mirroring(provider);
        let mut report = |step: Step| ProvidersView.step("  ", &step);
        if let Err(message) = lock_mirror::mirror(
            &one,
            &lock,
            &provider_sources,
            &platforms,
            &settings.builtin,
            &target,
            &discovery,
            &mut report,
        )
        .await
        {
            let diagnostic =
                Diagnostic::error("Failed to mirror the providers").with_detail(message);
            return print_reported(context, &diagnostic.into(), sources);
        }
    }
    Ok(0)
}

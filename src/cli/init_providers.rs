//! `init`'s provider step: installs the plugins the configuration needs through
//! [`crate::install::providers`], prints each step as Terraform does, writes or checks
//! `.terraform.lock.hcl` (`-lockfile=readonly`), and names the built-in provider that serves
//! each provider no plugin was installed for.
//!
//! Where built-in vs plugin is decided for running (`providers::selection::choose`, helper
//! "plugin") is not called here yet: this prints what was installed, and the built-ins as
//! before.

use super::views::messages::InitView;
use super::{Context, Reported};
use crate::config::ModuleTree;
use crate::diagnostics::{Diagnostic, Diagnostics, SourceMap};
use crate::install::addr::ProviderAddr;
use crate::install::lockfile::{LockFile, LOCK_FILE_NAME};
use crate::install::providers::{install, Event, Settings};
use crate::install::source::Platform;
use crate::install::{requirements, CliConfig, Discovery};
use crate::providers::selection::Choice;
use crate::providers::Registry;
use anyhow::bail;
use anyhow::Context as _;
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::Arc;

/// `init`'s provider flags.
#[derive(Clone, Debug, Default)]
pub struct ProviderFlags {
    pub upgrade: bool,
    pub plugin_dirs: Vec<PathBuf>,
    /// `-lockfile=readonly`.
    pub lockfile: Option<String>,
}

/// The built-in providers by local name, with their addresses.
pub(super) fn builtin_addresses(registry: &Registry) -> BTreeMap<String, ProviderAddr> {
    registry
        .names()
        .filter_map(|name| {
            let source = &registry.get(name)?.source;
            Some((name.to_string(), ProviderAddr::parse(source).ok()?))
        })
        .collect()
}

/// The CLI configuration, with its diagnostics printed on failure.
pub(super) fn load_cli_config(
    context: &Context,
    sources: &mut SourceMap,
) -> anyhow::Result<CliConfig> {
    match CliConfig::load_into(sources) {
        Ok(config) => Ok(config),
        Err(diagnostics) => print_reported(context, &diagnostics, sources),
    }
}

/// Installs the providers `tree` requires and prints what was done.
pub async fn init_providers(
    context: &Context,
    tree: &ModuleTree,
    sources: &mut SourceMap,
    flags: &ProviderFlags,
) -> anyhow::Result<()> {
    let readonly = match flags.lockfile.as_deref() {
        None => false,
        Some("readonly") => true,
        Some(other) => bail!(
            "Invalid -lockfile option `{other}`: the only mode is `readonly` (check the lock file, never write it)."
        ),
    };
    let registry = Registry::builtin();
    let builtin = builtin_addresses(&registry);
    let requirements = match requirements::collect(tree, &builtin) {
        Ok(requirements) => requirements,
        Err(diagnostics) => return print_reported(context, &diagnostics, sources),
    };
    let config = load_cli_config(context, sources)?;
    let lock = match LockFile::read(&context.dir, sources) {
        Ok(lock) => lock,
        Err(diagnostics) => return print_reported(context, &diagnostics, sources),
    };
    let client = crate::install::http::client().map_err(anyhow::Error::msg)?;
    let config = Arc::new(config);
    let discovery = Discovery::new(client, config.clone());
    let settings = Settings {
        dir: context.dir.clone(),
        plugin_dirs: flags.plugin_dirs.clone(),
        upgrade: flags.upgrade,
        platform: Platform::current(),
        builtin: builtin.values().cloned().collect(),
        home: std::env::var_os("HOME").map(PathBuf::from),
    };
    let view = InitView(context.style);
    let mut served_by_builtin = BTreeSet::new();
    let mut fetched = BTreeSet::new();
    let mut overridden = Vec::new();
    let mut report = |event: Event| match event {
        Event::BuiltIn { provider } => {
            served_by_builtin.insert(provider);
        }
        Event::DevOverride { provider, dir } => overridden.push(format!(
            " - {} in {}",
            provider.for_display(),
            dir.display()
        )),
        other => {
            if let Event::Installed { provider, .. } | Event::FromCache { provider, .. } = &other {
                fetched.insert(provider.clone());
            }
            view.provider_event(&other);
        }
    };
    let outcome = match install(
        &requirements,
        &lock,
        &config,
        &discovery,
        &settings,
        &mut report,
    )
    .await
    {
        Ok(outcome) => outcome,
        Err(mut diagnostics) => {
            let names: Vec<&str> = registry.names().collect();
            for diagnostic in &mut diagnostics.0 {
                if diagnostic.help.is_none() {
                    diagnostic.help = Some(format!(
                        "Strata has these providers built in: {}; others are installed as plugins through the CLI configuration's provider_installation (or -plugin-dir).",
                        names.join(", ")
                    ));
                }
            }
            return print_reported(context, &diagnostics, sources);
        }
    };
    if !overridden.is_empty() {
        let warning = Diagnostic::warning("Provider development overrides are in effect")
            .with_detail(format!(
                "The following provider development overrides are set in the CLI configuration:\n{}\n\nSkip strata init when using provider development overrides. It is not necessary and may error unexpectedly.",
                overridden.join("\n")
            ));
        context.print_diagnostics(&warning.into(), sources);
    }
    record_lock(context, &lock, &outcome.lock, readonly, sources)?;
    // Which of the built-in provider and the installed plugin each command will use (read
    // after the lock file is written: it names the plugin's version).
    let selections = crate::providers::selection::choose(tree, &context.dir);
    for (name, addr) in &builtin {
        let selected = selections.iter().find(|s| &s.name == name);
        match selected.map(|s| &s.choice) {
            Some(Choice::Plugin(_)) | Some(Choice::Unavailable { .. }) => {}
            _ if served_by_builtin.contains(addr)
                || (addr.is_builtin() && requirements.contains_key(addr)) =>
            {
                view.builtin_used(name, addr);
            }
            _ => {}
        }
    }
    for selection in &selections {
        if matches!(
            selection.choice,
            Choice::Plugin(_) | Choice::Unavailable { .. }
        ) {
            view.selection(selection);
        }
    }
    warn_incomplete_lock(
        context,
        &outcome.lock,
        &fetched,
        &settings.platform,
        sources,
    );
    Ok(())
}

/// Writes the lock when it changed (or refuses to, with `-lockfile=readonly`), and says so as
/// Terraform does.
fn record_lock(
    context: &Context,
    before: &LockFile,
    after: &LockFile,
    readonly: bool,
    sources: &SourceMap,
) -> anyhow::Result<()> {
    if before == after {
        return Ok(());
    }
    if readonly {
        let diagnostic = Diagnostic::error("Provider dependency changes detected").with_detail(
            "Changes to the required provider dependencies were detected, but the lock file is read-only. To use and record these requirements, run \"strata init\" without the \"-lockfile=readonly\" flag.",
        );
        return print_reported(context, &Diagnostics::from(diagnostic), sources);
    }
    let existed = context.dir.join(LOCK_FILE_NAME).exists();
    after
        .write(&context.dir)
        .with_context(|| format!("Failed to write the dependency lock file {LOCK_FILE_NAME}"))?;
    InitView(context.style).lock_file_written(existed);
    Ok(())
}

/// Terraform's warning when a provider fetched in this run is locked with the hash of this
/// platform's package only (no signed checksums for the others): another platform's `init`
/// would fail on it.
fn warn_incomplete_lock(
    context: &Context,
    lock: &LockFile,
    fetched: &BTreeSet<ProviderAddr>,
    platform: &Platform,
    sources: &SourceMap,
) {
    let incomplete: Vec<String> = fetched
        .iter()
        .filter(|p| lock.providers.get(*p).is_some_and(|l| l.hashes.len() == 1))
        .map(|p| format!("  - {}", p.for_display()))
        .collect();
    if incomplete.is_empty() {
        return;
    }
    let warning = Diagnostic::warning("Incomplete lock file information for providers").with_detail(format!(
        "Due to your customized provider installation methods, Strata was forced\nto calculate lock file checksums locally for the following providers:\n{}\n\nThe current {LOCK_FILE_NAME} file only includes checksums for\n{platform}, so Strata or Terraform running on another platform will fail to install\nthese providers.\n\nTo calculate additional checksums for another platform, run:\n  strata providers lock -platform={platform}\n(where {platform} is the platform to generate)",
        incomplete.join("\n")
    ));
    context.print_diagnostics(&warning.into(), sources);
}

/// Prints the diagnostics, then returns the marker that they were printed.
pub(super) fn print_reported<T>(
    context: &Context,
    diagnostics: &Diagnostics,
    sources: &SourceMap,
) -> anyhow::Result<T> {
    context.print_diagnostics(diagnostics, sources);
    Err(Reported.into())
}

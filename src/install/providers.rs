//! The provider installer of `init`, following Terraform's `providercache.Installer`:
//! 1. each required provider gets its acceptable versions: the lock file's version when there is
//!    one (unless `-upgrade`), else every version its constraints allow;
//! 2. the sources that may install it (`-plugin-dir`, the CLI configuration's
//!    `provider_installation`, or the implied local directories and the origin registry) are
//!    asked for their versions, and the newest acceptable one is selected;
//! 3. the package is installed into `.terraform/providers/<host>/<ns>/<type>/<version>/<os>_<arch>`
//!    (a symbolic link to an unpacked mirror directory, an extracted archive otherwise), through
//!    the plugin cache when one is configured, verified before anything of it is run: against
//!    the lock file's hashes, a network mirror's hashes, a registry's SHA-256 and SHA256SUMS;
//! 4. the lock gets the version, the canonical constraints and the hashes (the installed
//!    package's `h1:`, and the `zh:` of every package a signed `SHA256SUMS` lists).
//!
//! Providers Strata has built in are installed only from a method configured explicitly (a
//! filesystem or network mirror, `-plugin-dir`) or when the lock file names them; when none
//! offers them the built-in serves, which is not an error. Progress is reported as [`Event`]s;
//! the CLI prints them.

use super::addr::ProviderAddr;
use super::cliconfig::{CliConfig, MethodLocation};
use super::discovery::Discovery;
use super::lockfile::{LockFile, LockedProvider};
use super::package::{self, Verified};
use super::requirements::{accepts, canonical_constraints, Requirements};
use super::source::{Platform, Source};
use crate::diagnostics::{Diagnostic, Diagnostics};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// What the CLI decided before installation starts.
#[derive(Clone, Debug)]
pub struct Settings {
    /// The working directory (`terraform.d/plugins` and `.terraform` are found there).
    pub dir: PathBuf,
    /// `-plugin-dir`: when given, the only sources.
    pub plugin_dirs: Vec<PathBuf>,
    /// `-upgrade`: ignore the versions the lock file selected.
    pub upgrade: bool,
    pub platform: Platform,
    /// Providers Strata has built in.
    pub builtin: BTreeSet<ProviderAddr>,
    /// The home directory (`~/.terraform.d/plugins`).
    pub home: Option<PathBuf>,
}

/// Progress of the installation, one provider at a time.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    /// `- Reusing previous version of hashicorp/aws from the dependency lock file`
    Reusing { provider: ProviderAddr },
    /// `- Finding hashicorp/aws versions matching "~> 3.39"...`
    Finding {
        provider: ProviderAddr,
        constraints: Option<String>,
    },
    /// `- Using previously-installed hashicorp/aws v3.39.0`
    AlreadyInstalled {
        provider: ProviderAddr,
        version: String,
    },
    /// `- Using hashicorp/aws v3.39.0 from the shared cache directory`
    FromCache {
        provider: ProviderAddr,
        version: String,
    },
    /// `- Installing hashicorp/aws v3.39.0...`
    Installing {
        provider: ProviderAddr,
        version: String,
    },
    /// `- Installed hashicorp/aws v3.39.0 (unauthenticated)`
    Installed {
        provider: ProviderAddr,
        version: String,
        verified: Verified,
    },
    /// A provider Strata has built in that no configured method offers: the built-in serves.
    BuiltIn { provider: ProviderAddr },
    /// A provider the CLI configuration's `dev_overrides` points at a directory: not installed,
    /// not locked (as in Terraform).
    DevOverride {
        provider: ProviderAddr,
        dir: PathBuf,
    },
}

/// A provider installed as a plugin.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Installed {
    pub version: String,
    /// `.terraform/providers/<host>/<ns>/<type>/<version>/<os>_<arch>`.
    pub dir: PathBuf,
}

/// What `init` ends with.
#[derive(Clone, Debug, Default)]
pub struct Outcome {
    pub installed: BTreeMap<ProviderAddr, Installed>,
    /// The lock after installation (write it unless `-lockfile=readonly`).
    pub lock: LockFile,
}

/// One source with the providers it may install.
struct Method {
    source: Source,
    allows: Box<dyn Fn(&ProviderAddr) -> bool + Send + Sync>,
    /// Configured explicitly, so it may install a provider Strata has built in.
    explicit: bool,
}

/// `.terraform/providers`.
pub fn providers_dir(dir: &Path) -> PathBuf {
    dir.join(".terraform").join("providers")
}

/// Where a package is installed below a providers directory (or a plugin cache).
pub fn package_dir(
    base: &Path,
    provider: &ProviderAddr,
    version: &str,
    platform: &Platform,
) -> PathBuf {
    base.join(&provider.host)
        .join(&provider.namespace)
        .join(&provider.provider_type)
        .join(version)
        .join(platform.to_string())
}

/// Installs what `requirements` need; every failure is a diagnostic naming the provider.
pub async fn install(
    requirements: &Requirements,
    lock: &LockFile,
    config: &CliConfig,
    discovery: &Discovery,
    settings: &Settings,
    report: &mut (dyn FnMut(Event) + Send),
) -> Result<Outcome, Diagnostics> {
    let methods = methods(config, settings);
    let mut outcome = Outcome::default();
    let mut diagnostics = Diagnostics::new();
    let overrides = config
        .provider_installation
        .as_ref()
        .map(|p| p.dev_overrides.clone())
        .unwrap_or_default();
    for (provider, constraints) in requirements {
        if provider.is_builtin() {
            continue;
        }
        if let Some(dir) = overrides.get(provider) {
            report(Event::DevOverride {
                provider: provider.clone(),
                dir: dir.clone(),
            });
            continue;
        }
        let locked = lock.providers.get(provider);
        let is_builtin = settings.builtin.contains(provider);
        let usable: Vec<&Method> = methods
            .iter()
            .filter(|m| (m.allows)(provider))
            .filter(|m| !is_builtin || m.explicit || locked.is_some())
            .collect();
        if is_builtin && usable.is_empty() {
            report(Event::BuiltIn {
                provider: provider.clone(),
            });
            continue;
        }
        if usable.is_empty() {
            diagnostics.push(
                Diagnostic::error("Failed to query available provider packages").with_detail(
                    format!(
                        "Could not retrieve the list of available versions for provider {}: no installation method may install it (see the include and exclude patterns of provider_installation in the CLI configuration, or -plugin-dir)",
                        provider.for_display()
                    ),
                ),
            );
            continue;
        }
        let step = install_one(
            provider,
            constraints,
            locked,
            &usable,
            config,
            discovery,
            settings,
            report,
        )
        .await;
        match step {
            Ok(Some((installed, locked))) => {
                outcome.lock.providers.insert(provider.clone(), locked);
                outcome.installed.insert(provider.clone(), installed);
            }
            Ok(None) => report(Event::BuiltIn {
                provider: provider.clone(),
            }),
            Err(diagnostic) => diagnostics.push(diagnostic),
        }
    }
    // Locks of providers the configuration still requires but that were not installed here
    // (built in) are kept; others are dropped, as Terraform drops them.
    for (provider, locked) in &lock.providers {
        if requirements.contains_key(provider) && !outcome.lock.providers.contains_key(provider) {
            outcome
                .lock
                .providers
                .insert(provider.clone(), locked.clone());
        }
    }
    diagnostics.into_result(outcome)
}

/// Selects and installs one provider (`locked`: its lock file entry). `Ok(None)`: a built-in
/// provider no source has a suitable version of.
async fn install_one(
    provider: &ProviderAddr,
    constraints: &[String],
    locked: Option<&LockedProvider>,
    methods: &[&Method],
    config: &CliConfig,
    discovery: &Discovery,
    settings: &Settings,
    report: &mut (dyn FnMut(Event) + Send),
) -> Result<Option<(Installed, LockedProvider)>, Diagnostic> {
    // The lock's selection holds unless -upgrade; its hashes count whenever the same version
    // is selected again.
    let previous = locked;
    let locked = locked.filter(|_| !settings.upgrade);
    let canonical = canonical_constraints(constraints);
    let query_failed = |message: String| {
        Diagnostic::error("Failed to query available provider packages").with_detail(format!(
            "Could not retrieve the list of available versions for provider {}: {message}",
            provider.for_display()
        ))
    };
    if let Some(locked) = locked {
        if !accepts(constraints, &locked.version) {
            return Err(query_failed(format!(
                "locked provider {provider} {} does not match configured version constraint {}; must use strata init -upgrade to allow selection of new versions",
                locked.version,
                canonical.clone().unwrap_or_default()
            )));
        }
        report(Event::Reusing {
            provider: provider.clone(),
        });
    } else {
        report(Event::Finding {
            provider: provider.clone(),
            constraints: canonical.clone(),
        });
    }
    let (version, method) =
        select_version(provider, constraints, locked, methods, discovery, settings)
            .await
            .map_err(query_failed)?
            .map_or((None, None), |(v, m)| (Some(v), Some(m)));
    let (Some(version), Some(method)) = (version, method) else {
        if settings.builtin.contains(provider) && locked.is_none() {
            return Ok(None);
        }
        let message = match locked {
            Some(locked) => format!(
                "the previously-selected version {} is no longer available",
                locked.version
            ),
            None => match &canonical {
                Some(c) => format!("no available releases match the given constraints {c}"),
                None => "no available releases".to_string(),
            },
        };
        return Err(query_failed(message));
    };
    let prior: BTreeSet<String> = previous
        .filter(|l| l.version == version)
        .map(|l| l.hashes.clone())
        .unwrap_or_default();
    let request = package::Request {
        provider,
        version: &version,
        platform: &settings.platform,
        target: &package_dir(
            &providers_dir(&settings.dir),
            provider,
            &version,
            &settings.platform,
        ),
        cache: config
            .plugin_cache_dir
            .as_deref()
            .map(|cache| package_dir(cache, provider, &version, &settings.platform)),
        cache_may_break_lock: config.plugin_cache_may_break_dependency_lock_file,
        prior_hashes: &prior,
    };
    let target = request.target.to_path_buf();
    let new_hashes = package::ensure(&request, &method.source, discovery, report)
        .await
        .map_err(|message| {
            Diagnostic::error("Failed to install provider").with_detail(format!(
                "Error while installing {} v{version}: {message}",
                provider.for_display()
            ))
        })?;
    let mut hashes = prior.clone();
    hashes.extend(new_hashes);
    Ok(Some((
        Installed {
            version: version.clone(),
            dir: target,
        },
        LockedProvider {
            version,
            constraints: canonical,
            hashes,
        },
    )))
}

/// The newest acceptable version any usable source has, and the first source (in order) that
/// has it. A source that fails to answer is an error, as in Terraform.
async fn select_version<'m>(
    provider: &ProviderAddr,
    constraints: &[String],
    locked: Option<&LockedProvider>,
    methods: &[&'m Method],
    discovery: &Discovery,
    settings: &Settings,
) -> Result<Option<(String, &'m Method)>, String> {
    let mut best: Option<(String, &Method)> = None;
    for method in methods {
        let versions = method
            .source
            .versions(discovery, provider, &settings.platform)
            .await?;
        for version in versions {
            let acceptable = match locked {
                Some(locked) => crate::config::version::compare(&version, &locked.version)
                    .is_ok_and(|o| o.is_eq()),
                None => accepts(constraints, &version),
            };
            let newer = best.as_ref().is_none_or(|(current, _)| {
                crate::config::version::compare(&version, current).is_ok_and(|o| o.is_gt())
            });
            if acceptable && newer {
                best = Some((version, method));
            }
        }
    }
    Ok(best)
}

/// The sources that may install `provider`, in order (what `providers mirror` reads from).
pub fn sources_for(
    config: &CliConfig,
    settings: &Settings,
    provider: &ProviderAddr,
    locked: bool,
) -> Vec<Source> {
    let is_builtin = settings.builtin.contains(provider);
    methods(config, settings)
        .into_iter()
        .filter(|m| (m.allows)(provider) && (!is_builtin || m.explicit || locked))
        .map(|m| m.source)
        .collect()
}

/// The installation methods in Terraform's order.
fn methods(config: &CliConfig, settings: &Settings) -> Vec<Method> {
    if !settings.plugin_dirs.is_empty() {
        return settings
            .plugin_dirs
            .iter()
            .map(|dir| Method {
                source: Source::FilesystemMirror(settings.dir.join(dir)),
                allows: Box::new(|_| true),
                explicit: true,
            })
            .collect();
    }
    if let Some(installation) = &config.provider_installation {
        return installation
            .methods
            .iter()
            .map(|method| {
                let source = match &method.location {
                    MethodLocation::Direct => Source::Registry,
                    MethodLocation::FilesystemMirror(path) => {
                        Source::FilesystemMirror(settings.dir.join(path))
                    }
                    MethodLocation::NetworkMirror(url) => match url::Url::parse(url) {
                        Ok(url) => Source::NetworkMirror(url),
                        Err(_) => Source::Registry,
                    },
                };
                let explicit = !matches!(source, Source::Registry);
                let rule = method.clone();
                Method {
                    source,
                    allows: Box::new(move |provider| rule.allows(provider)),
                    explicit,
                }
            })
            .collect();
    }
    implied_methods(settings)
}

/// Without a `provider_installation` block: each implied local directory that exists as a
/// filesystem mirror, then the origin registry for every provider none of them has
/// (Terraform's `implicitProviderSource`).
fn implied_methods(settings: &Settings) -> Vec<Method> {
    let mut dirs = vec![settings.dir.join("terraform.d").join("plugins")];
    if let Some(home) = &settings.home {
        dirs.push(home.join(".terraform.d").join("plugins"));
    }
    let data_home = std::env::var_os("XDG_DATA_HOME")
        .map(PathBuf::from)
        .or_else(|| settings.home.as_ref().map(|h| h.join(".local/share")));
    let data_dirs = std::env::var("XDG_DATA_DIRS")
        .ok()
        .filter(|d| !d.is_empty())
        .unwrap_or_else(|| "/usr/local/share/:/usr/share/".into());
    dirs.extend(data_home.into_iter().map(|d| d.join("terraform/plugins")));
    dirs.extend(
        data_dirs
            .split(':')
            .filter(|d| !d.is_empty())
            .map(|d| Path::new(d).join("terraform/plugins")),
    );
    let dirs: Vec<PathBuf> = dirs.into_iter().filter(|d| d.is_dir()).collect();
    let found_locally: BTreeSet<(String, String, String)> =
        dirs.iter().flat_map(|dir| providers_in(dir)).collect();
    let mut methods: Vec<Method> = dirs
        .into_iter()
        .map(|dir| Method {
            source: Source::FilesystemMirror(dir),
            allows: Box::new(|_| true),
            explicit: false,
        })
        .collect();
    methods.push(Method {
        source: Source::Registry,
        allows: Box::new(move |p| {
            !found_locally.contains(&(p.host.clone(), p.namespace.clone(), p.provider_type.clone()))
        }),
        explicit: false,
    });
    methods
}

/// The `<host>/<namespace>/<type>` directories of a mirror.
fn providers_in(dir: &Path) -> Vec<(String, String, String)> {
    let children = |path: &Path| -> Vec<String> {
        std::fs::read_dir(path)
            .into_iter()
            .flatten()
            .flatten()
            .filter(|e| e.path().is_dir())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect()
    };
    let mut found = Vec::new();
    for host in children(dir) {
        for namespace in children(&dir.join(&host)) {
            for provider_type in children(&dir.join(&host).join(&namespace)) {
                found.push((host.clone(), namespace.clone(), provider_type));
            }
        }
    }
    found
}

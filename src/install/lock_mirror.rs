//! `providers lock` and `providers mirror`, as Terraform's commands of those names:
//! - **lock** fetches each provider's package for every requested platform (from its origin
//!   registry, or the `-fs-mirror`/`-net-mirror` given), checks it like `init` does, and adds
//!   each package's `h1:` hash to the lock (with the `zh:` hashes of a registry's signed
//!   `SHA256SUMS`), so the lock serves teams on other platforms;
//! - **mirror** copies each provider's archive for every requested platform into a directory
//!   laid out both as a packed filesystem mirror and as a network mirror (`index.json`,
//!   `<version>.json` with each archive's `h1:` hash).

use super::addr::ProviderAddr;
use super::discovery::Discovery;
use super::hash::h1_zip;
use super::lockfile::{LockFile, LockedProvider};
use super::package::{self, Verified};
use super::requirements::{accepts, canonical_constraints, Requirements};
use super::source::{Platform, Source};
use std::collections::BTreeSet;
use std::path::Path;

/// Progress of `providers lock` / `providers mirror`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Step {
    /// `- Fetching hashicorp/aws 3.39.0 for linux_amd64...`
    Fetching {
        provider: ProviderAddr,
        version: String,
        platform: Platform,
    },
    /// `- Retrieved hashicorp/aws 3.39.0 for linux_amd64 (unauthenticated)`
    Retrieved {
        provider: ProviderAddr,
        version: String,
        platform: Platform,
        verified: Verified,
    },
    /// A provider Strata has built in that the sources do not offer: not locked or mirrored.
    BuiltIn { provider: ProviderAddr },
}

/// The version to lock or mirror: the lock's when it meets the constraints, else the newest
/// acceptable one `source` has.
async fn choose_version(
    provider: &ProviderAddr,
    constraints: &[String],
    lock: &LockFile,
    source: &Source,
    discovery: &Discovery,
    platform: &Platform,
) -> Result<Option<String>, String> {
    if let Some(locked) = lock.providers.get(provider) {
        if accepts(constraints, &locked.version) {
            return Ok(Some(locked.version.clone()));
        }
    }
    let mut best: Option<String> = None;
    for version in source.versions(discovery, provider, platform).await? {
        let newer = best
            .as_ref()
            .is_none_or(|b| crate::config::version::compare(&version, b).is_ok_and(|o| o.is_gt()));
        if accepts(constraints, &version) && newer {
            best = Some(version);
        }
    }
    Ok(best)
}

/// `providers lock`: the lock with each provider's hashes for every platform added.
pub async fn lock_platforms(
    requirements: &Requirements,
    lock: &LockFile,
    source: &Source,
    platforms: &[Platform],
    builtin: &BTreeSet<ProviderAddr>,
    discovery: &Discovery,
    report: &mut (dyn FnMut(Step) + Send),
) -> Result<LockFile, String> {
    let mut updated = lock.clone();
    for (provider, constraints) in requirements {
        if provider.is_builtin() {
            continue;
        }
        let first = platforms.first().cloned().unwrap_or_else(Platform::current);
        let chosen = choose_version(provider, constraints, lock, source, discovery, &first).await;
        let version = match chosen {
            Ok(Some(version)) => version,
            Ok(None) | Err(_) if builtin.contains(provider) => {
                report(Step::BuiltIn {
                    provider: provider.clone(),
                });
                continue;
            }
            Ok(None) => {
                return Err(format!(
                    "{}: no available releases match the given constraints {}",
                    provider.for_display(),
                    canonical_constraints(constraints).unwrap_or_default()
                ))
            }
            Err(message) => return Err(format!("{}: {message}", provider.for_display())),
        };
        let mut hashes: BTreeSet<String> = lock
            .providers
            .get(provider)
            .filter(|l| l.version == version)
            .map(|l| l.hashes.clone())
            .unwrap_or_default();
        for platform in platforms {
            report(Step::Fetching {
                provider: provider.clone(),
                version: version.clone(),
                platform: platform.clone(),
            });
            let scratch = tempfile::tempdir().map_err(|e| e.to_string())?;
            let target = scratch.path().join("package");
            let checked =
                package::fetch(source, discovery, provider, &version, platform, &target).await?;
            hashes.insert(super::hash::h1_dir(&target)?);
            hashes.extend(checked.signed_hashes);
            report(Step::Retrieved {
                provider: provider.clone(),
                version: version.clone(),
                platform: platform.clone(),
                verified: checked.verified,
            });
        }
        updated.providers.insert(
            provider.clone(),
            LockedProvider {
                version,
                constraints: canonical_constraints(constraints),
                hashes,
            },
        );
    }
    Ok(updated)
}

/// `providers mirror DIR`: copies every provider's archive for every platform into `dir`.
pub async fn mirror(
    requirements: &Requirements,
    lock: &LockFile,
    sources: &[Source],
    platforms: &[Platform],
    builtin: &BTreeSet<ProviderAddr>,
    dir: &Path,
    discovery: &Discovery,
    report: &mut (dyn FnMut(Step) + Send),
) -> Result<(), String> {
    for (provider, constraints) in requirements {
        if provider.is_builtin() {
            continue;
        }
        let first = platforms.first().cloned().unwrap_or_else(Platform::current);
        let mut chosen = None;
        for source in sources {
            if let Ok(Some(version)) =
                choose_version(provider, constraints, lock, source, discovery, &first).await
            {
                chosen = Some((version, source));
                break;
            }
        }
        let Some((version, source)) = chosen else {
            if builtin.contains(provider) {
                report(Step::BuiltIn {
                    provider: provider.clone(),
                });
                continue;
            }
            return Err(format!(
                "{}: no available releases match the given constraints {}",
                provider.for_display(),
                canonical_constraints(constraints).unwrap_or_default()
            ));
        };
        for platform in platforms {
            report(Step::Fetching {
                provider: provider.clone(),
                version: version.clone(),
                platform: platform.clone(),
            });
            let verified = mirror_one(source, discovery, provider, &version, platform, dir).await?;
            report(Step::Retrieved {
                provider: provider.clone(),
                version: version.clone(),
                platform: platform.clone(),
                verified,
            });
        }
    }
    Ok(())
}

/// One archive into the mirror, and the network mirror's documents updated.
async fn mirror_one(
    source: &Source,
    discovery: &Discovery,
    provider: &ProviderAddr,
    version: &str,
    platform: &Platform,
    dir: &Path,
) -> Result<Verified, String> {
    let base = dir
        .join(&provider.host)
        .join(&provider.namespace)
        .join(&provider.provider_type);
    std::fs::create_dir_all(&base)
        .map_err(|error| format!("failed to create {}: {error}", base.display()))?;
    let filename = format!(
        "terraform-provider-{}_{version}_{platform}.zip",
        provider.provider_type
    );
    let archive = base.join(&filename);
    let verified =
        package::fetch_archive(source, discovery, provider, version, platform, &archive).await?;
    let hash = h1_zip(&archive)?;
    update_json(
        &base.join("index.json"),
        &["versions", version],
        serde_json::json!({}),
    )?;
    update_json(
        &base.join(format!("{version}.json")),
        &["archives", &platform.to_string()],
        serde_json::json!({"url": filename, "hashes": [hash]}),
    )?;
    Ok(verified)
}

/// Sets `path` inside the JSON document of `file` (created when absent) to `value`.
fn update_json(file: &Path, path: &[&str], value: serde_json::Value) -> Result<(), String> {
    let mut document: serde_json::Value = std::fs::read_to_string(file)
        .ok()
        .and_then(|text| serde_json::from_str(&text).ok())
        .unwrap_or_else(|| serde_json::json!({}));
    let mut node = &mut document;
    for key in &path[..path.len() - 1] {
        if !node.get(*key).is_some_and(|v| v.is_object()) {
            node[*key] = serde_json::json!({});
        }
        node = &mut node[*key];
    }
    node[path[path.len() - 1]] = value;
    let text = serde_json::to_string_pretty(&document).map_err(|e| e.to_string())?;
    std::fs::write(file, text + "\n")
        .map_err(|error| format!("failed to write {}: {error}", file.display()))
}

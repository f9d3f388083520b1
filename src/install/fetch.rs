//! Fetching one module package into a directory, by the getter its address names (as Terraform's
//! go-getter set-up does): `git::` (the system git, [`super::git`]), `file://` (a symbolic link to
//! the directory, or an archive extracted), `http(s)://` (an archive, or a page whose
//! `X-Terraform-Get` header or `terraform-get` meta tag names the real source,
//! [`super::archive`]); and the module registry protocol's two requests (`/versions`,
//! `/<version>/download`) that turn a registry address into such a package.

use super::archive::{self, HttpOutcome};
use super::discovery::Discovery;
use super::module_source::{
    split_forced_getter, split_package_subdir, ModuleSource, RegistrySource, RemoteSource,
};
use crate::config::ModuleCall;
use crate::diagnostics::Diagnostic;
use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

/// How many `X-Terraform-Get` answers one fetch follows (go-getter has no limit; a loop would
/// never end).
const MAX_INDIRECTIONS: usize = 8;

/// Why a package could not be fetched.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error(transparent)]
    Git(#[from] super::git::GitError),
    #[error(transparent)]
    Archive(#[from] archive::ArchiveError),
    #[error("{0}")]
    Other(String),
}

/// The fetcher of one install run: the HTTPS client and service discovery, made on first use.
pub struct Fetcher {
    discovery: Option<Arc<Discovery>>,
    versions: HashMap<String, Vec<String>>,
}

impl Default for Fetcher {
    fn default() -> Self {
        Fetcher::new()
    }
}

impl Fetcher {
    pub fn new() -> Fetcher {
        Fetcher {
            discovery: None,
            versions: HashMap::new(),
        }
    }

    fn discovery(&mut self) -> Result<Arc<Discovery>, String> {
        if let Some(discovery) = &self.discovery {
            return Ok(discovery.clone());
        }
        let config = super::cliconfig::CliConfig::load().map_err(|diagnostics| {
            let messages: Vec<String> = diagnostics.iter().map(|d| d.summary.clone()).collect();
            format!("the CLI configuration is invalid: {}", messages.join("; "))
        })?;
        let client = super::http::client()?;
        let discovery = Arc::new(Discovery::new(client, Arc::new(config)));
        self.discovery = Some(discovery.clone());
        Ok(discovery)
    }

    /// Fetches the package `address` (normalised, without subdirectory) into `target`, which
    /// must not exist.
    pub async fn fetch(&mut self, address: &str, target: &Path) -> Result<(), FetchError> {
        self.fetch_following(address, target, 0).await
    }

    /// [`Fetcher::fetch`], following at most a few `X-Terraform-Get` indirections.
    fn fetch_following<'a>(
        &'a mut self,
        address: &'a str,
        target: &'a Path,
        hops: usize,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<(), FetchError>> + 'a>> {
        Box::pin(async move {
            let (forced, rest) = split_forced_getter(address);
            let getter = match forced {
                Some(getter) => getter.to_string(),
                None => rest
                    .split_once("://")
                    .map(|(scheme, _)| scheme.to_lowercase())
                    .unwrap_or_default(),
            };
            if let Some(parent) = target.parent() {
                std::fs::create_dir_all(parent).map_err(|e| {
                    FetchError::Other(format!("cannot create `{}`: {e}", parent.display()))
                })?;
            }
            match getter.as_str() {
                "git" => Ok(super::git::fetch(rest, target)?),
                "file" => fetch_file(rest, target),
                "http" | "https" => {
                    let client = self.discovery().map_err(FetchError::Other)?.client().clone();
                    match archive::fetch_http(&client, rest, target).await? {
                        HttpOutcome::Extracted => Ok(()),
                        HttpOutcome::Indirect(_) if hops >= MAX_INDIRECTIONS => Err(FetchError::Other(format!(
                            "more than {MAX_INDIRECTIONS} X-Terraform-Get indirections, starting at {rest}"
                        ))),
                        HttpOutcome::Indirect(source) => self.fetch_indirect(&source, target, hops).await,
                    }
                }
                "s3" | "gcs" | "hg" => Err(FetchError::Other(format!(
                    "Strata does not fetch `{getter}::` module sources; use a git repository, an HTTP(S) archive or a module registry"
                ))),
                other => Err(FetchError::Other(format!(
                    "unknown module source type \"{other}\" in \"{address}\""
                ))),
            }
        })
    }

    /// Fetches the source an HTTP URL pointed at; with a `//subdir`, only that directory of it.
    async fn fetch_indirect(
        &mut self,
        source: &str,
        target: &Path,
        hops: usize,
    ) -> Result<(), FetchError> {
        let remote = match ModuleSource::parse(source, false) {
            Ok(ModuleSource::Remote(remote)) => remote,
            _ => {
                return Err(FetchError::Other(format!(
                    "the X-Terraform-Get source \"{source}\" is not a remote package address"
                )))
            }
        };
        if remote.subdir.is_empty() {
            return self
                .fetch_following(&remote.package, target, hops + 1)
                .await;
        }
        let temporary = tempfile::tempdir().map_err(|e| FetchError::Other(e.to_string()))?;
        let whole = temporary.path().join("package");
        self.fetch_following(&remote.package, &whole, hops + 1)
            .await?;
        let subdir = expand_subdir(&whole, &remote.subdir).map_err(FetchError::Other)?;
        copy_package(&whole.join(subdir), target)
    }

    /// Chooses the newest version of `registry` matching `constraint` and asks the registry
    /// where to download it: the version and the package.
    pub async fn registry_location(
        &mut self,
        call: &ModuleCall,
        registry: &RegistrySource,
        constraint: &str,
    ) -> Result<(String, RemoteSource), Diagnostic> {
        let failed = |detail: String| {
            Diagnostic::error("Error accessing remote module registry").with_detail(detail)
        };
        let discovery = self.discovery().map_err(&failed)?;
        let services = discovery.discover(&registry.host).await.map_err(|error| {
            failed(format!(
                "Failed to discover the module registry of {}: {error}.",
                registry.host
            ))
        })?;
        let base = services
            .url("modules.v1")
            .map_err(|error| failed(error.to_string()))?
            .ok_or_else(|| failed(format!("The host {} does not offer a module registry (no \"modules.v1\" in its service discovery document).", registry.host)))?;
        let package = registry.package();
        let versions = match self.versions.get(&package) {
            Some(versions) => versions.clone(),
            None => {
                let versions = super::registry::versions(&discovery, &base, registry)
                    .await
                    .map_err(|error| match error {
                        super::registry::RegistryError::NotFound => Diagnostic::error("Module not found").with_detail(format!(
                            "Module \"{}\" ({package}) cannot be found in the module registry at {}.",
                            call.name, registry.host
                        )),
                        other => failed(format!("Failed to retrieve available versions for module \"{}\" from {}: {other}.", call.name, registry.host)),
                    })?;
                self.versions.insert(package.clone(), versions.clone());
                versions
            }
        };
        let chosen = super::registry::newest_matching(&versions, constraint).map_err(|newest| match newest {
            None => Diagnostic::error("Module has no versions").with_detail(format!(
                "Module \"{package}\" has no versions available on {}.",
                registry.host
            )),
            Some(newest) => Diagnostic::error("Unresolvable module version constraint").with_detail(format!(
                "There is no available version of module \"{package}\" which matches the given version constraint \"{constraint}\". The newest available version is {newest}."
            )),
        })?;
        let location = super::registry::download_location(&discovery, &base, registry, &chosen)
            .await
            .map_err(|error| {
                failed(format!(
                    "Failed to retrieve a download URL for {package} {chosen} from {}: {error}.",
                    registry.host
                ))
            })?;
        match ModuleSource::parse(&location, false) {
            Ok(ModuleSource::Remote(remote)) => Ok((chosen, remote)),
            _ => Err(Diagnostic::error("Invalid package location from module registry").with_detail(format!(
                "Module registry {} returned invalid source location \"{location}\" for {package} {chosen}: it must be a direct remote package address.",
                registry.host
            ))),
        }
    }
}

/// `file:///abs/dir` links the directory (as go-getter does); `file:///abs/m.zip` extracts it.
fn fetch_file(url: &str, target: &Path) -> Result<(), FetchError> {
    let (path, kind) = archive::archive_kind(url).map_err(FetchError::Archive)?;
    let path = path.strip_prefix("file://").unwrap_or(&path);
    let path = Path::new(path);
    if let Some(kind) = kind {
        let bytes = std::fs::read(path)
            .map_err(|e| FetchError::Other(format!("cannot read `{}`: {e}", path.display())))?;
        return Ok(archive::extract(&bytes, kind, target)?);
    }
    if !path.is_dir() {
        return Err(FetchError::Other(format!(
            "the directory `{}` does not exist",
            path.display()
        )));
    }
    link_dir(path, target)
}

#[cfg(unix)]
fn link_dir(path: &Path, target: &Path) -> Result<(), FetchError> {
    std::os::unix::fs::symlink(path, target)
        .map_err(|e| FetchError::Other(format!("cannot link `{}`: {e}", target.display())))
}

#[cfg(not(unix))]
fn link_dir(path: &Path, target: &Path) -> Result<(), FetchError> {
    copy_package(path, target).map_err(FetchError::Other)
}

/// Copies a package fetched earlier in this run (Terraform's installer does the same rather
/// than download it twice).
pub fn copy_package(from: &Path, to: &Path) -> Result<(), FetchError> {
    copy_tree(from, to).map_err(|e| {
        FetchError::Other(format!(
            "cannot copy `{}` to `{}`: {e}",
            from.display(),
            to.display()
        ))
    })
}

fn copy_tree(from: &Path, to: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        let kind = entry.file_type()?;
        if kind.is_symlink() {
            let link = std::fs::read_link(entry.path())?;
            #[cfg(unix)]
            std::os::unix::fs::symlink(link, &target)?;
            #[cfg(not(unix))]
            let _ = link;
        } else if kind.is_dir() {
            copy_tree(&entry.path(), &target)?;
        } else {
            std::fs::copy(entry.path(), &target)?;
        }
    }
    Ok(())
}

/// The subdirectory `subdir` of an installed package, with `*` in a segment matching exactly one
/// entry (registries answer `//*` for "the one directory at the top of the archive").
pub fn expand_subdir(package_dir: &Path, subdir: &str) -> Result<String, String> {
    let mut current = package_dir.to_path_buf();
    let mut segments = Vec::new();
    for segment in subdir.split('/').filter(|s| !s.is_empty() && *s != ".") {
        let name = if segment.contains('*') {
            let mut matches: Vec<String> = std::fs::read_dir(&current)
                .map_err(|_| format!("subdir \"{subdir}\" not found"))?
                .filter_map(Result::ok)
                .map(|entry| entry.file_name().to_string_lossy().into_owned())
                .filter(|name| glob_match(segment, name))
                .collect();
            matches.sort();
            match matches.len() {
                1 => matches.remove(0),
                0 => return Err(format!("subdir \"{subdir}\" not found")),
                _ => return Err(format!("subdir \"{subdir}\" matches multiple paths")),
            }
        } else {
            segment.to_string()
        };
        current.push(&name);
        segments.push(name);
    }
    if !current.is_dir() {
        return Err(format!("subdir \"{subdir}\" not found"));
    }
    Ok(segments.join("/"))
}

/// `*` matches any run of characters (within one path segment).
fn glob_match(pattern: &str, name: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    let mut rest = name;
    for (index, part) in parts.iter().enumerate() {
        if index == 0 {
            let Some(after) = rest.strip_prefix(part) else {
                return false;
            };
            rest = after;
        } else if index == parts.len() - 1 {
            return rest.ends_with(part);
        } else {
            match rest.find(part) {
                Some(at) => rest = &rest[at + part.len()..],
                None => return false,
            }
        }
    }
    rest.is_empty()
}

/// `X-Terraform-Get: ./m.tar.gz//sub` relative to `base`: the absolute package address.
pub fn resolve_location(base: &url::Url, location: &str) -> String {
    if location.starts_with('/') || location.starts_with("./") || location.starts_with("../") {
        let (package, subdir) = split_package_subdir(location);
        if let Ok(resolved) = base.join(&package) {
            let resolved = resolved.to_string();
            return if subdir.is_empty() {
                resolved
            } else {
                RemoteSource {
                    package: resolved,
                    subdir,
                }
                .to_string()
            };
        }
    }
    location.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs_match_one_segment() {
        assert!(glob_match("*", "terraform-aws-vpc-1.0.0"));
        assert!(glob_match("vpc-*", "vpc-1"));
        assert!(!glob_match("vpc-*", "x-vpc-1"));
        assert!(glob_match("a*c", "abbc"));
    }

    #[test]
    fn resolves_relative_locations() {
        let base =
            url::Url::parse("https://127.0.0.1:8443/v1/modules/ns/m/aws/1.0.0/download").unwrap();
        assert_eq!(
            resolve_location(&base, "/archives/m-1.0.0.tar.gz"),
            "https://127.0.0.1:8443/archives/m-1.0.0.tar.gz"
        );
        assert_eq!(
            resolve_location(&base, "./m.tar.gz//sub"),
            "https://127.0.0.1:8443/v1/modules/ns/m/aws/1.0.0/m.tar.gz//sub"
        );
        assert_eq!(
            resolve_location(&base, "git::https://e.com/r"),
            "git::https://e.com/r"
        );
    }
}

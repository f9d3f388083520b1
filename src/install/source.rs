//! Where provider packages come from, each speaking Terraform's protocol for it:
//! - a **filesystem mirror**: `<dir>/<host>/<namespace>/<type>/<version>/<os>_<arch>/` (unpacked)
//!   or `<dir>/<host>/<namespace>/<type>/terraform-provider-<type>_<version>_<os>_<arch>.zip`
//!   (packed);
//! - a **network mirror** (the provider network mirror protocol): `<url><host>/<namespace>/
//!   <type>/index.json` lists versions, `<version>.json` gives each platform's archive URL
//!   (relative to that document) and its hashes;
//! - the **origin registry** (the provider registry protocol): `providers.v1` from service
//!   discovery, then `<base><namespace>/<type>/versions` and
//!   `<base><namespace>/<type>/<version>/download/<os>/<arch>`, whose answer names the
//!   archive, its SHA-256 and the `SHA256SUMS` document that must list it.
//!
//! API requests to a mirror or registry carry the host's token (`Authorization: Bearer`); the
//! archive download itself does not, as in Terraform.

use super::addr::ProviderAddr;
use super::discovery::Discovery;
use super::http::{describe, read_limited};
use std::path::{Path, PathBuf};
use url::Url;

/// Protocol documents are small; a larger answer is a misbehaving server.
const MAX_DOCUMENT_BYTES: usize = 4 * 1024 * 1024;

/// An operating system and architecture, as Go names them (`linux_amd64`).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Platform {
    pub os: String,
    pub arch: String,
}

impl Platform {
    /// The platform Strata runs on.
    pub fn current() -> Platform {
        let os = match std::env::consts::OS {
            "macos" => "darwin",
            other => other,
        };
        let arch = match std::env::consts::ARCH {
            "x86_64" => "amd64",
            "x86" => "386",
            "aarch64" => "arm64",
            "arm" => "arm",
            other => other,
        };
        Platform {
            os: os.into(),
            arch: arch.into(),
        }
    }

    /// Parses `linux_amd64`.
    pub fn parse(text: &str) -> Result<Platform, String> {
        match text.split_once('_') {
            Some((os, arch)) if !os.is_empty() && !arch.is_empty() && !arch.contains('_') => {
                Ok(Platform {
                    os: os.into(),
                    arch: arch.into(),
                })
            }
            _ => Err(format!(
                "`{text}` is not a platform: write the operating system and architecture as Go names them, like linux_amd64."
            )),
        }
    }
}

impl std::fmt::Display for Platform {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}_{}", self.os, self.arch)
    }
}

/// Where a package is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Location {
    /// An unpacked package directory (installed as a symbolic link to it).
    Dir(PathBuf),
    /// A zip archive on disk.
    Zip(PathBuf),
    /// A zip archive to download.
    Http(Url),
}

/// How a package is checked before it is installed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verification {
    /// Nothing to check against (a filesystem mirror): "unauthenticated".
    None,
    /// The archive must match one of these `h1:`/`zh:` hashes (a network mirror).
    Hashes(Vec<String>),
    /// The archive's SHA-256 must be `sha256`, and the registry's `SHA256SUMS` (at
    /// `shasums_url`) must list that hash for `filename` and be signed (detached signature at
    /// `signature_url`) by one of `signing_keys` (ASCII-armored OpenPGP public keys).
    Registry {
        sha256: String,
        filename: String,
        shasums_url: Url,
        signature_url: Url,
        signing_keys: Vec<String>,
    },
}

/// One installable package.
#[derive(Clone, Debug)]
pub struct Package {
    pub location: Location,
    pub verification: Verification,
}

/// One place packages come from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Source {
    FilesystemMirror(PathBuf),
    NetworkMirror(Url),
    Registry,
}

impl Source {
    /// How `init` names it in errors.
    pub fn describe(&self) -> String {
        match self {
            Source::FilesystemMirror(dir) => format!("filesystem mirror {}", dir.display()),
            Source::NetworkMirror(url) => format!("network mirror {url}"),
            Source::Registry => "its origin registry".into(),
        }
    }

    /// The versions this source has of `provider` (for `platform`, where the source says).
    pub async fn versions(
        &self,
        discovery: &Discovery,
        provider: &ProviderAddr,
        platform: &Platform,
    ) -> Result<Vec<String>, String> {
        match self {
            Source::FilesystemMirror(dir) => Ok(mirror_packages(dir, provider, platform)
                .into_iter()
                .map(|(version, _)| version)
                .collect()),
            Source::NetworkMirror(base) => network_versions(discovery, base, provider).await,
            Source::Registry => registry_versions(discovery, provider, platform).await,
        }
    }

    /// The package of `provider` `version` for `platform`, if this source has it.
    pub async fn package(
        &self,
        discovery: &Discovery,
        provider: &ProviderAddr,
        version: &str,
        platform: &Platform,
    ) -> Result<Option<Package>, String> {
        match self {
            Source::FilesystemMirror(dir) => Ok(mirror_packages(dir, provider, platform)
                .into_iter()
                .find(|(v, _)| v == version)
                .map(|(_, location)| Package {
                    location,
                    verification: Verification::None,
                })),
            Source::NetworkMirror(base) => {
                network_package(discovery, base, provider, version, platform).await
            }
            Source::Registry => registry_package(discovery, provider, version, platform).await,
        }
    }
}

/// The packages a filesystem mirror has of `provider` for `platform`: `(version, location)`,
/// an unpacked directory preferred to an archive of the same version.
pub fn mirror_packages(
    dir: &Path,
    provider: &ProviderAddr,
    platform: &Platform,
) -> Vec<(String, Location)> {
    // Terraform resolves the mirror directory's own symbolic links first, so the links it makes
    // into `.terraform/providers` point at the real directory: so do we.
    let dir = std::fs::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf());
    let base = dir
        .join(&provider.host)
        .join(&provider.namespace)
        .join(&provider.provider_type);
    let Ok(entries) = std::fs::read_dir(&base) else {
        return Vec::new();
    };
    let archive_prefix = format!("terraform-provider-{}_", provider.provider_type);
    let archive_suffix = format!("_{platform}.zip");
    let mut found: Vec<(String, Location)> = Vec::new();
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let path = entry.path();
        if path.is_dir() {
            let package = path.join(platform.to_string());
            if package.is_dir() && crate::config::version::compare(&name, &name).is_ok() {
                found.push((name, Location::Dir(package)));
            }
        } else if let Some(version) = name
            .strip_prefix(&archive_prefix)
            .and_then(|rest| rest.strip_suffix(&archive_suffix))
        {
            if crate::config::version::compare(version, version).is_ok()
                && !found.iter().any(|(v, _)| v == version)
            {
                found.push((version.to_string(), Location::Zip(path)));
            }
        }
    }
    // A directory wins over an archive of the same version.
    found.sort_by(|a, b| {
        a.0.cmp(&b.0)
            .then(matches!(b.1, Location::Dir(_)).cmp(&matches!(a.1, Location::Dir(_))))
    });
    found.dedup_by(|later, earlier| later.0 == earlier.0);
    found
}

/// GETs a JSON document with the host's token; `Ok(None)` for 404.
async fn get_json(discovery: &Discovery, url: &Url) -> Result<Option<serde_json::Value>, String> {
    let host = host_of(url);
    discovery
        .ask_credentials(&host)
        .await
        .map_err(|error| error.to_string())?;
    let request = discovery
        .client()
        .get(url.clone())
        .header(reqwest::header::ACCEPT, "application/json");
    let response = discovery
        .authorized(request, &host)
        .send()
        .await
        .map_err(|error| format!("{url}: {}", describe(&error)))?;
    match response.status() {
        reqwest::StatusCode::OK => {}
        reqwest::StatusCode::NOT_FOUND => return Ok(None),
        reqwest::StatusCode::UNAUTHORIZED | reqwest::StatusCode::FORBIDDEN => {
            return Err(format!(
                "{url}: the server answered {} (set a token for {host} with a credentials block or a credentials_helper in the CLI configuration, or TF_TOKEN_{})",
                response.status(),
                host.replace('-', "__").replace('.', "_")
            ))
        }
        status => return Err(format!("{url}: the server answered {status}")),
    }
    let body = read_limited(response, MAX_DOCUMENT_BYTES)
        .await
        .map_err(|message| format!("{url}: {message}"))?;
    serde_json::from_slice(&body)
        .map(Some)
        .map_err(|error| format!("{url}: the answer is not valid JSON: {error}"))
}

/// `host[:port]` of a URL, as the CLI configuration names hosts.
fn host_of(url: &Url) -> String {
    let host = url.host_str().unwrap_or_default();
    match url.port() {
        Some(port) => format!("{host}:{port}"),
        None => host.to_string(),
    }
}

fn provider_url(base: &Url, provider: &ProviderAddr, file: &str) -> Result<Url, String> {
    base.join(&format!(
        "{}/{}/{}/{file}",
        provider.host, provider.namespace, provider.provider_type
    ))
    .map_err(|error| format!("{base}: {error}"))
}

async fn network_versions(
    discovery: &Discovery,
    base: &Url,
    provider: &ProviderAddr,
) -> Result<Vec<String>, String> {
    let url = provider_url(base, provider, "index.json")?;
    let Some(document) = get_json(discovery, &url).await? else {
        return Ok(Vec::new());
    };
    let versions = document
        .get("versions")
        .and_then(|v| v.as_object())
        .ok_or_else(|| format!("{url}: the answer has no \"versions\" object"))?;
    Ok(versions
        .keys()
        .filter(|v| crate::config::version::compare(v, v).is_ok())
        .cloned()
        .collect())
}

async fn network_package(
    discovery: &Discovery,
    base: &Url,
    provider: &ProviderAddr,
    version: &str,
    platform: &Platform,
) -> Result<Option<Package>, String> {
    let url = provider_url(base, provider, &format!("{version}.json"))?;
    let Some(document) = get_json(discovery, &url).await? else {
        return Ok(None);
    };
    let Some(archive) = document
        .get("archives")
        .and_then(|a| a.get(platform.to_string()))
    else {
        return Ok(None);
    };
    let archive_url = archive
        .get("url")
        .and_then(|u| u.as_str())
        .ok_or_else(|| format!("{url}: the {platform} archive has no \"url\""))?;
    let location = url
        .join(archive_url)
        .map_err(|error| format!("{url}: invalid archive URL `{archive_url}`: {error}"))?;
    let hashes: Vec<String> = archive
        .get("hashes")
        .and_then(|h| h.as_array())
        .into_iter()
        .flatten()
        .filter_map(|h| h.as_str().map(str::to_string))
        .collect();
    let verification = if hashes.is_empty() {
        Verification::None
    } else {
        Verification::Hashes(hashes)
    };
    Ok(Some(Package {
        location: Location::Http(location),
        verification,
    }))
}

/// The registry's `providers.v1` base URL for the provider's host.
async fn registry_base(discovery: &Discovery, provider: &ProviderAddr) -> Result<Url, String> {
    let services = discovery
        .discover(&provider.host)
        .await
        .map_err(|error| error.to_string())?;
    services
        .url("providers.v1")
        .map_err(|error| error.to_string())?
        .ok_or_else(|| {
            format!(
                "host {} does not offer a Terraform provider registry",
                provider.host
            )
        })
}

async fn registry_versions(
    discovery: &Discovery,
    provider: &ProviderAddr,
    platform: &Platform,
) -> Result<Vec<String>, String> {
    let base = registry_base(discovery, provider).await?;
    let url = base
        .join(&format!(
            "{}/{}/versions",
            provider.namespace, provider.provider_type
        ))
        .map_err(|error| error.to_string())?;
    let Some(document) = get_json(discovery, &url).await? else {
        return Err(format!(
            "provider registry {} does not have a provider named {provider}",
            provider.host
        ));
    };
    let entries = document
        .get("versions")
        .and_then(|v| v.as_array())
        .ok_or_else(|| format!("{url}: the answer has no \"versions\" list"))?;
    let mut versions = Vec::new();
    for entry in entries {
        let Some(version) = entry.get("version").and_then(|v| v.as_str()) else {
            continue;
        };
        // A version that lists its platforms is offered only for those.
        let for_platform = entry
            .get("platforms")
            .and_then(|p| p.as_array())
            .is_none_or(|platforms| {
                platforms.iter().any(|p| {
                    p.get("os").and_then(|v| v.as_str()) == Some(platform.os.as_str())
                        && p.get("arch").and_then(|v| v.as_str()) == Some(platform.arch.as_str())
                })
            });
        if for_platform && crate::config::version::compare(version, version).is_ok() {
            versions.push(version.to_string());
        }
    }
    Ok(versions)
}

async fn registry_package(
    discovery: &Discovery,
    provider: &ProviderAddr,
    version: &str,
    platform: &Platform,
) -> Result<Option<Package>, String> {
    let base = registry_base(discovery, provider).await?;
    let url = base
        .join(&format!(
            "{}/{}/{version}/download/{}/{}",
            provider.namespace, provider.provider_type, platform.os, platform.arch
        ))
        .map_err(|error| error.to_string())?;
    let Some(document) = get_json(discovery, &url).await? else {
        return Ok(None);
    };
    let field = |name: &str| {
        document
            .get(name)
            .and_then(|v| v.as_str())
            .filter(|v| !v.is_empty())
            .ok_or_else(|| format!("{url}: the answer has no \"{name}\""))
    };
    let resolve = |name: &str| -> Result<Url, String> {
        let value = field(name)?;
        url.join(value)
            .map_err(|error| format!("{url}: invalid {name} `{value}`: {error}"))
    };
    let sha256 = field("shasum")?.to_ascii_lowercase();
    if sha256.len() != 64 || !sha256.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err(format!("{url}: \"shasum\" is not a SHA-256 hash"));
    }
    Ok(Some(Package {
        location: Location::Http(resolve("download_url")?),
        verification: Verification::Registry {
            sha256,
            filename: field("filename")?.to_string(),
            shasums_url: resolve("shasums_url")?,
            signature_url: resolve("shasums_signature_url")?,
            signing_keys: signing_keys(&document),
        },
    }))
}

/// The ASCII-armored keys of a download answer's `signing_keys.gpg_public_keys`.
fn signing_keys(document: &serde_json::Value) -> Vec<String> {
    document["signing_keys"]["gpg_public_keys"]
        .as_array()
        .map(|keys| {
            keys.iter()
                .filter_map(|key| key["ascii_armor"].as_str())
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn platforms_as_go_names_them() {
        assert_eq!(
            Platform::parse("linux_amd64").unwrap().to_string(),
            "linux_amd64"
        );
        assert!(Platform::parse("linux").is_err());
        assert!(Platform::parse("linux_amd_64").is_err());
        #[cfg(all(target_os = "linux", target_arch = "x86_64"))]
        assert_eq!(Platform::current().to_string(), "linux_amd64");
    }

    #[test]
    fn a_mirror_offers_unpacked_and_packed_packages() {
        let dir = tempfile::tempdir().unwrap();
        let provider = ProviderAddr::parse("hashicorp/null").unwrap();
        let platform = Platform::parse("linux_amd64").unwrap();
        let base = dir.path().join("registry.terraform.io/hashicorp/null");
        std::fs::create_dir_all(base.join("1.0.0/linux_amd64")).unwrap();
        std::fs::create_dir_all(base.join("1.1.0/darwin_arm64")).unwrap();
        std::fs::create_dir_all(base.join("2.0.0/linux_amd64")).unwrap();
        for name in [
            "terraform-provider-null_2.0.0_linux_amd64.zip",
            "terraform-provider-null_3.0.0_linux_amd64.zip",
            "terraform-provider-null_3.1.0_darwin_arm64.zip",
        ] {
            std::fs::write(base.join(name), b"").unwrap();
        }
        let found: Vec<(String, bool)> = mirror_packages(dir.path(), &provider, &platform)
            .into_iter()
            .map(|(v, location)| (v, matches!(location, Location::Dir(_))))
            .collect();
        assert_eq!(
            found,
            [
                ("1.0.0".to_string(), true),
                ("2.0.0".to_string(), true),
                ("3.0.0".to_string(), false)
            ]
        );
    }
}

//! Installing one provider package into `.terraform/providers` (or the plugin cache, then
//! linked from there), as Terraform's `providercache` does: a symbolic link (absolute) to an
//! unpacked mirror directory, an archive extracted through a staging directory otherwise.
//! Every check happens before the package is in place, so nothing unverified is ever run:
//! a registry archive's SHA-256 against the `shasum` the registry gave and its `SHA256SUMS`,
//! a network mirror's archive against the mirror's hashes, and any package against the hashes
//! the lock file recorded for that version. A package whose registry `SHA256SUMS` carried a
//! verified signature vouches for every package that document lists: their `zh:` hashes go
//! into the lock with the installed package's `h1:`, as Terraform records them.

use super::addr::ProviderAddr;
use super::discovery::Discovery;
use super::hash::{h1_dir, h1_zip, sha256_file};
use super::http::describe;
use super::providers::Event;
use super::source::{Location, Package, Platform, Source, Verification};
use std::collections::BTreeSet;
use std::io::Read;
use std::path::{Path, PathBuf};

/// Terraform's pointer for checksum errors.
const CHECKSUM_HELP: &str =
    "for more information: https://developer.hashicorp.com/terraform/language/files/dependency-lock#checksum-verification";
/// Uncompressed size past which an archive is refused (the largest providers are ~500 MB).
const MAX_UNPACKED_BYTES: u64 = 4 << 30;

/// How a package was checked, as `init` says it after "Installed ...".
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verified {
    /// Nothing to check against (a filesystem mirror).
    Unauthenticated,
    /// A network mirror's hashes matched.
    Checksum,
    /// The registry's SHA-256 and SHA256SUMS matched, and SHA256SUMS is signed by the key
    /// (16 hex digits) of one of the registry's signing keys ([`super::signature`]).
    Signed { key_id: String },
}

impl std::fmt::Display for Verified {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Verified::Unauthenticated => f.write_str("unauthenticated"),
            Verified::Checksum => f.write_str("verified checksum"),
            Verified::Signed { key_id } => write!(f, "self-signed, key ID {key_id}"),
        }
    }
}

/// What the source's checks established about a package.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Checked {
    pub verified: Verified,
    /// The `zh:` hash of every package a signed `SHA256SUMS` lists (all platforms), which
    /// Terraform trusts and locks once the signature verified; empty for any other source.
    pub signed_hashes: Vec<String>,
}

impl Checked {
    fn unsigned(verified: Verified) -> Checked {
        Checked {
            verified,
            signed_hashes: Vec::new(),
        }
    }
}

/// One package to put in place.
pub struct Request<'a> {
    pub provider: &'a ProviderAddr,
    pub version: &'a str,
    pub platform: &'a Platform,
    /// The directory in `.terraform/providers`.
    pub target: &'a Path,
    /// The same package's directory in the plugin cache, when there is one.
    pub cache: Option<PathBuf>,
    pub cache_may_break_lock: bool,
    /// The lock file's hashes for this version (empty for a new selection).
    pub prior_hashes: &'a BTreeSet<String>,
}

/// Puts the package in place (or finds it there) and returns the hashes the lock gains: the
/// installed package's `h1:`, and, when it was fetched with a signed `SHA256SUMS`, the `zh:`
/// of every package that lists (Terraform's installer does the same).
pub async fn ensure(
    request: &Request<'_>,
    source: &Source,
    discovery: &Discovery,
    report: &mut (dyn FnMut(Event) + Send),
) -> Result<BTreeSet<String>, String> {
    let provider = request.provider.clone();
    let version = request.version.to_string();
    if has_executable(request.target, request.provider) && !request.prior_hashes.is_empty() {
        if let Ok(hash) = h1_dir(request.target) {
            if request.prior_hashes.contains(&hash) {
                report(Event::AlreadyInstalled { provider, version });
                return Ok(BTreeSet::from([hash]));
            }
        }
    }
    if let Some(cache) = &request.cache {
        if has_executable(cache, request.provider) {
            let matches = h1_dir(cache).is_ok_and(|h| request.prior_hashes.contains(&h));
            if matches || request.cache_may_break_lock {
                report(Event::FromCache { provider, version });
                link_dir(cache, request.target)?;
                return Ok(BTreeSet::from([h1_dir(request.target)?]));
            }
        }
    }
    let package = find(
        source,
        discovery,
        request.provider,
        request.version,
        request.platform,
    )
    .await?;
    report(Event::Installing {
        provider: provider.clone(),
        version: version.clone(),
    });
    let install_to = request.cache.as_deref().unwrap_or(request.target);
    let checked = install_package(request, &package, install_to, discovery).await?;
    if let Some(cache) = &request.cache {
        link_dir(cache, request.target)?;
    }
    if !has_executable(request.target, request.provider) {
        return Err(format!(
            "provider binary not found: the package has no file named terraform-provider-{}*",
            request.provider.provider_type
        ));
    }
    let mut hashes = BTreeSet::from([h1_dir(request.target)?]);
    hashes.extend(checked.signed_hashes);
    report(Event::Installed {
        provider,
        version,
        verified: checked.verified,
    });
    Ok(hashes)
}

/// Fetches and verifies `version`'s package for `platform` from `source` into `target`, with no
/// lock file involved (`providers lock`).
pub async fn fetch(
    source: &Source,
    discovery: &Discovery,
    provider: &ProviderAddr,
    version: &str,
    platform: &Platform,
    target: &Path,
) -> Result<Checked, String> {
    let package = find(source, discovery, provider, version, platform).await?;
    let no_hashes = BTreeSet::new();
    let request = Request {
        provider,
        version,
        platform,
        target,
        cache: None,
        cache_may_break_lock: false,
        prior_hashes: &no_hashes,
    };
    install_package(&request, &package, target, discovery).await
}

/// Fetches and verifies the package's archive into the file `archive` (an unpacked mirror
/// directory is zipped), for `providers mirror`.
pub async fn fetch_archive(
    source: &Source,
    discovery: &Discovery,
    provider: &ProviderAddr,
    version: &str,
    platform: &Platform,
    archive: &Path,
) -> Result<Verified, String> {
    let package = find(source, discovery, provider, version, platform).await?;
    let copy = |from: &Path| {
        std::fs::copy(from, archive)
            .map(|_| ())
            .map_err(|error| format!("failed to write {}: {error}", archive.display()))
    };
    match &package.location {
        Location::Dir(dir) => {
            zip_dir(dir, archive)?;
            Ok(Verified::Unauthenticated)
        }
        Location::Zip(path) => {
            let checked = verify(&package.verification, path, discovery).await?;
            copy(path)?;
            Ok(checked.verified)
        }
        Location::Http(url) => {
            let download = download(discovery, url).await?;
            let checked = verify(&package.verification, download.path(), discovery).await?;
            copy(download.path())?;
            Ok(checked.verified)
        }
    }
}

/// The package `source` has, or an error naming what is missing.
async fn find(
    source: &Source,
    discovery: &Discovery,
    provider: &ProviderAddr,
    version: &str,
    platform: &Platform,
) -> Result<Package, String> {
    source
        .package(discovery, provider, version, platform)
        .await?
        .ok_or_else(|| {
            format!(
                "provider {provider} {version} is not available for {platform} from {}",
                source.describe()
            )
        })
}

/// Zips the files of `dir` (permissions kept) into `archive`.
fn zip_dir(dir: &Path, archive: &Path) -> Result<(), String> {
    use std::io::Write as _;
    let failed =
        |error: &dyn std::fmt::Display| format!("failed to write {}: {error}", archive.display());
    let mut zip = zip::ZipWriter::new(std::fs::File::create(archive).map_err(|e| failed(&e))?);
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .map_err(|e| failed(&e))?
        .flatten()
        .filter(|e| e.path().is_file())
        .collect();
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let mut options = zip::write::SimpleFileOptions::default();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(entry.path())
                .map_err(|e| failed(&e))?
                .permissions()
                .mode();
            options = options.unix_permissions(mode & 0o777);
        }
        zip.start_file(entry.file_name().to_string_lossy(), options)
            .map_err(|e| failed(&e))?;
        let bytes = std::fs::read(entry.path()).map_err(|e| failed(&e))?;
        zip.write_all(&bytes).map_err(|e| failed(&e))?;
    }
    zip.finish().map_err(|e| failed(&e))?;
    Ok(())
}

async fn install_package(
    request: &Request<'_>,
    package: &Package,
    install_to: &Path,
    discovery: &Discovery,
) -> Result<Checked, String> {
    match &package.location {
        Location::Dir(dir) => {
            check_prior_dir(request, dir)?;
            link_dir(dir, install_to)?;
            Ok(Checked::unsigned(Verified::Unauthenticated))
        }
        Location::Zip(archive) => {
            let checked = verify(&package.verification, archive, discovery).await?;
            check_prior_zip(request, archive)?;
            extract(archive, install_to)?;
            Ok(checked)
        }
        Location::Http(url) => {
            let download = download(discovery, url).await?;
            let checked = verify(&package.verification, download.path(), discovery).await?;
            check_prior_zip(request, download.path())?;
            extract(download.path(), install_to)?;
            Ok(checked)
        }
    }
}

/// Whether `dir` holds the provider's executable (`terraform-provider-<type>...`).
pub fn has_executable(dir: &Path, provider: &ProviderAddr) -> bool {
    let prefix = format!("terraform-provider-{}", provider.provider_type);
    std::fs::read_dir(dir).is_ok_and(|entries| {
        entries
            .flatten()
            .any(|e| e.file_name().to_string_lossy().starts_with(&prefix) && e.path().is_file())
    })
}

/// An unpacked package must match a prior `h1:` hash, when the lock has any (a lock with only
/// `zh:` hashes cannot be checked against a directory: Terraform lets it pass).
fn check_prior_dir(request: &Request<'_>, dir: &Path) -> Result<(), String> {
    if request.prior_hashes.iter().all(|h| h.starts_with("zh:")) {
        return Ok(());
    }
    if request.prior_hashes.contains(&h1_dir(dir)?) {
        return Ok(());
    }
    Err(format!(
        "the local package for {} {} doesn't match any of the checksums previously recorded in the dependency lock file (this might be because the available checksums are for packages targeting different platforms); {CHECKSUM_HELP}",
        request.provider, request.version
    ))
}

fn check_prior_zip(request: &Request<'_>, archive: &Path) -> Result<(), String> {
    if request.prior_hashes.is_empty() {
        return Ok(());
    }
    let zh = format!("zh:{}", sha256_file(archive)?);
    if request.prior_hashes.contains(&zh) || request.prior_hashes.contains(&h1_zip(archive)?) {
        return Ok(());
    }
    Err(format!(
        "the current package for {} {} doesn't match any of the checksums previously recorded in the dependency lock file; {CHECKSUM_HELP}",
        request.provider, request.version
    ))
}

/// The source's own checks on an archive.
async fn verify(
    verification: &Verification,
    archive: &Path,
    discovery: &Discovery,
) -> Result<Checked, String> {
    match verification {
        Verification::None => Ok(Checked::unsigned(Verified::Unauthenticated)),
        Verification::Hashes(hashes) => {
            let zh = format!("zh:{}", sha256_file(archive)?);
            if hashes.contains(&zh) || hashes.contains(&h1_zip(archive)?) {
                Ok(Checked::unsigned(Verified::Checksum))
            } else {
                Err(format!(
                    "the downloaded archive matches none of the checksums the network mirror lists for it ({}); it was not installed",
                    hashes.join(", ")
                ))
            }
        }
        Verification::Registry {
            sha256,
            filename,
            shasums_url,
            signature_url,
            signing_keys,
        } => {
            let document = fetch_small(discovery, shasums_url, "checksum list").await?;
            let signature =
                fetch_small(discovery, signature_url, "checksum list signature").await?;
            let key_id = super::signature::verify_detached(&document, &signature, signing_keys)
                .map_err(|error| {
                    format!("{error}; it was not installed (the registry at {shasums_url} must serve the provider's signed checksums)")
                })?;
            let listed = listed_hash(&document, filename)?;
            if listed != *sha256 {
                return Err(format!(
                    "checksum list has unexpected SHA-256 hash {listed} (expected {sha256})"
                ));
            }
            let actual = sha256_file(archive)?;
            if actual != *sha256 {
                return Err(format!(
                    "archive has incorrect checksum {actual} (expected {sha256}); it was not installed"
                ));
            }
            Ok(Checked {
                verified: Verified::Signed { key_id },
                signed_hashes: signed_hashes(&document),
            })
        }
    }
}

/// The `zh:` hash of every entry of a signed `SHA256SUMS` document, or none when any line is
/// not `<64 hex digits> <name>` (then it is not a checksum list, as Terraform's
/// `signatureAuthentication.AcceptableHashes` decides).
fn signed_hashes(document: &[u8]) -> Vec<String> {
    let text = String::from_utf8_lossy(document);
    let mut hashes = Vec::new();
    for line in text.lines() {
        let fields: Vec<&str> = line.split_whitespace().collect();
        match fields.as_slice() {
            [] => continue,
            [hash, _, ..] if hash.len() == 64 && hash.bytes().all(|b| b.is_ascii_hexdigit()) => {
                hashes.push(format!("zh:{}", hash.to_ascii_lowercase()));
            }
            _ => return Vec::new(),
        }
    }
    hashes
}

/// A small document of the registry (a checksum list, its signature), at most 1 MiB.
async fn fetch_small(discovery: &Discovery, url: &url::Url, what: &str) -> Result<Vec<u8>, String> {
    let response = discovery
        .client()
        .get(url.clone())
        .send()
        .await
        .map_err(|error| format!("failed to retrieve the {what} {url}: {}", describe(&error)))?;
    if !response.status().is_success() {
        return Err(format!(
            "failed to retrieve the {what} {url}: the server answered {}",
            response.status()
        ));
    }
    super::http::read_limited(response, 1024 * 1024)
        .await
        .map_err(|message| format!("{url}: {message}"))
}

/// The hash a `SHA256SUMS` document lists for `filename`.
fn listed_hash(document: &[u8], filename: &str) -> Result<String, String> {
    let text = String::from_utf8_lossy(document);
    text.lines()
        .filter_map(|line| line.split_once("  "))
        .find(|(_, name)| name.trim() == filename)
        .map(|(hash, _)| hash.trim().to_ascii_lowercase())
        .ok_or_else(|| format!("checksum list has no SHA-256 hash for {filename:?}"))
}

/// Downloads an archive into a temporary file (removed when dropped).
async fn download(
    discovery: &Discovery,
    url: &url::Url,
) -> Result<tempfile::NamedTempFile, String> {
    use std::io::Write as _;
    let mut response = discovery
        .client()
        .get(url.clone())
        .send()
        .await
        .map_err(|error| format!("{url}: {}", describe(&error)))?;
    if response.status() != reqwest::StatusCode::OK {
        return Err(format!(
            "unsuccessful request to {url}: {}",
            response.status()
        ));
    }
    let expected = response.content_length();
    let mut file = tempfile::Builder::new()
        .prefix("strata-provider")
        .tempfile()
        .map_err(|error| format!("cannot create a temporary file: {error}"))?;
    let mut written: u64 = 0;
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|error| format!("{url}: {}", describe(&error)))?
    {
        written += chunk.len() as u64;
        if written > MAX_UNPACKED_BYTES {
            return Err(format!(
                "{url}: the archive is larger than {MAX_UNPACKED_BYTES} bytes"
            ));
        }
        file.write_all(&chunk)
            .map_err(|error| format!("cannot write the download: {error}"))?;
    }
    if let Some(expected) = expected.filter(|e| written < *e) {
        return Err(format!(
            "incorrect response size: expected {expected} bytes, but got {written} bytes"
        ));
    }
    file.flush()
        .map_err(|error| format!("cannot write the download: {error}"))?;
    Ok(file)
}

/// Extracts a zip archive into `target` through a staging directory next to it, keeping each
/// file's permissions; entries that would land outside the target are refused.
pub fn extract(archive: &Path, target: &Path) -> Result<(), String> {
    let parent = target
        .parent()
        .ok_or_else(|| format!("{} has no parent directory", target.display()))?;
    std::fs::create_dir_all(parent)
        .map_err(|error| format!("failed to create {}: {error}", parent.display()))?;
    let staging = tempfile::Builder::new()
        .prefix(".temp")
        .tempdir_in(parent)
        .map_err(|error| format!("failed to create a temp dir: {error}"))?;
    let file = std::fs::File::open(archive)
        .map_err(|error| format!("cannot read {}: {error}", archive.display()))?;
    let mut zip = zip::ZipArchive::new(file)
        .map_err(|error| format!("failed to decompress: not a zip archive: {error}"))?;
    let mut total: u64 = 0;
    for index in 0..zip.len() {
        let mut entry = zip
            .by_index(index)
            .map_err(|error| format!("failed to decompress: {error}"))?;
        let Some(relative) = entry.enclosed_name() else {
            return Err(format!(
                "failed to decompress: the entry {:?} points outside the package",
                entry.name()
            ));
        };
        let path = staging.path().join(relative);
        if entry.is_dir() {
            std::fs::create_dir_all(&path).map_err(|e| format!("failed to decompress: {e}"))?;
            continue;
        }
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| format!("failed to decompress: {e}"))?;
        }
        let mut out =
            std::fs::File::create(&path).map_err(|e| format!("failed to decompress: {e}"))?;
        let limit = MAX_UNPACKED_BYTES.saturating_sub(total) + 1;
        let copied = std::io::copy(&mut (&mut entry).take(limit), &mut out)
            .map_err(|e| format!("failed to decompress: {e}"))?;
        total += copied;
        if total > MAX_UNPACKED_BYTES {
            return Err(format!(
                "failed to decompress: the archive unpacks to more than {MAX_UNPACKED_BYTES} bytes"
            ));
        }
        #[cfg(unix)]
        if let Some(mode) = entry.unix_mode() {
            use std::os::unix::fs::PermissionsExt as _;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode & 0o777))
                .map_err(|e| format!("failed to decompress: {e}"))?;
        }
    }
    remove_existing(target)?;
    let staged = staging.keep();
    std::fs::rename(&staged, target).map_err(|error| {
        let _ = std::fs::remove_dir_all(&staged);
        format!(
            "failed to move the package into {}: {error}",
            target.display()
        )
    })
}

/// Removes whatever is at `path` (a link, a directory or a file).
fn remove_existing(path: &Path) -> Result<(), String> {
    match std::fs::symlink_metadata(path) {
        Ok(meta) if meta.is_dir() => std::fs::remove_dir_all(path),
        Ok(_) => std::fs::remove_file(path),
        Err(_) => Ok(()),
    }
    .map_err(|error| format!("failed to remove the existing {}: {error}", path.display()))
}

/// Links `target` to the directory `source` (an absolute symbolic link, as Terraform makes),
/// or copies it where links are not possible.
pub fn link_dir(source: &Path, target: &Path) -> Result<(), String> {
    let source = std::path::absolute(source)
        .map_err(|error| format!("cannot resolve {}: {error}", source.display()))?;
    let target_abs = std::path::absolute(target)
        .map_err(|error| format!("cannot resolve {}: {error}", target.display()))?;
    let target_is_link = std::fs::symlink_metadata(&target_abs).is_ok_and(|m| m.is_symlink());
    if !target_is_link
        && target_abs.exists()
        && std::fs::canonicalize(&source).ok() == std::fs::canonicalize(&target_abs).ok()
    {
        return Err(format!(
            "cannot install existing provider directory {} to itself",
            target.display()
        ));
    }
    remove_existing(&target_abs)?;
    if let Some(parent) = target_abs.parent() {
        std::fs::create_dir_all(parent)
            .map_err(|error| format!("failed to create {}: {error}", parent.display()))?;
    }
    #[cfg(unix)]
    if std::os::unix::fs::symlink(&source, &target_abs).is_ok() {
        return Ok(());
    }
    copy_dir(&source, &target_abs)
}

fn copy_dir(source: &Path, target: &Path) -> Result<(), String> {
    std::fs::create_dir_all(target)
        .map_err(|error| format!("failed to create {}: {error}", target.display()))?;
    let entries = std::fs::read_dir(source)
        .map_err(|error| format!("cannot read {}: {error}", source.display()))?;
    for entry in entries.flatten() {
        let to = target.join(entry.file_name());
        if entry.path().is_dir() {
            copy_dir(&entry.path(), &to)?;
        } else {
            std::fs::copy(entry.path(), &to)
                .map_err(|error| format!("failed to copy {}: {error}", entry.path().display()))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn extraction_keeps_modes_and_refuses_escaping_entries() {
        let dir = tempfile::tempdir().unwrap();
        let archive = dir.path().join("p.zip");
        let mut zip = zip::ZipWriter::new(std::fs::File::create(&archive).unwrap());
        let options = zip::write::SimpleFileOptions::default().unix_permissions(0o755);
        zip.start_file("terraform-provider-x_v1.0.0", options)
            .unwrap();
        zip.write_all(b"#!/bin/sh\n").unwrap();
        zip.finish().unwrap();
        let target = dir.path().join("out/1.0.0/linux_amd64");
        extract(&archive, &target).unwrap();
        let binary = target.join("terraform-provider-x_v1.0.0");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(&binary).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o755);
        }
        assert!(has_executable(
            &target,
            &ProviderAddr::parse("acme/x").unwrap()
        ));

        let evil = dir.path().join("evil.zip");
        let mut zip = zip::ZipWriter::new(std::fs::File::create(&evil).unwrap());
        zip.start_file("../../escaped", zip::write::SimpleFileOptions::default())
            .unwrap();
        zip.write_all(b"x").unwrap();
        zip.finish().unwrap();
        let error = extract(&evil, &dir.path().join("evil-out/x")).unwrap_err();
        assert!(error.contains("outside the package"), "{error}");
        assert!(!dir.path().join("escaped").exists());
    }

    #[test]
    fn a_signed_checksum_list_vouches_for_every_listed_package() {
        let sums = format!(
            "{}  terraform-provider-x_1.0.0_darwin_arm64.zip\n{}  terraform-provider-x_1.0.0_linux_amd64.zip\n",
            "A1".repeat(32),
            "0b".repeat(32)
        );
        assert_eq!(
            signed_hashes(sums.as_bytes()),
            vec![
                format!("zh:{}", "a1".repeat(32)),
                format!("zh:{}", "0b".repeat(32))
            ]
        );
        // Anything that is not a checksum list vouches for nothing.
        assert!(signed_hashes(b"not a checksum list\n").is_empty());
        assert!(
            signed_hashes(format!("{}  x.zip\nshort  y.zip\n", "0".repeat(64)).as_bytes())
                .is_empty()
        );
    }

    #[test]
    fn linking_makes_an_absolute_symlink() {
        let dir = tempfile::tempdir().unwrap();
        let source = dir.path().join("mirror/pkg");
        std::fs::create_dir_all(&source).unwrap();
        let target = dir.path().join("work/.terraform/providers/x");
        link_dir(&source, &target).unwrap();
        #[cfg(unix)]
        assert_eq!(std::fs::read_link(&target).unwrap(), source);
        // Linking again replaces the link.
        link_dir(&source, &target).unwrap();
        assert!(link_dir(&source, &source).is_err());
    }
}

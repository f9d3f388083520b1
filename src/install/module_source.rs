//! Module source addresses as Terraform reads a module block's `source`: a local path (`./x`,
//! `../x`), a module registry address (`[host/]namespace/name/system`), or a remote package
//! (`git::…`, `https://…`, an absolute path, and the shorthands `github.com/org/repo`,
//! `git@host:org/repo.git`, `bitbucket.org/org/repo`), each with an optional `//subdir`.
//!
//! [`ModuleSource::to_string`] is Terraform's normalised form: what `modules.json` records as a
//! module's `Source`, so that both tools recognise an installation as current.

use std::fmt;

/// The registry host of addresses that name none.
pub const DEFAULT_REGISTRY_HOST: &str = "registry.terraform.io";

/// A parsed `source`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ModuleSource {
    /// A path within the calling module's package, cleaned, starting with `./` or `../`.
    Local(String),
    Registry(RegistrySource),
    Remote(RemoteSource),
}

/// `host/namespace/name/system//subdir`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RegistrySource {
    /// As Terraform compares host names: lower case, punycode, the port unless it is 443.
    pub host: String,
    pub namespace: String,
    pub name: String,
    pub system: String,
    pub subdir: String,
}

/// A package fetched directly: `package` is the normalised address with its getter prefix
/// (`git::https://…?ref=v1`, `file:///abs`, `https://…/m.tar.gz`), `subdir` the directory of the
/// module inside it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RemoteSource {
    pub package: String,
    pub subdir: String,
}

/// Why a `source` cannot be read; the message says what is wrong with it.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SourceError {
    #[error("no supported module source type matches `{0}` (Terraform refuses it too); if you meant a path relative to this module, write \"./{0}\"")]
    MaybeRelativePath(String),
    #[error("{0}")]
    Invalid(String),
}

impl ModuleSource {
    /// Parses `raw` as Terraform does. With `has_version` (a `version` argument beside it) the
    /// address must be a registry address.
    pub fn parse(raw: &str, has_version: bool) -> Result<ModuleSource, SourceError> {
        if is_local(raw) {
            return Ok(ModuleSource::Local(clean_local(raw)));
        }
        match parse_registry(raw) {
            Ok(registry) => return Ok(ModuleSource::Registry(registry)),
            Err(error) if has_version => {
                return Err(SourceError::Invalid(format!(
                    "`{raw}` is not a module registry address ({error}); the \"version\" argument applies only to registry modules, written namespace/name/system or host/namespace/name/system"
                )))
            }
            Err(_) => {}
        }
        parse_remote(raw).map(ModuleSource::Remote)
    }

    pub fn is_local(&self) -> bool {
        matches!(self, ModuleSource::Local(_))
    }
}

impl fmt::Display for ModuleSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ModuleSource::Local(path) => f.write_str(path),
            ModuleSource::Registry(registry) => write!(f, "{registry}"),
            ModuleSource::Remote(remote) => write!(f, "{remote}"),
        }
    }
}

impl RegistrySource {
    /// `namespace/name/system`, as the registry protocol's paths use it.
    pub fn package_path(&self) -> String {
        format!("{}/{}/{}", self.namespace, self.name, self.system)
    }

    /// The address without its subdirectory.
    pub fn package(&self) -> String {
        format!("{}/{}", self.host, self.package_path())
    }
}

impl fmt::Display for RegistrySource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.package())?;
        if !self.subdir.is_empty() {
            write!(f, "//{}", self.subdir)?;
        }
        Ok(())
    }
}

impl fmt::Display for RemoteSource {
    /// The subdirectory goes before the query, as Terraform writes it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.subdir.is_empty() {
            return f.write_str(&self.package);
        }
        match self.package.split_once('?') {
            Some((base, query)) => write!(f, "{base}//{}?{query}", self.subdir),
            None => write!(f, "{}//{}", self.package, self.subdir),
        }
    }
}

/// Whether `raw` is a local path (`./`, `../`, or their backslash forms).
pub fn is_local(raw: &str) -> bool {
    ["./", "../", ".\\", "..\\"]
        .iter()
        .any(|prefix| raw.starts_with(prefix))
}

fn clean_local(raw: &str) -> String {
    let clean = clean_path(&raw.replace('\\', "/"));
    if clean.starts_with("../") || clean == ".." {
        clean
    } else if clean == "." {
        "./.".to_string()
    } else {
        format!("./{clean}")
    }
}

/// Go's `path.Clean`: removes `.`, empty and `name/..` segments.
pub fn clean_path(path: &str) -> String {
    crate::lang::functions::filesystem::clean(path)
}

/// `a//sub?q` → (`a?q`, `sub`): the `//` after any scheme and before any query separates the
/// package from the directory inside it.
pub fn split_package_subdir(given: &str) -> (String, String) {
    let stop = given.find('?').unwrap_or(given.len());
    let offset = given[..stop].find("://").map(|at| at + 3).unwrap_or(0);
    let Some(at) = given[offset..stop].find("//") else {
        return (given.to_string(), String::new());
    };
    let at = at + offset;
    let mut package = given[..at].to_string();
    let mut subdir = given[at + 2..].to_string();
    if let Some(query_at) = subdir.find('?') {
        package.push_str(&subdir[query_at..]);
        subdir.truncate(query_at);
    }
    let subdir = if subdir.is_empty() {
        subdir
    } else {
        clean_path(&subdir)
    };
    (package, subdir)
}

fn parse_registry(raw: &str) -> Result<RegistrySource, String> {
    let (package, subdir) = split_package_subdir(raw);
    if subdir.starts_with("../") {
        return Err(format!(
            "subdirectory path \"{subdir}\" leads outside of the module package"
        ));
    }
    let mut parts: Vec<&str> = package.split('/').collect();
    if parts.len() != 3 && parts.len() != 4 {
        return Err("a module registry source address must have either three or four slash-separated components".into());
    }
    let mut host = DEFAULT_REGISTRY_HOST.to_string();
    if parts.len() == 4 {
        host = super::addr::normalize_host(parts[0])
            .map_err(|_| format!("invalid module registry hostname \"{}\"", parts[0]))?;
        let name = host.split(':').next().unwrap_or(&host);
        if !name.contains('.') {
            return Err("invalid module registry hostname: must contain at least one dot".into());
        }
        parts.remove(0);
    }
    if host == "github.com" || host == "bitbucket.org" {
        return Err(format!("can't use \"{host}\" as a module registry host, because it's reserved for installing directly from version control repositories"));
    }
    let name_ok = |name: &str| {
        let bytes = name.as_bytes();
        let inner = |c: &u8| c.is_ascii_alphanumeric() || *c == b'-' || *c == b'_';
        !bytes.is_empty()
            && bytes.len() <= 64
            && bytes[0].is_ascii_alphanumeric()
            && bytes[bytes.len() - 1].is_ascii_alphanumeric()
            && bytes.iter().all(inner)
    };
    if !name_ok(parts[0]) {
        return Err(format!("invalid namespace \"{}\"", parts[0]));
    }
    if !name_ok(parts[1]) {
        return Err(format!("invalid module name \"{}\"", parts[1]));
    }
    let system_ok = !parts[2].is_empty()
        && parts[2].len() <= 64
        && parts[2]
            .chars()
            .all(|c| c.is_ascii_digit() || c.is_ascii_lowercase());
    if !system_ok {
        if parts[2].contains('?') {
            return Err("module registry addresses may not include a query string portion".into());
        }
        return Err(format!("invalid target system \"{}\"", parts[2]));
    }
    Ok(RegistrySource {
        host,
        namespace: parts[0].to_string(),
        name: parts[1].to_string(),
        system: parts[2].to_string(),
        subdir,
    })
}

fn parse_remote(raw: &str) -> Result<RemoteSource, SourceError> {
    let (raw, mut subdir) = split_package_subdir(raw);
    if subdir.starts_with("../") {
        return Err(SourceError::Invalid(format!(
            "subdirectory path \"{subdir}\" leads outside of the module package"
        )));
    }
    let normalised = detect_shorthands(&raw)?;
    let (package, more) = split_package_subdir(&normalised);
    if !more.is_empty() {
        subdir = if subdir.is_empty() {
            clean_path(&more)
        } else {
            clean_path(&format!("{more}/{subdir}"))
        };
    }
    Ok(RemoteSource { package, subdir })
}

/// `git::https://…` → (`git`, `https://…`).
pub fn split_forced_getter(src: &str) -> (Option<&str>, &str) {
    if let Some((getter, rest)) = src.split_once("::") {
        if !getter.is_empty()
            && getter.chars().all(|c| c.is_ascii_alphanumeric())
            && !rest.is_empty()
        {
            return (Some(getter), rest);
        }
    }
    (None, src)
}

/// Whether `src` starts with a URL scheme (`https:`, `file:`), as Go's URL parser decides: an
/// scp-like `git@host:path` has none, since `@` cannot be part of a scheme.
fn has_url_scheme(src: &str) -> bool {
    let Some(colon) = src.find(':') else {
        return false;
    };
    let scheme = &src[..colon];
    let mut chars = scheme.chars();
    matches!(chars.next(), Some(first) if first.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
}

/// The shorthands Terraform still accepts, turned into addresses with a getter and a URL; any
/// other address with a scheme is kept as written.
fn detect_shorthands(src: &str) -> Result<String, SourceError> {
    let (forced, get_src) = split_forced_getter(src);
    let (get_src, subdir) = split_package_subdir(get_src);
    if has_url_scheme(&get_src) {
        return Ok(src.to_string());
    }
    let detected = detect_github(&get_src)
        .or_else(|| detect_git_ssh(&get_src))
        .or_else(|| detect_bitbucket(&get_src));
    let detected = match detected {
        Some(detected) => detected,
        None if get_src.starts_with('/') => format!("file://{get_src}"),
        None => return Err(SourceError::MaybeRelativePath(src.to_string())),
    };
    let (detected_forced, result) = split_forced_getter(&detected);
    let (result, detected_subdir) = split_package_subdir(result);
    let subdir = match (detected_subdir.is_empty(), subdir.is_empty()) {
        (true, _) => subdir,
        (false, true) => detected_subdir,
        (false, false) => clean_path(&format!("{detected_subdir}/{subdir}")),
    };
    let mut result = result;
    if !subdir.is_empty() {
        result = match result.split_once('?') {
            Some((base, query)) => format!("{base}//{subdir}?{query}"),
            None => format!("{result}//{subdir}"),
        };
    }
    Ok(match forced.or(detected_forced) {
        Some(getter) => format!("{getter}::{result}"),
        None => result,
    })
}

fn detect_github(src: &str) -> Option<String> {
    let rest = src.strip_prefix("github.com/")?;
    let (path, query) = match rest.split_once('?') {
        Some((path, query)) => (path, Some(query)),
        None => (rest, None),
    };
    let parts: Vec<&str> = path.split('/').collect();
    if parts.len() < 2 {
        return None;
    }
    let mut url = format!("https://github.com/{}/{}", parts[0], parts[1]);
    if !url.ends_with(".git") {
        url.push_str(".git");
    }
    if parts.len() > 2 {
        url.push_str("//");
        url.push_str(&parts[2..].join("/"));
    }
    if let Some(query) = query.filter(|q| !q.is_empty()) {
        url.push('?');
        url.push_str(query);
    }
    Some(format!("git::{url}"))
}

/// `git@host:org/repo.git?ref=v1` → `git::ssh://git@host/org/repo.git?ref=v1` (only for the
/// user `git`, as Terraform requires).
fn detect_git_ssh(src: &str) -> Option<String> {
    let (user, rest) = src.split_once('@')?;
    if user != "git" || user.contains(':') {
        return None;
    }
    let (host, path) = rest.split_once(':')?;
    if host.is_empty() || host.contains('/') {
        return None;
    }
    let path = path.strip_prefix('/').unwrap_or(path);
    if path.is_empty() {
        return None;
    }
    let (path, query) = match path.split_once('?') {
        Some((path, query)) => (path, sorted_query(query)),
        None => (path, String::new()),
    };
    let mut url = format!("git::ssh://git@{host}/{path}");
    if !query.is_empty() {
        url.push('?');
        url.push_str(&query);
    }
    Some(url)
}

/// A query string with its parameters in key order, as Go's `url.Values.Encode` writes it.
fn sorted_query(query: &str) -> String {
    let mut pairs: Vec<&str> = query.split('&').filter(|p| !p.is_empty()).collect();
    pairs.sort_by_key(|pair| pair.split('=').next().unwrap_or(""));
    pairs.join("&")
}

fn detect_bitbucket(src: &str) -> Option<String> {
    let rest = src.strip_prefix("bitbucket.org/")?;
    let (path, query) = match rest.split_once('?') {
        Some((path, query)) => (path, Some(query)),
        None => (rest, None),
    };
    let mut url = format!("https://bitbucket.org/{path}");
    if !url.ends_with(".git") {
        url.push_str(".git");
    }
    if let Some(query) = query.filter(|q| !q.is_empty()) {
        url.push('?');
        url.push_str(query);
    }
    Some(format!("git::{url}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn normalised(raw: &str) -> String {
        ModuleSource::parse(raw, false)
            .map(|source| source.to_string())
            .unwrap_or_else(|error| format!("error: {error}"))
    }

    #[test]
    fn normalises_as_terraform_does() {
        let cases = [
            ("./modules/a/", "./modules/a"),
            ("../b//c", "../b/c"),
            (".\\win\\path", "./win/path"),
            (
                "hashicorp/consul/aws",
                "registry.terraform.io/hashicorp/consul/aws",
            ),
            (
                "app.terraform.io/org/vpc/aws//modules/x",
                "app.terraform.io/org/vpc/aws//modules/x",
            ),
            (
                "Example.COM:8443/org/vpc/aws",
                "example.com:8443/org/vpc/aws",
            ),
            (
                "github.com/hashicorp/example",
                "git::https://github.com/hashicorp/example.git",
            ),
            (
                "github.com/hashicorp/example//modules/x?ref=v1.2.0",
                "git::https://github.com/hashicorp/example.git//modules/x?ref=v1.2.0",
            ),
            (
                "github.com/hashicorp/example/modules/x",
                "git::https://github.com/hashicorp/example.git//modules/x",
            ),
            (
                "git@github.com:hashicorp/example.git?ref=v1&depth=1",
                "git::ssh://git@github.com/hashicorp/example.git?depth=1&ref=v1",
            ),
            (
                "git::git@example.com:org/repo.git//sub",
                "git::ssh://git@example.com/org/repo.git//sub",
            ),
            (
                "bitbucket.org/org/repo",
                "git::https://bitbucket.org/org/repo.git",
            ),
            ("git::/srv/repo?ref=v1", "git::file:///srv/repo?ref=v1"),
            ("/srv/modules/x", "file:///srv/modules/x"),
            (
                "git::file:///tmp/r//modules/http-80?ref=v4.6.1",
                "git::file:///tmp/r//modules/http-80?ref=v4.6.1",
            ),
            (
                "https://example.com/m.tar.gz//sub",
                "https://example.com/m.tar.gz//sub",
            ),
            (
                "https://example.com/m?archive=zip",
                "https://example.com/m?archive=zip",
            ),
        ];
        for (raw, expected) in cases {
            assert_eq!(normalised(raw), expected, "{raw}");
        }
    }

    #[test]
    fn rejects_what_terraform_rejects() {
        assert!(normalised("modules/x").starts_with("error: no supported module source type"));
        assert!(normalised("git::https://e.com/r//../x").contains("outside of the module package"));
        let error = ModuleSource::parse("git::https://e.com/r", true).unwrap_err();
        assert!(
            error.to_string().contains("not a module registry address"),
            "{error}"
        );
        assert!(ModuleSource::parse("github.com/org/vpc/aws", true).is_err());
    }

    #[test]
    fn splits_subdirectories() {
        assert_eq!(
            split_package_subdir("git::https://e.com/r.git//a/b?ref=x"),
            (
                "git::https://e.com/r.git?ref=x".to_string(),
                "a/b".to_string()
            )
        );
        assert_eq!(
            split_package_subdir("https://e.com/r"),
            ("https://e.com/r".to_string(), String::new())
        );
        // A `//` after the query belongs to the query, as in Terraform.
        assert_eq!(
            split_package_subdir("git::file:///r?ref=v1//sub").1,
            String::new()
        );
    }
}

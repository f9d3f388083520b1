//! Module packages over HTTP(S) and in archives, as go-getter treats them for Terraform: a URL
//! whose path ends in `.zip`, `.tar.gz` or `.tgz` (or with `?archive=zip|tar.gz|tgz`) is
//! downloaded and extracted; any other URL is asked with `?terraform-get=1` and must answer where
//! the package really is, in the `X-Terraform-Get` header or a
//! `<meta name="terraform-get" content="…">` tag (an absolute address, as go-getter requires).
//! Extraction keeps every entry inside the target directory.

use super::http::{describe, read_limited};
use std::io::Cursor;
use std::path::Path;

/// The largest archive Strata downloads (modules are source code).
const MAX_ARCHIVE_BYTES: usize = 512 * 1024 * 1024;
const MAX_PAGE_BYTES: usize = 1024 * 1024;

/// The archive formats Strata extracts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ArchiveKind {
    Zip,
    TarGz,
}

/// Why an HTTP package or an archive could not be fetched.
#[derive(Debug, thiserror::Error)]
pub enum ArchiveError {
    #[error("archive type \"{0}\" is not supported by Strata (it extracts zip, tar.gz and tgz)")]
    Unsupported(String),
    #[error("{0}")]
    Http(String),
    #[error("no source URL was returned by {0}: the page has neither an X-Terraform-Get header nor a terraform-get meta tag")]
    NoSource(String),
    #[error("cannot extract the {kind:?} archive into `{target}`: {message}")]
    Extract {
        kind: ArchiveKind,
        target: String,
        message: String,
    },
}

/// What fetching an HTTP URL gave.
pub enum HttpOutcome {
    /// The archive was extracted into the target.
    Extracted,
    /// The URL names the real source, which the caller fetches into the target.
    Indirect(String),
}

/// The URL without its `archive` parameter, and the archive kind it names or its path ends in.
pub fn archive_kind(url: &str) -> Result<(String, Option<ArchiveKind>), ArchiveError> {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, query),
        None => (url, ""),
    };
    let mut requested = None;
    let kept: Vec<&str> = query
        .split('&')
        .filter(|pair| !pair.is_empty())
        .filter(|pair| match pair.strip_prefix("archive=") {
            Some(value) => {
                requested = Some(value.to_string());
                false
            }
            None => true,
        })
        .collect();
    let url = if kept.is_empty() {
        base.to_string()
    } else {
        format!("{base}?{}", kept.join("&"))
    };
    let name = match requested {
        Some(value) if value == "false" => return Ok((url, None)),
        Some(value) => value,
        None => {
            const KNOWN: [&str; 10] = [
                "tar.bz2", "tar.gz", "tar.xz", "tbz2", "tgz", "txz", "bz2", "gz", "xz", "zip",
            ];
            match KNOWN.iter().find(|ext| base.ends_with(&format!(".{ext}"))) {
                Some(ext) => ext.to_string(),
                None => return Ok((url, None)),
            }
        }
    };
    let kind = match name.as_str() {
        "zip" => ArchiveKind::Zip,
        "tar.gz" | "tgz" => ArchiveKind::TarGz,
        other => return Err(ArchiveError::Unsupported(other.to_string())),
    };
    Ok((url, Some(kind)))
}

/// Extracts `bytes` into `target` (created); entries that would land outside it are refused.
pub fn extract(bytes: &[u8], kind: ArchiveKind, target: &Path) -> Result<(), ArchiveError> {
    let failed = |message: String| ArchiveError::Extract {
        kind,
        target: target.display().to_string(),
        message,
    };
    std::fs::create_dir_all(target).map_err(|e| failed(e.to_string()))?;
    match kind {
        ArchiveKind::TarGz => {
            let decoder = flate2::read::GzDecoder::new(Cursor::new(bytes));
            let mut archive = tar::Archive::new(decoder);
            archive.set_preserve_permissions(true);
            for entry in archive.entries().map_err(|e| failed(e.to_string()))? {
                let mut entry = entry.map_err(|e| failed(e.to_string()))?;
                // `unpack_in` refuses paths with `..` or a root, and links out of the target.
                let inside = entry.unpack_in(target).map_err(|e| failed(e.to_string()))?;
                if !inside {
                    let path = entry
                        .path()
                        .map(|p| p.display().to_string())
                        .unwrap_or_default();
                    return Err(failed(format!(
                        "the entry `{path}` would be written outside the target"
                    )));
                }
            }
            Ok(())
        }
        ArchiveKind::Zip => {
            let mut archive =
                zip::ZipArchive::new(Cursor::new(bytes)).map_err(|e| failed(e.to_string()))?;
            archive.extract(target).map_err(|e| failed(e.to_string()))
        }
    }
}

/// Fetches an `http(s)://` package address: extracts it when it is an archive, otherwise asks it
/// where the package is.
pub async fn fetch_http(
    client: &reqwest::Client,
    url: &str,
    target: &Path,
) -> Result<HttpOutcome, ArchiveError> {
    let (url, kind) = archive_kind(url)?;
    let parsed = url::Url::parse(&url)
        .map_err(|e| ArchiveError::Http(format!("invalid URL `{url}`: {e}")))?;
    if let Some(kind) = kind {
        let response = send(client, parsed).await?;
        let bytes = read_limited(response, MAX_ARCHIVE_BYTES)
            .await
            .map_err(ArchiveError::Http)?;
        extract(&bytes, kind, target)?;
        return Ok(HttpOutcome::Extracted);
    }
    let mut asking = parsed.clone();
    asking.query_pairs_mut().append_pair("terraform-get", "1");
    let response = send(client, asking).await?;
    let final_url = response.url().clone();
    let header = response
        .headers()
        .get("X-Terraform-Get")
        .and_then(|value| value.to_str().ok())
        .map(str::to_string)
        .filter(|value| !value.is_empty());
    let source = match header {
        Some(source) => Some(source),
        None => {
            let body = read_limited(response, MAX_PAGE_BYTES)
                .await
                .map_err(ArchiveError::Http)?;
            meta_source(&String::from_utf8_lossy(&body))
        }
    };
    let source = source.ok_or_else(|| ArchiveError::NoSource(strip_credentials(&parsed)))?;
    // Unlike a registry's answer, go-getter resolves no relative address here: Terraform fails
    // on one, so a configuration that installs in Strata installs in Terraform too.
    if super::module_source::is_local(&source) || source.starts_with('/') {
        return Err(ArchiveError::Http(format!(
            "{} answered the relative address \"{source}\"; Terraform and Strata need an absolute address (with a scheme) in X-Terraform-Get or the terraform-get meta tag of a plain HTTP source",
            strip_credentials(&final_url)
        )));
    }
    Ok(HttpOutcome::Indirect(source))
}

async fn send(client: &reqwest::Client, url: url::Url) -> Result<reqwest::Response, ArchiveError> {
    let shown = strip_credentials(&url);
    let response = client
        .get(url)
        .send()
        .await
        .map_err(|error| ArchiveError::Http(format!("GET {shown}: {}", describe(&error))))?;
    if !response.status().is_success() {
        return Err(ArchiveError::Http(format!(
            "GET {shown}: bad response code: {}",
            response.status().as_u16()
        )));
    }
    Ok(response)
}

/// A URL as shown in messages: without user information or query (which may carry tokens).
fn strip_credentials(url: &url::Url) -> String {
    let mut shown = url.clone();
    let _ = shown.set_username("");
    let _ = shown.set_password(None);
    shown.set_query(None);
    shown.to_string()
}

/// The `content` of `<meta name="terraform-get" content="…">` in an HTML page.
fn meta_source(page: &str) -> Option<String> {
    let lower = page.to_ascii_lowercase();
    let mut from = 0;
    while let Some(at) = lower[from..].find("<meta") {
        let start = from + at;
        let end = lower[start..].find('>').map(|e| start + e)?;
        let tag = &page[start..end];
        if attribute(tag, "name").is_some_and(|name| name.eq_ignore_ascii_case("terraform-get")) {
            return attribute(tag, "content");
        }
        from = end;
    }
    None
}

/// The value of `name="…"` (or `'…'`) in a tag.
fn attribute(tag: &str, name: &str) -> Option<String> {
    let lower = tag.to_ascii_lowercase();
    let mut from = 0;
    while let Some(at) = lower[from..].find(name) {
        let index = from + at;
        from = index + name.len();
        let before_ok = index == 0 || lower.as_bytes()[index - 1].is_ascii_whitespace();
        let rest = tag[from..].trim_start();
        let Some(rest) = rest.strip_prefix('=').filter(|_| before_ok) else {
            continue;
        };
        let rest = rest.trim_start();
        let quote = rest.chars().next()?;
        if quote == '"' || quote == '\'' {
            let value = &rest[1..];
            return value.find(quote).map(|end| value[..end].to_string());
        }
        return rest
            .split_whitespace()
            .next()
            .map(|v| v.trim_end_matches('/').to_string());
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tells_archives_from_urls() {
        assert_eq!(
            archive_kind("https://e.com/m.tar.gz").unwrap(),
            (
                "https://e.com/m.tar.gz".to_string(),
                Some(ArchiveKind::TarGz)
            )
        );
        assert_eq!(
            archive_kind("https://e.com/get?id=1&archive=zip").unwrap(),
            ("https://e.com/get?id=1".to_string(), Some(ArchiveKind::Zip))
        );
        assert_eq!(archive_kind("https://e.com/m").unwrap().1, None);
        assert_eq!(
            archive_kind("https://e.com/m.zip?archive=false").unwrap().1,
            None
        );
        assert!(matches!(
            archive_kind("https://e.com/m.tar.xz"),
            Err(ArchiveError::Unsupported(_))
        ));
    }

    #[test]
    fn reads_the_meta_tag() {
        let page = r#"<html><head><meta charset="utf-8"><META NAME="terraform-get" content="git::https://e.com/r.git?ref=v1"></head></html>"#;
        assert_eq!(
            meta_source(page).as_deref(),
            Some("git::https://e.com/r.git?ref=v1")
        );
        assert_eq!(meta_source("<html></html>"), None);
    }

    #[test]
    fn keeps_entries_inside_the_target() {
        let mut builder = tar::Builder::new(Vec::new());
        let mut header = tar::Header::new_gnu();
        let data = b"resource \"terraform_data\" \"x\" {}\n";
        header.set_size(data.len() as u64);
        header.set_mode(0o644);
        header.set_cksum();
        builder
            .append_data(&mut header, "m/main.tf", &data[..])
            .unwrap();
        let tarball = builder.into_inner().unwrap();
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        std::io::Write::write_all(&mut gz, &tarball).unwrap();
        let bytes = gz.finish().unwrap();
        let dir = tempfile::tempdir().unwrap();
        extract(&bytes, ArchiveKind::TarGz, &dir.path().join("t")).unwrap();
        assert!(dir.path().join("t/m/main.tf").is_file());
    }
}

//! The module registry protocol (`modules.v1`): `GET <base>/<namespace>/<name>/<system>/versions`
//! lists the versions, `GET …/<version>/download` answers where the package is, in the
//! `X-Terraform-Get` header (or a JSON `location`), relative URLs resolved against the request.
//! Requests carry the host's token from the CLI configuration.

use super::discovery::Discovery;
use super::http::{describe, read_limited};
use super::module_source::RegistrySource;
use url::Url;

const MAX_RESPONSE_BYTES: usize = 4 * 1024 * 1024;

/// Why a registry request failed.
#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    #[error("the module is not in the registry")]
    NotFound,
    #[error("{0}")]
    Request(String),
}

#[derive(serde::Deserialize)]
struct VersionsResponse {
    modules: Vec<ModuleVersions>,
}

#[derive(serde::Deserialize)]
struct ModuleVersions {
    versions: Vec<VersionEntry>,
}

#[derive(serde::Deserialize)]
struct VersionEntry {
    version: String,
}

fn endpoint(base: &Url, path: &str) -> Result<Url, RegistryError> {
    base.join(path).map_err(|error| {
        RegistryError::Request(format!("invalid registry URL `{base}{path}`: {error}"))
    })
}

async fn get(
    discovery: &Discovery,
    url: &Url,
    host: &str,
) -> Result<reqwest::Response, RegistryError> {
    let request = discovery.authorized(discovery.client().get(url.clone()), host);
    let response = request
        .send()
        .await
        .map_err(|error| RegistryError::Request(format!("GET {url}: {}", describe(&error))))?;
    match response.status().as_u16() {
        404 => Err(RegistryError::NotFound),
        200..=299 => Ok(response),
        401 | 403 => Err(RegistryError::Request(format!(
            "GET {url}: the registry refused the request ({}); check the credentials for {host} (credentials block or credentials_helper in the CLI configuration, TF_TOKEN_* variables)",
            response.status()
        ))),
        _ => Err(RegistryError::Request(format!("GET {url}: {}", response.status()))),
    }
}

/// The versions the registry lists for the module.
pub async fn versions(
    discovery: &Discovery,
    base: &Url,
    module: &RegistrySource,
) -> Result<Vec<String>, RegistryError> {
    let url = endpoint(base, &format!("{}/versions", module.package_path()))?;
    let response = get(discovery, &url, &module.host).await?;
    let body = read_limited(response, MAX_RESPONSE_BYTES)
        .await
        .map_err(RegistryError::Request)?;
    let parsed: VersionsResponse = serde_json::from_slice(&body)
        .map_err(|error| RegistryError::Request(format!("GET {url}: invalid response: {error}")))?;
    let first = parsed.modules.into_iter().next().ok_or_else(|| {
        RegistryError::Request(format!("GET {url}: the response lists no module"))
    })?;
    Ok(first.versions.into_iter().map(|v| v.version).collect())
}

/// The newest of `versions` that `constraint` accepts (an empty constraint accepts any release);
/// otherwise the newest version there is, if any, for the error.
pub fn newest_matching(versions: &[String], constraint: &str) -> Result<String, Option<String>> {
    let newer = |candidate: &String, best: &Option<String>| match best {
        None => true,
        Some(best) => {
            crate::config::version::compare(candidate, best).is_ok_and(|order| order.is_gt())
        }
    };
    let mut newest = None;
    let mut newest_match = None;
    for version in versions {
        if crate::config::version::compare(version, version).is_err() {
            continue;
        }
        // Pre-releases count only when the constraint names them.
        let accepted = if constraint.trim().is_empty() {
            crate::config::version::satisfies(">= 0.0.0", version).unwrap_or(false)
        } else {
            crate::config::version::satisfies(constraint, version).unwrap_or(false)
        };
        if version.contains('-') && !accepted {
            continue;
        }
        if newer(version, &newest) {
            newest = Some(version.clone());
        }
        if accepted && newer(version, &newest_match) {
            newest_match = Some(version.clone());
        }
    }
    newest_match.ok_or(newest)
}

#[derive(serde::Deserialize)]
struct DownloadResponse {
    location: Option<String>,
}

/// Where the registry says `version` of the module is (an address with a getter, absolute).
pub async fn download_location(
    discovery: &Discovery,
    base: &Url,
    module: &RegistrySource,
    version: &str,
) -> Result<String, RegistryError> {
    let url = endpoint(
        base,
        &format!("{}/{version}/download", module.package_path()),
    )?;
    let response = get(discovery, &url, &module.host).await?;
    let header = response
        .headers()
        .get("X-Terraform-Get")
        .and_then(|value| value.to_str().ok())
        .map(str::to_string);
    let final_url = response.url().clone();
    let location = match header.filter(|h| !h.is_empty()) {
        Some(location) => location,
        None => {
            let body = read_limited(response, MAX_RESPONSE_BYTES)
                .await
                .map_err(RegistryError::Request)?;
            serde_json::from_slice::<DownloadResponse>(&body)
                .ok()
                .and_then(|r| r.location)
                .ok_or_else(|| RegistryError::Request(format!("GET {url}: failed to get download URL: no X-Terraform-Get header and no location in the response")))?
        }
    };
    Ok(super::fetch::resolve_location(&final_url, &location))
}

#[cfg(test)]
mod tests {
    use super::newest_matching;

    #[test]
    fn picks_the_newest_matching_version() {
        let versions: Vec<String> = ["1.0.0", "1.2.0", "1.10.1", "2.0.0", "2.1.0-beta1"]
            .map(String::from)
            .to_vec();
        assert_eq!(newest_matching(&versions, "~> 1.0").unwrap(), "1.10.1");
        assert_eq!(newest_matching(&versions, "").unwrap(), "2.0.0");
        assert_eq!(
            newest_matching(&versions, "2.1.0-beta1").unwrap(),
            "2.1.0-beta1"
        );
        assert_eq!(
            newest_matching(&versions, "> 3.0").unwrap_err().as_deref(),
            Some("2.0.0")
        );
        assert_eq!(newest_matching(&[], "> 3.0").unwrap_err(), None);
    }
}

//! Terraform's remote service discovery: `GET https://<host>/.well-known/terraform.json` answers
//! which services a host offers (`providers.v1`, `modules.v1`, ...) and where; relative URLs are
//! resolved against the discovery document's URL and always end in `/`, as Terraform's `disco`
//! package makes them. The CLI configuration's `host` blocks answer instead of the network; a
//! token for the host (`credentials` block, `TF_TOKEN_<host>`, else the credentials helper, asked
//! once per host when the host is first discovered) is sent as `Authorization: Bearer`.
//! Answers are cached for the life of the [`Discovery`] value (one command).

use super::addr::normalize_host;
use super::cliconfig::CliConfig;
use super::http::{describe, read_limited};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Mutex;
use url::Url;

const DISCOVERY_PATH: &str = "/.well-known/terraform.json";
/// Terraform's limit on the size of a discovery document.
const MAX_DOCUMENT_BYTES: usize = 1024 * 1024;
const TIMEOUT: Duration = Duration::from_secs(11);

/// Why a host's services could not be found.
#[derive(Clone, Debug, thiserror::Error)]
pub enum DiscoveryError {
    #[error("`{host}` is not a valid host name: {message}")]
    InvalidHost { host: String, message: String },
    #[error("failed to request the discovery document {url}: {message}")]
    Request { url: String, message: String },
    #[error("failed to get credentials for {host}: {error}")]
    Credentials {
        host: String,
        error: super::credentials_helper::HelperError,
    },
    #[error("the discovery document {url} is invalid: {message}")]
    Document { url: String, message: String },
    #[error("host {host} gives an invalid URL for the service {service}: {message}")]
    ServiceUrl {
        host: String,
        service: String,
        message: String,
    },
}

/// The services one host offers.
#[derive(Clone, Debug)]
pub struct Services {
    /// The normalised host name.
    pub host: String,
    discovery_url: Url,
    services: serde_json::Map<String, serde_json::Value>,
}

impl Services {
    /// The base URL of service `id` (`providers.v1`), ending in `/`; `None` when the host does
    /// not offer it.
    pub fn url(&self, id: &str) -> Result<Option<Url>, DiscoveryError> {
        let Some(value) = self.services.get(id) else {
            return Ok(None);
        };
        let invalid = |message: String| DiscoveryError::ServiceUrl {
            host: self.host.clone(),
            service: id.to_string(),
            message,
        };
        let text = value
            .as_str()
            .ok_or_else(|| invalid("the value is not a string".into()))?;
        let mut url = self
            .discovery_url
            .join(text)
            .map_err(|error| invalid(format!("`{text}`: {error}")))?;
        if !matches!(url.scheme(), "https" | "http") {
            return Err(invalid(format!("`{text}` is not an http(s) URL")));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(invalid(format!(
                "`{text}` must not contain user information"
            )));
        }
        if !url.path().ends_with('/') {
            let path = format!("{}/", url.path());
            url.set_path(&path);
        }
        Ok(Some(url))
    }
}

/// Service discovery for one command.
pub struct Discovery {
    client: reqwest::Client,
    config: Arc<CliConfig>,
    cache: Mutex<HashMap<String, Result<Arc<Services>, DiscoveryError>>>,
}

impl Discovery {
    pub fn new(client: reqwest::Client, config: Arc<CliConfig>) -> Discovery {
        Discovery {
            client,
            config,
            cache: Mutex::new(HashMap::new()),
        }
    }

    pub fn client(&self) -> &reqwest::Client {
        &self.client
    }

    pub fn config(&self) -> &CliConfig {
        &self.config
    }

    /// A request to `url` on `host` with the host's token, if the CLI configuration has one.
    pub fn authorized(
        &self,
        request: reqwest::RequestBuilder,
        host: &str,
    ) -> reqwest::RequestBuilder {
        match self.config.credentials_for(host) {
            Ok(Some(token)) => request.bearer_auth(token.expose()),
            Ok(None) => request,
            Err(error) => {
                tracing::warn!(%error, "sending the request without credentials");
                request
            }
        }
    }

    /// The services `host` offers (from a `host` block, or asked once per command).
    pub async fn discover(&self, host: &str) -> Result<Arc<Services>, DiscoveryError> {
        let host = normalize_host(host).map_err(|message| DiscoveryError::InvalidHost {
            host: host.to_string(),
            message,
        })?;
        let mut cache = self.cache.lock().await;
        if let Some(answer) = cache.get(&host) {
            return answer.clone();
        }
        let answer = match self.ask_credentials(&host).await {
            Ok(()) => self.discover_uncached(&host).await.map(Arc::new),
            Err(error) => Err(error),
        };
        cache.insert(host, answer.clone());
        answer
    }

    /// Looks up the host's credentials off the async runtime (the credentials helper may run),
    /// so that [`Discovery::authorized`] finds them cached: call it before `authorized` for a
    /// host that was not discovered (a network mirror's).
    pub async fn ask_credentials(&self, host: &str) -> Result<(), DiscoveryError> {
        let config = self.config.clone();
        let name = host.to_string();
        let answer = tokio::task::spawn_blocking(move || config.credentials_for(&name).map(drop))
            .await
            .unwrap_or(Ok(()));
        answer.map_err(|error| DiscoveryError::Credentials {
            host: host.to_string(),
            error,
        })
    }

    async fn discover_uncached(&self, host: &str) -> Result<Services, DiscoveryError> {
        let discovery_url = discovery_url(host)?;
        if let Some(services) = self.config.hosts.get(host) {
            return Ok(Services {
                host: host.to_string(),
                discovery_url,
                services: services.clone(),
            });
        }
        let failed = |message: String| DiscoveryError::Request {
            url: discovery_url.to_string(),
            message,
        };
        tracing::debug!(url = %discovery_url, "service discovery");
        let request = self
            .client
            .get(discovery_url.clone())
            .header(reqwest::header::ACCEPT, "application/json")
            .timeout(TIMEOUT);
        let response = self
            .authorized(request, host)
            .send()
            .await
            .map_err(|error| failed(describe(&error)))?;
        let services = match response.status() {
            reqwest::StatusCode::OK => self.document(&discovery_url, response).await?,
            // A host that has no discovery document offers no services.
            reqwest::StatusCode::NOT_FOUND => serde_json::Map::new(),
            status => return Err(failed(format!("the server answered {status}"))),
        };
        Ok(Services {
            host: host.to_string(),
            discovery_url,
            services,
        })
    }

    async fn document(
        &self,
        url: &Url,
        response: reqwest::Response,
    ) -> Result<serde_json::Map<String, serde_json::Value>, DiscoveryError> {
        let invalid = |message: String| DiscoveryError::Document {
            url: url.to_string(),
            message,
        };
        let content_type = response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string();
        let media_type = content_type.split(';').next().unwrap_or("").trim();
        if !media_type.eq_ignore_ascii_case("application/json") {
            return Err(invalid(format!(
                "its content type is `{content_type}`, not application/json"
            )));
        }
        let body = read_limited(response, MAX_DOCUMENT_BYTES)
            .await
            .map_err(invalid)?;
        match serde_json::from_slice(&body) {
            Ok(serde_json::Value::Object(services)) => Ok(services),
            Ok(_) => Err(invalid("it is not a JSON object".into())),
            Err(error) => Err(invalid(error.to_string())),
        }
    }
}

fn discovery_url(host: &str) -> Result<Url, DiscoveryError> {
    Url::parse(&format!("https://{host}{DISCOVERY_PATH}")).map_err(|error| {
        DiscoveryError::InvalidHost {
            host: host.to_string(),
            message: error.to_string(),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn services(document: serde_json::Value) -> Services {
        Services {
            host: "example.com".into(),
            discovery_url: discovery_url("example.com").unwrap(),
            services: document.as_object().unwrap().clone(),
        }
    }

    #[test]
    fn service_urls_resolve_against_the_discovery_document() {
        let services = services(serde_json::json!({
            "providers.v1": "/v1/providers",
            "modules.v1": "https://modules.example.net/v1/modules/",
            "relative.v1": "other",
            "login.v1": {"client": "terraform-cli"},
            "ftp.v1": "ftp://example.com/x/",
        }));
        let url = |id| services.url(id).map(|u| u.map(|u| u.to_string()));
        assert_eq!(
            url("providers.v1").unwrap().as_deref(),
            Some("https://example.com/v1/providers/")
        );
        assert_eq!(
            url("modules.v1").unwrap().as_deref(),
            Some("https://modules.example.net/v1/modules/")
        );
        assert_eq!(
            url("relative.v1").unwrap().as_deref(),
            Some("https://example.com/.well-known/other/")
        );
        assert_eq!(url("absent.v1").unwrap(), None);
        assert!(url("login.v1").is_err());
        assert!(url("ftp.v1").is_err());
    }

    #[tokio::test]
    async fn host_blocks_answer_without_the_network() {
        let mut config = CliConfig::default();
        config.hosts.insert(
            "example.com".into(),
            serde_json::json!({"providers.v1": "https://mirror.example.com/p/"})
                .as_object()
                .unwrap()
                .clone(),
        );
        let discovery = Discovery::new(reqwest::Client::new(), Arc::new(config));
        let services = discovery.discover("EXAMPLE.com:443").await.unwrap();
        assert_eq!(
            services.url("providers.v1").unwrap().unwrap().as_str(),
            "https://mirror.example.com/p/"
        );
        assert!(matches!(
            discovery.discover("bad host").await,
            Err(DiscoveryError::InvalidHost { .. })
        ));
    }
}

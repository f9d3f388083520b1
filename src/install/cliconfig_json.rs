//! The JSON form of a CLI configuration file (`*.tfrc.json`, notably the
//! `credentials.tfrc.json` that `terraform login` writes): the same settings as the HCL form.
//! An error names the file and, for a syntax error, its line and column.

use super::addr::{normalize_host, ProviderPattern};
use super::cliconfig::{
    expand_env, CliConfig, InstallationMethod, MethodLocation, ProviderInstallation, Secret,
};
use crate::diagnostics::{Diagnostic, Diagnostics, Pos, Span};
use serde_json::Value as Json;
use std::path::PathBuf;
use std::sync::Arc;

pub(super) fn decode(name: &Arc<str>, text: &str, diagnostics: &mut Diagnostics) -> CliConfig {
    let mut config = CliConfig::default();
    let document: Json = match serde_json::from_str(text) {
        Ok(document) => document,
        Err(error) => {
            let pos = Pos {
                line: error.line(),
                column: error.column(),
                byte: 0,
            };
            diagnostics.push(
                Diagnostic::error("Invalid CLI configuration syntax")
                    .with_detail(error.to_string())
                    .with_span(Span {
                        file: name.clone(),
                        start: pos,
                        end: pos,
                    }),
            );
            return config;
        }
    };
    let mut problem = |what: String| {
        diagnostics.push(
            Diagnostic::error("Invalid CLI configuration file")
                .with_detail(format!("{name}: {what}")),
        )
    };
    let Json::Object(settings) = document else {
        problem("the file must hold a JSON object.".into());
        return config;
    };
    for (key, value) in &settings {
        match (key.as_str(), value) {
            ("plugin_cache_dir", Json::String(dir)) => {
                config.plugin_cache_dir = Some(PathBuf::from(expand_env(dir)))
            }
            ("disable_checkpoint", Json::Bool(b)) => config.disable_checkpoint = *b,
            ("credentials", Json::Object(hosts)) => {
                for (host, credentials) in hosts {
                    let token = credentials.get("token").and_then(Json::as_str);
                    match (normalize_host(host), token) {
                        (Ok(host), Some(token)) => {
                            config.insert_credentials(host, Secret::new(token))
                        }
                        (Err(message), _) => problem(format!("credentials: {message}")),
                        (_, None) => problem(format!(
                            "the credentials for {host} have no string \"token\"."
                        )),
                    }
                }
            }
            ("credentials_helper", Json::Object(helpers)) => {
                for (name, block) in helpers {
                    let args = match block.get("args") {
                        None => Some(Vec::new()),
                        Some(Json::Array(items)) => items
                            .iter()
                            .map(|v| v.as_str().map(str::to_string))
                            .collect(),
                        Some(_) => None,
                    };
                    match args {
                        Some(args) => config.insert_credentials_helper(name.clone(), args),
                        None => problem(format!(
                            "the credentials_helper {name} has an \"args\" that is not a list of strings."
                        )),
                    }
                }
            }
            ("host", Json::Object(hosts)) => {
                for (host, block) in hosts {
                    let services = block.get("services").and_then(Json::as_object);
                    match (normalize_host(host), services) {
                        (Ok(host), Some(services)) => {
                            config.hosts.insert(host, services.clone());
                        }
                        (Err(message), _) => problem(format!("host: {message}")),
                        (_, None) => {
                            problem(format!("the host {host} has no \"services\" object."))
                        }
                    }
                }
            }
            ("provider_installation", block) => {
                for block in as_list(block) {
                    match installation(block) {
                        Ok(installation) => config.push_installation(installation),
                        Err(message) => problem(format!("provider_installation: {message}")),
                    }
                }
            }
            (
                "plugin_cache_dir" | "disable_checkpoint" | "credentials" | "credentials_helper"
                | "host",
                _,
            ) => problem(format!("\"{key}\" has the wrong type.")),
            _ => {}
        }
    }
    config
}

/// A JSON block that may be written once (an object) or repeated (an array of objects).
fn as_list(value: &Json) -> Vec<&Json> {
    match value {
        Json::Array(items) => items.iter().collect(),
        other => vec![other],
    }
}

fn installation(block: &Json) -> Result<ProviderInstallation, String> {
    let Json::Object(methods) = block else {
        return Err("must be an object of installation methods.".into());
    };
    let mut installation = ProviderInstallation::default();
    for (kind, bodies) in methods {
        for body in as_list(bodies) {
            if kind == "dev_overrides" {
                for (source, path) in body.as_object().into_iter().flatten() {
                    let addr = super::addr::ProviderAddr::parse(source)?;
                    let path = path.as_str().ok_or("dev_overrides values are paths.")?;
                    installation.dev_overrides.insert(addr, PathBuf::from(path));
                }
                continue;
            }
            installation.methods.push(method(kind, body)?);
        }
    }
    Ok(installation)
}

fn method(kind: &str, body: &Json) -> Result<InstallationMethod, String> {
    let text = |name: &str| body.get(name).and_then(Json::as_str).map(str::to_string);
    let location = match kind {
        "direct" => MethodLocation::Direct,
        "filesystem_mirror" => MethodLocation::FilesystemMirror(PathBuf::from(
            text("path").ok_or("filesystem_mirror requires \"path\".")?,
        )),
        "network_mirror" => {
            let url = text("url").ok_or("network_mirror requires \"url\".")?;
            if !url.starts_with("https://") {
                return Err(format!(
                    "the network_mirror url `{url}` must be an https: URL."
                ));
            }
            let url = if url.ends_with('/') {
                url
            } else {
                format!("{url}/")
            };
            MethodLocation::NetworkMirror(url)
        }
        other => return Err(format!("unknown installation method `{other}`.")),
    };
    let patterns = |name: &str| -> Result<Vec<ProviderPattern>, String> {
        body.get(name)
            .and_then(Json::as_array)
            .into_iter()
            .flatten()
            .map(|p| ProviderPattern::parse(p.as_str().unwrap_or_default()))
            .collect()
    };
    Ok(InstallationMethod {
        location,
        include: patterns("include")?,
        exclude: patterns("exclude")?,
    })
}

//! Terraform's CLI configuration, read as Terraform reads it, for provider and module
//! installation: `TF_CLI_CONFIG_FILE` (else `~/.terraformrc`, else `~/terraform.rc`), then, unless
//! that variable is set, every `*.tfrc` and `*.tfrc.json` file in `~/.terraform.d/` in name
//! order, merged by Terraform's rules (`cliconfig.Config.Merge`): the first `plugin_cache_dir`
//! wins, later `credentials` and `host` blocks replace earlier ones of the same host,
//! `provider_installation` blocks add up and more than one is an error; `TF_PLUGIN_CACHE_DIR`
//! overrides the files, `TF_TOKEN_<host>` overrides a `credentials` block, and a
//! `credentials_helper` (at most one) answers for hosts neither names
//! ([`super::credentials_helper`]).
//!
//! The files are HCL (version 1 in Terraform, a superset of what is used here): they are parsed
//! with hcl-edit after the one HCL 1 form HCL 2 lacks, a quoted argument name
//! (`"hashicorp/aws" = "/path"` in `dev_overrides`), is masked with an identifier of the same
//! length, so every error points at `file:line:col`. Unknown settings are ignored, as Terraform
//! ignores them. Tokens are kept in [`Secret`]s, which never print.

use super::addr::{normalize_host, ProviderAddr, ProviderPattern};
use super::credentials_helper::{self, Helper, HelperError};
use crate::config::literal::literal_value;
use crate::diagnostics::{Diagnostic, Diagnostics, SourceFile, SourceMap, Span};
use crate::value::{value_to_json, Value};
use hcl_edit::expr::Expression;
use hcl_edit::structure::{Attribute, Block, Body, Structure};
use hcl_edit::Span as _;
use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// A credential: it can be sent, never shown (its `Debug` is redacted and it has no `Display`).
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(value.into())
    }

    /// The secret itself, for an `Authorization` header and nothing else.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

/// The merged CLI configuration.
#[derive(Clone, Debug, Default)]
pub struct CliConfig {
    /// `plugin_cache_dir` or `TF_PLUGIN_CACHE_DIR` (environment variables expanded).
    pub plugin_cache_dir: Option<PathBuf>,
    pub plugin_cache_may_break_dependency_lock_file: bool,
    pub disable_checkpoint: bool,
    /// The `provider_installation` block, if any (at most one across all files).
    pub provider_installation: Option<ProviderInstallation>,
    /// Every `provider_installation` block read, before the check that there is one at most.
    installation_blocks: Vec<ProviderInstallation>,
    /// `host "<name>" { services = { ... } }`: service discovery answers that replace
    /// `/.well-known/terraform.json`, by normalised host name.
    pub hosts: BTreeMap<String, serde_json::Map<String, serde_json::Value>>,
    /// `credentials "<host>" { token = ... }`, by normalised host name.
    credentials: BTreeMap<String, Secret>,
    /// `TF_TOKEN_<host>` variables, by normalised host name (they take precedence).
    env_tokens: BTreeMap<String, Secret>,
    /// `credentials_helper "<name>" { args = [...] }` blocks by name (more than one is an error).
    credentials_helpers: BTreeMap<String, HelperBlock>,
    /// The helper program the one `credentials_helper` block names, when it was found.
    helper: Option<Helper>,
    /// The helper's answers so far, by normalised host name (it runs once per host and command).
    helper_answers: Arc<Mutex<BTreeMap<String, Option<Secret>>>>,
    /// The files read, in order.
    pub files: Vec<PathBuf>,
}

/// A `credentials_helper` block as written.
#[derive(Clone, Debug, Default)]
pub(super) struct HelperBlock {
    pub(super) args: Vec<String>,
    pub(super) span: Option<Span>,
}

/// The `provider_installation` block.
#[derive(Clone, Debug, Default)]
pub struct ProviderInstallation {
    /// The methods in the order written: Terraform tries them in that order.
    pub methods: Vec<InstallationMethod>,
    /// `dev_overrides { "namespace/type" = "/dir" }`: use the provider in that directory as is.
    pub dev_overrides: BTreeMap<ProviderAddr, PathBuf>,
    pub span: Option<Span>,
}

/// One installation method with its `include` and `exclude` patterns.
#[derive(Clone, Debug)]
pub struct InstallationMethod {
    pub location: MethodLocation,
    pub include: Vec<ProviderPattern>,
    pub exclude: Vec<ProviderPattern>,
}

impl InstallationMethod {
    /// Whether this method may install `provider`: no `include` or a matching one, and no
    /// matching `exclude`.
    pub fn allows(&self, provider: &ProviderAddr) -> bool {
        (self.include.is_empty() || self.include.iter().any(|p| p.matches(provider)))
            && !self.exclude.iter().any(|p| p.matches(provider))
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MethodLocation {
    /// `direct`: the provider's origin registry.
    Direct,
    /// `filesystem_mirror { path = ... }`.
    FilesystemMirror(PathBuf),
    /// `network_mirror { url = ... }` (an `https:` URL ending in `/`).
    NetworkMirror(String),
}

impl CliConfig {
    /// Reads the CLI configuration from the files and environment variables Terraform reads.
    pub fn load() -> Result<CliConfig, Diagnostics> {
        let environment: BTreeMap<String, String> = std::env::vars().collect();
        CliConfig::load_from(&environment, home_dir().as_deref())
    }

    /// [`CliConfig::load`], registering the files read in `sources` so that diagnostics show
    /// their lines (with every `token` value masked).
    pub fn load_into(sources: &mut SourceMap) -> Result<CliConfig, Diagnostics> {
        let environment: BTreeMap<String, String> = std::env::vars().collect();
        let mut files = Vec::new();
        let (config, diagnostics) =
            CliConfig::read(&environment, home_dir().as_deref(), &mut files);
        for file in files {
            sources.add(file);
        }
        diagnostics.into_result(config)
    }

    /// [`CliConfig::load`] with the environment and home directory given (for tests).
    pub fn load_from(
        environment: &BTreeMap<String, String>,
        home: Option<&Path>,
    ) -> Result<CliConfig, Diagnostics> {
        let (config, diagnostics) = CliConfig::read(environment, home, &mut Vec::new());
        diagnostics.into_result(config)
    }

    fn read(
        environment: &BTreeMap<String, String>,
        home: Option<&Path>,
        files: &mut Vec<Arc<SourceFile>>,
    ) -> (CliConfig, Diagnostics) {
        let mut diagnostics = Diagnostics::new();
        let mut config = CliConfig::default();
        let override_file = ["TF_CLI_CONFIG_FILE", "TERRAFORM_CONFIG"]
            .iter()
            .find_map(|name| environment.get(*name).filter(|v| !v.is_empty()))
            .map(PathBuf::from);
        match &override_file {
            // Terraform ignores a file TF_CLI_CONFIG_FILE names that cannot be read (and then
            // reads no other file): so do we, saying so in the log.
            Some(path) => match std::fs::read_to_string(path) {
                Ok(text) => config = config.merge(load_text(path, &text, &mut diagnostics, files)),
                Err(error) => tracing::warn!(
                    file = %path.display(),
                    %error,
                    "the CLI configuration file TF_CLI_CONFIG_FILE names cannot be read; ignoring it"
                ),
            },
            None => {
                if let Some(home) = home {
                    for name in [".terraformrc", "terraform.rc"] {
                        let path = home.join(name);
                        if let Ok(text) = std::fs::read_to_string(&path) {
                            config = config.merge(load_text(&path, &text, &mut diagnostics, files));
                            break;
                        }
                    }
                    let dir_config = load_dir(&home.join(".terraform.d"), &mut diagnostics, files);
                    config = config.merge(dir_config);
                }
            }
        }
        let from_env = CliConfig {
            plugin_cache_dir: environment
                .get("TF_PLUGIN_CACHE_DIR")
                .filter(|v| !v.is_empty())
                .map(PathBuf::from),
            plugin_cache_may_break_dependency_lock_file: environment
                .get("TF_PLUGIN_CACHE_MAY_BREAK_DEPENDENCY_LOCK_FILE")
                .is_some_and(|v| !v.is_empty() && v != "0"),
            ..CliConfig::default()
        };
        let files = std::mem::take(&mut config.files);
        config = from_env.merge(config);
        config.files = files;
        config.env_tokens = tokens_from_env(environment);
        config.validate(&mut diagnostics);
        config.helper = config.find_helper(home);
        (config, diagnostics)
    }

    /// The program of the `credentials_helper` block, looked up in the plugin directories;
    /// Terraform ignores a helper it cannot find (saying so in its log), and so do we.
    fn find_helper(&self, home: Option<&Path>) -> Option<Helper> {
        let (name, block) = self.credentials_helpers.iter().next()?;
        let dirs = home
            .map(credentials_helper::plugin_dirs)
            .unwrap_or_default();
        match credentials_helper::find(&dirs, name) {
            Some(program) => Some(Helper {
                program,
                args: block.args.clone(),
            }),
            None => {
                tracing::warn!(
                    helper = %name,
                    dirs = ?dirs,
                    "unable to find the credentials helper terraform-credentials-{name}; ignoring it"
                );
                None
            }
        }
    }

    /// The token for `host` (any spelling of it): `TF_TOKEN_<host>` first, then a
    /// `credentials` block, then the credentials helper (run once per host), as Terraform's
    /// credentials source looks them up. This may run a program: call it off the async runtime.
    pub fn credentials_for(&self, host: &str) -> Result<Option<Secret>, HelperError> {
        let Ok(host) = normalize_host(host) else {
            return Ok(None);
        };
        if let Some(token) = self.env_tokens.get(&host).or(self.credentials.get(&host)) {
            return Ok(Some(token.clone()));
        }
        let Some(helper) = &self.helper else {
            return Ok(None);
        };
        let mut answers = self
            .helper_answers
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(answer) = answers.get(&host) {
            return Ok(answer.clone());
        }
        let answer = helper.get(&host)?;
        answers.insert(host, answer.clone());
        Ok(answer)
    }

    /// Terraform's `Merge`: `self` is the earlier configuration, `later` the one merged in.
    fn merge(mut self, later: CliConfig) -> CliConfig {
        self.plugin_cache_dir = self.plugin_cache_dir.or(later.plugin_cache_dir);
        self.plugin_cache_may_break_dependency_lock_file |=
            later.plugin_cache_may_break_dependency_lock_file;
        self.disable_checkpoint |= later.disable_checkpoint;
        self.hosts.extend(later.hosts);
        self.credentials.extend(later.credentials);
        self.credentials_helpers.extend(later.credentials_helpers);
        self.files.extend(later.files);
        // Terraform keeps every block and rejects more than one in `Validate`; so do we.
        self.installation_blocks.extend(later.installation_blocks);
        self
    }

    fn validate(&mut self, diagnostics: &mut Diagnostics) {
        let mut blocks = std::mem::take(&mut self.installation_blocks).into_iter();
        self.provider_installation = blocks.next();
        if let Some(second) = blocks.next() {
            diagnostics.push(
                Diagnostic::error("More than one provider_installation block")
                    .with_detail("No more than one provider_installation block may be specified across the CLI configuration files.")
                    .with_span_opt(second.span)
                    .with_help("Merge the blocks into one."),
            );
        }
        if let Some(second) = self.credentials_helpers.values().nth(1) {
            diagnostics.push(
                Diagnostic::error("More than one credentials_helper block")
                    .with_detail("No more than one credentials_helper block may be specified across the CLI configuration files.")
                    .with_span_opt(second.span.clone())
                    .with_help("Keep the one credentials_helper block whose program you want to run."),
            );
        }
        if let Some(dir) = &self.plugin_cache_dir {
            if let Err(error) = std::fs::metadata(dir) {
                diagnostics.push(
                    Diagnostic::error("Plugin cache directory cannot be opened").with_detail(
                        format!(
                            "The specified plugin cache dir {} cannot be opened: {error}. Create it, or change plugin_cache_dir / TF_PLUGIN_CACHE_DIR.",
                            dir.display()
                        ),
                    ),
                );
            }
        }
    }
}

/// The user's home directory (`$HOME`).
fn home_dir() -> Option<PathBuf> {
    std::env::var_os("HOME")
        .filter(|h| !h.is_empty())
        .map(PathBuf::from)
}

/// `*.tfrc` and `*.tfrc.json` in `dir`, in name order, merged.
fn load_dir(
    dir: &Path,
    diagnostics: &mut Diagnostics,
    files: &mut Vec<Arc<SourceFile>>,
) -> CliConfig {
    let mut config = CliConfig::default();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return config;
    };
    let mut paths: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
            name.ends_with(".tfrc") || name.ends_with(".tfrc.json")
        })
        .collect();
    paths.sort();
    for path in paths {
        match std::fs::read_to_string(&path) {
            Ok(text) => config = config.merge(load_text(&path, &text, diagnostics, files)),
            Err(error) => diagnostics.push(
                Diagnostic::error("Cannot read a CLI configuration file")
                    .with_detail(format!("Error reading {}: {error}.", path.display())),
            ),
        }
    }
    config
}

/// One file: JSON when its name ends in `.json`, HCL otherwise.
fn load_text(
    path: &Path,
    text: &str,
    diagnostics: &mut Diagnostics,
    files: &mut Vec<Arc<SourceFile>>,
) -> CliConfig {
    tracing::debug!(file = %path.display(), "loading CLI configuration");
    let name: Arc<str> = path.display().to_string().into();
    files.push(Arc::new(SourceFile::new(name.clone(), mask_tokens(text))));
    let mut config = if path.extension().is_some_and(|e| e == "json") {
        super::cliconfig_json::decode(&name, text, diagnostics)
    } else {
        decode_hcl(name, text, diagnostics)
    };
    config.files.push(path.to_path_buf());
    config
}

/// The text with every `token` value replaced by `*`s of the same length, for showing lines of
/// the file in diagnostics.
fn mask_tokens(text: &str) -> String {
    let pattern = regex::Regex::new(r#"(?m)("?token"?\s*[=:]\s*")([^"\n]*)"#).expect("valid regex");
    pattern
        .replace_all(text, |captures: &regex::Captures<'_>| {
            format!("{}{}", &captures[1], "*".repeat(captures[2].len()))
        })
        .into_owned()
}

/// Replaces each quoted argument name (`"hashicorp/aws" =`, an HCL 1 form) with an identifier
/// of the same byte length, so that hcl-edit parses the file and spans stay right.
fn mask_quoted_names(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for line in text.split_inclusive('\n') {
        let trimmed = line.trim_start();
        let indent = line.len() - trimmed.len();
        let quoted_end = trimmed
            .strip_prefix('"')
            .and_then(|rest| rest.find('"'))
            .map(|i| i + 2);
        match quoted_end {
            Some(end) if trimmed[end..].trim_start().starts_with('=') => {
                out.push_str(&line[..indent]);
                out.push('q');
                out.push_str(&"_".repeat(end - 1));
                out.push_str(&trimmed[end..]);
            }
            _ => out.push_str(line),
        }
    }
    out
}

fn decode_hcl(name: Arc<str>, text: &str, diagnostics: &mut Diagnostics) -> CliConfig {
    let file = Arc::new(SourceFile::new(name, text));
    let masked = mask_quoted_names(text);
    let body = match hcl_edit::parser::parse_body(&masked) {
        Ok(body) => body,
        Err(error) => {
            let offset = error.location().offset().min(text.len());
            diagnostics.push(
                Diagnostic::error("Invalid CLI configuration syntax")
                    .with_detail(error.message().trim().to_string())
                    .with_span(file.span(offset..offset)),
            );
            return CliConfig::default();
        }
    };
    let mut decoder = Decoder { file, diagnostics };
    decoder.file_body(&body)
}

struct Decoder<'a> {
    file: Arc<SourceFile>,
    diagnostics: &'a mut Diagnostics,
}

impl Decoder<'_> {
    fn span(&self, range: Option<std::ops::Range<usize>>) -> Option<Span> {
        range.map(|range| self.file.span(range))
    }

    fn error(&mut self, summary: &str, detail: String, range: Option<std::ops::Range<usize>>) {
        let span = self.span(range);
        self.diagnostics.push(
            Diagnostic::error(summary)
                .with_detail(detail)
                .with_span_opt(span),
        );
    }

    /// The text an argument name was written with (quotes removed).
    fn key_text(&self, attribute: &Attribute) -> String {
        attribute
            .key
            .span()
            .and_then(|range| self.file.text.get(range))
            .map(|key| key.trim_matches('"').to_string())
            .unwrap_or_else(|| attribute.key.as_str().to_string())
    }

    fn literal(&mut self, expr: &Expression) -> Option<Value> {
        match literal_value(expr, &self.file) {
            Ok(value) => Some(value),
            Err(errors) => {
                self.diagnostics.extend(errors);
                None
            }
        }
    }

    fn string(&mut self, attribute: &Attribute) -> Option<String> {
        let value = self.literal(&attribute.value)?;
        match value.as_str() {
            Some(text) => Some(text.to_string()),
            None => {
                let name = self.key_text(attribute);
                self.error(
                    "Invalid CLI configuration value",
                    format!("`{name}` must be a string."),
                    attribute.value.span(),
                );
                None
            }
        }
    }

    fn bool(&mut self, attribute: &Attribute) -> bool {
        match self.literal(&attribute.value) {
            Some(Value::Bool(b)) => b,
            Some(_) => {
                let name = self.key_text(attribute);
                self.error(
                    "Invalid CLI configuration value",
                    format!("`{name}` must be true or false."),
                    attribute.value.span(),
                );
                false
            }
            None => false,
        }
    }

    fn file_body(&mut self, body: &Body) -> CliConfig {
        let mut config = CliConfig::default();
        for structure in body.iter() {
            match structure {
                Structure::Attribute(attribute) => match attribute.key.as_str() {
                    "plugin_cache_dir" => {
                        config.plugin_cache_dir = self
                            .string(attribute)
                            .map(|d| PathBuf::from(expand_env(&d)));
                    }
                    "disable_checkpoint" => config.disable_checkpoint = self.bool(attribute),
                    "plugin_cache_may_break_dependency_lock_file" => {
                        config.plugin_cache_may_break_dependency_lock_file = self.bool(attribute)
                    }
                    _ => {}
                },
                Structure::Block(block) => match block.ident.as_str() {
                    "provider_installation" => {
                        let installation = self.provider_installation(block);
                        config.installation_blocks.push(installation);
                    }
                    "credentials" => {
                        if let Some((host, token)) = self.credentials(block) {
                            config.credentials.insert(host, token);
                        }
                    }
                    "host" => {
                        if let Some((host, services)) = self.host(block) {
                            config.hosts.insert(host, services);
                        }
                    }
                    "credentials_helper" => {
                        if let Some((name, helper)) = self.credentials_helper(block) {
                            config.credentials_helpers.insert(name, helper);
                        }
                    }
                    _ => {}
                },
            }
        }
        config
    }

    /// The block's single label, a host name, normalised.
    fn host_label(&mut self, block: &Block) -> Option<String> {
        let what = block.ident.as_str().to_string();
        let [label] = block.labels.as_slice() else {
            self.error(
                "Invalid CLI configuration block",
                format!("A {what} block needs exactly one label, the host name: `{what} \"app.terraform.io\" {{ ... }}`."),
                block.ident.span(),
            );
            return None;
        };
        match normalize_host(label.as_str()) {
            Ok(host) => Some(host),
            Err(message) => {
                self.error(
                    "Invalid host name",
                    format!("The {what} block's host name is invalid: {message}"),
                    label.span(),
                );
                None
            }
        }
    }

    fn credentials(&mut self, block: &Block) -> Option<(String, Secret)> {
        let host = self.host_label(block)?;
        let mut token = None;
        for attribute in block.body.attributes() {
            if attribute.key.as_str() == "token" {
                token = self.string(attribute).map(Secret);
            }
        }
        match token {
            Some(token) => Some((host, token)),
            None => {
                self.error(
                    "Credentials block without a token",
                    format!("The credentials block for {host} has no `token = \"...\"`; Strata reads only token credentials."),
                    block.ident.span(),
                );
                None
            }
        }
    }

    /// `credentials_helper "NAME" { args = ["..."] }`.
    fn credentials_helper(&mut self, block: &Block) -> Option<(String, HelperBlock)> {
        let [label] = block.labels.as_slice() else {
            self.error(
                "Invalid CLI configuration block",
                "A credentials_helper block needs exactly one label, the helper's name: `credentials_helper \"vault\" { args = [] }` runs terraform-credentials-vault.".into(),
                block.ident.span(),
            );
            return None;
        };
        let mut args = Vec::new();
        if let Some(attribute) = block.body.attributes().find(|a| a.key.as_str() == "args") {
            let value = self.literal(&attribute.value)?;
            let strings: Option<Vec<String>> = value
                .as_seq()
                .map(|items| {
                    items
                        .iter()
                        .map(|v| v.as_str().map(str::to_string))
                        .collect()
                })
                .unwrap_or(None);
            match strings {
                Some(strings) => args = strings,
                None => {
                    self.error(
                        "Invalid CLI configuration value",
                        "`args` must be a list of strings.".into(),
                        attribute.value.span(),
                    );
                    return None;
                }
            }
        }
        let span = self.span(block.ident.span());
        Some((label.as_str().to_string(), HelperBlock { args, span }))
    }

    fn host(
        &mut self,
        block: &Block,
    ) -> Option<(String, serde_json::Map<String, serde_json::Value>)> {
        let host = self.host_label(block)?;
        let attribute = block
            .body
            .attributes()
            .find(|a| a.key.as_str() == "services");
        let services = match attribute.map(|a| (a, self.literal(&a.value))) {
            Some((_, Some(value))) => match value_to_json(&value) {
                Ok(serde_json::Value::Object(map)) => map,
                _ => {
                    let range = attribute.and_then(|a| a.value.span());
                    self.error(
                        "Invalid host block",
                        "`services` must be an object of service identifiers to URLs: `services = { \"providers.v1\" = \"https://example.com/v1/providers/\" }`.".into(),
                        range,
                    );
                    return None;
                }
            },
            Some((_, None)) => return None,
            None => serde_json::Map::new(),
        };
        Some((host, services))
    }

    fn provider_installation(&mut self, block: &Block) -> ProviderInstallation {
        let mut installation = ProviderInstallation {
            span: self.span(block.ident.span()),
            ..ProviderInstallation::default()
        };
        let mut seen_dev_overrides = false;
        for structure in block.body.iter() {
            let Structure::Block(method) = structure else {
                let range = structure.as_attribute().and_then(|a| a.key.span());
                self.error(
                    "Invalid provider_installation block",
                    "provider_installation holds blocks only: filesystem_mirror, network_mirror, direct and dev_overrides.".into(),
                    range,
                );
                continue;
            };
            if method.ident.as_str() == "dev_overrides" {
                if seen_dev_overrides {
                    self.error(
                        "Duplicate dev_overrides block",
                        "Only one dev_overrides block is allowed in provider_installation.".into(),
                        method.ident.span(),
                    );
                }
                seen_dev_overrides = true;
                self.dev_overrides(method, &mut installation.dev_overrides);
                continue;
            }
            if let Some(method) = self.method(method) {
                installation.methods.push(method);
            }
        }
        installation
    }

    fn dev_overrides(&mut self, block: &Block, overrides: &mut BTreeMap<ProviderAddr, PathBuf>) {
        for attribute in block.body.attributes() {
            let key = self.key_text(attribute);
            let Some(path) = self.string(attribute) else {
                continue;
            };
            match ProviderAddr::parse(&key) {
                Ok(addr) => {
                    overrides.insert(addr, PathBuf::from(path));
                }
                Err(message) => self.error(
                    "Invalid provider address in dev_overrides",
                    message,
                    attribute.key.span(),
                ),
            }
        }
    }

    fn method(&mut self, block: &Block) -> Option<InstallationMethod> {
        let kind = block.ident.as_str().to_string();
        let mut location_value = None;
        let mut include = Vec::new();
        let mut exclude = Vec::new();
        for attribute in block.body.attributes() {
            match attribute.key.as_str() {
                "path" if kind == "filesystem_mirror" => location_value = self.string(attribute),
                "url" if kind == "network_mirror" => location_value = self.string(attribute),
                "include" => include = self.patterns(attribute),
                "exclude" => exclude = self.patterns(attribute),
                other => {
                    let other = other.to_string();
                    self.error(
                        "Invalid provider_installation method argument",
                        format!("The {kind} block does not take an argument named `{other}`."),
                        attribute.key.span(),
                    );
                }
            }
        }
        let location = match kind.as_str() {
            "direct" => MethodLocation::Direct,
            "filesystem_mirror" | "network_mirror" => {
                let what = if kind == "filesystem_mirror" {
                    "path"
                } else {
                    "url"
                };
                let Some(value) = location_value else {
                    self.error(
                        "Invalid provider_installation method block",
                        format!("The {kind} block requires a `{what}` argument."),
                        block.ident.span(),
                    );
                    return None;
                };
                if kind == "filesystem_mirror" {
                    MethodLocation::FilesystemMirror(PathBuf::from(value))
                } else {
                    self.mirror_url(block, &value)?
                }
            }
            _ => {
                self.error(
                    "Unknown provider installation method",
                    format!("The provider installation method `{kind}` is not supported: write filesystem_mirror, network_mirror or direct."),
                    block.ident.span(),
                );
                return None;
            }
        };
        Some(InstallationMethod {
            location,
            include,
            exclude,
        })
    }

    fn mirror_url(&mut self, block: &Block, value: &str) -> Option<MethodLocation> {
        match url::Url::parse(value) {
            Ok(url) if url.scheme() == "https" => {
                let mut text = url.to_string();
                if !text.ends_with('/') {
                    text.push('/');
                }
                Some(MethodLocation::NetworkMirror(text))
            }
            _ => {
                self.error(
                    "Invalid network_mirror URL",
                    format!("The network_mirror url `{value}` must be an absolute https: URL."),
                    block.ident.span(),
                );
                None
            }
        }
    }

    fn patterns(&mut self, attribute: &Attribute) -> Vec<ProviderPattern> {
        let Some(value) = self.literal(&attribute.value) else {
            return Vec::new();
        };
        let items: Vec<Option<&str>> = match value.as_seq() {
            Some(items) => items.iter().map(Value::as_str).collect(),
            None => vec![None],
        };
        let mut patterns = Vec::new();
        for item in items {
            match item.map(ProviderPattern::parse) {
                Some(Ok(pattern)) => patterns.push(pattern),
                Some(Err(message)) => self.error(
                    "Invalid provider source pattern",
                    message,
                    attribute.value.span(),
                ),
                None => self.error(
                    "Invalid provider source pattern",
                    "`include` and `exclude` are lists of strings like \"registry.terraform.io/hashicorp/*\".".into(),
                    attribute.value.span(),
                ),
            }
        }
        patterns
    }
}

/// `$NAME` and `${NAME}` replaced by the environment's values, as Go's `os.ExpandEnv`.
pub(super) fn expand_env(text: &str) -> String {
    let pattern = regex::Regex::new(r"\$(?:\{([^}]*)\}|([A-Za-z0-9_]+))").expect("valid regex");
    pattern
        .replace_all(text, |captures: &regex::Captures<'_>| {
            let name = captures
                .get(1)
                .or_else(|| captures.get(2))
                .map_or("", |m| m.as_str());
            std::env::var(name).unwrap_or_default()
        })
        .into_owned()
}

/// `TF_TOKEN_<host>` variables: `__` stands for `-`, `_` for `.`, names may be given in
/// Unicode or punycode (Terraform's `collectCredentialsFromEnv`). Invalid names are ignored.
fn tokens_from_env(environment: &BTreeMap<String, String>) -> BTreeMap<String, Secret> {
    let mut tokens = BTreeMap::new();
    for (name, value) in environment {
        let Some(raw) = name.strip_prefix("TF_TOKEN_") else {
            continue;
        };
        let host = raw.replace("__", "-").replace('_', ".");
        if let Ok(host) = normalize_host(&host) {
            tokens.insert(host, Secret(value.clone()));
        }
    }
    tokens
}

/// For the JSON decoder, which fills the same fields.
impl CliConfig {
    pub(super) fn insert_credentials(&mut self, host: String, token: Secret) {
        self.credentials.insert(host, token);
    }

    pub(super) fn insert_credentials_helper(&mut self, name: String, args: Vec<String>) {
        let block = HelperBlock { args, span: None };
        self.credentials_helpers.insert(name, block);
    }

    pub(super) fn push_installation(&mut self, installation: ProviderInstallation) {
        self.installation_blocks.push(installation);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(
        files: &[(&str, &str)],
        env: &[(&str, &str)],
    ) -> (Result<CliConfig, Diagnostics>, tempfile::TempDir) {
        let home = tempfile::tempdir().unwrap();
        for (name, text) in files {
            let path = home.path().join(name);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            let text = text.replace("$HOME", &home.path().display().to_string());
            std::fs::write(path, text).unwrap();
        }
        let environment = env
            .iter()
            .map(|(k, v)| {
                (
                    k.to_string(),
                    v.replace("$HOME", &home.path().display().to_string()),
                )
            })
            .collect();
        (CliConfig::load_from(&environment, Some(home.path())), home)
    }

    #[test]
    fn reads_every_setting() {
        let (config, home) = load(
            &[
                (
                    ".terraformrc",
                    r#"
plugin_cache_dir   = "$HOME/cache"  # (the test writes the directory's path)
disable_checkpoint = true
provider_installation {
  filesystem_mirror {
    path    = "/mirror"
    include = ["registry.terraform.io/hashicorp/aws"]
  }
  network_mirror {
    url     = "https://mirror.example.com/providers"
    exclude = ["example.com/*/*"]
  }
  direct {
    exclude = ["hashicorp/aws"]
  }
  dev_overrides {
    "example.com/acme/thing" = "/dev/thing"
  }
}
credentials "App.Terraform.io" {
  token = "from-file"
}
host "example.com" {
  services = {
    "providers.v1" = "https://example.com/p/"
  }
}
"#,
                ),
                ("cache/.keep", ""),
            ],
            &[("TF_TOKEN_registry_example__host_com", "from-env")],
        );
        let config = config.unwrap();
        assert_eq!(config.plugin_cache_dir, Some(home.path().join("cache")));
        assert!(config.disable_checkpoint);
        let installation = config.provider_installation.as_ref().unwrap();
        let locations: Vec<_> = installation
            .methods
            .iter()
            .map(|m| m.location.clone())
            .collect();
        assert_eq!(
            locations,
            [
                MethodLocation::FilesystemMirror("/mirror".into()),
                MethodLocation::NetworkMirror("https://mirror.example.com/providers/".into()),
                MethodLocation::Direct,
            ]
        );
        let aws = ProviderAddr::parse("hashicorp/aws").unwrap();
        let random = ProviderAddr::parse("hashicorp/random").unwrap();
        assert!(installation.methods[0].allows(&aws) && !installation.methods[0].allows(&random));
        assert!(!installation.methods[2].allows(&aws) && installation.methods[2].allows(&random));
        assert_eq!(
            installation
                .dev_overrides
                .get(&ProviderAddr::parse("example.com/acme/thing").unwrap()),
            Some(&PathBuf::from("/dev/thing"))
        );
        assert_eq!(
            config
                .credentials_for("app.terraform.io")
                .unwrap()
                .unwrap()
                .expose(),
            "from-file"
        );
        assert_eq!(
            config
                .credentials_for("registry.example-host.com")
                .unwrap()
                .unwrap()
                .expose(),
            "from-env"
        );
        assert!(config.credentials_for("example.com").unwrap().is_none());
        assert!(config.hosts.contains_key("example.com"));
        assert!(
            !format!("{config:?}").contains("from-file"),
            "tokens never print"
        );
    }

    #[test]
    fn env_token_overrides_a_credentials_block_and_dir_files_merge() {
        let (config, _home) = load(
            &[
                (
                    ".terraformrc",
                    "credentials \"example.com\" { token = \"file\" }\n",
                ),
                (
                    ".terraform.d/credentials.tfrc.json",
                    r#"{"credentials": {"other.example.com": {"token": "json"}}}"#,
                ),
                (
                    ".terraform.d/b.tfrc",
                    "plugin_cache_dir = \"/nonexistent-b\"\n",
                ),
                (".terraform.d/ignored.txt", "not = [valid"),
            ],
            &[
                ("TF_TOKEN_example_com", "env"),
                ("TF_PLUGIN_CACHE_DIR", "$HOME"),
            ],
        );
        let config = config.unwrap();
        assert_eq!(
            config
                .credentials_for("example.com")
                .unwrap()
                .unwrap()
                .expose(),
            "env"
        );
        assert_eq!(
            config
                .credentials_for("other.example.com")
                .unwrap()
                .unwrap()
                .expose(),
            "json"
        );
        assert_eq!(config.files.len(), 3);
    }

    #[test]
    fn tf_cli_config_file_skips_the_config_dir() {
        let (config, home) = load(
            &[
                (
                    "custom.rc",
                    "credentials \"a.example.com\" { token = \"a\" }\n",
                ),
                (
                    ".terraform.d/x.tfrc",
                    "credentials \"b.example.com\" { token = \"b\" }\n",
                ),
            ],
            &[("TF_CLI_CONFIG_FILE", "$HOME/custom.rc")],
        );
        let config = config.unwrap();
        assert!(config.credentials_for("a.example.com").unwrap().is_some());
        assert!(config.credentials_for("b.example.com").unwrap().is_none());
        assert_eq!(config.files, [home.path().join("custom.rc")]);
    }

    #[test]
    fn errors_point_at_the_file_line_and_column() {
        let cases = [
            ("provider_installation {\n  magic_mirror {}\n}\n", "Unknown provider installation method", 2, 3),
            ("provider_installation {\n  network_mirror {\n    url = \"http://x/\"\n  }\n}\n", "Invalid network_mirror URL", 2, 3),
            ("provider_installation {\n  direct {\n    include = [\"*/aws\"]\n  }\n}\n", "Invalid provider source pattern", 3, 15),
            ("credentials \"bad host\" {\n  token = \"x\"\n}\n", "Invalid host name", 1, 13),
            ("disable_checkpoint = \"yes\"\n", "Invalid CLI configuration value", 1, 22),
            ("provider_installation {\n  direct {}\n}\nprovider_installation {\n  direct {}\n}\n", "More than one provider_installation block", 4, 1),
            ("a = [\n", "Invalid CLI configuration syntax", 1, 6),
            ("credentials_helper \"a\" {}\ncredentials_helper \"b\" {}\n", "More than one credentials_helper block", 2, 1),
            ("credentials_helper \"a\" {\n  args = \"x\"\n}\n", "Invalid CLI configuration value", 2, 10),
            ("credentials_helper {}\n", "Invalid CLI configuration block", 1, 1),
        ];
        for (text, summary, line, column) in cases {
            let (config, _home) = load(&[(".terraformrc", text)], &[]);
            let errors = config.expect_err(text);
            let error = errors.iter().next().unwrap();
            assert_eq!(error.summary, summary, "{text}");
            let span = error.span.as_ref().expect("a span");
            assert!(span.file.ends_with(".terraformrc"));
            assert_eq!(
                (span.start.line, span.start.column),
                (line, column),
                "{text}: {error}"
            );
        }
        let (config, _home) = load(
            &[(
                ".terraform.d/x.tfrc",
                "credentials \"b.example.com\" { token = \"b\" }\n",
            )],
            &[("TF_CLI_CONFIG_FILE", "$HOME/missing.rc")],
        );
        let config = config.expect("a missing TF_CLI_CONFIG_FILE is ignored, as Terraform does");
        assert!(config.files.is_empty());
        let (config, _home) = load(&[], &[("TF_PLUGIN_CACHE_DIR", "/nonexistent/cache")]);
        assert!(config.is_err());
    }

    #[test]
    fn credentials_helper_blocks_are_read_and_the_program_found() {
        let (config, home) = load(
            &[
                (
                    ".terraformrc",
                    "credentials_helper \"test\" {\n  args = [\"--a\", \"b\"]\n}\n",
                ),
                (".terraform.d/plugins/terraform-credentials-test", ""),
            ],
            &[],
        );
        let config = config.unwrap();
        assert_eq!(
            config.helper,
            Some(Helper {
                program: home
                    .path()
                    .join(".terraform.d/plugins/terraform-credentials-test"),
                args: vec!["--a".into(), "b".into()],
            })
        );
        let (config, _home) = load(
            &[(
                ".terraform.d/helper.tfrc.json",
                r#"{"credentials_helper": {"missing": {"args": []}}}"#,
            )],
            &[],
        );
        let config = config.unwrap();
        assert!(config.credentials_helpers.contains_key("missing"));
        assert_eq!(config.helper, None, "a helper not found is ignored");
        assert!(config.credentials_for("example.com").unwrap().is_none());
    }

    #[test]
    fn environment_variables_expand_as_go_expands_them() {
        let home = std::env::var("HOME").unwrap_or_default();
        assert_eq!(expand_env("$HOME/a"), format!("{home}/a"));
        assert_eq!(expand_env("${HOME}/a"), format!("{home}/a"));
        assert_eq!(expand_env("/x/$STRATA_SURELY_UNSET_VARIABLE/y"), "/x//y");
    }

    #[test]
    fn tokens_are_masked_in_the_lines_diagnostics_show() {
        let text = "credentials \"a\" {\n  token = \"s3cret\"\n}\n{\"credentials\": {\"b\": {\"token\": \"xyz\"}}}";
        let masked = mask_tokens(text);
        assert_eq!(masked.len(), text.len());
        assert!(
            !masked.contains("s3cret") && !masked.contains("xyz"),
            "{masked}"
        );
    }

    #[test]
    fn quoted_names_are_masked_to_the_same_length() {
        let text = "dev_overrides {\n  \"hashicorp/aws\" = \"/x\"\n}\n";
        let masked = mask_quoted_names(text);
        assert_eq!(masked.len(), text.len());
        assert!(masked.contains("  q______________ = \"/x\""));
    }
}

//! The `terraform { encryption { ... } }` block, in the form OpenTofu defines, and the
//! `TF_ENCRYPTION` environment variable (the same body, HCL or JSON) merged over it.
//!
//! Decoding keeps the literal settings and the `key_provider.TYPE.NAME` / `method.TYPE.NAME`
//! references with their locations; [`validate`] checks the merged configuration (known types,
//! references that resolve, PBKDF2's minimums) so every mistake is reported at `file:line:col`
//! before any state is read. `crate::encryption` builds the sealing and opening from it.

use super::literal::literal_value;
use crate::diagnostics::{Diagnostic, Diagnostics, SourceFile, Span};
use crate::value::Value;
use hcl_edit::expr::Expression;
use hcl_edit::structure::{Block, Body, Structure};
use hcl_edit::Span as _;
use std::collections::BTreeMap;
use std::sync::Arc;

/// The environment variable whose HCL or JSON body is merged over the file's `encryption` block.
pub const ENV_VAR: &str = "TF_ENCRYPTION";

/// One `encryption` block (or the merge of the file's and `TF_ENCRYPTION`'s).
#[derive(Clone, Default)]
pub struct EncryptionConfig {
    pub key_providers: Vec<KeyProviderBlock>,
    pub methods: Vec<MethodBlock>,
    pub state: Option<TargetBlock>,
    pub plan: Option<TargetBlock>,
    /// `remote_state_data_sources { default { ... } }`.
    pub remote_state_default: Option<TargetBlock>,
    /// `remote_state_data_sources { remote_state_data_source "NAME" { ... } }`.
    pub remote_state_sources: BTreeMap<String, TargetBlock>,
    /// The sources the spans point into (to show the offending line).
    pub files: Vec<Arc<SourceFile>>,
}

impl std::fmt::Debug for EncryptionConfig {
    /// The sources hold passphrases (`TF_ENCRYPTION`'s text): only their names are shown.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EncryptionConfig")
            .field("key_providers", &self.key_providers)
            .field("methods", &self.methods)
            .field("state", &self.state)
            .field("plan", &self.plan)
            .field("remote_state_default", &self.remote_state_default)
            .field("remote_state_sources", &self.remote_state_sources)
            .field(
                "files",
                &self.files.iter().map(|f| &f.name).collect::<Vec<_>>(),
            )
            .finish()
    }
}

/// `key_provider "pbkdf2" "name" { passphrase = "..." }`.
#[derive(Clone)]
pub struct KeyProviderBlock {
    pub kind: String,
    pub name: String,
    /// The literal arguments (nested blocks as objects).
    pub settings: BTreeMap<String, Value>,
    /// Where each argument's value is written.
    pub spans: BTreeMap<String, Span>,
    /// Arguments written over input variables or locals (`passphrase = var.passphrase`), not
    /// yet in `settings`: `crate::encryption::statics` evaluates them before [`validate`].
    pub exprs: BTreeMap<String, super::Expr>,
    /// `chain = key_provider.TYPE.NAME`: the provider whose key stands in for the passphrase.
    pub chain: Option<Reference>,
    pub span: Span,
}

impl std::fmt::Debug for KeyProviderBlock {
    /// Settings hold passphrases: only their names are shown.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyProviderBlock")
            .field("kind", &self.kind)
            .field("name", &self.name)
            .field("settings", &self.settings.keys().collect::<Vec<_>>())
            .field("chain", &self.chain)
            .finish()
    }
}

/// `method "aes_gcm" "name" { keys = key_provider.pbkdf2.name }`.
#[derive(Clone, Debug)]
pub struct MethodBlock {
    pub kind: String,
    pub name: String,
    pub keys: Option<Reference>,
    /// `aad`: additional authenticated data (a string).
    pub aad: Option<String>,
    pub span: Span,
}

/// A `key_provider.TYPE.NAME` or `method.TYPE.NAME` reference.
#[derive(Clone, Debug)]
pub struct Reference {
    pub kind: String,
    pub name: String,
    pub span: Span,
}

impl Reference {
    pub fn matches(&self, kind: &str, name: &str) -> bool {
        self.kind == kind && self.name == name
    }
}

/// `state { method = ...; fallback { ... }; enforced = ... }` (also `plan`, remote states).
#[derive(Clone, Debug)]
pub struct TargetBlock {
    pub method: Option<Reference>,
    pub fallback: Option<Box<TargetBlock>>,
    pub enforced: bool,
    pub span: Span,
}

impl TargetBlock {
    /// The method references in the order they are tried: the method, then each fallback.
    pub fn chain(&self) -> Vec<&Reference> {
        let mut out = Vec::new();
        let mut target = Some(self);
        while let Some(t) = target {
            out.extend(t.method.as_ref());
            target = t.fallback.as_deref();
        }
        out
    }
}

/// Decodes an `encryption` block of `file`.
pub fn decode_block(
    block: &Block,
    file: &Arc<SourceFile>,
) -> Result<EncryptionConfig, Diagnostics> {
    let mut decoder = BodyDecoder {
        file,
        diagnostics: Diagnostics::new(),
    };
    if !block.labels.is_empty() {
        decoder.error(
            "Invalid encryption block",
            "The encryption block takes no labels: `encryption { ... }`.",
            block.ident.span(),
        );
    }
    let mut config = decoder.body(&block.body);
    config.files.push(file.clone());
    decoder.diagnostics.into_result(config)
}

/// Decodes `TF_ENCRYPTION`'s text: the body of an `encryption` block, in HCL or in JSON.
pub fn decode_env(text: &str) -> Result<EncryptionConfig, Diagnostics> {
    let hcl_text = if text.trim_start().starts_with('{') {
        json_to_hcl(text).map_err(|message| {
            Diagnostics::from(
                Diagnostic::error("Invalid TF_ENCRYPTION").with_detail(format!(
                    "{ENV_VAR} holds JSON that cannot be read: {message}. Write the body of an `encryption` block, in HCL or JSON."
                )),
            )
        })?
    } else {
        text.to_string()
    };
    let file = Arc::new(SourceFile::new(ENV_VAR, hcl_text.as_str()));
    let body: Body = hcl_text.parse().map_err(|error: hcl_edit::parser::Error| {
        let location = error.location();
        let line = location.line();
        let column = location.column();
        let offset = file
            .text
            .split_inclusive('\n')
            .take(line.saturating_sub(1))
            .map(str::len)
            .sum::<usize>()
            + column.saturating_sub(1);
        let offset = offset.min(file.text.len());
        Diagnostics::from(
            Diagnostic::error("Invalid TF_ENCRYPTION")
                .with_detail(format!(
                    "{ENV_VAR} is not a valid encryption body: {}. Write what goes inside `encryption {{ ... }}`.",
                    error.message()
                ))
                .with_span(file.span(offset..offset)),
        )
    })?;
    let mut decoder = BodyDecoder {
        file: &file,
        diagnostics: Diagnostics::new(),
    };
    let mut config = decoder.body(&body);
    config.files.push(file.clone());
    decoder.diagnostics.into_result(config)
}

/// `TF_ENCRYPTION` merged over the file's block: a key provider or method of the same type and
/// name has its arguments replaced one by one; a target block replaces the file's.
pub fn merge(
    file: Option<EncryptionConfig>,
    env: Option<EncryptionConfig>,
) -> Option<EncryptionConfig> {
    let (mut base, env) = match (file, env) {
        (base, None) => return base,
        (None, env) => return env,
        (Some(base), Some(env)) => (base, env),
    };
    for provider in env.key_providers {
        match base
            .key_providers
            .iter_mut()
            .find(|p| p.kind == provider.kind && p.name == provider.name)
        {
            Some(existing) => {
                for key in provider.settings.keys() {
                    existing.exprs.remove(key);
                }
                for key in provider.exprs.keys() {
                    existing.settings.remove(key);
                }
                existing.settings.extend(provider.settings);
                existing.exprs.extend(provider.exprs);
                existing.spans.extend(provider.spans);
                if provider.chain.is_some() {
                    existing.chain = provider.chain;
                }
            }
            None => base.key_providers.push(provider),
        }
    }
    for method in env.methods {
        match base
            .methods
            .iter_mut()
            .find(|m| m.kind == method.kind && m.name == method.name)
        {
            Some(existing) => {
                if method.keys.is_some() {
                    existing.keys = method.keys;
                }
                if method.aad.is_some() {
                    existing.aad = method.aad;
                }
            }
            None => base.methods.push(method),
        }
    }
    base.state = env.state.or(base.state);
    base.plan = env.plan.or(base.plan);
    base.remote_state_default = env.remote_state_default.or(base.remote_state_default);
    base.remote_state_sources.extend(env.remote_state_sources);
    base.files.extend(env.files);
    Some(base)
}

/// The key provider types Strata implements.
pub const KEY_PROVIDER_TYPES: &[&str] = &["pbkdf2", "aws_kms"];
/// The method types Strata implements.
pub const METHOD_TYPES: &[&str] = &["aes_gcm", "unencrypted"];

/// Checks a (merged) configuration: types, references, settings.
pub fn validate(config: &EncryptionConfig) -> Diagnostics {
    let mut diagnostics = Diagnostics::new();
    for provider in &config.key_providers {
        validate_key_provider(provider, &mut diagnostics);
        validate_chain(config, provider, &mut diagnostics);
    }
    for method in &config.methods {
        validate_method(config, method, &mut diagnostics);
    }
    let targets = [("state", &config.state), ("plan", &config.plan)]
        .into_iter()
        .chain([("remote_state_data_sources", &config.remote_state_default)])
        .filter_map(|(name, target)| target.as_ref().map(|t| (name, t)))
        .chain(
            config
                .remote_state_sources
                .values()
                .map(|t| ("remote_state_data_source", t)),
        );
    for (name, target) in targets {
        validate_target(config, name, target, &mut diagnostics);
    }
    diagnostics
}

fn validate_key_provider(provider: &KeyProviderBlock, diagnostics: &mut Diagnostics) {
    let at = |key: &str| {
        provider
            .spans
            .get(key)
            .cloned()
            .unwrap_or(provider.span.clone())
    };
    let mut error = |summary: &str, detail: String, span: Span| {
        diagnostics.push(
            Diagnostic::error(summary)
                .with_detail(detail)
                .with_span(span),
        );
    };
    let string = |key: &str| provider.settings.get(key).and_then(Value::as_str);
    let number = |key: &str| {
        provider
            .settings
            .get(key)
            .and_then(|v| v.as_number()?.to_i64())
    };
    match provider.kind.as_str() {
        "pbkdf2" => {
            match string("passphrase") {
                None if provider.chain.is_some() => {}
                Some(_) if provider.chain.is_some() => error(
                    "Passphrase and chain",
                    format!("key_provider \"pbkdf2\" \"{}\" takes its passphrase from `passphrase` or from `chain`, not both: remove one.", provider.name),
                    at("passphrase"),
                ),
                None => error(
                    "Missing passphrase",
                    format!("key_provider \"pbkdf2\" \"{}\" needs `passphrase = \"...\"` (at least 16 characters) or `chain = key_provider.TYPE.NAME`; set it here or in TF_ENCRYPTION.", provider.name),
                    provider.span.clone(),
                ),
                Some(p) if p.chars().count() < 16 => error(
                    "Passphrase too short",
                    "The passphrase must be at least 16 characters long.".into(),
                    at("passphrase"),
                ),
                Some(_) => {}
            }
            if let Some(n) = number("iterations").filter(|n| *n < 200_000) {
                error("Too few iterations", format!("iterations = {n} is dangerously low: use at least 200000 (the default is 600000)."), at("iterations"));
            }
            if let Some(n) = number("key_length").filter(|n| ![16, 24, 32].contains(n)) {
                error(
                    "Invalid key length",
                    format!("key_length = {n}: AES-GCM takes keys of 16, 24 or 32 bytes."),
                    at("key_length"),
                );
            }
            if let Some(n) = number("salt_length").filter(|n| *n <= 0) {
                error(
                    "Invalid salt length",
                    format!("salt_length = {n}: it must be larger than zero."),
                    at("salt_length"),
                );
            }
            if let Some(h) = string("hash_function").filter(|h| !["sha256", "sha512"].contains(h)) {
                error(
                    "Invalid hash function",
                    format!("hash_function = \"{h}\": use \"sha256\" or \"sha512\"."),
                    at("hash_function"),
                );
            }
        }
        "aws_kms" => {
            for key in ["kms_key_id", "key_spec"] {
                if string(key).is_none() {
                    error(
                        "Missing argument",
                        format!(
                            "key_provider \"aws_kms\" \"{}\" needs `{key} = \"...\"`.",
                            provider.name
                        ),
                        provider.span.clone(),
                    );
                }
            }
            if let Some(spec) = string("key_spec").filter(|s| !["AES_256", "AES_128"].contains(s)) {
                error(
                    "Invalid key_spec",
                    format!("key_spec = \"{spec}\": use \"AES_256\" or \"AES_128\"."),
                    at("key_spec"),
                );
            }
        }
        other => error(
            "Unsupported key provider",
            format!(
                "Strata has no key provider \"{other}\"; it implements {}.",
                KEY_PROVIDER_TYPES.join(" and ")
            ),
            provider.span.clone(),
        ),
    }
}

/// A `chain` names a declared key provider, only pbkdf2 takes one, and following chains never
/// comes back to where it started.
fn validate_chain(
    config: &EncryptionConfig,
    provider: &KeyProviderBlock,
    diagnostics: &mut Diagnostics,
) {
    let Some(chain) = &provider.chain else {
        return;
    };
    let mut error = |summary: &str, detail: String| {
        diagnostics.push(
            Diagnostic::error(summary)
                .with_detail(detail)
                .with_span(chain.span.clone()),
        );
    };
    if provider.kind != "pbkdf2" {
        return error(
            "Unsupported argument",
            format!("Only a pbkdf2 key provider takes `chain`; remove it from key_provider \"{}\" \"{}\".", provider.kind, provider.name),
        );
    }
    let find = |reference: &Reference| {
        config
            .key_providers
            .iter()
            .find(|p| reference.matches(&p.kind, &p.name))
    };
    let mut next = Some(chain);
    for _ in 0..=config.key_providers.len() {
        let Some(reference) = next else {
            return;
        };
        let Some(found) = find(reference) else {
            return error("Undeclared key provider", format!("There is no key_provider \"{}\" \"{}\" in the encryption block or TF_ENCRYPTION; declare it or fix the chain.", reference.kind, reference.name));
        };
        if found.kind == provider.kind && found.name == provider.name {
            break;
        }
        next = found.chain.as_ref();
    }
    error(
        "Key provider chain cycle",
        format!("Following `chain` from key_provider \"{}\" \"{}\" comes back to it; end the chain at a provider with its own key.", provider.kind, provider.name),
    );
}

fn validate_method(config: &EncryptionConfig, method: &MethodBlock, diagnostics: &mut Diagnostics) {
    match method.kind.as_str() {
        "aes_gcm" => match &method.keys {
            None => diagnostics.push(
                Diagnostic::error("Missing keys")
                    .with_detail(format!(
                        "method \"aes_gcm\" \"{}\" needs `keys = key_provider.TYPE.NAME`.",
                        method.name
                    ))
                    .with_span(method.span.clone()),
            ),
            Some(keys) => {
                if !config
                    .key_providers
                    .iter()
                    .any(|p| keys.matches(&p.kind, &p.name))
                {
                    diagnostics.push(
                        Diagnostic::error("Undeclared key provider")
                            .with_detail(format!("There is no key_provider \"{}\" \"{}\" in the encryption block or TF_ENCRYPTION; declare it or fix the reference.", keys.kind, keys.name))
                            .with_span(keys.span.clone()),
                    );
                }
            }
        },
        "unencrypted" => {}
        other => diagnostics.push(
            Diagnostic::error("Unsupported encryption method")
                .with_detail(format!(
                    "Strata has no method \"{other}\"; it implements {}.",
                    METHOD_TYPES.join(" and ")
                ))
                .with_span(method.span.clone()),
        ),
    }
}

fn validate_target(
    config: &EncryptionConfig,
    name: &str,
    target: &TargetBlock,
    diagnostics: &mut Diagnostics,
) {
    if target.method.is_none() {
        diagnostics.push(
            Diagnostic::error("Missing method")
                .with_detail(format!(
                    "The {name} block needs `method = method.TYPE.NAME`."
                ))
                .with_span(target.span.clone()),
        );
    }
    for reference in target.chain() {
        if !config
            .methods
            .iter()
            .any(|m| reference.matches(&m.kind, &m.name))
        {
            diagnostics.push(
                Diagnostic::error("Undeclared encryption method")
                    .with_detail(format!("There is no method \"{}\" \"{}\" in the encryption block or TF_ENCRYPTION; declare it or fix the reference.", reference.kind, reference.name))
                    .with_span(reference.span.clone()),
            );
        } else if target.enforced && reference.kind == "unencrypted" {
            diagnostics.push(
                Diagnostic::error("Unencrypted method forbidden")
                    .with_detail(format!("The {name} block has `enforced = true`, which forbids the unencrypted method; remove one or the other."))
                    .with_span(reference.span.clone()),
            );
        }
    }
}

struct BodyDecoder<'a> {
    file: &'a Arc<SourceFile>,
    diagnostics: Diagnostics,
}

impl BodyDecoder<'_> {
    fn span(&self, range: Option<std::ops::Range<usize>>) -> Span {
        self.file.span(range.unwrap_or(0..0))
    }

    fn error(&mut self, summary: &str, detail: &str, range: Option<std::ops::Range<usize>>) {
        let span = self.span(range);
        self.diagnostics.push(
            Diagnostic::error(summary)
                .with_detail(detail)
                .with_span(span),
        );
    }

    fn header(&self, block: &Block) -> Span {
        super::load::header_span(self.file, block)
    }

    fn labels(&mut self, block: &Block, wanted: usize, form: &str) -> Option<Vec<String>> {
        let labels: Vec<String> = block
            .labels
            .iter()
            .map(|l| l.as_str().to_string())
            .collect();
        if labels.len() != wanted {
            let detail = format!("Write it as `{form}`.");
            self.error("Invalid block labels", &detail, block.ident.span());
            return None;
        }
        Some(labels)
    }

    fn body(&mut self, body: &Body) -> EncryptionConfig {
        let mut config = EncryptionConfig::default();
        for structure in body.iter() {
            match structure {
                Structure::Attribute(attribute) => self.error(
                    "Unsupported argument",
                    &format!("The encryption block holds blocks only (key_provider, method, state, plan, remote_state_data_sources), not \"{}\".", attribute.key.as_str()),
                    attribute.key.span(),
                ),
                Structure::Block(block) => match block.ident.as_str() {
                    "key_provider" => {
                        if let Some(provider) = self.key_provider(block) {
                            config.key_providers.push(provider);
                        }
                    }
                    "method" => {
                        if let Some(method) = self.method(block) {
                            config.methods.push(method);
                        }
                    }
                    "state" => config.state = self.target(block, false),
                    "plan" => config.plan = self.target(block, false),
                    "remote_state_data_sources" => self.remote_states(block, &mut config),
                    other => self.error(
                        "Unsupported block type",
                        &format!("Blocks of type \"{other}\" are not expected in an encryption block: it takes key_provider, method, state, plan and remote_state_data_sources."),
                        block.ident.span(),
                    ),
                },
            }
        }
        config
    }

    fn key_provider(&mut self, block: &Block) -> Option<KeyProviderBlock> {
        let labels = self.labels(block, 2, "key_provider \"TYPE\" \"NAME\" { ... }")?;
        let mut settings = BTreeMap::new();
        let mut spans = BTreeMap::new();
        let mut exprs = BTreeMap::new();
        let mut chain = None;
        for structure in block.body.iter() {
            let (key, value, range) = match structure {
                Structure::Attribute(attribute) if attribute.key.as_str() == "chain" => {
                    chain = self.reference(&attribute.value, "key_provider");
                    continue;
                }
                Structure::Attribute(attribute) if self.refers(&attribute.value) => {
                    let key = attribute.key.as_str().to_string();
                    spans.insert(key.clone(), self.span(attribute.value.span()));
                    let expr = super::Expr {
                        file: self.file.clone(),
                        expr: attribute.value.clone(),
                    };
                    exprs.insert(key, expr);
                    continue;
                }
                Structure::Attribute(attribute) => match literal_value(&attribute.value, self.file)
                {
                    Ok(value) => (
                        attribute.key.as_str().to_string(),
                        value,
                        attribute.value.span(),
                    ),
                    Err(diagnostics) => {
                        self.diagnostics.extend(diagnostics);
                        continue;
                    }
                },
                Structure::Block(nested) => {
                    let object = self.literal_object(&nested.body);
                    (
                        nested.ident.as_str().to_string(),
                        object,
                        nested.ident.span(),
                    )
                }
            };
            spans.insert(key.clone(), self.span(range));
            settings.insert(key, value);
        }
        Some(KeyProviderBlock {
            kind: labels[0].clone(),
            name: labels[1].clone(),
            settings,
            spans,
            exprs,
            chain,
            span: self.header(block),
        })
    }

    /// Whether `expression` refers to anything (`var.x`, `local.y`, a resource): such an
    /// argument is evaluated later, against the root module's variables and locals.
    fn refers(&self, expression: &Expression) -> bool {
        let expr = super::Expr {
            file: self.file.clone(),
            expr: expression.clone(),
        };
        !crate::lang::references(&expr).is_empty()
    }

    fn literal_object(&mut self, body: &Body) -> Value {
        let mut entries = BTreeMap::new();
        for structure in body.iter() {
            if let Structure::Attribute(attribute) = structure {
                match literal_value(&attribute.value, self.file) {
                    Ok(value) => {
                        entries.insert(attribute.key.as_str().to_string(), value);
                    }
                    Err(diagnostics) => self.diagnostics.extend(diagnostics),
                }
            }
        }
        Value::Object(entries)
    }

    fn method(&mut self, block: &Block) -> Option<MethodBlock> {
        let labels = self.labels(block, 2, "method \"TYPE\" \"NAME\" { ... }")?;
        let mut method = MethodBlock {
            kind: labels[0].clone(),
            name: labels[1].clone(),
            keys: None,
            aad: None,
            span: self.header(block),
        };
        for structure in block.body.iter() {
            match structure {
                Structure::Attribute(a) if a.key.as_str() == "keys" => {
                    method.keys = self.reference(&a.value, "key_provider");
                }
                Structure::Attribute(a) if a.key.as_str() == "aad" => {
                    match literal_value(&a.value, self.file) {
                        Ok(Value::String(text)) => method.aad = Some(text),
                        Ok(_) => self.error("Invalid aad", "aad must be a string.", a.value.span()),
                        Err(diagnostics) => self.diagnostics.extend(diagnostics),
                    }
                }
                Structure::Attribute(a) => self.error(
                    "Unsupported argument",
                    &format!(
                        "A method takes `keys` (and, for aes_gcm, `aad`), not \"{}\".",
                        a.key.as_str()
                    ),
                    a.key.span(),
                ),
                Structure::Block(b) => self.error(
                    "Unsupported block type",
                    "A method block holds arguments only.",
                    b.ident.span(),
                ),
            }
        }
        Some(method)
    }

    /// `key_provider.TYPE.NAME` / `method.TYPE.NAME`.
    fn reference(&mut self, expression: &Expression, root: &str) -> Option<Reference> {
        let names = super::load::traversal_names(expression);
        match names.as_deref() {
            Some([first, kind, name]) if first == root => Some(Reference {
                kind: kind.clone(),
                name: name.clone(),
                span: self.span(expression.span()),
            }),
            _ => {
                let detail = format!("Expected a reference of the form {root}.TYPE.NAME.");
                self.error("Invalid reference", &detail, expression.span());
                None
            }
        }
    }

    fn target(&mut self, block: &Block, is_fallback: bool) -> Option<TargetBlock> {
        let mut target = TargetBlock {
            method: None,
            fallback: None,
            enforced: false,
            span: self.header(block),
        };
        for structure in block.body.iter() {
            match structure {
                Structure::Attribute(a) if a.key.as_str() == "method" => {
                    target.method = self.reference(&a.value, "method");
                }
                Structure::Attribute(a) if a.key.as_str() == "enforced" && !is_fallback => {
                    match literal_value(&a.value, self.file) {
                        Ok(Value::Bool(enforced)) => target.enforced = enforced,
                        Ok(_) => self.error(
                            "Invalid enforced",
                            "enforced must be true or false.",
                            a.value.span(),
                        ),
                        Err(diagnostics) => self.diagnostics.extend(diagnostics),
                    }
                }
                Structure::Block(b) if b.ident.as_str() == "fallback" => {
                    target.fallback = self.target(b, true).map(Box::new);
                }
                Structure::Attribute(a) => self.error(
                    "Unsupported argument",
                    &format!(
                        "A {} block takes `method`, `enforced` and a `fallback` block, not \"{}\".",
                        block.ident.as_str(),
                        a.key.as_str()
                    ),
                    a.key.span(),
                ),
                Structure::Block(b) => self.error(
                    "Unsupported block type",
                    &format!(
                        "A {} block holds one nested block, `fallback`.",
                        block.ident.as_str()
                    ),
                    b.ident.span(),
                ),
            }
        }
        Some(target)
    }

    fn remote_states(&mut self, block: &Block, config: &mut EncryptionConfig) {
        for structure in block.body.iter() {
            match structure {
                Structure::Block(b) if b.ident.as_str() == "default" => {
                    config.remote_state_default = self.target(b, false);
                }
                Structure::Block(b) if b.ident.as_str() == "remote_state_data_source" => {
                    let Some(labels) =
                        self.labels(b, 1, "remote_state_data_source \"NAME\" { ... }")
                    else {
                        continue;
                    };
                    if let Some(target) = self.target(b, false) {
                        config
                            .remote_state_sources
                            .insert(labels[0].clone(), target);
                    }
                }
                other => {
                    let range = match other {
                        Structure::Block(b) => b.ident.span(),
                        Structure::Attribute(a) => a.key.span(),
                    };
                    self.error(
                        "Unsupported content",
                        "remote_state_data_sources holds `default { ... }` and `remote_state_data_source \"NAME\" { ... }` blocks.",
                        range,
                    );
                }
            }
        }
    }
}

/// Rewrites `TF_ENCRYPTION`'s JSON form as HCL: `{"key_provider": {"pbkdf2": {"name": {...}}},
/// "method": {...}, "state": {"method": "method.aes_gcm.name"}}`. `keys` and `method`
/// strings become references.
fn json_to_hcl(text: &str) -> Result<String, String> {
    let json: serde_json::Value = serde_json::from_str(text).map_err(|e| e.to_string())?;
    let root = json.as_object().ok_or("the top level must be an object")?;
    let mut out = String::new();
    for (key, value) in root {
        match key.as_str() {
            "key_provider" | "method" => {
                for (kind, named) in value
                    .as_object()
                    .ok_or(format!("`{key}` must be an object of types"))?
                {
                    for (name, body) in named
                        .as_object()
                        .ok_or(format!("`{key}.{kind}` must be an object of names"))?
                    {
                        out.push_str(&format!(
                            "{key} {} {} {{\n",
                            json_string(kind),
                            json_string(name)
                        ));
                        json_body(body, &mut out)?;
                        out.push_str("}\n");
                    }
                }
            }
            "remote_state_data_sources" => {
                out.push_str("remote_state_data_sources {\n");
                let sources = value
                    .as_object()
                    .ok_or("`remote_state_data_sources` must be an object")?;
                for (inner, body) in sources {
                    if inner == "remote_state_data_source" {
                        for (name, body) in body
                            .as_object()
                            .ok_or("`remote_state_data_source` must be an object of names")?
                        {
                            out.push_str(&format!(
                                "remote_state_data_source {} {{\n",
                                json_string(name)
                            ));
                            json_body(body, &mut out)?;
                            out.push_str("}\n");
                        }
                    } else {
                        out.push_str(&format!("{inner} {{\n"));
                        json_body(body, &mut out)?;
                        out.push_str("}\n");
                    }
                }
                out.push_str("}\n");
            }
            other => {
                out.push_str(&format!("{other} {{\n"));
                json_body(value, &mut out)?;
                out.push_str("}\n");
            }
        }
    }
    Ok(out)
}

fn json_body(body: &serde_json::Value, out: &mut String) -> Result<(), String> {
    let object = body.as_object().ok_or("a block's body must be an object")?;
    for (key, value) in object {
        match value {
            serde_json::Value::Object(_) => {
                out.push_str(&format!("{key} {{\n"));
                json_body(value, out)?;
                out.push_str("}\n");
            }
            serde_json::Value::String(s) if ["keys", "method", "chain"].contains(&key.as_str()) => {
                let valid = s.split('.').count() == 3
                    && s.chars().all(|c| c.is_alphanumeric() || "._-".contains(c));
                if !valid {
                    return Err(format!(
                        "`{key}` must be a reference like \"method.aes_gcm.name\""
                    ));
                }
                out.push_str(&format!("{key} = {s}\n"));
            }
            other => out.push_str(&format!("{key} = {other}\n")),
        }
    }
    Ok(())
}

fn json_string(text: &str) -> String {
    serde_json::Value::String(text.to_string()).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    const FILE: &str = r#"
key_provider "pbkdf2" "main" {
  passphrase = "in-the-file-0123456789"
  iterations = 300000
}
method "aes_gcm" "main" {
  keys = key_provider.pbkdf2.main
}
state {
  method = method.aes_gcm.main
}
"#;

    #[test]
    fn the_environment_merges_over_the_file() {
        let file = decode_env(FILE).unwrap();
        let env = decode_env(
            r#"{"key_provider": {"pbkdf2": {"main": {"passphrase": "from-the-environment-42"}}},
                "method": {"unencrypted": {"old": {}}},
                "state": {"method": "method.aes_gcm.main", "fallback": {"method": "method.unencrypted.old"}}}"#,
        )
        .unwrap();
        let merged = merge(Some(file), Some(env)).unwrap();
        assert!(validate(&merged).is_empty(), "{}", validate(&merged));
        let provider = &merged.key_providers[0];
        assert_eq!(
            provider.settings["passphrase"],
            Value::string("from-the-environment-42")
        );
        assert_eq!(
            provider.settings["iterations"]
                .as_number()
                .unwrap()
                .to_i64(),
            Some(300000)
        );
        let chain: Vec<String> = merged
            .state
            .as_ref()
            .unwrap()
            .chain()
            .iter()
            .map(|r| format!("{}.{}", r.kind, r.name))
            .collect();
        assert_eq!(chain, ["aes_gcm.main", "unencrypted.old"]);
        assert!(!format!("{merged:?}").contains("from-the-environment-42"));
    }

    #[test]
    fn validation_errors_name_the_place() {
        let config = decode_env(
            "method \"unencrypted\" \"plain\" {}\nmethod \"rot13\" \"x\" {}\nstate {\n  method = method.unencrypted.plain\n  enforced = true\n}\nplan {\n  method = method.aes_gcm.missing\n}\n",
        )
        .unwrap();
        let found: Vec<String> = validate(&config).iter().map(|d| d.to_string()).collect();
        assert_eq!(
            found,
            [
                "TF_ENCRYPTION:2:1: Unsupported encryption method: Strata has no method \"rot13\"; it implements aes_gcm and unencrypted.",
                "TF_ENCRYPTION:4:12: Unencrypted method forbidden: The state block has `enforced = true`, which forbids the unencrypted method; remove one or the other.",
                "TF_ENCRYPTION:8:12: Undeclared encryption method: There is no method \"aes_gcm\" \"missing\" in the encryption block or TF_ENCRYPTION; declare it or fix the reference.",
            ]
        );
        let error = decode_env("state {\n  method = \"method.aes_gcm.x\"\n}\n").unwrap_err();
        assert!(
            error
                .to_string()
                .contains("TF_ENCRYPTION:2:12: Invalid reference"),
            "{error}"
        );
    }
}

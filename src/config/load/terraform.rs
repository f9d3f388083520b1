//! Decoding the `terraform` block (`required_version`, `required_providers`, `backend`, `cloud`) and
//! `provider` blocks.

use super::{is_valid_name, location, Decoder};
use crate::config::shape::Shape;
use crate::config::{
    BackendConfig, Body, Module, ProviderConfig, ProviderRef, ProviderRequirement,
};
use crate::diagnostics::{did_you_mean, Diagnostic};
use crate::value::Value;
use hcl_edit::expr::{Expression, ObjectKey};
use hcl_edit::structure::{Block, Structure};
use hcl_edit::Span as _;
use std::collections::BTreeMap;

impl Decoder<'_> {
    pub(super) fn terraform_block(&mut self, module: &mut Module, block: &Block) {
        if self.check_labels(block, &[]).is_none() {
            return;
        }
        self.check_shape(
            &block.body,
            &Shape {
                what: "a terraform block",
                attributes: &["required_version", "experiments"],
                blocks: &[
                    "required_providers",
                    "backend",
                    "cloud",
                    "provider_meta",
                    "encryption",
                ],
            },
        );
        for structure in block.body.iter() {
            match structure {
                Structure::Attribute(attribute) if attribute.key.as_str() == "required_version" => {
                    if let Some(version) = self.literal_string(attribute) {
                        // Strata speaks the language of the Terraform version it follows.
                        match crate::config::version::satisfies(&version, crate::TERRAFORM_VERSION_COMPAT) {
                            Ok(true) => {}
                            Ok(false) => self.error(
                                "Unsupported Terraform Core version",
                                format!(
                                    "This configuration does not support Terraform version {} (the language version Strata {} implements). Either use a tool version it supports or update the version constraint; constraints are normally set for good reason, so updating it may lead to other errors.",
                                    crate::TERRAFORM_VERSION_COMPAT,
                                    env!("CARGO_PKG_VERSION")
                                ),
                                attribute.value.span(),
                            ),
                            Err(problem) => self.error(
                                "Invalid required_version constraint",
                                format!("The version constraint is not valid: {problem}. Write it like \">= 1.5, < 2.0\" or \"~> 1.15\"."),
                                attribute.value.span(),
                            ),
                        }
                        module.terraform.required_version = Some(version);
                    }
                }
                Structure::Attribute(attribute) if attribute.key.as_str() == "experiments" => {
                    self.error(
                        "Experiments not supported",
                        "Strata does not implement Terraform's language experiments; remove the \"experiments\" argument.",
                        attribute.key.span(),
                    );
                }
                Structure::Block(nested) => match nested.ident.as_str() {
                    "required_providers" => self.required_providers(module, nested),
                    "backend" => self.backend(module, nested),
                    "encryption" => {
                        match crate::config::encryption::decode_block(nested, &self.file) {
                            Ok(config) => module.terraform.encryption = Some(config),
                            Err(diagnostics) => self.diagnostics.extend(diagnostics),
                        }
                    }
                    "cloud" => self.error(
                        "Terraform Cloud is not supported",
                        "Strata cannot use HCP Terraform / Terraform Cloud; configure a `backend` block (for example \"local\" or \"s3\") instead.",
                        nested.ident.span(),
                    ),
                    _ => {}
                },
                _ => {}
            }
        }
    }

    pub(super) fn required_providers(&mut self, module: &mut Module, block: &Block) {
        if self.check_labels(block, &[]).is_none() {
            return;
        }
        for structure in block.body.iter() {
            let attribute = match structure {
                Structure::Attribute(attribute) => attribute,
                Structure::Block(nested) => {
                    self.error(
                        "Unsupported block type",
                        "required_providers holds arguments only: `aws = { source = \"hashicorp/aws\", version = \"~> 5.0\" }`.",
                        nested.ident.span(),
                    );
                    continue;
                }
            };
            let name = attribute.key.as_str().to_string();
            let mut requirement = ProviderRequirement::default();
            match &attribute.value {
                Expression::Object(object) => {
                    for (key, value) in object.iter() {
                        let key_name = match key {
                            ObjectKey::Ident(ident) => ident.as_str().to_string(),
                            ObjectKey::Expression(Expression::String(s)) => s.value().clone(),
                            ObjectKey::Expression(other) => self.source_text(other),
                        };
                        match key_name.as_str() {
                            "source" | "version" => match self.literal(value.expr()) {
                                Some(Value::String(text)) => {
                                    if key_name == "source" {
                                        requirement.source = Some(text);
                                    } else {
                                        requirement.version = Some(text);
                                    }
                                }
                                Some(_) => self.error(
                                    "Invalid required_providers object",
                                    format!("The \"{key_name}\" of provider \"{name}\" must be a string."),
                                    value.expr().span(),
                                ),
                                None => {}
                            },
                            "configuration_aliases" => {
                                if let Expression::Array(items) = value.expr() {
                                    for item in items.iter() {
                                        if let Some(alias) = self.provider_ref(item) {
                                            requirement.configuration_aliases.push(alias);
                                        }
                                    }
                                } else {
                                    self.error(
                                        "Invalid required_providers object",
                                        "configuration_aliases must be a list of provider references, like [aws.west].",
                                        value.expr().span(),
                                    );
                                }
                            }
                            other => {
                                let diagnostic = Diagnostic::error("Invalid required_providers object")
                                    .with_detail(format!(
                                        "Unexpected attribute \"{other}\": a provider requirement has only source, version and configuration_aliases."
                                    ))
                                    .with_span_opt(self.span(key.span()))
                                    .with_suggestion(did_you_mean(other, ["source", "version", "configuration_aliases"]));
                                self.diagnostics.push(diagnostic);
                            }
                        }
                    }
                }
                other => match self.literal(other) {
                    // The Terraform 0.12 form: `aws = "~> 5.0"`, a version constraint only.
                    Some(Value::String(version)) => requirement.version = Some(version),
                    Some(_) => self.error(
                        "Invalid required_providers object",
                        "A provider requirement is an object: { source = \"hashicorp/aws\", version = \"~> 5.0\" }.",
                        other.span(),
                    ),
                    None => {}
                },
            }
            module
                .terraform
                .required_providers
                .insert(name, requirement);
        }
    }

    pub(super) fn backend(&mut self, module: &mut Module, block: &Block) {
        let Some(labels) = self.check_labels(block, &["type"]) else {
            return;
        };
        let span = self.header_span(block);
        if let Some(first) = &module.terraform.backend {
            self.diagnostics.push(
                Diagnostic::error("Duplicate backend configuration")
                    .with_detail(format!(
                        "A module may have only one backend configuration. The backend was previously configured at {}.",
                        location(&first.span)
                    ))
                    .with_span(span),
            );
            return;
        }
        let settings = self.literal_body(&block.body);
        module.terraform.backend = Some(BackendConfig {
            backend_type: labels[0].clone(),
            settings,
            span,
        });
    }

    /// A body of literal arguments (and nested blocks, as objects), as a backend takes.
    pub(super) fn literal_body(
        &mut self,
        body: &hcl_edit::structure::Body,
    ) -> BTreeMap<String, Value> {
        let mut settings = BTreeMap::new();
        for structure in body.iter() {
            match structure {
                Structure::Attribute(attribute) => {
                    if let Some(value) = self.literal(&attribute.value) {
                        settings.insert(attribute.key.as_str().to_string(), value);
                    }
                }
                Structure::Block(nested) => {
                    let value = Value::Object(self.literal_body(&nested.body));
                    settings.insert(nested.ident.as_str().to_string(), value);
                }
            }
        }
        settings
    }

    pub(super) fn provider_block(&mut self, module: &mut Module, block: &Block) {
        let Some(labels) = self.check_labels(block, &["name"]) else {
            return;
        };
        let span = self.header_span(block);
        let mut body = block.body.clone();
        let mut alias = None;
        if let Some(attribute) = body.remove_attribute("alias") {
            match self.literal_string(&attribute) {
                Some(name) if is_valid_name(&name) => alias = Some(name),
                Some(_) => self.error(
                    "Invalid provider configuration alias",
                    "An alias must be a valid name: a letter or underscore, then letters, digits, underscores and dashes.",
                    attribute.value.span(),
                ),
                None => {}
            }
        }
        if let Some(attribute) = body.remove_attribute("version") {
            self.warning(
                "Version constraints inside provider configuration blocks are deprecated",
                "Move the version constraint into the required_providers block of the terraform block.",
                attribute.key.span(),
            );
        }
        let name = labels[0].clone();
        if let Some(first) = module
            .providers
            .iter()
            .find(|existing| existing.name == name && existing.alias == alias)
        {
            let shown = ProviderRef {
                name: name.clone(),
                alias: alias.clone(),
            };
            let first = location(&first.span);
            self.diagnostics.push(
                Diagnostic::error("Duplicate provider configuration")
                    .with_detail(format!(
                        "A configuration for provider \"{shown}\" was already given at {first}. Each configuration for the same provider must have a distinct alias."
                    ))
                    .with_span(span),
            );
            return;
        }
        module.providers.push(ProviderConfig {
            name,
            alias,
            body: Body {
                file: self.file.clone(),
                body,
            },
            span,
        });
    }
}

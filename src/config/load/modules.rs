//! Decoding `module` blocks: the source and version, the meta-arguments and the `providers` map.

use super::{location, normalize_path, Decoder};
use crate::config::{Module, ModuleCall, ProviderRef};
use crate::diagnostics::Diagnostic;
use hcl_edit::expr::{Expression, ObjectKey};
use hcl_edit::structure::{Block, Structure};
use hcl_edit::Span as _;
use std::collections::BTreeMap;

impl Decoder<'_> {
    pub(super) fn module_block(&mut self, module: &mut Module, block: &Block) {
        let Some(labels) = self.check_labels(block, &["name"]) else {
            return;
        };
        let name = labels[0].clone();
        let span = self.header_span(block);
        let mut source = None;
        let mut version = None;
        let mut inputs = indexmap::IndexMap::new();
        let mut count = None;
        let mut for_each = None;
        let mut depends_on = Vec::new();
        let mut providers = BTreeMap::new();
        for structure in block.body.iter() {
            let attribute = match structure {
                Structure::Attribute(attribute) => attribute,
                Structure::Block(nested) => {
                    self.error(
                        "Unsupported block type",
                        format!(
                            "Blocks of type \"{}\" are not expected in a module block: module inputs are arguments (`name = value`).",
                            nested.ident.as_str()
                        ),
                        nested.ident.span(),
                    );
                    continue;
                }
            };
            match attribute.key.as_str() {
                "source" => {
                    if let Some(text) = self.literal_string(attribute) {
                        let source_span = self
                            .span(attribute.value.span())
                            .unwrap_or_else(|| span.clone());
                        module.call_source_spans.insert(name.clone(), source_span);
                        source = Some(text);
                    }
                }
                "version" => version = self.literal_string(attribute),
                "count" => count = Some((self.expr(&attribute.value), attribute.key.span())),
                "for_each" => for_each = Some((self.expr(&attribute.value), attribute.key.span())),
                "depends_on" => depends_on = self.depends_on(attribute),
                "providers" => providers = self.providers_map(&attribute.value),
                "lifecycle" => self.error(
                    "Reserved argument name in module block",
                    "The name \"lifecycle\" is reserved for use in a future version of Terraform.",
                    attribute.key.span(),
                ),
                input => {
                    inputs.insert(input.to_string(), self.expr(&attribute.value));
                }
            }
        }
        if let (Some(_), Some((_, for_each_span))) = (&count, &for_each) {
            self.error(
                "Invalid combination of \"count\" and \"for_each\"",
                "The \"count\" and \"for_each\" meta-arguments are mutually exclusive: only one may be used to be explicit about the number of module instances to be created.",
                for_each_span.clone(),
            );
        }
        let Some(source) = source else {
            if block.body.get_attribute("source").is_none() {
                self.diagnostics.push(
                    Diagnostic::error("Missing required argument")
                        .with_detail("The argument \"source\" is required in a module block, but no definition was found.")
                        .with_span(span),
                );
            }
            return;
        };
        if let Some(first) = module.module_calls.get(&name) {
            let first = location(&first.span);
            self.diagnostics.push(
                Diagnostic::error("Duplicate module call")
                    .with_detail(format!(
                        "A module call named \"{name}\" was already defined at {first}. Module calls must have unique names within a module."
                    ))
                    .with_span(span),
            );
            return;
        }
        let source_dir = normalize_path(&self.dir.join(&source));
        module.module_calls.insert(
            name.clone(),
            ModuleCall {
                name,
                source,
                version,
                source_dir,
                inputs,
                count: count.map(|(expr, _)| expr),
                for_each: for_each.map(|(expr, _)| expr),
                depends_on,
                providers,
                span,
            },
        );
    }

    /// `providers = { aws = aws.west, aws.child = aws }`.
    pub(super) fn providers_map(
        &mut self,
        expression: &Expression,
    ) -> BTreeMap<String, ProviderRef> {
        let mut out = BTreeMap::new();
        let Expression::Object(object) = expression else {
            self.error(
                "Invalid providers argument",
                "providers must be a map from the module's provider names to this module's configurations, like { aws = aws.west }.",
                expression.span(),
            );
            return out;
        };
        for (key, value) in object.iter() {
            let child = match key {
                ObjectKey::Ident(ident) => Some(ident.as_str().to_string()),
                ObjectKey::Expression(key_expr) => {
                    self.provider_ref(key_expr).map(|r| r.to_string())
                }
            };
            let parent = self.provider_ref(value.expr());
            if let (Some(child), Some(parent)) = (child, parent) {
                out.insert(child, parent);
            }
        }
        out
    }
}

//! Decoding `resource` and `data` blocks: the meta-arguments (`count`, `for_each`, `provider`,
//! `depends_on`), `lifecycle` with `ignore_changes`, `timeouts`, and the provisioners.

use super::{is_valid_name, location, traversal_names, Decoder};
use crate::addrs::{Resource, ResourceMode};
use crate::config::literal::literal_value;
use crate::config::shape::Shape;
use crate::config::{Body, Expr, IgnoreChanges, Lifecycle, Module, ProviderRef, ResourceConfig};
use crate::diagnostics::{Diagnostic, SourceFile, Span};
use crate::value::{AttrPath, PathStep, Value};
use hcl_edit::expr::{Expression, TraversalOperator};
use hcl_edit::structure::{Attribute, Block, Structure};
use hcl_edit::Span as _;
use std::collections::BTreeMap;
use std::sync::Arc;

impl Decoder<'_> {
    pub(super) fn quoted_reference_warning(&mut self, expression: &Expression) {
        self.warning(
            "Quoted references are deprecated",
            "In this context, references are expected literally rather than in quotes. Terraform 0.11 and earlier required quotes; remove them.",
            expression.span(),
        );
    }

    /// A bare provider reference, `aws` or `aws.west` (or the legacy quoted `"aws.west"`).
    pub(super) fn provider_ref(&mut self, expression: &Expression) -> Option<ProviderRef> {
        let text = match expression {
            Expression::String(s) => {
                self.quoted_reference_warning(expression);
                Some(s.value().clone())
            }
            _ => traversal_names(expression).map(|names| names.join(".")),
        };
        let parsed = text.as_deref().and_then(|text| {
            let mut parts = text.split('.');
            let name = parts.next()?.to_string();
            let alias = parts.next().map(str::to_string);
            (parts.next().is_none()
                && is_valid_name(&name)
                && alias.as_deref().is_none_or(is_valid_name))
            .then_some(ProviderRef { name, alias })
        });
        if parsed.is_none() {
            self.error(
                "Invalid provider reference",
                "A provider reference is a provider name, optionally followed by a dot and an alias: aws or aws.west.",
                expression.span(),
            );
        }
        parsed
    }

    /// `depends_on = [aws_vpc.main, module.network]`: each a static reference.
    pub(super) fn depends_on(&mut self, attribute: &Attribute) -> Vec<Expr> {
        let Expression::Array(items) = &attribute.value else {
            self.error(
                "Invalid depends_on",
                "depends_on must be a list of references, like [aws_vpc.main].",
                attribute.value.span(),
            );
            return Vec::new();
        };
        let mut out = Vec::new();
        for item in items.iter() {
            if traversal_names(item).is_some() || matches!(item, Expression::Traversal(_)) {
                out.push(self.expr(item));
            } else {
                self.error(
                    "Invalid depends_on reference",
                    "A single static reference to a resource, data source or module is required, like aws_vpc.main.",
                    item.span(),
                );
            }
        }
        out
    }

    pub(super) fn lifecycle(&mut self, block: &Block, mode: ResourceMode) -> Lifecycle {
        let mut lifecycle = Lifecycle::default();
        if self.check_labels(block, &[]).is_none() {
            return lifecycle;
        }
        let (attributes, what): (&[&str], &str) = match mode {
            ResourceMode::Managed => (
                &[
                    "create_before_destroy",
                    "prevent_destroy",
                    "ignore_changes",
                    "replace_triggered_by",
                ],
                "a resource's lifecycle block",
            ),
            ResourceMode::Data => (&[], "a data source's lifecycle block"),
        };
        self.check_shape(
            &block.body,
            &Shape {
                what,
                attributes,
                blocks: &["precondition", "postcondition"],
            },
        );
        if mode == ResourceMode::Managed {
            if let Some(attribute) = block.body.get_attribute("create_before_destroy") {
                lifecycle.create_before_destroy = self.literal_bool(attribute).unwrap_or(false);
            }
            if let Some(attribute) = block.body.get_attribute("prevent_destroy") {
                lifecycle.prevent_destroy = self.literal_bool(attribute).unwrap_or(false);
            }
            if let Some(attribute) = block.body.get_attribute("ignore_changes") {
                lifecycle.ignore_changes = self.ignore_changes(&attribute.value);
            }
            if let Some(attribute) = block.body.get_attribute("replace_triggered_by") {
                if let Expression::Array(items) = &attribute.value {
                    lifecycle.replace_triggered_by =
                        items.iter().map(|item| self.expr(item)).collect();
                } else {
                    self.error(
                        "Invalid replace_triggered_by",
                        "replace_triggered_by must be a list of references, like [aws_instance.web.id].",
                        attribute.value.span(),
                    );
                }
            }
        }
        for nested in block.body.iter().filter_map(Structure::as_block) {
            match nested.ident.as_str() {
                "precondition" => {
                    if let Some(condition) = self.condition_block(nested, "a precondition block") {
                        lifecycle.preconditions.push(condition);
                    }
                }
                "postcondition" => {
                    if let Some(condition) = self.condition_block(nested, "a postcondition block") {
                        lifecycle.postconditions.push(condition);
                    }
                }
                _ => {}
            }
        }
        lifecycle
    }

    pub(super) fn ignore_changes(&mut self, expression: &Expression) -> IgnoreChanges {
        match expression {
            Expression::Variable(name) if name.as_str() == "all" => IgnoreChanges::All,
            Expression::String(s) if s.value() == "all" => IgnoreChanges::All,
            Expression::Array(items) => {
                let mut paths = Vec::new();
                for item in items.iter() {
                    let path = match item {
                        // The Terraform 0.11 quoted form `"tags"`.
                        Expression::String(s) => {
                            self.quoted_reference_warning(item);
                            AttrPath::parse(s.value()).filter(|p| !p.is_root())
                        }
                        other => attr_path(other, &self.file),
                    };
                    match path {
                        Some(path) => paths.push(path),
                        None => self.error(
                            "Invalid ignore_changes",
                            "Each entry of ignore_changes is an attribute path of this resource, like tags or scaling_config[0].desired_size.",
                            item.span(),
                        ),
                    }
                }
                IgnoreChanges::Paths(paths)
            }
            other => {
                self.error(
                    "Invalid ignore_changes",
                    "ignore_changes is either the keyword all or a list of attribute paths, like [tags].",
                    other.span(),
                );
                IgnoreChanges::None
            }
        }
    }

    pub(super) fn timeouts(&mut self, block: &Block) -> BTreeMap<String, Expr> {
        let mut timeouts = BTreeMap::new();
        if self.check_labels(block, &[]).is_none() {
            return timeouts;
        }
        self.check_shape(
            &block.body,
            &Shape {
                what: "a timeouts block",
                attributes: &["create", "read", "update", "delete"],
                blocks: &[],
            },
        );
        for attribute in block.body.attributes() {
            timeouts.insert(
                attribute.key.as_str().to_string(),
                self.expr(&attribute.value),
            );
        }
        timeouts
    }

    /// A `resource` or `data` block (also the data source scoped in a `check` block).
    pub(super) fn resource_config(
        &mut self,
        block: &Block,
        mode: ResourceMode,
    ) -> Option<ResourceConfig> {
        let labels = self.check_labels(block, &["type", "name"])?;
        let addr = match mode {
            ResourceMode::Managed => Resource::managed(&labels[0], &labels[1]),
            ResourceMode::Data => Resource::data(&labels[0], &labels[1]),
        };
        let span = self.header_span(block);
        let mut body = block.body.clone();
        let count = body.remove_attribute("count").map(|a| self.expr(&a.value));
        let for_each = body.remove_attribute("for_each");
        if let (Some(_), Some(for_each)) = (&count, &for_each) {
            self.error(
                "Invalid combination of \"count\" and \"for_each\"",
                "The \"count\" and \"for_each\" meta-arguments are mutually exclusive: only one may be used to be explicit about the number of resources to be created.",
                for_each.key.span(),
            );
        }
        let for_each = for_each.map(|a| self.expr(&a.value));
        let depends_on = body
            .remove_attribute("depends_on")
            .map(|a| self.depends_on(&a))
            .unwrap_or_default();
        let explicit_provider = body
            .remove_attribute("provider")
            .and_then(|a| self.provider_ref(&a.value));
        let mut lifecycle = Lifecycle::default();
        let mut lifecycle_seen: Option<Span> = None;
        for nested in body.remove_blocks("lifecycle") {
            let nested_span = self.header_span(&nested);
            if let Some(first) = &lifecycle_seen {
                self.diagnostics.push(
                    Diagnostic::error("Duplicate lifecycle block")
                        .with_detail(format!(
                            "A lifecycle block was already given at {}; only one is allowed per resource.",
                            location(first)
                        ))
                        .with_span(nested_span),
                );
                continue;
            }
            lifecycle_seen = Some(nested_span);
            lifecycle = self.lifecycle(&nested, mode);
        }
        let mut timeouts = BTreeMap::new();
        for nested in body.remove_blocks("timeouts") {
            timeouts.extend(self.timeouts(&nested));
        }
        let provisioning = crate::config::provisioner::take_provisioning(
            &mut body,
            &self.file,
            mode == ResourceMode::Managed,
            self.diagnostics,
        );
        let provider = explicit_provider.clone().unwrap_or_else(|| ProviderRef {
            name: addr.implied_provider().to_string(),
            alias: None,
        });
        Some(ResourceConfig {
            addr,
            provider,
            provider_explicit: explicit_provider.is_some(),
            count,
            for_each,
            depends_on,
            lifecycle,
            timeouts,
            provisioning,
            body: Body {
                file: self.file.clone(),
                body,
            },
            span,
        })
    }

    pub(super) fn resource_block(
        &mut self,
        module: &mut Module,
        block: &Block,
        mode: ResourceMode,
    ) {
        let Some(config) = self.resource_config(block, mode) else {
            return;
        };
        if let Some(first) = module.resources.get(&config.addr) {
            let first = location(&first.span);
            let (kind, what) = match mode {
                ResourceMode::Managed => ("resource", "Duplicate resource configuration"),
                ResourceMode::Data => ("data source", "Duplicate data resource configuration"),
            };
            self.diagnostics.push(
                Diagnostic::error(what)
                    .with_detail(format!(
                        "A {kind} named \"{}\" was already declared at {first}. Resource names must be unique per type in each module.",
                        config.addr
                    ))
                    .with_span(config.span.clone()),
            );
            return;
        }
        module.resources.insert(config.addr.clone(), config);
    }
}

/// An attribute path written as a traversal: `tags`, `scaling_config[0].desired_size`,
/// `tags["Name"]`.
pub(super) fn attr_path(expression: &Expression, file: &Arc<SourceFile>) -> Option<AttrPath> {
    match expression {
        Expression::Variable(name) => Some(AttrPath::attr(name.as_str())),
        Expression::Traversal(traversal) => {
            let mut path = attr_path(&traversal.expr, file)?;
            for operator in &traversal.operators {
                let step = match operator.value() {
                    TraversalOperator::GetAttr(name) => PathStep::Attr(name.as_str().to_string()),
                    TraversalOperator::LegacyIndex(index) => {
                        PathStep::Index(i64::try_from(*index.value()).ok()?)
                    }
                    TraversalOperator::Index(index) => match literal_value(index, file).ok()? {
                        Value::Number(n) => PathStep::Index(n.to_i64()?),
                        Value::String(key) => PathStep::Key(key),
                        _ => return None,
                    },
                    TraversalOperator::AttrSplat(_) | TraversalOperator::FullSplat(_) => {
                        return None
                    }
                };
                path.0.push(step);
            }
            Some(path)
        }
        _ => None,
    }
}

//! Decoding the blocks that change what the state holds without a resource change: `moved`,
//! `import` and `removed`.

use super::Decoder;
use crate::config::shape::Shape;
use crate::config::{Import, Module, Moved, Removed};
use hcl_edit::expr::{Expression, TraversalOperator};
use hcl_edit::structure::Block;
use hcl_edit::Span as _;

impl Decoder<'_> {
    pub(super) fn moved_block(&mut self, module: &mut Module, block: &Block) {
        if self.check_labels(block, &[]).is_none() {
            return;
        }
        self.check_shape(
            &block.body,
            &Shape {
                what: "a moved block",
                attributes: &["from", "to"],
                blocks: &[],
            },
        );
        let from = self
            .required_attribute(block, "from")
            .map(|a| self.address(&a.value));
        let to = self
            .required_attribute(block, "to")
            .map(|a| self.address(&a.value));
        if let (Some(Some(from)), Some(Some(to))) = (from, to) {
            module.moved.push(Moved {
                from,
                to,
                span: self.header_span(block),
            });
        }
    }

    /// An address written as a bare traversal (`aws_instance.a[0]`, `module.x`).
    pub(super) fn address(&mut self, expression: &Expression) -> Option<String> {
        let valid = match expression {
            Expression::Variable(_) => true,
            Expression::Traversal(traversal) => {
                matches!(traversal.expr, Expression::Variable(_))
                    && traversal.operators.iter().all(|op| match op.value() {
                        TraversalOperator::GetAttr(_) | TraversalOperator::LegacyIndex(_) => true,
                        TraversalOperator::Index(index) => {
                            matches!(index, Expression::Number(_) | Expression::String(_))
                        }
                        _ => false,
                    })
            }
            _ => false,
        };
        if !valid {
            self.error(
                "Invalid address",
                "An address of a resource or module is required here, like aws_instance.web or module.network.",
                expression.span(),
            );
            return None;
        }
        Some(self.source_text(expression))
    }

    pub(super) fn import_block(&mut self, module: &mut Module, block: &Block) {
        if self.check_labels(block, &[]).is_none() {
            return;
        }
        self.check_shape(
            &block.body,
            &Shape {
                what: "an import block",
                attributes: &["to", "id", "provider", "for_each"],
                blocks: &[],
            },
        );
        let for_each = block
            .body
            .get_attribute("for_each")
            .map(|a| self.expr(&a.value));
        // With for_each the target's key is an expression (`aws_vpc.this[each.key]`): the
        // address is what precedes it.
        let mut key = None;
        let to = self.required_attribute(block, "to").map(|a| {
            if for_each.is_some() {
                if let Expression::Traversal(traversal) = &a.value {
                    if let Some(TraversalOperator::Index(index)) =
                        traversal.operators.last().map(|op| op.value())
                    {
                        key = Some(self.expr(index));
                        let text = self.source_text(&a.value);
                        return text.rfind('[').map(|at| text[..at].trim().to_string());
                    }
                }
                self.error(
                    "Invalid import address",
                    "With for_each, `to` names the resource with the instance key as an expression, like aws_vpc.this[each.key].",
                    a.value.span(),
                );
                return None;
            }
            self.address(&a.value)
        });
        let id = self
            .required_attribute(block, "id")
            .map(|a| self.expr(&a.value));
        let provider = block
            .body
            .get_attribute("provider")
            .and_then(|a| self.provider_ref(&a.value));
        if let (Some(Some(to)), Some(id)) = (to, id) {
            module.imports.push(Import {
                to,
                id,
                provider,
                for_each,
                key,
                span: self.header_span(block),
            });
        }
    }

    pub(super) fn removed_block(&mut self, module: &mut Module, block: &Block) {
        if self.check_labels(block, &[]).is_none() {
            return;
        }
        self.check_shape(
            &block.body,
            &Shape {
                what: "a removed block",
                attributes: &["from"],
                blocks: &["lifecycle", "connection", "provisioner"],
            },
        );
        let from = self
            .required_attribute(block, "from")
            .map(|a| self.address(&a.value));
        let provisioning = crate::config::provisioner::take_removed_provisioning(
            block,
            from.clone().flatten().as_deref(),
            &self.file,
            self.diagnostics,
        );
        let mut destroy = true;
        for nested in block.body.get_blocks("lifecycle") {
            self.check_shape(
                &nested.body,
                &Shape {
                    what: "a removed block's lifecycle block",
                    attributes: &["destroy"],
                    blocks: &[],
                },
            );
            if let Some(attribute) = nested.body.get_attribute("destroy") {
                destroy = self.literal_bool(attribute).unwrap_or(true);
            }
        }
        if let Some(Some(from)) = from {
            module.removed.push(Removed {
                from,
                destroy,
                provisioning,
                span: self.header_span(block),
            });
        }
    }
}

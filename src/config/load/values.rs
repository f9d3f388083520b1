//! Decoding the blocks that declare values and checks: `variable` (type, default, validation),
//! `locals`, `output` and `check`, with their conditions.

use super::{location, Decoder, RESERVED_VARIABLE_NAMES};
use crate::addrs::ResourceMode;
use crate::config::literal::literal_value;
use crate::config::shape::Shape;
use crate::config::type_constraint::{is_legacy_quoted, parse_type_constraint};
use crate::config::{Check, Condition, Local, Module, Output, ResourceConfig, Variable};
use crate::diagnostics::{Diagnostic, SourceFile};
use crate::value::{convert, Value};
use hcl_edit::expr::Expression;
use hcl_edit::structure::{Block, Structure};
use hcl_edit::Span as _;
use std::sync::Arc;

impl Decoder<'_> {
    pub(super) fn variable_block(&mut self, module: &mut Module, block: &Block) {
        let Some(labels) = self.check_labels(block, &["name"]) else {
            return;
        };
        let name = labels[0].clone();
        let span = self.header_span(block);
        if RESERVED_VARIABLE_NAMES.contains(&name.as_str()) {
            self.error(
                "Invalid variable name",
                format!("The variable name \"{name}\" is reserved: it is a meta-argument of module blocks."),
                block.labels.first().and_then(|l| l.span()),
            );
            return;
        }
        self.check_shape(
            &block.body,
            &Shape {
                what: "a variable block",
                attributes: &[
                    "type",
                    "default",
                    "description",
                    "sensitive",
                    "nullable",
                    "ephemeral",
                ],
                blocks: &["validation"],
            },
        );
        let mut variable = Variable {
            name: name.clone(),
            ty: None,
            default: None,
            description: None,
            sensitive: false,
            nullable: true,
            validations: Vec::new(),
            span: span.clone(),
        };
        if let Some(attribute) = block.body.get_attribute("type") {
            let expr = self.expr(&attribute.value);
            match parse_type_constraint(&expr) {
                Ok(ty) => {
                    if is_legacy_quoted(&expr) {
                        self.warning(
                            "Quoted type constraints are deprecated",
                            "Terraform 0.11 and earlier required type constraints in quotes; remove the quotes.",
                            attribute.value.span(),
                        );
                    }
                    variable.ty = Some(ty);
                }
                Err(error) => self.diagnostics.push(error),
            }
        }
        if let Some(attribute) = block.body.get_attribute("description") {
            variable.description = self.literal_string(attribute);
        }
        if let Some(attribute) = block.body.get_attribute("sensitive") {
            variable.sensitive = self.literal_bool(attribute).unwrap_or(false);
        }
        if let Some(attribute) = block.body.get_attribute("nullable") {
            variable.nullable = self.literal_bool(attribute).unwrap_or(true);
        }
        if let Some(attribute) = block.body.get_attribute("ephemeral") {
            self.literal_bool(attribute);
        }
        if let Some(attribute) = block.body.get_attribute("default") {
            if let Some(value) = self.literal(&attribute.value) {
                let converted = match &variable.ty {
                    Some(ty) => convert(value, ty).map_err(|error| {
                        format!(
                            "This default value is not compatible with the variable's type constraint: {error} (expected {}, got {}).",
                            ty.expression(),
                            literal_type_name(&attribute.value, &self.file)
                        )
                    }),
                    None => Ok(value),
                };
                match converted {
                    Ok(Value::Null) if !variable.nullable => self.error(
                        "Invalid default value for variable",
                        "A null default value is not valid when nullable = false.",
                        attribute.value.span(),
                    ),
                    Ok(value) => variable.default = Some(value),
                    Err(detail) => self.error(
                        "Invalid default value for variable",
                        detail,
                        attribute.value.span(),
                    ),
                }
            }
        }
        for nested in block.body.get_blocks("validation") {
            if let Some(condition) = self.condition_block(nested, "a validation block") {
                variable.validations.push(condition);
            }
        }
        if let Some(first) = module.variables.get(&name) {
            let first = location(&first.span);
            self.diagnostics.push(
                Diagnostic::error("Duplicate variable declaration")
                    .with_detail(format!(
                        "A variable named \"{name}\" was already declared at {first}. Variable names must be unique within a module."
                    ))
                    .with_span(span),
            );
            return;
        }
        module.variables.insert(name, variable);
    }

    /// `condition` + `error_message` (validation, precondition, postcondition, assert).
    pub(super) fn condition_block(&mut self, block: &Block, what: &str) -> Option<Condition> {
        self.check_labels(block, &[])?;
        self.check_shape(
            &block.body,
            &Shape {
                what,
                attributes: &["condition", "error_message"],
                blocks: &[],
            },
        );
        let condition = self.required_attribute(block, "condition");
        let error_message = self.required_attribute(block, "error_message");
        let (condition, error_message) = (condition?, error_message?);
        Some(Condition {
            condition: self.expr(&condition.value),
            error_message: self.expr(&error_message.value),
            span: self.header_span(block),
        })
    }

    pub(super) fn locals_block(&mut self, module: &mut Module, block: &Block) {
        if self.check_labels(block, &[]).is_none() {
            return;
        }
        for structure in block.body.iter() {
            match structure {
                Structure::Attribute(attribute) => {
                    let name = attribute.key.as_str().to_string();
                    let span = self
                        .span(attribute.key.span())
                        .unwrap_or_else(|| self.header_span(block));
                    if let Some(first) = module.locals.get(&name) {
                        let first = location(&first.span);
                        self.diagnostics.push(
                            Diagnostic::error("Duplicate local value definition")
                                .with_detail(format!(
                                    "A local value named \"{name}\" was already defined at {first}. Local value names must be unique within a module."
                                ))
                                .with_span(span),
                        );
                        continue;
                    }
                    module.locals.insert(
                        name.clone(),
                        Local {
                            name,
                            expr: self.expr(&attribute.value),
                            span,
                        },
                    );
                }
                Structure::Block(nested) => self.error(
                    "Unsupported block type",
                    "A locals block holds only arguments (`name = expression`).",
                    nested.ident.span(),
                ),
            }
        }
    }

    pub(super) fn output_block(&mut self, module: &mut Module, block: &Block) {
        let Some(labels) = self.check_labels(block, &["name"]) else {
            return;
        };
        let name = labels[0].clone();
        let span = self.header_span(block);
        self.check_shape(
            &block.body,
            &Shape {
                what: "an output block",
                attributes: &[
                    "value",
                    "description",
                    "sensitive",
                    "depends_on",
                    "ephemeral",
                ],
                blocks: &["precondition"],
            },
        );
        let value = self
            .required_attribute(block, "value")
            .map(|a| self.expr(&a.value));
        let description = block
            .body
            .get_attribute("description")
            .and_then(|a| self.literal_string(a));
        let sensitive = block
            .body
            .get_attribute("sensitive")
            .and_then(|a| self.literal_bool(a))
            .unwrap_or(false);
        if let Some(attribute) = block.body.get_attribute("ephemeral") {
            self.literal_bool(attribute);
        }
        let depends_on = block
            .body
            .get_attribute("depends_on")
            .map(|a| self.depends_on(a))
            .unwrap_or_default();
        let mut preconditions = Vec::new();
        for nested in block.body.get_blocks("precondition") {
            if let Some(condition) = self.condition_block(nested, "a precondition block") {
                preconditions.push(condition);
            }
        }
        if let Some(first) = module.outputs.get(&name) {
            let first = location(&first.span);
            self.diagnostics.push(
                Diagnostic::error("Duplicate output definition")
                    .with_detail(format!(
                        "An output named \"{name}\" was already defined at {first}. Output names must be unique within a module."
                    ))
                    .with_span(span),
            );
            return;
        }
        let Some(expr) = value else {
            return;
        };
        module.outputs.insert(
            name.clone(),
            Output {
                name,
                expr,
                description,
                sensitive,
                depends_on,
                preconditions,
                span,
            },
        );
    }

    pub(super) fn check_block(&mut self, module: &mut Module, block: &Block) {
        let Some(labels) = self.check_labels(block, &["name"]) else {
            return;
        };
        let name = labels[0].clone();
        let span = self.header_span(block);
        self.check_shape(
            &block.body,
            &Shape {
                what: "a check block",
                attributes: &[],
                blocks: &["data", "assert"],
            },
        );
        let mut data: Option<ResourceConfig> = None;
        let mut asserts = Vec::new();
        for nested in block.body.iter().filter_map(Structure::as_block) {
            match nested.ident.as_str() {
                "data" => {
                    let Some(config) = self.resource_config(nested, ResourceMode::Data) else {
                        continue;
                    };
                    if let Some(first) = &data {
                        let first = location(&first.span);
                        self.diagnostics.push(
                            Diagnostic::error("Multiple data resource blocks")
                                .with_detail(format!(
                                    "A check block may have at most one scoped data source; one was already given at {first}."
                                ))
                                .with_span(config.span.clone()),
                        );
                        continue;
                    }
                    data = Some(config);
                }
                "assert" => {
                    if let Some(condition) = self.condition_block(nested, "an assert block") {
                        asserts.push(condition);
                    }
                }
                _ => {}
            }
        }
        if asserts.is_empty() && !block.body.has_blocks("assert") {
            self.diagnostics.push(
                Diagnostic::error("Missing assert block")
                    .with_detail("A check block must have at least one assert block.")
                    .with_span(span.clone()),
            );
        }
        if let Some(first) = module.checks.iter().find(|check| check.name == name) {
            let first = location(&first.span);
            self.diagnostics.push(
                Diagnostic::error("Duplicate check block")
                    .with_detail(format!(
                        "A check block named \"{name}\" was already defined at {first}. Check names must be unique within a module."
                    ))
                    .with_span(span),
            );
            return;
        }
        module.checks.push(Check {
            name,
            data,
            asserts,
            span,
        });
    }
}

/// The type name of a literal expression's value, for "expected …, got …" messages.
pub(super) fn literal_type_name(expression: &Expression, file: &Arc<SourceFile>) -> String {
    literal_value(expression, file)
        .map(|value| value.friendly_type_name())
        .unwrap_or_else(|_| "an expression".into())
}

//! The state as `strata show` and `strata state show` print it, as Terraform does: one
//! `resource "type" "name" { ... }` per instance, attributes aligned (null ones left out), then
//! the nested blocks the provider schema declares as `name { ... }` sections, and the root
//! outputs last. Sensitive values print as `(sensitive value)`.

use super::nested::render_nested_signed;
use super::plan::modern_schema;
use super::schemas::Schemas;
use super::values::render_attribute_signed;
use crate::providers::{Block, Nesting};
use crate::state::State;
use crate::value::Value;
use std::fmt::Write as _;

/// Every instance of the state, then its outputs.
pub fn render_state(state: &State, schemas: &Schemas) -> String {
    let mut out = String::new();
    for (address, object) in &state.resources {
        let kind = match address.resource.mode {
            crate::addrs::ResourceMode::Managed => "resource",
            crate::addrs::ResourceMode::Data => "data",
        };
        let block = schemas.block(address.resource.mode, &address.resource.type_name);
        let _ = writeln!(
            out,
            "# {address}:\n{kind} \"{}\" \"{}\" {{",
            address.resource.type_name, address.resource.name
        );
        render_body(&object.value, block, false, 4, &mut out);
        out.push_str("}\n\n");
    }
    if state.outputs.is_empty() {
        // No blank line after the last resource, as in Terraform.
        out.pop();
    } else {
        out.push_str("\nOutputs:\n\n");
        out.push_str(&super::render_outputs(&state.outputs));
    }
    out
}

/// An object's attributes, then the nested blocks of `block`, at `indent`. Values render as
/// a plan renders them with blank signs (Terraform's `show` uses its plan renderer): maps with
/// quoted keys, JSON documents as `jsonencode(...)`, and in a legacy-SDK schema (not
/// `modern`, see [`modern_schema`]) an empty string as `null`, as Terraform shows it.
fn render_body(
    value: &Value,
    block: Option<&Block>,
    modern: bool,
    indent: usize,
    out: &mut String,
) {
    let modern = modern || block.is_none_or(modern_schema);
    if let Value::Sensitive(_) = value {
        let _ = writeln!(
            out,
            "{}# At least one attribute in this block is (or was) sensitive,\n{}# so its contents will not be displayed.",
            " ".repeat(indent),
            " ".repeat(indent)
        );
        return;
    }
    let Some(entries) = value.as_entries() else {
        return;
    };
    let is_block = |name: &str| block.is_some_and(|b| b.blocks.contains_key(name));
    let attributes: Vec<(&String, &Value)> = entries
        .iter()
        .filter(|(name, v)| !v.is_null() && !is_block(name))
        .collect();
    let width = attributes.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
    let pad = " ".repeat(indent);
    for (name, value) in &attributes {
        // Typed by the schema (a state file's map reads back as an object).
        let schema = block.and_then(|b| b.attributes.get(*name));
        let typed = schema.and_then(|a| crate::value::convert((*value).clone(), &a.ty).ok());
        let value = typed.as_ref().unwrap_or(value);
        let nested = schema.filter(|a| a.nested);
        // A nested attribute renders as in a plan with blank signs (Terraform's layout).
        let text = match nested {
            Some(attribute) => {
                render_nested_signed(value, &attribute.ty, indent.saturating_sub(2), " ")
            }
            None if !modern && value.as_str() == Some("") => "null".to_string(),
            None => render_attribute_signed(value, indent.saturating_sub(2), " "),
        };
        let _ = writeln!(out, "{pad}{name:<width$} = {text}");
    }
    let Some(block) = block else {
        return;
    };
    for (name, nested) in &block.blocks {
        let Some(value) = entries.get(name) else {
            continue;
        };
        let items: Vec<(String, &Value)> = match value {
            Value::List(items) | Value::Set(items) | Value::Tuple(items) => {
                items.iter().map(|item| (name.clone(), item)).collect()
            }
            // A map block's items are labelled by their keys: `listener "http" {`.
            Value::Map(items) | Value::Object(items) if nested.nesting == Nesting::Map => items
                .iter()
                .map(|(key, item)| (format!("{name} {key:?}"), item))
                .collect(),
            Value::Null => Vec::new(),
            single => vec![(name.clone(), single)],
        };
        for (index, (title, item)) in items.into_iter().enumerate() {
            // Terraform separates the blocks of a map by no blank line.
            if index == 0 || nested.nesting != Nesting::Map {
                out.push('\n');
            }
            let _ = writeln!(out, "{pad}{title} {{");
            render_body(item, Some(&nested.block), modern, indent + 4, out);
            let _ = writeln!(out, "{pad}}}");
        }
    }
}

//! Evaluating a block body against a provider schema block: every schema attribute present in
//! the result (null when unset) and converted to its type, nested blocks gathered as the
//! schema's nesting says, `dynamic` blocks expanded (nested ones too). Every error of the body
//! is reported, not only the first.

use super::eval::Evaluator;
use crate::diagnostics::{did_you_mean, Diagnostic, Diagnostics, Span};
use crate::providers::schema::{Block, Nesting};
use crate::value::{convert, Type, Value};
use hcl_edit::expr::Expression;
use hcl_edit::structure::{Body, Structure};
use hcl_edit::Span as _;
use std::collections::BTreeMap;
use std::ops::Range;

/// The blocks of one nested block type found in a body.
#[derive(Default)]
struct Collection {
    items: Vec<(Value, Option<Range<usize>>)>,
    /// A map block type's labels (`listener "http"`), one per item.
    keys: Vec<String>,
    /// A `dynamic` block's `for_each` was unknown: the whole collection is.
    unknown: bool,
    sensitive: bool,
}

/// A nested block type written as an attribute (`ingress = [{ ... }]`): each element becomes
/// one block; attributes an element leaves out are null, as in a block that does not set them.
fn attribute_as_blocks(
    evaluator: &mut Evaluator<'_>,
    attribute: &hcl_edit::structure::Attribute,
    nested: &crate::providers::schema::NestedBlock,
    collection: &mut Collection,
    errors: &mut Diagnostics,
) {
    let name = attribute.key.as_str();
    let value = match evaluator.eval(&attribute.value) {
        Ok(value) => value,
        Err(diags) => {
            errors.extend(diags);
            return;
        }
    };
    let Type::Object(mut object) = nested.block.value_type() else {
        return;
    };
    object.optional = object
        .attributes
        .keys()
        .map(|k| (k.clone(), None))
        .collect();
    let sensitive = value.contains_sensitive();
    match convert(value, &Type::list(Type::Object(object))) {
        Ok(Value::Unknown(_)) => collection.unknown = true,
        Ok(converted) => {
            collection.sensitive |= sensitive;
            let (plain, _) = converted.deep_unmark();
            for item in plain.as_seq().unwrap_or_default() {
                collection.items.push((item.clone(), attribute.key.span()));
            }
        }
        Err(conversion) => errors.push(error(
            "Incorrect attribute value type",
            format!(
                "Inappropriate value for attribute \"{name}\": {}.",
                if sensitive {
                    "a list of objects required".to_string()
                } else {
                    conversion.to_string()
                }
            ),
            evaluator.span(&attribute.value),
        )),
    }
}

/// Terraform's "attributes as blocks" rule (its `blocktoattr` package): an argument whose type
/// is a list or set of objects (`route`, `ingress` of SDKv2 providers, which plugins report as
/// attributes) may also be written as blocks, one per element, with every attribute of the
/// object optional. Returns the schema with such arguments turned into nested block types that
/// keep the attribute form, or `None` when it has none.
fn object_collections_as_blocks(schema: &Block) -> Option<Block> {
    let candidates: Vec<(&String, Nesting, &crate::value::ObjectType)> = schema
        .attributes
        .iter()
        .filter(|(_, a)| a.optional || a.required)
        .filter_map(|(name, a)| match &a.ty {
            Type::List(element) => Some((name, Nesting::List, element)),
            Type::Set(element) => Some((name, Nesting::Set, element)),
            _ => None,
        })
        .filter_map(|(name, nesting, element)| match element.as_ref() {
            Type::Object(object) => Some((name, nesting, object)),
            _ => None,
        })
        .collect();
    if candidates.is_empty() {
        return None;
    }
    let mut fixed = schema.clone();
    for (name, nesting, object) in candidates {
        let mut block = Block::new();
        for (attribute, ty) in &object.attributes {
            block.attributes.insert(
                attribute.clone(),
                crate::providers::schema::Attribute::optional(ty.clone()),
            );
        }
        fixed.attributes.remove(name);
        fixed.blocks.insert(
            name.clone(),
            crate::providers::schema::NestedBlock {
                nesting,
                block,
                min_items: 0,
                max_items: 0,
                force_new: false,
                computed: false,
                attribute_syntax: true,
            },
        );
    }
    Some(fixed)
}

fn error(summary: &str, detail: impl Into<String>, span: Option<Span>) -> Diagnostic {
    Diagnostic::error(summary)
        .with_detail(detail)
        .with_span_opt(span)
}

pub(crate) fn body_value(
    evaluator: &mut Evaluator<'_>,
    body: &Body,
    schema: &Block,
    block_span: Option<Span>,
    errors: &mut Diagnostics,
) -> Value {
    let fixed;
    let schema = match object_collections_as_blocks(schema) {
        Some(block) => {
            fixed = block;
            &fixed
        }
        None => schema,
    };
    // In JSON, a nested block is written as an argument holding an object (or objects): only
    // the schema tells which, so they become blocks here.
    let expanded;
    let body = if crate::config::json::is_from_json(&evaluator.file) {
        // A block type that may be written as an attribute takes a list of objects as it
        // is; one object is one block.
        expanded = crate::config::json::expand_blocks(body, |name, value| {
            schema.blocks.get(name).is_some_and(|n| {
                !n.attribute_syntax || matches!(value, hcl_edit::expr::Expression::Object(_))
            })
        });
        &expanded
    } else {
        body
    };
    let mut attributes: BTreeMap<String, Value> = BTreeMap::new();
    let mut seen: BTreeMap<&str, Option<Range<usize>>> = BTreeMap::new();
    let mut collections: BTreeMap<&str, Collection> = BTreeMap::new();
    for structure in body.iter() {
        match structure {
            Structure::Attribute(attribute) => {
                let name = attribute.key.as_str();
                let key_range = attribute.key.span();
                let key_span = || evaluator.at(key_range.clone());
                if let Some(previous) = seen.get(name) {
                    errors.push(error(
                        "Duplicate argument",
                        format!(
                            "The argument \"{name}\" was already set at {}. Each argument may be set only once.",
                            evaluator.at(previous.clone()).map(|s| s.to_string()).unwrap_or_default()
                        ),
                        key_span(),
                    ));
                    continue;
                }
                seen.insert(name, key_range.clone());
                if let Some(nested) = schema.blocks.get(name).filter(|n| n.attribute_syntax) {
                    attribute_as_blocks(
                        evaluator,
                        attribute,
                        nested,
                        collections.entry(name).or_default(),
                        errors,
                    );
                    continue;
                }
                let Some(attribute_schema) = schema.attributes.get(name) else {
                    let diagnostic = if schema.blocks.contains_key(name) {
                        error(
                            "Unsupported argument",
                            format!("An argument named \"{name}\" is not expected here. Did you mean to define a block of type \"{name}\"?"),
                            key_span(),
                        )
                    } else {
                        let diagnostic = error(
                            "Unsupported argument",
                            format!("An argument named \"{name}\" is not expected here."),
                            key_span(),
                        );
                        diagnostic.with_suggestion(did_you_mean(
                            name,
                            schema.attributes.keys().map(String::as_str),
                        ))
                    };
                    errors.push(diagnostic);
                    continue;
                };
                if attribute_schema.computed
                    && !attribute_schema.optional
                    && !attribute_schema.required
                {
                    errors.push(error(
                        "Value for unconfigurable attribute",
                        format!("Can't configure a value for \"{name}\": its value will be decided automatically based on the result of applying this configuration."),
                        key_span(),
                    ));
                    continue;
                }
                match evaluator.eval(&attribute.value) {
                    Err(diags) => errors.extend(diags),
                    Ok(value) => {
                        let sensitive = value.contains_sensitive();
                        match convert(value, &attribute_schema.ty) {
                            Ok(converted) => {
                                attributes.insert(name.to_string(), converted);
                            }
                            Err(conversion) => {
                                // A conversion error quotes the value: not when it is secret.
                                let reason = if sensitive {
                                    format!("{} required", attribute_schema.ty.friendly_name())
                                } else {
                                    conversion.to_string()
                                };
                                errors.push(error(
                                    "Incorrect attribute value type",
                                    format!(
                                        "Inappropriate value for attribute \"{name}\": {reason}."
                                    ),
                                    evaluator.span(&attribute.value),
                                ))
                            }
                        }
                    }
                }
            }
            Structure::Block(block) => {
                let type_name = block.ident.as_str();
                let range = block.ident.span();
                let span = || evaluator.at(range.clone());
                if type_name == "dynamic" {
                    dynamic_block(evaluator, block, schema, &mut collections, errors);
                    continue;
                }
                let Some(nested) = schema.blocks.get(type_name) else {
                    errors.push(unsupported_block(type_name, schema, span()));
                    continue;
                };
                let key = match nested.nesting {
                    Nesting::Map => match map_block_key(evaluator, block, errors) {
                        Some(key) => Some(key),
                        None => continue,
                    },
                    _ => {
                        if !block.labels.is_empty() {
                            errors.push(error(
                                &format!("Extraneous label for {type_name}"),
                                format!("No labels are expected for {type_name} blocks."),
                                evaluator.span(&block.labels[0]),
                            ));
                        }
                        None
                    }
                };
                let value = body_value(evaluator, &block.body, &nested.block, span(), errors);
                let collection = collections.entry(type_name).or_default();
                collection.items.push((value, range));
                collection.keys.extend(key);
            }
        }
    }
    for (name, attribute_schema) in &schema.attributes {
        if attribute_schema.required && !seen.contains_key(name.as_str()) {
            errors.push(error(
                "Missing required argument",
                format!("The argument \"{name}\" is required, but no definition was found."),
                block_span.clone(),
            ));
        }
        attributes.entry(name.clone()).or_insert(Value::Null);
    }
    for (name, nested) in &schema.blocks {
        // A block type that may be written as an attribute tells "not written" (null: the
        // provider keeps what is there) from "written empty" (`ingress = []`: none).
        if nested.attribute_syntax && !collections.contains_key(name.as_str()) {
            attributes.insert(name.clone(), Value::Null);
            continue;
        }
        let collection = collections.remove(name.as_str()).unwrap_or_default();
        let value = if collection.unknown {
            let block_type = nested.block.value_type();
            Value::Unknown(nested.nesting.wrap(block_type))
        } else {
            let count = collection.items.len();
            if count < nested.min_items {
                errors.push(error(
                    &format!("Insufficient {name} blocks"),
                    format!(
                        "At least {} \"{name}\" blocks are required.",
                        nested.min_items
                    ),
                    block_span.clone(),
                ));
            }
            match nested.nesting {
                Nesting::Map => {
                    map_blocks(evaluator, name, collection.keys, collection.items, errors)
                }
                Nesting::Single => {
                    if let (Some((_, first_span)), Some((_, second_span))) =
                        (collection.items.first(), collection.items.get(1))
                    {
                        errors.push(error(
                            &format!("Duplicate {name} block"),
                            format!(
                                "Only one {name} block is allowed. Another was defined at {}.",
                                evaluator
                                    .at(first_span.clone())
                                    .map(|s| s.to_string())
                                    .unwrap_or_default()
                            ),
                            evaluator.at(second_span.clone()),
                        ));
                    }
                    collection
                        .items
                        .into_iter()
                        .next()
                        .map_or(Value::Null, |(value, _)| value)
                }
                Nesting::List | Nesting::Set => {
                    if nested.max_items > 0 && count > nested.max_items {
                        let extra_span = collection
                            .items
                            .get(nested.max_items)
                            .and_then(|(_, range)| evaluator.at(range.clone()));
                        errors.push(error(
                            &format!("Too many {name} blocks"),
                            format!(
                                "No more than {} \"{name}\" blocks are allowed.",
                                nested.max_items
                            ),
                            extra_span,
                        ));
                    }
                    let items: Vec<Value> = collection
                        .items
                        .into_iter()
                        .map(|(value, _)| value)
                        .collect();
                    if nested.nesting == Nesting::List {
                        Value::List(items)
                    } else {
                        Value::set(items)
                    }
                }
            }
        };
        attributes.insert(name.clone(), value.mark_if(collection.sensitive));
    }
    Value::Object(attributes)
}

/// The one label of a block nested as a map (`listener "http" { }`), as HCL asks for it.
fn map_block_key(
    evaluator: &Evaluator<'_>,
    block: &hcl_edit::structure::Block,
    errors: &mut Diagnostics,
) -> Option<String> {
    let type_name = block.ident.as_str();
    if let Some(extra) = block.labels.get(1) {
        errors.push(error(
            &format!("Extraneous label for {type_name}"),
            format!("Only 1 labels (key) are expected for {type_name} blocks."),
            evaluator.span(extra),
        ));
        return None;
    }
    let Some(label) = block.labels.first() else {
        errors.push(error(
            &format!("Missing key for {type_name}"),
            format!("All {type_name} blocks must have 1 labels (key)."),
            evaluator.span(&block.ident),
        ));
        return None;
    };
    Some(label.as_str().to_string())
}

/// The blocks of a map block type as a map of objects by label; a label used twice is an
/// error at its second block.
fn map_blocks(
    evaluator: &Evaluator<'_>,
    name: &str,
    keys: Vec<String>,
    items: Vec<(Value, Option<Range<usize>>)>,
    errors: &mut Diagnostics,
) -> Value {
    let mut out: BTreeMap<String, (Value, Option<Range<usize>>)> = BTreeMap::new();
    for (key, (value, range)) in keys.into_iter().zip(items) {
        if let Some((_, first)) = out.get(&key) {
            let first = evaluator.at(first.clone());
            errors.push(error(
                &format!("Duplicate {name} block"),
                format!(
                    "A {name} block with the key {key:?} was already defined at {}. The keys must be unique.",
                    first.map(|s| s.to_string()).unwrap_or_default()
                ),
                evaluator.at(range.clone()),
            ));
            continue;
        }
        out.insert(key, (value, range));
    }
    Value::Map(
        out.into_iter()
            .map(|(key, (value, _))| (key, value))
            .collect(),
    )
}

fn unsupported_block(type_name: &str, schema: &Block, span: Option<Span>) -> Diagnostic {
    if schema.attributes.contains_key(type_name) {
        return error(
            "Unsupported block type",
            format!("Blocks of type \"{type_name}\" are not expected here. Did you mean to define argument \"{type_name}\"? If so, use the equals sign to assign it a value."),
            span,
        );
    }
    let diagnostic = error(
        "Unsupported block type",
        format!("Blocks of type \"{type_name}\" are not expected here."),
        span,
    );
    diagnostic.with_suggestion(did_you_mean(
        type_name,
        schema.blocks.keys().map(String::as_str),
    ))
}

/// Expands `dynamic "NAME" { for_each = ..., iterator = it, content { ... } }` into blocks of
/// type NAME, each evaluated with the iterator (`it.key`, `it.value`) in scope.
fn dynamic_block<'b>(
    evaluator: &mut Evaluator<'_>,
    block: &'b hcl_edit::structure::Block,
    schema: &'b Block,
    collections: &mut BTreeMap<&'b str, Collection>,
    errors: &mut Diagnostics,
) {
    let block_range = block.ident.span();
    let block_span = evaluator.at(block_range.clone());
    let Some(label) = block.labels.first() else {
        errors.push(error(
            "Missing name for dynamic",
            "All dynamic blocks must have 1 labels (name).",
            block_span,
        ));
        return;
    };
    if let Some(extra) = block.labels.get(1) {
        errors.push(error(
            "Extraneous label for dynamic",
            "Only 1 labels (name) are expected for dynamic blocks.",
            evaluator.span(extra),
        ));
    }
    let type_name = label.as_str();
    let Some((type_key, nested)) = schema.blocks.get_key_value(type_name) else {
        errors.push(unsupported_block(type_name, schema, evaluator.span(label)));
        return;
    };
    let mut for_each = None;
    let mut iterator = type_name;
    let mut labels = None;
    let mut content: Option<&hcl_edit::structure::Block> = None;
    for structure in block.body.iter() {
        match structure {
            Structure::Attribute(attribute) => match attribute.key.as_str() {
                "for_each" => for_each = Some(&attribute.value),
                "labels" => labels = Some(&attribute.value),
                "iterator" => match &attribute.value {
                    Expression::Variable(name) => iterator = name.as_str(),
                    other => errors.push(error(
                        "Invalid expression",
                        "A single static variable reference is required: only attribute access and indexing with constant keys. No calculations, function calls, template expressions, etc are allowed here.",
                        evaluator.span(other),
                    )),
                },
                name => errors.push(error(
                    "Unsupported argument",
                    format!("An argument named \"{name}\" is not expected here."),
                    evaluator.span(&attribute.key),
                )),
            },
            Structure::Block(inner) if inner.ident.as_str() == "content" => {
                if let Some(first) = content {
                    errors.push(error(
                        "Duplicate content block",
                        format!(
                            "Only one content block is allowed. Another was defined at {}.",
                            evaluator.span(&first.ident).map(|s| s.to_string()).unwrap_or_default()
                        ),
                        evaluator.span(&inner.ident),
                    ));
                } else {
                    content = Some(inner);
                }
            }
            Structure::Block(inner) => errors.push(error(
                "Unsupported block type",
                format!("Blocks of type \"{}\" are not expected here.", inner.ident.as_str()),
                evaluator.span(&inner.ident),
            )),
        }
    }
    let Some(for_each) = for_each else {
        errors.push(error(
            "Missing required argument",
            "The argument \"for_each\" is required, but no definition was found.",
            block_span,
        ));
        return;
    };
    let Some(content) = content else {
        errors.push(error(
            "Missing content block",
            "A content block is required.",
            block_span,
        ));
        return;
    };
    let collection_value = match evaluator.eval(for_each) {
        Ok(value) => value,
        Err(diags) => {
            errors.extend(diags);
            return;
        }
    };
    let collection = collections.entry(type_key.as_str()).or_default();
    let (collection_value, sensitive) = collection_value.unmark();
    collection.sensitive |= sensitive;
    let for_each_range = for_each.span();
    let for_each_span = evaluator.at(for_each_range.clone());
    let pairs = match collection_value {
        Value::Unknown(_) => {
            collection.unknown = true;
            return;
        }
        Value::Null => {
            errors.push(error(
                "Invalid dynamic for_each value",
                "Cannot use a null value in for_each.",
                for_each_span,
            ));
            return;
        }
        value @ (Value::List(_)
        | Value::Tuple(_)
        | Value::Set(_)
        | Value::Map(_)
        | Value::Object(_)) => match evaluator.iteration_pairs(value, for_each_range) {
            Ok(pairs) => pairs,
            Err(diags) => {
                errors.extend(diags);
                return;
            }
        },
        other => {
            errors.push(error(
                "Invalid dynamic for_each value",
                format!(
                    "Cannot use a {} value in for_each. An iterable collection is required.",
                    other.friendly_type_name()
                ),
                for_each_span,
            ));
            return;
        }
    };
    let content_span = evaluator.span(&content.ident);
    for (key, value) in pairs {
        evaluator.bind(
            iterator,
            Value::object([("key", key), ("value", value)]).mark_if(sensitive),
        );
        let errors_before = errors.len();
        let mut key = None;
        if let Some(labels_expr) = labels {
            match evaluator.eval(labels_expr) {
                Ok(labels_value) if nested.nesting == Nesting::Map => {
                    match labels_value.as_seq().and_then(|labels| match labels {
                        [one] => one.as_str().map(str::to_string),
                        _ => None,
                    }) {
                        Some(label) => key = Some(label),
                        None => errors.push(error(
                            "Invalid dynamic block labels",
                            format!("A {type_name} block takes exactly one label (key): the labels must be a list of one string."),
                            evaluator.span(labels_expr),
                        )),
                    }
                }
                Ok(labels_value)
                    if labels_value.as_seq().is_some_and(|items| !items.is_empty()) =>
                {
                    errors.push(error(
                        &format!("Extraneous label for {type_name}"),
                        format!("No labels are expected for {type_name} blocks."),
                        evaluator.span(labels_expr),
                    ));
                }
                Ok(_) => {}
                Err(diags) => errors.extend(diags),
            }
        }
        let item = body_value(
            evaluator,
            &content.body,
            &nested.block,
            content_span.clone(),
            errors,
        );
        evaluator.unbind(1);
        if nested.nesting == Nesting::Map && key.is_none() {
            if labels.is_none() {
                errors.push(error(
                    &format!("Missing key for {type_name}"),
                    format!("All {type_name} blocks must have 1 labels (key): set `labels` in the dynamic block."),
                    evaluator.at(block_range.clone()),
                ));
            }
            break;
        }
        let collection = collections.entry(type_key.as_str()).or_default();
        collection.items.push((item, block_range.clone()));
        collection.keys.extend(key);
        // The same mistake would repeat for every element: report it once.
        if errors.len() > errors_before {
            break;
        }
    }
}

//! Terraform's proposed new object (`objchange.ProposedNew` in Terraform's
//! `internal/plans/objchange`): what Terraform sends a provider as `proposed_new_state` in
//! `PlanResourceChange`. The configuration's values, except that an attribute the provider
//! computes keeps its prior value when the configuration leaves it null; nested blocks (and
//! protocol 6's nested attributes) are matched with their prior counterparts by index, by key,
//! or, for sets, by their non-computed attributes.
//!
//! It works on the plugin's own schema (the protocol's message), which keeps what Strata's
//! schema does not (`group` and `map` nesting, nested attributes). Values are unmarked.

use super::proto::schema as wire;
use crate::value::Value;
use std::collections::BTreeMap;

/// The proposed new object for a resource of schema `block`, from its prior state (`Null` for
/// a create) and its configuration.
pub fn proposed_new(block: &wire::Block, prior: &Value, config: &Value) -> Value {
    if config.is_null() && prior.is_null() {
        return Value::Null;
    }
    let empty;
    let prior = if prior.is_null() {
        empty = Value::Object(BTreeMap::new());
        &empty
    } else {
        prior
    };
    proposed_new_block(block, prior, config)
}

fn proposed_new_block(block: &wire::Block, prior: &Value, config: &Value) -> Value {
    if config.is_null() || config.is_unknown() {
        return prior.clone();
    }
    let mut attributes = proposed_new_attributes(&block.attributes, prior, config);
    for nested in &block.block_types {
        let name = &nested.type_name;
        let new = proposed_new_nested_block(nested, attr(prior, name), attr(config, name));
        attributes.insert(name.clone(), new);
    }
    Value::Object(attributes)
}

fn attr<'a>(value: &'a Value, name: &str) -> &'a Value {
    value.get_attr(name).unwrap_or(&Value::Null)
}

fn proposed_new_nested_block(nested: &wire::NestedBlock, prior: &Value, config: &Value) -> Value {
    if config.is_unknown() {
        return config.clone();
    }
    let default_block = wire::Block::default();
    let block = nested.block.as_ref().unwrap_or(&default_block);
    use wire::nested_block::NestingMode;
    match NestingMode::try_from(nested.nesting) {
        Ok(NestingMode::Single) if config.is_null() => Value::Null,
        Ok(NestingMode::Single) | Ok(NestingMode::Group) => proposed_new(block, prior, config),
        Ok(NestingMode::List) => by_index(prior, config, |p, c| proposed_new(block, p, c)),
        Ok(NestingMode::Map) => by_key(prior, config, |p, c| proposed_new(block, p, c)),
        Ok(NestingMode::Set) => by_set_match(
            prior,
            config,
            |element| block_computed_as_null(block, element),
            |p, c| proposed_new(block, p.unwrap_or(&Value::Null), c),
        ),
        _ => config.clone(),
    }
}

fn proposed_new_attributes(
    attributes: &[wire::Attribute],
    prior: &Value,
    config: &Value,
) -> BTreeMap<String, Value> {
    let mut out = BTreeMap::new();
    for attribute in attributes {
        let prior_value = attr(prior, &attribute.name);
        let config_value = attr(config, &attribute.name);
        let new = if attribute.computed && config_value.is_null() {
            prior_value.clone()
        } else if let (Some(object), false) = (&attribute.nested_type, config_value.is_unknown()) {
            proposed_new_nested_type(object, prior_value, config_value)
        } else {
            config_value.clone()
        };
        out.insert(attribute.name.clone(), new);
    }
    out
}

fn proposed_new_nested_type(object: &wire::Object, prior: &Value, config: &Value) -> Value {
    let attributes =
        |p: &Value, c: &Value| Value::Object(proposed_new_attributes(&object.attributes, p, c));
    use wire::object::NestingMode;
    match NestingMode::try_from(object.nesting) {
        Ok(NestingMode::Single) if config.is_null() => config.clone(),
        Ok(NestingMode::Single) => attributes(prior, config),
        Ok(NestingMode::List) if is_empty(config) => config.clone(),
        Ok(NestingMode::List) => by_index(prior, config, attributes),
        Ok(NestingMode::Map) if is_empty(config) => config.clone(),
        Ok(NestingMode::Map) => by_key(prior, config, attributes),
        Ok(NestingMode::Set) if is_empty(config) => config.clone(),
        Ok(NestingMode::Set) => by_set_match(
            prior,
            config,
            |element| attributes_computed_as_null(&object.attributes, element),
            |p, c| match p {
                Some(p) => attributes(p, c),
                None => c.clone(),
            },
        ),
        _ => config.clone(),
    }
}

fn is_empty(value: &Value) -> bool {
    value.is_null()
        || value.as_seq().is_some_and(<[Value]>::is_empty)
        || value.as_entries().is_some_and(BTreeMap::is_empty)
}

/// Elements correlated by position: an element without a prior counterpart is taken as
/// configured. A null configuration is an empty list (as blocks are never null in a list).
fn by_index(prior: &Value, config: &Value, merge: impl Fn(&Value, &Value) -> Value) -> Value {
    let prior_elements = prior.as_seq().unwrap_or(&[]);
    let elements: Vec<Value> = config
        .as_seq()
        .unwrap_or(&[])
        .iter()
        .enumerate()
        .map(|(index, element)| match prior_elements.get(index) {
            Some(prior_element) => merge(prior_element, element),
            None => element.clone(),
        })
        .collect();
    match config {
        Value::Tuple(_) => Value::Tuple(elements),
        _ => Value::List(elements),
    }
}

/// Elements correlated by key.
fn by_key(prior: &Value, config: &Value, merge: impl Fn(&Value, &Value) -> Value) -> Value {
    let empty = BTreeMap::new();
    let prior_entries = prior.as_entries().unwrap_or(&empty);
    let entries: BTreeMap<String, Value> = config
        .as_entries()
        .unwrap_or(&empty)
        .iter()
        .map(|(key, element)| {
            let new = match prior_entries.get(key) {
                Some(prior_element) => merge(prior_element, element),
                None => element.clone(),
            };
            (key.clone(), new)
        })
        .collect();
    match config {
        Value::Object(_) => Value::Object(entries),
        _ => Value::Map(entries),
    }
}

/// Set elements correlated by equality once computed attributes are nulled: a configured
/// element whose non-computed attributes match a prior element's takes that element's computed
/// values; each prior element matches at most once.
fn by_set_match(
    prior: &Value,
    config: &Value,
    compare_value: impl Fn(&Value) -> Value,
    merge: impl Fn(Option<&Value>, &Value) -> Value,
) -> Value {
    let prior_elements = prior.as_seq().unwrap_or(&[]);
    let compare: Vec<Value> = prior_elements.iter().map(&compare_value).collect();
    let mut used = vec![false; compare.len()];
    let mut elements = Vec::new();
    for element in config.as_seq().unwrap_or(&[]) {
        let found = compare
            .iter()
            .enumerate()
            .find(|(index, candidate)| !used[*index] && *candidate == element)
            .map(|(index, _)| index);
        let prior_element = found.map(|index| {
            used[index] = true;
            &prior_elements[index]
        });
        elements.push(merge(prior_element, element));
    }
    Value::set(elements)
}

/// A block element with every computed attribute (at any depth) null.
fn block_computed_as_null(block: &wire::Block, value: &Value) -> Value {
    let Value::Object(attributes) = attributes_computed_as_null(&block.attributes, value) else {
        return value.clone();
    };
    let mut attributes = attributes;
    for nested in &block.block_types {
        let Some(inner) = &nested.block else {
            continue;
        };
        if let Some(element) = attributes.get_mut(&nested.type_name) {
            *element = map_elements(element, |e| block_computed_as_null(inner, e));
        }
    }
    Value::Object(attributes)
}

fn attributes_computed_as_null(schema: &[wire::Attribute], value: &Value) -> Value {
    let Value::Object(attributes) = value else {
        return value.clone();
    };
    let mut attributes = attributes.clone();
    for attribute in schema {
        let Some(current) = attributes.get_mut(&attribute.name) else {
            continue;
        };
        if current.is_null() || current.is_unknown() {
            continue;
        }
        if attribute.computed {
            *current = Value::Null;
        } else if let Some(object) = &attribute.nested_type {
            *current = map_elements(current, |e| {
                attributes_computed_as_null(&object.attributes, e)
            });
        }
    }
    Value::Object(attributes)
}

/// `f` applied to a single object, or to each element of a collection of objects.
fn map_elements(value: &Value, f: impl Fn(&Value) -> Value) -> Value {
    match value {
        Value::List(elements) => Value::List(elements.iter().map(&f).collect()),
        Value::Tuple(elements) => Value::Tuple(elements.iter().map(&f).collect()),
        Value::Set(elements) => Value::set(elements.iter().map(&f).collect()),
        Value::Map(entries) => Value::Map(entries.iter().map(|(k, v)| (k.clone(), f(v))).collect()),
        Value::Object(_) => f(value),
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attribute(name: &str, optional: bool, computed: bool) -> wire::Attribute {
        wire::Attribute {
            name: name.into(),
            r#type: b"\"string\"".to_vec(),
            optional,
            computed,
            ..Default::default()
        }
    }

    fn schema() -> wire::Block {
        let rule = wire::Block {
            attributes: vec![
                attribute("port", true, false),
                attribute("rule_id", false, true),
            ],
            ..Default::default()
        };
        wire::Block {
            attributes: vec![
                attribute("name", true, false),
                attribute("id", false, true),
                attribute("description", true, true),
            ],
            block_types: vec![wire::NestedBlock {
                type_name: "rule".into(),
                block: Some(rule),
                nesting: wire::nested_block::NestingMode::Set as i32,
                ..Default::default()
            }],
            ..Default::default()
        }
    }

    fn s(text: &str) -> Value {
        Value::string(text)
    }

    #[test]
    fn computed_attributes_keep_their_prior_value_when_unset() {
        let prior = Value::object([
            ("name", s("a")),
            ("id", s("i-1")),
            ("description", s("default")),
            (
                "rule",
                Value::set(vec![Value::object([
                    ("port", s("80")),
                    ("rule_id", s("r-1")),
                ])]),
            ),
        ]);
        let config = Value::object([
            ("name", s("b")),
            ("id", Value::Null),
            ("description", Value::Null),
            (
                "rule",
                Value::set(vec![
                    Value::object([("port", s("80")), ("rule_id", Value::Null)]),
                    Value::object([("port", s("443")), ("rule_id", Value::Null)]),
                ]),
            ),
        ]);
        let proposed = proposed_new(&schema(), &prior, &config);
        let expected = Value::object([
            ("name", s("b")),
            ("id", s("i-1")),
            ("description", s("default")),
            (
                "rule",
                Value::set(vec![
                    Value::object([("port", s("80")), ("rule_id", s("r-1"))]),
                    Value::object([("port", s("443")), ("rule_id", Value::Null)]),
                ]),
            ),
        ]);
        assert_eq!(proposed, expected);
    }

    #[test]
    fn a_create_proposes_the_configuration() {
        let config = Value::object([
            ("name", s("b")),
            ("id", Value::Null),
            ("description", s("set")),
            ("rule", Value::set(vec![])),
        ]);
        assert_eq!(proposed_new(&schema(), &Value::Null, &config), config);
    }
}

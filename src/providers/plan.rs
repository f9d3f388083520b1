//! The plan a provider makes when it has nothing special to say: derived from the schema.
//!
//! For each attribute: the configured value when set; else, for computed attributes, the prior
//! value (or unknown when the instance is new or being replaced); else the schema default or
//! null. Attributes marked `force_new` whose value changes (or becomes unknown) make the change
//! a replacement. Nested list blocks are planned element by element.

use super::schema::{Block, Nesting};
use super::PlannedChange;
use crate::value::{AttrPath, PathStep, Value};
use std::collections::BTreeMap;

/// Plans a resource from its schema: see the module documentation.
pub fn default_plan(block: &Block, prior: Option<&Value>, config: &Value) -> PlannedChange {
    let mut requires_replace = Vec::new();
    let mut path = Vec::new();
    let planned = plan_block(
        block,
        prior,
        config,
        false,
        &mut path,
        &mut requires_replace,
    );
    if requires_replace.is_empty() || prior.is_none() {
        let requires_replace = if prior.is_none() {
            Vec::new()
        } else {
            requires_replace
        };
        return PlannedChange::new(planned, requires_replace);
    }
    // A replacement: computed attributes will be new, so they are unknown again.
    let mut ignored = Vec::new();
    let planned = plan_block(block, prior, config, true, &mut path, &mut ignored);
    PlannedChange::new(planned, requires_replace)
}

fn plan_block(
    block: &Block,
    prior: Option<&Value>,
    config: &Value,
    replacing: bool,
    path: &mut Vec<PathStep>,
    requires_replace: &mut Vec<AttrPath>,
) -> Value {
    let mut out = BTreeMap::new();
    for (name, attribute) in &block.attributes {
        path.push(PathStep::Attr(name.clone()));
        let configured = config.get_attr(name).cloned().unwrap_or(Value::Null);
        let prior_value = prior.and_then(|p| p.get_attr(name));
        let value = if empty_or_null(&configured)
            && prior_value.is_some_and(empty_or_null)
            && !configured.is_unknown()
        {
            // As the AWS provider (plugin SDK v2) has it, an empty collection or string and null
            // are the same: neither shows as a change to the other (the real provider stores
            // `""` for an optional string left out, as its state holds after a refresh).
            prior_value.cloned().unwrap_or(Value::Null)
        } else if !configured.is_null() {
            configured
        } else if attribute.computed {
            // As Terraform's proposed new state: a computed attribute the configuration leaves
            // unset keeps its prior value (even null) unless the object is new.
            match prior_value {
                Some(v) if !replacing => v.clone(),
                _ => Value::Unknown(attribute.ty.clone()),
            }
        } else {
            attribute.default.clone().unwrap_or(Value::Null)
        };
        if attribute.force_new {
            if let Some(prior_value) = prior_value {
                if value.equals(prior_value) != Some(true)
                    && !(value.is_unknown()
                        && attribute.computed
                        && configured_is_null(config, name))
                {
                    requires_replace.push(AttrPath(path.clone()));
                }
            }
        }
        out.insert(name.clone(), value.mark_if(attribute.sensitive));
        path.pop();
    }
    for (name, nested) in &block.blocks {
        path.push(PathStep::Attr(name.clone()));
        let configured = config.get_attr(name).cloned().unwrap_or(Value::Null);
        let prior_value = prior.and_then(|p| p.get_attr(name));
        let value = match nested.nesting {
            Nesting::Single => {
                if configured.is_null() {
                    if nested.computed {
                        prior_value.cloned().unwrap_or(Value::Null)
                    } else {
                        Value::Null
                    }
                } else {
                    plan_block(
                        &nested.block,
                        prior_value.filter(|v| !v.is_null()),
                        &configured,
                        replacing,
                        path,
                        requires_replace,
                    )
                }
            }
            Nesting::List => {
                let items = configured
                    .as_seq()
                    .map(<[Value]>::to_vec)
                    .unwrap_or_default();
                if items.is_empty() && nested.computed && !configured.is_unknown() {
                    prior_value.cloned().unwrap_or(Value::List(Vec::new()))
                } else if configured.is_unknown() {
                    configured.clone()
                } else {
                    let prior_items = prior_value.and_then(Value::as_seq).unwrap_or(&[]);
                    let planned = items
                        .iter()
                        .enumerate()
                        .map(|(i, item)| {
                            path.push(PathStep::Index(i as i64));
                            let v = plan_block(
                                &nested.block,
                                prior_items.get(i),
                                item,
                                replacing,
                                path,
                                requires_replace,
                            );
                            path.pop();
                            v
                        })
                        .collect();
                    Value::List(planned)
                }
            }
            Nesting::Set => {
                if configured.is_unknown() {
                    configured.clone()
                } else {
                    let items = configured
                        .as_seq()
                        .map(<[Value]>::to_vec)
                        .unwrap_or_default();
                    // Left out (null), or for a block type without the attribute form written
                    // as no blocks: a computed set keeps what the provider reported.
                    let left_out =
                        configured.is_null() || (items.is_empty() && !nested.attribute_syntax);
                    if left_out && nested.computed {
                        prior_value.cloned().unwrap_or(Value::Set(Vec::new()))
                    } else {
                        let prior_items = prior_value.and_then(Value::as_seq).unwrap_or(&[]);
                        // A set element keeps the computed values of a prior element that agrees
                        // with it on everything configured.
                        let planned = items
                            .iter()
                            .map(|item| {
                                let matching = prior_items
                                    .iter()
                                    .find(|p| agrees_on_configured(&nested.block, p, item));
                                let mut ignored = Vec::new();
                                plan_block(
                                    &nested.block,
                                    matching,
                                    item,
                                    replacing,
                                    &mut Vec::new(),
                                    &mut ignored,
                                )
                            })
                            .collect();
                        Value::set(planned)
                    }
                }
            }
            Nesting::Map => match configured.as_entries() {
                None => configured.clone(),
                Some(entries) => {
                    let planned = entries
                        .iter()
                        .map(|(key, item)| {
                            path.push(PathStep::Key(key.clone()));
                            let prior_item = prior_value.and_then(|p| p.get_attr(key));
                            let v = plan_block(
                                &nested.block,
                                prior_item,
                                item,
                                replacing,
                                path,
                                requires_replace,
                            );
                            path.pop();
                            (key.clone(), v)
                        })
                        .collect();
                    Value::Map(planned)
                }
            },
        };
        if nested.force_new {
            if let Some(prior_value) = prior_value {
                if value.equals(prior_value) != Some(true) {
                    requires_replace.push(AttrPath(path.clone()));
                }
            }
        }
        out.insert(name.clone(), value);
        path.pop();
    }
    Value::Object(out)
}

/// Null, or a known empty string, list, set, map or object.
fn empty_or_null(value: &Value) -> bool {
    match value.unmarked() {
        Value::Null => true,
        Value::String(text) => text.is_empty(),
        Value::List(items) | Value::Tuple(items) | Value::Set(items) => items.is_empty(),
        Value::Map(items) | Value::Object(items) => items.is_empty(),
        _ => false,
    }
}

fn configured_is_null(config: &Value, name: &str) -> bool {
    config.get_attr(name).is_none_or(Value::is_null)
}

fn agrees_on_configured(block: &Block, prior: &Value, config: &Value) -> bool {
    block.attributes.keys().all(|name| {
        let configured = config.get_attr(name).unwrap_or(&Value::Null);
        configured.is_null()
            || prior.get_attr(name).and_then(|p| p.equals(configured)) == Some(true)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::providers::schema::Attribute;
    use crate::value::Type;

    fn vpc_schema() -> Block {
        Block::new()
            .attr("id", Attribute::computed(Type::String))
            .attr("cidr_block", Attribute::required(Type::String).force_new())
            .attr(
                "enable_dns_support",
                Attribute::optional(Type::Bool).with_default(true),
            )
            .attr("tags", Attribute::optional(Type::map(Type::String)))
    }

    #[test]
    fn an_empty_string_and_null_are_no_change_either_way() {
        let schema = vpc_schema().attr("description", Attribute::optional(Type::String));
        let base = [
            ("id", Value::from("vpc-1")),
            ("cidr_block", Value::from("10.0.0.0/16")),
            ("enable_dns_support", Value::Bool(true)),
            ("tags", Value::Null),
        ];
        for (prior, configured) in [
            (Value::from(""), Value::Null),
            (Value::Null, Value::from("")),
        ] {
            let prior = Value::object(base.clone().into_iter().chain([("description", prior)]));
            let config = Value::object([
                ("cidr_block", Value::from("10.0.0.0/16")),
                ("description", configured),
            ]);
            let plan = default_plan(&schema, Some(&prior), &config);
            assert_eq!(plan.planned, prior);
        }
        let config = Value::object([
            ("cidr_block", Value::from("10.0.0.0/16")),
            ("description", Value::from("web")),
        ]);
        let prior = Value::object(base.into_iter().chain([("description", Value::from(""))]));
        let plan = default_plan(&schema, Some(&prior), &config);
        assert_eq!(
            plan.planned.get_attr("description"),
            Some(&Value::from("web"))
        );
    }

    #[test]
    fn create_leaves_computed_unknown() {
        let config = Value::object([("cidr_block", Value::from("10.0.0.0/16"))]);
        let plan = default_plan(&vpc_schema(), None, &config);
        assert_eq!(
            plan.planned.get_attr("id"),
            Some(&Value::Unknown(Type::String))
        );
        assert_eq!(
            plan.planned.get_attr("enable_dns_support"),
            Some(&Value::Bool(true))
        );
        assert!(plan.requires_replace.is_empty());
    }

    #[test]
    fn force_new_change_replaces_and_forgets_computed() {
        let prior = Value::object([
            ("id", Value::from("vpc-1")),
            ("cidr_block", Value::from("10.0.0.0/16")),
            ("enable_dns_support", Value::Bool(true)),
            ("tags", Value::Null),
        ]);
        let same = default_plan(
            &vpc_schema(),
            Some(&prior),
            &Value::object([("cidr_block", Value::from("10.0.0.0/16"))]),
        );
        assert_eq!(same.planned, prior);
        assert!(same.requires_replace.is_empty());
        let changed = default_plan(
            &vpc_schema(),
            Some(&prior),
            &Value::object([("cidr_block", Value::from("10.1.0.0/16"))]),
        );
        assert_eq!(changed.requires_replace, vec![AttrPath::attr("cidr_block")]);
        assert!(changed.planned.get_attr("id").unwrap().is_unknown());
    }
}

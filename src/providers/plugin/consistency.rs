//! Terraform's checks of what a provider answers (`internal/plans/objchange`:
//! `AssertPlanValid` on PlanResourceChange, `AssertObjectCompatible` on ApplyResourceChange),
//! in a simpler form: each returns the problems found, as `.path: what` lines.
//!
//! - Plan: an attribute the configuration sets must be planned as set; a non-computed attribute
//!   left out must be planned null (nested blocks checked element by element where they are
//!   lists or single; set elements are not matched up).
//! - Apply: every value known in the plan must come back unchanged (unknown ones may become
//!   anything; a set holding unknowns is not compared).
//!
//! A provider that declares the legacy type system (SDKv2) gets away with violations: the
//! caller logs them as warnings, as Terraform does; any other provider's violations are errors.

use crate::providers::schema::{Block, Nesting};
use crate::value::Value;

/// Problems of a planned object against the configuration.
pub fn plan_problems(block: &Block, config: &Value, planned: &Value) -> Vec<String> {
    let mut problems = Vec::new();
    check_plan(block, config, planned, "", &mut problems);
    problems
}

fn check_plan(block: &Block, config: &Value, planned: &Value, at: &str, out: &mut Vec<String>) {
    if config.is_null() || config.is_unknown() || planned.is_unknown() {
        return;
    }
    for (name, attribute) in &block.attributes {
        let configured = config.get_attr(name).unwrap_or(&Value::Null);
        let plan = planned.get_attr(name).unwrap_or(&Value::Null);
        let path = format!("{at}.{name}");
        if !configured.is_null() {
            if !compatible(configured, plan) {
                out.push(format!(
                    "{path}: planned value {} does not match config value {}",
                    shown(plan),
                    shown(configured)
                ));
            }
        } else if !attribute.computed && !plan.is_null() {
            out.push(format!(
                "{path}: planned value {} for a non-computed attribute",
                shown(plan)
            ));
        }
    }
    for (name, nested) in &block.blocks {
        let configured = config.get_attr(name).unwrap_or(&Value::Null);
        let plan = planned.get_attr(name).unwrap_or(&Value::Null);
        let path = format!("{at}.{name}");
        match nested.nesting {
            Nesting::Single => check_plan(&nested.block, configured, plan, &path, out),
            Nesting::List => {
                let (Some(configured), Some(plan)) = (configured.as_seq(), plan.as_seq()) else {
                    continue;
                };
                if configured.len() != plan.len() && !nested.computed {
                    out.push(format!(
                        "{path}: block count in plan ({}) disagrees with count in config ({})",
                        plan.len(),
                        configured.len()
                    ));
                    continue;
                }
                for (i, (c, p)) in configured.iter().zip(plan).enumerate() {
                    check_plan(&nested.block, c, p, &format!("{path}[{i}]"), out);
                }
            }
            Nesting::Map => {
                let (Some(configured), Some(plan)) = (configured.as_entries(), plan.as_entries())
                else {
                    continue;
                };
                for (key, c) in configured {
                    match plan.get(key) {
                        Some(p) => {
                            check_plan(&nested.block, c, p, &format!("{path}[{key:?}]"), out)
                        }
                        None => out.push(format!("{path}: block key {key:?} has vanished")),
                    }
                }
            }
            Nesting::Set => {}
        }
    }
}

/// Problems of an applied object against its plan.
pub fn apply_problems(planned: &Value, actual: &Value) -> Vec<String> {
    let mut problems = Vec::new();
    check_applied(planned, actual, "", &mut problems);
    problems
}

fn check_applied(planned: &Value, actual: &Value, at: &str, out: &mut Vec<String>) {
    if planned.is_unknown() {
        return;
    }
    match (planned, actual) {
        (Value::Object(p), Value::Object(a)) | (Value::Map(p), Value::Map(a))
            if keys_match(p, a) =>
        {
            for (key, value) in p {
                let step = match planned {
                    Value::Object(_) => format!("{at}.{key}"),
                    _ => format!("{at}[{key:?}]"),
                };
                check_applied(value, &a[key], &step, out);
            }
        }
        (Value::List(p), Value::List(a)) | (Value::Tuple(p), Value::Tuple(a))
            if p.len() == a.len() =>
        {
            for (i, (p, a)) in p.iter().zip(a).enumerate() {
                check_applied(p, a, &format!("{at}[{i}]"), out);
            }
        }
        (Value::Set(p), _) if !p.iter().all(Value::is_wholly_known) => {}
        _ if planned.equals(actual) == Some(true) => {}
        _ => out.push(format!(
            "{}: was {}, but now {}",
            if at.is_empty() { "root object" } else { at },
            shown(planned),
            shown(actual)
        )),
    }
}

fn keys_match(
    p: &std::collections::BTreeMap<String, Value>,
    a: &std::collections::BTreeMap<String, Value>,
) -> bool {
    p.len() == a.len() && p.keys().all(|k| a.contains_key(k))
}

/// Whether `planned` may stand for `configured` (unknowns in either are taken on trust).
fn compatible(configured: &Value, planned: &Value) -> bool {
    !configured.is_wholly_known()
        || !planned.is_wholly_known()
        || configured.equals(planned) == Some(true)
}

/// A value in a problem line: sensitive ones are not shown.
fn shown(value: &Value) -> String {
    if value.contains_sensitive() {
        return "(sensitive value)".into();
    }
    crate::ui::render_plain(value, 0).replace('\n', " ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::providers::schema::Attribute;
    use crate::value::Type;

    fn block() -> Block {
        Block::new()
            .attr("id", Attribute::computed(Type::String))
            .attr("name", Attribute::required(Type::String))
            .attr("note", Attribute::optional(Type::String))
    }

    fn thing(id: Value, name: &str, note: Value) -> Value {
        Value::object([("id", id), ("name", Value::from(name)), ("note", note)])
    }

    #[test]
    fn a_plan_must_keep_what_the_configuration_sets() {
        let config = thing(Value::Null, "a", Value::Null);
        let good = thing(Value::Unknown(Type::String), "a", Value::Null);
        assert!(plan_problems(&block(), &config, &good).is_empty());
        let renamed = thing(Value::Unknown(Type::String), "b", Value::from("x"));
        assert_eq!(
            plan_problems(&block(), &config, &renamed),
            vec![
                ".name: planned value \"b\" does not match config value \"a\"".to_string(),
                ".note: planned value \"x\" for a non-computed attribute".to_string(),
            ]
        );
    }

    #[test]
    fn an_apply_must_keep_what_was_known_in_the_plan() {
        let planned = thing(Value::Unknown(Type::String), "a", Value::Null);
        let applied = thing(Value::from("i-1"), "a", Value::Null);
        assert!(apply_problems(&planned, &applied).is_empty());
        let changed = thing(Value::from("i-1"), "b", Value::Null);
        assert_eq!(
            apply_problems(&planned, &changed),
            vec![".name: was \"a\", but now \"b\"".to_string()]
        );
    }
}

//! Terraform's checks of what a provider answers (`internal/plans/objchange`:
//! `AssertPlanValid` on PlanResourceChange, `AssertObjectCompatible` on ApplyResourceChange),
//! in a simpler form: each returns the problems found, as `.path: what` lines.
//!
//! - Plan: an attribute the configuration sets must be planned as set; a non-computed attribute
//!   left out must be planned null (nested blocks checked element by element where they are
//!   lists, maps or single; a set of blocks only by its count, since set elements have no
//!   identity to correlate them by, as in Terraform).
//! - Apply: every value known in the plan must come back unchanged (unknown ones may become
//!   anything); set elements are matched up as Terraform's `assertSetValuesCompatible` does:
//!   every planned element must be compatible with some actual element, and then every actual
//!   element with some planned one.
//!
//! A provider that declares the legacy type system (SDKv2) gets away with violations: the
//! caller logs them as warnings, as Terraform does; any other provider's violations are errors.

use crate::providers::schema::{Block, NestedBlock, Nesting};
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
                if block_count_disagrees(nested, configured, plan, &path, out) {
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
            Nesting::Set => {
                let (Some(configured), Some(plan)) = (configured.as_seq(), plan.as_seq()) else {
                    continue;
                };
                block_count_disagrees(nested, configured, plan, &path, out);
            }
        }
    }
}

/// Terraform's block-count check for list and set blocks: a non-computed block must keep as
/// many elements in the plan as the configuration has; the problem goes to `out`.
fn block_count_disagrees(
    nested: &NestedBlock,
    configured: &[Value],
    plan: &[Value],
    path: &str,
    out: &mut Vec<String>,
) -> bool {
    let disagrees = configured.len() != plan.len() && !nested.computed;
    if disagrees {
        out.push(format!(
            "{path}: block count in plan ({}) disagrees with count in config ({})",
            plan.len(),
            configured.len()
        ));
    }
    disagrees
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
        (Value::Set(p), Value::Set(a)) => check_set(p, a, at, out),
        _ if planned.equals(actual) == Some(true) => {}
        _ => out.push(format!(
            "{}: was {}, but now {}",
            if at.is_empty() { "root object" } else { at },
            shown(planned),
            shown(actual)
        )),
    }
}

/// Terraform's `assertSetValuesCompatible`: each planned element must be compatible with
/// some actual one (reported first, and alone when any is not), then each actual element with
/// some planned one.
fn check_set(planned: &[Value], actual: &[Value], at: &str, out: &mut Vec<String>) {
    let matches = |p: &Value, a: &Value| {
        let mut problems = Vec::new();
        check_applied(p, a, at, &mut problems);
        problems.is_empty()
    };
    let at = if at.is_empty() { "root object" } else { at };
    let unmatched_planned: Vec<&Value> = planned
        .iter()
        .filter(|p| !actual.iter().any(|a| matches(p, a)))
        .collect();
    for element in &unmatched_planned {
        out.push(format!(
            "{at}: planned set element {} does not correlate with any element in actual",
            shown(element)
        ));
    }
    if !unmatched_planned.is_empty() {
        return;
    }
    for element in actual
        .iter()
        .filter(|a| !planned.iter().any(|p| matches(p, a)))
    {
        out.push(format!(
            "{at}: actual set element {} does not correlate with any element in plan",
            shown(element)
        ));
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
    fn set_elements_are_matched_up_whatever_their_order_and_unknowns() {
        let rule = |port: i64, id: Value| Value::object([("port", Value::from(port)), ("id", id)]);
        let unknown = || Value::Unknown(Type::String);
        let planned = Value::set(vec![rule(80, unknown()), rule(443, Value::from("r-2"))]);
        let applied = Value::set(vec![
            rule(443, Value::from("r-2")),
            rule(80, Value::from("r-1")),
        ]);
        assert!(apply_problems(&planned, &applied).is_empty());
        let lost = Value::set(vec![
            rule(443, Value::from("r-2")),
            rule(8080, Value::from("r-1")),
        ]);
        let problems = apply_problems(&planned, &lost);
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(
            problems[0].starts_with("root object: planned set element"),
            "{problems:?}"
        );
        let extra = Value::set(vec![
            rule(80, Value::from("r-1")),
            rule(443, Value::from("r-2")),
            rule(22, Value::from("r-3")),
        ]);
        let problems = apply_problems(&planned, &extra);
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(problems[0].contains("actual set element"), "{problems:?}");
        assert!(problems[0].contains("22"), "{problems:?}");
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

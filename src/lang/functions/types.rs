//! Type functions: tobool, tolist, tomap, tonumber, toset, tostring, type, and the sensitivity
//! functions sensitive, nonsensitive and issensitive.
//!
//! The `to*` functions convert as Terraform's explicit conversions do: nulls stay null,
//! unknowns become unknowns of the target type, and a failed conversion names both types
//! (never the value, when it is sensitive).

use super::{arg_error, returns, FunctionContext, FunctionError, FunctionSpec, Param};
use crate::value::{convert, Type, Value};

pub(super) fn functions() -> Vec<FunctionSpec> {
    let value = || Param::any("v").allow_null().allow_unknown().allow_marked();
    vec![
        FunctionSpec::new("tobool", vec![value()], |_| Type::Bool, tobool).handles_marks(),
        FunctionSpec::new("tonumber", vec![value()], |_| Type::Number, tonumber).handles_marks(),
        FunctionSpec::new("tostring", vec![value()], |_| Type::String, tostring).handles_marks(),
        FunctionSpec::new("tolist", vec![value()], |_| Type::list(Type::Any), tolist)
            .handles_marks(),
        FunctionSpec::new("tomap", vec![value()], |_| Type::map(Type::Any), tomap).handles_marks(),
        FunctionSpec::new("toset", vec![value()], |_| Type::set(Type::Any), toset).handles_marks(),
        FunctionSpec::new(
            "type",
            vec![Param::any("value").allow_null().allow_unknown()],
            returns::string,
            type_function,
        ),
        FunctionSpec::new(
            "sensitive",
            vec![Param::any("value")
                .allow_null()
                .allow_unknown()
                .allow_marked()],
            returns::first,
            sensitive,
        )
        .handles_marks(),
        FunctionSpec::new(
            "issensitive",
            vec![Param::any("value")
                .allow_null()
                .allow_unknown()
                .allow_marked()],
            returns::bool,
            issensitive,
        )
        .handles_marks(),
        FunctionSpec::new(
            "nonsensitive",
            vec![Param::any("value")
                .allow_null()
                .allow_unknown()
                .allow_marked()],
            returns::first,
            nonsensitive,
        )
        .handles_marks(),
    ]
}

/// How Terraform names a conversion target in messages.
fn constraint_name(ty: &Type) -> String {
    match ty {
        Type::Any => "any type".to_string(),
        Type::List(e) if **e == Type::Any => "list of any single type".to_string(),
        Type::Set(e) if **e == Type::Any => "set of any single type".to_string(),
        Type::Map(e) if **e == Type::Any => "map of any single type".to_string(),
        other => other.friendly_name(),
    }
}

/// Converts as the `to*` functions do. They see their argument with its marks (the table
/// marks them `handles_marks`) so that the error for a sensitive value can say so.
fn convert_to(value: Value, want: &Type) -> Result<Value, FunctionError> {
    let sensitive_inside = value.contains_sensitive();
    let (value, sensitive) = value.unmark();
    if value.is_null() {
        return Ok(Value::Null.mark_if(sensitive));
    }
    if let Value::Unknown(known_type) = &value {
        let ty = super::refine(known_type, want);
        return Ok(Value::Unknown(ty).mark_if(sensitive));
    }
    let got = value.type_of();
    let converted = convert(value.clone(), want).map_err(|_| {
        let message = if sensitive_inside {
            format!(
                "cannot convert this sensitive {} to {}",
                got.friendly_name(),
                constraint_name(want)
            )
        } else {
            match (&value, want) {
                (Value::String(text), Type::Bool) => format!(
                    "cannot convert {text:?} to bool; only the strings \"true\" or \"false\" are allowed"
                ),
                (Value::String(text), Type::Number) => format!(
                    "cannot convert {text:?} to number; given string must be a decimal representation of a number"
                ),
                _ => format!("cannot convert {} to {}", got.friendly_name(), constraint_name(want)),
            }
        };
        arg_error(0, message)
    })?;
    Ok(converted.mark_if(sensitive))
}

fn tobool(args: Vec<Value>, _: &FunctionContext) -> Result<Value, FunctionError> {
    convert_to(args.into_iter().next().unwrap_or(Value::Null), &Type::Bool)
}

fn tonumber(args: Vec<Value>, _: &FunctionContext) -> Result<Value, FunctionError> {
    convert_to(
        args.into_iter().next().unwrap_or(Value::Null),
        &Type::Number,
    )
}

fn tostring(args: Vec<Value>, _: &FunctionContext) -> Result<Value, FunctionError> {
    convert_to(
        args.into_iter().next().unwrap_or(Value::Null),
        &Type::String,
    )
}

fn tolist(args: Vec<Value>, _: &FunctionContext) -> Result<Value, FunctionError> {
    convert_to(
        args.into_iter().next().unwrap_or(Value::Null),
        &Type::list(Type::Any),
    )
}

fn tomap(args: Vec<Value>, _: &FunctionContext) -> Result<Value, FunctionError> {
    convert_to(
        args.into_iter().next().unwrap_or(Value::Null),
        &Type::map(Type::Any),
    )
}

fn toset(args: Vec<Value>, _: &FunctionContext) -> Result<Value, FunctionError> {
    convert_to(
        args.into_iter().next().unwrap_or(Value::Null),
        &Type::set(Type::Any),
    )
}

fn type_function(args: Vec<Value>, _: &FunctionContext) -> Result<Value, FunctionError> {
    Ok(Value::from(type_string(&args[0].type_of(), 0)))
}

/// A type as Terraform's console prints the result of `type(...)`: structural types over
/// several lines with four-space indentation.
pub(crate) fn type_string(ty: &Type, indent: usize) -> String {
    let pad = " ".repeat(indent + 4);
    let close = " ".repeat(indent);
    match ty {
        Type::Any => "dynamic".to_string(),
        Type::Bool => "bool".to_string(),
        Type::Number => "number".to_string(),
        Type::String => "string".to_string(),
        Type::List(e) => format!("list({})", type_string(e, indent)),
        Type::Set(e) => format!("set({})", type_string(e, indent)),
        Type::Map(e) => format!("map({})", type_string(e, indent)),
        Type::Tuple(items) if items.is_empty() => "tuple([])".to_string(),
        Type::Tuple(items) => {
            let lines: String = items
                .iter()
                .map(|item| format!("{pad}{},\n", type_string(item, indent + 4)))
                .collect();
            format!("tuple([\n{lines}{close}])")
        }
        Type::Object(object) if object.attributes.is_empty() => "object({})".to_string(),
        Type::Object(object) => {
            let lines: String = object
                .attributes
                .iter()
                .map(|(name, item)| format!("{pad}{name}: {},\n", type_string(item, indent + 4)))
                .collect();
            format!("object({{\n{lines}{close}}})")
        }
    }
}

fn sensitive(args: Vec<Value>, _: &FunctionContext) -> Result<Value, FunctionError> {
    Ok(args
        .into_iter()
        .next()
        .unwrap_or(Value::Null)
        .mark_sensitive())
}

fn issensitive(args: Vec<Value>, _: &FunctionContext) -> Result<Value, FunctionError> {
    Ok(match args.first() {
        Some(Value::Sensitive(_)) => Value::Bool(true),
        Some(Value::Unknown(_)) => Value::Unknown(Type::Bool),
        _ => Value::Bool(false),
    })
}

fn nonsensitive(args: Vec<Value>, _: &FunctionContext) -> Result<Value, FunctionError> {
    Ok(args.into_iter().next().unwrap_or(Value::Null).unmark().0)
}

//! Values to and from JSON, as state files and `jsonencode` write them.

use super::{convert, Number, Type, Value};
use std::collections::BTreeMap;

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum JsonValueError {
    #[error("an unknown value cannot be written as JSON")]
    Unknown,
    #[error("{0}")]
    Conversion(String),
}

/// Writes a wholly known value as JSON. Sensitive marks are dropped (the caller records them
/// separately, as state files do); unknowns are an error.
pub fn value_to_json(value: &Value) -> Result<serde_json::Value, JsonValueError> {
    Ok(match value {
        Value::Null => serde_json::Value::Null,
        Value::Unknown(_) => return Err(JsonValueError::Unknown),
        Value::Sensitive(inner) => value_to_json(inner)?,
        Value::Bool(b) => serde_json::Value::Bool(*b),
        Value::Number(n) => number_to_json(n),
        Value::String(s) => serde_json::Value::String(s.clone()),
        Value::List(items) | Value::Tuple(items) | Value::Set(items) => {
            serde_json::Value::Array(items.iter().map(value_to_json).collect::<Result<_, _>>()?)
        }
        Value::Map(items) | Value::Object(items) => serde_json::Value::Object(
            items
                .iter()
                .map(|(k, v)| Ok((k.clone(), value_to_json(v)?)))
                .collect::<Result<_, JsonValueError>>()?,
        ),
    })
}

fn number_to_json(n: &Number) -> serde_json::Value {
    // serde_json is built with arbitrary_precision, so the digits survive as written.
    serde_json::from_str(&n.to_string()).unwrap_or(serde_json::Value::Null)
}

/// Reads JSON as a value. Without a type, arrays become tuples and objects become objects (as
/// `jsondecode` does); with one, the result is converted to it.
pub fn value_from_json(
    json: &serde_json::Value,
    ty: Option<&Type>,
) -> Result<Value, JsonValueError> {
    let raw = raw_from_json(json);
    match ty {
        None | Some(Type::Any) => Ok(raw),
        Some(ty) => convert(raw, ty).map_err(|e| JsonValueError::Conversion(e.to_string())),
    }
}

fn raw_from_json(json: &serde_json::Value) -> Value {
    match json {
        serde_json::Value::Null => Value::Null,
        serde_json::Value::Bool(b) => Value::Bool(*b),
        serde_json::Value::Number(n) => Number::parse(&n.to_string())
            .map(Value::Number)
            .unwrap_or(Value::Null),
        serde_json::Value::String(s) => Value::String(s.clone()),
        serde_json::Value::Array(items) => Value::Tuple(items.iter().map(raw_from_json).collect()),
        serde_json::Value::Object(items) => Value::Object(
            items
                .iter()
                .map(|(k, v)| (k.clone(), raw_from_json(v)))
                .collect::<BTreeMap<_, _>>(),
        ),
    }
}

//! Values to and from JSON, as state files and `jsonencode` write them.
//!
//! Two forms: without a type ([`value_to_json`], [`value_from_json`]), as `jsonencode` and
//! `jsondecode` see values; and per a type ([`value_to_cty_json`], [`value_from_cty_json`]), as
//! go-cty's `json` package writes them in state attributes and plugin `DynamicValue.json`: where
//! the type is dynamic, a value of known type is wrapped as `{"value": .., "type": ..}`.

use super::{convert, AttrPath, Number, PathStep, Type, Value};
use serde_json::{Map, Value as Json};
use std::collections::BTreeMap;

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum JsonValueError {
    #[error("an unknown value cannot be written as JSON")]
    Unknown,
    #[error("{0}")]
    Conversion(String),
}

fn error_at(path: &[PathStep], message: impl std::fmt::Display) -> JsonValueError {
    let path = AttrPath(path.to_vec());
    JsonValueError::Conversion(if path.is_root() {
        message.to_string()
    } else {
        format!("{path}: {message}")
    })
}

/// Writes a wholly known value as a value of type `ty` in cty's JSON encoding (go-cty's
/// `json.Marshal`): primitives converted to the type where Terraform would, every attribute
/// of an object type present (null when the value lacks it; one the type lacks is written as
/// it is), and values where the type is dynamic wrapped as `{"value": .., "type": ..}`.
/// Sensitive marks are dropped; unknowns are an error.
pub fn value_to_cty_json(value: &Value, ty: &Type) -> Result<Json, JsonValueError> {
    typed_to_json(value, ty, &mut Vec::new())
}

fn typed_to_json(
    value: &Value,
    ty: &Type,
    path: &mut Vec<PathStep>,
) -> Result<Json, JsonValueError> {
    let value = value.unmarked();
    match (ty, value) {
        (_, Value::Unknown(_)) => Err(JsonValueError::Unknown),
        (_, Value::Null) => Ok(Json::Null),
        (Type::Bool | Type::Number | Type::String, _) if value.type_of() != *ty => {
            let converted = convert(value.clone(), ty).map_err(|e| error_at(path, e.message))?;
            value_to_json(&converted)
        }
        (Type::Any, _) => {
            let actual = value.type_of();
            let value = convert(value.clone(), &actual).map_err(|e| error_at(path, e))?;
            let mut wrapper = Map::new();
            wrapper.insert("value".into(), typed_to_json(&value, &actual, path)?);
            wrapper.insert("type".into(), actual.to_cty_json());
            Ok(Json::Object(wrapper))
        }
        (Type::List(element) | Type::Set(element), _) => {
            let items = value
                .as_seq()
                .ok_or_else(|| error_at(path, "a list is required"))?;
            typed_items_to_json(items, |_| element, path)
        }
        (Type::Tuple(elements), _) => {
            let items = value
                .as_seq()
                .ok_or_else(|| error_at(path, "a tuple is required"))?;
            if items.len() != elements.len() {
                return Err(error_at(
                    path,
                    format!("a tuple of length {} is required", elements.len()),
                ));
            }
            typed_items_to_json(items, |i| &elements[i], path)
        }
        (Type::Map(element), _) => {
            let entries = value
                .as_entries()
                .ok_or_else(|| error_at(path, "a map is required"))?;
            let mut out = Map::new();
            for (key, item) in entries {
                path.push(PathStep::Key(key.clone()));
                out.insert(key.clone(), typed_to_json(item, element, path)?);
                path.pop();
            }
            Ok(Json::Object(out))
        }
        (Type::Object(object), _) => {
            let entries = value
                .as_entries()
                .ok_or_else(|| error_at(path, "an object is required"))?;
            // Attributes the type lacks (recorded by another version of the provider) are
            // kept, untyped, rather than silently dropped; all in name order as cty sorts them.
            let names: std::collections::BTreeSet<&String> =
                object.attributes.keys().chain(entries.keys()).collect();
            let mut out = Map::new();
            for name in names {
                let item = entries.get(name).unwrap_or(&Value::Null);
                let json = match object.attributes.get(name) {
                    Some(attribute_type) => {
                        path.push(PathStep::Attr(name.clone()));
                        let json = typed_to_json(item, attribute_type, path)?;
                        path.pop();
                        json
                    }
                    None => value_to_json(item)?,
                };
                out.insert(name.clone(), json);
            }
            Ok(Json::Object(out))
        }
        _ => value_to_json(value),
    }
}

fn typed_items_to_json<'t>(
    items: &[Value],
    element: impl Fn(usize) -> &'t Type,
    path: &mut Vec<PathStep>,
) -> Result<Json, JsonValueError> {
    let mut out = Vec::with_capacity(items.len());
    for (index, item) in items.iter().enumerate() {
        path.push(PathStep::Index(index as i64));
        out.push(typed_to_json(item, element(index), path)?);
        path.pop();
    }
    Ok(Json::Array(out))
}

/// Reads cty's JSON encoding of a value of type `ty` (go-cty's `json.Unmarshal`): the inverse
/// of [`value_to_cty_json`]. An object's missing attributes are null; an attribute the type
/// does not have is an error; a dynamic value must be the `{"value", "type"}` wrapper.
pub fn value_from_cty_json(json: &Json, ty: &Type) -> Result<Value, JsonValueError> {
    typed_from_json(json, ty, &mut Vec::new())
}

fn typed_from_json(
    json: &Json,
    ty: &Type,
    path: &mut Vec<PathStep>,
) -> Result<Value, JsonValueError> {
    if json.is_null() {
        return Ok(Value::Null);
    }
    let required = |what: &str| error_at(path, format!("{what} is required"));
    match ty {
        Type::Any => {
            let wrapper = json.as_object().filter(|w| w.len() == 2);
            let (Some(inner), Some(type_json)) = (
                wrapper.and_then(|w| w.get("value")),
                wrapper.and_then(|w| w.get("type")),
            ) else {
                return Err(required(
                    "a dynamic value of the form {\"value\": .., \"type\": ..}",
                ));
            };
            let actual = Type::from_cty_json(type_json).map_err(|e| error_at(path, e))?;
            typed_from_json(inner, &actual, path)
        }
        Type::Bool | Type::Number | Type::String => {
            if json.is_array() || json.is_object() {
                return Err(required(&format!("a {}", ty.friendly_name())));
            }
            convert(raw_from_json(json), ty).map_err(|e| error_at(path, e.message))
        }
        Type::List(element) | Type::Set(element) => {
            let items = json
                .as_array()
                .ok_or_else(|| required(&format!("a {}", ty.friendly_name())))?;
            let values = typed_items_from_json(items, |_| element, path)?;
            Ok(if matches!(ty, Type::Set(_)) {
                Value::set(values)
            } else {
                Value::List(values)
            })
        }
        Type::Tuple(elements) => {
            let items = json.as_array().ok_or_else(|| required("a tuple"))?;
            if items.len() != elements.len() {
                return Err(required(&format!("a tuple of length {}", elements.len())));
            }
            Ok(Value::Tuple(typed_items_from_json(
                items,
                |i| &elements[i],
                path,
            )?))
        }
        Type::Map(element) => {
            let entries = json.as_object().ok_or_else(|| required("a map"))?;
            let mut values = BTreeMap::new();
            for (key, item) in entries {
                path.push(PathStep::Key(key.clone()));
                values.insert(key.clone(), typed_from_json(item, element, path)?);
                path.pop();
            }
            Ok(Value::Map(values))
        }
        Type::Object(object) => {
            let entries = json.as_object().ok_or_else(|| required("an object"))?;
            if let Some(extra) = entries.keys().find(|k| !object.attributes.contains_key(*k)) {
                path.push(PathStep::Attr(extra.clone()));
                return Err(error_at(path, "unsupported attribute"));
            }
            let mut values = BTreeMap::new();
            for (name, attribute_type) in &object.attributes {
                path.push(PathStep::Attr(name.clone()));
                let item = entries.get(name).unwrap_or(&Json::Null);
                values.insert(name.clone(), typed_from_json(item, attribute_type, path)?);
                path.pop();
            }
            Ok(Value::Object(values))
        }
    }
}

fn typed_items_from_json<'t>(
    items: &[Json],
    element: impl Fn(usize) -> &'t Type,
    path: &mut Vec<PathStep>,
) -> Result<Vec<Value>, JsonValueError> {
    let mut values = Vec::with_capacity(items.len());
    for (index, item) in items.iter().enumerate() {
        path.push(PathStep::Index(index as i64));
        values.push(typed_from_json(item, element(index), path)?);
        path.pop();
    }
    Ok(values)
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

//! Terraform's automatic type conversions: what happens when a value meets a type constraint
//! (a variable's `type`, a function parameter, a provider schema).

use super::types::unify;
use super::{AttrPath, PathStep, Type, Value};
use std::collections::BTreeMap;

/// Why a value does not convert, and where inside it.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{}{message}", if path.is_root() { String::new() } else { format!("{path}: ") })]
pub struct ConversionError {
    pub path: AttrPath,
    pub message: String,
}

impl ConversionError {
    fn new(path: &[PathStep], message: impl Into<String>) -> ConversionError {
        ConversionError {
            path: AttrPath(path.to_vec()),
            message: message.into(),
        }
    }
}

/// Converts `value` to `ty` as Terraform does: `"1"` to a number, a tuple to a list, an object to
/// a map, absent optional object attributes filled in from their defaults, and so on.
pub fn convert(value: Value, ty: &Type) -> Result<Value, ConversionError> {
    let mut path = Vec::new();
    convert_at(value, ty, &mut path)
}

fn convert_at(value: Value, ty: &Type, path: &mut Vec<PathStep>) -> Result<Value, ConversionError> {
    match value {
        Value::Sensitive(inner) => return Ok(convert_at(*inner, ty, path)?.mark_sensitive()),
        Value::Null => return Ok(Value::Null),
        Value::Unknown(_) => return Ok(Value::Unknown(ty.clone())),
        _ => {}
    }
    match ty {
        Type::Any => Ok(value),
        Type::Bool => match value {
            Value::Bool(_) => Ok(value),
            Value::String(ref s) if s == "true" => Ok(Value::Bool(true)),
            Value::String(ref s) if s == "false" => Ok(Value::Bool(false)),
            Value::String(s) => Err(ConversionError::new(
                path,
                format!("a bool is required; cannot convert \"{s}\" to bool: only the strings \"true\" or \"false\" are allowed"),
            )),
            _ => Err(ConversionError::new(path, "a bool is required")),
        },
        Type::Number => match value {
            Value::Number(_) => Ok(value),
            Value::String(ref s) => super::Number::parse(s).map(Value::Number).ok_or_else(|| {
                ConversionError::new(
                    path,
                    format!("a number is required; cannot convert \"{s}\" to number: string must be a decimal representation of a number"),
                )
            }),
            _ => Err(ConversionError::new(path, "a number is required")),
        },
        Type::String => match value {
            Value::String(_) => Ok(value),
            Value::Number(n) => Ok(Value::String(n.to_string())),
            Value::Bool(b) => Ok(Value::String(b.to_string())),
            _ => Err(ConversionError::new(path, "a string is required")),
        },
        Type::List(element) | Type::Set(element) => {
            let items = match value {
                Value::List(items) | Value::Tuple(items) | Value::Set(items) => items,
                other => {
                    return Err(ConversionError::new(
                        path,
                        format!("{} required, but got {}", ty.friendly_name(), other.friendly_type_name()),
                    ))
                }
            };
            let converted = convert_elements(items, element, path)?;
            Ok(if matches!(ty, Type::Set(_)) {
                Value::set(converted)
            } else {
                Value::List(converted)
            })
        }
        Type::Map(element) => {
            let items = match value {
                Value::Map(items) | Value::Object(items) => items,
                other => {
                    return Err(ConversionError::new(
                        path,
                        format!("{} required, but got {}", ty.friendly_name(), other.friendly_type_name()),
                    ))
                }
            };
            let target = element_target(items.values(), element)
                .ok_or_else(|| ConversionError::new(path, "all map elements must have the same type"))?;
            let mut out = BTreeMap::new();
            for (key, item) in items {
                path.push(PathStep::Key(key.clone()));
                let converted = convert_at(item, &target, path)?;
                path.pop();
                out.insert(key, converted);
            }
            Ok(Value::Map(out))
        }
        Type::Tuple(types) => {
            let items = match value {
                Value::List(items) | Value::Tuple(items) | Value::Set(items) => items,
                other => {
                    return Err(ConversionError::new(
                        path,
                        format!("tuple required, but got {}", other.friendly_type_name()),
                    ))
                }
            };
            if items.len() != types.len() {
                return Err(ConversionError::new(
                    path,
                    format!("tuple required with {} elements, but got {}", types.len(), items.len()),
                ));
            }
            let mut out = Vec::with_capacity(items.len());
            for (i, (item, item_type)) in items.into_iter().zip(types).enumerate() {
                path.push(PathStep::Index(i as i64));
                out.push(convert_at(item, item_type, path)?);
                path.pop();
            }
            Ok(Value::Tuple(out))
        }
        Type::Object(object_type) => {
            let mut items = match value {
                Value::Map(items) | Value::Object(items) => items,
                other => {
                    return Err(ConversionError::new(
                        path,
                        format!("object required, but got {}", other.friendly_type_name()),
                    ))
                }
            };
            let mut out = BTreeMap::new();
            for (name, attr_type) in &object_type.attributes {
                path.push(PathStep::Attr(name.clone()));
                let given = items.remove(name);
                let value = match (given, object_type.optional.get(name)) {
                    (Some(v), Some(Some(default))) if v.is_null() => convert_at(default.clone(), attr_type, path)?,
                    (Some(v), _) => convert_at(v, attr_type, path)?,
                    (None, Some(Some(default))) => convert_at(default.clone(), attr_type, path)?,
                    (None, Some(None)) => Value::Null,
                    (None, None) => {
                        path.pop();
                        return Err(ConversionError::new(path, format!("attribute \"{name}\" is required")));
                    }
                };
                path.pop();
                out.insert(name.clone(), value);
            }
            Ok(Value::Object(out))
        }
    }
}

/// Whether [`convert`] would hand `value` back unchanged: it holds no sensitive mark and already
/// has exactly the shape of `ty` (objects with exactly its attributes, sets already in order, no
/// element type left to infer). Lets a caller skip rebuilding a value that is already typed,
/// such as one decoded from a state file with its schema.
pub fn conforms(value: &Value, ty: &Type) -> bool {
    let all = |items: &[Value], element: &Type| items.iter().all(|item| conforms(item, element));
    match (value, ty) {
        (Value::Sensitive(_), _) => false,
        (Value::Null, _) => true,
        (Value::Unknown(given), _) => given == ty,
        (_, Type::Any) => true,
        (Value::Bool(_), Type::Bool)
        | (Value::Number(_), Type::Number)
        | (Value::String(_), Type::String) => true,
        (_, Type::List(element) | Type::Set(element) | Type::Map(element))
            if **element == Type::Any =>
        {
            false
        }
        (Value::List(items), Type::List(element)) => all(items, element),
        (Value::Set(items), Type::Set(element)) => {
            all(items, element)
                && items
                    .windows(2)
                    .all(|pair| super::set_order(&pair[0], &pair[1]) == std::cmp::Ordering::Less)
        }
        (Value::Map(items), Type::Map(element)) => {
            items.values().all(|item| conforms(item, element))
        }
        (Value::Tuple(items), Type::Tuple(types)) => {
            items.len() == types.len()
                && items.iter().zip(types).all(|(item, ty)| conforms(item, ty))
        }
        (Value::Object(items), Type::Object(object_type)) => {
            object_type.optional.is_empty()
                && items.len() == object_type.attributes.len()
                && items
                    .iter()
                    .zip(&object_type.attributes)
                    .all(|((name, item), (attribute, ty))| name == attribute && conforms(item, ty))
        }
        _ => false,
    }
}

fn convert_elements(
    items: Vec<Value>,
    element: &Type,
    path: &mut Vec<PathStep>,
) -> Result<Vec<Value>, ConversionError> {
    let target = element_target(items.iter(), element)
        .ok_or_else(|| ConversionError::new(path, "all list elements must have the same type"))?;
    let mut out = Vec::with_capacity(items.len());
    for (i, item) in items.into_iter().enumerate() {
        path.push(PathStep::Index(i as i64));
        out.push(convert_at(item, &target, path)?);
        path.pop();
    }
    Ok(out)
}

/// For an element type of `any`, the one type all elements unify to; otherwise the given type.
fn element_target<'a>(items: impl Iterator<Item = &'a Value>, element: &Type) -> Option<Type> {
    if !matches!(element, Type::Any) {
        return Some(element.clone());
    }
    let mut result = Type::Any;
    for item in items {
        if item.is_null() {
            continue;
        }
        result = unify(&result, &item.type_of())?;
    }
    Some(result)
}

//! Types and type constraints: what `type = list(object({ ... }))` in a variable block means.

use super::Value;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A Terraform type, or a type constraint (which may contain [`Type::Any`] and optional
/// object attributes).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Type {
    /// `any`: a placeholder that accepts a value of any type.
    Any,
    Bool,
    Number,
    String,
    List(Box<Type>),
    Set(Box<Type>),
    Map(Box<Type>),
    Tuple(Vec<Type>),
    Object(ObjectType),
}

/// An object type: attribute types, and for type constraints which attributes are `optional()`
/// with their defaults.
#[derive(Clone, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ObjectType {
    pub attributes: BTreeMap<String, Type>,
    /// Optional attributes (`optional(type, default)`), with the default if one was given.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub optional: BTreeMap<String, Option<Value>>,
}

impl Eq for Value {}

impl ObjectType {
    pub fn new(attributes: impl IntoIterator<Item = (String, Type)>) -> ObjectType {
        ObjectType {
            attributes: attributes.into_iter().collect(),
            optional: BTreeMap::new(),
        }
    }
}

impl Type {
    /// The type in cty's JSON form, as Terraform writes it in `providers schema -json` and
    /// plan files: `"string"`, `["list","string"]`, `["object",{"a":"number"}]`,
    /// `"dynamic"` for `any`.
    pub fn to_cty_json(&self) -> serde_json::Value {
        use serde_json::{json, Value as Json};
        match self {
            Type::Any => json!("dynamic"),
            Type::Bool => json!("bool"),
            Type::Number => json!("number"),
            Type::String => json!("string"),
            Type::List(element) => json!(["list", element.to_cty_json()]),
            Type::Set(element) => json!(["set", element.to_cty_json()]),
            Type::Map(element) => json!(["map", element.to_cty_json()]),
            Type::Tuple(elements) => json!([
                "tuple",
                elements.iter().map(Type::to_cty_json).collect::<Vec<_>>()
            ]),
            Type::Object(object) => {
                let attributes: serde_json::Map<String, Json> = object
                    .attributes
                    .iter()
                    .map(|(name, ty)| (name.clone(), ty.to_cty_json()))
                    .collect();
                if object.optional.is_empty() {
                    json!(["object", attributes])
                } else {
                    let optional: Vec<&String> = object.optional.keys().collect();
                    json!(["object", attributes, optional])
                }
            }
        }
    }

    /// Reads cty's JSON type syntax (the inverse of [`Type::to_cty_json`]): `"string"`,
    /// `["list","string"]`, `["object",{"a":"number"}]`, with an optional third element naming
    /// an object type constraint's optional attributes.
    pub fn from_cty_json(json: &serde_json::Value) -> Result<Type, String> {
        use serde_json::Value as Json;
        let invalid = || format!("invalid type {json}");
        match json {
            Json::String(name) => match name.as_str() {
                "dynamic" => Ok(Type::Any),
                "bool" => Ok(Type::Bool),
                "number" => Ok(Type::Number),
                "string" => Ok(Type::String),
                _ => Err(invalid()),
            },
            Json::Array(parts) => {
                let kind = parts.first().and_then(Json::as_str).ok_or_else(invalid)?;
                let argument = parts.get(1).ok_or_else(invalid)?;
                match kind {
                    "list" => Ok(Type::list(Type::from_cty_json(argument)?)),
                    "set" => Ok(Type::set(Type::from_cty_json(argument)?)),
                    "map" => Ok(Type::map(Type::from_cty_json(argument)?)),
                    "tuple" => Ok(Type::Tuple(
                        argument
                            .as_array()
                            .ok_or_else(invalid)?
                            .iter()
                            .map(Type::from_cty_json)
                            .collect::<Result<_, _>>()?,
                    )),
                    "object" => {
                        let mut object = ObjectType::new(
                            argument
                                .as_object()
                                .ok_or_else(invalid)?
                                .iter()
                                .map(|(name, ty)| Ok((name.clone(), Type::from_cty_json(ty)?)))
                                .collect::<Result<Vec<_>, String>>()?,
                        );
                        if let Some(optional) = parts.get(2) {
                            for name in optional.as_array().ok_or_else(invalid)? {
                                let name = name.as_str().ok_or_else(invalid)?;
                                object.optional.insert(name.to_string(), None);
                            }
                        }
                        Ok(Type::Object(object))
                    }
                    _ => Err(invalid()),
                }
            }
            _ => Err(invalid()),
        }
    }

    pub fn list(element: Type) -> Type {
        Type::List(Box::new(element))
    }

    pub fn set(element: Type) -> Type {
        Type::Set(Box::new(element))
    }

    pub fn map(element: Type) -> Type {
        Type::Map(Box::new(element))
    }

    /// Whether the type is a primitive (bool, number or string).
    pub fn is_primitive(&self) -> bool {
        matches!(self, Type::Bool | Type::Number | Type::String)
    }

    /// Whether the type mentions `any` anywhere.
    pub fn has_any(&self) -> bool {
        match self {
            Type::Any => true,
            Type::List(e) | Type::Set(e) | Type::Map(e) => e.has_any(),
            Type::Tuple(items) => items.iter().any(Type::has_any),
            Type::Object(o) => o.attributes.values().any(Type::has_any),
            _ => false,
        }
    }

    /// The type as Terraform's `type()` function and error messages write it.
    pub fn friendly_name(&self) -> String {
        match self {
            Type::Any => "dynamic".into(),
            Type::Bool => "bool".into(),
            Type::Number => "number".into(),
            Type::String => "string".into(),
            Type::List(e) => format!("list of {}", e.friendly_name()),
            Type::Set(e) => format!("set of {}", e.friendly_name()),
            Type::Map(e) => format!("map of {}", e.friendly_name()),
            Type::Tuple(_) => "tuple".into(),
            Type::Object(_) => "object".into(),
        }
    }

    /// The type in Terraform's type-constraint syntax, e.g. `list(string)`.
    pub fn expression(&self) -> String {
        match self {
            Type::Any => "any".into(),
            Type::Bool => "bool".into(),
            Type::Number => "number".into(),
            Type::String => "string".into(),
            Type::List(e) => format!("list({})", e.expression()),
            Type::Set(e) => format!("set({})", e.expression()),
            Type::Map(e) => format!("map({})", e.expression()),
            Type::Tuple(items) => format!(
                "tuple([{}])",
                items
                    .iter()
                    .map(Type::expression)
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            Type::Object(o) => format!(
                "object({{{}}})",
                o.attributes
                    .iter()
                    .map(|(k, v)| format!("{k}={}", v.expression()))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        }
    }
}

/// The most specific type both `a` and `b` convert to, as Terraform unifies the element types of
/// a list or the two results of a conditional.
pub fn unify(a: &Type, b: &Type) -> Option<Type> {
    if a == b {
        return Some(a.clone());
    }
    match (a, b) {
        (Type::Any, other) | (other, Type::Any) => Some(other.clone()),
        // Primitives unify to string, as Terraform does.
        (x, y) if x.is_primitive() && y.is_primitive() => Some(Type::String),
        (Type::List(x), Type::List(y)) => unify(x, y).map(Type::list),
        (Type::Set(x), Type::Set(y)) => unify(x, y).map(Type::set),
        (Type::Map(x), Type::Map(y)) => unify(x, y).map(Type::map),
        (Type::Tuple(x), Type::Tuple(y)) if x.len() == y.len() => x
            .iter()
            .zip(y)
            .map(|(p, q)| unify(p, q))
            .collect::<Option<Vec<_>>>()
            .map(Type::Tuple),
        (Type::Object(x), Type::Object(y)) if x.attributes.keys().eq(y.attributes.keys()) => {
            let attributes = x
                .attributes
                .iter()
                .zip(y.attributes.values())
                .map(|((k, p), q)| unify(p, q).map(|t| (k.clone(), t)))
                .collect::<Option<BTreeMap<_, _>>>()?;
            Some(Type::Object(ObjectType {
                attributes,
                optional: BTreeMap::new(),
            }))
        }
        _ => None,
    }
}

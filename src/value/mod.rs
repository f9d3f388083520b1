//! The value model of the Terraform language.
//!
//! Every value an expression can produce is a [`Value`]. It mirrors Terraform's (cty's) types:
//! null, bool, arbitrary-precision number, string, list, tuple, set, map and object, and two
//! *marks* that travel through every operation:
//!
//! - **unknown** ([`Value::Unknown`]): a value that only exists after apply. Any operation on an
//!   unknown yields an unknown of the right type.
//! - **sensitive** ([`Value::Sensitive`]): a wrapper that propagates through operations and prints
//!   as `(sensitive value)`. A sensitive value is never nested directly inside another.
//!
//! Architecture invariant: this module knows nothing about HCL syntax, providers or state files.
//! It is the shared vocabulary of every later stage.

mod convert;
mod json;
mod json_stream;
pub mod msgpack;
mod number;
mod path;
mod types;

pub use convert::{conforms, convert, ConversionError};
pub use json::{
    value_from_cty_json, value_from_json, value_to_cty_json, value_to_json, JsonValueError,
};
pub(crate) use json_stream::KeySeed;
pub use json_stream::{CtyJsonSeed, UntypedJsonSeed};
pub use number::Number;
pub use path::{AttrPath, PathStep};
pub use types::{ObjectType, Type};

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A value of the Terraform language.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(tag = "t", content = "v", rename_all = "snake_case")]
pub enum Value {
    /// `null`. Terraform's nulls are typed; ours carry no type, which every conversion accepts.
    #[default]
    Null,
    /// A value not known until apply, of the given type ([`Type::Any`] when that is unknown too).
    Unknown(Type),
    Bool(bool),
    Number(Number),
    String(String),
    /// A list: every element of one type.
    List(Vec<Value>),
    /// A tuple: a fixed sequence whose elements may differ in type (`[1, "a"]` is a tuple).
    Tuple(Vec<Value>),
    /// A set: kept sorted and without duplicates (see [`Value::set`]).
    Set(Vec<Value>),
    /// A map: every element of one type.
    Map(BTreeMap<String, Value>),
    /// An object: named attributes of any types (`{ a = 1 }` is an object).
    Object(BTreeMap<String, Value>),
    /// The sensitive mark around a value. Never directly nested.
    Sensitive(Box<Value>),
}

impl Value {
    pub fn string(s: impl Into<String>) -> Value {
        Value::String(s.into())
    }

    pub fn number(n: impl Into<Number>) -> Value {
        Value::Number(n.into())
    }

    pub fn unknown() -> Value {
        Value::Unknown(Type::Any)
    }

    /// A set value: sorts and de-duplicates its elements.
    pub fn set(mut elements: Vec<Value>) -> Value {
        elements.sort_by(set_order);
        elements.dedup();
        Value::Set(elements)
    }

    pub fn object<K: Into<String>>(attrs: impl IntoIterator<Item = (K, Value)>) -> Value {
        Value::Object(attrs.into_iter().map(|(k, v)| (k.into(), v)).collect())
    }

    /// Wraps in the sensitive mark (idempotent).
    pub fn mark_sensitive(self) -> Value {
        match self {
            Value::Sensitive(_) => self,
            other => Value::Sensitive(Box::new(other)),
        }
    }

    /// Wraps in the sensitive mark when `sensitive` is true.
    pub fn mark_if(self, sensitive: bool) -> Value {
        if sensitive {
            self.mark_sensitive()
        } else {
            self
        }
    }

    /// Removes the top-level sensitive mark, saying whether there was one.
    pub fn unmark(self) -> (Value, bool) {
        match self {
            Value::Sensitive(inner) => (*inner, true),
            other => (other, false),
        }
    }

    /// Borrows through the top-level sensitive mark.
    pub fn unmarked(&self) -> &Value {
        match self {
            Value::Sensitive(inner) => inner,
            other => other,
        }
    }

    /// Whether this value or anything inside it is sensitive.
    pub fn contains_sensitive(&self) -> bool {
        match self {
            Value::Sensitive(_) => true,
            Value::List(items) | Value::Tuple(items) | Value::Set(items) => {
                items.iter().any(Value::contains_sensitive)
            }
            Value::Map(items) | Value::Object(items) => {
                items.values().any(Value::contains_sensitive)
            }
            _ => false,
        }
    }

    /// Removes every sensitive mark, returning the paths where they were (for a state file's
    /// `sensitive_attributes`).
    pub fn deep_unmark(self) -> (Value, Vec<AttrPath>) {
        let mut paths = Vec::new();
        let value = deep_unmark_into(self, &mut AttrPath::root(), &mut paths);
        (value, paths)
    }

    /// Puts the sensitive mark back at each of `paths` (the inverse of [`Value::deep_unmark`]).
    pub fn mark_paths(self, paths: &[AttrPath]) -> Value {
        let mut value = self;
        for path in paths {
            value = mark_at(value, &path.0);
        }
        value
    }

    pub fn is_null(&self) -> bool {
        matches!(self.unmarked(), Value::Null)
    }

    /// Whether this value itself (not its contents) is unknown.
    pub fn is_unknown(&self) -> bool {
        matches!(self.unmarked(), Value::Unknown(_))
    }

    /// Whether nothing inside this value is unknown.
    pub fn is_wholly_known(&self) -> bool {
        match self {
            Value::Unknown(_) => false,
            Value::Sensitive(inner) => inner.is_wholly_known(),
            Value::List(items) | Value::Tuple(items) | Value::Set(items) => {
                items.iter().all(Value::is_wholly_known)
            }
            Value::Map(items) | Value::Object(items) => items.values().all(Value::is_wholly_known),
            _ => true,
        }
    }

    /// This value with every unknown inside it replaced by null (marks kept).
    pub fn without_unknowns(self) -> Value {
        let each = |items: Vec<Value>| items.into_iter().map(Value::without_unknowns).collect();
        let each_entry = |items: BTreeMap<String, Value>| {
            items
                .into_iter()
                .map(|(k, v)| (k, v.without_unknowns()))
                .collect()
        };
        match self {
            Value::Unknown(_) => Value::Null,
            Value::Sensitive(inner) => inner.without_unknowns().mark_sensitive(),
            Value::List(items) => Value::List(each(items)),
            Value::Tuple(items) => Value::Tuple(each(items)),
            Value::Set(items) => Value::set(each(items)),
            Value::Map(items) => Value::Map(each_entry(items)),
            Value::Object(items) => Value::Object(each_entry(items)),
            other => other,
        }
    }

    /// The elements of a list, tuple or set (through a sensitive mark).
    pub fn as_seq(&self) -> Option<&[Value]> {
        match self.unmarked() {
            Value::List(items) | Value::Tuple(items) | Value::Set(items) => Some(items),
            _ => None,
        }
    }

    /// The entries of a map or object (through a sensitive mark).
    pub fn as_entries(&self) -> Option<&BTreeMap<String, Value>> {
        match self.unmarked() {
            Value::Map(items) | Value::Object(items) => Some(items),
            _ => None,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self.unmarked() {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_bool(&self) -> Option<bool> {
        match self.unmarked() {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }

    pub fn as_number(&self) -> Option<&Number> {
        match self.unmarked() {
            Value::Number(n) => Some(n),
            _ => None,
        }
    }

    /// An attribute of an object or an element of a map.
    pub fn get_attr(&self, name: &str) -> Option<&Value> {
        self.as_entries().and_then(|entries| entries.get(name))
    }

    /// The value's type. Unknowns report the type they carry; nulls report [`Type::Any`].
    pub fn type_of(&self) -> Type {
        match self {
            Value::Null => Type::Any,
            Value::Unknown(ty) => ty.clone(),
            Value::Bool(_) => Type::Bool,
            Value::Number(_) => Type::Number,
            Value::String(_) => Type::String,
            Value::List(items) => Type::List(Box::new(element_type(items))),
            Value::Set(items) => Type::Set(Box::new(element_type(items))),
            Value::Tuple(items) => Type::Tuple(items.iter().map(Value::type_of).collect()),
            Value::Map(items) => Type::Map(Box::new(element_type_of(items.values()))),
            Value::Object(items) => Type::Object(ObjectType::new(
                items.iter().map(|(k, v)| (k.clone(), v.type_of())),
            )),
            Value::Sensitive(inner) => inner.type_of(),
        }
    }

    /// A short name of the value's kind, for error messages ("string", "list of string", …).
    pub fn friendly_type_name(&self) -> String {
        self.type_of().friendly_name()
    }

    /// The value at `path`, if it exists.
    pub fn at_path(&self, path: &AttrPath) -> Option<&Value> {
        let mut current = self;
        for step in &path.0 {
            current = match (step, current.unmarked()) {
                (PathStep::Attr(name) | PathStep::Key(name), _) => current.get_attr(name)?,
                (PathStep::Index(i), _) => current.as_seq()?.get(usize::try_from(*i).ok()?)?,
            };
        }
        Some(current)
    }

    /// Replaces the value at `path` (creating nothing: a missing path leaves the value as it is).
    pub fn set_at_path(&mut self, path: &[PathStep], new_value: Value) {
        let Some((first, rest)) = path.split_first() else {
            *self = new_value;
            return;
        };
        let target = match self {
            Value::Sensitive(inner) => return inner.set_at_path(path, new_value),
            Value::Map(items) | Value::Object(items) => match first {
                PathStep::Attr(name) | PathStep::Key(name) => items.get_mut(name),
                PathStep::Index(_) => None,
            },
            Value::List(items) | Value::Tuple(items) | Value::Set(items) => match first {
                PathStep::Index(i) => usize::try_from(*i).ok().and_then(|i| items.get_mut(i)),
                _ => None,
            },
            _ => None,
        };
        if let Some(target) = target {
            target.set_at_path(rest, new_value);
        }
    }

    /// Whether two values are equal; `None` when unknowns make that unknowable.
    pub fn equals(&self, other: &Value) -> Option<bool> {
        let (a, b) = (self.unmarked(), other.unmarked());
        match (a, b) {
            (Value::Unknown(_), _) | (_, Value::Unknown(_)) => None,
            (Value::Number(x), Value::Number(y)) => Some(x == y),
            (
                Value::List(x) | Value::Tuple(x) | Value::Set(x),
                Value::List(y) | Value::Tuple(y) | Value::Set(y),
            ) => {
                if x.len() != y.len() {
                    return Some(false);
                }
                let mut all = Some(true);
                for (p, q) in x.iter().zip(y) {
                    match p.equals(q) {
                        Some(false) => return Some(false),
                        None => all = None,
                        Some(true) => {}
                    }
                }
                all
            }
            (Value::Map(x) | Value::Object(x), Value::Map(y) | Value::Object(y)) => {
                if x.len() != y.len() || x.keys().ne(y.keys()) {
                    return Some(false);
                }
                let mut all = Some(true);
                for (p, q) in x.values().zip(y.values()) {
                    match p.equals(q) {
                        Some(false) => return Some(false),
                        None => all = None,
                        Some(true) => {}
                    }
                }
                all
            }
            _ => Some(a == b),
        }
    }
}

impl From<bool> for Value {
    fn from(b: bool) -> Self {
        Value::Bool(b)
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Self {
        Value::String(s.to_string())
    }
}

impl From<String> for Value {
    fn from(s: String) -> Self {
        Value::String(s)
    }
}

impl From<i64> for Value {
    fn from(n: i64) -> Self {
        Value::Number(Number::from(n))
    }
}

/// The total order used to keep sets sorted: by kind, then by value.
pub fn set_order(a: &Value, b: &Value) -> std::cmp::Ordering {
    fn rank(v: &Value) -> u8 {
        match v {
            Value::Null => 0,
            Value::Bool(_) => 1,
            Value::Number(_) => 2,
            Value::String(_) => 3,
            Value::List(_) | Value::Tuple(_) | Value::Set(_) => 4,
            Value::Map(_) | Value::Object(_) => 5,
            Value::Unknown(_) => 6,
            Value::Sensitive(_) => 7,
        }
    }
    use std::cmp::Ordering;
    match (a, b) {
        (Value::Bool(x), Value::Bool(y)) => x.cmp(y),
        (Value::Number(x), Value::Number(y)) => x.cmp(y),
        (Value::String(x), Value::String(y)) => x.cmp(y),
        (
            Value::List(x) | Value::Tuple(x) | Value::Set(x),
            Value::List(y) | Value::Tuple(y) | Value::Set(y),
        ) => {
            for (p, q) in x.iter().zip(y) {
                let o = set_order(p, q);
                if o != Ordering::Equal {
                    return o;
                }
            }
            x.len().cmp(&y.len())
        }
        (Value::Map(x) | Value::Object(x), Value::Map(y) | Value::Object(y)) => {
            for ((ka, va), (kb, vb)) in x.iter().zip(y) {
                let o = ka.cmp(kb).then_with(|| set_order(va, vb));
                if o != Ordering::Equal {
                    return o;
                }
            }
            x.len().cmp(&y.len())
        }
        (Value::Sensitive(x), Value::Sensitive(y)) => set_order(x, y),
        _ => rank(a).cmp(&rank(b)),
    }
}

fn element_type(items: &[Value]) -> Type {
    element_type_of(items.iter())
}

fn element_type_of<'a>(items: impl Iterator<Item = &'a Value>) -> Type {
    let mut result: Option<Type> = None;
    for item in items {
        let ty = item.type_of();
        result = Some(match result {
            None => ty,
            Some(prev) if prev == ty => prev,
            Some(prev) => types::unify(&prev, &ty).unwrap_or(Type::Any),
        });
    }
    result.unwrap_or(Type::Any)
}

fn deep_unmark_into(value: Value, path: &mut AttrPath, paths: &mut Vec<AttrPath>) -> Value {
    match value {
        Value::Sensitive(inner) => {
            paths.push(path.clone());
            let mut ignored = Vec::new();
            deep_unmark_into(*inner, path, &mut ignored)
        }
        Value::List(items) => Value::List(unmark_seq(items, path, paths)),
        Value::Tuple(items) => Value::Tuple(unmark_seq(items, path, paths)),
        Value::Set(items) => Value::Set(unmark_seq(items, path, paths)),
        Value::Map(items) => Value::Map(unmark_entries(items, path, paths, false)),
        Value::Object(items) => Value::Object(unmark_entries(items, path, paths, true)),
        other => other,
    }
}

fn unmark_seq(items: Vec<Value>, path: &mut AttrPath, paths: &mut Vec<AttrPath>) -> Vec<Value> {
    items
        .into_iter()
        .enumerate()
        .map(|(i, item)| {
            path.0.push(PathStep::Index(i as i64));
            let v = deep_unmark_into(item, path, paths);
            path.0.pop();
            v
        })
        .collect()
}

fn unmark_entries(
    items: BTreeMap<String, Value>,
    path: &mut AttrPath,
    paths: &mut Vec<AttrPath>,
    object: bool,
) -> BTreeMap<String, Value> {
    items
        .into_iter()
        .map(|(k, item)| {
            path.0.push(if object {
                PathStep::Attr(k.clone())
            } else {
                PathStep::Key(k.clone())
            });
            let v = deep_unmark_into(item, path, paths);
            path.0.pop();
            (k, v)
        })
        .collect()
}

fn mark_at(value: Value, path: &[PathStep]) -> Value {
    let Some((first, rest)) = path.split_first() else {
        return value.mark_sensitive();
    };
    fn mark_entry(
        mut items: BTreeMap<String, Value>,
        first: &PathStep,
        rest: &[PathStep],
    ) -> BTreeMap<String, Value> {
        if let PathStep::Attr(name) | PathStep::Key(name) = first {
            if let Some(item) = items.remove(name) {
                items.insert(name.clone(), mark_at(item, rest));
            }
        }
        items
    }
    fn mark_element(mut items: Vec<Value>, first: &PathStep, rest: &[PathStep]) -> Vec<Value> {
        if let PathStep::Index(i) = first {
            if let Some(slot) = usize::try_from(*i).ok().and_then(|i| items.get_mut(i)) {
                let item = std::mem::replace(slot, Value::Null);
                *slot = mark_at(item, rest);
            }
        }
        items
    }
    match value {
        Value::Sensitive(inner) => Value::Sensitive(inner),
        Value::Map(items) => Value::Map(mark_entry(items, first, rest)),
        Value::Object(items) => Value::Object(mark_entry(items, first, rest)),
        Value::List(items) => Value::List(mark_element(items, first, rest)),
        Value::Tuple(items) => Value::Tuple(mark_element(items, first, rest)),
        Value::Set(items) => Value::Set(mark_element(items, first, rest)),
        other => other,
    }
}

#[cfg(test)]
mod tests;

//! Values decoded straight from JSON text with serde (`DeserializeSeed`s), without building a
//! `serde_json::Value` tree first: [`CtyJsonSeed`] reads cty's JSON encoding of a value of a
//! type as [`super::value_from_cty_json`] does, [`UntypedJsonSeed`] reads JSON without a type
//! as [`super::value_from_json`] does. For the same text each gives the value those functions
//! give, and fails where they fail; its errors say what was wrong without the path (a reader
//! that wants the path decodes again with those functions).
//!
//! serde_json is built with `arbitrary_precision`: through `deserialize_any` a number reaches a
//! visitor as a one-entry map whose key is serde_json's number token and whose value is the
//! number's text, which is how the digits survive as written.

use super::{convert, value_from_cty_json, Number, Type, Value};
use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;

/// The key under which serde_json (with `arbitrary_precision`) hands a visitor a number's text.
const NUMBER_TOKEN: &str = "$serde_json::private::Number";

/// Decodes cty's JSON encoding of a value of the type it holds.
pub struct CtyJsonSeed<'t>(pub &'t Type);

/// Decodes JSON without a type: arrays become tuples, objects objects.
pub struct UntypedJsonSeed;

impl<'de> DeserializeSeed<'de> for UntypedJsonSeed {
    type Value = Value;
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(Untyped)
    }
}

impl<'de> DeserializeSeed<'de> for CtyJsonSeed<'_> {
    type Value = Value;
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(Typed(self.0))
    }
}

/// A map key or string, borrowed from the text where it has no escapes.
pub(crate) struct KeySeed;

impl<'de> DeserializeSeed<'de> for KeySeed {
    type Value = Cow<'de, str>;
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_str(KeySeed)
    }
}

impl<'de> Visitor<'de> for KeySeed {
    type Value = Cow<'de, str>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a string")
    }
    fn visit_borrowed_str<E>(self, text: &'de str) -> Result<Self::Value, E> {
        Ok(Cow::Borrowed(text))
    }
    fn visit_str<E>(self, text: &str) -> Result<Self::Value, E> {
        Ok(Cow::Owned(text.to_string()))
    }
    fn visit_string<E>(self, text: String) -> Result<Self::Value, E> {
        Ok(Cow::Owned(text))
    }
}

/// A number from its text, null when it is not one (as `value_from_json` has it).
fn number(text: &str) -> Value {
    Number::parse(text)
        .map(Value::Number)
        .unwrap_or(Value::Null)
}

/// The first key of a map: `Err(text)` when the map is serde_json's form of a number.
fn first_key<'de, A: MapAccess<'de>>(
    map: &mut A,
) -> Result<Option<Result<Cow<'de, str>, String>>, A::Error> {
    match map.next_key_seed(KeySeed)? {
        Some(key) if key == NUMBER_TOKEN => Ok(Some(Err(map.next_value::<String>()?))),
        Some(key) => Ok(Some(Ok(key))),
        None => Ok(None),
    }
}

struct Untyped;

impl<'de> Visitor<'de> for Untyped {
    type Value = Value;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_bool<E>(self, b: bool) -> Result<Value, E> {
        Ok(Value::Bool(b))
    }
    fn visit_u64<E>(self, n: u64) -> Result<Value, E> {
        Ok(number(&n.to_string()))
    }
    fn visit_i64<E>(self, n: i64) -> Result<Value, E> {
        Ok(number(&n.to_string()))
    }
    fn visit_f64<E>(self, n: f64) -> Result<Value, E> {
        Ok(number(&n.to_string()))
    }
    fn visit_str<E>(self, text: &str) -> Result<Value, E> {
        Ok(Value::String(text.to_string()))
    }
    fn visit_string<E>(self, text: String) -> Result<Value, E> {
        Ok(Value::String(text))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0));
        while let Some(item) = seq.next_element_seed(UntypedJsonSeed)? {
            items.push(item);
        }
        Ok(Value::Tuple(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut entries = BTreeMap::new();
        let mut key = match first_key(&mut map)? {
            Some(Err(digits)) => return Ok(number(&digits)),
            Some(Ok(key)) => Some(key),
            None => None,
        };
        while let Some(name) = key {
            entries.insert(name.into_owned(), map.next_value_seed(UntypedJsonSeed)?);
            key = map.next_key_seed(KeySeed)?;
        }
        Ok(Value::Object(entries))
    }
}

struct Typed<'t>(&'t Type);

impl Typed<'_> {
    fn required<E: de::Error>(&self) -> E {
        let what = match self.0 {
            Type::Any => "a dynamic value of the form {\"value\": .., \"type\": ..}".to_string(),
            Type::Tuple(elements) => format!("a tuple of length {}", elements.len()),
            Type::Map(_) => "a map".to_string(),
            Type::Object(_) => "an object".to_string(),
            other => format!("a {}", other.friendly_name()),
        };
        E::custom(format!("{what} is required"))
    }

    /// A JSON scalar as a value of a primitive type, converted where Terraform converts.
    fn scalar<E: de::Error>(&self, raw: Value) -> Result<Value, E> {
        match (self.0, &raw) {
            (Type::String, Value::String(_))
            | (Type::Number, Value::Number(_))
            | (Type::Bool, Value::Bool(_)) => Ok(raw),
            (Type::Bool | Type::Number | Type::String, _) => {
                convert(raw, self.0).map_err(|e| E::custom(e.message))
            }
            _ => Err(self.required()),
        }
    }

    /// The `{"value": .., "type": ..}` wrapper of a dynamic value. Terraform writes `value`
    /// first, so it is held as JSON until `type` says how to read it.
    fn dynamic<'de, A: MapAccess<'de>>(
        &self,
        mut map: A,
        first: Cow<'de, str>,
    ) -> Result<Value, A::Error> {
        let mut value: Option<serde_json::Value> = None;
        let mut value_type: Option<Type> = None;
        let mut key = Some(first);
        while let Some(name) = key {
            match name.as_ref() {
                "value" if value.is_none() => value = Some(map.next_value()?),
                "type" if value_type.is_none() => {
                    let json: serde_json::Value = map.next_value()?;
                    value_type = Some(Type::from_cty_json(&json).map_err(de::Error::custom)?);
                }
                _ => return Err(self.required()),
            }
            key = map.next_key_seed(KeySeed)?;
        }
        let (Some(value), Some(value_type)) = (value, value_type) else {
            return Err(self.required());
        };
        value_from_cty_json(&value, &value_type).map_err(de::Error::custom)
    }
}

impl<'de> Visitor<'de> for Typed<'_> {
    type Value = Value;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "a value of type {}", self.0.friendly_name())
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_bool<E: de::Error>(self, b: bool) -> Result<Value, E> {
        self.scalar(Value::Bool(b))
    }
    fn visit_u64<E: de::Error>(self, n: u64) -> Result<Value, E> {
        self.scalar(number(&n.to_string()))
    }
    fn visit_i64<E: de::Error>(self, n: i64) -> Result<Value, E> {
        self.scalar(number(&n.to_string()))
    }
    fn visit_f64<E: de::Error>(self, n: f64) -> Result<Value, E> {
        self.scalar(number(&n.to_string()))
    }
    fn visit_str<E: de::Error>(self, text: &str) -> Result<Value, E> {
        self.scalar(Value::String(text.to_string()))
    }
    fn visit_string<E: de::Error>(self, text: String) -> Result<Value, E> {
        self.scalar(Value::String(text))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0));
        match self.0 {
            Type::List(element) | Type::Set(element) => {
                while let Some(item) = seq.next_element_seed(CtyJsonSeed(element))? {
                    items.push(item);
                }
            }
            Type::Tuple(elements) => {
                for element in elements {
                    match seq.next_element_seed(CtyJsonSeed(element))? {
                        Some(item) => items.push(item),
                        None => return Err(self.required()),
                    }
                }
                if seq.next_element::<de::IgnoredAny>()?.is_some() {
                    return Err(self.required());
                }
                return Ok(Value::Tuple(items));
            }
            _ => return Err(self.required()),
        }
        Ok(match self.0 {
            Type::Set(_) => Value::set(items),
            _ => Value::List(items),
        })
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut key = match first_key(&mut map)? {
            Some(Err(digits)) => return self.scalar(number(&digits)),
            Some(Ok(key)) => Some(key),
            None => None,
        };
        let mut entries = BTreeMap::new();
        match self.0 {
            Type::Any => match key {
                Some(first) => self.dynamic(map, first),
                None => Err(self.required()),
            },
            Type::Map(element) => {
                while let Some(name) = key {
                    let item = map.next_value_seed(CtyJsonSeed(element))?;
                    entries.insert(name.into_owned(), item);
                    key = map.next_key_seed(KeySeed)?;
                }
                Ok(Value::Map(entries))
            }
            Type::Object(object) => {
                while let Some(name) = key {
                    let Some((name, attribute_type)) = object.attributes.get_key_value(&*name)
                    else {
                        return Err(de::Error::custom(format!("{name}: unsupported attribute")));
                    };
                    let item = map.next_value_seed(CtyJsonSeed(attribute_type))?;
                    entries.insert(name.clone(), item);
                    key = map.next_key_seed(KeySeed)?;
                }
                for name in object.attributes.keys() {
                    entries.entry(name.clone()).or_insert(Value::Null);
                }
                Ok(Value::Object(entries))
            }
            _ => Err(self.required()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::value_from_json;
    use serde::de::DeserializeSeed;

    fn typed(text: &str, ty: &Type) -> Result<Value, String> {
        let mut deserializer = serde_json::Deserializer::from_str(text);
        CtyJsonSeed(ty)
            .deserialize(&mut deserializer)
            .map_err(|e| e.to_string())
    }

    fn ty(text: &str) -> Type {
        Type::from_cty_json(&serde_json::from_str(text).unwrap()).unwrap()
    }

    /// Each case decodes as `value_from_cty_json` decodes the same text, or fails where it fails.
    #[test]
    fn typed_decoding_is_value_from_cty_json() {
        let object = r#"["object",{"id":"string","n":"number","ok":"bool","tags":["map","string"],"list":["list","number"],"set":["set","string"],"pair":["tuple",["string","number"]],"any":"dynamic"}]"#;
        let cases = [
            (
                object,
                r#"{"id":"a","n":1.50,"ok":true,"tags":{"k":"v"},"list":[3,1],"set":["b","a","b"],"pair":["x",2],"any":{"value":{"a":[1,"b"]},"type":["object",{"a":["tuple",["number","string"]]}]}}"#,
            ),
            (object, r#"{"id":7,"n":"12","ok":"true"}"#),
            (object, r#"{"id":"a","extra":1}"#),
            (object, r#"{"pair":["x"]}"#),
            (object, r#"{"pair":["x",1,2]}"#),
            (object, r#"{"any":"bare"}"#),
            (object, r#"{"any":{"type":"string","value":"typed first"}}"#),
            (object, r#"{"any":{"value":1,"type":"number","more":2}}"#),
            (object, r#"{"n":"not a number"}"#),
            (object, r#"{"tags":[1]}"#),
            (object, r#"null"#),
            (object, r#"[]"#),
            (r#""number""#, "123456789012345678901234567890.5"),
            (r#""string""#, "-0.1e3"),
            (r#"["list","string"]"#, r#"{"a":1}"#),
        ];
        for (type_text, text) in cases {
            let ty = ty(type_text);
            let expected = value_from_cty_json(&serde_json::from_str(text).unwrap(), &ty);
            let actual = typed(text, &ty);
            match (expected, actual) {
                (Ok(expected), Ok(actual)) => assert_eq!(actual, expected, "{text}"),
                (Err(_), Err(_)) => {}
                (expected, actual) => panic!("{text}: {expected:?} but {actual:?}"),
            }
        }
    }

    #[test]
    fn untyped_decoding_is_value_from_json() {
        for text in [
            r#"{"a":[1,"b",null,true,{"c":1.10}],"escaped\"key":"\u00e9"}"#,
            "12345678901234567890123",
            "[]",
        ] {
            let mut deserializer = serde_json::Deserializer::from_str(text);
            let actual = UntypedJsonSeed.deserialize(&mut deserializer).unwrap();
            let expected = value_from_json(&serde_json::from_str(text).unwrap(), None).unwrap();
            assert_eq!(actual, expected, "{text}");
        }
    }
}

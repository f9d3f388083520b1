//! Reading YAML as Terraform's `yamldecode` does.
//!
//! `serde_yaml_ng` parses, but it resolves plain scalars by YAML 1.2's rules, while Terraform
//! (go-cty-yaml) uses YAML 1.1's: `yes`, `no`, `on`, `off`, `y` and `n` are booleans,
//! underscores may group digits (`1_000`), and timestamps (`2001-12-14`) become RFC 3339
//! strings. A plain scalar reaches us as a slice of the source, so we can tell it from a quoted
//! one (the byte before a quoted scalar's text is its quote) and apply YAML 1.1 to plain ones
//! only. Integers arrive exactly (up to 128 bits); other numbers through `f64`.

use crate::value::{Number, Value};
use serde::de::{self, DeserializeSeed, Deserializer, EnumAccess, MapAccess, SeqAccess, Visitor};
use std::collections::BTreeMap;
use std::fmt;

/// How deep a document may nest before it is refused (instead of exhausting the stack).
const MAX_DEPTH: usize = 200;

/// Decodes one YAML document.
pub(super) fn decode(source: &str) -> Result<Value, String> {
    if source
        .lines()
        .all(|line| line.trim().is_empty() || line.trim_start().starts_with('#'))
    {
        return Ok(Value::Null);
    }
    let deserializer = serde_yaml_ng::Deserializer::from_str(source);
    NodeSeed { source, depth: 0 }
        .deserialize(deserializer)
        .map_err(|error| match error.location() {
            Some(location) => format!(
                "on line {}, column {}: {error}",
                location.line(),
                location.column()
            ),
            None => error.to_string(),
        })
}

#[derive(Clone, Copy)]
struct NodeSeed<'s> {
    source: &'s str,
    depth: usize,
}

impl<'de> DeserializeSeed<'de> for NodeSeed<'_> {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        if self.depth > MAX_DEPTH {
            return Err(de::Error::custom("the document is nested too deeply"));
        }
        deserializer.deserialize_any(NodeVisitor { seed: self })
    }
}

struct NodeVisitor<'s> {
    seed: NodeSeed<'s>,
}

impl NodeVisitor<'_> {
    /// Whether `text` is a plain scalar's text within the source.
    fn is_plain(&self, text: &str) -> bool {
        let source = self.seed.source;
        let start = source.as_ptr() as usize;
        let at = text.as_ptr() as usize;
        if at < start || at + text.len() > start + source.len() {
            return false;
        }
        let offset = at - start;
        offset == 0 || !matches!(source.as_bytes()[offset - 1], b'"' | b'\'')
    }

    fn child(&self) -> NodeSeed<'_> {
        NodeSeed {
            source: self.seed.source,
            depth: self.seed.depth + 1,
        }
    }
}

impl<'de> Visitor<'de> for NodeVisitor<'_> {
    type Value = Value;

    fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("a YAML value")
    }

    fn visit_unit<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_none<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_bool<E: de::Error>(self, value: bool) -> Result<Value, E> {
        Ok(Value::Bool(value))
    }

    fn visit_i64<E: de::Error>(self, value: i64) -> Result<Value, E> {
        Ok(Value::Number(Number::from(value)))
    }

    fn visit_u64<E: de::Error>(self, value: u64) -> Result<Value, E> {
        Ok(Value::Number(Number::from(value)))
    }

    fn visit_i128<E: de::Error>(self, value: i128) -> Result<Value, E> {
        number_text(&value.to_string())
    }

    fn visit_u128<E: de::Error>(self, value: u128) -> Result<Value, E> {
        number_text(&value.to_string())
    }

    fn visit_f64<E: de::Error>(self, value: f64) -> Result<Value, E> {
        if value.is_nan() {
            return Err(E::custom("floating point NaN is not supported"));
        }
        Number::from_f64(value)
            .map(Value::Number)
            .ok_or_else(|| E::custom("infinite numbers are not supported"))
    }

    fn visit_str<E: de::Error>(self, value: &str) -> Result<Value, E> {
        Ok(Value::from(value))
    }

    fn visit_borrowed_str<E: de::Error>(self, value: &'de str) -> Result<Value, E> {
        if self.is_plain(value) {
            Ok(resolve_plain(value))
        } else {
            Ok(Value::from(value))
        }
    }

    fn visit_string<E: de::Error>(self, value: String) -> Result<Value, E> {
        Ok(Value::String(value))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut sequence: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = sequence.next_element_seed(self.child())? {
            items.push(item);
        }
        Ok(Value::Tuple(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut object = BTreeMap::new();
        while let Some(key) = map.next_key_seed(self.child())? {
            let key = match key {
                Value::String(text) => text,
                Value::Bool(b) => b.to_string(),
                Value::Number(n) => n.to_string(),
                Value::Null => return Err(de::Error::custom("mapping keys must not be null")),
                _ => {
                    return Err(de::Error::custom(
                        "only strings, numbers and booleans can be mapping keys",
                    ))
                }
            };
            let value = map.next_value_seed(self.child())?;
            object.insert(key, value);
        }
        Ok(Value::Object(object))
    }

    fn visit_enum<A: EnumAccess<'de>>(self, _data: A) -> Result<Value, A::Error> {
        Err(de::Error::custom("unsupported tag"))
    }
}

fn number_text<E: de::Error>(text: &str) -> Result<Value, E> {
    Number::parse(text)
        .map(Value::Number)
        .ok_or_else(|| E::custom(format!("cannot parse {text:?} as a number")))
}

/// YAML 1.1's reading of a plain scalar that YAML 1.2 left a string.
fn resolve_plain(text: &str) -> Value {
    match text {
        "y" | "Y" | "yes" | "Yes" | "YES" | "on" | "On" | "ON" => return Value::Bool(true),
        "n" | "N" | "no" | "No" | "NO" | "off" | "Off" | "OFF" => return Value::Bool(false),
        _ => {}
    }
    let first = text.as_bytes().first().copied().unwrap_or(b' ');
    if first.is_ascii_digit() || matches!(first, b'+' | b'-' | b'.') {
        if let Some(timestamp) = timestamp(text) {
            return Value::String(timestamp);
        }
        let plain = text.replace('_', "");
        let decimal = plain
            .trim_start_matches(['+', '-'])
            .bytes()
            .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'E' | b'+' | b'-'));
        if decimal {
            if let Some(number) = Number::parse(&plain) {
                return Value::Number(number);
            }
        }
    }
    Value::from(text)
}

/// A YAML timestamp (`2001-12-14`, `2001-12-14t21:59:43.10-05:00`, `2001-12-14 21:59:43.10`)
/// as RFC 3339, the way Terraform prints it (seconds, `Z` for UTC).
fn timestamp(text: &str) -> Option<String> {
    static PATTERN: std::sync::LazyLock<Option<regex::Regex>> = std::sync::LazyLock::new(|| {
        regex::Regex::new(
            r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:(?:[Tt]| )(\d{1,2}):(\d{1,2}):(\d{1,2})(?:\.\d+)?(Z|[+-]\d{2}:\d{2})?)?$",
        )
        .ok()
    });
    let captures = PATTERN.as_ref()?.captures(text)?;
    let number = |index: usize| -> Option<u32> {
        captures
            .get(index)
            .map(|m| m.as_str().parse().ok())
            .unwrap_or(Some(0))
    };
    let (year, month, day) = (number(1)?, number(2)?, number(3)?);
    let (hour, minute, second) = (number(4)?, number(5)?, number(6)?);
    let has_time = captures.get(4).is_some();
    let zone = captures.get(7).map(|m| m.as_str());
    // A space-separated time takes no zone in Terraform's accepted formats.
    if has_time && text.contains(' ') && zone.is_some() {
        return None;
    }
    if !has_time && text.len() > 10 {
        return None;
    }
    chrono::NaiveDate::from_ymd_opt(year as i32, month, day)?;
    chrono::NaiveTime::from_hms_opt(hour, minute, second)?;
    let zone = match zone {
        None | Some("Z") => "Z".to_string(),
        Some(offset) if offset == "+00:00" || offset == "-00:00" => "Z".to_string(),
        Some(offset) => offset.to_string(),
    };
    Some(format!(
        "{year:04}-{month:02}-{day:02}T{hour:02}:{minute:02}:{second:02}{zone}"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yaml_1_1_scalars() {
        let value =
            decode("a: yes\nb: 'yes'\nc: \"no\"\nd: off\ne: 1_000\nf: 2001-12-14\ng: x\n").unwrap();
        assert_eq!(
            value,
            Value::object([
                ("a", Value::Bool(true)),
                ("b", Value::from("yes")),
                ("c", Value::from("no")),
                ("d", Value::Bool(false)),
                ("e", Value::from(1000)),
                ("f", Value::from("2001-12-14T00:00:00Z")),
                ("g", Value::from("x")),
            ])
        );
    }

    #[test]
    fn big_integers_stay_exact() {
        // (`n` alone would be the boolean false as a key, as in Terraform.)
        let value = decode("num: 123456789012345678901234567890").unwrap();
        assert_eq!(
            value
                .get_attr("num")
                .and_then(Value::as_number)
                .map(ToString::to_string),
            Some("123456789012345678901234567890".to_string())
        );
    }
}

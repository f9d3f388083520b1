//! Values in cty's msgpack encoding: how Terraform's plugin protocol carries a `DynamicValue`
//! between Terraform and a provider, byte for byte as go-cty's `msgpack` package writes and reads
//! it.
//!
//! - null is msgpack nil; a wholly unknown value is the extension `d4 00 00` (fixext1, type 0).
//!   Unknowns refined by newer cty (extension type 12 with a map of refinements) decode as plain
//!   unknowns: the model keeps no refinements.
//! - numbers are the smallest integer form when they are an exact int64, a float64 when exactly
//!   representable, else the decimal text as a string;
//! - lists, sets and tuples are arrays; maps and objects are maps (object attributes sorted by
//!   name, every attribute of the type present);
//! - where the type is dynamic ([`Type::Any`]), a value of known type is the two-element array
//!   `[type as cty JSON (bin), value]`, and nil and the wholly unknown value are written bare.
//!
//! Sensitive marks do not travel on the wire: [`encode`] drops them and the caller re-applies
//! them to what comes back.

use super::{convert, AttrPath, Number, PathStep, Type, Value};
use bigdecimal::BigDecimal;
use num_bigint::BigInt;
use rmpv::Value as Wire;
use std::collections::BTreeMap;

/// Why a value could not be encoded or decoded, and where inside it.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{}{message}", if path.is_root() { String::new() } else { format!("{path}: ") })]
pub struct MsgpackError {
    pub path: AttrPath,
    pub message: String,
}

impl MsgpackError {
    fn at(path: &[PathStep], message: impl Into<String>) -> MsgpackError {
        MsgpackError {
            path: AttrPath(path.to_vec()),
            message: message.into(),
        }
    }
}

/// The bytes of a wholly unknown value: fixext1, extension type 0, one zero byte.
const UNKNOWN: [u8; 3] = [0xd4, 0, 0];
/// The extension type of an unknown value that carries refinements.
const UNKNOWN_REFINED: i8 = 0x0c;
/// The largest refinement payload go-cty accepts.
const MAX_REFINEMENTS: usize = 1024;

/// Encodes `value` as a value of type `ty`. Primitives of another kind are converted where
/// Terraform would (a number where the type says string); tuples go where lists or sets are
/// expected and objects where maps are. Sensitive marks are dropped.
pub fn encode(value: &Value, ty: &Type) -> Result<Vec<u8>, MsgpackError> {
    let mut out = Vec::new();
    encode_at(value, ty, &mut Vec::new(), &mut out)?;
    Ok(out)
}

fn encode_at(
    value: &Value,
    ty: &Type,
    path: &mut Vec<PathStep>,
    out: &mut Vec<u8>,
) -> Result<(), MsgpackError> {
    let value = value.unmarked();
    if *ty == Type::Any {
        return encode_dynamic(value, path, out);
    }
    match value {
        Value::Unknown(_) => {
            out.extend_from_slice(&UNKNOWN);
            return Ok(());
        }
        Value::Null => {
            rmp::encode::write_nil(out).map_err(|e| MsgpackError::at(path, e.to_string()))?;
            return Ok(());
        }
        _ => {}
    }
    let mismatch = || {
        MsgpackError::at(
            path,
            format!("a value of type {} is required", ty.friendly_name()),
        )
    };
    if ty.is_primitive() && value.type_of() != *ty {
        let converted =
            convert(value.clone(), ty).map_err(|e| MsgpackError::at(path, e.message))?;
        return encode_at(&converted, ty, path, out);
    }
    match (ty, value) {
        (Type::String, Value::String(s)) => write(path, rmp::encode::write_str(out, s)),
        (Type::Bool, Value::Bool(b)) => write(path, rmp::encode::write_bool(out, *b)),
        (Type::Number, Value::Number(n)) => encode_number(n, path, out),
        (Type::List(element) | Type::Set(element), _) => {
            let items = value.as_seq().ok_or_else(mismatch)?;
            write(
                path,
                rmp::encode::write_array_len(out, len32(items.len(), path)?),
            )?;
            for (index, item) in items.iter().enumerate() {
                path.push(PathStep::Index(index as i64));
                encode_at(item, element, path, out)?;
                path.pop();
            }
            Ok(())
        }
        (Type::Tuple(elements), _) => {
            let items = value.as_seq().ok_or_else(mismatch)?;
            if items.len() != elements.len() {
                return Err(MsgpackError::at(
                    path,
                    format!("a tuple of length {} is required", elements.len()),
                ));
            }
            write(
                path,
                rmp::encode::write_array_len(out, len32(items.len(), path)?),
            )?;
            for (index, (item, element)) in items.iter().zip(elements).enumerate() {
                path.push(PathStep::Index(index as i64));
                encode_at(item, element, path, out)?;
                path.pop();
            }
            Ok(())
        }
        (Type::Map(element), _) => {
            let entries = value.as_entries().ok_or_else(mismatch)?;
            write(
                path,
                rmp::encode::write_map_len(out, len32(entries.len(), path)?),
            )?;
            for (key, item) in entries {
                write(path, rmp::encode::write_str(out, key))?;
                path.push(PathStep::Key(key.clone()));
                encode_at(item, element, path, out)?;
                path.pop();
            }
            Ok(())
        }
        (Type::Object(object), _) => {
            let entries = value.as_entries().ok_or_else(mismatch)?;
            let attributes = &object.attributes;
            write(
                path,
                rmp::encode::write_map_len(out, len32(attributes.len(), path)?),
            )?;
            for (name, attribute_type) in attributes {
                write(path, rmp::encode::write_str(out, name))?;
                path.push(PathStep::Attr(name.clone()));
                let item = entries.get(name).unwrap_or(&Value::Null);
                encode_at(item, attribute_type, path, out)?;
                path.pop();
            }
            Ok(())
        }
        _ => Err(mismatch()),
    }
}

/// A value where the schema says `dynamic`: bare when null or wholly unknown, else with its
/// type in cty's JSON form.
fn encode_dynamic(
    value: &Value,
    path: &mut Vec<PathStep>,
    out: &mut Vec<u8>,
) -> Result<(), MsgpackError> {
    match value {
        Value::Null => write(path, rmp::encode::write_nil(out)),
        Value::Unknown(Type::Any) => {
            out.extend_from_slice(&UNKNOWN);
            Ok(())
        }
        _ => {
            let ty = value.type_of();
            // Elements of mixed types unify (e.g. to string), as cty's own values would have.
            let value =
                convert(value.clone(), &ty).map_err(|e| MsgpackError::at(path, e.to_string()))?;
            let type_json = serde_json::to_vec(&ty.to_cty_json())
                .map_err(|e| MsgpackError::at(path, e.to_string()))?;
            write(path, rmp::encode::write_array_len(out, 2))?;
            write(path, rmp::encode::write_bin(out, &type_json))?;
            encode_at(&value, &ty, path, out)
        }
    }
}

/// A number as cty writes it: the smallest integer form for an exact int64, a float64 when
/// that is exact, otherwise the decimal digits as a string.
fn encode_number(n: &Number, path: &[PathStep], out: &mut Vec<u8>) -> Result<(), MsgpackError> {
    if let Some(integer) = n.to_i64() {
        return write(path, rmp::encode::write_sint(out, integer).map(|_| ()));
    }
    let float = n.to_f64();
    if float.is_finite() && exact_decimal(float).as_ref() == Some(n.big()) {
        return write(path, rmp::encode::write_f64(out, float));
    }
    write(path, rmp::encode::write_str(out, &n.to_string()))
}

/// The exact decimal value of a finite float (every binary fraction has a finite decimal one).
fn exact_decimal(float: f64) -> Option<BigDecimal> {
    if !float.is_finite() {
        return None;
    }
    let bits = float.to_bits();
    let negative = bits >> 63 == 1;
    let exponent = ((bits >> 52) & 0x7ff) as i64;
    let fraction = bits & ((1u64 << 52) - 1);
    let (mantissa, exponent) = if exponent == 0 {
        (fraction, -1074)
    } else {
        (fraction | (1u64 << 52), exponent - 1075)
    };
    let mut digits = BigInt::from(mantissa);
    if negative {
        digits = -digits;
    }
    let decimal = if exponent >= 0 {
        BigDecimal::from(digits << exponent as usize)
    } else {
        // m × 2^-k = m × 5^k × 10^-k
        let scale = -exponent;
        BigDecimal::new(digits * BigInt::from(5u8).pow(scale as u32), scale)
    };
    Some(decimal.normalized())
}

fn write<T, E: std::fmt::Display>(
    path: &[PathStep],
    result: Result<T, E>,
) -> Result<(), MsgpackError> {
    result
        .map(|_| ())
        .map_err(|e| MsgpackError::at(path, format!("cannot write msgpack: {e}")))
}

fn len32(len: usize, path: &[PathStep]) -> Result<u32, MsgpackError> {
    u32::try_from(len).map_err(|_| MsgpackError::at(path, "too many elements for msgpack"))
}

/// Decodes bytes written by [`encode`] or by go-cty as a value of type `ty`. Trailing bytes
/// after the value are ignored, as go-cty ignores them.
pub fn decode(bytes: &[u8], ty: &Type) -> Result<Value, MsgpackError> {
    let mut reader = bytes;
    let wire = rmpv::decode::read_value(&mut reader)
        .map_err(|e| MsgpackError::at(&[], format!("invalid msgpack: {e}")))?;
    decode_at(&wire, ty, &mut Vec::new())
}

fn decode_at(wire: &Wire, ty: &Type, path: &mut Vec<PathStep>) -> Result<Value, MsgpackError> {
    if let Wire::Ext(code, payload) = wire {
        return decode_unknown(*code, payload, ty, path);
    }
    if let Wire::Nil = wire {
        return Ok(Value::Null);
    }
    let required = |what: &str| MsgpackError::at(path, format!("{what} is required"));
    match ty {
        Type::Any => decode_dynamic(wire, path),
        Type::Bool => wire
            .as_bool()
            .map(Value::Bool)
            .ok_or_else(|| required("bool")),
        Type::String => wire_str(wire)
            .map(Value::string)
            .ok_or_else(|| required("string")),
        Type::Number => decode_number(wire).ok_or_else(|| required("number")),
        Type::List(element) => {
            let items = wire.as_array().ok_or_else(|| required("a list"))?;
            Ok(Value::List(decode_items(items, |_| element, path)?))
        }
        Type::Set(element) => {
            let items = wire.as_array().ok_or_else(|| required("a set"))?;
            Ok(Value::set(decode_items(items, |_| element, path)?))
        }
        Type::Tuple(elements) => {
            let items = wire.as_array().ok_or_else(|| required("a tuple"))?;
            if !items.is_empty() && items.len() != elements.len() {
                return Err(MsgpackError::at(
                    path,
                    format!("a tuple of length {} is required", elements.len()),
                ));
            }
            Ok(Value::Tuple(decode_items(items, |i| &elements[i], path)?))
        }
        Type::Map(element) => {
            let entries = wire.as_map().ok_or_else(|| required("a map"))?;
            Ok(Value::Map(decode_entries(
                entries,
                |_| Some(element),
                path,
                false,
            )?))
        }
        Type::Object(object) => {
            let entries = wire.as_map().ok_or_else(|| required("an object"))?;
            if !entries.is_empty() && entries.len() != object.attributes.len() {
                return Err(MsgpackError::at(
                    path,
                    format!(
                        "an object with {} attributes is required ({} given)",
                        object.attributes.len(),
                        entries.len()
                    ),
                ));
            }
            let attributes = &object.attributes;
            Ok(Value::Object(decode_entries(
                entries,
                |name| attributes.get(name),
                path,
                true,
            )?))
        }
    }
}

/// An extension value: always an unknown. go-cty writes a one-byte payload for a plain unknown
/// and type 12 with a map of refinements (dropped here) for a refined one.
fn decode_unknown(
    code: i8,
    payload: &[u8],
    ty: &Type,
    path: &[PathStep],
) -> Result<Value, MsgpackError> {
    if payload.len() > 1 {
        if code != UNKNOWN_REFINED {
            return Err(MsgpackError::at(
                path,
                format!(
                    "unsupported extension type 0x{code:02x} with len {}",
                    payload.len()
                ),
            ));
        }
        if payload.len() > MAX_REFINEMENTS {
            return Err(MsgpackError::at(path, "oversize unknown value refinement"));
        }
        let mut reader = payload;
        match rmpv::decode::read_value(&mut reader) {
            Ok(Wire::Map(_)) => {}
            _ => {
                return Err(MsgpackError::at(
                    path,
                    "failed to decode msgpack extension body: not a map",
                ))
            }
        }
    }
    Ok(Value::Unknown(ty.clone()))
}

/// A value where the schema says `dynamic` (not nil): `[type JSON, value]`.
fn decode_dynamic(wire: &Wire, path: &mut Vec<PathStep>) -> Result<Value, MsgpackError> {
    let Some([type_json, inner]) = wire.as_array().map(Vec::as_slice) else {
        return Err(MsgpackError::at(
            path,
            "dynamic value array must have exactly two elements",
        ));
    };
    let type_bytes = match type_json {
        Wire::Binary(bytes) => bytes.as_slice(),
        Wire::String(text) => text.as_bytes(),
        _ => {
            return Err(MsgpackError::at(
                path,
                "a dynamic value's type must be bytes",
            ))
        }
    };
    let ty = serde_json::from_slice(type_bytes)
        .map_err(|e| e.to_string())
        .and_then(|json| Type::from_cty_json(&json))
        .map_err(|e| MsgpackError::at(path, format!("invalid type of a dynamic value: {e}")))?;
    decode_at(inner, &ty, path)
}

fn decode_items<'t>(
    items: &[Wire],
    element: impl Fn(usize) -> &'t Type,
    path: &mut Vec<PathStep>,
) -> Result<Vec<Value>, MsgpackError> {
    let mut values = Vec::with_capacity(items.len());
    for (index, item) in items.iter().enumerate() {
        path.push(PathStep::Index(index as i64));
        values.push(decode_at(item, element(index), path)?);
        path.pop();
    }
    Ok(values)
}

fn decode_entries<'t>(
    entries: &[(Wire, Wire)],
    element: impl Fn(&str) -> Option<&'t Type>,
    path: &mut Vec<PathStep>,
    object: bool,
) -> Result<BTreeMap<String, Value>, MsgpackError> {
    let mut values = BTreeMap::new();
    for (key, item) in entries {
        let key =
            wire_str(key).ok_or_else(|| MsgpackError::at(path, "all keys must be strings"))?;
        path.push(if object {
            PathStep::Attr(key.to_string())
        } else {
            PathStep::Key(key.to_string())
        });
        let ty = element(key).ok_or_else(|| MsgpackError::at(path, "unsupported attribute"))?;
        values.insert(key.to_string(), decode_at(item, ty, path)?);
        path.pop();
    }
    Ok(values)
}

/// A msgpack string (or bytes, which go's decoder also accepts as a string) as text.
fn wire_str(wire: &Wire) -> Option<&str> {
    match wire {
        Wire::String(text) => text.as_str(),
        Wire::Binary(bytes) => std::str::from_utf8(bytes).ok(),
        _ => None,
    }
}

fn decode_number(wire: &Wire) -> Option<Value> {
    let number = match wire {
        Wire::Integer(integer) => match (integer.as_i64(), integer.as_u64()) {
            (Some(signed), _) => Number::from(signed),
            (None, Some(unsigned)) => Number::from(unsigned),
            _ => return None,
        },
        Wire::F64(float) => float_number(*float)?,
        Wire::F32(float) => float_number(f64::from(*float))?,
        other => Number::parse(wire_str(other)?)?,
    };
    Some(Value::Number(number))
}

/// A float from the wire: integral ones exactly (2^63 stays 9223372036854775808), others as
/// the shortest decimal that reads back as the same float (0.1, not its binary expansion).
fn float_number(float: f64) -> Option<Number> {
    if float.fract() == 0.0 {
        exact_decimal(float).map(Number::from_big)
    } else {
        Number::from_f64(float)
    }
}

#[cfg(test)]
#[path = "msgpack_tests.rs"]
mod tests;
